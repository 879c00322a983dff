/* Strict one-pass JSON decoder (csrc/json/decode.c). */
#ifndef PC_JSON_H
#define PC_JSON_H

#include <stddef.h>
#include "compat.h"

/* Containers nested deeper than this are a decode error (not a crash). */
#define PC_JSON_MAX_DEPTH 256

/* Decode the JSON text s[0..n) (RFC 8259, strictly) and push the value: 1.
 * On a syntax error push nothing, write a one-line message naming the byte
 * offset into err and return 0. Objects drop members whose value is null,
 * arrays keep null as core.null (a NULL light userdata, = cjson.null); an
 * empty array is an empty table with the metatable core.array_mt.
 * Raises only on out-of-memory, with no C memory owned. */
int pc_json_decode(lua_State *L, const char *s, size_t n, char *err, size_t errlen);
/* The same, keeping an object member's null as core.null when keep_nulls. */
int pc_json_decode_opt(lua_State *L, const char *s, size_t n, int keep_nulls, char *err, size_t errlen);

/* The decoder as another C module of the process reaches it (the libcurl
 * transport decodes a 2xx body straight from its buffer): core registers
 * this table in the registry under PC_JSON_API at open, so there is one
 * decoder, and one string cache per Lua state, not a copy per module. */
typedef struct {
    int (*decode)(lua_State *L, const char *s, size_t n, char *err, size_t errlen);
} pc_json_api;
#define PC_JSON_API "purecloud.json_api"

/* The array marker, core.array_mt: the metatable of decoded empty arrays
 * and of core.array() tables, in the registry under this name. Encoders
 * write a table that has it as a JSON array (an empty one as []). */
#define PC_JSON_ARRAY_MT "purecloud.array"
void pc_json_push_array_mt(lua_State *L);  /* push it (created at first use) */
int pc_json_is_array(lua_State *L, int idx); /* the value at idx has it (uses 2 stack slots) */

#endif
