/* A strict, one-pass JSON decoder: bytes to final Lua values.
 *
 * Grammar: RFC 8259 exactly — no NaN/Infinity/hex, no leading zeros or '+',
 * no trailing commas, no comments, no raw control characters in strings, only
 * whitespace (SP HT LF CR) around the one value; strings must be valid UTF-8
 * (no overlongs, no encoded surrogates, nothing above U+10FFFF).
 * Values:
 *   - object members whose value is null are absent; a repeated key: the
 *     last one wins (so {"a":1,"a":null} has no "a");
 *   - null inside an array (and a top-level null) is core.null, a NULL light
 *     userdata — the same value as cjson.null, so positions hold (and with
 *     keep_nulls, for the trace log's redaction, an object member's too);
 *   - an empty array is an empty table with the metatable core.array_mt, so
 *     that an encoder can tell [] from {} (the only ambiguous shape: a
 *     non-empty array is a sequence, a non-empty object has string keys);
 *     it costs one lua_setmetatable per empty array, nothing elsewhere;
 *   - a number written as an integer that fits lua_Integer is an integer
 *     (Lua 5.3+); any other number is a correctly rounded double (Clinger's
 *     fast path, else strtod on a copy using the C library's decimal point),
 *     and an integral double within +-2^53 is made an integer, as the old
 *     cjson post-pass did ("3.0" and "1e3" read as 3 and 1000). A number that
 *     overflows a double (1e400) is an error: no inf ever reaches a caller;
 *   - \u escapes become UTF-8; surrogate pairs are joined; a lone surrogate
 *     becomes U+FFFD (the replacement character), not an error;
 *   - containers nested deeper than PC_JSON_MAX_DEPTH are an error.
 * Memory: no malloc. Elements are parsed onto the Lua stack and moved into a
 * table created with its final size (flushed in chunks when the stack is
 * short); escaped strings are unescaped in one pass into a C stack buffer,
 * or, when longer, into a growing scratch userdata kept in a stack slot — so
 * an out-of-memory raise never leaves C memory unowned.
 * Speed: strings come through the string cache (json/strcache.h). Objects are
 * presized with the member count of the last object under the same key (the
 * cache slot of the key), else of the last object at the same depth — also
 * remembered across decodes, so the second answer of a kind is built without
 * a single rehash. Memory: about 33 KB plus at most 2^CACHE_BITS strings of
 * at most CACHE_MAXLEN bytes per Lua state. A decode never runs Lua code, and
 * one that a finalizer starts meanwhile only changes entries consistently. */
#include <float.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pc.h"
#include "json/json.h"
#include "json/strcache.h"
#include "text.h"

#define CHUNK 4096  /* array elements held on the stack before a flush */
#define HINT_MAX 64 /* largest presize taken from a previous object */
typedef struct {
    lua_State *L;
    const unsigned char *start, *p, *end;
    char *err;
    size_t errlen;
    int depth;
    int scratch;        /* stack index of the scratch slot (nil or userdata) */
    unsigned char *sc;  /* the scratch userdata's memory */
    size_t sclen;
    strcache cache;     /* the string cache, and the presize hints it keeps */
    int keep_nulls;     /* an object member's null is core.null, not absent */
    unsigned char sbuf[512];
} dec;

/* 1 for bytes that stop the plain-string scan: controls, '"', '\\', >= 0x80. */
static const unsigned char stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int fail(dec *d, const char *what, const unsigned char *at) {
    size_t off = (size_t)(at - d->start);
    if (at < d->end) {
        unsigned c = *at;
        if (c >= 0x21 && c < 0x7f)
            snprintf(d->err, d->errlen, "%s at byte offset %zu ('%c')", what, off, (int)c);
        else
            snprintf(d->err, d->errlen, "%s at byte offset %zu (byte 0x%02X)", what, off, c);
    } else {
        snprintf(d->err, d->errlen, "%s at byte offset %zu (end of input)", what, off);
    }
    return 0;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static int ensure(dec *d, int n) {
    if (lua_checkstack(d->L, n)) return 1;
    return fail(d, "JSON too large or too deeply nested for the Lua stack", d->p);
}

/* Memory for n bytes: the C stack buffer, else the scratch userdata (grown). */
static unsigned char *scratch(dec *d, size_t n) {
    if (n <= sizeof d->sbuf) return d->sbuf;
    if (n > d->sclen) {
        size_t cap = d->sclen ? d->sclen : 4096;
        while (cap < n) cap = cap > ((size_t)-1) / 2 ? n : cap * 2;
        d->sc = lua_newuserdata(d->L, cap); /* may raise: nothing C-owned */
        d->sclen = cap;
        lua_replace(d->L, d->scratch);
    }
    return d->sc;
}

static int hex4(const unsigned char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], x;
        if (c >= '0' && c <= '9') x = c - '0';
        else if (c >= 'a' && c <= 'f') x = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') x = c - 'A' + 10;
        else return 0;
        v = v << 4 | x;
    }
    *out = v;
    return 1;
}

static unsigned char *put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return o;
}

#define ONES ((uint64_t)0x0101010101010101ULL)
#define HIGHS ((uint64_t)0x8080808080808080ULL)
/* Nonzero when any of the 8 bytes is < 0x20, '"', '\\' or >= 0x80 (the
 * "has a byte less than n" and "has a zero byte" word tricks, exact as tests). */
static inline uint64_t special8(uint64_t w) {
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | w) & HIGHS;
}

/* The index of the first byte flagged in m, a nonzero special8 mask of the
 * word at p: the word tricks can only flag a byte wrongly above (after) a
 * truly flagged one, so the lowest flag is exact. */
static inline unsigned first_flagged(uint64_t m, const unsigned char *p) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)p;
    return (unsigned)__builtin_ctzll(m) >> 3;
#else
    unsigned k = 0;
    (void)m;
    while (!stop[p[k]]) k++;
    return k;
#endif
}

/* A failure inside an escaped string: the text says "unterminated string"
 * when no closing quote follows (skipping escaped characters), as that is
 * the first thing wrong with it; else what the scan found, where. */
static int string_fail(dec *d, const unsigned char *from, const char *what, const unsigned char *at) {
    const unsigned char *q = from, *end = d->end;
    while (q < end && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= end) return fail(d, "unterminated string", d->p);
    return fail(d, what, at);
}

/* More room for the unescaped output [out, o): at least 16 bytes free after
 * the return. The new buffer is a scratch userdata; the old one stays
 * anchored (C stack buffer or the scratch slot) until it is copied. */
static unsigned char *grow_out(dec *d, unsigned char **out, unsigned char *o, unsigned char **oend) {
    size_t used = (size_t)(o - *out), cap = (size_t)(*oend - *out) * 2;
    unsigned char *nb = lua_newuserdata(d->L, cap); /* may raise: nothing C-owned */
    memcpy(nb, *out, used);
    lua_replace(d->L, d->scratch);
    d->sc = nb;
    d->sclen = cap;
    *out = nb;
    *oend = nb + cap;
    return nb + used;
}

/* The rest of a string with escapes: [d->p + 1, from) is plain text already
 * checked, from is the first backslash. One pass: plain runs are copied 8
 * bytes at a time (a whole word is stored, the output pointer advances to
 * the first special byte), escapes are decoded as they come. */
static int string_escaped(dec *d, const unsigned char *from) {
    const unsigned char *s = d->p + 1, *p = from, *end = d->end;
    size_t plain = (size_t)(from - s);
    unsigned char *out = scratch(d, plain + 64), *o, *oend;
    oend = out + (out == d->sbuf ? sizeof d->sbuf : d->sclen);
    memcpy(out, s, plain);
    o = out + plain;
    for (;;) {
        if (oend - o < 16) o = grow_out(d, &out, o, &oend);
        if (end - p >= 8) {
            uint64_t w, m;
            memcpy(&w, p, 8);
            memcpy(o, &w, 8);
            if ((m = special8(w)) == 0) {
                o += 8;
                p += 8;
                continue;
            }
            unsigned k = first_flagged(m, p);
            o += k;
            p += k;
        } else {
            while (p < end && !stop[*p]) *o++ = *p++; /* < 8 bytes: room for them */
            if (p >= end) return fail(d, "unterminated string", d->p);
        }
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') {
            unsigned cp;
            if (end - p < 2) return fail(d, "unterminated string", d->p);
            switch (p[1]) {
            case '"': *o++ = '"'; p += 2; continue;
            case '\\': *o++ = '\\'; p += 2; continue;
            case '/': *o++ = '/'; p += 2; continue;
            case 'b': *o++ = '\b'; p += 2; continue;
            case 'f': *o++ = '\f'; p += 2; continue;
            case 'n': *o++ = '\n'; p += 2; continue;
            case 'r': *o++ = '\r'; p += 2; continue;
            case 't': *o++ = '\t'; p += 2; continue;
            case 'u':
                /* four hex digits: never a quote or backslash, so this
                 * agrees with the terminator scan of string_fail */
                if (end - p < 6 || !hex4(p + 2, &cp)) return string_fail(d, from, "invalid \\u escape", p);
                p += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) && lo >= 0xDC00 &&
                        lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    } else {
                        cp = 0xFFFD; /* lone high surrogate */
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    cp = 0xFFFD; /* lone low surrogate */
                }
                o = put_utf8(o, cp);
                continue;
            default:
                return string_fail(d, from, "invalid escape in string", p);
            }
        } else if (c < 0x20) {
            return string_fail(d, from, "control character in string", p);
        } else {
            size_t n = pc_utf8_seq(p, end);
            if (!n) return string_fail(d, from, "invalid UTF-8 in string", p);
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    strcache_push(&d->cache, out, (size_t)(o - out));
    d->p = p + 1;
    return 1;
}


/* A string at d->p (the opening quote): pushes it. */
static int parse_string(dec *d) {
    const unsigned char *p = d->p + 1, *end = d->end;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w, m;
            memcpy(&w, p, 8);
            if ((m = special8(w)) != 0) {
                p += first_flagged(m, p);
                goto special;
            }
            p += 8;
        }
        while (p < end && !stop[*p]) p++;
        if (p >= end) return fail(d, "unterminated string", d->p);
    special:;
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') return string_escaped(d, p);
        if (c < 0x20) return fail(d, "control character in string", p);
        size_t n = pc_utf8_seq(p, end);
        if (!n) return fail(d, "invalid UTF-8 in string", p);
        p += n;
    }
    strcache_push(&d->cache, d->p + 1, (size_t)(p - d->p - 1));
    d->p = p + 1;
    return 1;
}

#if FLT_EVAL_METHOD == 0
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#endif

/* strtod on a NUL-terminated copy of [s, e), with the C library's current
 * decimal point in place of '.', so a host's setlocale cannot change it. */
static int slow_double(dec *d, const unsigned char *s, const unsigned char *e, double *out) {
    const char *dp = ".";
    size_t dplen = 1;
    if (memchr(s, '.', (size_t)(e - s))) {
        const struct lconv *lc = localeconv();
        if (lc && lc->decimal_point && lc->decimal_point[0]) dp = lc->decimal_point;
        dplen = strlen(dp);
    }
    size_t n = (size_t)(e - s);
    unsigned char *buf = scratch(d, n + dplen + 1), *o = buf;
    for (const unsigned char *p = s; p < e; p++) {
        if (*p == '.') {
            memcpy(o, dp, dplen);
            o += dplen;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    char *stop_at;
    *out = strtod((const char *)buf, &stop_at);
    return stop_at == (char *)o;
}

static void push_double(lua_State *L, double v) {
#if LUA_VERSION_NUM >= 503
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(lua_Integer)v) {
        lua_pushinteger(L, (lua_Integer)v);
        return;
    }
#endif
    lua_pushnumber(L, (lua_Number)v);
}

static int parse_number(dec *d) {
    const unsigned char *s = d->p, *p = s, *end = d->end;
    int neg = 0, exact = 1;
    uint64_t m = 0;
    int ndig = 0;    /* significant digits accumulated into m */
    long exp10 = 0;  /* value = m * 10^exp10 (when exact) */
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return fail(d, "invalid number", p);
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') return fail(d, "invalid number (leading zero)", s);
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (ndig < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                ndig++;
            } else {
                exp10++;
                if (*p != '0') exact = 0;
            }
            p++;
        }
    }
    int isint = 1;
    if (p < end && *p == '.') {
        isint = 0;
        p++;
        if (p >= end || *p < '0' || *p > '9') return fail(d, "invalid number (digit expected)", p);
        while (p < end && *p >= '0' && *p <= '9') {
            if (m == 0 && *p == '0') {
                exp10--;
            } else if (ndig < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                ndig++;
                exp10--;
            } else if (*p != '0') {
                exact = 0;
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        isint = 0;
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9') return fail(d, "invalid number (exponent digit expected)", p);
        long e = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    d->p = p;
    if (isint && exp10 == 0) { /* at most 19 digits, all in m */
#if LUA_VERSION_NUM >= 503
        if (m <= (uint64_t)LUA_MAXINTEGER) {
            lua_pushinteger(d->L, neg ? -(lua_Integer)m : (lua_Integer)m);
            return 1;
        }
        if (neg && m == (uint64_t)LUA_MAXINTEGER + 1) {
            lua_pushinteger(d->L, LUA_MININTEGER);
            return 1;
        }
#else
        double v = (double)m; /* correctly rounded, as strtod would */
        lua_pushnumber(d->L, neg ? -v : v);
        return 1;
#endif
    }
    double v;
#if FLT_EVAL_METHOD == 0
    if (exact && m <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
        v = (double)m;
        v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
        if (neg) v = -v;
    } else
#endif
    if (!slow_double(d, s, p, &v)) {
        return fail(d, "invalid number", s);
    }
    if (v > DBL_MAX || v < -DBL_MAX) return fail(d, "number out of range (overflows a double)", s);
    push_double(d->L, v);
    return 1;
}

static int parse_value(dec *d, int key);

/* Move the `pending` values above the table slot base + 1 into the array
 * table, creating it there first (it holds a nil placeholder until then). */
static void flush_array(lua_State *L, int base, int *has_table, lua_Integer *count, int pending) {
    if (!*has_table) {
        lua_createtable(L, pending, 0);
        lua_replace(L, base + 1);
        *has_table = 1;
    }
    for (int i = pending; i >= 1; i--) lua_rawseti(L, base + 1, *count + i);
    *count += pending;
}

static int parse_array(dec *d, int key) {
    lua_State *L = d->L;
    if (++d->depth > PC_JSON_MAX_DEPTH) return fail(d, "JSON nested deeper than 256 levels", d->p);
    int base = lua_gettop(L), has_table = 0, pending = 0;
    lua_Integer count = 0;
    d->p = skip_ws(d->p + 1, d->end);
    if (d->p < d->end && *d->p == ']') { /* [] : uses 2 slots, which every caller leaves room for */
        d->p++;
        lua_createtable(L, 0, 0);
        lua_rawgeti(L, d->cache.anchor, ANCHOR_MT);
        lua_setmetatable(L, -2);
        d->depth--;
        return 1;
    }
    lua_pushnil(L); /* the table's slot (room reserved by the caller) */
    for (;;) {
        /* Room for 32 more elements plus 8 for a nested value or a flush. */
        if ((pending & 31) == 0 && !lua_checkstack(L, 40)) {
            flush_array(L, base, &has_table, &count, pending);
            pending = 0;
            if (!ensure(d, 40)) return 0;
        }
        if (d->p >= d->end) return fail(d, "unexpected end of input in array", d->p);
        if (*d->p == 'n') {
            if (d->end - d->p < 4 || memcmp(d->p, "null", 4) != 0) return fail(d, "invalid literal", d->p);
            d->p += 4;
            lua_pushlightuserdata(L, NULL);
        } else if (!parse_value(d, key)) {
            return 0;
        }
        if (++pending == CHUNK) {
            flush_array(L, base, &has_table, &count, pending);
            pending = 0;
        }
        const unsigned char *p = skip_ws(d->p, d->end);
        if (p < d->end && *p == ',') {
            d->p = skip_ws(p + 1, d->end);
            continue;
        }
        if (p < d->end && *p == ']') {
            d->p = p + 1;
            break;
        }
        return fail(d, "expected ',' or ']' in array", p);
    }
    if (pending || !has_table) flush_array(L, base, &has_table, &count, pending);
    d->depth--;
    return 1;
}

/* Objects are built in place: a table presized with the member count of the
 * previous object under the same key, else at the same depth (arrays of
 * records repeat their shape; capped, so a hostile text cannot make every
 * small object large), then one
 * rawset per member in order — a repeated key's last value wins, and a null
 * member sets nil, which deletes an earlier value of the same key. */
static int parse_object(dec *d, int key) {
    lua_State *L = d->L;
    if (++d->depth > PC_JSON_MAX_DEPTH) return fail(d, "JSON nested deeper than 256 levels", d->p);
    if (!ensure(d, 4)) return 0; /* table, key, value, and a nested container's slot */
    int members = 0;
    d->p = skip_ws(d->p + 1, d->end);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        lua_createtable(L, 0, 0);
        d->depth--;
        return 1;
    }
    int hint = key >= 0 && d->cache.k->e[key].khint ? d->cache.k->e[key].khint - 1 : d->cache.k->hint[d->depth];
    lua_createtable(L, 0, hint);
    int t = lua_gettop(L);
    for (;;) {
        if (d->p >= d->end || *d->p != '"') return fail(d, "expected a string key in object", d->p);
        if (!parse_string(d)) return 0;
        int slot = d->cache.slot;
        const unsigned char *p = skip_ws(d->p, d->end);
        if (p >= d->end || *p != ':') return fail(d, "expected ':' after object key", p);
        d->p = p = skip_ws(p + 1, d->end);
        if (p < d->end && *p == 'n') {
            if (d->end - p < 4 || memcmp(p, "null", 4) != 0) return fail(d, "invalid literal", p);
            d->p += 4;
            if (d->keep_nulls) lua_pushlightuserdata(L, NULL);
            else lua_pushnil(L);
        } else if (!parse_value(d, slot)) {
            return 0;
        }
        lua_rawset(L, t);
        members++;
        p = skip_ws(d->p, d->end);
        if (p < d->end && *p == ',') {
            d->p = skip_ws(p + 1, d->end);
            continue;
        }
        if (p < d->end && *p == '}') {
            d->p = p + 1;
            break;
        }
        return fail(d, "expected ',' or '}' in object", p);
    }
    d->cache.k->hint[d->depth] = members < HINT_MAX ? (unsigned short)members : HINT_MAX;
    if (key >= 0) d->cache.k->e[key].khint = (unsigned char)(d->cache.k->hint[d->depth] + 1);
    d->depth--;
    return 1;
}

/* The value at d->p (whitespace already skipped): pushes it (one slot). */
static int parse_value(dec *d, int key) {
    const unsigned char *p = d->p;
    if (p >= d->end) return fail(d, "unexpected end of input", p);
    switch (*p) {
    case '{': return parse_object(d, key);
    case '[': return parse_array(d, key);
    case '"': return parse_string(d);
    case 't':
        if (d->end - p < 4 || memcmp(p, "true", 4) != 0) break;
        d->p += 4;
        lua_pushboolean(d->L, 1);
        return 1;
    case 'f':
        if (d->end - p < 5 || memcmp(p, "false", 5) != 0) break;
        d->p += 5;
        lua_pushboolean(d->L, 0);
        return 1;
    case 'n':
        if (d->end - p < 4 || memcmp(p, "null", 4) != 0) break;
        d->p += 4;
        lua_pushlightuserdata(d->L, NULL);
        return 1;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return parse_number(d);
    }
    return fail(d, "unexpected character", p);
}

/* Push core.array_mt (created at its first use, in the registry under
 * PC_JSON_ARRAY_MT, so that every copy of this file in a process — core and
 * the curl transport — marks with the same table). */
void pc_json_push_array_mt(lua_State *L) {
    if (luaL_newmetatable(L, PC_JSON_ARRAY_MT)) {
        lua_pushliteral(L, PC_JSON_ARRAY_MT);
        lua_setfield(L, -2, "__name"); /* 5.3+ set it already; 5.1 and 5.2 do not */
        lua_pushliteral(L, "array");
        lua_setfield(L, -2, "__jsontype"); /* dkjson's marker: it encodes the table as [] too */
    }
}

int pc_json_is_array(lua_State *L, int idx) {
    if (!lua_getmetatable(L, idx)) return 0;
    luaL_getmetatable(L, PC_JSON_ARRAY_MT);
    int r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return r;
}

int pc_json_decode_opt(lua_State *L, const char *s, size_t n, int keep_nulls, char *err, size_t errlen) {
    dec d;
    d.L = L;
    d.start = d.p = (const unsigned char *)s;
    d.end = d.start + n;
    d.err = err;
    d.errlen = errlen;
    d.depth = 0;
    d.sc = NULL;
    d.sclen = 0;
    int base = lua_gettop(L);
    if (!lua_checkstack(L, 6)) {
        snprintf(err, errlen, "Lua stack exhausted before decoding JSON");
        return 0;
    }
    lua_pushnil(L); /* the scratch slot */
    d.scratch = base + 1;
    if (strcache_open(L, &d.cache, base + 2)) { /* (pushes its anchor: base + 2) */
        pc_json_push_array_mt(L);
        lua_rawseti(L, base + 2, ANCHOR_MT);
    }
    d.keep_nulls = keep_nulls;
    d.p = skip_ws(d.p, d.end);
    if (d.p >= d.end) {
        fail(&d, "empty JSON text", d.p);
        lua_settop(L, base);
        return 0;
    }
    if (!parse_value(&d, -1)) {
        lua_settop(L, base);
        return 0;
    }
    d.p = skip_ws(d.p, d.end);
    if (d.p < d.end) {
        fail(&d, "unexpected data after the JSON value", d.p);
        lua_settop(L, base);
        return 0;
    }
    lua_replace(L, base + 1); /* the value takes the scratch slot */
    lua_settop(L, base + 1);  /* and the cache's anchor leaves the stack */
    return 1;
}

int pc_json_decode(lua_State *L, const char *s, size_t n, char *err, size_t errlen) {
    return pc_json_decode_opt(L, s, n, 0, err, errlen);
}

/* core.json_decode(s [, keep_nulls]) -> value | nil, message
 * keep_nulls: an object member whose value is null is kept as core.null
 * (the trace log's redaction shows the body as it was sent). */
static int l_json_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int keep_nulls = lua_toboolean(L, 2);
    char msg[160];
    if (pc_json_decode_opt(L, s, n, keep_nulls, msg, sizeof msg)) return 1;
    lua_pushnil(L);
    lua_pushfstring(L, "invalid JSON: %s", msg);
    return 2;
}

/* core.array([t]) -> t (or a new table) with core.array_mt: encoded as a
 * JSON array even when empty, by core.encode_json, core.encode_body where
 * the schema leaves the shape open, and the command line's output. */
static int l_array(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    pc_json_push_array_mt(L);
    lua_setmetatable(L, 1);
    return 1;
}

void pc_open_json(lua_State *L) {
    static const luaL_Reg fns[] = {{"json_decode", l_json_decode}, {"array", l_array}, {NULL, NULL}};
    static const pc_json_api api = {pc_json_decode};
    luaL_setfuncs(L, fns, 0);
    lua_pushlightuserdata(L, (void *)&api);
    lua_setfield(L, LUA_REGISTRYINDEX, PC_JSON_API);
    pc_json_push_array_mt(L);
    lua_setfield(L, -2, "array_mt");
}
