/* Responses: status + headers + body in, a Lua value or an error object out.
 * Sans-I/O. JSON is decoded in one strict pass by csrc/json/decode.c: JSON null
 * inside objects becomes an absent key, while nulls inside arrays stay as the
 * cjson.null sentinel (= purecloud.null) so positions hold; integers are
 * integers; NaN/Infinity/hex and the like are a `decode` error. */
#include <string.h>
#include <stdlib.h>
#include "pc.h"
#include "protocol/protocol.h"
#include "json/json.h"

/* Decode body (string at idx). Pushes the value: 1, or nil, message: 0. */
static int decode(lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char msg[160];
    if (pc_json_decode(L, s, n, msg, sizeof msg)) return 1;
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 0;
}

static void set_str_field(lua_State *L, int t, const char *k, int src) {
    if (lua_type(L, src) == LUA_TSTRING) {
        lua_pushvalue(L, src);
        lua_setfield(L, t, k);
    }
}

/* Parse Retry-After: delta-seconds only (RFC 9110: 1*DIGIT), at most 10
 * digits. An HTTP-date, a fraction, an exponent, a sign or any other text is
 * treated as absent (the request loop then backs off on its own). */
static int retry_after(lua_State *L, int headers, double *out) {
    if (lua_type(L, headers) != LUA_TTABLE) return 0;
    lua_getfield(L, headers, "retry-after");
    size_t n = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    int ok = s && n > 0 && n <= 10;
    double v = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (s[i] < '0' || s[i] > '9') ok = 0;
        else v = v * 10 + (s[i] - '0');
    }
    if (ok) *out = v;
    lua_pop(L, 1);
    return ok;
}

/* ---- response headers ------------------------------------------------ */

/* A raw header block is the final response's lines as received: a status
 * line ("HTTP/..."), then "Name: value" lines ending in CRLF (or LF), then a
 * blank line. Names are matched ASCII case-insensitively; values lose the
 * white space around them; a line without a colon is skipped. */
typedef struct {
    const char *name, *value;
    size_t nlen, vlen;
} hline;

/* The next header line at *p (before end): 1 and *h, or 0 at the end. */
static int next_line(const char **p, const char *end, hline *h) {
    while (*p < end) {
        const char *s = *p, *eol = memchr(s, '\n', (size_t)(end - s));
        const char *lend = eol ? eol : end;
        *p = eol ? eol + 1 : end;
        const char *colon = memchr(s, ':', (size_t)(lend - s));
        if (!colon || colon == s || (lend - s >= 5 && memcmp(s, "HTTP/", 5) == 0)) continue;
        h->name = s;
        h->nlen = (size_t)(colon - s);
        h->value = colon + 1;
        h->vlen = (size_t)(lend - colon - 1);
        return 1;
    }
    return 0;
}

/* Push a line's value without the white space around it. */
static void push_value(lua_State *L, const hline *h) {
    const char *v = h->value, *ve = v + h->vlen;
    while (v < ve && (*v == ' ' || *v == '\t')) v++;
    while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
    lua_pushlstring(L, v, (size_t)(ve - v));
}

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* Push the table of every header of a raw block: lower-case names, repeats
 * joined with ", " (the form every transport answers res.headers in). */
static void push_headers(lua_State *L, const char *p, size_t n) {
    const char *end = p + n, *q = p;
    hline h;
    int count = 0;
    while (next_line(&q, end, &h)) count++; /* presized: no rehash while filling */
    lua_createtable(L, 0, count);
    int t = lua_gettop(L);
    char name[256];
    while (next_line(&p, end, &h)) {
        if (h.nlen >= sizeof name) continue; /* no real header name is this long */
        for (size_t i = 0; i < h.nlen; i++) name[i] = (char)lower((unsigned char)h.name[i]);
        lua_pushlstring(L, name, h.nlen);
        lua_pushvalue(L, -1);
        lua_rawget(L, t);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            push_value(L, &h);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            push_value(L, &h);
        }
        lua_rawset(L, t);
    }
}

/* Push the values of the headers `names` (lower case) of the response at
 * index r (nil when absent, repeats joined with ", "): from res.headers when
 * it is there, else from the raw block res.head in one pass. */
#define MAX_NAMES 8
static void push_headers_named(lua_State *L, int r, const char *const *names, const size_t *lens, int nnames) {
    lua_pushliteral(L, "headers");
    lua_rawget(L, r);
    int tbl = lua_gettop(L);
    size_t hn = 0;
    const char *head = NULL;
    if (lua_type(L, tbl) != LUA_TTABLE) {
        lua_pushliteral(L, "head");
        lua_rawget(L, r);
        head = lua_tolstring(L, -1, &hn);
        if (!head) { /* a host transport's res: whatever its headers field is */
            lua_getfield(L, r, "headers");
            lua_replace(L, tbl);
        }
    }
    luaL_checkstack(L, nnames + 4, NULL);
    int out = lua_gettop(L) + 1;
    for (int i = 0; i < nnames; i++) {
        if (head || lua_type(L, tbl) != LUA_TTABLE) lua_pushnil(L);
        else lua_getfield(L, tbl, names[i]);
    }
    if (head) {
        const char *p = head, *end = head + hn;
        hline h;
        while (next_line(&p, end, &h)) {
            int c0 = lower((unsigned char)h.name[0]);
            for (int i = 0; i < nnames; i++) {
                if (lens[i] != h.nlen || (unsigned char)names[i][0] != c0) continue;
                size_t k = 1;
                while (k < h.nlen && lower((unsigned char)h.name[k]) == (unsigned char)names[i][k]) k++;
                if (k < h.nlen) continue;
                if (lua_isnil(L, out + i)) {
                    push_value(L, &h);
                } else { /* a repeat: joined, as res.headers has it */
                    lua_pushvalue(L, out + i);
                    lua_pushliteral(L, ", ");
                    push_value(L, &h);
                    lua_concat(L, 3);
                }
                lua_replace(L, out + i);
            }
        }
    }
    /* the results move down over the lookups (a forward copy) */
    for (int i = 0; i < nnames; i++) {
        lua_pushvalue(L, out + i);
        lua_replace(L, tbl + i);
    }
    lua_settop(L, tbl + nnames - 1);
}

/* The number in the string at the top (an integer when it is one), or nil:
 * what tonumber() gives, in every Lua version. Replaces the string. */
static void to_number(lua_State *L) {
    if (lua_type(L, -1) == LUA_TSTRING && lua_isnumber(L, -1)) {
        lua_Number n = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (n >= -9007199254740992.0 && n <= 9007199254740992.0 && n == (lua_Number)(lua_Integer)n)
            lua_pushinteger(L, (lua_Integer)n);
        else
            lua_pushnumber(L, n);
    } else {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* The headers info reads: "rate_limit" takes the first three, "context_id" the last. */
static const char *const INFO_NAMES[] = {"inin-ratelimit-allowed", "inin-ratelimit-count", "inin-ratelimit-reset",
                                         "inin-correlation-id"};

/* __index of PC_RESPONSE_MT: what a response also tells, built at its first
 * use and kept in it (later reads do not come here). A response is also the
 * third value a call returns (its info):
 *   headers     every header, lower-case names (from res.head)
 *   context_id  the inin-correlation-id header
 *   rate_limit  { allowed, count, reset } from inin-ratelimit-*, or nil */
static int response_index(lua_State *L) {
    size_t n;
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    const char *k = lua_tolstring(L, 2, &n);
    int rate = n == 10 && memcmp(k, "rate_limit", 10) == 0;
    if (n == 7 && memcmp(k, "headers", 7) == 0) {
        lua_pushliteral(L, "head");
        lua_rawget(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) return 0;
        const char *head = lua_tolstring(L, -1, &n);
        push_headers(L, head, n);
    } else if (rate || (n == 10 && memcmp(k, "context_id", 10) == 0)) {
        const char *const *names = rate ? INFO_NAMES : INFO_NAMES + 3;
        int count = rate ? 3 : 1;
        size_t lens[3];
        for (int i = 0; i < count; i++) lens[i] = strlen(names[i]);
        push_headers_named(L, 1, names, lens, count);
        if (rate) {
            if (lua_isnil(L, -3)) return 0;
            int v = lua_gettop(L) - 2;
            lua_createtable(L, 0, 3);
            static const char *const fields[] = {"allowed", "count", "reset"};
            for (int i = 0; i < 3; i++) {
                lua_pushvalue(L, v + i);
                to_number(L);
                lua_setfield(L, -2, fields[i]);
            }
        }
    } else {
        return 0;
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

/* core.header(res, name, ...) -> value, ...: the response's headers of
 * these lower-case names (nil when absent; repeats joined with ", "), without
 * building res.headers: the request path reads a few headers of every
 * response and the caller rarely asks for the rest. */
static int l_header(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int nnames = lua_gettop(L) - 1;
    if (nnames > MAX_NAMES) return luaL_argerror(L, MAX_NAMES + 2, "at most 8 header names");
    const char *names[MAX_NAMES];
    size_t lens[MAX_NAMES];
    for (int i = 0; i < nnames; i++) names[i] = luaL_checklstring(L, i + 2, &lens[i]);
    push_headers_named(L, 1, names, lens, nnames);
    return nnames;
}

/* core.interpret(res) -> value | nil, err
 * res = { status, headers = { lower-case = value }, body = string | value = decoded 2xx body } */
static int l_interpret(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "status");
    int isnum;
    lua_Integer status = lua_tointegerx(L, -1, &isnum);
    if (!isnum) return luaL_argerror(L, 1, "res.status must be an integer");
    lua_getfield(L, 1, "value");
    if (status >= 200 && status < 300 && !lua_isnil(L, -1)) return 1; /* decoded by the transport (req.decode) */
    /* (res.headers only now: a transport may build it at its first use) */
    lua_getfield(L, 1, "headers");
    int headers = lua_gettop(L);
    lua_getfield(L, 1, "body");
    int body = lua_gettop(L);
    size_t blen = 0;
    if (!lua_isnil(L, body)) {
        if (lua_type(L, body) != LUA_TSTRING) return luaL_argerror(L, 1, "res.body must be a string");
        lua_tolstring(L, body, &blen);
    }

    if (status >= 200 && status < 300) {
        /* An empty (or whitespace-only) 2xx body means plain success. */
        const char *s = lua_tostring(L, body);
        size_t i = 0;
        while (s && i < blen && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
        if (!s || i == blen) {
            lua_pushboolean(L, 1);
            return 1;
        }
        if (decode(L, body)) return 1;
        /* stack: nil, message */
        pc_push_error(L, "decode", (int)status);
        int err = lua_gettop(L);
        lua_pushfstring(L, "response body is not valid JSON (%s)", lua_tostring(L, err - 1));
        lua_setfield(L, err, "message");
        lua_pushvalue(L, body);
        lua_setfield(L, err, "body");
        if (lua_type(L, headers) == LUA_TTABLE) {
            lua_pushvalue(L, headers);
            lua_setfield(L, err, "headers");
            lua_getfield(L, headers, "inin-correlation-id");
            lua_setfield(L, err, "context_id");
        }
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }

    /* An error status. */
    pc_push_error(L, (status == 401 || status == 403) ? "auth" : "api", (int)status);
    int err = lua_gettop(L);
    if (blen > 0) {
        lua_pushvalue(L, body);
        lua_setfield(L, err, "body");
        if (decode(L, body) && lua_type(L, -1) == LUA_TTABLE) {
            int eb = lua_gettop(L);
            lua_getfield(L, eb, "code");        set_str_field(L, err, "code", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "message");     set_str_field(L, err, "message", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "messageWithParams"); set_str_field(L, err, "message_with_params", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "contextId");   set_str_field(L, err, "context_id", -1); lua_pop(L, 1);
            lua_getfield(L, eb, "messageParams");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "message_params"); else lua_pop(L, 1);
            lua_getfield(L, eb, "details");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "details"); else lua_pop(L, 1);
            lua_getfield(L, eb, "errors");
            if (lua_type(L, -1) == LUA_TTABLE) lua_setfield(L, err, "errors"); else lua_pop(L, 1);
            /* OAuth-shaped errors: {error, error_description}. */
            lua_getfield(L, err, "code");
            int has_code = !lua_isnil(L, -1);
            lua_pop(L, 1);
            if (!has_code) {
                lua_getfield(L, eb, "error"); set_str_field(L, err, "code", -1); lua_pop(L, 1);
                lua_getfield(L, eb, "error_description"); set_str_field(L, err, "message", -1); lua_pop(L, 1);
            }
        }
        lua_settop(L, err);
    }
    if (lua_type(L, headers) == LUA_TTABLE) {
        lua_pushvalue(L, headers);
        lua_setfield(L, err, "headers");
        lua_getfield(L, err, "context_id");
        if (lua_isnil(L, -1)) {
            lua_getfield(L, headers, "inin-correlation-id");
            lua_setfield(L, err, "context_id");
        }
        lua_pop(L, 1);
        double ra;
        if (retry_after(L, headers, &ra)) {
            lua_pushnumber(L, ra);
            lua_setfield(L, err, "retry_after");
        }
    }
    lua_getfield(L, err, "message");
    if (lua_isnil(L, -1)) {
        lua_pushfstring(L, "HTTP %d", (int)status);
        lua_setfield(L, err, "message");
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* core.decode(json) -> value | nil, message (the same null handling). */
static int l_decode(lua_State *L) {
    luaL_checkstring(L, 1);
    if (decode(L, 1)) return 1;
    return 2;
}

void pc_open_response(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"interpret", l_interpret}, {"decode", l_decode}, {"header", l_header}, {NULL, NULL}};
    static const luaL_Reg response_mt[] = {{"__index", response_index}, {NULL, NULL}};
    luaL_newmetatable(L, PC_RESPONSE_MT);
    luaL_setfuncs(L, response_mt, 0);
    lua_setfield(L, -2, "response_mt"); /* for tables made from a response (the client's info) */
    /* core.null = cjson.null, the NULL light userdata the decoder pushes for
     * null in arrays (spec/json checks they are the same value). */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "null");
    lua_setfield(L, -3, "null");
    lua_pop(L, 1);
    luaL_setfuncs(L, fns, 0);
}
