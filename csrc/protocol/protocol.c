/* The protocol part of purecloud.core: URLs, responses (errors: errors.c),
 * and the header rule of csrc/text.h exposed to Lua. */
#include "protocol/protocol.h"
#include "text.h"

/* core.check_header(name, value[, wire]) -> true | nil, reason: the one
 * header rule (csrc/text.h), as a caller may give a header, or with `wire`
 * true as a transport may be handed one (Authorization then passes). */
static int l_check_header(lua_State *L) {
    if (lua_type(L, 1) != LUA_TSTRING || lua_type(L, 2) != LUA_TSTRING) {
        int bad = lua_type(L, 1) != LUA_TSTRING ? 1 : 2;
        lua_pushnil(L);
        lua_pushfstring(L, "a header %s must be a string, got %s", bad == 1 ? "name" : "value",
                        luaL_typename(L, bad));
        return 2;
    }
    size_t nn, vn;
    const char *name = lua_tolstring(L, 1, &nn), *value = lua_tolstring(L, 2, &vn);
    char why[PC_HEADER_NAME_MAX + 160];
    if (pc_header_check(name, nn, value, vn, lua_toboolean(L, 3) ? PC_HEADER_WIRE : PC_HEADER_CALLER, why,
                        sizeof why)) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int pc_open_protocol(lua_State *L) {
    pc_open_url(L);
    pc_open_response(L);
    lua_pushcfunction(L, l_check_header);
    lua_setfield(L, -2, "check_header");
    /* core.OWNED_HEADERS: lower-case name -> why a caller may not set it. */
    lua_newtable(L);
    const char *name, *why;
    for (size_t i = 0; (name = pc_header_owned_at(i, &why, NULL)); i++) {
        lua_pushstring(L, why);
        lua_setfield(L, -2, name);
    }
    lua_setfield(L, -2, "OWNED_HEADERS");
    return 0;
}
