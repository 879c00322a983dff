/* libFuzzer target for the C core's parsers and encoders (make fuzz).
 * The first input byte picks the target, the rest is the data:
 *   0  core.interpret{status = 200, body = data}   (JSON decode, null strip)
 *   1  core.interpret{status = 404, body = data}   (error objects)
 *   2  core.encode_body("patch_user_id", decode(data), "lenient")
 *   3  core.encode_body("post_search", decode(data), "strict")
 *   4  core.build_url(base, "/api/v2/users/{userId}", { userId = data }, { q = data })
 *   5  core.encode_query("get_users", decode(data), "lenient")
 * Every call runs under lua_pcall: an argument error is a valid outcome,
 * a crash or a sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_purecloud_core(lua_State *L);

static lua_State *L; /* the harness's one interpreter, created on first use */

static const char *SCRIPT =
    "local core, target, data = ...\n"
    "local value = core.decode(data)\n"
    "if target == 0 then return core.interpret{ status = 200, headers = {}, body = data } end\n"
    "if target == 1 then return core.interpret{ status = 404, headers = { ['retry-after'] = data }, body = data } end\n"
    "if target == 2 then return core.encode_body('patch_user_id', value, 'lenient') end\n"
    "if target == 3 then return core.encode_body('post_search', value, 'strict') end\n"
    "if target == 4 then return core.build_url('http://h', '/api/v2/users/{userId}', { userId = data }, { q = data }) end\n"
    "if type(value) == 'table' then return core.encode_query('get_users', value, 'lenient') end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        luaL_requiref(L, "purecloud.core", luaopen_purecloud_core, 0);
        lua_pop(L, 1);
        if (luaL_loadstring(L, SCRIPT) != LUA_OK) return 0;
        lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.script");
    }
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.script");
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "purecloud.core");
    lua_remove(L, -2);
    lua_pushinteger(L, data[0] % 6);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    lua_pcall(L, 3, LUA_MULTRET, 0);
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
