/* decimal.h - integers as decimal digits without printf: a burst step writes a dozen
 * numbers and seven times into its payload and record, and snprintf's format parsing cost
 * it 6 % of its instructions (doc/PERFORMANCE.md, "Round six"). */
#ifndef SLAD_DECIMAL_H
#define SLAD_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Room for the longest int64 ("-9223372036854775808") and its NUL. */
#define DECIMAL_INT64_MAX 21

/* v as printf's "%" PRId64 writes it into buf (size >= DECIMAL_INT64_MAX), NUL-ended;
 * returns its length. */
size_t decimal_int64(int64_t v, char *buf);

/* v (0 <= v < 10^width) as exactly width digits, zeros in front, at p; no NUL. */
void decimal_padded(unsigned v, int width, char *p);

#endif
