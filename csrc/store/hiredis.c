/* purecloud.store.hiredis: one blocking Redis connection over hiredis, for
 * plain Lua (the Redis store, lua/purecloud/store/redis.lua, uses it outside
 * nginx; inside nginx it talks RESP over cosockets instead). Its own module,
 * the only one linked with libhiredis, so `require "purecloud"` never loads
 * it.
 *
 *   hiredis.new{ host, port, username, password, db, timeout, connect_timeout }
 *     -> conn (not connected yet: the first call connects)
 *   conn:call(arg, ...) -> value | nil, message, kind
 *   conn:close()  (= __gc = __close; idempotent)   tostring(conn)
 *
 * A value: a bulk or status reply as a string, an integer as an integer, a
 * nil reply as false, an array as a table (nested at most MAX_DEPTH).
 * kind: "io" (connect, send or read failed: the connection is dropped and
 * the next call reconnects), "timeout" (the same, past a timeout), "auth" (Redis refused AUTH or
 * SELECT at connect), "reply" (Redis answered the command with an error).
 *
 * Rules: the connect timeout bounds connecting and the command timeout each
 * socket read and write (redisSetTimeout: SO_RCVTIMEO / SO_SNDTIMEO); no Lua
 * runs inside hiredis (its synchronous API has no callbacks); every reply is
 * freed on every path (a reply being converted is kept in the handle, so a
 * raise while converting — out of memory — frees it at the next call or at
 * close); the password lives in C memory, is one of the secrets the core's
 * scrub removes from every error and log line (pc_secret_owner), is wiped at
 * close, and is never part of tostring or of any message built here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>
#include "pc.h"
#include "compat.h"
#include "protocol/protocol.h"
#include "text.h"

#define CONN_MT "purecloud.store.hiredis"
#define MAX_ARGS 64
#define MAX_DEPTH 4
#define ERRLEN 200

typedef struct {
    redisContext *c;
    redisReply *reply; /* the reply being converted (freed at the next call or close) */
    char *host, *username, *password;
    int port, db;
    double timeout, connect_timeout;
} conn;

static void drop_context(conn *h) {
    if (h->c) redisFree(h->c);
    h->c = NULL;
}

static void drop_reply(conn *h) {
    if (h->reply) freeReplyObject(h->reply);
    h->reply = NULL;
}

static void wipe_free(char **p) {
    if (*p) {
        pc_wipe(*p, strlen(*p));
        free(*p);
    }
    *p = NULL;
}

static int l_close(lua_State *L) {
    conn *h = luaL_checkudata(L, 1, CONN_MT);
    drop_reply(h);
    drop_context(h);
    wipe_free(&h->password);
    free(h->host);
    h->host = NULL;
    free(h->username);
    h->username = NULL;
    return 0;
}

static int l_tostring(lua_State *L) {
    const conn *h = luaL_checkudata(L, 1, CONN_MT);
    if (!h->host) lua_pushliteral(L, "purecloud.store.hiredis(closed)");
    else lua_pushfstring(L, "purecloud.store.hiredis(%s:%d)", h->host, h->port);
    return 1;
}

/* The handle's list function (protocol.h): its password. */
static int l_secrets(lua_State *L) {
    const conn *h = lua_touserdata(L, 1);
    pc_secrets *c = lua_touserdata(L, 2);
    if (!h || !c) return 0;
    if (h->password) pc_secret(c, h->password, strlen(h->password));
    return 0;
}

static struct timeval tv_of(double s) {
    struct timeval tv;
    if (s < 0.001) s = 0.001;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

/* Copy a field string of the options table into malloc'd memory (NULL when absent). */
static void opt_dup(lua_State *L, int t, const char *name, char **out) {
    lua_getfield(L, t, name);
    if (!lua_isnil(L, -1)) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (!s || memchr(s, '\0', n)) luaL_error(L, "purecloud.store.hiredis: option '%s' must be a string", name);
        *out = malloc(n + 1);
        if (!*out) luaL_error(L, "purecloud.store.hiredis: out of memory");
        memcpy(*out, s, n + 1);
    }
    lua_pop(L, 1);
}

static double opt_num(lua_State *L, int t, const char *name, double dflt) {
    lua_getfield(L, t, name);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    conn *h = lua_newuserdata(L, sizeof *h);
    memset(h, 0, sizeof *h);
    /* Zeroed and owned: a raise below frees what was acquired at __gc. */
    luaL_getmetatable(L, CONN_MT);
    lua_setmetatable(L, -2);
    opt_dup(L, 1, "host", &h->host);
    opt_dup(L, 1, "username", &h->username);
    opt_dup(L, 1, "password", &h->password);
    if (h->password) pc_secret_owner(L, -1, l_secrets);
    if (!h->host) {
        h->host = malloc(sizeof "127.0.0.1");
        if (!h->host) return luaL_error(L, "purecloud.store.hiredis: out of memory");
        memcpy(h->host, "127.0.0.1", sizeof "127.0.0.1");
    }
    h->port = (int)opt_num(L, 1, "port", 6379);
    h->db = (int)opt_num(L, 1, "db", 0);
    h->timeout = opt_num(L, 1, "timeout", 0.2);
    h->connect_timeout = opt_num(L, 1, "connect_timeout", h->timeout);
    return 1;
}

/* Push nil, message, kind; returns 3. The message is copied out first (the
 * caller may free the context it came from before pushing). */
static int fail(lua_State *L, const char *msg, const char *kind) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, kind);
    return 3;
}

/* The I/O failure of the context, copied, and the context dropped. */
static int io_fail(lua_State *L, conn *h, const char *what) {
    char msg[ERRLEN];
    const char *why = h->c && h->c->errstr[0] ? h->c->errstr : "connection lost";
    int timed_out = h->c && h->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (timed_out) why = "timed out";
    snprintf(msg, sizeof msg, "%s: %s", what, why);
    drop_context(h);
    return fail(L, msg, timed_out ? "timeout" : "io");
}

/* One handshake command (AUTH, SELECT): 1, or 0 with msg filled. */
static int handshake(conn *h, int argc, const char **argv, const size_t *len, char *msg, int *io) {
    redisReply *r = redisCommandArgv(h->c, argc, argv, len);
    if (!r) {
        int timed_out = h->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        snprintf(msg, ERRLEN, "%s failed: %s", argv[0],
                 timed_out ? "timed out" : h->c->errstr[0] ? h->c->errstr : "connection lost");
        *io = timed_out ? 2 : 1;
        return 0;
    }
    int ok = r->type != REDIS_REPLY_ERROR;
    if (!ok) snprintf(msg, ERRLEN, "%s refused: %.*s", argv[0], (int)(r->len < 150 ? r->len : 150), r->str);
    freeReplyObject(r);
    return ok;
}

/* Connect (when not connected), authenticate, select the db. */
static int ensure(lua_State *L, conn *h) {
    if (h->c) return 0;
    h->c = redisConnectWithTimeout(h->host, h->port, tv_of(h->connect_timeout));
    if (!h->c) return fail(L, "connect: out of memory", "io");
    if (h->c->err) return io_fail(L, h, "connect");
    if (redisSetTimeout(h->c, tv_of(h->timeout)) != REDIS_OK) return io_fail(L, h, "connect");
    char msg[ERRLEN];
    int io = 0;
    if (h->password) {
        /* AUTH password, or AUTH username password (Redis 6 ACL users) */
        const char *argv[3] = {"AUTH", h->password, NULL};
        size_t len[3] = {4, strlen(h->password), 0};
        int argc = 2;
        if (h->username) {
            argv[1] = h->username, len[1] = strlen(h->username);
            argv[2] = h->password, len[2] = strlen(h->password);
            argc = 3;
        }
        if (!handshake(h, argc, argv, len, msg, &io)) {
            drop_context(h);
            return fail(L, msg, io == 2 ? "timeout" : io ? "io" : "auth");
        }
    }
    if (h->db) {
        char db[24];
        snprintf(db, sizeof db, "%d", h->db);
        const char *argv[2] = {"SELECT", db};
        size_t len[2] = {6, strlen(db)};
        if (!handshake(h, 2, argv, len, msg, &io)) {
            drop_context(h);
            return fail(L, msg, io == 2 ? "timeout" : io ? "io" : "auth");
        }
    }
    return 0;
}

static void push_reply(lua_State *L, const redisReply *r, int depth) {
    luaL_checkstack(L, 3, "purecloud.store.hiredis: reply too deep");
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: lua_pushlstring(L, r->str, r->len); break;
    case REDIS_REPLY_INTEGER: lua_pushinteger(L, (lua_Integer)r->integer); break;
    case REDIS_REPLY_ARRAY:
        lua_createtable(L, (int)(r->elements < 1024 ? r->elements : 1024), 0);
        for (size_t i = 0; i < r->elements; i++) {
            if (depth >= MAX_DEPTH) lua_pushboolean(L, 0);
            else push_reply(L, r->element[i], depth + 1);
            lua_rawseti(L, -2, (int)(i + 1));
        }
        break;
    default: lua_pushboolean(L, 0); break; /* nil */
    }
}

static int l_call(lua_State *L) {
    conn *h = luaL_checkudata(L, 1, CONN_MT);
    if (!h->host) return luaL_error(L, "purecloud.store.hiredis: the connection is closed");
    int argc = lua_gettop(L) - 1;
    if (argc < 1 || argc > MAX_ARGS) return luaL_error(L, "purecloud.store.hiredis: call takes 1 to %d arguments", MAX_ARGS);
    const char *argv[MAX_ARGS];
    size_t len[MAX_ARGS];
    for (int i = 0; i < argc; i++) {
        int t = lua_type(L, i + 2);
        if (t != LUA_TSTRING && t != LUA_TNUMBER)
            return luaL_error(L, "purecloud.store.hiredis: argument %d must be a string or a number", i + 1);
        argv[i] = lua_tolstring(L, i + 2, &len[i]);
    }
    drop_reply(h);
    int n = ensure(L, h);
    if (n) return n;
    h->reply = redisCommandArgv(h->c, argc, argv, len);
    if (!h->reply) return io_fail(L, h, "command");
    if (h->reply->type == REDIS_REPLY_ERROR) {
        lua_pushnil(L);
        lua_pushlstring(L, h->reply->str, h->reply->len);
        lua_pushliteral(L, "reply");
        drop_reply(h);
        return 3;
    }
    push_reply(L, h->reply, 0);
    drop_reply(h);
    return 1;
}

static int l_connected(lua_State *L) {
    const conn *h = luaL_checkudata(L, 1, CONN_MT);
    lua_pushboolean(L, h->c != NULL);
    return 1;
}

__attribute__((visibility("default"))) int luaopen_purecloud_store_hiredis(lua_State *L) {
    static const luaL_Reg methods[] = {{"call", l_call}, {"close", l_close}, {"connected", l_connected},
                                       {NULL, NULL}};
    pc_class(L, CONN_MT, methods, l_close, l_tostring);
    static const luaL_Reg fns[] = {{"new", l_new}, {NULL, NULL}};
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    return 1;
}
