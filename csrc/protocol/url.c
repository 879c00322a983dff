/* Request URLs: base + path template with percent-encoded path parameters +
 * query string. Sans-I/O: builds a string, sends nothing.
 *
 * Path parameters are encoded as single opaque segments (everything outside
 * RFC 3986 "unreserved" is escaped, "/" "?" "#" and "." included when the
 * whole segment is "." or ".."), so a user id such as "../../oauth/token"
 * can never reach another route. */
#include <string.h>
#include "pc.h"
#include "models/schema.h"

static const char HEX[] = "0123456789ABCDEF";
#define MAX_PARAM 1024 /* bytes in one path parameter: an id is far shorter */

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Percent-encode s into b. Dot segments are escaped entirely. */
static void add_escaped(pc_buf *b, const char *s, size_t n, int segment) {
    int dots = segment && ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'));
    size_t run = 0; /* start of the pending run of bytes kept as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) && !(dots && c == '.')) continue;
        char e[3] = {'%', HEX[c >> 4], HEX[c & 15]};
        pc_buf_add(b, s + run, i - run);
        pc_buf_add(b, e, 3);
        run = i + 1;
    }
    pc_buf_add(b, s + run, n - run);
}

void pc_add_escaped(pc_buf *b, const char *s, size_t n) { add_escaped(b, s, n, 0); }

/* Append the value at idx: strings as-is, integers (and integral floats)
 * without ".0", booleans as true/false. Returns NULL, or why the value cannot
 * be part of a URL (a NUL byte, NaN, infinity, a fraction in a path segment,
 * a table…): the caller raises, since that is a mistake in the arguments. */
static const char *add_value(lua_State *L, pc_buf *b, int idx, int segment) {
    char num[64];
    size_t n;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &n);
        if (memchr(s, '\0', n)) return "contains a NUL byte";
        add_escaped(b, s, n, segment);
        return NULL;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            lua_Number d = lua_tonumber(L, idx);
            if (d != d || d > 1e308 || d < -1e308) return "is NaN or infinite";
            if (d == (lua_Number)(long long)d && d > -9e15 && d < 9e15)
                snprintf(num, sizeof num, "%lld", (long long)d);
            else if (segment)
                return "is not an integer";
            else
                snprintf(num, sizeof num, "%.17g", (double)d);
        }
        add_escaped(b, num, strlen(num), segment);
        return NULL;
    case LUA_TBOOLEAN:
        if (segment) return "is a boolean";
        s = lua_toboolean(L, idx) ? "true" : "false";
        add_escaped(b, s, strlen(s), segment);
        return NULL;
    default:
        return "is not a string or a number";
    }
}

/* Sorted query keys make URLs (and so logs and tests) deterministic. */
static int sort_keys(lua_State *L, int tidx) {
    lua_newtable(L);
    int keys = lua_gettop(L), n = 0;
    lua_pushnil(L);
    while (lua_next(L, tidx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "purecloud: query keys must be strings");
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

/* The buffer URLs are built in: one per Lua state (the functions' upvalue,
 * freed with the state), emptied on entry — nothing inside a build can call
 * back into Lua code that builds another URL (tables are read raw; the key
 * sort compares strings only), and a build that raised leaves nothing the
 * next one needs. An exceptional size is given back at the next build. */
static pc_buf *url_buf(lua_State *L) {
    pc_buf *b = lua_touserdata(L, lua_upvalueindex(1));
    pc_buf_clear(b, 64 * 1024);
    return b;
}

/* The path parameter at idx: 0 when it can be one, else why not (one of
 * the PARAM_ codes, turned into build_url's messages below). */
enum { PARAM_OK, PARAM_EMPTY, PARAM_TYPE, PARAM_LONG };
static int param_check(lua_State *L, int idx) {
    int t = lua_type(L, idx);
    if (t == LUA_TNIL || (t == LUA_TSTRING && lua_rawlen(L, idx) == 0)) return PARAM_EMPTY;
    if (t != LUA_TSTRING && t != LUA_TNUMBER) return PARAM_TYPE;
    if (t == LUA_TSTRING && lua_rawlen(L, idx) > MAX_PARAM) return PARAM_LONG;
    return PARAM_OK;
}

/* Append the path parameter `name` (nlen bytes) from the stack slot v.
 * Returns 1; a refused value raises naming it, or with `positional`
 * returns 0 (the prepared call then takes build_url's path, which raises). */
static int add_param(lua_State *L, pc_buf *b, const char *name, size_t nlen, int v, int positional) {
    int why = param_check(L, v);
    const char *bad = why ? NULL : add_value(L, b, v, 1);
    if (!why && !bad) return 1;
    if (positional) return 0;
    lua_pushlstring(L, name, nlen);
    const char *n = lua_tostring(L, -1);
    if (why == PARAM_EMPTY) return luaL_error(L, "purecloud: path parameter '%s' is missing or empty", n);
    if (why == PARAM_TYPE) return luaL_error(L, "purecloud: path parameter '%s' must be a string", n);
    if (why == PARAM_LONG)
        return luaL_error(L, "purecloud: path parameter '%s' is %d bytes long (at most %d): not an id", n,
                          (int)lua_rawlen(L, v), MAX_PARAM);
    return luaL_error(L, "purecloud: path parameter '%s' %s", n, bad);
}

/* The value of parameter `name` in the table at `from` (0: none), pushed. */
static int push_named(lua_State *L, const char *name, size_t nlen, int from) {
    if (from == 0) {
        lua_pushlstring(L, name, nlen);
        return luaL_error(L, "purecloud: path parameter '%s' is missing", lua_tostring(L, -1));
    }
    lua_pushlstring(L, name, nlen);
    lua_rawget(L, from);
    return lua_gettop(L);
}

static void add_base(pc_buf *b, const char *base, size_t blen) {
    while (blen > 0 && base[blen - 1] == '/') blen--;
    pc_buf_add(b, base, blen);
}

/* An operation's compiled template (pc_segment: tools/gen-models.lua),
 * filled by name from the table at `from`, or with `positional` from the
 * stack slots from + i for params[i] (a prepared operation's positional
 * arguments are its path parameters). Nothing is parsed. */
static int add_compiled(lua_State *L, pc_buf *b, const pc_operation *op, int from, int positional) {
    for (int i = 0; i < op->nsegments; i++) {
        const pc_segment *seg = &op->segments[i];
        pc_buf_add(b, seg->literal, (size_t)seg->len);
        if (seg->param < 0) break;
        const char *name = op->params[seg->param].name;
        int top = lua_gettop(L);
        int v = positional ? from + seg->param : push_named(L, name, strlen(name), from);
        if (!add_param(L, b, name, strlen(name), v, positional)) return 0;
        lua_settop(L, top);
    }
    return 1;
}

/* A caller's own template (client:request): its {name} placeholders filled
 * by name from the table at `from`. */
static void add_template(lua_State *L, pc_buf *b, const char *tpl, size_t tlen, int from) {
    for (size_t i = 0; i < tlen; i++) {
        if (tpl[i] != '{') {
            const char *open = memchr(tpl + i, '{', tlen - i);
            size_t lit = open ? (size_t)(open - (tpl + i)) : tlen - i;
            pc_buf_add(b, tpl + i, lit); /* the literal run up to the next '{' */
            i += lit - 1;
            continue;
        }
        const char *end = memchr(tpl + i, '}', tlen - i);
        if (!end) luaL_argerror(L, 2, "unterminated '{' in path template");
        size_t nlen = (size_t)(end - (tpl + i + 1));
        int top = lua_gettop(L);
        add_param(L, b, tpl + i + 1, nlen, push_named(L, tpl + i + 1, nlen, from), 0);
        lua_settop(L, top);
        i += nlen + 1;
    }
}

/* core.build_url(base, template | handle, path_params, query) -> url
 * template: "/api/v2/users/{userId}", or an operation's handle (its
 * compiled template); path_params: { userId = "…" };
 * query: { name = value | { values… } } (arrays become repeated keys). */
static int l_build_url(lua_State *L) {
    size_t blen, tlen;
    const char *base = luaL_checklstring(L, 1, &blen);
    const pc_operation *op = lua_type(L, 2) == LUA_TNUMBER ? pc_check_op(L, 2) : NULL;
    const char *tpl = op ? NULL : luaL_checklstring(L, 2, &tlen);
    if (memchr(base, '\0', blen)) return luaL_argerror(L, 1, "the base URL contains a NUL byte");
    if (tpl && memchr(tpl, '\0', tlen)) return luaL_argerror(L, 2, "the path contains a NUL byte");
    int has_path = !lua_isnoneornil(L, 3), has_query = !lua_isnoneornil(L, 4);
    if (has_path) luaL_checktype(L, 3, LUA_TTABLE);
    if (has_query) luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 4);
    int nkeys = has_query ? sort_keys(L, 4) : 0;
    int keys = lua_gettop(L);
    pc_buf *b = url_buf(L);
    add_base(b, base, blen);
    if (op) add_compiled(L, b, op, has_path ? 3 : 0, 0);
    else add_template(L, b, tpl, tlen, has_path ? 3 : 0);
    char sep = '?';
    for (int k = 1; k <= nkeys; k++) {
        lua_rawgeti(L, keys, k);
        int key = lua_gettop(L);
        lua_pushvalue(L, key);
        lua_rawget(L, 4);
        int val = lua_gettop(L);
        int single = lua_type(L, val) != LUA_TTABLE;
        lua_Integer count = single ? 1 : (lua_Integer)lua_rawlen(L, val);
        for (lua_Integer j = 1; j <= count; j++) {
            if (single) lua_pushvalue(L, val);
            else lua_rawgeti(L, val, j);
            size_t klen;
            const char *kname = lua_tolstring(L, key, &klen);
            pc_buf_add(b, &sep, 1);
            sep = '&';
            add_escaped(b, kname, klen, 0);
            pc_buf_add(b, "=", 1);
            const char *why = add_value(L, b, lua_gettop(L), 0);
            if (why) return luaL_error(L, "purecloud: query parameter '%s' %s", kname, why);
            lua_pop(L, 1);
        }
        lua_settop(L, key - 1);
    }
    pc_buf_push(L, b);
    return 1;
}

/* core.fill_url(base, handle, v1 [, v2 …]) -> url | nil
 * The prepared calls' build_url (operations.bind): the compiled template of
 * the operation `handle` filled from the values, no query. nil, never an
 * error, for anything build_url would refuse (an empty, NUL-holding, too long
 * or non-string value, a missing one): the caller then takes build_url's
 * path, which raises its message. Values past the placeholders are ignored. */
static int l_fill_url(lua_State *L) {
    size_t blen;
    const char *base = luaL_checklstring(L, 1, &blen);
    const pc_operation *op = pc_check_op(L, 2);
    if (op->npos + 2 > lua_gettop(L)) lua_settop(L, op->npos + 2); /* a missing value is nil: refused below */
    pc_buf *b = url_buf(L);
    add_base(b, base, blen);
    if (memchr(base, '\0', blen) || !add_compiled(L, b, op, 3, 1)) {
        lua_pushnil(L);
        return 1;
    }
    pc_buf_push(L, b);
    return 1;
}

/* core.percent_encode(s) -> s with everything but unreserved characters escaped
 * (application/x-www-form-urlencoded values, path segments). */
static int l_percent_encode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    pc_buf *b = url_buf(L);
    add_escaped(b, s, n, 0);
    pc_buf_push(L, b);
    return 1;
}

void pc_open_url(lua_State *L) {
    static const luaL_Reg fns[] = {{"build_url", l_build_url}, {"fill_url", l_fill_url}, {"percent_encode", l_percent_encode},
                                     {NULL, NULL}};
    pc_buf_new(L); /* the shared upvalue (url_buf) */
    luaL_setfuncs(L, fns, 1);
}
