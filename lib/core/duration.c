/* duration.c - parsing and formatting the durations of the config and the API.
 *
 * Grammar (no spaces, lowercase units, whole numbers only):
 *
 *     duration = [ "+" ] ( plain | N "wd" ) | N "%"
 *     plain    = component { component }     units strictly decreasing
 *     component = N ( "d" | "h" | "m" | "s" | "ms" )
 *
 * "d" is 24 h of time, so "3d" is 72 h counted in the clock's calendar. "wd" stands alone
 * (a count of working days is not a length of time and cannot be summed with one), and a
 * percentage is never "after due". Limits: a plain duration is at most DURATION_MAX_MS
 * (36600d), a working-day count at most 36600, a percentage at most 1000. Every
 * multiplication and addition is checked, so no text can overflow. */
#include "duration.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_S INT64_C(1000)
#define MS_PER_M (60 * MS_PER_S)
#define MS_PER_H (60 * MS_PER_M)
#define MS_PER_D (24 * MS_PER_H)

#define WORKDAYS_MAX (DURATION_MAX_MS / MS_PER_D)
#define PERCENT_MAX  1000

/* The units of a plain duration, from largest to smallest: the order a text must use. */
static const struct {
    const char *name;
    int64_t ms;
} plain_units[] = {
    {"d", MS_PER_D}, {"h", MS_PER_H}, {"m", MS_PER_M}, {"s", MS_PER_S}, {"ms", 1},
};

#define N_PLAIN_UNITS (sizeof(plain_units) / sizeof(plain_units[0]))

static const char unit_hint[] = "(use s, m, h, d, wd, or % / + where allowed)";

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Read the decimal number at *p into *ret, advancing *p; false when the number does not
 * fit the limit (the caller reports it as too large). */
static bool read_number(const char **p, int64_t limit, int64_t *ret)
{
    int64_t v = 0;
    bool ok = true;
    const char *s = *p;
    for (; is_digit(*s); s++) {
        /* Keep consuming the digits after an overflow so that the error quotes the text,
         * not a half-read number. */
        if (ok && (v > (limit - (*s - '0')) / 10))
            ok = false;
        if (ok)
            v = v * 10 + (*s - '0');
    }
    *p = s;
    *ret = v;
    return ok;
}

/* The unit word that starts at p: a run of letters (or of UTF-8 bytes, so that "2小时"
 * is quoted whole), or a lone '%'; 0 when p holds none. */
static size_t unit_length(const char *p)
{
    if (*p == '%')
        return 1;
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
           (unsigned char)p[n] >= 0x80)
        n++;
    return n;
}

static int plain_unit_index(const char *u, size_t len)
{
    for (size_t i = 0; i < N_PLAIN_UNITS; i++)
        if (strlen(plain_units[i].name) == len && memcmp(plain_units[i].name, u, len) == 0)
            return (int)i;
    return -1;
}

static int too_large(const char *text, struct slad_error *reterr)
{
    return slad_error_set(reterr, ERANGE,
                          "duration '%s': too large (the maximum is %" PRId64 "d, %" PRId64
                          "wd or %d%%)",
                          text, DURATION_MAX_MS / MS_PER_D, WORKDAYS_MAX, PERCENT_MAX);
}

int duration_parse(const char *text, unsigned allowed, struct duration *ret,
                   struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "duration: missing text");
    if (!*text)
        return slad_error_set(reterr, EINVAL, "duration '': empty (write e.g. 90s, 2h, 1h30m)");

    const char *p = text;
    bool after = false;
    if (*p == '-')
        return slad_error_set(reterr, EINVAL, "duration '%s': negative durations are not allowed",
                              text);
    if (*p == '+') {
        if (!(allowed & DURATION_ALLOW_AFTER))
            return slad_error_set(reterr, EINVAL,
                                  "duration '%s': '+' (after the due time) is not allowed here",
                                  text);
        after = true;
        p++;
    }

    struct duration d = {.unit = DURATION_MS, .after_due = after, .value = 0};
    int last_unit = -1; /* index into plain_units of the previous component */
    bool any = false;

    while (*p) {
        if (!is_digit(*p)) {
            if (*p == '.' || *p == ',')
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': unexpected '%c' (use whole numbers, "
                                      "e.g. 1h30m, not 1.5h)",
                                      text, *p);
            size_t ulen = unit_length(p);
            if (ulen == 0)
                return slad_error_set(reterr, EINVAL, "duration '%s': unexpected '%c'", text, *p);
            if (plain_unit_index(p, ulen) >= 0 || (ulen == 2 && !memcmp(p, "wd", 2)) || *p == '%')
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': expected a number before '%.*s'", text,
                                      (int)ulen, p);
            return slad_error_set(reterr, EINVAL, "duration '%s': unknown unit '%.*s' %s", text,
                                  (int)ulen, p, unit_hint);
        }

        const char *num_start = p;
        int64_t n;
        /* Read against the loosest limit; each unit below checks its own. */
        bool fits = read_number(&p, DURATION_MAX_MS, &n);
        size_t ulen = unit_length(p);
        if (ulen == 0 && *p == '\0')
            return slad_error_set(reterr, EINVAL, "duration '%s': missing unit after '%.*s' %s",
                                  text, (int)(p - num_start), num_start, unit_hint);
        if (ulen == 0 && (*p == '.' || *p == ','))
            return slad_error_set(reterr, EINVAL,
                                  "duration '%s': unexpected '%c' (use whole numbers, e.g. "
                                  "1h30m, not 1.5h)",
                                  text, *p);
        if (ulen == 0)
            return slad_error_set(reterr, EINVAL, "duration '%s': unexpected '%c' after '%.*s'",
                                  text, *p, (int)(p - num_start), num_start);

        if (ulen == 1 && *p == '%') {
            if (after)
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': '+' cannot be combined with a percentage",
                                      text);
            if (any)
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': '%%' cannot be combined with other units",
                                      text);
            if (!(allowed & DURATION_ALLOW_PERCENT))
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': percentages are not allowed here", text);
            if (!fits || n > PERCENT_MAX)
                return slad_error_set(reterr, ERANGE, "duration '%s': percentage over %d%%", text,
                                      PERCENT_MAX);
            if (p[1])
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': '%%' cannot be combined with other units",
                                      text);
            d.unit = DURATION_PERCENT;
            d.value = n;
            *ret = d;
            return 0;
        }

        if (ulen == 2 && !memcmp(p, "wd", 2)) {
            if (any || p[2])
                return slad_error_set(reterr, EINVAL,
                                      "duration '%s': 'wd' cannot be combined with other units",
                                      text);
            if (!(allowed & DURATION_ALLOW_WORKDAYS))
                return slad_error_set(
                    reterr, EINVAL, "duration '%s': working days (wd) are not allowed here", text);
            if (!fits || n > WORKDAYS_MAX)
                return too_large(text, reterr);
            d.unit = DURATION_WORKDAYS;
            d.value = n;
            *ret = d;
            return 0;
        }

        int u = plain_unit_index(p, ulen);
        if (u < 0)
            return slad_error_set(reterr, EINVAL, "duration '%s': unknown unit '%.*s' %s", text,
                                  (int)ulen, p, unit_hint);
        if (u == last_unit)
            return slad_error_set(reterr, EINVAL, "duration '%s': unit '%s' repeated", text,
                                  plain_units[u].name);
        if (u < last_unit)
            return slad_error_set(reterr, EINVAL,
                                  "duration '%s': unit '%s' after '%s' (write units from the "
                                  "largest to the smallest: d, h, m, s, ms)",
                                  text, plain_units[u].name, plain_units[last_unit].name);
        if (!fits || n > DURATION_MAX_MS / plain_units[u].ms)
            return too_large(text, reterr);
        int64_t part = n * plain_units[u].ms;
        if (part > DURATION_MAX_MS - d.value)
            return too_large(text, reterr);
        d.value += part;
        last_unit = u;
        any = true;
        p += ulen;
    }

    if (!any)
        return slad_error_set(reterr, EINVAL, "duration '%s': expected a number after '+'", text);
    *ret = d;
    return 0;
}

/* Append to buf with vsnprintf and keep going after a truncation: the buffer always ends
 * in NUL, *len counts what the whole text would need. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t size, size_t *len,
                                                         const char *fmt, ...)
{
    if (*len >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    *len += w > 0 ? (size_t)w : 0;
}

char *duration_format(const struct duration *d, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    size_t len = 0;

    /* A struct built by hand may hold a negative value; print it as such (it will not
     * parse back, which is right) without the overflow of negating INT64_MIN. */
    uint64_t v = d->value < 0 ? (uint64_t)0 - (uint64_t)d->value : (uint64_t)d->value;
    const char *sign = d->value < 0 ? "-" : "";

    switch (d->unit) {
    case DURATION_PERCENT:
        append(buf, size, &len, "%s%" PRIu64 "%%", sign, v);
        break;
    case DURATION_WORKDAYS:
        append(buf, size, &len, "%s%s%" PRIu64 "wd", d->after_due ? "+" : "", sign, v);
        break;
    case DURATION_MS:
    default:
        append(buf, size, &len, "%s%s", d->after_due ? "+" : "", sign);
        if (v == 0) {
            append(buf, size, &len, "0s");
            break;
        }
        for (size_t i = 0; i < N_PLAIN_UNITS; i++) {
            uint64_t unit = (uint64_t)plain_units[i].ms;
            if (v >= unit) {
                append(buf, size, &len, "%" PRIu64 "%s", v / unit, plain_units[i].name);
                v %= unit;
            }
        }
        break;
    }
    return buf;
}
