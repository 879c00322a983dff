/* The one buffer type (see pc.h). A userdata-owned one is freed by __gc, so
 * a raise cannot leak it; unlike luaL_Buffer it does not live at the top of
 * the Lua stack, so code may push and pop freely while building — which
 * luaL_Buffer forbids (the libFuzzer target caught exactly that misuse). */
#include <stdlib.h>
#include <string.h>
#include "pc.h"
#include "text.h"

#define BUF_MT "purecloud.buf"

int pc_buf_add(pc_buf *b, const char *s, size_t n) {
    if (b->oom) return 0;
    if (b->max && b->len + n > b->max) {
        b->overflow = 1;
        return 0;
    }
    if (n == 0) return 1;
    if (b->len + n + 1 > b->cap) { /* one spare byte keeps the contents NUL-terminated */
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = malloc(cap);
        if (!p) {
            b->oom = 1;
            return 0;
        }
        if (b->p) {
            memcpy(p, b->p, b->len);
            pc_wipe(b->p, b->cap);
            free(b->p);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 1;
}

void pc_buf_release(pc_buf *b) {
    if (b->p) {
        pc_wipe(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = b->overflow = 0;
}

void pc_buf_clear(pc_buf *b, size_t keep) {
    if (b->cap > keep) {
        pc_buf_release(b);
    } else {
        pc_wipe(b->p, b->len);
        b->len = 0;
        b->oom = b->overflow = 0;
    }
}

static int buf_gc(lua_State *L) {
    pc_buf_release(lua_touserdata(L, 1));
    return 0;
}

pc_buf *pc_buf_new(lua_State *L) {
    pc_buf *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, BUF_MT)) {
        lua_pushcfunction(L, buf_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return b;
}

void pc_buf_push(lua_State *L, pc_buf *b) {
    if (b->oom) luaL_error(L, "purecloud: out of memory");
    lua_pushlstring(L, b->p ? b->p : "", b->len);
}
