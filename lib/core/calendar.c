/* calendar.c - business-time arithmetic on calendars with time zones, holidays and
 * make-up working days.
 *
 * Time zones. libical reads the zone from the system tz database (/usr/share/zoneinfo);
 * calendar_new asks it, once, for the UTC offset of the zone over 1970..2499 and keeps the
 * result as a sorted table of offset changes (a 7-day scan bisected to the second, which
 * finds every change of every zone in tzdata over that range: checked against a 6-hour
 * scan). After that no libical call happens: every operation is arithmetic and binary
 * search on immutable data, so a calendar is cheap to query, needs no lock and gives the
 * same answer every time. Instants before 1970 use the offset in force on 1970-01-01;
 * instants from 2500 on are folded back by whole 400-year Gregorian cycles (146097 days,
 * a whole number of weeks), which is exact for the rules in force at the end of the table.
 * libical 3.0.16 (Debian 12) turns some TZif files into wrong rules; against glibc over all
 * zones it is right for Asia/Shanghai (since 1990), America/New_York and Europe/Berlin,
 * and wrong e.g. for Pacific/Easter from 2020 and America/St_Johns, Australia/Lord_Howe,
 * Pacific/Chatham from 2038 (see test-calendar.c). Those errors are libical's, not ours.
 *
 * Local times. A local time L maps to the first instant at which the wall clock reads L or
 * later: an ambiguous time (autumn, the hour that repeats) takes its first occurrence, and
 * a time that does not exist (spring, the hour that is skipped) moves forward to the
 * instant the clock jumps (02:30 on 2026-03-08 in America/New_York is 03:00 EDT,
 * 07:00Z). The map is monotonic, so the intervals of consecutive days stay sorted and
 * disjoint in UTC; an interval that falls entirely into a skipped hour is empty, and
 * "00:00-24:00" lasts 23 h or 25 h on change days. A day whose intervals are all empty is
 * not a working day.
 *
 * Days. A local day is an index (days since 1970-01-01 in local time). Its UTC intervals
 * ("spans") are computed on demand: one binary search in the holidays and one in the
 * make-up days choose the hours, one in the zone table tells whether the offset is
 * constant over the day (always, except on change days), and then each bound is a
 * subtraction. That costs tens of nanoseconds a day (calendar_add of a few hours on
 * cn-office: about 65 ns), less than a cache lookup would save, so there is no cache and
 * the const API is truthful.
 *
 * iCalendar import. Only all-day events count (DTSTART;VALUE=DATE; a timed event is an
 * error, so that a feed of meetings is not read as holidays). An event covers DTSTART up
 * to DTEND exclusive, or DTSTART plus a DURATION of whole days, or DTSTART alone; RRULE
 * (expanded up to 100 years after DTSTART), RDATE and EXDATE apply; STATUS:CANCELLED
 * events are skipped. An event is a make-up working day when its SUMMARY contains "班"
 * (补班, 上班) or, in any case, "workday" or "working day", or it has X-SLAD-WORKDAY:TRUE,
 * or a CATEGORIES value WORKDAY; every other event is a holiday. The .ics dates merge with
 * the config's lists; a date that ends up both a holiday and a working day is an error.
 *
 * Bounds. Instants are clamped to +-2^53 ms (about 285,000 years). A search that finds no
 * opening within 20 years, or a result more than 400 years after its start, gives
 * INT64_MAX; elapsed() counts at most 400 years. */
#include "calendar.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libical/ical.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"

#define S_PER_DAY   INT64_C(86400)
#define MS_PER_S    INT64_C(1000)
#define MIN_PER_DAY 1440

/* A Gregorian cycle: 400 years, 146097 days, 20871 weeks. */
#define CYCLE_DAYS INT64_C(146097)
#define CYCLE_S    (CYCLE_DAYS * S_PER_DAY)

/* The zone table covers [1970-01-01, 2500-01-01) UTC; 2500 is far enough that the folded
 * range [2100, 2500) lies in the era of each zone's final rule (the tz database spells
 * out explicit changes for some zones, such as Morocco, until 2087). */
#define ZONE_START_S     INT64_C(0)
#define ZONE_END_S       INT64_C(16725225600) /* 2500-01-01T00:00:00Z */
#define ZONE_SCAN_STEP_S (7 * S_PER_DAY)
/* Bigger than any UTC offset the tz database has ever had (+-15:57 of some LMTs). */
#define ZONE_MAX_OFFSET_S (26 * 3600)

#define HORIZON_DAYS     (20 * 366) /* no opening within this: INT64_MAX */
#define SPAN_DAYS        CYCLE_DAYS /* 400 years: longest search, longest elapsed() */
#define INSTANT_LIMIT_MS (INT64_C(1) << 53)

#define ICS_MAX_DATES      100000 /* holiday ranges plus make-up days from one file */
#define ICS_MAX_EVENT_DAYS 3660   /* one event longer than ten years is a mistake */
#define ICS_RRULE_YEARS    100    /* an endless RRULE is expanded this far from DTSTART */

/* One change of UTC offset: from start_s on (UTC seconds), local = UTC + off_s. The first
 * entry has start_s = INT64_MIN. */
struct zone {
    int64_t *start_s;
    int32_t *off_s;
    size_t n;
};

/* An inclusive range of local day indexes. */
struct day_range {
    int64_t first, last;
};

struct calendar {
    char *name;
    char *timezone;
    bool builtin_24x7;
    bool always_open; /* every day 00:00-24:00 and no holiday: pure arithmetic */
    struct calendar_day_hours week[7];
    struct day_range *holidays; /* sorted, disjoint, not adjacent */
    size_t n_holidays;
    int64_t *workdays; /* sorted, unique */
    size_t n_workdays;
    struct zone zone;
};

/* The UTC bounds of one opening interval, in ms. */
struct span {
    int64_t open_ms, close_ms;
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const struct calendar_day_hours closed_day = {.n = 0};

/* ---- Dates (proleptic Gregorian; the algorithms of H. Hinnant's chrono paper) ---- */

static bool date_valid(const struct calendar_date *d)
{
    return d->year >= 1 && d->year <= 9999 && d->month >= 1 && d->month <= 12 && d->day >= 1 &&
           d->day <= civil_month_days(d->year, d->month);
}

static int64_t date_day(const struct calendar_date *d)
{
    return civil_days(d->year, d->month, d->day);
}

static void format_day(int64_t day, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    civil_date(day, &y, &m, &d);
    snprintf(buf, size, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* ---- Time zone table ---- */

static int32_t ical_offset(icaltimezone *z, int64_t utc_s)
{
    int64_t day = civil_floor_div(utc_s, S_PER_DAY);
    int64_t sod = utc_s - day * S_PER_DAY;
    int64_t y;
    int m, d;
    civil_date(day, &y, &m, &d);
    struct icaltimetype t = icaltime_null_time();
    t.year = (int)y;
    t.month = m;
    t.day = d;
    t.hour = (int)(sod / 3600);
    t.minute = (int)(sod / 60 % 60);
    t.second = (int)(sod % 60);
    t.zone = icaltimezone_get_utc_timezone();
    int is_dst = 0;
    return icaltimezone_get_utc_offset_of_utc_time(z, &t, &is_dst);
}

static int zone_push(struct zone *zn, size_t *cap, int64_t start_s, int32_t off_s)
{
    if (zn->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        int64_t *s = realloc(zn->start_s, ncap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        zn->start_s = s;
        int32_t *o = realloc(zn->off_s, ncap * sizeof(*o));
        if (!o)
            return -ENOMEM;
        zn->off_s = o;
        *cap = ncap;
    }
    zn->start_s[zn->n] = start_s;
    zn->off_s[zn->n] = off_s;
    zn->n++;
    return 0;
}

static void zone_done(struct zone *zn)
{
    free(zn->start_s);
    free(zn->off_s);
    *zn = (struct zone){0};
}

static int zone_build(struct zone *zn, icaltimezone *z)
{
    size_t cap = 0;
    /* libical expands a zone's changes up to the latest year asked so far, from the start
     * each time: asking for the end first makes it expand once (2 ms, not 600). */
    (void)ical_offset(z, ZONE_END_S);
    int32_t cur = ical_offset(z, ZONE_START_S);
    int r = zone_push(zn, &cap, INT64_MIN, cur);
    for (int64_t s = ZONE_START_S; r == 0 && s < ZONE_END_S;) {
        int64_t e = s + ZONE_SCAN_STEP_S < ZONE_END_S ? s + ZONE_SCAN_STEP_S : ZONE_END_S;
        if (ical_offset(z, e) == cur) {
            s = e;
            continue;
        }
        /* Invariant: offset(lo) == cur, offset(hi) != cur. */
        int64_t lo = s, hi = e;
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (ical_offset(z, mid) == cur)
                lo = mid;
            else
                hi = mid;
        }
        cur = ical_offset(z, hi);
        r = zone_push(zn, &cap, hi, cur);
        s = hi;
    }
    if (r < 0) {
        zone_done(zn);
        return r;
    }
    for (size_t i = 0; i < zn->n; i++)
        if (zn->off_s[i] > ZONE_MAX_OFFSET_S || zn->off_s[i] < -ZONE_MAX_OFFSET_S) {
            zone_done(zn);
            return -ERANGE;
        }
    return 0;
}

/* Index of the entry in force at UTC second u (u already folded). */
static size_t zone_index(const struct zone *zn, int64_t u)
{
    size_t lo = 0, hi = zn->n; /* start_s[lo] <= u; the answer is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (zn->start_s[mid] <= u)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* How many 400-year cycles to subtract to bring t below the end of the table. */
static int64_t zone_fold(int64_t t)
{
    return t >= ZONE_END_S ? (t - ZONE_END_S) / CYCLE_S + 1 : 0;
}

static int32_t zone_offset(const struct zone *zn, int64_t utc_s)
{
    utc_s -= zone_fold(utc_s) * CYCLE_S;
    return zn->off_s[zone_index(zn, utc_s)];
}

/* The first instant at which the wall clock reads local_s or later (see the top). */
static int64_t zone_local_to_utc(const struct zone *zn, int64_t local_s)
{
    int64_t k = zone_fold(local_s);
    int64_t l = local_s - k * CYCLE_S;
    /* Entries that end before l - max offset cannot hold l; the entry found here starts
     * early enough that l is not before its local range. */
    for (size_t j = zone_index(zn, l - ZONE_MAX_OFFSET_S);; j++) {
        int64_t off = zn->off_s[j];
        if (j > 0 && l < zn->start_s[j] + off)
            return zn->start_s[j] + k * CYCLE_S; /* skipped: the clock jumps over l */
        if (j + 1 == zn->n || l < zn->start_s[j + 1] + off)
            return l - off + k * CYCLE_S;
    }
}

/* ---- Days ---- */

static int64_t clamp_instant(int64_t ms)
{
    if (ms > INSTANT_LIMIT_MS)
        return INSTANT_LIMIT_MS;
    if (ms < -INSTANT_LIMIT_MS)
        return -INSTANT_LIMIT_MS;
    return ms;
}

/* The local day (wall-clock date) of an instant. */
static int64_t local_day(const struct calendar *cal, int64_t at_ms)
{
    int64_t u = civil_floor_div(at_ms, MS_PER_S);
    return civil_floor_div(u + zone_offset(&cal->zone, u), S_PER_DAY);
}

static bool is_holiday(const struct calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->n_holidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->holidays[mid].last < day)
            lo = mid + 1;
        else if (cal->holidays[mid].first > day)
            hi = mid;
        else
            return true;
    }
    return false;
}

static bool is_workday(const struct calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->n_workdays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->workdays[mid] < day)
            lo = mid + 1;
        else if (cal->workdays[mid] > day)
            hi = mid;
        else
            return true;
    }
    return false;
}

/* The day rule of the header: make-up day, then holiday, then weekday. */
static const struct calendar_day_hours *hours_of_day(const struct calendar *cal, int64_t day)
{
    if (cal->n_workdays && is_workday(cal, day))
        return &cal->week[0];
    if (cal->n_holidays && is_holiday(cal, day))
        return &closed_day;
    return &cal->week[civil_weekday(day)];
}

/* The non-empty UTC spans of a local day, in order; returns how many. */
static size_t day_spans(const struct calendar *cal, int64_t day, struct span *out)
{
    const struct calendar_day_hours *h = hours_of_day(cal, day);
    if (h->n == 0)
        return 0;
    const struct zone *zn = &cal->zone;
    int64_t ls = day * S_PER_DAY;
    int64_t le = ls + S_PER_DAY;
    bool fixed = false;
    int64_t off = 0;
    if (le + ZONE_MAX_OFFSET_S < ZONE_END_S) {
        /* One entry in force over every instant the day can map to: constant offset. */
        size_t j = zone_index(zn, ls - ZONE_MAX_OFFSET_S);
        if (j + 1 == zn->n || zn->start_s[j + 1] > le + ZONE_MAX_OFFSET_S) {
            fixed = true;
            off = zn->off_s[j];
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++) {
        int64_t o = ls + h->iv[i].open_min * 60;
        int64_t c = ls + h->iv[i].close_min * 60;
        if (fixed) {
            o -= off;
            c -= off;
        } else {
            o = zone_local_to_utc(zn, o);
            c = zone_local_to_utc(zn, c);
        }
        if (c > o)
            out[n++] = (struct span){o * MS_PER_S, c * MS_PER_S};
    }
    return n;
}

/* ---- Operations ---- */

bool calendar_is_open(const struct calendar *cal, int64_t at_ms)
{
    if (cal->always_open)
        return true;
    at_ms = clamp_instant(at_ms);
    int64_t day = local_day(cal, at_ms);
    struct span sp[CALENDAR_MAX_INTERVALS];
    /* The spans of the day before end before at_ms; the next day's may hold it when the
     * clock went back over midnight. */
    for (int64_t d = day; d <= day + 1; d++) {
        size_t n = day_spans(cal, d, sp);
        for (size_t i = 0; i < n; i++) {
            if (sp[i].open_ms > at_ms)
                return false;
            if (at_ms < sp[i].close_ms)
                return true;
        }
    }
    return false;
}

int64_t calendar_next_open(const struct calendar *cal, int64_t at_ms)
{
    if (cal->always_open)
        return at_ms;
    if (at_ms > INSTANT_LIMIT_MS)
        return INT64_MAX;
    at_ms = clamp_instant(at_ms);
    int64_t day = local_day(cal, at_ms);
    struct span sp[CALENDAR_MAX_INTERVALS];
    for (int64_t d = day; d <= day + HORIZON_DAYS; d++) {
        size_t n = day_spans(cal, d, sp);
        for (size_t i = 0; i < n; i++)
            if (sp[i].close_ms > at_ms)
                return sp[i].open_ms > at_ms ? sp[i].open_ms : at_ms;
    }
    return INT64_MAX;
}

/* The openings of consecutive days as one sequence, touching spans merged: spans come in
 * from day_spans one day at a time (forward, or backward with every day reversed), and a
 * merged span is handed out once the next one does not touch it. */
struct merged {
    struct span cur;
    bool have;
};

/* Add sp (later than cur going forward, earlier going backward); true with *ret the
 * finished span when sp does not touch cur. */
static bool merge_span(struct merged *m, struct span sp, bool forward, struct span *ret)
{
    if (m->have && (forward ? sp.open_ms == m->cur.close_ms : sp.close_ms == m->cur.open_ms)) {
        if (forward)
            m->cur.close_ms = sp.close_ms;
        else
            m->cur.open_ms = sp.open_ms;
        return false;
    }
    bool done = m->have;
    *ret = m->cur;
    m->cur = sp;
    m->have = true;
    return done;
}

/* The first change after at_ms of a merged span s: its open or its close. */
static int64_t change_after(struct span s, int64_t at_ms)
{
    return s.open_ms > at_ms ? s.open_ms : s.close_ms > at_ms ? s.close_ms : INT64_MIN;
}

/* The last change at or before at_ms of a merged span s. */
static int64_t change_before(struct span s, int64_t at_ms)
{
    return s.close_ms <= at_ms ? s.close_ms : s.open_ms <= at_ms ? s.open_ms : INT64_MAX;
}

int64_t calendar_next_change(const struct calendar *cal, int64_t at_ms)
{
    if (cal->always_open || at_ms >= INSTANT_LIMIT_MS)
        return INT64_MAX;
    at_ms = clamp_instant(at_ms);
    /* From the day before: its last span may reach into at_ms's day. */
    int64_t day = local_day(cal, at_ms) - 1;
    struct merged m = {.have = false};
    struct span sp[CALENDAR_MAX_INTERVALS], done;
    for (int64_t d = day; d <= day + HORIZON_DAYS; d++) {
        size_t n = day_spans(cal, d, sp);
        for (size_t i = 0; i < n; i++) {
            int64_t c;
            if (merge_span(&m, sp[i], true, &done) && (c = change_after(done, at_ms)) != INT64_MIN)
                return c;
        }
    }
    /* The last span's far end is where the search stopped, not a change. */
    return m.have && m.cur.open_ms > at_ms ? m.cur.open_ms : INT64_MAX;
}

int64_t calendar_prev_change(const struct calendar *cal, int64_t at_ms)
{
    if (cal->always_open || at_ms <= -INSTANT_LIMIT_MS)
        return INT64_MIN;
    at_ms = clamp_instant(at_ms);
    /* From the day after: see calendar_is_open. */
    int64_t day = local_day(cal, at_ms) + 1;
    struct merged m = {.have = false};
    struct span sp[CALENDAR_MAX_INTERVALS], done;
    for (int64_t d = day; d >= day - HORIZON_DAYS; d--) {
        size_t n = day_spans(cal, d, sp);
        for (size_t i = n; i-- > 0;) {
            int64_t c;
            if (merge_span(&m, sp[i], false, &done) &&
                (c = change_before(done, at_ms)) != INT64_MAX)
                return c;
        }
    }
    return m.have && m.cur.close_ms <= at_ms ? m.cur.close_ms : INT64_MIN;
}

int64_t calendar_add(const struct calendar *cal, int64_t start_ms, int64_t business_ms)
{
    if (business_ms <= 0)
        return start_ms;
    if (cal->always_open)
        return start_ms > INT64_MAX - business_ms ? INT64_MAX : start_ms + business_ms;
    if (start_ms > INSTANT_LIMIT_MS)
        return INT64_MAX;
    int64_t at = clamp_instant(start_ms);
    int64_t left = business_ms;
    int64_t day = local_day(cal, at);
    int64_t idle = 0; /* days in a row without business time after at */
    struct span sp[CALENDAR_MAX_INTERVALS];
    for (int64_t d = day; d <= day + SPAN_DAYS; d++) {
        size_t n = day_spans(cal, d, sp);
        bool counted = false;
        for (size_t i = 0; i < n; i++) {
            if (sp[i].close_ms <= at)
                continue;
            int64_t from = sp[i].open_ms > at ? sp[i].open_ms : at;
            int64_t avail = sp[i].close_ms - from;
            /* <=: a result at the very end of a span stays at its close. */
            if (left <= avail)
                return from + left;
            left -= avail;
            counted = true;
        }
        if (counted)
            idle = 0;
        else if (++idle > HORIZON_DAYS)
            return INT64_MAX;
    }
    return INT64_MAX;
}

int64_t calendar_sub(const struct calendar *cal, int64_t end_ms, int64_t business_ms)
{
    if (business_ms <= 0)
        return end_ms;
    if (cal->always_open)
        return end_ms < INT64_MIN + business_ms ? INT64_MIN : end_ms - business_ms;
    int64_t at = clamp_instant(end_ms);
    int64_t left = business_ms;
    /* + 1: a span of the next local day may start before at when the clock went back. */
    int64_t day = local_day(cal, at) + 1;
    int64_t idle = 0;
    struct span sp[CALENDAR_MAX_INTERVALS];
    for (int64_t d = day; d >= day - SPAN_DAYS; d--) {
        size_t n = day_spans(cal, d, sp);
        bool counted = false;
        for (size_t i = n; i-- > 0;) {
            if (sp[i].open_ms >= at)
                continue;
            int64_t to = sp[i].close_ms < at ? sp[i].close_ms : at;
            int64_t avail = to - sp[i].open_ms;
            if (left <= avail)
                return to - left;
            left -= avail;
            counted = true;
        }
        if (counted)
            idle = 0;
        else if (++idle > HORIZON_DAYS)
            return INT64_MIN;
    }
    return INT64_MIN;
}

int64_t calendar_elapsed(const struct calendar *cal, int64_t from_ms, int64_t to_ms)
{
    from_ms = clamp_instant(from_ms);
    to_ms = clamp_instant(to_ms);
    if (to_ms <= from_ms)
        return 0;
    if (cal->always_open)
        return to_ms - from_ms;
    int64_t first = local_day(cal, from_ms);
    int64_t last = local_day(cal, to_ms) + 1; /* + 1: see calendar_is_open */
    if (last > first + SPAN_DAYS + 2)
        last = first + SPAN_DAYS + 2;
    int64_t sum = 0;
    struct span sp[CALENDAR_MAX_INTERVALS];
    for (int64_t d = first; d <= last; d++) {
        size_t n = day_spans(cal, d, sp);
        for (size_t i = 0; i < n; i++) {
            if (sp[i].open_ms >= to_ms)
                return sum;
            int64_t a = sp[i].open_ms > from_ms ? sp[i].open_ms : from_ms;
            int64_t b = sp[i].close_ms < to_ms ? sp[i].close_ms : to_ms;
            if (b > a)
                sum += b - a;
        }
    }
    return sum;
}

int64_t calendar_workdays_close(const struct calendar *cal, int64_t start_ms, int n)
{
    if (start_ms > INSTANT_LIMIT_MS)
        return INT64_MAX;
    start_ms = clamp_instant(start_ms);
    if (n < 0)
        n = 0;
    int64_t day = local_day(cal, start_ms);
    struct span sp[CALENDAR_MAX_INTERVALS];
    if (n == 0) {
        size_t k = day_spans(cal, day, sp);
        if (k > 0 && start_ms < sp[k - 1].close_ms)
            return sp[k - 1].close_ms;
        n = 1;
    }
    int64_t idle = 0;
    int found = 0;
    for (int64_t d = day + 1; d <= day + SPAN_DAYS; d++) {
        size_t k = day_spans(cal, d, sp);
        if (k == 0) {
            if (++idle > HORIZON_DAYS)
                return INT64_MAX;
            continue;
        }
        idle = 0;
        if (++found == n)
            return sp[k - 1].close_ms;
    }
    return INT64_MAX;
}

void calendar_local(const struct calendar *cal, int64_t at_ms, struct calendar_date *ret_date,
                    int *ret_minute, int *ret_utc_offset_s)
{
    int64_t u = civil_floor_div(clamp_instant(at_ms), MS_PER_S);
    int32_t off = zone_offset(&cal->zone, u);
    int64_t local = u + off;
    int64_t day = civil_floor_div(local, S_PER_DAY);
    if (ret_date) {
        int64_t y;
        civil_date(day, &y, &ret_date->month, &ret_date->day);
        ret_date->year = (int)y;
    }
    if (ret_minute)
        *ret_minute = (int)((local - day * S_PER_DAY) / 60);
    if (ret_utc_offset_s)
        *ret_utc_offset_s = off;
}

int64_t calendar_utc_of_local(const struct calendar *cal, int64_t local_s)
{
    return zone_local_to_utc(&cal->zone, local_s);
}

const char *calendar_name(const struct calendar *cal)
{
    return cal->name;
}

const char *calendar_timezone(const struct calendar *cal)
{
    return cal->timezone;
}

bool calendar_is_24x7(const struct calendar *cal)
{
    return cal->builtin_24x7;
}

/* ---- Parsing ---- */

/* Reads 1 or 2 digits of hour, ':', 2 digits of minute; returns the characters used or 0. */
static size_t parse_hhmm(const char *p, int *ret_min)
{
    size_t i = 0;
    int h = 0;
    while (i < 2 && p[i] >= '0' && p[i] <= '9')
        h = h * 10 + (p[i++] - '0');
    if (i == 0 || p[i] != ':')
        return 0;
    i++;
    if (!(p[i] >= '0' && p[i] <= '9' && p[i + 1] >= '0' && p[i + 1] <= '9'))
        return 0;
    int m = (p[i] - '0') * 10 + (p[i + 1] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return SIZE_MAX; /* the form is right, the value is not */
    *ret_min = h * 60 + m;
    return i + 2;
}

int calendar_parse_time(const char *text, int *ret_min, struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "time of day: missing text");
    int min = 0;
    size_t n = parse_hhmm(text, &min);
    if (n == 0 || (n != SIZE_MAX && text[n] != '\0'))
        return slad_error_set(reterr, EINVAL, "time of day '%s': expected HH:MM, e.g. 09:00", text);
    if (n == SIZE_MAX || min == MIN_PER_DAY)
        return slad_error_set(reterr, EINVAL,
                              "time of day '%s': no such time of day, 00:00 to 23:59", text);
    *ret_min = min;
    return 0;
}

int calendar_parse_interval(const char *text, struct calendar_interval *ret,
                            struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "interval: missing text");
    int open = 0, close = 0;
    size_t a = parse_hhmm(text, &open);
    if (a == 0 || (a != SIZE_MAX && text[a] != '-'))
        return slad_error_set(reterr, EINVAL,
                              "interval '%s': expected HH:MM-HH:MM, e.g. 09:00-18:00", text);
    if (a == SIZE_MAX)
        return slad_error_set(reterr, EINVAL, "interval '%s': no such time of day", text);
    size_t b = parse_hhmm(text + a + 1, &close);
    if (b == 0 || (b != SIZE_MAX && text[a + 1 + b] != '\0'))
        return slad_error_set(reterr, EINVAL,
                              "interval '%s': expected HH:MM-HH:MM, e.g. 09:00-18:00", text);
    if (b == SIZE_MAX)
        return slad_error_set(reterr, EINVAL, "interval '%s': no such time of day", text);
    if (open == MIN_PER_DAY)
        return slad_error_set(reterr, EINVAL, "interval '%s': 24:00 can only close an interval",
                              text);
    if (close == open)
        return slad_error_set(reterr, EINVAL, "interval '%s': empty", text);
    if (close < open)
        return slad_error_set(reterr, EINVAL,
                              "interval '%s': closes before it opens (an interval cannot cross "
                              "midnight: split it, e.g. 18:00-24:00 and 00:00-09:00)",
                              text);
    ret->open_min = open;
    ret->close_min = close;
    return 0;
}

/* Exactly YYYY-MM-DD at p; returns false on a wrong form (the value is checked apart). */
static bool parse_ymd(const char *p, struct calendar_date *ret)
{
    static const char form[] = "dddd-dd-dd";
    for (size_t i = 0; i < sizeof(form) - 1; i++) {
        if (form[i] == 'd' ? !(p[i] >= '0' && p[i] <= '9') : p[i] != form[i])
            return false;
    }
    ret->year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    ret->month = (p[5] - '0') * 10 + (p[6] - '0');
    ret->day = (p[8] - '0') * 10 + (p[9] - '0');
    return true;
}

int calendar_parse_date(const char *text, struct calendar_date *ret, struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "date: missing text");
    struct calendar_date d;
    if (strlen(text) != 10 || !parse_ymd(text, &d))
        return slad_error_set(reterr, EINVAL, "date '%s': expected YYYY-MM-DD", text);
    if (!date_valid(&d))
        return slad_error_set(reterr, EINVAL, "date '%s': no such day", text);
    *ret = d;
    return 0;
}

int calendar_parse_date_range(const char *text, struct calendar_date_range *ret,
                              struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "dates: missing text");
    const char *dots = strstr(text, "..");
    if (!dots) {
        struct calendar_date d;
        int r = calendar_parse_date(text, &d, reterr);
        if (r < 0)
            return r;
        ret->first = ret->last = d;
        return 0;
    }
    struct calendar_date a, b;
    if (dots - text != 10 || strlen(dots + 2) != 10 || !parse_ymd(text, &a) ||
        !parse_ymd(dots + 2, &b))
        return slad_error_set(reterr, EINVAL,
                              "dates '%s': expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD", text);
    if (!date_valid(&a) || !date_valid(&b))
        return slad_error_set(reterr, EINVAL, "dates '%s': no such day", text);
    if (date_day(&b) < date_day(&a))
        return slad_error_set(reterr, EINVAL, "dates '%s': the range ends before it starts", text);
    ret->first = a;
    ret->last = b;
    return 0;
}

/* ---- Building ---- */

/* Holidays and make-up days as collected from the spec and the .ics, before merging; the
 * origin is kept for the error message of a date in both lists. */
struct src_range {
    int64_t first, last;
    bool from_ics;
};

struct src_day {
    int64_t day;
    bool from_ics;
};

struct dates {
    struct src_range *hol;
    size_t n_hol, cap_hol;
    struct src_day *work;
    size_t n_work, cap_work;
    size_t n_ics; /* entries that came from the .ics, for ICS_MAX_DATES */
};

static void dates_done(struct dates *ds)
{
    free(ds->hol);
    free(ds->work);
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 32;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*v, ncap * elem);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

static int add_holiday(struct dates *ds, int64_t first, int64_t last, bool from_ics)
{
    if (grow((void **)&ds->hol, &ds->cap_hol, ds->n_hol + 1, sizeof(*ds->hol)) < 0)
        return -ENOMEM;
    ds->hol[ds->n_hol++] = (struct src_range){first, last, from_ics};
    return 0;
}

static int add_workday(struct dates *ds, int64_t day, bool from_ics)
{
    if (grow((void **)&ds->work, &ds->cap_work, ds->n_work + 1, sizeof(*ds->work)) < 0)
        return -ENOMEM;
    ds->work[ds->n_work++] = (struct src_day){day, from_ics};
    return 0;
}

static int cmp_src_range(const void *a, const void *b)
{
    const struct src_range *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_src_day(const void *a, const void *b)
{
    const struct src_day *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Whether a .ics event is a make-up working day rather than a holiday: the rule of the
 * header, so that the usual Chinese feeds ("国庆节补班", "上班") and hand-written files
 * (X-SLAD-WORKDAY:TRUE, CATEGORIES:WORKDAY) both work. */
static bool ics_event_is_workday(icalcomponent *ev)
{
    const char *summary = icalcomponent_get_summary(ev);
    if (summary && (strstr(summary, "\xe7\x8f\xad") /* 班 */ || strcasestr(summary, "workday") ||
                    strcasestr(summary, "working day")))
        return true;
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name(p);
        const char *value = icalproperty_get_x(p);
        if (name && value && !strcasecmp(name, "X-SLAD-WORKDAY") && !strcasecmp(value, "TRUE"))
            return true;
    }
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_CATEGORIES_PROPERTY)) {
        const char *v = icalproperty_get_categories(p);
        while (v && *v) {
            while (*v == ' ' || *v == ',')
                v++;
            size_t len = strcspn(v, ",");
            size_t t = len;
            while (t > 0 && v[t - 1] == ' ')
                t--;
            if (t == 7 && !strncasecmp(v, "WORKDAY", 7))
                return true;
            v += len;
        }
    }
    return false;
}

static int ics_date_day(struct icaltimetype t, int64_t *ret)
{
    struct calendar_date d = {t.year, t.month, t.day};
    if (icaltime_is_null_time(t) || !t.is_date || !date_valid(&d))
        return -EINVAL;
    *ret = date_day(&d);
    return 0;
}

static int ics_event(struct dates *ds, icalcomponent *ev, struct slad_error *reterr)
{
    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
        return 0;
    const char *summary = icalcomponent_get_summary(ev);
    if (!summary)
        summary = "";

    icalproperty *ps = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    if (!ps) {
        icalproperty *le = icalcomponent_get_first_property(ev, ICAL_XLICERROR_PROPERTY);
        return slad_error_set(reterr, EINVAL, "event '%s': no valid DTSTART%s%s", summary,
                              le ? ": " : "", le ? icalproperty_get_xlicerror(le) : "");
    }
    struct icaltimetype ts = icalproperty_get_dtstart(ps);
    int64_t first;
    if (!ts.is_date)
        return slad_error_set(reterr, EINVAL,
                              "event '%s' (DTSTART %s): not an all-day event; holidays and "
                              "working days are read from DTSTART;VALUE=DATE events only",
                              summary, icalproperty_get_value_as_string(ps));
    if (ics_date_day(ts, &first) < 0)
        return slad_error_set(reterr, EINVAL, "event '%s': bad DTSTART", summary);

    /* RFC 5545 3.6.1: DTEND is exclusive; without DTEND or DURATION a date event lasts
     * one day. */
    int64_t n_days = 1;
    icalproperty *pe = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    icalproperty *pd = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
    if (pe) {
        int64_t end;
        if (ics_date_day(icalproperty_get_dtend(pe), &end) < 0)
            return slad_error_set(reterr, EINVAL, "event '%s': DTEND must be a date like DTSTART",
                                  summary);
        n_days = end - first;
    } else if (pd) {
        struct icaldurationtype dur = icalproperty_get_duration(pd);
        int secs = icaldurationtype_is_bad_duration(dur) ? -1 : icaldurationtype_as_int(dur);
        if (secs <= 0 || secs % S_PER_DAY)
            return slad_error_set(reterr, EINVAL,
                                  "event '%s': DURATION must be a whole number of days", summary);
        n_days = secs / S_PER_DAY;
    }
    if (n_days < 1)
        return slad_error_set(reterr, EINVAL, "event '%s': ends before it starts", summary);
    if (n_days > ICS_MAX_EVENT_DAYS)
        return slad_error_set(reterr, EINVAL, "event '%s': lasts more than %d days", summary,
                              ICS_MAX_EVENT_DAYS);

    /* The start days: DTSTART, RRULE and RDATE occurrences, less EXDATEs. */
    int64_t *starts = NULL;
    size_t n_starts = 0, cap = 0;
    int r = grow((void **)&starts, &cap, 1, sizeof(*starts));
    if (r < 0)
        return r;
    starts[n_starts++] = first;
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p && !r;
         p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY)) {
        icalrecur_iterator *it = icalrecur_iterator_new(icalproperty_get_rrule(p), ts);
        if (!it) {
            r = slad_error_set(reterr, EINVAL, "event '%s': RRULE '%s' has no occurrence", summary,
                               icalproperty_get_value_as_string(p));
            break;
        }
        for (struct icaltimetype t = icalrecur_iterator_next(it);
             !icaltime_is_null_time(t) && t.year <= ts.year + ICS_RRULE_YEARS;
             t = icalrecur_iterator_next(it)) {
            int64_t d;
            if (ics_date_day(t, &d) < 0)
                continue;
            if (n_starts >= ICS_MAX_DATES) {
                r = slad_error_set(reterr, E2BIG, "event '%s': more than %d occurrences", summary,
                                   ICS_MAX_DATES);
                break;
            }
            if ((r = grow((void **)&starts, &cap, n_starts + 1, sizeof(*starts))) < 0)
                break;
            starts[n_starts++] = d;
        }
        icalrecur_iterator_free(it);
    }
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); p && !r;
         p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
        int64_t d;
        if (ics_date_day(icalproperty_get_rdate(p).time, &d) < 0) {
            r = slad_error_set(reterr, EINVAL, "event '%s': RDATE must be a date", summary);
            break;
        }
        if ((r = grow((void **)&starts, &cap, n_starts + 1, sizeof(*starts))) < 0)
            break;
        starts[n_starts++] = d;
    }
    if (r < 0) {
        free(starts);
        return r;
    }
    qsort(starts, n_starts, sizeof(*starts), cmp_i64);
    for (icalproperty *p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
        int64_t d;
        if (ics_date_day(icalproperty_get_exdate(p), &d) < 0)
            continue;
        for (size_t i = 0; i < n_starts; i++)
            if (starts[i] == d)
                starts[i] = INT64_MIN; /* removed */
    }

    bool work = ics_event_is_workday(ev);
    for (size_t i = 0; i < n_starts && !r; i++) {
        if (starts[i] == INT64_MIN || (i > 0 && starts[i] == starts[i - 1]))
            continue;
        ds->n_ics += work ? (size_t)n_days : 1;
        if (ds->n_ics > ICS_MAX_DATES) {
            r = slad_error_set(reterr, E2BIG, "more than %d dates", ICS_MAX_DATES);
            break;
        }
        if (!work)
            r = add_holiday(ds, starts[i], starts[i] + n_days - 1, true);
        for (int64_t k = 0; work && k < n_days && !r; k++)
            r = add_workday(ds, starts[i] + k, true);
    }
    free(starts);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    return r;
}

static int ics_calendar(struct dates *ds, icalcomponent *vcal, struct slad_error *reterr)
{
    for (icalcomponent *ev = icalcomponent_get_first_component(vcal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(vcal, ICAL_VEVENT_COMPONENT)) {
        int r = ics_event(ds, ev, reterr);
        if (r < 0)
            return r;
    }
    return 0;
}

static int ics_import(struct dates *ds, const char *text, struct slad_error *reterr)
{
    int r = 0;
    icalcomponent *root = icalparser_parse_string(text);
    icalcomponent_kind kind = root ? icalcomponent_isa(root) : ICAL_NO_COMPONENT;
    if (kind == ICAL_VCALENDAR_COMPONENT) {
        r = ics_calendar(ds, root, reterr);
    } else if (kind == ICAL_XROOT_COMPONENT) {
        /* Several VCALENDARs in one file. */
        for (icalcomponent *c = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
             c && r == 0; c = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
            r = ics_calendar(ds, c, reterr);
    } else {
        r = slad_error_set(reterr, EINVAL, "not an iCalendar file (no BEGIN:VCALENDAR)");
    }
    if (root)
        icalcomponent_free(root);
    return r;
}

/* Sort and merge the collected dates into cal; a date in both lists is an error. */
static int dates_merge(struct calendar *cal, struct dates *ds, const char *ics_path,
                       struct slad_error *reterr)
{
    if (ds->n_hol) /* qsort's base may not be NULL, even for no elements */
        qsort(ds->hol, ds->n_hol, sizeof(*ds->hol), cmp_src_range);
    if (ds->n_work)
        qsort(ds->work, ds->n_work, sizeof(*ds->work), cmp_src_day);
    if (ds->n_hol) {
        cal->holidays = calloc(ds->n_hol, sizeof(*cal->holidays));
        if (!cal->holidays)
            return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ds->n_hol; i++) {
        struct day_range *prev = cal->n_holidays ? &cal->holidays[cal->n_holidays - 1] : NULL;
        if (prev && ds->hol[i].first <= prev->last + 1) {
            if (ds->hol[i].last > prev->last)
                prev->last = ds->hol[i].last;
        } else {
            cal->holidays[cal->n_holidays++] =
                (struct day_range){ds->hol[i].first, ds->hol[i].last};
        }
    }
    if (ds->n_work) {
        cal->workdays = calloc(ds->n_work, sizeof(*cal->workdays));
        if (!cal->workdays)
            return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ds->n_work; i++) {
        int64_t day = ds->work[i].day;
        if (cal->n_workdays && cal->workdays[cal->n_workdays - 1] == day)
            continue;
        if (is_holiday(cal, day)) {
            /* Find where the holiday came from, for the message. */
            bool hol_ics = false;
            for (size_t k = 0; k < ds->n_hol; k++)
                if (ds->hol[k].first <= day && day <= ds->hol[k].last) {
                    hol_ics = ds->hol[k].from_ics;
                    if (!hol_ics)
                        break;
                }
            char date[32];
            format_day(day, date, sizeof(date));
            return slad_error_set(reterr, EINVAL,
                                  "%s is both a holiday (%s%s%s) and a make-up working day "
                                  "(%s%s%s)",
                                  date, hol_ics ? "from '" : "holidays", hol_ics ? ics_path : "",
                                  hol_ics ? "'" : "", ds->work[i].from_ics ? "from '" : "workdays",
                                  ds->work[i].from_ics ? ics_path : "",
                                  ds->work[i].from_ics ? "'" : "");
        }
        cal->workdays[cal->n_workdays++] = day;
    }
    return 0;
}

static int check_hours(const struct calendar_day_hours *h, const char *day,
                       struct slad_error *reterr)
{
    if (h->n > CALENDAR_MAX_INTERVALS)
        return slad_error_set(reterr, EINVAL, "hours for %s: more than %d intervals", day,
                              CALENDAR_MAX_INTERVALS);
    for (size_t i = 0; i < h->n; i++) {
        const struct calendar_interval *iv = &h->iv[i];
        if (iv->open_min < 0 || iv->close_min > MIN_PER_DAY || iv->open_min >= iv->close_min)
            return slad_error_set(reterr, EINVAL,
                                  "hours for %s: bad interval %02d:%02d-%02d:%02d "
                                  "(0 <= open < close <= 24:00)",
                                  day, iv->open_min / 60, iv->open_min % 60, iv->close_min / 60,
                                  iv->close_min % 60);
        if (i > 0 && iv->open_min < h->iv[i - 1].close_min) {
            const struct calendar_interval *pv = &h->iv[i - 1];
            return slad_error_set(
                reterr, EINVAL,
                "hours for %s: interval %02d:%02d-%02d:%02d %s "
                "%02d:%02d-%02d:%02d (list intervals in order, without "
                "overlaps)",
                day, iv->open_min / 60, iv->open_min % 60, iv->close_min / 60, iv->close_min % 60,
                iv->close_min > pv->open_min ? "overlaps" : "comes before", pv->open_min / 60,
                pv->open_min % 60, pv->close_min / 60, pv->close_min % 60);
        }
    }
    return 0;
}

static int check_date(const struct calendar_date *d, const char *what, struct slad_error *reterr)
{
    if (date_valid(d))
        return 0;
    return slad_error_set(reterr, EINVAL, "%s: no such day %04d-%02d-%02d", what, d->year, d->month,
                          d->day);
}

static int build(struct calendar *cal, const struct calendar_spec *spec, struct slad_error *reterr)
{
    const char *zone_name = spec->timezone;
    if (!zone_name || !*zone_name)
        return slad_error_set(reterr, EINVAL, "no time zone");
    /* Zone names are looked up as files: refuse anything that could leave the database. */
    icaltimezone *z = NULL;
    if (zone_name[0] != '/' && !strstr(zone_name, ".."))
        z = icaltimezone_get_builtin_timezone(zone_name);
    if (!z)
        return slad_error_set(reterr, EINVAL,
                              "unknown time zone '%s' (use an IANA name such as Asia/Shanghai)",
                              zone_name);
    for (int i = 0; i < 7; i++) {
        int r = check_hours(&spec->week[i], day_names[i], reterr);
        if (r < 0)
            return r;
        cal->week[i] = spec->week[i];
    }

    struct dates ds = {0};
    int r = 0;
    for (size_t i = 0; i < spec->n_holidays && r == 0; i++) {
        const struct calendar_date_range *h = &spec->holidays[i];
        if ((r = check_date(&h->first, "holidays", reterr)) < 0 ||
            (r = check_date(&h->last, "holidays", reterr)) < 0)
            break;
        if (date_day(&h->last) < date_day(&h->first)) {
            r = slad_error_set(reterr, EINVAL,
                               "holidays: %04d-%02d-%02d..%04d-%02d-%02d ends before it starts",
                               h->first.year, h->first.month, h->first.day, h->last.year,
                               h->last.month, h->last.day);
            break;
        }
        r = add_holiday(&ds, date_day(&h->first), date_day(&h->last), false);
    }
    for (size_t i = 0; i < spec->n_workdays && r == 0; i++) {
        if ((r = check_date(&spec->workdays[i], "workdays", reterr)) < 0)
            break;
        r = add_workday(&ds, date_day(&spec->workdays[i]), false);
    }
    const char *ics_name = spec->ics_name ? spec->ics_name : "the .ics";
    if (r == 0 && spec->ics_text) {
        r = ics_import(&ds, spec->ics_text, reterr);
        if (r < 0)
            slad_error_prefix(reterr, "ics '%s': ", ics_name);
    }
    if (r == 0)
        r = dates_merge(cal, &ds, spec->ics_text ? ics_name : "", reterr);
    dates_done(&ds);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if (r < 0)
        return r;

    r = zone_build(&cal->zone, z);
    if (r == -ERANGE)
        return slad_error_set(reterr, ERANGE, "time zone '%s': offset out of range", zone_name);
    if (r < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");

    cal->always_open = cal->n_holidays == 0;
    for (int i = 0; i < 7; i++)
        if (cal->week[i].n != 1 || cal->week[i].iv[0].open_min != 0 ||
            cal->week[i].iv[0].close_min != MIN_PER_DAY)
            cal->always_open = false;
    return 0;
}

int calendar_new(const struct calendar_spec *spec, struct calendar **ret, struct slad_error *reterr)
{
    assert(civil_days(2500, 1, 1) * S_PER_DAY == ZONE_END_S);
    if (!spec)
        return slad_error_set(reterr, EINVAL, "calendar: missing spec");
    const char *name = spec->name ? spec->name : "";
    struct calendar *cal = calloc(1, sizeof(*cal));
    int r = 0;
    if (!cal || !(cal->name = strdup(name)) ||
        !(cal->timezone = strdup(spec->timezone ? spec->timezone : "")))
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    if (r == 0)
        r = build(cal, spec, reterr);
    if (r < 0) {
        slad_error_prefix(reterr, "calendar '%s': ", name);
        calendar_free(cal);
        return r;
    }
    *ret = cal;
    return 0;
}

int calendar_new_24x7(const char *zone, struct calendar **ret, struct slad_error *reterr)
{
    struct calendar_spec spec = {.name = "24x7", .timezone = zone ? zone : "UTC"};
    for (int i = 0; i < 7; i++)
        spec.week[i] = (struct calendar_day_hours){.iv = {{0, MIN_PER_DAY}}, .n = 1};
    struct calendar *cal;
    int r = calendar_new(&spec, &cal, reterr);
    if (r < 0)
        return r;
    cal->builtin_24x7 = true;
    *ret = cal;
    return 0;
}

void calendar_free(struct calendar *cal)
{
    if (!cal)
        return;
    free(cal->name);
    free(cal->timezone);
    free(cal->holidays);
    free(cal->workdays);
    zone_done(&cal->zone);
    free(cal);
}
