/* A growable byte buffer owned by a userdata (freed by __gc, so a raise
 * cannot leak it). Unlike luaL_Buffer it does not live at the top of the Lua
 * stack, so code may push and pop freely while building — which luaL_Buffer
 * forbids (the libFuzzer target caught exactly that misuse). */
#include <stdlib.h>
#include <string.h>
#include "pc.h"

#define BUF_MT "purecloud.buf"

static int buf_gc(lua_State *L) {
    pc_buf *b = lua_touserdata(L, 1);
    if (b->p) {
        memset(b->p, 0, b->cap); /* may have held a secret (form bodies) */
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
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

void pc_buf_add(pc_buf *b, const char *s, size_t n) {
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void pc_buf_push(lua_State *L, pc_buf *b) {
    if (b->oom) luaL_error(L, "purecloud: out of memory");
    lua_pushlstring(L, b->p ? b->p : "", b->len);
}
