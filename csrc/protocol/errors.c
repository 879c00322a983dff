/* Error objects: plain tables with the "purecloud.error" metatable, so
 * scripts read fields directly and tostring() gives one line. The line is
 * built only from status, code, message and context id, never from request
 * headers or bodies, so it cannot carry a secret. */
#include <string.h>
#include "protocol/protocol.h"

void pc_push_error(lua_State *L, const char *kind, int status) {
    lua_createtable(L, 0, 8);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    luaL_getmetatable(L, PC_ERROR_MT);
    lua_setmetatable(L, -2);
}

/* The field as text (kept on the stack, so it stays valid), with its length. */
typedef struct {
    const char *s;
    size_t n;
} text;

static text field(lua_State *L, int t, const char *k) {
    text x = {NULL, 0};
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) x.s = lua_tolstring(L, -1, &x.n);
    return x;
}

/* Append s with every control byte escaped (\n, \r, \t, \xHH): the text of
 * code and message comes from the server, and one error must stay one log
 * line however hostile that text is. */
static void add_escaped_line(luaL_Buffer *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) {
            luaL_addchar(b, (char)c);
        } else {
            luaL_addchar(b, '\\');
            if (c == '\n') luaL_addchar(b, 'n');
            else if (c == '\r') luaL_addchar(b, 'r');
            else if (c == '\t') luaL_addchar(b, 't');
            else {
                luaL_addchar(b, 'x');
                luaL_addchar(b, hex[c >> 4]);
                luaL_addchar(b, hex[c & 15]);
            }
        }
    }
}

/* purecloud: 404 not.found: The user does not exist (context 1a2b…) */
static int l_tostring(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int top = lua_gettop(L);
    text kind = field(L, 1, "kind"), status = field(L, 1, "status"), code = field(L, 1, "code");
    text message = field(L, 1, "message"), ctx = field(L, 1, "context_id"), outcome = field(L, 1, "outcome");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "purecloud: ");
    if (status.s) {
        add_escaped_line(&b, status.s, status.n);
        luaL_addchar(&b, ' ');
    } else if (kind.s) {
        add_escaped_line(&b, kind.s, kind.n);
        luaL_addstring(&b, ": ");
    }
    if (code.s) {
        add_escaped_line(&b, code.s, code.n);
        luaL_addstring(&b, ": ");
    }
    if (message.s) add_escaped_line(&b, message.s, message.n);
    else luaL_addstring(&b, "error");
    if (outcome.s && !strcmp(outcome.s, "unknown"))
        luaL_addstring(&b, " [outcome unknown: the server may have acted on it; check before repeating it]");
    if (ctx.s) {
        luaL_addstring(&b, " (context ");
        add_escaped_line(&b, ctx.s, ctx.n);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

/* core.error{ kind = …, status = …, message = …, … } -> error object */
static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "kind");
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 1, "error needs a string 'kind'");
    lua_pop(L, 1);
    lua_settop(L, 1);
    luaL_getmetatable(L, PC_ERROR_MT);
    lua_setmetatable(L, 1);
    return 1;
}

/* core.is_error(v) -> boolean */
static int l_is_error(lua_State *L) {
    int is = 0;
    if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, PC_ERROR_MT);
        is = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushboolean(L, is);
    return 1;
}

void pc_open_errors(lua_State *L) {
    static const luaL_Reg fns[] = {{"error", l_new}, {"is_error", l_is_error}, {NULL, NULL}};
    if (luaL_newmetatable(L, PC_ERROR_MT)) {
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, PC_ERROR_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_setfield(L, -2, "error_mt");
    luaL_setfuncs(L, fns, 0);
}
