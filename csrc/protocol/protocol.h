/* Internal interface between the protocol parts (csrc/protocol). */
#ifndef PC_PROTOCOL_H
#define PC_PROTOCOL_H
#include "pc.h"

#define PC_ERROR_MT "purecloud.error"

/* Push a new error object { kind = kind, status = status (if > 0) }. */
void pc_push_error(lua_State *L, const char *kind, int status);

void pc_open_url(lua_State *L);
void pc_open_response(lua_State *L);
void pc_open_errors(lua_State *L);
void pc_open_retry(lua_State *L);
#endif
