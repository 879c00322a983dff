/* Shared declarations of the purecloud C core.
 * Each part adds its functions to the module table at the top of the stack. */
#ifndef PC_H
#define PC_H

#include "compat.h"

#ifndef PC_VERSION /* the Makefile passes -DPC_VERSION from the top-level VERSION file */
#define PC_VERSION "0.0.0-unversioned"
#endif

int pc_open_protocol(lua_State *L);  /* csrc/protocol: URLs, responses, headers (sans-I/O) */
int pc_open_auth(lua_State *L);      /* csrc/auth: token state machine */
int pc_open_models(lua_State *L);    /* csrc/models: generated contract tables, encode, validate */
void pc_open_clock(lua_State *L);    /* csrc/clock.c: monotonic now, blocking sleep */
void pc_open_json(lua_State *L);     /* csrc/json: strict one-pass JSON decoder (core.json_decode) */
void pc_open_journal(lua_State *L);  /* csrc/journal: the bulk journal's file (core.journal_open) */

/* Error objects (csrc/protocol/errors.c): plain tables with this metatable.
 * pc_push_error is the one constructor every part uses. */
#define PC_ERROR_MT "purecloud.error"
void pc_open_errors(lua_State *L);  /* registers the metatable; runs first */
void pc_push_error(lua_State *L, const char *kind, int status);

/* Responses of a transport that keeps the raw header block (csrc/protocol/
 * response.c): a plain table { status, head = "Name: value\r\n...", ... }
 * with this metatable, whose __index builds res.headers (lower-case names,
 * repeats joined with ", ") at its first use. core.header(res, name, ...)
 * reads single headers without building it. */
#define PC_RESPONSE_MT "purecloud.response"

/* Register a userdata class `name` (csrc/class.c). */
void pc_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
              lua_CFunction tostring);

/* The one buffer type (csrc/buf.c): a growable byte buffer with an optional
 * cap, usable from C with no Lua state (libcurl callbacks fill them), or
 * owned by a userdata (pc_buf_new) so that a raise cannot leak it. Its bytes
 * are wiped when released: bodies and header lists may hold credentials. */
typedef struct {
    char *p;
    size_t len, cap;
    size_t max;   /* 0: no cap */
    int oom;      /* an allocation failed */
    int overflow; /* an add would have passed max */
} pc_buf;
int pc_buf_add(pc_buf *b, const char *s, size_t n); /* 1, or 0 on overflow/oom (nothing added) */
void pc_buf_clear(pc_buf *b, size_t keep);        /* empty it; release the memory if cap > keep */
void pc_buf_release(pc_buf *b);                     /* wipe and free */
pc_buf *pc_buf_new(lua_State *L);                   /* push a userdata-owned buffer */
void pc_buf_push(lua_State *L, pc_buf *b);          /* push the contents as a string */

/* Percent-encode s (RFC 3986 unreserved kept) into b. */
void pc_add_escaped(pc_buf *b, const char *s, size_t n);

#endif
