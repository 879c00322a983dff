/* The byte rules (see text.h): UTF-8 (the checker over whole strings and
 * the explanation of a refusal; the sequence rule itself is pc_utf8_seq),
 * header fields, and wiping. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* explicit_bzero in glibc's <string.h> (with -std=c99 -D_POSIX_C_SOURCE) */
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "text.h"

size_t pc_utf8_check(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* ASCII eight bytes at a time: most strings are all ASCII. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL) break;
            p += 8;
        }
        while (p < end && *p < 0x80) p++;
        if (p >= end) break;
        size_t k = pc_utf8_seq(p, end);
        if (!k) return (size_t)(p - (const unsigned char *)s);
        p += k;
    }
    return n;
}

const char *pc_utf8_why(const char *s, size_t n, size_t off) {
    const unsigned char *p = (const unsigned char *)s + off, *end = (const unsigned char *)s + n;
    if (p >= end) return "the end of the text";
    unsigned c = p[0];
    if (c >= 0x80 && c < 0xC0) return "a continuation byte without a lead byte";
    if (c == 0xC0 || c == 0xC1) return "an overlong form";
    if (c >= 0xF5) return "a byte that never occurs in UTF-8";
    size_t want = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    for (size_t i = 1; i < want; i++) {
        if (p + i >= end) return "a truncated sequence";
        if ((p[i] & 0xC0) != 0x80) return "a truncated sequence";
    }
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xF0 && p[1] < 0x90)) return "an overlong form";
    if (c == 0xED) return "an encoded UTF-16 surrogate";
    if (c == 0xF4) return "a code point above U+10FFFF";
    return "an invalid sequence"; /* not reached for an offset pc_utf8_check returned */
}

/* ---- header fields ---------------------------------------------------- */

/* The token characters (RFC 9110 §5.6.2 tchar). */
static const unsigned char TCHAR[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
    ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* A byte a field value may hold (§5.5: VCHAR, SP, HTAB, obs-text): every
 * byte but the controls other than HTAB, and DEL. */
static int value_byte(unsigned c) { return c >= 0x20 ? c != 0x7F : c == '\t'; }

/* The library's own headers, in lower case: the framing and connection
 * headers the transports write or forbid (RFC 9110 §7.6.1: connection-
 * specific, and TE, Keep-Alive and Upgrade would have to be listed in
 * Connection, which the transport owns), and Authorization, which the
 * client adds to every call. */
static const struct {
    const char *name;
    size_t n;
    int wire;
    const char *why;
} OWNED[] = {
    {"authorization", 13, 0, "the client authenticates every call itself"},
    {"connection", 10, 1, "the transport manages connections"},
    {"content-length", 14, 1, "the transport sets it from the body"},
    {"expect", 6, 1, "the transport sends the body without waiting for 100 Continue"},
    {"host", 4, 1, "it comes from base_url"},
    {"keep-alive", 10, 1, "the transport manages connections"},
    {"proxy-connection", 16, 1, "the transport manages connections"},
    {"te", 2, 1, "the transport asks for no transfer coding"},
    {"transfer-encoding", 17, 1, "the transport frames the body itself"},
    {"upgrade", 7, 1, "the transport never changes protocols"},
};
#define NOWNED (sizeof OWNED / sizeof OWNED[0])

const char *pc_header_owned(const char *name, size_t nn, int *wire) {
    for (size_t i = 0; i < NOWNED; i++) {
        if (OWNED[i].n != nn) continue;
        size_t k = 0;
        for (unsigned c; k < nn; k++) {
            c = (unsigned char)name[k];
            if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)OWNED[i].name[k]) break;
        }
        if (k == nn) {
            if (wire) *wire = OWNED[i].wire;
            return OWNED[i].why;
        }
    }
    return NULL;
}

const char *pc_header_owned_at(size_t i, const char **why, int *wire) {
    if (i >= NOWNED) return NULL;
    if (why) *why = OWNED[i].why;
    if (wire) *wire = OWNED[i].wire;
    return OWNED[i].name;
}

/* A refused byte as a message shows it: its ASCII name for a control, SP,
 * a printable one quoted, else its number. */
static void byte_name(unsigned c, char *out, size_t n) {
    static const char *const C0[33] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS",  "HTAB", "LF",
                                       "VT",  "FF",  "CR",  "SO",  "SI",  "DLE", "DC1", "DC2", "DC3", "DC4", "NAK",
                                       "SYN", "ETB", "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US",  "SP"};
    if (c <= 0x20) snprintf(out, n, "a %s byte", C0[c]);
    else if (c == 0x7F) snprintf(out, n, "a DEL byte");
    else if (c < 0x7F) snprintf(out, n, "a '%c' byte", (int)c);
    else snprintf(out, n, "a 0x%02X byte", c);
}

const char *pc_header_check(const char *name, size_t nn, const char *value, size_t vn, int who, char *why,
                            size_t whyn) {
    const unsigned char *k = (const unsigned char *)name, *v = (const unsigned char *)value;
    char b[16];
    if (nn == 0) {
        snprintf(why, whyn, "header name is not a valid HTTP token: it is empty");
        return why;
    }
    if (nn > PC_HEADER_NAME_MAX) {
        snprintf(why, whyn, "header name is not a valid HTTP token: longer than %d bytes", PC_HEADER_NAME_MAX);
        return why;
    }
    for (size_t i = 0; i < nn; i++)
        if (!TCHAR[k[i]]) {
            byte_name(k[i], b, sizeof b);
            snprintf(why, whyn, "header name is not a valid HTTP token: %s at position %zu", b, i + 1);
            return why;
        }
    /* From here the name is a token of at most 256 bytes: safe to show. */
    int n = (int)nn, wire = 0;
    const char *own = pc_header_owned(name, nn, &wire);
    if (own && (who == PC_HEADER_CALLER || wire)) {
        snprintf(why, whyn, "header %.*s cannot be set (%s)", n, name, own);
        return why;
    }
    if (vn > PC_HEADER_VALUE_MAX) {
        snprintf(why, whyn, "header %.*s is longer than %d bytes", n, name, PC_HEADER_VALUE_MAX);
        return why;
    }
    for (size_t i = 0; i < vn; i++)
        if (!value_byte(v[i])) {
            byte_name(v[i], b, sizeof b);
            snprintf(why, whyn, "header %.*s contains %s at position %zu", n, name, b, i + 1);
            return why;
        }
    if (vn && (v[0] == ' ' || v[0] == '\t' || v[vn - 1] == ' ' || v[vn - 1] == '\t')) {
        snprintf(why, whyn, "header %.*s %s with white space (a recipient would strip it)", n, name,
                 v[0] == ' ' || v[0] == '\t' ? "begins" : "ends");
        return why;
    }
    return NULL;
}

/* ---- wiping ----------------------------------------------------------- */

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#define PC_EXPLICIT_BZERO 1
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#define PC_EXPLICIT_BZERO 1
#endif
#ifdef PC_EXPLICIT_BZERO
/* Declared again: a unity build (fuzz/fuzz_decode.c includes this file) may
 * have read <string.h> before the _DEFAULT_SOURCE above. */
void explicit_bzero(void *s, size_t n);
#endif

void pc_wipe(void *p, size_t n) {
    if (!p || !n) return;
#ifdef PC_EXPLICIT_BZERO
    explicit_bzero(p, n);
#else
    static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;
    wipe_memset(p, 0, n);
#endif
}
