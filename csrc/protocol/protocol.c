/* The protocol part of purecloud.core: URLs, responses, errors, retries. */
#include "protocol/protocol.h"

int pc_open_protocol(lua_State *L) {
    pc_open_errors(L);
    pc_open_url(L);
    pc_open_response(L);
    pc_open_retry(L);
    return 0;
}
