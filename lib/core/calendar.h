/* calendar.h - business calendars: time zone, weekly hours, holidays, make-up days.
 *
 * All instants are int64_t milliseconds since the epoch, UTC. Local dates and hours are
 * interpreted in the calendar's IANA time zone through libical (the system tz database),
 * so DST changes are right: an interval 09:00-18:00 on a DST day lasts what the wall
 * clock says it lasts in real seconds.
 *
 * Day rules: a date listed in `workdays` (make-up day, 调休) works Monday's hours; else a
 * date in `holidays` does not work; else the weekday's hours apply. A date in both lists
 * is a configuration error. The built-in calendar "24x7" is open all the time, in the
 * daemon's time zone (daemon.timezone). */
#ifndef SLAD_CALENDAR_H
#define SLAD_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct calendar;

/* A local date: year, month 1..12, day 1..31. */
struct calendar_date {
    int year, month, day;
};

/* One opening interval within a day, minutes since local midnight, 0 <= open < close <=
 * 1440. "18:00-24:00" is allowed; intervals of a day are sorted and do not overlap. */
struct calendar_interval {
    int open_min, close_min;
};

#define CALENDAR_MAX_INTERVALS 8

struct calendar_day_hours {
    struct calendar_interval iv[CALENDAR_MAX_INTERVALS];
    size_t n;
};

/* An inclusive range of local dates; a single day has first == last. */
struct calendar_date_range {
    struct calendar_date first, last;
};

/* What a config (or a test) says about a calendar; calendar_new copies it. */
struct calendar_spec {
    const char *name;
    const char *timezone;              /* IANA name, e.g. "Asia/Shanghai" */
    struct calendar_day_hours week[7]; /* index 0 = Monday .. 6 = Sunday */
    const struct calendar_date_range *holidays;
    size_t n_holidays;
    const struct calendar_date *workdays; /* make-up working days (调休) */
    size_t n_workdays;
    /* Optional iCalendar text (the loader reads the file): VEVENTs are holidays unless
     * marked working; ics_name (its path) names it in messages. */
    const char *ics_text;
    const char *ics_name;
};

/* Build a calendar. Errors (unknown time zone, overlapping or unsorted intervals, a date
 * both holiday and workday, an .ics text that is not iCalendar) name the calendar and the
 * bad value. */
int calendar_new(const struct calendar_spec *spec, struct calendar **ret,
                 struct slad_error *reterr);

/* The built-in "24x7" calendar: always open, its local dates (working-day targets such as
 * "3wd" close at local midnight) in zone (an IANA name; NULL: UTC). Errors as
 * calendar_new's. */
int calendar_new_24x7(const char *zone, struct calendar **ret, struct slad_error *reterr);

void calendar_free(struct calendar *cal);

const char *calendar_name(const struct calendar *cal);
const char *calendar_timezone(const struct calendar *cal);
bool calendar_is_24x7(const struct calendar *cal);

/* Parse a time of day "HH:MM" (00:00..23:59) into minutes since midnight. */
int calendar_parse_time(const char *text, int *ret_min, struct slad_error *reterr);

/* Parse "HH:MM-HH:MM" (24:00 allowed as a close) and "YYYY-MM-DD" / "YYYY-MM-DD..YYYY-MM-DD". */
int calendar_parse_interval(const char *text, struct calendar_interval *ret,
                            struct slad_error *reterr);
int calendar_parse_date(const char *text, struct calendar_date *ret, struct slad_error *reterr);
int calendar_parse_date_range(const char *text, struct calendar_date_range *ret,
                              struct slad_error *reterr);

/* Whether business time is counted at instant at_ms. */
bool calendar_is_open(const struct calendar *cal, int64_t at_ms);

/* The instant at which business_ms of business time have elapsed counting from start_ms.
 * A start outside hours counts from the next opening; a result that reaches the end of an
 * interval exactly stays at its close (a deadline can fall at closing time). business_ms
 * == 0 returns start_ms. Returns INT64_MAX when no opening exists within 20 years. */
int64_t calendar_add(const struct calendar *cal, int64_t start_ms, int64_t business_ms);

/* The inverse of calendar_add going back: the latest instant from which business_ms of
 * business time elapse until end_ms (calendar_elapsed(cal, result, end_ms) ==
 * business_ms). business_ms <= 0 returns end_ms; INT64_MIN when no opening exists within
 * 20 years before. */
int64_t calendar_sub(const struct calendar *cal, int64_t end_ms, int64_t business_ms);

/* Business time in [from_ms, to_ms); 0 when to_ms <= from_ms. For every start and d >= 0:
 * calendar_elapsed(cal, s, calendar_add(cal, s, d)) == d. */
int64_t calendar_elapsed(const struct calendar *cal, int64_t from_ms, int64_t to_ms);

/* Close of business of the n-th working day after the local date of start_ms (n >= 1);
 * n == 0 gives the close of the start day if it is a working day and start_ms is before
 * its close, else of the next working day. INT64_MAX when none within 20 years. */
int64_t calendar_workdays_close(const struct calendar *cal, int64_t start_ms, int n);

/* The next instant >= at_ms at which the calendar is open (at_ms itself when open). */
int64_t calendar_next_open(const struct calendar *cal, int64_t at_ms);

/* Where the calendar opens or closes: the first instant after at_ms at which
 * calendar_is_open changes (INT64_MAX: none within 20 years), and the last one at or
 * before at_ms (INT64_MIN: none within 20 years). Intervals that touch ("18:00-24:00",
 * then "00:00-09:00") are one opening: their seam is no change. */
int64_t calendar_next_change(const struct calendar *cal, int64_t at_ms);
int64_t calendar_prev_change(const struct calendar *cal, int64_t at_ms);

/* Local date and minutes since local midnight of an instant; offset of local time to UTC
 * in seconds (for formatting local times in templates). */
void calendar_local(const struct calendar *cal, int64_t at_ms, struct calendar_date *ret_date,
                    int *ret_minute, int *ret_utc_offset_s);

/* The first instant (seconds, UTC) at which the wall clock of cal reads local_s (seconds
 * since 1970-01-01T00:00 local time) or later: a skipped local time (spring DST) moves to
 * the jump, a repeated one takes its first occurrence. For recurrences in local time. */
int64_t calendar_utc_of_local(const struct calendar *cal, int64_t local_s);

#endif
