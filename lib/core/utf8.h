/* utf8.h - UTF-8 as RFC 3629 has it (no overlong forms, no surrogates, nothing past
 * U+10FFFF): the one decoder behind the config's strings, JSON answers and message texts. */
#ifndef SLAD_UTF8_H
#define SLAD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1..4) of the valid sequence that starts s (len bytes left), or 0 when s[0]
 * does not start one. */
size_t utf8_seq(const char *s, size_t len);

/* Whether s[0..len) is valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

/* The longest prefix of s[0..len) of at most max_bytes that does not cut a valid sequence
 * (a bad byte counts as one character). */
size_t utf8_prefix(const char *s, size_t len, size_t max_bytes);

#endif
