/* Internal interface between the protocol parts (csrc/protocol), and the
 * one scrub of known secrets (errors.c) that every part building text from
 * outside text goes through. */
#ifndef PC_PROTOCOL_H
#define PC_PROTOCOL_H
#include "pc.h"

void pc_open_url(lua_State *L);
void pc_open_response(lua_State *L);

/* ---- known secrets (errors.c) -----------------------------------------
 * An owner of secrets (an auth vault, a libcurl handle with a proxy
 * password) registers itself with a list function, called as
 * list(owner, lightuserdata pc_secrets *) with no other Lua work in between:
 * it names each of its secrets with pc_secret (pointers into its own
 * memory, valid until it is collected). pc_scrub replaces, in the string
 * (or the strings of the table) at idx, every occurrence of any owner's
 * secret with PC_REDACTED. Secrets shorter than PC_SECRET_MIN bytes are
 * not scrubbed: hiding every "ab" of every message would garble all text
 * and protect nothing. The registry holds owners weakly: one collected is
 * forgotten. */
#define PC_REDACTED "[REDACTED]"
#define PC_SECRET_MIN 4
typedef struct {
    const char **s;
    size_t *n;
    size_t count, cap; /* cap 0: only count */
} pc_secrets;
void pc_secret(pc_secrets *c, const char *s, size_t n);
void pc_secret_owner(lua_State *L, int idx, lua_CFunction list);
void pc_scrub(lua_State *L, int idx);
#endif
