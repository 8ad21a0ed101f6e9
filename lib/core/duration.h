/* duration.h - the durations of the config and the API.
 *
 * Forms: "90s", "30m", "2h", "1h30m", "3d" (calendar days of 24 h, counted in the
 * clock's calendar like any other duration), "3wd" (working days: close of business on
 * the 3rd working day after the start day), and, for escalation steps only, "75%"
 * (of the clock's target) and "+2h" / "+1wd" (after the due instant). */
#ifndef SLAD_DURATION_H
#define SLAD_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "civil.h"
#include "error.h"

enum duration_unit {
    DURATION_MS,       /* value is milliseconds */
    DURATION_WORKDAYS, /* value is a count of working days */
    DURATION_PERCENT,  /* value is a percentage of the target (0..1000) */
};

struct duration {
    enum duration_unit unit;
    bool after_due; /* written with a leading '+' */
    int64_t value;  /* ms, working days or percent, per unit */
};

/* Which forms a caller accepts; DURATION_ALLOW_PLAIN ("2h") is always accepted. */
enum {
    DURATION_ALLOW_PLAIN = 0,
    DURATION_ALLOW_WORKDAYS = 1 << 0, /* "3wd" */
    DURATION_ALLOW_PERCENT = 1 << 1,  /* "75%" */
    DURATION_ALLOW_AFTER = 1 << 2,    /* "+2h", "+1wd" */
};

/* Upper bound of a duration: 100 years, so that instants never overflow. */
#define DURATION_MAX_MS (100 * 366 * CIVIL_MS_PER_DAY)

/* Parse text into *ret. Rejects empty text, unknown units, repeated or out-of-order
 * units ("30m2h"), values over DURATION_MAX_MS and forms not in allowed; the error
 * quotes the text. */
int duration_parse(const char *text, unsigned allowed, struct duration *ret,
                   struct slad_error *reterr);

/* Write the canonical text of d ("1h30m", "3wd", "75%", "+2h") into buf; returns buf. */
char *duration_format(const struct duration *d, char *buf, size_t size);

/* Shorthand for a plain milliseconds duration. */
static inline struct duration duration_ms(int64_t ms)
{
    return (struct duration){.unit = DURATION_MS, .after_due = false, .value = ms};
}

#endif
