/* libFuzzer target for the C core's parsers and encoders (make fuzz).
 * The first input byte picks the target, the rest is the data:
 *   0  core.interpret{status = 200, body = data}   (JSON decode, null strip)
 *   1  core.interpret{status = 404, body = data}   (error objects)
 *   2  core.encode_body(<patch_user_id>, decode(data), "lenient")
 *   3  core.encode_body(<post_search>, decode(data), "strict")
 *   4  core.build_url(base, "/api/v2/users/{userId}", { userId = data }, { q = data }), and
 *      core.fill_url against build_url (the same URL, or nil where it raises:
 *      a disagreement aborts)
 *   5  core.encode_query(<get_users>, decode(data), "lenient")
 *   6  core.encode_body(<post_users>, build(data), mode)  -- tables built from the bytes
 *   7  core.encode_json(build(data))                      -- the free-form walk
 *   8  a response whose raw header block is data: core.header, res.headers,
 *      res.context_id, res.rate_limit, core.interpret (the header parser)
 * build() makes the nesting, cycles, NaN, nulls and key types straight from
 * the bytes, iteratively, so the C walks (not a JSON decoder's stack) meet
 * arbitrary depth and shape: each byte is an instruction (open a table under a
 * string or integer key, close, add a string/number/boolean/NaN/inf/null, or
 * link a value back to an ancestor).
 * Every call runs under lua_pcall: an argument error is a valid outcome,
 * a crash or a sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_purecloud_core(lua_State *L);

static lua_State *L; /* the harness's one interpreter, created on first use */

static const char *SCRIPT =
    "local core, target, data = ...\n"
    "OPS = OPS or core.operations() -- (the encoders take an operation's handle; a global of this harness)\n"
    "local value = core.decode(data)\n"
    "if target == 0 then return core.interpret{ status = 200, headers = {}, body = data } end\n"
    "if target == 1 then return core.interpret{ status = 404, headers = { ['retry-after'] = data }, body = data } end\n"
    "if target == 2 then return core.encode_body(OPS.patch_user_id.handle, value, 'lenient') end\n"
    "if target == 3 then return core.encode_body(OPS.post_search.handle, value, 'strict') end\n"
    "if target == 4 then\n"
    "  local b = data:sub(1, 3)\n"
    "  local ok, url = pcall(core.build_url, 'http://h/', '/u/{userId}/s/{b}', { userId = data, b = b })\n"
    "  local filled = core.fill_url('http://h/', '/u/{userId}/s/{b}', data, b)\n"
    "  if ok ~= (filled ~= nil) or (ok and url ~= filled) then return 'FILL_URL_DISAGREES' end\n"
    "  return core.build_url('http://h', '/api/v2/users/{userId}', { userId = data }, { q = data })\n"
    "end\n"
    "if target == 5 then if type(value) == 'table' then return core.encode_query(OPS.get_users.handle, value, 'lenient') end return end\n"
    "if target == 8 then\n"
    "  local res = setmetatable({ status = 200 + #data % 400, head = data }, core.response_mt)\n"
    "  core.header(res, 'inin-ratelimit-allowed', 'x', 'content-type', 'retry-after')\n"
    "  local _ = { res.rate_limit, res.context_id, res.headers }\n"
    "  core.header(res, 'x')\n"
    "  return core.interpret(res)\n"
    "end\n"
    "local root = {}\n"
    "local stack, top = { root }, 1\n"
    "local keys = { 'name', 'email', 'addresses', 'manager', 'query', 'fields', 'value', 'version', 'x' }\n"
    "for i = 1, #data do\n"
    "  local b = data:byte(i)\n"
    "  local op, arg = b % 8, b // 8\n"
    "  local cur = stack[top]\n"
    "  local k = (arg % 2 == 0) and keys[arg % #keys + 1] or (#cur + 1)\n"
    "  if op == 0 then local t = {}; cur[k] = t; top = top + 1; stack[top] = t\n"
    "  elseif op == 1 then if top > 1 then stack[top] = nil; top = top - 1 end\n"
    "  elseif op == 2 then cur[k] = data:sub(i, i + arg % 5)\n"
    "  elseif op == 3 then cur[k] = ({ 0 / 0, math.huge, -math.huge, 2 ^ 63, 1.5, -0.0, 7 })[arg % 7 + 1]\n"
    "  elseif op == 4 then cur[k] = stack[arg % top + 1]\n"
    "  elseif op == 5 then cur[k] = core.null\n"
    "  elseif op == 6 then cur[k] = (arg % 2 == 0)\n"
    "  else cur[k] = arg end\n"
    "end\n"
    "if target == 6 then return core.encode_body(OPS.post_users.handle, root, ({ 'lenient', 'strict', false })[#data % 3 + 1]) end\n"
    "return core.encode_json(root)\n";

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
    lua_pushinteger(L, data[0] % 9);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING &&
        !strcmp(lua_tostring(L, -1), "FILL_URL_DISAGREES"))
        abort(); /* the oracle: a finding */
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
