/* One way to declare a userdata class: methods in __index, and close shared
 * by __gc and (on 5.4) __close, so every handle is closed exactly the same
 * way whether the script closes it, leaves a to-be-closed scope, or drops it. */
#include "pc.h"

void pc_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
              lua_CFunction tostring) {
    if (luaL_newmetatable(L, name)) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, close);
        lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
        lua_pushcfunction(L, close);
        lua_setfield(L, -2, "__close");
#endif
        lua_pushcfunction(L, tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
}
