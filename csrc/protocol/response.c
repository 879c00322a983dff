/* Responses: status + headers + body in, a Lua value or an error object out.
 * Sans-I/O. JSON is decoded with lua-cjson (cjson.safe.decode, kept as an
 * upvalue); JSON null inside objects becomes an absent key, while nulls inside
 * arrays stay as the cjson.null sentinel (= purecloud.null) so positions hold. */
#include <string.h>
#include <stdlib.h>
#include "pc.h"
#include "protocol/protocol.h"

#define UV_DECODE lua_upvalueindex(1)
#define UV_NULL lua_upvalueindex(2)

/* Remove null-valued string keys from every table under idx (depth-limited),
 * and, on Lua 5.3+, turn integral floats into integers: lua-cjson 2.1 decodes
 * every number as a float, and `version = 3` must not read back as 3.0. */
static void strip_nulls(lua_State *L, int idx, int depth) {
    if (depth > 200) return;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            strip_nulls(L, -1, depth + 1);
            lua_pop(L, 1);
        } else if (lua_rawequal(L, -1, UV_NULL) && lua_type(L, -2) == LUA_TSTRING) {
            lua_pop(L, 1);
            /* Setting an existing field to nil during traversal is allowed. */
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, idx);
        }
#if LUA_VERSION_NUM >= 503
        else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
            lua_Number d = lua_tonumber(L, -1);
            lua_pop(L, 1);
            if (d == d && d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (lua_Number)(lua_Integer)d) {
                lua_pushvalue(L, -1);
                lua_pushinteger(L, (lua_Integer)d);
                lua_rawset(L, idx);
            }
        }
#endif
        else {
            lua_pop(L, 1);
        }
    }
}

/* Decode body (string at idx). Pushes the value (or nil, message). */
static int decode(lua_State *L, int idx) {
    lua_pushvalue(L, UV_DECODE);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 2); /* cjson.safe.decode never raises */
    if (lua_isnil(L, -2)) return 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TTABLE) strip_nulls(L, -1, 0);
    return 1;
}

static void set_str_field(lua_State *L, int t, const char *k, int src) {
    if (lua_type(L, src) == LUA_TSTRING) {
        lua_pushvalue(L, src);
        lua_setfield(L, t, k);
    }
}

/* Parse Retry-After (delta-seconds only; an HTTP-date is treated as absent). */
static int retry_after(lua_State *L, int headers, double *out) {
    if (lua_type(L, headers) != LUA_TTABLE) return 0;
    lua_getfield(L, headers, "retry-after");
    const char *s = lua_tostring(L, -1);
    int ok = 0;
    if (s) {
        char *end;
        double v = strtod(s, &end);
        while (*end == ' ') end++;
        if (end != s && *end == '\0' && v >= 0 && v < 1e9) {
            *out = v;
            ok = 1;
        }
    }
    lua_pop(L, 1);
    return ok;
}

/* core.interpret(res) -> value | nil, err
 * res = { status, headers = { lower-case = value }, body = string } */
static int l_interpret(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "status");
    int isnum;
    lua_Integer status = lua_tointegerx(L, -1, &isnum);
    if (!isnum) return luaL_argerror(L, 1, "res.status must be an integer");
    lua_getfield(L, 1, "headers");
    int headers = lua_gettop(L);
    lua_getfield(L, 1, "body");
    int body = lua_gettop(L);
    size_t blen = 0;
    if (!lua_isnil(L, body)) {
        if (lua_type(L, body) != LUA_TSTRING) return luaL_argerror(L, 1, "res.body must be a string");
        lua_tolstring(L, body, &blen);
    }

    if (status >= 200 && status < 300) {
        /* An empty (or whitespace-only) 2xx body means plain success. */
        const char *s = lua_tostring(L, body);
        size_t i = 0;
        while (s && i < blen && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
        if (!s || i == blen) {
            lua_pushboolean(L, 1);
            return 1;
        }
        if (decode(L, body)) return 1;
        /* stack: nil, message */
        pc_push_error(L, "decode", (int)status);
        int err = lua_gettop(L);
        lua_pushfstring(L, "response body is not valid JSON (%s)", lua_tostring(L, err - 1));
        lua_setfield(L, err, "message");
        lua_pushvalue(L, body);
        lua_setfield(L, err, "body");
        if (lua_type(L, headers) == LUA_TTABLE) {
            lua_pushvalue(L, headers);
            lua_setfield(L, err, "headers");
            lua_getfield(L, headers, "inin-correlation-id");
            lua_setfield(L, err, "context_id");
        }
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }

    /* An error status. */
    pc_push_error(L, (status == 401 || status == 403) ? "auth" : "api", (int)status);
    int err = lua_gettop(L);
    if (blen > 0) {
        lua_pushvalue(L, body);
        lua_setfield(L, err, "body");
        if (decode(L, body) && lua_type(L, -1) == LUA_TTABLE) {
            int eb = lua_gettop(L);
            lua_getfield(L, eb, "code");        set_str_field(L, err, "code", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "message");     set_str_field(L, err, "message", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "messageWithParams"); set_str_field(L, err, "message_with_params", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "contextId");   set_str_field(L, err, "context_id", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "messageParams");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "message_params"); else lua_pop(L, 1);
            lua_getfield(L, eb, "details");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "details"); else lua_pop(L, 1);
            lua_getfield(L, eb, "errors");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "errors"); else lua_pop(L, 1);
            /* OAuth-shaped errors: {error, error_description}. */
            lua_getfield(L, err, "code");
            int has_code = !lua_isnil(L, -1);
            lua_pop(L, 1);
            if (!has_code) {
                lua_getfield(L, eb, "error"); set_str_field(L, err, "code", -1); lua_pop(L, 1);
                lua_getfield(L, eb, "error_description"); set_str_field(L, err, "message", -1); lua_pop(L, 1);
            }
        }
        lua_settop(L, err);
    }
    if (lua_type(L, headers) == LUA_TTABLE) {
        lua_pushvalue(L, headers);
        lua_setfield(L, err, "headers");
        lua_getfield(L, err, "context_id");
        if (lua_isnil(L, -1)) {
            lua_getfield(L, headers, "inin-correlation-id");
            lua_setfield(L, err, "context_id");
        }
        lua_pop(L, 1);
        double ra;
        if (retry_after(L, headers, &ra)) {
            lua_pushnumber(L, ra);
            lua_setfield(L, err, "retry_after");
        }
    }
    lua_getfield(L, err, "message");
    if (lua_isnil(L, -1)) {
        lua_pushfstring(L, "HTTP %d", (int)status);
        lua_setfield(L, err, "message");
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* core.decode(json) -> value | nil, message (the same null handling). */
static int l_decode(lua_State *L) {
    luaL_checkstring(L, 1);
    if (decode(L, 1)) return 1;
    return 2;
}

void pc_open_response(lua_State *L) {
    /* cjson.safe is required once per module load: a per-state upvalue. */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    int cj = lua_gettop(L);
    lua_getfield(L, cj, "null");
    lua_setfield(L, -3, "null"); /* core.null = cjson.null */

    lua_getfield(L, cj, "decode");
    lua_getfield(L, cj, "null");
    lua_pushcclosure(L, l_interpret, 2);
    lua_setfield(L, -3, "interpret");
    lua_getfield(L, cj, "decode");
    lua_getfield(L, cj, "null");
    lua_pushcclosure(L, l_decode, 2);
    lua_setfield(L, -3, "decode");
    lua_pop(L, 1);
}
