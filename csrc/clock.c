/* Monotonic time and sleeping for the default (blocking) I/O table.
 * Hosts with an event loop pass their own `now` and `sleep` instead. */
#include <time.h>
#include <errno.h>
#include "pc.h"

/* core.now() -> seconds from an arbitrary origin, monotonic, sub-ms resolution */
static int l_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.sleep(seconds) — blocks the calling thread; resumes after EINTR. */
static int l_sleep(lua_State *L) {
    lua_Number s = luaL_checknumber(L, 1);
    if (s <= 0) return 0;
    luaL_argcheck(L, s < 86400 * 365, 1, "too long");
    struct timespec req, rem;
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) req = rem;
    return 0;
}

void pc_open_clock(lua_State *L) {
    static const luaL_Reg fns[] = {{"now", l_now}, {"sleep", l_sleep}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
