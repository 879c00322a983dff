/* UTF-8 validation: the one definition of valid UTF-8 in the C core (RFC
 * 3629: no overlong forms, no encoded UTF-16 surrogates U+D800..U+DFFF,
 * nothing above U+10FFFF, no stray continuation or truncated sequences).
 * The JSON decoder (csrc/json/decode.c) calls pc_utf8_seq from its string
 * scanner; the encoder (csrc/models/encode.c) checks every string and key
 * with pc_utf8_check (csrc/text.c), so the library never sends a text its
 * own decoder would refuse. pc_utf8_seq is inline here: the decoder's scan
 * is its hot loop. */
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

#endif
