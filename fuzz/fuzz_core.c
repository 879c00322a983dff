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
 *   9  core.check_header(name, value[, wire]) with data split at its first
 *      ':' against a reference of RFC 9110's grammar written in Lua here
 *      (token name of 1-256 bytes; field-value of at most 16 KiB, no
 *      control byte but HTAB, no DEL, no white space at either end; the
 *      owned headers in any case): a disagreement aborts, and so does a
 *      taken header whose "Name: value" line holds CR, LF or NUL
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
    "  local h, tpl = OPS.delete_user_routingskill.handle, '/api/v2/users/{userId}/routingskills/{skillId}'\n"
    "  local ok, url = pcall(core.build_url, 'http://h/', tpl, { userId = data, skillId = b })\n"
    "  local hok, hurl = pcall(core.build_url, 'http://h/', h, { userId = data, skillId = b })\n"
    "  local filled = core.fill_url('http://h/', h, data, b)\n"
    "  if ok ~= (filled ~= nil) or (ok and url ~= filled) then return 'ORACLE_DISAGREES' end\n"
    "  if ok ~= hok or url ~= hurl then return 'ORACLE_DISAGREES' end\n"
    "  return core.build_url('http://h', '/api/v2/users/{userId}', { userId = data }, { q = data })\n"
    "end\n"
    "if target == 5 then if type(value) == 'table' then return core.encode_query(OPS.get_users.handle, value, 'lenient') end return end\n"
    "if target == 9 then\n"
    "  local c = data:find(':', 1, true) or #data + 1\n"
    "  local name, value, wire = data:sub(1, c - 1), data:sub(c + 1), #data % 2 == 1\n"
    "  local ok = core.check_header(name, value, wire) == true\n"
    "  local low = name:lower()\n"
    "  local owned = low == 'connection' or low == 'content-length' or low == 'expect' or low == 'host'\n"
    "    or low == 'keep-alive' or low == 'proxy-connection' or low == 'te' or low == 'transfer-encoding'\n"
    "    or low == 'upgrade' or (low == 'authorization' and not wire)\n"
    "  local want = #name >= 1 and #name <= 256 and not name:find(\"[^%w!#$%%&'*+%-.^_`|~]\") and not owned\n"
    "    and #value <= 16384 and not value:find('[%z\\1-\\8\\10-\\31\\127]') and not value:find('^[ \\t]')\n"
    "    and not value:find('[ \\t]$')\n"
    "  if ok ~= want then return 'ORACLE_DISAGREES' end\n"
    "  if ok and (name .. ': ' .. value):find('[%z\\r\\n]') then return 'ORACLE_DISAGREES' end\n"
    "  return\n"
    "end\n"
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
    lua_pushinteger(L, data[0] % 10);
    lua_pushlstring(L, (const char *)data + 1, size - 1);
    if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING &&
        !strcmp(lua_tostring(L, -1), "ORACLE_DISAGREES"))
        abort(); /* an oracle (fill_url, the header rule): a finding */
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
