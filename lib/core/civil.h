/* civil.h - proleptic Gregorian dates as day numbers (days since 1970-01-01), after
 * Howard Hinnant's days_from_civil / civil_from_days: exact for every int64 year range
 * the project uses, no time zone, no libc. Calendars, RFC 3339 times, templates, retries
 * and reports all count days with these two. */
#ifndef SLAD_CIVIL_H
#define SLAD_CIVIL_H

#include <stddef.h>
#include <stdint.h>

/* The units of time every module counts in: one definition each. */
#define CIVIL_MS_PER_S    INT64_C(1000)
#define CIVIL_MS_PER_MIN  INT64_C(60000)
#define CIVIL_MS_PER_HOUR INT64_C(3600000)
#define CIVIL_MS_PER_DAY  INT64_C(86400000)
#define CIVIL_S_PER_DAY   INT64_C(86400)

/* Room for civil_utc_format's text and its NUL. */
#define CIVIL_UTC_MAX 32

/* a / b rounded towards minus infinity (b > 0): the day of an instant before 1970. */
int64_t civil_floor_div(int64_t a, int64_t b);

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
int64_t civil_days(int64_t y, int m, int d);

/* The date of day number days. */
void civil_date(int64_t days, int64_t *ret_y, int *ret_m, int *ret_d);

/* at_ms as RFC 3339 in UTC ("2026-03-02T08:00:00Z", milliseconds only when not zero) into
 * buf (size >= CIVIL_UTC_MAX); returns buf. */
char *civil_utc_format(int64_t at_ms, char *buf, size_t size);

/* Read an RFC 3339 time "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)" exactly into *ret_ms: T/Z
 * may be lower case, the offset is required, fractional seconds (1..9 digits) are cut to
 * milliseconds, years 1970..9999 both as written and in UTC, second 60 refused. -EINVAL
 * with *ret_reason (a static text) saying what is wrong; the caller quotes text. */
int civil_time_parse(const char *text, int64_t *ret_ms, const char **ret_reason);

/* How many days month m (1..12) of year y has. */
int civil_month_days(int64_t y, int m);

/* The weekday of day number days: Monday 0 .. Sunday 6. */
int civil_weekday(int64_t days);

#endif
