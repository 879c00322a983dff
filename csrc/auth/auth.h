/* Internal interface of the auth part (csrc/auth). */
#ifndef PC_AUTH_H
#define PC_AUTH_H
#include "pc.h"

void pc_sha256(const unsigned char *data, size_t n, unsigned char out[32]);
void pc_base64(luaL_Buffer *b, const unsigned char *s, size_t n, int url);
int pc_random(unsigned char *out, size_t n);
void pc_open_digest(lua_State *L);
#endif
