/* Lua 5.1 (LuaJIT) / 5.4 compatibility shims, kept private to the module.
 * Debian's compat-5.3.h #errors on 5.4, and LuaJIT lacks a few 5.2+ calls,
 * so the few we use are spelled out here, all static. */
#ifndef PC_COMPAT_H
#define PC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
static inline int pc_absindex(lua_State *L, int i) {
    return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex(L, i) pc_absindex(L, i)
#define lua_rawlen(L, i) lua_objlen(L, i)
static inline int pc_isinteger(lua_State *L, int i) {
    if (lua_type(L, i) != LUA_TNUMBER) return 0;
    lua_Number n = lua_tonumber(L, i);
    return n == (lua_Number)(lua_Integer)n;
}
#define lua_isinteger(L, i) pc_isinteger(L, i)
#define PC_LUA_INTEGER_IS_FLOAT 1
#else
#define PC_LUA_INTEGER_IS_FLOAT 0
#endif

#endif
