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
 * arrays keep null as core.null (a NULL light userdata, = cjson.null).
 * Raises only on out-of-memory, with no C memory owned. */
int pc_json_decode(lua_State *L, const char *s, size_t n, char *err, size_t errlen);

#endif
