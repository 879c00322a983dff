/* Responses: status + headers + body in, a Lua value or an error object out.
 * Sans-I/O. JSON is decoded in one strict pass by csrc/json/decode.c: JSON null
 * inside objects becomes an absent key, while nulls inside arrays stay as the
 * cjson.null sentinel (= purecloud.null) so positions hold; integers are
 * integers; NaN/Infinity/hex and the like are a `decode` error. */
#include <string.h>
#include <stdlib.h>
#include "pc.h"
#include "protocol/protocol.h"
#include "json/json.h"

/* Decode body (string at idx). Pushes the value: 1, or nil, message: 0. */
static int decode(lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char msg[160];
    if (pc_json_decode(L, s, n, msg, sizeof msg)) return 1;
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 0;
}

static void set_str_field(lua_State *L, int t, const char *k, int src) {
    if (lua_type(L, src) == LUA_TSTRING) {
        lua_pushvalue(L, src);
        lua_setfield(L, t, k);
    }
}

/* Parse Retry-After: delta-seconds only (RFC 9110: 1*DIGIT), at most 10
 * digits. An HTTP-date, a fraction, an exponent, a sign or any other text is
 * treated as absent (the request loop then backs off on its own). */
static int retry_after(lua_State *L, int headers, double *out) {
    if (lua_type(L, headers) != LUA_TTABLE) return 0;
    lua_getfield(L, headers, "retry-after");
    size_t n = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    int ok = s && n > 0 && n <= 10;
    double v = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (s[i] < '0' || s[i] > '9') ok = 0;
        else v = v * 10 + (s[i] - '0');
    }
    if (ok) *out = v;
    lua_pop(L, 1);
    return ok;
}

/* core.interpret(res) -> value | nil, err
 * res = { status, headers = { lower-case = value }, body = string | value = decoded 2xx body } */
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
        /* Already decoded by the transport (req.decode): the value as is. */
        lua_getfield(L, 1, "value");
        if (!lua_isnil(L, -1)) return 1;
        lua_pop(L, 1);
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
    static const luaL_Reg fns[] = {{"interpret", l_interpret}, {"decode", l_decode}, {NULL, NULL}};
    /* core.null = cjson.null, the NULL light userdata the decoder pushes for
     * null in arrays (spec/json checks they are the same value). */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "null");
    lua_setfield(L, -3, "null");
    lua_pop(L, 1);
    luaL_setfuncs(L, fns, 0);
}
