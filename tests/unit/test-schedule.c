/* test-schedule.c - on-call schedules (schedule.h): a weekly rota in Europe/Berlin whose
 * 09:00 hand-offs keep their local time across both 2026 DST changes, a nights layer
 * (a calendar) above it, overrides above both (the newest wins an overlap, another
 * schedule's are ignored), 12-hour rotations over the autumn change, a hand-off in the
 * skipped and in the repeated hour, nobody before the start, a one-person rota that never
 * changes, the listings checked against who is on call every quarter hour, the bounds,
 * the rotation texts, the build errors, and the .ics read back with libical.
 *
 * Instants are written as RFC 3339 text with their Berlin offset, so each case reads as
 * the wall-clock times it is about. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libical/ical.h>

#include "calendar.h"
#include "civil.h"
#include "schedule.h"

#define MIN  INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

static int64_t at(const char *text)
{
    int64_t ms;
    const char *why;
    if (civil_time_parse(text, &ms, &why) < 0)
        fail_msg("bad time in the test '%s': %s", text, why);
    return ms;
}

static const char *show(int64_t ms, char buf[CIVIL_UTC_MAX])
{
    if (ms == INT64_MIN)
        return "-inf";
    if (ms == INT64_MAX)
        return "+inf";
    return civil_utc_format(ms, buf, CIVIL_UTC_MAX);
}

/* ---- the schedules under test ---- */

static struct calendar *nights; /* Berlin, every day 00:00-08:00 and 20:00-24:00 */
static struct schedule *ops, *half, *gap, *repeat, *solo;

static const char *const weekly[] = {"anna", "bert", "carl"};
static const char *const night_crew[] = {"dora", "emil"};
static const char *const pair[] = {"xena", "yuri"};
static const char *const pq[] = {"paul", "quin"};
static const char *const one[] = {"zoe"};

static struct schedule *build(const char *name, const struct schedule_layer_spec *layers, size_t n)
{
    struct schedule_spec spec = {name, "Europe/Berlin", layers, n};
    struct schedule *s = NULL;
    struct slad_error err = {""};
    if (schedule_new(&spec, &s, &err) < 0)
        fail_msg("schedule %s: %s", name, err.msg);
    return s;
}

static int setup(void **state)
{
    (void)state;
    struct calendar_spec cs = {.name = "nights", .timezone = "Europe/Berlin"};
    for (int d = 0; d < 7; d++)
        cs.week[d] = (struct calendar_day_hours){.iv = {{0, 8 * 60}, {20 * 60, 24 * 60}}, .n = 2};
    struct slad_error err;
    if (calendar_new(&cs, &nights, &err) < 0)
        return -1;
    /* Layer 1: weekly from Monday 2026-03-23 09:00, hand-off 09:00. Layer 2 (higher):
     * nights, daily at 20:00. */
    const struct schedule_layer_spec ops_layers[] = {
        {at("2026-03-23T09:00:00+01:00"), 7 * 24 * 60, 9 * 60, weekly, 3, NULL},
        {at("2026-03-23T20:00:00+01:00"), 24 * 60, 20 * 60, night_crew, 2, nights},
    };
    ops = build("ops", ops_layers, 2);
    /* 12 hours from Saturday 2026-10-24 08:00 CEST: hand-offs 08:00 and 20:00. */
    const struct schedule_layer_spec half_layer = {
        at("2026-10-24T08:00:00+02:00"), 12 * 60, -1, pair, 2, NULL};
    half = build("half", &half_layer, 1);
    /* Daily at 02:30: skipped on 2026-03-29, repeated on 2026-10-25. */
    const struct schedule_layer_spec gap_layer = {
        at("2026-03-27T02:30:00+01:00"), 24 * 60, 2 * 60 + 30, pq, 2, NULL};
    gap = build("gap", &gap_layer, 1);
    const struct schedule_layer_spec repeat_layer = {
        at("2026-10-23T02:30:00+02:00"), 24 * 60, 2 * 60 + 30, pq, 2, NULL};
    repeat = build("repeat", &repeat_layer, 1);
    const struct schedule_layer_spec solo_layer = {
        at("2026-01-01T00:00:00+01:00"), 24 * 60, -1, one, 1, NULL};
    solo = build("solo", &solo_layer, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    schedule_free(ops);
    schedule_free(half);
    schedule_free(gap);
    schedule_free(repeat);
    schedule_free(solo);
    calendar_free(nights);
    return 0;
}

/* Overrides: carl 10-14 and, newer, bert 11-12 on Tuesday 03-24; one of another
 * schedule over the same hours; dora covering a night. */
static const struct schedule_override overrides[] = {
    {7, "ops", "carl", INT64_C(1774342800000), INT64_C(1774357200000), 0},
    {8, "ops", "bert", INT64_C(1774346400000), INT64_C(1774350000000), 0},
    {9, "other", "zoe", INT64_C(1774342800000), INT64_C(1774357200000), 0},
    {3, "ops", "fred", INT64_C(1774404000000), INT64_C(1774407600000), 0},
};
#define N_OVERRIDES (sizeof(overrides) / sizeof(overrides[0]))

static void test_override_instants(void **state)
{
    (void)state;
    /* The table's literals are these instants (kept literal so the table reads as data). */
    assert_int_equal(overrides[0].from_ms, at("2026-03-24T10:00:00+01:00"));
    assert_int_equal(overrides[0].to_ms, at("2026-03-24T14:00:00+01:00"));
    assert_int_equal(overrides[1].from_ms, at("2026-03-24T11:00:00+01:00"));
    assert_int_equal(overrides[1].to_ms, at("2026-03-24T12:00:00+01:00"));
    assert_int_equal(overrides[3].from_ms, at("2026-03-25T03:00:00+01:00"));
    assert_int_equal(overrides[3].to_ms, at("2026-03-25T04:00:00+01:00"));
}

/* ---- who, since when, until when ---- */

struct shift_case {
    int line;
    struct schedule **s;
    bool with_overrides;
    const char *at;
    const char *contact; /* NULL: nobody */
    const char *from;    /* NULL: before the search reached */
    const char *until;   /* NULL: after it, or never */
};

static const struct shift_case shift_cases[] = {
    /* The first week: from the start until the hand-off after the spring change, which
     * keeps 09:00 local: 07:00Z, 167 hours later (nights cut into it, see below). */
    {__LINE__, &ops, false, "2026-03-23T09:00:00+01:00", "anna", "2026-03-23T09:00:00+01:00",
     "2026-03-23T20:00:00+01:00"},
    {__LINE__, &ops, false, "2026-03-30T08:59:59+02:00", "anna", "2026-03-30T08:00:00+02:00",
     "2026-03-30T09:00:00+02:00"},
    {__LINE__, &ops, false, "2026-03-30T09:00:00+02:00", "bert", "2026-03-30T09:00:00+02:00",
     "2026-03-30T20:00:00+02:00"},
    {__LINE__, &ops, false, "2026-04-06T12:00:00+02:00", "carl", "2026-04-06T09:00:00+02:00",
     "2026-04-06T20:00:00+02:00"},
    /* Round again after three weeks. */
    {__LINE__, &ops, false, "2026-04-13T12:00:00+02:00", "anna", "2026-04-13T09:00:00+02:00",
     "2026-04-13T20:00:00+02:00"},
    /* Week 30 (anna again) spans the autumn change: its Monday hand-off is 09:00 CET. */
    {__LINE__, &ops, false, "2026-10-26T08:00:00+01:00", "anna", "2026-10-26T08:00:00+01:00",
     "2026-10-26T09:00:00+01:00"},
    {__LINE__, &ops, false, "2026-10-26T09:00:00+01:00", "bert", "2026-10-26T09:00:00+01:00",
     "2026-10-26T20:00:00+01:00"},
    /* Nights (the higher layer): daily 20:00 hand-offs, cut by the calendar at 08:00. */
    {__LINE__, &ops, false, "2026-03-23T22:00:00+01:00", "dora", "2026-03-23T20:00:00+01:00",
     "2026-03-24T08:00:00+01:00"},
    {__LINE__, &ops, false, "2026-03-24T21:00:00+01:00", "emil", "2026-03-24T20:00:00+01:00",
     "2026-03-25T08:00:00+01:00"},
    /* The spring night is an hour shorter: 20:00 CET to 08:00 CEST is 11 hours. */
    {__LINE__, &ops, false, "2026-03-29T01:00:00+01:00", "emil", "2026-03-28T20:00:00+01:00",
     "2026-03-29T08:00:00+02:00"},
    {__LINE__, &ops, false, "2026-03-29T20:00:00+02:00", "dora", "2026-03-29T20:00:00+02:00",
     "2026-03-30T08:00:00+02:00"},
    /* Before the first layer starts: nobody, since always. */
    {__LINE__, &ops, false, "2026-03-23T08:59:59+01:00", NULL, NULL, "2026-03-23T09:00:00+01:00"},
    /* Overrides beat the rota; the newest of two that overlap wins. */
    {__LINE__, &ops, true, "2026-03-24T09:00:00+01:00", "anna", "2026-03-24T08:00:00+01:00",
     "2026-03-24T10:00:00+01:00"},
    {__LINE__, &ops, true, "2026-03-24T10:30:00+01:00", "carl", "2026-03-24T10:00:00+01:00",
     "2026-03-24T11:00:00+01:00"},
    {__LINE__, &ops, true, "2026-03-24T11:30:00+01:00", "bert", "2026-03-24T11:00:00+01:00",
     "2026-03-24T12:00:00+01:00"},
    {__LINE__, &ops, true, "2026-03-24T12:00:00+01:00", "carl", "2026-03-24T12:00:00+01:00",
     "2026-03-24T14:00:00+01:00"},
    {__LINE__, &ops, true, "2026-03-24T14:00:00+01:00", "anna", "2026-03-24T14:00:00+01:00",
     "2026-03-24T20:00:00+01:00"},
    /* An override beats the nights layer too, and splits its night. */
    {__LINE__, &ops, true, "2026-03-25T03:30:00+01:00", "fred", "2026-03-25T03:00:00+01:00",
     "2026-03-25T04:00:00+01:00"},
    {__LINE__, &ops, true, "2026-03-25T04:00:00+01:00", "emil", "2026-03-25T04:00:00+01:00",
     "2026-03-25T08:00:00+01:00"},
    /* Without them, the rota. */
    {__LINE__, &ops, false, "2026-03-24T11:30:00+01:00", "anna", "2026-03-24T08:00:00+01:00",
     "2026-03-24T20:00:00+01:00"},
    /* 12 hours across the autumn change: the night shift lasts 13 hours. */
    {__LINE__, &half, false, "2026-10-24T08:00:00+02:00", "xena", "2026-10-24T08:00:00+02:00",
     "2026-10-24T20:00:00+02:00"},
    {__LINE__, &half, false, "2026-10-25T02:30:00+01:00", "yuri", "2026-10-24T20:00:00+02:00",
     "2026-10-25T08:00:00+01:00"},
    {__LINE__, &half, false, "2026-10-25T08:00:00+01:00", "xena", "2026-10-25T08:00:00+01:00",
     "2026-10-25T20:00:00+01:00"},
    /* 02:30 does not exist on 2026-03-29: the hand-off is when the clock jumps to 03:00. */
    {__LINE__, &gap, false, "2026-03-29T01:59:59+01:00", "quin", "2026-03-28T02:30:00+01:00",
     "2026-03-29T03:00:00+02:00"},
    {__LINE__, &gap, false, "2026-03-29T03:00:00+02:00", "paul", "2026-03-29T03:00:00+02:00",
     "2026-03-30T02:30:00+02:00"},
    /* 02:30 happens twice on 2026-10-25: the hand-off is the first (CEST). */
    {__LINE__, &repeat, false, "2026-10-25T02:45:00+01:00", "paul", "2026-10-25T02:30:00+02:00",
     "2026-10-26T02:30:00+01:00"},
    {__LINE__, &repeat, false, "2026-10-25T02:29:59+02:00", "quin", "2026-10-24T02:30:00+02:00",
     "2026-10-25T02:30:00+02:00"},
    /* One person: no hand-off ever. Since the start while it is in reach of the search. */
    {__LINE__, &solo, false, "2026-02-01T00:00:00+01:00", "zoe", "2026-01-01T00:00:00+01:00", NULL},
    {__LINE__, &solo, false, "2026-09-01T00:00:00+02:00", "zoe", NULL, NULL},
};

static void test_shift_at(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(shift_cases) / sizeof(shift_cases[0]); i++) {
        const struct shift_case *c = &shift_cases[i];
        size_t n_ov = c->with_overrides ? N_OVERRIDES : 0;
        struct schedule_shift sh;
        schedule_shift_at(*c->s, overrides, n_ov, at(c->at), &sh);
        const char *who = schedule_who(*c->s, overrides, n_ov, at(c->at));
        int64_t want_from = c->from ? at(c->from) : INT64_MIN;
        int64_t want_until = c->until ? at(c->until) : INT64_MAX;
        char b1[CIVIL_UTC_MAX], b2[CIVIL_UTC_MAX], b3[CIVIL_UTC_MAX], b4[CIVIL_UTC_MAX];
        bool same = c->contact ? sh.contact && strcmp(sh.contact, c->contact) == 0 : !sh.contact;
        if (!same || sh.from_ms != want_from || sh.until_ms != want_until || who != sh.contact)
            fail_msg("line %d: %s at %s: %s [%s, %s), want %s [%s, %s)", c->line,
                     schedule_name(*c->s), c->at, sh.contact ? sh.contact : "nobody",
                     show(sh.from_ms, b1), show(sh.until_ms, b2),
                     c->contact ? c->contact : "nobody", show(want_from, b3), show(want_until, b4));
    }
}

/* ---- listings ---- */

struct want_shift {
    const char *contact, *from, *until;
};

static void check_shifts(int line, const struct schedule *s, bool with_overrides, const char *from,
                         const char *to, const struct want_shift *want, size_t n_want)
{
    struct schedule_shift *v = NULL;
    size_t n = 0;
    struct slad_error err = {""};
    size_t n_ov = with_overrides ? N_OVERRIDES : 0;
    if (schedule_shifts(s, overrides, n_ov, at(from), at(to), &v, &n, &err) < 0)
        fail_msg("line %d: %s", line, err.msg);
    char b1[CIVIL_UTC_MAX], b2[CIVIL_UTC_MAX];
    for (size_t i = 0; i < n || i < n_want; i++) {
        if (i >= n || i >= n_want)
            fail_msg("line %d: %zu shifts, want %zu", line, n, n_want);
        const struct want_shift *w = &want[i];
        int64_t wf = w->from ? at(w->from) : INT64_MIN, wu = w->until ? at(w->until) : INT64_MAX;
        bool same =
            w->contact ? v[i].contact && strcmp(v[i].contact, w->contact) == 0 : !v[i].contact;
        if (!same || v[i].from_ms != wf || v[i].until_ms != wu)
            fail_msg("line %d: shift %zu is %s [%s, %s), want %s from %s until %s", line, i,
                     v[i].contact ? v[i].contact : "nobody", show(v[i].from_ms, b1),
                     show(v[i].until_ms, b2), w->contact ? w->contact : "nobody",
                     w->from ? w->from : "-inf", w->until ? w->until : "+inf");
    }
    /* Every quarter hour of the range, the listing says who schedule_who says. */
    for (int64_t t = at(from); t < at(to); t += 15 * MIN) {
        const char *who = schedule_who(s, overrides, n_ov, t);
        size_t k = 0;
        while (k < n && !(v[k].from_ms <= t && t < v[k].until_ms))
            k++;
        assert_true(k < n);
        if (who != v[k].contact && !(who && v[k].contact && !strcmp(who, v[k].contact)))
            fail_msg("line %d: at %s the listing says %s, who says %s", line, show(t, b1),
                     v[k].contact ? v[k].contact : "nobody", who ? who : "nobody");
    }
    free(v);
}

static void test_shifts(void **state)
{
    (void)state;
    /* A Tuesday with its overrides: the first and last shifts run past the range. */
    const struct want_shift tuesday[] = {
        {"dora", "2026-03-23T20:00:00+01:00", "2026-03-24T08:00:00+01:00"},
        {"anna", "2026-03-24T08:00:00+01:00", "2026-03-24T10:00:00+01:00"},
        {"carl", "2026-03-24T10:00:00+01:00", "2026-03-24T11:00:00+01:00"},
        {"bert", "2026-03-24T11:00:00+01:00", "2026-03-24T12:00:00+01:00"},
        {"carl", "2026-03-24T12:00:00+01:00", "2026-03-24T14:00:00+01:00"},
        {"anna", "2026-03-24T14:00:00+01:00", "2026-03-24T20:00:00+01:00"},
        {"emil", "2026-03-24T20:00:00+01:00", "2026-03-25T03:00:00+01:00"},
    };
    check_shifts(__LINE__, ops, true, "2026-03-24T00:00:00+01:00", "2026-03-25T00:00:00+01:00",
                 tuesday, sizeof(tuesday) / sizeof(tuesday[0]));
    /* The start: nobody before it, since always. */
    const struct want_shift monday[] = {
        {NULL, NULL, "2026-03-23T09:00:00+01:00"},
        {"anna", "2026-03-23T09:00:00+01:00", "2026-03-23T20:00:00+01:00"},
        {"dora", "2026-03-23T20:00:00+01:00", "2026-03-24T08:00:00+01:00"},
    };
    check_shifts(__LINE__, ops, false, "2026-03-23T00:00:00+01:00", "2026-03-23T21:00:00+01:00",
                 monday, sizeof(monday) / sizeof(monday[0]));
    /* The weekend of the spring change, days and nights. */
    const struct want_shift spring[] = {
        {"anna", "2026-03-28T08:00:00+01:00", "2026-03-28T20:00:00+01:00"},
        {"emil", "2026-03-28T20:00:00+01:00", "2026-03-29T08:00:00+02:00"},
        {"anna", "2026-03-29T08:00:00+02:00", "2026-03-29T20:00:00+02:00"},
        {"dora", "2026-03-29T20:00:00+02:00", "2026-03-30T08:00:00+02:00"},
        {"anna", "2026-03-30T08:00:00+02:00", "2026-03-30T09:00:00+02:00"},
        {"bert", "2026-03-30T09:00:00+02:00", "2026-03-30T20:00:00+02:00"},
    };
    check_shifts(__LINE__, ops, false, "2026-03-28T12:00:00+01:00", "2026-03-30T12:00:00+02:00",
                 spring, sizeof(spring) / sizeof(spring[0]));
    const struct want_shift autumn[] = {
        {"xena", "2026-10-24T08:00:00+02:00", "2026-10-24T20:00:00+02:00"},
        {"yuri", "2026-10-24T20:00:00+02:00", "2026-10-25T08:00:00+01:00"},
        {"xena", "2026-10-25T08:00:00+01:00", "2026-10-25T20:00:00+01:00"},
    };
    check_shifts(__LINE__, half, false, "2026-10-24T09:00:00+02:00", "2026-10-25T09:00:00+01:00",
                 autumn, sizeof(autumn) / sizeof(autumn[0]));
}

static void test_shifts_bounds(void **state)
{
    (void)state;
    struct schedule_shift *v = NULL;
    size_t n = 0;
    struct slad_error err = {""};
    int64_t t = at("2026-04-01T00:00:00+02:00");
    assert_int_equal(schedule_shifts(ops, NULL, 0, t, t, &v, &n, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "'to' must be after 'from'"));
    assert_int_equal(schedule_shifts(ops, NULL, 0, t, t + SCHEDULE_RANGE_MS + 1, &v, &n, &err),
                     -EINVAL);
    assert_non_null(strstr(err.msg, "longer than 92 days"));
    /* The longest range: two shifts a day for 92 days, in well under the bounds. */
    assert_int_equal(schedule_shifts(ops, NULL, 0, t, t + SCHEDULE_RANGE_MS, &v, &n, &err), 0);
    assert_in_range(n, 2 * 92, 2 * 92 + 20);
    free(v);
    /* An hour's rota for 92 days: 2208 shifts, more than SCHEDULE_MAX_SHIFTS. */
    const struct schedule_layer_spec hourly = {t, 60, 0, pair, 2, NULL};
    struct schedule *s = build("hourly", &hourly, 1);
    assert_int_equal(schedule_shifts(s, NULL, 0, t, t + SCHEDULE_RANGE_MS, &v, &n, &err), -E2BIG);
    assert_non_null(strstr(err.msg, "more than 2048 shifts"));
    schedule_free(s);
}

/* ---- texts and building ---- */

static void test_rotation(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int min; /* -1: refused */
        const char *canonical;
    } cases[] = {
        {"1w", 7 * 24 * 60, "1w"}, {"2w", 14 * 24 * 60, "2w"},
        {"1d", 24 * 60, "1d"},     {"3d", 3 * 24 * 60, "3d"},
        {"12h", 12 * 60, "12h"},   {"1h30m", 90, "1h30m"},
        {"24h", 24 * 60, "1d"},    {"52w", 52 * 7 * 24 * 60, "52w"},
        {"30m", -1, NULL},         {"53w", -1, NULL},
        {"90s", -1, NULL},         {"1h30s", -1, NULL},
        {"1.5h", -1, NULL},        {"", -1, NULL},
        {"w", -1, NULL},           {"1 w", -1, NULL},
        {"-1d", -1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int min = -7;
        struct slad_error err = {""};
        int r = schedule_parse_rotation(cases[i].text, &min, &err);
        if (cases[i].min < 0) {
            if (r != -EINVAL || min != -7 || !strstr(err.msg, "rotation '"))
                fail_msg("'%s' accepted (%d) or a bad message: %s", cases[i].text, min, err.msg);
            continue;
        }
        char buf[32];
        if (r != 0 || min != cases[i].min ||
            strcmp(schedule_format_rotation(min, buf, sizeof(buf)), cases[i].canonical) != 0)
            fail_msg("'%s': %d %d '%s'", cases[i].text, r, min, err.msg);
    }
}

static void test_new_errors(void **state)
{
    (void)state;
    static const struct schedule_layer_spec good = {0, 24 * 60, -1, pair, 2, NULL};
    static const struct schedule_layer_spec no_contacts = {0, 24 * 60, -1, pair, 0, NULL};
    static const struct schedule_layer_spec short_rotation = {0, 30, -1, pair, 2, NULL};
    static const struct schedule_layer_spec bad_handoff = {0, 24 * 60, 24 * 60, pair, 2, NULL};
    static const struct {
        const char *tz;
        const struct schedule_layer_spec *layers;
        size_t n;
        const char *msg;
    } cases[] = {
        {"Mars/Olympus", &good, 1, "schedule 'x': unknown time zone 'Mars/Olympus'"},
        {"Europe/Berlin", &good, 0, "schedule 'x': layers: from 1 to 16"},
        {"Europe/Berlin", &no_contacts, 1, "schedule 'x': layer 1: contacts: from 1 to 64"},
        {"Europe/Berlin", &short_rotation, 1, "schedule 'x': layer 1: rotation"},
        {"Europe/Berlin", &bad_handoff, 1, "schedule 'x': layer 1: handoff"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct schedule_spec spec = {"x", cases[i].tz, cases[i].layers, cases[i].n};
        struct schedule *s = NULL;
        struct slad_error err = {""};
        if (schedule_new(&spec, &s, &err) != -EINVAL || s || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: '%s', want '%s'", i, err.msg, cases[i].msg);
    }
    /* The layer as built: the hand-off of a layer that names none is its start's. */
    struct schedule_layer_spec l;
    schedule_layer(half, 0, &l);
    assert_int_equal(l.handoff_min, 8 * 60);
    assert_int_equal(l.rotation_min, 12 * 60);
    assert_string_equal(l.contacts[1], "yuri");
    assert_string_equal(schedule_timezone(half), "Europe/Berlin");
    assert_int_equal(schedule_n_layers(ops), 2);
}

/* ---- iCalendar ---- */

static int count_events(icalcomponent *cal, const char *summary_part)
{
    int n = 0;
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        if (strstr(icalcomponent_get_summary(ev), summary_part))
            n++;
    return n;
}

static void test_ics(void **state)
{
    (void)state;
    int64_t from = at("2026-03-24T00:00:00+01:00"), to = at("2026-03-25T00:00:00+01:00");
    int64_t now = at("2026-03-20T12:00:00Z");
    struct schedule_shift *v = NULL;
    size_t n = 0;
    assert_int_equal(schedule_shifts(ops, overrides, N_OVERRIDES, from, to, &v, &n, NULL), 0);
    char *text = schedule_ics(ops, v, n, NULL, from, to, now);
    assert_non_null(text);
    icalcomponent *cal = icalparser_parse_string(text);
    assert_non_null(cal);
    assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
    assert_int_equal(count_events(cal, "On call (ops): "), 7);
    assert_int_equal(count_events(cal, ": carl"), 2);
    /* The first event: dora's night, from 20:00 CET the day before, in UTC. */
    icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    assert_true(icaltime_is_utc(start));
    assert_int_equal(icaltime_as_timet(start) * 1000, at("2026-03-23T20:00:00+01:00"));
    assert_int_equal(icaltime_as_timet(icalcomponent_get_dtend(ev)) * 1000,
                     at("2026-03-24T08:00:00+01:00"));
    assert_string_equal(icalcomponent_get_uid(ev), "1774292400000-dora-ops@slad");
    icalcomponent_free(cal);
    free(text);
    /* One person's calendar. */
    text = schedule_ics(ops, v, n, "carl", from, to, now);
    cal = icalparser_parse_string(text);
    assert_int_equal(count_events(cal, "On call (ops): "), 2);
    assert_non_null(strstr(text, "X-WR-CALNAME:On call (ops): carl"));
    icalcomponent_free(cal);
    free(text);
    free(v);
    /* Nobody's stretches are no events; an endless shift ends at the range. */
    assert_int_equal(schedule_shifts(solo, NULL, 0, from, to, &v, &n, NULL), 0);
    text = schedule_ics(solo, v, n, NULL, from, to, now);
    cal = icalparser_parse_string(text);
    ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
    assert_int_equal(icaltime_as_timet(icalcomponent_get_dtend(ev)) * 1000, to);
    icalcomponent_free(cal);
    free(text);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override_instants),
        cmocka_unit_test(test_shift_at),
        cmocka_unit_test(test_shifts),
        cmocka_unit_test(test_shifts_bounds),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_ics),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
