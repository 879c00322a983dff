/* libFuzzer target for the strict JSON decoder (csrc/json/decode.c), run by
 * `make fuzz` with ASan/UBSan. Per input:
 *   - pc_json_decode must push exactly one value on success and leave the
 *     stack as it was on failure, with a message naming the byte offset;
 *   - differential oracle: when lua-cjson (+ the old null/integer post-pass)
 *     also accepts the text, both values must be equal (integers beyond 2^53
 *     compared with cjson's nearest double), as in spec/json/decode_spec.lua;
 *   - the same text is also decoded inside a coroutine with a fresh, small
 *     stack, so the decoder's lua_checkstack paths are exercised there too;
 *   - and as the second element of an array behind an 8 KB string, a text
 *     large enough for the decoder's string cache: same properties and
 *     oracle, and when the text alone was accepted the wrapped one must be
 *     too (its element compared with the oracle against cjson as well);
 *   - and by a second copy of the decoder built here with a 2-entry string
 *     cache used for every text, so strings colliding in the cache are the
 *     rule, not a rare event: same properties and oracle, and the same
 *     outcome as the real decoder;
 *   - round-trip oracle: every value the decoder accepts is encoded by the
 *     library's encoder (core.encode_json, csrc/models/encode.c, built into
 *     this target) and decoded again, and both values must be equal with
 *     the array/object distinction (an empty array keeps core.array_mt, an
 *     empty object has none) and integer/float kept; the encoder may refuse
 *     only what is nested deeper than its 64 levels (the decoder allows
 *     256), never a string the decoder produced (one UTF-8 rule for both).
 * A violated property aborts (libFuzzer saves the input). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "json/json.h"

/* The decoder again, with a tiny cache for every text (see above). */
#define CACHE_BITS 1
#define pc_json_decode tiny_json_decode
#define pc_json_decode_opt tiny_json_decode_opt
#define pc_json_push_array_mt tiny_json_push_array_mt
#define pc_json_is_array tiny_json_is_array
#define pc_open_json tiny_open_json
#include "json/decode.c"
#undef pc_json_decode
#undef pc_json_decode_opt
#undef pc_json_push_array_mt
#undef pc_json_is_array
#undef pc_open_json

/* The library's encoder, for the round-trip oracle: encode.c with what it
 * needs (the generated schemas, the buffer, the UTF-8 rule); error objects
 * are plain tables here (errors.c and its metatable are not needed). */
#include "text.c"
#include "buf.c"
#include "models/generated.c"
#include "models/encode.c"
void pc_push_error(lua_State *L, const char *kind, int status) {
    lua_createtable(L, 0, 8);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
}

/* decode(s) -> value | nil: the real decoder, for the round trip. */
static int fuzz_decode(lua_State *T) {
    size_t n;
    const char *s = luaL_checklstring(T, 1, &n);
    char err[160];
    if (pc_json_decode(T, s, n, err, sizeof err)) return 1;
    lua_pushnil(T);
    return 1;
}

typedef int (*decoder)(lua_State *, const char *, size_t, char *, size_t);

static lua_State *L; /* the harness's one interpreter, created on first use */

static const char *ORACLE =
    "local cjson = require 'cjson.safe'\n"
    "local null = cjson.null\n"
    "local function post(v)\n"
    "  if math.type(v) == 'float' and v == v and v >= -2^53 and v <= 2^53 and v == math.floor(v) then\n"
    "    return math.tointeger(v) end\n"
    "  if type(v) ~= 'table' then return v end\n"
    "  for k, x in pairs(v) do if x == null and type(k) == 'string' then v[k] = nil else v[k] = post(x) end end\n"
    "  return v\n"
    "end\n"
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) == 'number' then\n"
    "    if math.type(a) == 'integer' and math.type(b) == 'float' and (a > 2^53 or a < -2^53) then return a + 0.0 == b end\n"
    "    return math.type(a) == math.type(b) and a == b\n"
    "  end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  for k, x in pairs(a) do if not same(x, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local encode, decode = ...\n"
    "local function same_shape(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) == 'number' then return math.type(a) == math.type(b) and a == b end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  if getmetatable(a) ~= getmetatable(b) then return false end\n"
    "  for k, x in pairs(a) do if not same_shape(x, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function roundtrip(mine)\n"
    "  local text, err = encode(mine)\n"
    "  if not text then\n"
    "    for _, d in ipairs(err.details) do\n"
    "      if not d.message:find('nested more than 64 levels deep', 1, true) then return false end\n"
    "    end\n"
    "    return true\n"
    "  end\n"
    "  local again = decode(text)\n"
    "  return again ~= nil and same_shape(mine, again)\n"
    "end\n"
    "return function(mine, text, round)\n"
    "  if round and not roundtrip(mine) then return false end\n"
    "  local ref = cjson.decode(text)\n"
    "  if ref == nil then return true end\n"
    "  return same(mine, post(ref))\n"
    "end\n";

/* oracle: 1 the cjson differential, 2 also the round trip through the encoder. */
static int check_with(decoder dec, lua_State *T, const uint8_t *data, size_t size, int oracle) {
    char err[160];
    err[0] = '\0';
    int top = lua_gettop(T);
    if (dec(T, (const char *)data, size, err, sizeof err)) {
        if (lua_gettop(T) != top + 1) abort();
        if (oracle) {
            lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.oracle");
            lua_insert(L, -2);
            lua_pushlstring(L, (const char *)data, size);
            lua_pushboolean(L, oracle == 2);
            lua_call(L, 3, 1);
            if (!lua_toboolean(L, -1)) abort(); /* differs from cjson + post-pass, or after a round trip */
        }
        lua_settop(T, top);
        return 1;
    }
    if (lua_gettop(T) != top || !strstr(err, "byte offset")) abort();
    return 0;
}

static int check(lua_State *T, const uint8_t *data, size_t size, int oracle) {
    return check_with(pc_json_decode, T, data, size, oracle);
}

#define PAD 8192 /* each input is also decoded inside a text of 8 KB and more */
static uint8_t *wrapped;   /* '["' PAD x 'p' '",' text ']' */

static int check_wrapped(const uint8_t *data, size_t size) {
    size_t pre = PAD + 4;
    uint8_t *w = realloc(wrapped, pre + size + 1);
    if (!w) abort();
    wrapped = w;
    memcpy(w, "[\"", 2);
    memset(w + 2, 'p', PAD);
    memcpy(w + 2 + PAD, "\",", 2);
    memcpy(w + pre, data, size);
    w[pre + size] = ']';
    return check(L, w, pre + size + 1, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        if (luaL_loadstring(L, ORACLE) != LUA_OK) abort();
        lua_pushcfunction(L, l_encode_json);
        lua_pushcfunction(L, fuzz_decode);
        lua_call(L, 2, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.oracle");
    }
    int top = lua_gettop(L);
    int ok = check(L, data, size, 2);
    if (!check_wrapped(data, size) && ok) abort(); /* accepted alone, refused in the large text */
    if (check_with(tiny_json_decode, L, data, size, 1) != ok) abort(); /* the tiny cache changed the outcome */
    lua_State *T = lua_newthread(L); /* a fresh thread: a small stack to grow */
    check(T, data, size, 0);
    lua_settop(L, top);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
