/* The retry decision, as a pure function of what happened, so it can be
 * tested as a table and every host shares it.
 *
 * No duplicate writes: a request that is not idempotent (POST, PATCH) is
 * retried only when the server cannot have acted on it — a 429, or a
 * transport failure before anything was sent. */
#include <math.h>
#include <string.h>
#include "protocol/protocol.h"

static double num(lua_State *L, int t, const char *k, double dflt) {
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? (double)lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static int idempotent(lua_State *L, int t) {
    lua_getfield(L, t, "idempotent");
    if (lua_isboolean(L, -1)) {
        int v = lua_toboolean(L, -1);
        lua_pop(L, 1);
        return v;
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "method");
    const char *m = lua_tostring(L, -1);
    int v = m && (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
                  !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS"));
    lua_pop(L, 1);
    return v;
}

static int give_up(lua_State *L, const char *why) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
}

/* core.retry_delay{ method, idempotent?, status?, kind?, sent?, attempt, elapsed,
 *   retry_after?, max_retries, max_retry_time, max_retry_after, random } -> seconds | nil, reason */
static int l_retry_delay(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    double attempt = num(L, 1, "attempt", 0);
    double elapsed = num(L, 1, "elapsed", 0);
    double max_retries = num(L, 1, "max_retries", 5);
    double max_time = num(L, 1, "max_retry_time", 60);
    double max_after = num(L, 1, "max_retry_after", 180);
    double u = num(L, 1, "random", 0.5);
    double status = num(L, 1, "status", 0);
    double ra = num(L, 1, "retry_after", -1);
    lua_getfield(L, 1, "sent");
    int sent = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "kind");
    const char *kind = lua_tostring(L, -1);
    int transport = kind && (!strcmp(kind, "transport") || !strcmp(kind, "timeout"));
    lua_pop(L, 1);
    int safe = idempotent(L, 1);

    if (attempt >= max_retries) return give_up(L, "retries exhausted");
    double delay;
    double backoff = 0.5 * pow(2.0, attempt);
    if (backoff > 30) backoff = 30;
    backoff = backoff * (0.5 + 0.5 * u); /* jitter: spread retries of many clients */
    if (status == 429) {
        if (ra > max_after) return give_up(L, "Retry-After exceeds max_retry_after");
        delay = ra >= 0 ? ra : backoff;
    } else if (status == 502 || status == 503 || status == 504) {
        if (!safe) return give_up(L, "not retried: the server may have applied this non-idempotent request");
        if (ra > max_after) return give_up(L, "Retry-After exceeds max_retry_after");
        delay = ra >= 0 ? ra : backoff;
    } else if (transport) {
        if (sent && !safe)
            return give_up(L, "not retried: the request was sent and is not idempotent");
        delay = backoff;
    } else {
        return give_up(L, "not retryable");
    }
    if (elapsed + delay > max_time) return give_up(L, "max_retry_time would be exceeded");
    lua_pushnumber(L, delay);
    return 1;
}

void pc_open_retry(lua_State *L) {
    lua_pushcfunction(L, l_retry_delay);
    lua_setfield(L, -2, "retry_delay");
}
