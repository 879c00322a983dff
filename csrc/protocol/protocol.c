/* The protocol part of purecloud.core: URLs and responses (errors: errors.c). */
#include "protocol/protocol.h"

int pc_open_protocol(lua_State *L) {
    pc_open_url(L);
    pc_open_response(L);
    return 0;
}
