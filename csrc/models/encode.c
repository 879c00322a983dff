/* Schema-driven request encoding and validation, in one pass over the Lua
 * value, straight into JSON text.
 *
 *   core.encode_body(op_name, value, mode)  -> json, warnings | nil, err
 *   core.encode_query(op_name, opts, mode)  -> query table    | nil, err
 *   mode: "lenient" (default) | "strict" | false
 *
 * The schema decides what a plain JSON encoder cannot: an empty Lua table is
 * [] where the contract says array and {} where it says object; where the
 * schema leaves the shape open (fields the contract does not know,
 * free-form objects, core.encode_json) a table with core.array_mt — every
 * empty array the decoder returns, and core.array() — is an array, so a
 * decoded [] goes back as [] in a read-modify-write; integers
 * print without ".0"; read-only fields are dropped (so GET → modify → PATCH
 * works). Validation reports every bad field by path in err.details:
 * wrong JSON types and missing required fields are errors; unknown fields and
 * enum values outside the contract are warnings (sent as given, with a
 * "did you mean" when close) unless mode is "strict". Strings and keys must
 * be valid UTF-8 by the decoder's own rule (pc_utf8_seq, csrc/text.h), in
 * every mode: the library never sends what it would refuse to read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "models/schema.h"
#include "json/json.h"
#include "text.h"

/* Bodies nest a few levels; anything deeper than this is a mistake (or a
 * cycle) and is refused as a validation error naming the path. Every level
 * checks the Lua stack first, so no depth can overflow it. */
#define MAX_DEPTH 64
#define STACK_PER_LEVEL 12
#define MAX_ISSUES 100

enum { MODE_OFF = 0, MODE_LENIENT = 1, MODE_STRICT = 2 };

typedef struct {
    lua_State *L;
    pc_buf *out;
    int errs, warns; /* stack indices of the issue lists */
    int visiting;    /* stack index of { table = true } for the tables on the current path */
    int nerrs, nwarns;
    int mode;
    int oom;
    char path[512];
    size_t plen;
} enc;

static void put(enc *e, const char *s, size_t n) {
    pc_buf_add(e->out, s, n);
    if (e->out->oom) e->oom = 1;
}
#define PUTS(e, s) put(e, s, sizeof(s) - 1)

static size_t path_push_field(enc *e, const char *name, size_t n) {
    size_t old = e->plen;
    if (e->plen + n + 2 < sizeof e->path) {
        e->path[e->plen++] = '.';
        memcpy(e->path + e->plen, name, n);
        e->plen += n;
        e->path[e->plen] = '\0';
    }
    return old;
}

static size_t path_push_index(enc *e, lua_Integer i) {
    size_t old = e->plen;
    int w = snprintf(e->path + e->plen, sizeof e->path - e->plen, "[%lld]", (long long)i);
    if (w > 0 && e->plen + (size_t)w < sizeof e->path) e->plen += (size_t)w;
    e->path[e->plen] = '\0';
    return old;
}

static void path_pop(enc *e, size_t old) {
    e->plen = old;
    e->path[old] = '\0';
}

/* Record an issue "path: message" as an error (or a warning). */
static void issue(enc *e, int is_error, const char *fmt, const char *a, const char *b) {
    lua_State *L = e->L;
    int *count = is_error ? &e->nerrs : &e->nwarns;
    if (*count >= MAX_ISSUES) return;
    char msg[768];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    lua_createtable(L, 0, 2);
    lua_pushstring(L, e->path);
    lua_setfield(L, -2, "fieldName");
    lua_pushfstring(L, "%s: %s", e->path, msg);
    lua_setfield(L, -2, "message");
    lua_rawseti(L, is_error ? e->errs : e->warns, ++*count);
}

static const char *lua_kind(lua_State *L, int idx) {
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER) return lua_isinteger(L, idx) ? "integer" : "number";
    if (t == LUA_TTABLE) return "table";
    return lua_typename(L, t);
}

static const char *kind_name(pc_kind k) {
    switch (k) {
    case PC_STRING: return "string";
    case PC_INTEGER: return "integer";
    case PC_NUMBER: return "number";
    case PC_BOOLEAN: return "boolean";
    case PC_ARRAY: return "array";
    default: return "object";
    }
}

/* ---- did you mean -------------------------------------------------------- */

static void normalise(const char *s, char *out, size_t cap) {
    size_t j = 0;
    for (; *s && j + 1 < cap; s++) {
        char c = *s;
        if (c == '_' || c == '-' || c == ' ') continue;
        out[j++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[j] = '\0';
}

static size_t levenshtein(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= m; j++) prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (m + 1) * sizeof *prev);
    }
    return prev[m];
}

/* The closest candidate to s, or NULL when none is close. */
static const char *suggest(const char *s, const char *const *cands, size_t stride, int n) {
    char ns[128], nc[128];
    normalise(s, ns, sizeof ns);
    const char *best = NULL;
    size_t best_d = 3;
    for (int i = 0; i < n; i++) {
        const char *c = *(const char *const *)((const char *)cands + (size_t)i * stride);
        normalise(c, nc, sizeof nc);
        if (!strcmp(ns, nc)) return c;
        size_t d = levenshtein(ns, nc);
        size_t limit = strlen(ns) < 4 ? 1 : 2;
        if (d <= limit && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

/* ---- JSON output --------------------------------------------------------- */

/* 1 when s[0..n) is valid UTF-8; else an error naming what is wrong and
 * where ("string is not valid UTF-8: an encoded UTF-16 surrogate (byte 0xED
 * at offset 3)"), whatever the mode, and 0. */
static int utf8_valid(enc *e, const char *what, const char *s, size_t n) {
    size_t off = pc_utf8_check(s, n);
    if (off == n) return 1;
    char msg[160];
    snprintf(msg, sizeof msg, "%s is not valid UTF-8: %s (byte 0x%02X at offset %zu)", what, pc_utf8_why(s, n, off),
             (unsigned)(unsigned char)s[off], off);
    issue(e, 1, "%s%s", msg, NULL);
    return 0;
}

static void put_string(enc *e, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    PUTS(e, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(e, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        switch (c) {
        case '"': PUTS(e, "\\\""); break;
        case '\\': PUTS(e, "\\\\"); break;
        case '\n': PUTS(e, "\\n"); break;
        case '\r': PUTS(e, "\\r"); break;
        case '\t': PUTS(e, "\\t"); break;
        case '\b': PUTS(e, "\\b"); break;
        case '\f': PUTS(e, "\\f"); break;
        default: put(e, esc, 6);
        }
    }
    put(e, s + run, n - run);
    PUTS(e, "\"");
}

static int put_number(enc *e, lua_State *L, int idx, int as_integer) {
    char num[48];
    int n;
    if (lua_isinteger(L, idx)) {
        n = snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
    } else {
        double d = (double)lua_tonumber(L, idx);
        if (isnan(d) || isinf(d)) return 0;
        if ((as_integer || d == floor(d)) && fabs(d) < 9007199254740992.0 && d == floor(d)) {
            n = snprintf(num, sizeof num, "%.0f", d);
        } else {
            n = snprintf(num, sizeof num, "%.15g", d);
            if (strtod(num, NULL) != d) n = snprintf(num, sizeof num, "%.17g", d);
            /* An integral float beyond 2^53 in plain digits would read back
             * as an integer: ".0" keeps it a float (where no schema asks for
             * an integer), so decode -> encode -> decode gives it back. */
            if (!as_integer && !strpbrk(num, ".eE") && n > 0 && (size_t)n + 2 < sizeof num) {
                memcpy(num + n, ".0", 3);
                n += 2;
            }
        }
    }
    put(e, num, (size_t)n);
    return 1;
}

static int is_null(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* Length of a Lua sequence, or -1 when the table has non-sequence keys. */
static lua_Integer seq_len(lua_State *L, int idx) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || !lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return -1;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k < 1 || k > n) {
            lua_pop(L, 1);
            return -1;
        }
        count++;
    }
    return count == n ? n : -1;
}

/* A table to write as a JSON array where no schema says which: one with
 * core.array_mt (a decoded [] or core.array(); an error later if it is not
 * a sequence), or a non-empty sequence. An unmarked empty table is {}. */
static int is_array(lua_State *L, int idx) {
    return pc_json_is_array(L, idx) || (lua_rawlen(L, idx) > 0 && seq_len(L, idx) > 0);
}

static void encode(enc *e, int idx, int schema, int depth);
static void encode_value(enc *e, int idx, int schema, int depth);

/* Encode without a schema (unknown fields, ANY): JSON by Lua type. */
static void encode_any(enc *e, int idx, int depth) {
    encode(e, idx, 0, depth);
}

static void encode_array(enc *e, int idx, int items, int depth) {
    lua_State *L = e->L;
    lua_Integer n = seq_len(L, idx);
    if (n < 0) {
        if (e->mode) issue(e, 1, "expected an array (a Lua sequence), got a table with other keys%s%s", NULL, NULL);
        PUTS(e, "[]");
        return;
    }
    PUTS(e, "[");
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1) PUTS(e, ",");
        lua_rawgeti(L, idx, i);
        size_t old = path_push_index(e, i);
        encode(e, lua_gettop(L), items, depth + 1);
        path_pop(e, old);
        lua_pop(L, 1);
    }
    PUTS(e, "]");
}

static const pc_field *find_field(const pc_schema *s, const char *name) {
    int lo = 0, hi = s->nfields - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(name, s->fields[mid].name);
        if (c == 0) return &s->fields[mid];
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return NULL;
}

static void encode_object(enc *e, int idx, int schema, int depth) {
    lua_State *L = e->L;
    const pc_schema *s = &pc_schemas[schema];
    int first = 1;
    PUTS(e, "{");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int v = lua_gettop(L);
        if (lua_type(L, v - 1) != LUA_TSTRING) {
            if (e->mode) issue(e, 1, "object keys must be strings (got a %s key)%s", lua_kind(L, v - 1), NULL);
            lua_pop(L, 1);
            continue;
        }
        size_t kn;
        const char *k = lua_tolstring(L, v - 1, &kn);
        size_t old = path_push_field(e, k, kn);
        if (!utf8_valid(e, "key", k, kn)) {
            path_pop(e, old);
            lua_pop(L, 1);
            continue;
        }
        int vschema = 0;
        int known = 0;
        if (s->kind == PC_OBJECT) {
            const pc_field *f = find_field(s, k);
            if (f) {
                known = 1;
                vschema = f->schema;
                if (f->read_only) { /* read-only: the server ignores it; don't send it */
                    path_pop(e, old);
                    lua_pop(L, 1);
                    continue;
                }
            } else if (s->items >= 0) {
                known = 1;
                vschema = s->items;
            }
        } else if (s->kind == PC_MAP) {
            known = 1;
            vschema = s->items;
        } else {
            known = 1; /* free-form object */
        }
        if (!known && e->mode) {
            const char *hint = s->nfields ? suggest(k, &s->fields[0].name, sizeof(pc_field), s->nfields) : NULL;
            if (hint)
                issue(e, e->mode == MODE_STRICT, "unknown field (did you mean %s?)%s", hint, NULL);
            else
                issue(e, e->mode == MODE_STRICT, "unknown field in %s%s", s->name ? s->name : "object", NULL);
        }
        if (!first) PUTS(e, ",");
        first = 0;
        put_string(e, k, kn);
        PUTS(e, ":");
        encode(e, v, vschema, depth + 1);
        path_pop(e, old);
        lua_pop(L, 1);
    }
    PUTS(e, "}");
    if (e->mode && s->kind == PC_OBJECT) {
        for (int i = 0; i < s->nrequired; i++) {
            lua_getfield(L, idx, s->required[i]);
            int missing = lua_isnil(L, -1) || is_null(L, -1);
            lua_pop(L, 1);
            if (missing) {
                size_t old = path_push_field(e, s->required[i], strlen(s->required[i]));
                issue(e, 1, "required field is missing%s%s", NULL, NULL);
                path_pop(e, old);
            }
        }
    }
}

static void type_error(enc *e, int idx, const char *want) {
    if (e->mode) issue(e, 1, "expected %s, got %s", want, lua_kind(e->L, idx));
}

static void encode_value(enc *e, int idx, int schema, int depth) {
    lua_State *L = e->L;
    const pc_schema *s = &pc_schemas[schema];
    int t = lua_type(L, idx);
    if (is_null(L, idx)) {
        PUTS(e, "null");
        return;
    }
    switch (s->kind) {
    case PC_STRING:
        if (t != LUA_TSTRING) break;
        {
            size_t n;
            const char *str = lua_tolstring(L, idx, &n);
            if (!utf8_valid(e, "string", str, n)) {
                PUTS(e, "null");
                return;
            }
            if (s->nenums && e->mode) {
                int ok = 0;
                for (int i = 0; i < s->nenums && !ok; i++) ok = !strcmp(str, s->enums[i]);
                if (!ok) {
                    char list[400];
                    size_t j = 0;
                    for (int i = 0; i < s->nenums && j + 40 < sizeof list; i++)
                        j += (size_t)snprintf(list + j, sizeof list - j, "%s%s", i ? ", " : "", s->enums[i]);
                    const char *hint = suggest(str, s->enums, sizeof(char *), s->nenums);
                    char msg[480];
                    snprintf(msg, sizeof msg, "expected one of %s%s%s%s", list, hint ? " (did you mean " : "",
                             hint ? hint : "", hint ? "?)" : "");
                    issue(e, e->mode == MODE_STRICT, "%s%s", msg, NULL);
                }
            }
            put_string(e, str, n);
        }
        return;
    case PC_INTEGER:
        if (t != LUA_TNUMBER) break;
        if (!lua_isinteger(L, idx)) {
            double d = (double)lua_tonumber(L, idx);
            if (d != floor(d) || isinf(d)) {
                if (e->mode) issue(e, 1, "expected an integer, got a number with a fraction%s%s", NULL, NULL);
            }
        }
        if (!put_number(e, L, idx, 1)) {
            issue(e, 1, "NaN and infinity cannot be sent as JSON%s%s", NULL, NULL);
            PUTS(e, "null");
        }
        return;
    case PC_NUMBER:
        if (t != LUA_TNUMBER) break;
        if (!put_number(e, L, idx, 0)) {
            issue(e, 1, "NaN and infinity cannot be sent as JSON%s%s", NULL, NULL);
            PUTS(e, "null");
        }
        return;
    case PC_BOOLEAN:
        if (t != LUA_TBOOLEAN) break;
        if (lua_toboolean(L, idx)) PUTS(e, "true"); else PUTS(e, "false");
        return;
    case PC_ARRAY:
        if (t != LUA_TTABLE) break;
        encode_array(e, idx, s->items, depth);
        return;
    case PC_OBJECT:
    case PC_MAP:
    case PC_ANYOBJECT:
        if (t != LUA_TTABLE) break;
        /* The schema's shape wins, except for a free-form object that is in
         * fact an array (a sequence, or a table marked as one). */
        if (s->kind == PC_ANYOBJECT && is_array(L, idx)) {
            encode_array(e, idx, 0, depth);
            return;
        }
        encode_object(e, idx, schema, depth);
        return;
    case PC_ANY:
        switch (t) {
        case LUA_TSTRING: {
            size_t n;
            const char *str = lua_tolstring(L, idx, &n);
            if (!utf8_valid(e, "string", str, n)) {
                PUTS(e, "null");
            } else {
                put_string(e, str, n);
            }
            return;
        }
        case LUA_TNUMBER:
            if (!put_number(e, L, idx, 0)) {
                issue(e, 1, "NaN and infinity cannot be sent as JSON%s%s", NULL, NULL);
                PUTS(e, "null");
            }
            return;
        case LUA_TBOOLEAN:
            if (lua_toboolean(L, idx)) PUTS(e, "true"); else PUTS(e, "false");
            return;
        case LUA_TTABLE:
            if (is_array(L, idx)) encode_array(e, idx, 0, depth);
            else encode_object(e, idx, 0, depth); /* schema 0: free-form */
            return;
        default:
            issue(e, 1, "a %s cannot be sent as JSON%s", lua_kind(L, idx), NULL);
            PUTS(e, "null");
            return;
        }
    }
    /* A type mismatch: report it; with validation off, send the value as it is. */
    type_error(e, idx, kind_name(s->kind));
    if (e->mode) {
        PUTS(e, "null");
    } else if (t == LUA_TTABLE || t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
        encode_any(e, idx, depth + 1);
    } else {
        PUTS(e, "null");
    }
}

/* Every value goes through here: the depth limit, the stack check and cycle
 * detection guard all recursion over the caller's tables. */
static void encode(enc *e, int idx, int schema, int depth) {
    lua_State *L = e->L;
    if (depth > MAX_DEPTH || !lua_checkstack(L, STACK_PER_LEVEL)) {
        issue(e, 1, "nested more than 64 levels deep%s%s", NULL, NULL);
        PUTS(e, "null");
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE) {
        encode_value(e, idx, schema, depth);
        return;
    }
    lua_pushvalue(L, idx);
    lua_rawget(L, e->visiting);
    int seen = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (seen) {
        issue(e, 1, "a cycle: this table contains itself%s%s", NULL, NULL);
        PUTS(e, "null");
        return;
    }
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, e->visiting);
    encode_value(e, idx, schema, depth);
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, e->visiting);
}

/* ---- Lua API -------------------------------------------------------------- */

/* The operation of a handle (core.operations()[name].handle: its index + 1),
 * raising for anything else: the encoders never look a name up. */
const pc_operation *pc_check_op(lua_State *L, int idx) {
    int isnum;
    lua_Integer h = lua_tointegerx(L, idx, &isnum);
    if (!isnum || h < 1 || h > pc_noperations)
        luaL_argerror(L, idx, "an operation handle expected (core.operations()[name].handle)");
    return &pc_operations[h - 1];
}

static int check_mode(lua_State *L, int idx) {
    if (lua_isnoneornil(L, idx)) return MODE_LENIENT;
    if (lua_type(L, idx) == LUA_TBOOLEAN) return lua_toboolean(L, idx) ? MODE_LENIENT : MODE_OFF;
    const char *m = luaL_checkstring(L, idx);
    if (!strcmp(m, "lenient")) return MODE_LENIENT;
    if (!strcmp(m, "strict")) return MODE_STRICT;
    return luaL_argerror(L, idx, "mode must be \"lenient\", \"strict\" or false");
}

/* Push a validation error object from the issue list at errs. */
static void push_validation_error(lua_State *L, int errs, int nerrs, const char *what) {
    pc_push_error(L, "validation", 0);
    lua_rawgeti(L, errs, 1);
    lua_getfield(L, -1, "message");
    if (nerrs > 1)
        lua_pushfstring(L, "invalid %s: %s (and %d more)", what, lua_tostring(L, -1), nerrs - 1);
    else
        lua_pushfstring(L, "invalid %s: %s", what, lua_tostring(L, -1));
    lua_setfield(L, -4, "message");
    lua_pop(L, 2);
    lua_pushliteral(L, "invalid.value");
    lua_setfield(L, -2, "code");
    lua_pushvalue(L, errs);
    lua_setfield(L, -2, "details");
    lua_pushliteral(L, "not_sent");
    lua_setfield(L, -2, "outcome");
}

static void enc_init(lua_State *L, enc *e, int mode) {
    memset(e, 0, sizeof *e);
    e->L = L;
    e->mode = mode;
    e->out = pc_buf_new(L);
    lua_newtable(L);
    e->errs = lua_gettop(L);
    lua_newtable(L);
    e->warns = lua_gettop(L);
    lua_newtable(L);
    e->visiting = lua_gettop(L);
}

/* The result at the top of the stack and the warnings as plain messages
 * (result, warnings), or nil and the validation error naming every issue. */
static int finish(lua_State *L, enc *e, const char *what) {
    if (e->nerrs > 0) {
        lua_pushnil(L);
        push_validation_error(L, e->errs, e->nerrs, what);
        return 2;
    }
    lua_createtable(L, e->nwarns, 0);
    for (int i = 1; i <= e->nwarns; i++) {
        lua_rawgeti(L, e->warns, i);
        lua_getfield(L, -1, "message");
        lua_rawseti(L, -3, i);
        lua_pop(L, 1);
    }
    return 2;
}

/* core.encode_body(op_handle, value, mode) -> json, warnings | nil, err */
static int l_encode_body(lua_State *L) {
    const pc_operation *op = pc_check_op(L, 1);
    if (op->body_schema < 0) return luaL_argerror(L, 1, "operation takes no body");
    int mode = check_mode(L, 3);
    lua_settop(L, 3);
    enc e;
    enc_init(L, &e, mode);
    strcpy(e.path, "body");
    e.plen = 4;
    if (lua_isnil(L, 2)) {
        if (mode) issue(&e, 1, "a request body is required%s%s", NULL, NULL);
        PUTS(&e, "null");
    } else {
        encode(&e, 2, op->body_schema, 0);
    }
    if (e.oom) return luaL_error(L, "purecloud: out of memory");
    pc_buf_push(L, e.out);
    return finish(L, &e, "request body");
}

/* snake_case -> camelCase into out: how an option the contract does not know
 * (a parameter the service added since 2016) is named on the wire. */
static void camel(const char *k, char *out, size_t cap) {
    size_t j = 0;
    int up = 0;
    for (; *k && j + 1 < cap; k++) {
        if (*k == '_') {
            up = j > 0;
            continue;
        }
        out[j++] = (up && *k >= 'a' && *k <= 'z') ? (char)(*k - 32) : *k;
        up = 0;
    }
    out[j] = '\0';
}

/* One query option's value at v into out[p->name] (or an issue). */
static void query_value(enc *e, const pc_param *p, int v, int out) {
    lua_State *L = e->L;
    const pc_schema *s = &pc_schemas[p->schema];
    int mode = e->mode;
    if (s->kind == PC_ARRAY) {
        /* collectionFormat multi: a string or a list of strings. */
        if (lua_type(L, v) == LUA_TSTRING) {
            lua_createtable(L, 1, 0);
            lua_pushvalue(L, v);
            lua_rawseti(L, -2, 1);
        } else if (lua_type(L, v) == LUA_TTABLE && seq_len(L, v) >= 0) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, v);
            lua_createtable(L, (int)n, 0);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, v, i);
                if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER && mode)
                    issue(e, 1, "expected a list of strings%s%s", NULL, NULL);
                lua_rawseti(L, -2, i);
            }
        } else {
            if (mode) issue(e, 1, "expected a string or a list of strings, got %s%s", lua_kind(L, v), NULL);
            lua_pushvalue(L, v);
        }
        lua_setfield(L, out, p->name);
        return;
    }
    int ok = 1;
    if (s->kind == PC_INTEGER) {
        ok = lua_type(L, v) == LUA_TNUMBER;
        if (ok && !lua_isinteger(L, v)) {
            /* NaN, infinity and fractions have no meaning as a count, whatever the mode. */
            double d = (double)lua_tonumber(L, v);
            if (d != d || isinf(d) || d != floor(d)) {
                issue(e, 1, "expected a whole number, got %s%s", d != d ? "NaN" : isinf(d) ? "infinity" : "a fraction",
                      NULL);
                return;
            }
        }
        if (ok && mode && (p->min < p->max)) {
            double d = (double)lua_tonumber(L, v);
            if (d < p->min || d > p->max) {
                char range[96];
                snprintf(range, sizeof range, "from %.0f to %.0f", p->min, p->max);
                issue(e, 1, "out of range: must be %s%s", range, NULL);
            }
        }
    } else if (s->kind == PC_BOOLEAN) {
        ok = lua_type(L, v) == LUA_TBOOLEAN;
    } else if (s->kind == PC_STRING) {
        ok = lua_type(L, v) == LUA_TSTRING;
    }
    if (!ok && mode) issue(e, 1, "expected %s, got %s", kind_name(s->kind), lua_kind(L, v));
    if (ok && s->kind == PC_STRING && s->nenums && mode) {
        const char *str = lua_tostring(L, v);
        int found = 0;
        for (int i = 0; i < s->nenums && !found; i++) found = !strcmp(str, s->enums[i]);
        if (!found) {
            const char *hint = suggest(str, s->enums, sizeof(char *), s->nenums);
            issue(e, e->mode == MODE_STRICT, "value not in the contract's enum%s%s", hint ? " (did you mean " : "",
                  hint ? hint : "");
        }
    }
    lua_pushvalue(L, v);
    lua_setfield(L, out, p->name);
}

/* core.encode_query(op_handle, opts, mode) -> { contractName = value }, warnings | nil, err
 * opts holds the operation's optional query parameters by their snake_case
 * names. An option the contract does not know is sent camelCased with a
 * warning (and a "did you mean") in lenient mode, refused in strict mode,
 * sent silently with validation off; a key that is not a string raises. */
static int l_encode_query(lua_State *L) {
    const pc_operation *op = pc_check_op(L, 1);
    int mode = check_mode(L, 3);
    lua_settop(L, 3);
    if (!lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    lua_newtable(L);
    int out = lua_gettop(L);
    enc e;
    enc_init(L, &e, mode);
    if (!lua_isnil(L, 2)) {
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            int v = lua_gettop(L);
            if (lua_type(L, v - 1) != LUA_TSTRING)
                return luaL_error(L, "option keys must be strings (got a %s key)", lua_typename(L, lua_type(L, v - 1)));
            const char *k = lua_tostring(L, v - 1);
            const pc_param *p = NULL;
            const char *cands[32];
            int ncands = 0;
            for (int i = 0; i < op->nparams; i++) {
                const pc_param *q = &op->params[i];
                if (q->where != PC_IN_QUERY || q->required) continue;
                if (!strcmp(q->lua_name, k)) p = q;
                if (ncands < 32) cands[ncands++] = q->lua_name;
            }
            e.plen = (size_t)snprintf(e.path, sizeof e.path, "%s", k);
            if (e.plen >= sizeof e.path) e.plen = sizeof e.path - 1;
            if (p) {
                query_value(&e, p, v, out);
            } else {
                if (mode) {
                    const char *hint = ncands ? suggest(k, cands, sizeof(char *), ncands) : NULL;
                    issue(&e, mode == MODE_STRICT, hint ? "unknown option (did you mean %s?)%s"
                                                        : "unknown option: not in the contract%s%s",
                          hint, NULL);
                }
                char wire[128];
                camel(k, wire, sizeof wire);
                pc_param extra = {wire, k, PC_IN_QUERY, 0, 0, 0, 0, 0};
                query_value(&e, &extra, v, out);
            }
            lua_settop(L, v - 1);
        }
    }
    lua_pushvalue(L, out);
    return finish(L, &e, "options");
}

/* core.encode_json(value) -> json | nil, err: any Lua value as JSON by its
 * Lua types (client:request bodies), with the same cycle, depth, NaN and
 * UTF-8 checks as the schema-driven encoder. */
static int l_encode_json(lua_State *L) {
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    enc e;
    enc_init(L, &e, MODE_LENIENT);
    strcpy(e.path, "body");
    e.plen = 4;
    encode(&e, 1, 0, 0);
    if (e.oom) return luaL_error(L, "purecloud: out of memory");
    if (e.nerrs > 0) {
        lua_pushnil(L);
        push_validation_error(L, e.errs, e.nerrs, "request body");
        return 2;
    }
    pc_buf_push(L, e.out);
    return 1;
}

/* core.operations() -> { name = { method, path, safe, body, params = { {name, lua_name, in, required}… } } }
 * The generated operation table, the only copy: the Lua layer builds the
 * 36 functions' argument handling from it. */
/* t[k] = v on the table at the top of the stack. */
static void set_str(lua_State *L, const char *k, const char *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}
static void set_int(lua_State *L, const char *k, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}
static void set_bool(lua_State *L, const char *k, int v) {
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* One parameter as Lua sees it: { name, lua_name, in, required, multi }. */
static void push_param(lua_State *L, const pc_param *p) {
    static const char *const where[] = {"path", "query", "body"};
    lua_createtable(L, 0, 5);
    set_str(L, "name", p->name);
    set_str(L, "lua_name", p->lua_name);
    set_str(L, "in", where[p->where]);
    set_bool(L, "required", p->required);
    set_bool(L, "multi", p->multi);
}

/* One operation's table, as Lua sees it: { handle, name, class, alias,
 * method, path, safe, body, deprecated, preview, seed_body_optional, npos,
 * max_args, prepared, params = { … }, positional = { … }, optional = {
 * [lua_name] = … }, paging = { kind, pages, each, items, follow } | nil }:
 * nothing left to compute (positional and optional hold the same tables as
 * params). */
static void push_operation(lua_State *L, int i) {
    const pc_operation *op = &pc_operations[i];
    lua_createtable(L, 0, 17);
    set_int(L, "handle", i + 1);
    set_str(L, "name", op->name);
    set_str(L, "class", op->class);
    if (op->alias) set_str(L, "alias", op->alias);
    set_str(L, "method", op->method);
    set_str(L, "path", op->path);
    set_bool(L, "safe", op->safe);
    set_bool(L, "body", op->body_schema >= 0);
    set_bool(L, "deprecated", op->deprecated);
    set_bool(L, "preview", op->preview);
    set_bool(L, "seed_body_optional", op->seed_body_optional);
    set_int(L, "npos", op->npos);
    set_int(L, "max_args", op->max_args);
    set_bool(L, "prepared", op->prepared);
    if (op->paging) {
        lua_createtable(L, 0, 5);
        set_str(L, "kind", op->paging);
        set_str(L, "pages", op->paging_pages);
        set_str(L, "each", op->paging_each);
        set_str(L, "items", op->paging_items);
        if (op->paging_follow > 0) set_str(L, "follow", pc_operations[op->paging_follow - 1].name);
        lua_setfield(L, -2, "paging");
    }
    int t = lua_gettop(L);
    lua_createtable(L, op->nparams, 0);            /* params */
    lua_createtable(L, op->npos, 0);               /* positional */
    lua_createtable(L, 0, op->nparams - op->npos); /* optional */
    for (int j = 0; j < op->nparams; j++) {
        push_param(L, &op->params[j]);
        lua_pushvalue(L, -1);
        lua_rawseti(L, t + 1, j + 1);
        if (j < op->npos) {
            lua_rawseti(L, t + 2, j + 1);
        } else {
            lua_setfield(L, t + 3, op->params[j].lua_name);
        }
    }
    lua_setfield(L, t, "optional");
    lua_setfield(L, t, "positional");
    lua_setfield(L, t, "params");
}

/* The index of the operation named `name` (its name, sorted: a binary
 * search; or its seed alias), or -1. */
static int find_operation(const char *name) {
    int lo = 0, hi = pc_noperations - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(name, pc_operations[mid].name);
        if (c == 0) return mid;
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    for (int i = 0; i < pc_noperations; i++)
        if (pc_operations[i].alias && !strcmp(name, pc_operations[i].alias)) return i;
    return -1;
}

/* core.operation(name) -> the operation's table (by its name or its seed
 * alias), or nil: one operation at a time, so a process holds only the
 * operations it uses (purecloud.operations keeps each it was asked for). */
static int l_operation(lua_State *L) {
    int i = find_operation(luaL_checkstring(L, 1));
    if (i < 0) return 0;
    push_operation(L, i);
    return 1;
}

/* core.operations() -> { [name] = op, [alias] = the same op }: every
 * operation at once (the command line's list, the specs). */
static int l_operations(lua_State *L) {
    lua_createtable(L, 0, pc_noperations + 40);
    int all = lua_gettop(L);
    for (int i = 0; i < pc_noperations; i++) {
        push_operation(L, i);
        if (pc_operations[i].alias) {
            lua_pushvalue(L, -1);
            lua_setfield(L, all, pc_operations[i].alias);
        }
        lua_setfield(L, all, pc_operations[i].name);
    }
    return 1;
}

/* core.operation_index(class) -> { names = { [name] = true, [alias] = true },
 * helpers = { [helper] = operation name } }: what a bound table of one API
 * class answers to, without building any operation's table. */
static int l_operation_index(lua_State *L) {
    const char *class = luaL_checkstring(L, 1);
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    lua_newtable(L);
    for (int i = 0; i < pc_noperations; i++) {
        const pc_operation *op = &pc_operations[i];
        if (strcmp(op->class, class)) continue;
        set_bool(L, op->name, 1);
        if (op->alias) set_bool(L, op->alias, 1);
        if (op->paging) {
            lua_pushstring(L, op->name);
            lua_setfield(L, -3, op->paging_pages); /* (helpers, under names) */
            lua_pushstring(L, op->name);
            lua_setfield(L, -3, op->paging_each);
        }
    }
    lua_setfield(L, -3, "names");
    lua_setfield(L, -2, "helpers");
    return 1;
}

int pc_open_models(lua_State *L) {
    static const luaL_Reg fns[] = {{"encode_body", l_encode_body}, {"encode_query", l_encode_query},
                                   {"encode_json", l_encode_json}, {"operations", l_operations},
                                   {"operation", l_operation}, {"operation_index", l_operation_index},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    return 0;
}
