/* The byte rules of the C core, each decided once, here, for both modules
 * (core.so and transport/curl.so link csrc/text.c; it needs no Lua state,
 * so libcurl callbacks and the fuzz targets may call it):
 *
 *  1. UTF-8 (RFC 3629): no overlong forms, no encoded UTF-16 surrogates
 *     U+D800..U+DFFF, nothing above U+10FFFF, no stray continuation or
 *     truncated sequences. The JSON decoder (csrc/json/decode.c) calls
 *     pc_utf8_seq from its string scanner; the encoder (csrc/models/
 *     encode.c) checks every string and key with pc_utf8_check, so the
 *     library never sends a text its own decoder would refuse. pc_utf8_seq
 *     is inline here: the decoder's scan is its hot loop.
 *  2. A header field the library sends (pc_header_check): see below.
 *  3. Wiping memory that held a secret (pc_wipe): see below.
 *
 * Why here and not in csrc/protocol: the request layer (request.lua, through
 * core.check_header), the cosocket serialiser (http1.lua, the same) and the
 * libcurl transport (curl.c, directly) all need the header rule, and buf.c,
 * token.c, digest.c and curl.c the wipe; csrc/protocol is core.so's and
 * uses the Lua API, this unit is plain C shared by both modules. */
#ifndef PC_TEXT_H
#define PC_TEXT_H

#include <stddef.h>

/* Length (2, 3 or 4) of the valid UTF-8 sequence at p, whose lead byte is
 * >= 0x80, with end the end of the text; 0 when it is not valid UTF-8. */
static inline size_t pc_utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], c1;
    if (c < 0xC2) return 0; /* stray continuation byte or overlong 2-byte form */
    if (c < 0xE0) return (end - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (end - p < 3) return 0;
        c1 = p[1];
        if ((c1 & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && c1 < 0xA0) return 0; /* overlong */
        if (c == 0xED && c1 > 0x9F) return 0; /* UTF-16 surrogates */
        return 3;
    }
    if (c < 0xF5) {
        if (end - p < 4) return 0;
        c1 = p[1];
        if ((c1 & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && c1 < 0x90) return 0; /* overlong */
        if (c == 0xF4 && c1 > 0x8F) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* n when s[0..n) is valid UTF-8, else the offset of the first byte of the
 * first invalid sequence. */
size_t pc_utf8_check(const char *s, size_t n);

/* What is wrong with the invalid sequence at s[off] of s[0..n) (an offset
 * pc_utf8_check returned): a short phrase such as "an encoded UTF-16
 * surrogate", for error messages. */
const char *pc_utf8_why(const char *s, size_t n, size_t off);

/* ---- header fields (RFC 9110 §5) -----------------------------------------
 * A header the library sends is a name and a value such that:
 *  - the name is a token (§5.6.2: ALPHA, DIGIT and !#$%&'*+-.^_`|~), 1 to
 *    PC_HEADER_NAME_MAX bytes (no real field name is near it; a longer one
 *    is a mistake);
 *  - the value is field-value (§5.5): visible ASCII, SP, HTAB and obs-text
 *    (0x80-0xFF, passed on as bytes, not required to be UTF-8), not
 *    beginning or ending with SP or HTAB, at most PC_HEADER_VALUE_MAX bytes
 *    (an Authorization line with the longest token csrc/auth/token.c takes,
 *    8 KiB, fits; servers refuse lines near 8-16 KiB anyway). So every
 *    control byte but HTAB is refused: CR, LF and NUL (header injection, a
 *    C string cut short) and also the other C0 controls and DEL, which
 *    §5.5 makes invalid and which libcurl would send as they are (it checks
 *    nothing in CURLOPT_HTTPHEADER lines). Leading or trailing white space
 *    is refused because it cannot arrive: a recipient strips it, and
 *    libcurl drops a header whose value is only white space (it reads it
 *    as "remove this header").
 *  - it is not one of the library's own headers (pc_header_owned): with
 *    PC_HEADER_CALLER, none of them (what a caller may give); with
 *    PC_HEADER_WIRE, none of those the transport writes itself, the framing
 *    and connection headers (what a transport may be handed: the client
 *    adds Authorization).
 * Names compare case-insensitively (§5.1). */
#define PC_HEADER_NAME_MAX 256
#define PC_HEADER_VALUE_MAX 16384
#define PC_HEADER_CALLER 0
#define PC_HEADER_WIRE 1

/* NULL when the header may be sent (as `who` sees it), else a one-line
 * reason written into why[0..whyn) (it names the header when the name is a
 * token, quotes a refused byte by name or number and never quotes the
 * value, which may be a credential). */
const char *pc_header_check(const char *name, size_t nn, const char *value, size_t vn, int who, char *why,
                            size_t whyn);

/* The library's own headers, one list: NULL when `name` (any case) is not
 * one of them, else why a caller may not set it; *wire (when not NULL) is 1
 * when the transport writes it itself, 0 when the client adds it. */
const char *pc_header_owned(const char *name, size_t nn, int *wire);

/* The i-th of the library's own headers in lower case (NULL past the last),
 * with why and *wire as pc_header_owned: for core.OWNED_HEADERS. */
const char *pc_header_owned_at(size_t i, const char **why, int *wire);

/* ---- wiping ----------------------------------------------------------------
 * Overwrite n bytes at p (p may be NULL when n is 0) with zeros in a way
 * the compiler may not drop as a dead store, even right before free():
 * explicit_bzero where the C library has it (glibc >= 2.25, the BSDs),
 * else memset through a volatile function pointer. Both run at memset's
 * speed (a 1 MB page is wiped on every call of the libcurl transport). The
 * one way every part clears memory that held a secret or a request. */
void pc_wipe(void *p, size_t n);

#endif
