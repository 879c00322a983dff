/* The JSON decoder's string cache: a performance unit of its own, used only
 * by csrc/json/decode.c (header-only, so its push stays inlined in the
 * decoder's string scan). Guarded by bench/json (the page decode) and by
 * fuzz/fuzz_decode.c, which builds the decoder with a 2-entry cache where
 * colliding strings are the rule.
 *
 * A string cache per Lua state, kept from one decode to the next (an
 * API returns the same key names and many of the same values on every call),
 * direct-mapped, for keys and strings up to CACHE_MAXLEN bytes — a hit is an
 * exact length + byte comparison and pushes the cached Lua string, skipping
 * Lua's interning (a short string) or an allocation and a copy (a long one:
 * the references an answer repeats, such as selfUri, enter at their second
 * sight, so a page of distinct long values does not churn the cache); the
 * strings are anchored in a table in the registry, the
 * C side (a userdata in that table) only keeps a copy of the bytes of those
 * up to INLINE_MAX long (so a hit on a key or an id reads one entry, not
 * the string) and pointers to the bytes of the others (Lua never moves a
 * string), so a raise leaks nothing and hostile input
 * (colliding or endless distinct strings) only costs misses.
 *
 * The same entries keep the decoder's presize hints (`khint`: the member
 * count of the last object under a key; `hint`: per depth), remembered
 * across decodes. Memory: about 33 KB plus at most 2^CACHE_BITS strings of
 * at most CACHE_MAXLEN bytes per Lua state. A push never runs Lua code, and
 * a finalizer that decodes meanwhile only changes entries consistently. */
#ifndef PC_JSON_STRCACHE_H
#define PC_JSON_STRCACHE_H
#include <stdint.h>
#include <string.h>
#include "pc.h"
#include "json/json.h"

/* (#ifndef: fuzz/fuzz_decode.c also builds a copy with a 2-entry cache
 * used for every text, where colliding strings are the rule.) */
#ifndef CACHE_BITS
#define CACHE_BITS 10 /* string cache: 2^10 entries */
#endif
#define CACHE_MAXLEN 96 /* longest string cached */
#define CACHE_FIRST 40  /* cached at first sight up to this (Lua 5.4's short strings); longer ones at
                         * their second (the references an API repeats: selfUri, division, manager) */

#ifndef INLINE_MAX
#define INLINE_MAX 18 /* so that an entry is 32 bytes, two per cache line */
#endif
/* A cache entry: everything a lookup reads in one place, the bytes of a
 * string up to INLINE_MAX long included (keys, ids, names), so a hit on one
 * reads one cache line here and one slot of the anchor table. */
struct entry {
    const char *str;                   /* bytes of the string anchored at [i + 1] */
    uint32_t seen;                     /* fingerprint of the last long string missed here */
    unsigned char len;                 /* cached length + 1, 0 = empty */
    unsigned char khint;               /* member count + 1 of the last object under this key */
    unsigned char bytes[INLINE_MAX];   /* the string, when at most INLINE_MAX bytes */
};

/* Kept per Lua state between decodes: a userdata at [ANCHOR_UD] of the
 * anchor table, whose [1 .. 2^CACHE_BITS] hold the cached strings. */
struct kept {
    struct entry e[1 << CACHE_BITS];
    unsigned short hint[PC_JSON_MAX_DEPTH + 1]; /* member count of the last object per depth */
};
#define ANCHOR_UD ((1 << CACHE_BITS) + 1)
#define ANCHOR_MT (ANCHOR_UD + 1) /* the decoder's: core.array_mt, at hand for every empty array */
static const char ANCHOR_KEY = 0; /* its address keys the anchor table in the registry */

/* One decode's handle on the cache of its Lua state. */
typedef struct {
    lua_State *L;
    int anchor;     /* stack index of the anchor table */
    struct kept *k; /* the entries and hints the Lua state keeps */
    int slot;       /* cache slot of the string pushed last, -1 = not cached */
} strcache;

/* Push the anchor table of L's cache (made at its first use: the cached
 * strings at [1 .. 2^CACHE_BITS], the entries' userdata at ANCHOR_UD,
 * ANCHOR_MT left to the decoder) and set c up on it; it lands at `index`.
 * Returns 1 when it was made now. */
static int strcache_open(lua_State *L, strcache *c, int index) {
    int made = 0;
    lua_pushlightuserdata(L, (void *)&ANCHOR_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, ANCHOR_MT, 0); /* array part presized: storing never allocates */
        struct kept *k = lua_newuserdata(L, sizeof *k);
        memset(k, 0, sizeof *k);
        lua_rawseti(L, -2, ANCHOR_UD);
        lua_pushlightuserdata(L, (void *)&ANCHOR_KEY);
        lua_pushvalue(L, -2);
        lua_rawset(L, LUA_REGISTRYINDEX);
        made = 1;
    }
    c->L = L;
    c->anchor = index;
    lua_rawgeti(L, index, ANCHOR_UD);
    c->k = lua_touserdata(L, -1);
    lua_pop(L, 1);
    c->slot = -1;
    return made;
}

/* Hash of the string s[0..n) for the cache: a multiplicative hash of its
 * length and its first and last 8 bytes (any bytes: a hit is only ever taken
 * after an exact length and memcmp check, so collisions cost misses). */
static inline uint64_t cache_hash(const unsigned char *s, size_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) { /* fixed-size loads: a variable memcpy is a call */
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = (uint64_t)x << 32 | y;
    } else if (n) {
        a = (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h; /* the slot: bits 40 and up; a long string's fingerprint: the low 32 */
}

/* a[0..n) == b[0..n), for the short strings of the cache (memcmp is an
 * out-of-line call): whole words, the last one overlapping. */
static inline int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
    uint64_t x, y;
    if (n < 8) {
        if (n >= 4) {
            uint32_t u, v, w, z;
            memcpy(&u, a, 4);
            memcpy(&v, b, 4);
            memcpy(&w, a + n - 4, 4);
            memcpy(&z, b + n - 4, 4);
            return u == v && w == z;
        }
        for (size_t k = 0; k < n; k++)
            if (a[k] != b[k]) return 0;
        return 1;
    }
    for (size_t k = 0; k + 8 < n; k += 8) {
        memcpy(&x, a + k, 8);
        memcpy(&y, b + k, 8);
        if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

/* Push the string s[0..n): from the cache when it holds the same
 * bytes, else a new Lua string, which then takes the slot (a string longer
 * than CACHE_FIRST only at its second sight). The cached strings
 * are anchored in a table (on the stack during a decode), so an entry's
 * pointer to a string's bytes stays valid (Lua never moves a string) and
 * nothing C-owned can leak when a push raises. Uses 2 stack slots. */
static inline void strcache_push(strcache *d, const unsigned char *s, size_t n) {
    lua_State *L = d->L;
    if (n > CACHE_MAXLEN) {
        d->slot = -1;
        lua_pushlstring(L, (const char *)s, n);
        return;
    }
    uint64_t h = cache_hash(s, n);
    unsigned i = (unsigned)(h >> 40) & ((1u << CACHE_BITS) - 1);
    d->slot = (int)i;
    struct kept *k = d->k;
    struct entry *e = &k->e[i];
    if (e->len == n + 1 && same_bytes(n <= INLINE_MAX ? e->bytes : (const unsigned char *)e->str, s, n)) {
        lua_rawgeti(L, d->anchor, (int)i + 1);
        return;
    }
    if (n > CACHE_FIRST) {
        /* A long string takes the slot at its second sight only: most long
         * values of a page are seen once, and replacing an entry for each
         * would cost more than it saves. */
        uint32_t fp = (uint32_t)h | 1;
        if (e->seen != fp) {
            e->seen = fp;
            d->slot = -1;
            lua_pushlstring(L, (const char *)s, n);
            return;
        }
    }
    lua_pushlstring(L, (const char *)s, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, d->anchor, (int)i + 1); /* into the presized array part */
    e->str = lua_tostring(L, -1);
    if (n <= INLINE_MAX) memcpy(e->bytes, s, n);
    e->len = (unsigned char)(n + 1);
    e->khint = 0;
}

#endif
