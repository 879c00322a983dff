/* Error objects: plain tables with the "purecloud.error" metatable, so
 * scripts read fields directly and tostring() gives one line. The line is
 * built only from status, code, message and context id, never from request
 * headers or bodies, so it cannot carry a secret. */
#include <string.h>
#include "protocol/protocol.h"

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

static const char *field(lua_State *L, int t, const char *k) {
    lua_getfield(L, t, k);
    const char *s = lua_tostring(L, -1); /* stays valid: kept on the stack */
    return s;
}

/* purecloud: 404 not.found: The user does not exist (context 1a2b…) */
static int l_tostring(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int top = lua_gettop(L);
    const char *kind = field(L, 1, "kind");
    const char *status = field(L, 1, "status");
    const char *code = field(L, 1, "code");
    const char *message = field(L, 1, "message");
    const char *ctx = field(L, 1, "context_id");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "purecloud: ");
    if (status) {
        luaL_addstring(&b, status);
        luaL_addchar(&b, ' ');
    } else if (kind) {
        luaL_addstring(&b, kind);
        luaL_addstring(&b, ": ");
    }
    if (code) {
        luaL_addstring(&b, code);
        luaL_addstring(&b, ": ");
    }
    luaL_addstring(&b, message ? message : "error");
    if (ctx) {
        luaL_addstring(&b, " (context ");
        luaL_addstring(&b, ctx);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

/* core.error{ kind = …, status = …, message = …, … } -> error object */
static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "kind");
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 1, "error needs a string 'kind'");
    lua_pop(L, 1);
    lua_settop(L, 1);
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
    if (luaL_newmetatable(L, PC_ERROR_MT)) {
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, PC_ERROR_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_setfield(L, -2, "error_mt");
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "error");
    lua_pushcfunction(L, l_is_error);
    lua_setfield(L, -2, "is_error");
}
