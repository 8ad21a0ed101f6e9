/* decimal.c - integers as decimal digits without printf (decimal.h). */
#include "decimal.h"

size_t decimal_int64(int64_t v, char *buf)
{
    /* In unsigned arithmetic: -INT64_MIN does not fit an int64. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char digits[DECIMAL_INT64_MAX];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = digits[--n];
    buf[len] = '\0';
    return len;
}

void decimal_padded(unsigned v, int width, char *p)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}
