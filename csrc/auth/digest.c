/* SHA-256 (FIPS 180-4), base64 and base64url, and OS randomness: what PKCE
 * (RFC 7636 S256) and HTTP Basic need, without linking a crypto library. */
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include "auth/auth.h"
#include "text.h"

typedef struct {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
} sha256_ctx;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(sha256_ctx *c, const unsigned char *p) {
    uint32_t w[64], a, b, d, e, f, g, h, cc;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
    e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g; g = f; f = e; e = d + t1; d = cc; cc = b; b = a; a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

void pc_sha256(const unsigned char *data, size_t n, unsigned char out[32]) {
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    sha256_ctx c;
    memcpy(c.h, H0, sizeof H0);
    c.len = (uint64_t)n * 8;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) block(&c, data + i);
    c.fill = n - i;
    memcpy(c.buf, data + i, c.fill);
    c.buf[c.fill++] = 0x80;
    if (c.fill > 56) {
        memset(c.buf + c.fill, 0, 64 - c.fill);
        block(&c, c.buf);
        c.fill = 0;
    }
    memset(c.buf + c.fill, 0, 56 - c.fill);
    for (int k = 0; k < 8; k++) c.buf[56 + k] = (unsigned char)(c.len >> (56 - 8 * k));
    block(&c, c.buf);
    for (int k = 0; k < 8; k++) {
        out[4 * k] = (unsigned char)(c.h[k] >> 24);
        out[4 * k + 1] = (unsigned char)(c.h[k] >> 16);
        out[4 * k + 2] = (unsigned char)(c.h[k] >> 8);
        out[4 * k + 3] = (unsigned char)c.h[k];
    }
    pc_wipe(&c, sizeof c); /* the state of a digest of a secret (a PKCE verifier) */
}

void pc_base64(luaL_Buffer *b, const unsigned char *s, size_t n, int url) {
    const char *alpha = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        luaL_addchar(b, alpha[v >> 18]);
        luaL_addchar(b, alpha[(v >> 12) & 63]);
        luaL_addchar(b, alpha[(v >> 6) & 63]);
        luaL_addchar(b, alpha[v & 63]);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        luaL_addchar(b, alpha[v >> 18]);
        luaL_addchar(b, alpha[(v >> 12) & 63]);
        if (!url) luaL_addstring(b, "==");
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        luaL_addchar(b, alpha[v >> 18]);
        luaL_addchar(b, alpha[(v >> 12) & 63]);
        luaL_addchar(b, alpha[(v >> 6) & 63]);
        if (!url) luaL_addchar(b, '=');
    }
}

int pc_random(unsigned char *out, size_t n) {
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f) return 0;
    size_t got = fread(out, 1, n, f);
    fclose(f);
    return got == n;
}

/* core.sha256(s) -> 32-byte digest */
static int l_sha256(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char d[32];
    pc_sha256((const unsigned char *)s, n, d);
    lua_pushlstring(L, (const char *)d, 32);
    return 1;
}

/* core.base64(s[, url]) -> text (base64url without padding when url is true) */
static int l_base64(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int url = lua_toboolean(L, 2); /* read before the buffer takes stack slots */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pc_base64(&b, (const unsigned char *)s, n, url);
    luaL_pushresult(&b);
    return 1;
}

/* core.pkce() -> verifier, challenge (RFC 7636: 32 random bytes, S256). */
static int l_pkce(lua_State *L) {
    unsigned char r[32], d[32];
    if (!pc_random(r, sizeof r)) return luaL_error(L, "purecloud: cannot read /dev/urandom");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pc_base64(&b, r, sizeof r, 1);
    luaL_pushresult(&b);
    size_t vn;
    const char *v = lua_tolstring(L, -1, &vn);
    pc_sha256((const unsigned char *)v, vn, d);
    luaL_buffinit(L, &b);
    pc_base64(&b, d, sizeof d, 1);
    luaL_pushresult(&b);
    pc_wipe(r, sizeof r);
    return 2;
}

/* core.random_hex(n) -> 2n hex characters (OAuth state values). */
static int l_random_hex(lua_State *L) {
    lua_Integer n = luaL_optinteger(L, 1, 16);
    luaL_argcheck(L, n > 0 && n <= 64, 1, "must be 1..64");
    unsigned char r[64];
    char hex[129];
    if (!pc_random(r, (size_t)n)) return luaL_error(L, "purecloud: cannot read /dev/urandom");
    for (lua_Integer i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", r[i]);
    lua_pushlstring(L, hex, (size_t)(2 * n));
    return 1;
}

void pc_open_digest(lua_State *L) {
    static const luaL_Reg fns[] = {{"sha256", l_sha256}, {"base64", l_base64}, {"pkce", l_pkce},
                                   {"random_hex", l_random_hex}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
