/* UTF-8 validation (see text.h): the checker over whole strings and the
 * explanation of a refusal; the sequence rule itself is pc_utf8_seq. */
#include <stdint.h>
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
