/* purecloud.core: the C core's single entry point.
 * luaopen_purecloud_core may run many times per process (busted loads it per
 * spec file; nginx creates several VMs); everything it builds is per Lua state
 * and it never loads libcurl: the transport is its own module
 * (csrc/transport/curl.c, purecloud.transport.curl). */
#include "pc.h"

/* The only exported symbol (everything else is built -fvisibility=hidden). */
__attribute__((visibility("default"))) int luaopen_purecloud_core(lua_State *L) {
    lua_newtable(L);
    lua_pushliteral(L, PC_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushinteger(L, LUA_VERSION_NUM);
    lua_setfield(L, -2, "lua_version_num");
    pc_open_errors(L); /* first: every part builds error objects */
    pc_open_clock(L);
    pc_open_json(L);
    pc_open_journal(L);
    pc_open_protocol(L);
    pc_open_auth(L);
    pc_open_models(L);
    return 1;
}
