/* Internal interface between the protocol parts (csrc/protocol). */
#ifndef PC_PROTOCOL_H
#define PC_PROTOCOL_H
#include "pc.h"

void pc_open_url(lua_State *L);
void pc_open_response(lua_State *L);
#endif
