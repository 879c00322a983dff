/* Lua 5.1 / 5.2 / 5.3 / 5.4 and LuaJIT 2.1 compatibility shims, kept
 * private to the module. Debian's compat-5.3.h #errors on 5.4, so the few
 * calls we use that an older Lua lacks are spelled out here, all static
 * (nothing is exported from core.so). Each shim is a function-like macro
 * over a pc_-prefixed function, so it also works where LuaJIT already
 * declares the 5.2 name (luaL_setfuncs, lua_tointegerx). */
#ifndef PC_COMPAT_H
#define PC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 503
/* 5.1, 5.2 and LuaJIT have one number type (a double): a number counts as an
 * integer when it is integral and exactly representable (|n| < 2^53), which
 * also keeps the lua_Integer conversion defined. */
static inline int pc_isinteger(lua_State *L, int i) {
    if (lua_type(L, i) != LUA_TNUMBER) return 0;
    lua_Number n = lua_tonumber(L, i);
    return n > -9007199254740992.0 && n < 9007199254740992.0 && n == (lua_Number)(long long)n;
}
#define lua_isinteger(L, i) pc_isinteger(L, i)
#endif

#if LUA_VERSION_NUM < 502
static inline int pc_absindex(lua_State *L, int i) {
    return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex(L, i) pc_absindex(L, i)
#define lua_rawlen(L, i) lua_objlen(L, i)

/* Register l's functions into the table at the top, each with the nup
 * upvalues below it (which are popped), as 5.2's luaL_setfuncs does. */
static inline void pc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}
#define luaL_setfuncs(L, l, nup) pc_setfuncs(L, l, nup)

static inline lua_Integer pc_tointegerx(lua_State *L, int i, int *isnum) {
    int ok = pc_isinteger(L, i);
    if (isnum != NULL) *isnum = ok;
    return ok ? (lua_Integer)lua_tonumber(L, i) : 0;
}
#define lua_tointegerx(L, i, isnum) pc_tointegerx(L, i, isnum)
#endif

#endif
