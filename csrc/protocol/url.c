/* Request URLs: base + path template with percent-encoded path parameters +
 * query string. Sans-I/O: builds a string, sends nothing.
 *
 * Path parameters are encoded as single opaque segments (everything outside
 * RFC 3986 "unreserved" is escaped, "/" "?" "#" and "." included when the
 * whole segment is "." or ".."), so a user id such as "../../oauth/token"
 * can never reach another route. */
#include <string.h>
#include "pc.h"

static const char HEX[] = "0123456789ABCDEF";

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Percent-encode s into b. Dot segments are escaped entirely. */
static void add_escaped(luaL_Buffer *b, const char *s, size_t n, int segment) {
    int dots = segment && ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) && !(dots && c == '.')) {
            luaL_addchar(b, (char)c);
        } else {
            luaL_addchar(b, '%');
            luaL_addchar(b, HEX[c >> 4]);
            luaL_addchar(b, HEX[c & 15]);
        }
    }
}

void pc_add_escaped(luaL_Buffer *b, const char *s, size_t n) { add_escaped(b, s, n, 0); }

/* Append the string form of the value at idx: strings as-is, integers without
 * ".0", booleans as true/false. Returns 0 for an unsupported type. */
static int add_value(lua_State *L, luaL_Buffer *b, int idx, int segment) {
    char num[64];
    size_t n;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &n);
        add_escaped(b, s, n, segment);
        return 1;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            lua_Number d = lua_tonumber(L, idx);
            if (d != d || d > 1e308 || d < -1e308) return 0;
            if (d == (lua_Number)(long long)d && d > -9e15 && d < 9e15)
                snprintf(num, sizeof num, "%lld", (long long)d);
            else
                snprintf(num, sizeof num, "%.17g", (double)d);
        }
        add_escaped(b, num, strlen(num), segment);
        return 1;
    case LUA_TBOOLEAN:
        s = lua_toboolean(L, idx) ? "true" : "false";
        add_escaped(b, s, strlen(s), segment);
        return 1;
    default:
        return 0;
    }
}

/* Sorted query keys make URLs (and so logs and tests) deterministic. */
static int sort_keys(lua_State *L, int tidx) {
    lua_newtable(L);
    int keys = lua_gettop(L), n = 0;
    lua_pushnil(L);
    while (lua_next(L, tidx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "purecloud: query keys must be strings");
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++n);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_pushvalue(L, keys);
    lua_call(L, 1, 0);
    return n;
}

/* core.build_url(base, template, path_params, query) -> url
 * template: "/api/v2/users/{userId}"; path_params: { userId = "…" };
 * query: { name = value | { values… } } (arrays become repeated keys). */
static int l_build_url(lua_State *L) {
    size_t blen, tlen;
    const char *base = luaL_checklstring(L, 1, &blen);
    const char *tpl = luaL_checklstring(L, 2, &tlen);
    int has_path = !lua_isnoneornil(L, 3), has_query = !lua_isnoneornil(L, 4);
    if (has_path) luaL_checktype(L, 3, LUA_TTABLE);
    if (has_query) luaL_checktype(L, 4, LUA_TTABLE);
    while (blen > 0 && base[blen - 1] == '/') blen--;
    int nkeys = has_query ? sort_keys(L, 4) : 0;
    int keys = lua_gettop(L);

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, base, blen);
    for (size_t i = 0; i < tlen; i++) {
        if (tpl[i] != '{') {
            luaL_addchar(&b, tpl[i]);
            continue;
        }
        const char *end = memchr(tpl + i, '}', tlen - i);
        if (!end) return luaL_argerror(L, 2, "unterminated '{' in path template");
        size_t nlen = (size_t)(end - (tpl + i + 1));
        if (!has_path) {
            lua_pushlstring(L, tpl + i + 1, nlen);
            return luaL_error(L, "purecloud: path parameter '%s' is missing", lua_tostring(L, -1));
        }
        lua_pushlstring(L, tpl + i + 1, nlen);
        lua_gettable(L, 3);
        if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0)) {
            lua_pushlstring(L, tpl + i + 1, nlen);
            return luaL_error(L, "purecloud: path parameter '%s' is missing or empty", lua_tostring(L, -1));
        }
        /* The value sits above the buffer's working area: luaL_Buffer in 5.4
         * may use the stack top, so copy the value out first. */
        size_t vlen;
        char tmp[512];
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
            lua_pushlstring(L, tpl + i + 1, nlen);
            return luaL_error(L, "purecloud: path parameter '%s' must be a string", lua_tostring(L, -1));
        }
        const char *v = lua_tolstring(L, -1, &vlen);
        if (vlen >= sizeof tmp) return luaL_error(L, "purecloud: path parameter longer than %d bytes", (int)sizeof tmp - 1);
        memcpy(tmp, v, vlen);
        lua_pop(L, 1);
        add_escaped(&b, tmp, vlen, 1);
        i += nlen + 1;
    }
    char sep = '?';
    for (int k = 1; k <= nkeys; k++) {
        lua_rawgeti(L, keys, k);
        size_t klen;
        const char *key = lua_tolstring(L, -1, &klen);
        char kbuf[256];
        if (klen >= sizeof kbuf) return luaL_error(L, "purecloud: query key too long");
        memcpy(kbuf, key, klen);
        kbuf[klen] = '\0';
        lua_gettable(L, 4);
        /* value at top; iterate array or single */
        int single = lua_type(L, -1) != LUA_TTABLE;
        int count = single ? 1 : (int)lua_rawlen(L, -1);
        for (int j = 1; j <= count; j++) {
            if (!single) lua_rawgeti(L, -1, j);
            else lua_pushvalue(L, -1);
            /* Render the value to a small C buffer before touching b. */
            luaL_Buffer vb;
            lua_pushvalue(L, -1);
            int vidx = lua_gettop(L);
            luaL_buffinit(L, &vb);
            int ok = add_value(L, &vb, vidx, 0);
            luaL_pushresult(&vb);
            if (!ok) return luaL_error(L, "purecloud: query parameter '%s' has an unsupported value", kbuf);
            size_t elen;
            const char *enc = lua_tolstring(L, -1, &elen);
            char ebuf[2048];
            if (elen >= sizeof ebuf) return luaL_error(L, "purecloud: query value too long");
            memcpy(ebuf, enc, elen);
            lua_pop(L, 3);
            luaL_addchar(&b, sep);
            sep = '&';
            add_escaped(&b, kbuf, klen, 0);
            luaL_addchar(&b, '=');
            luaL_addlstring(&b, ebuf, elen);
        }
        lua_pop(L, 1);
    }
    luaL_pushresult(&b);
    return 1;
}

/* core.percent_encode(s) -> s with everything but unreserved characters escaped
 * (application/x-www-form-urlencoded values, path segments). */
static int l_percent_encode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_escaped(&b, s, n, 0);
    luaL_pushresult(&b);
    return 1;
}

void pc_open_url(lua_State *L) {
    lua_pushcfunction(L, l_build_url);
    lua_setfield(L, -2, "build_url");
    lua_pushcfunction(L, l_percent_encode);
    lua_setfield(L, -2, "percent_encode");
}
