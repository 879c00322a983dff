/* Error objects: plain tables with the "purecloud.error" metatable, so
 * scripts read fields directly and tostring() gives one line. The line is
 * built only from status, code, message and context id, never from request
 * headers or bodies.
 *
 * Two rules for every text that came from outside (a server's message,
 * libcurl's error buffer, an nginx error), each in one function here:
 *
 *  * **One scrub** (pc_scrub): every known secret of the Lua state — each
 *    owner of secrets (the auth vault of every client: client secret, its
 *    Basic credentials, tokens, refresh tokens, codes, PKCE verifiers, SAML
 *    assertions; a libcurl handle: its proxy password) registers itself,
 *    and the scrub replaces every occurrence, raw or percent-encoded, with
 *    [REDACTED]. An error object is scrubbed as it is built: core.error
 *    scrubs the fields it is given, and the metatable's __newindex every
 *    field set after (so the C constructors, which set fields one by one,
 *    cannot forget), tostring() again; the logger scrubs every line
 *    (core.one_line). Secrets of every client of the state are scrubbed,
 *    not only the erring client's: hiding another client's secret costs
 *    nothing, and the transports need no client to build an error.
 *  * **One escape** (add_escaped_line): C0 controls and DEL as \n, \r, \t,
 *    \xHH; C1 controls (U+0080–U+009F) and U+2028/U+2029 as \uHHHH; a byte
 *    that is not valid UTF-8 as \xHH — so one error, one log line, whatever
 *    splits lines downstream. */
#include <stdlib.h>
#include <string.h>
#include "protocol/protocol.h"
#include "text.h"

#define OWNERS_KEY "purecloud.secret_owners"
#define SCRUB_DEPTH 8

void pc_push_error(lua_State *L, const char *kind, int status) {
    lua_createtable(L, 0, 8);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    luaL_getmetatable(L, PC_ERROR_MT);
    lua_setmetatable(L, -2);
}

/* ---- the scrub -------------------------------------------------------- */

/* The registry's table of owners (weak keys: an owner collected is gone
 * from it), created when missing; pushed. */
static void push_owners(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, OWNERS_KEY);
    if (lua_type(L, -1) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, OWNERS_KEY);
}

void pc_secret_owner(lua_State *L, int idx, lua_CFunction list) {
    idx = lua_absindex(L, idx);
    push_owners(L);
    lua_pushvalue(L, idx);
    lua_pushcfunction(L, list);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void pc_secret(pc_secrets *c, const char *s, size_t n) {
    if (!s || n < PC_SECRET_MIN) return;
    if (c->count < c->cap) {
        c->s[c->count] = s;
        c->n[c->count] = n;
    }
    c->count++;
}

/* Push the secrets of every owner: a table holding the owners (so none is
 * collected, and its memory freed, while the pointers are in use) and a
 * userdata pc_secrets, longest first. Returns it, or NULL (nothing pushed)
 * when there is no secret. */
static pc_secrets *collect(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, OWNERS_KEY);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return NULL;
    }
    int owners = lua_gettop(L);
    pc_secrets count = {NULL, NULL, 0, 0};
    lua_newtable(L); /* the owners, held */
    int held = lua_gettop(L), nheld = 0;
    lua_pushnil(L);
    while (lua_next(L, owners)) {
        lua_pushvalue(L, -2);
        lua_rawseti(L, held, ++nheld);
        if (lua_type(L, -1) == LUA_TFUNCTION) { /* owner -> its list function */
            lua_pushvalue(L, -2);
            lua_pushlightuserdata(L, &count);
            lua_call(L, 2, 0);
        } else {
            lua_pop(L, 1);
        }
    }
    if (count.count == 0) {
        lua_settop(L, owners - 1);
        return NULL;
    }
    size_t m = count.count;
    pc_secrets *c = lua_newuserdata(L, sizeof *c + m * (sizeof(const char *) + sizeof(size_t)));
    c->n = (size_t *)(void *)(c + 1);
    c->s = (const char **)(void *)(c->n + m);
    c->cap = m;
    c->count = 0;
    for (int i = 1; i <= nheld; i++) {
        lua_rawgeti(L, held, i);
        lua_pushvalue(L, -1);
        lua_rawget(L, owners);
        if (lua_type(L, -1) == LUA_TFUNCTION) {
            lua_insert(L, -2);
            lua_pushlightuserdata(L, c);
            lua_call(L, 2, 0);
        } else {
            lua_pop(L, 2);
        }
    }
    if (c->count > c->cap) c->count = c->cap; /* (an owner that grew meanwhile: cannot, no Lua runs) */
    /* Longest first: a secret inside a longer one must not break its match. */
    for (size_t i = 1; i < c->count; i++) {
        const char *s = c->s[i];
        size_t n = c->n[i], j = i;
        for (; j > 0 && c->n[j - 1] < n; j--) {
            c->s[j] = c->s[j - 1];
            c->n[j] = c->n[j - 1];
        }
        c->s[j] = s;
        c->n[j] = n;
    }
    lua_remove(L, owners); /* stack: held, c */
    return c;
}

static const char *find(const char *s, size_t n, const char *w, size_t wn) {
    if (wn == 0 || wn > n) return NULL;
    const char *end = s + n - wn + 1;
    while (s < end) {
        const char *p = memchr(s, w[0], (size_t)(end - s));
        if (!p) return NULL;
        if (!memcmp(p, w, wn)) return p;
        s = p + 1;
    }
    return NULL;
}

/* Replace the string at idx by its scrubbed copy (with the secrets c). */
static void scrub_at(lua_State *L, int idx, const pc_secrets *c) {
    for (size_t k = 0; k < c->count; k++) {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        const char *p = find(s, n, c->s[k], c->n[k]);
        if (!p) continue;
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        while (p) {
            luaL_addlstring(&b, s, (size_t)(p - s));
            luaL_addstring(&b, PC_REDACTED);
            n -= (size_t)(p - s) + c->n[k];
            s = p + c->n[k];
            p = find(s, n, c->s[k], c->n[k]);
        }
        luaL_addlstring(&b, s, n);
        luaL_pushresult(&b);
        lua_replace(L, idx);
    }
}

/* Scrub the value at idx in place: a string, or every string value of a
 * table (and of the tables in it, SCRUB_DEPTH deep). */
static void scrub_value(lua_State *L, int idx, const pc_secrets *c, int depth) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        scrub_at(L, idx, c);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE || depth >= SCRUB_DEPTH) return;
    luaL_checkstack(L, 4, "scrub");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int t = lua_type(L, -1);
        if (t == LUA_TSTRING || t == LUA_TTABLE) {
            scrub_value(L, -1, c, depth + 1);
            if (t == LUA_TSTRING) { /* changing an existing key's value is allowed during lua_next */
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, idx);
                continue;
            }
        }
        lua_pop(L, 1);
    }
}

void pc_scrub(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && t != LUA_TTABLE) return;
    int top = lua_gettop(L);
    const pc_secrets *c = collect(L);
    if (c) scrub_value(L, idx, c, 0);
    lua_settop(L, top);
}

/* ---- the escape ------------------------------------------------------- */

/* Append s as one line: every control byte escaped (\n, \r, \t, \xHH), C1
 * controls and the Unicode line and paragraph separators as \uHHHH, bytes
 * that are not UTF-8 as \xHH. The one escape of errors and log lines. */
static void add_escaped_line(luaL_Buffer *b, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            luaL_addchar(b, (char)c);
            continue;
        }
        if (c >= 0x80) {
            size_t len = pc_utf8_seq(s + i, s + n); /* (the one UTF-8 rule, text.h) */
            unsigned cp = len == 2 && c == 0xc2 && s[i + 1] <= 0x9f ? s[i + 1] /* C1: U+0080-U+009F */
                        : len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)
                            ? 0x2000u + (s[i + 2] - 0x80u) /* U+2028, U+2029 */
                            : 0;
            if (len && !cp) {
                luaL_addlstring(b, str + i, len);
                i += len - 1;
                continue;
            }
            if (len) { /* a C1 control or a separator */
                char u[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
                luaL_addlstring(b, u, 6);
                i += len - 1;
                continue;
            }
        }
        luaL_addchar(b, '\\');
        if (c == '\n') luaL_addchar(b, 'n');
        else if (c == '\r') luaL_addchar(b, 'r');
        else if (c == '\t') luaL_addchar(b, 't');
        else {
            luaL_addchar(b, 'x');
            luaL_addchar(b, hex[c >> 4]);
            luaL_addchar(b, hex[c & 15]);
        }
    }
}

/* core.one_line(s) -> s scrubbed of every known secret, then escaped to one line */
static int l_one_line(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    pc_scrub(L, 1);
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_escaped_line(&b, s, n);
    luaL_pushresult(&b);
    return 1;
}

/* core.scrub(s) -> s with every known secret replaced by [REDACTED] */
static int l_scrub(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    pc_scrub(L, 1);
    return 1;
}

/* ---- error objects ---------------------------------------------------- */

/* The field k of the table at t as text (a copy, so tostring never changes
 * the field), or nil; pushed, its index returned. */
static int push_field(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    int ty = lua_type(L, -1);
    if (ty == LUA_TNUMBER) lua_tolstring(L, -1, NULL);
    else if (ty != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    return lua_gettop(L);
}

static void add_field(luaL_Buffer *b, lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    add_escaped_line(b, s, n);
}

/* purecloud: 404 not.found: The user does not exist (context 1a2b…) */
static int l_tostring(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    int kind = push_field(L, 1, "kind"), status = push_field(L, 1, "status"), code = push_field(L, 1, "code");
    int message = push_field(L, 1, "message"), ctx = push_field(L, 1, "context_id");
    int outcome = push_field(L, 1, "outcome");
    const pc_secrets *c = collect(L); /* (pushes what it holds above the fields) */
    if (c) {
        for (int i = kind; i <= outcome; i++)
            if (lua_type(L, i) == LUA_TSTRING) scrub_at(L, i, c);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "purecloud: ");
    if (!lua_isnil(L, status)) {
        add_field(&b, L, status);
        luaL_addchar(&b, ' ');
    } else if (!lua_isnil(L, kind)) {
        add_field(&b, L, kind);
        luaL_addstring(&b, ": ");
    }
    if (!lua_isnil(L, code)) {
        add_field(&b, L, code);
        luaL_addstring(&b, ": ");
    }
    if (!lua_isnil(L, message)) add_field(&b, L, message);
    else luaL_addstring(&b, "error");
    if (!lua_isnil(L, outcome) && !strcmp(lua_tostring(L, outcome), "unknown"))
        luaL_addstring(&b, " [outcome unknown: the server may have acted on it; check before repeating it]");
    if (!lua_isnil(L, ctx)) {
        luaL_addstring(&b, " (context ");
        add_field(&b, L, ctx);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    return 1;
}

/* __newindex: a field set on an error is scrubbed first (the C constructors
 * build errors field by field after pc_push_error). */
static int l_newindex(lua_State *L) {
    lua_settop(L, 3);
    pc_scrub(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* core.error{ kind = …, status = …, message = …, … } -> error object */
static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "kind");
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 1, "error needs a string 'kind'");
    lua_pop(L, 1);
    lua_settop(L, 1);
    pc_scrub(L, 1);
    luaL_getmetatable(L, PC_ERROR_MT);
    lua_setmetatable(L, 1);
    return 1;
}

/* core.is_error(v) -> boolean */
static int l_is_error(lua_State *L) {
    int is = 0;
    if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, PC_ERROR_MT);
        is = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushboolean(L, is);
    return 1;
}

void pc_open_errors(lua_State *L) {
    static const luaL_Reg fns[] = {{"error", l_new}, {"is_error", l_is_error}, {"scrub", l_scrub},
                                   {"one_line", l_one_line}, {NULL, NULL}};
    if (luaL_newmetatable(L, PC_ERROR_MT)) {
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, l_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_pushliteral(L, PC_ERROR_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_setfield(L, -2, "error_mt");
    luaL_setfuncs(L, fns, 0);
}
