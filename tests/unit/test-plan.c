/* test-plan.c - maintenance plans: occurrences of half-yearly and seasonal rules in the
 * calendar's local time (Asia/Shanghai, and New York across DST), the rule's UNTIL and
 * COUNT and the plan's `until`, the bounded search against libical's plain expansion,
 * the rules refused before expansion and their messages, the time budget on a fake clock
 * (a costly rule is refused, a stored one stops its plan), and the service end to end
 * with an injected "now": plan -> occurrence task -> completion -> report task whose 3wd
 * deadline crosses the National Day holidays and a make-up day (调休), a PATCH of the
 * rule keeping its tasks, delete cancelling the open ones. The service's cases run on
 * ":memory:" and, under meson test plan-postgres, on an emptied PostgreSQL database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agenda.h"
#include "calendar.h"
#include "conf_load.h"
#include "followup.h"
#include "jsonx.h"
#include "plan.h"
#include "service.h"
#include "service_plan.h"
#include "store.h"
#include "testdb.h"
#include "store_followup.h"
#include "store_plan.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    struct slad_error err;
    if (jsonx_time_parse(rfc3339, &ms, &err) < 0)
        fail_msg("bad time in test: %s", err.msg);
    return ms;
}

static void assert_instant(int64_t got, const char *want, int line)
{
    if (got != at(want)) {
        char buf[JSONX_TIME_MAX];
        fail_msg("line %d: got %s, want %s", line,
                 got == INT64_MAX ? "none" : jsonx_time_format(got, buf, sizeof(buf)), want);
    }
}
#define ASSERT_AT(got, want) assert_instant((got), (want), __LINE__)

static struct calendar *zone_calendar(const char *tz)
{
    struct calendar_spec spec = {.name = tz, .timezone = tz};
    for (int d = 0; d < 5; d++)
        spec.week[d] = (struct calendar_day_hours){.iv = {{9 * 60, 18 * 60}}, .n = 1};
    struct calendar *cal = NULL;
    struct slad_error err;
    if (calendar_new(&spec, &cal, &err) < 0)
        fail_msg("calendar: %s", err.msg);
    return cal;
}

static void plan_with(struct plan *p, const char *rrule, const char *start)
{
    plan_init(p);
    assert_int_equal(plan_set_string(&p->name, "boiler"), 0);
    assert_int_equal(plan_set_string(&p->rrule, rrule), 0);
    assert_int_equal(plan_set_string(&p->due_within, "3wd"), 0);
    p->start_ms = at(start);
}

/* A clock that moves step_ns each time it is read. */
struct fake_clock {
    int64_t now_ns, step_ns;
};

static int64_t fake_now_ns(void *userdata)
{
    struct fake_clock *c = userdata;
    c->now_ns += c->step_ns;
    return c->now_ns;
}

/* The next occurrence at or after from, without a time limit. */
static int64_t next_at(const struct plan *p, const struct calendar *cal, int64_t from)
{
    struct budget unlimited;
    budget_start(&unlimited, NULL, 0);
    int64_t at = 0;
    struct slad_error err = {""};
    if (plan_next_occurrence(p, cal, from, &unlimited, &at, &err) < 0)
        fail_msg("%s: %s", p->rrule, err.msg);
    return at;
}

/* The n occurrences from start on, each the next after the one before. */
static void occurrences(const struct plan *p, const struct calendar *cal, int64_t *out, int n)
{
    int64_t from = p->start_ms;
    for (int i = 0; i < n; i++) {
        out[i] = from == INT64_MAX ? INT64_MAX : next_at(p, cal, from);
        from = out[i] == INT64_MAX ? INT64_MAX : out[i] + 1;
    }
}

static void test_half_yearly(void **state)
{
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    struct plan p;
    plan_with(&p, "FREQ=MONTHLY;INTERVAL=6", "2026-03-01T09:00:00+08:00");
    int64_t o[4];
    occurrences(&p, sh, o, 4);
    ASSERT_AT(o[0], "2026-03-01T09:00:00+08:00");
    ASSERT_AT(o[1], "2026-09-01T09:00:00+08:00");
    ASSERT_AT(o[2], "2027-03-01T09:00:00+08:00");
    ASSERT_AT(o[3], "2027-09-01T09:00:00+08:00");
    /* From an instant between two occurrences: the next one; an occurrence itself counts. */
    ASSERT_AT(next_at(&p, sh, at("2026-05-20T00:00:00Z")), "2026-09-01T09:00:00+08:00");
    ASSERT_AT(next_at(&p, sh, at("2026-09-01T01:00:00Z")), "2026-09-01T01:00:00Z");
    plan_done(&p);
    calendar_free(sh);
}

/* Each year before the rainy season: 15 May 09:00 local, whatever day start falls on. */
static void test_yearly_before_rainy_season(void **state)
{
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    struct plan p;
    plan_with(&p, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15", "2026-01-10T09:00:00+08:00");
    int64_t o[3];
    occurrences(&p, sh, o, 3);
    ASSERT_AT(o[0], "2026-05-15T09:00:00+08:00");
    ASSERT_AT(o[1], "2027-05-15T09:00:00+08:00");
    ASSERT_AT(o[2], "2028-05-15T09:00:00+08:00");
    plan_done(&p);
    calendar_free(sh);
}

/* The rule's hours are wall-clock hours of the calendar's zone, not UTC. */
static void test_local_time_kept(void **state)
{
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    struct plan p;
    plan_with(&p, "FREQ=DAILY;BYHOUR=9;BYMINUTE=30;BYSECOND=0", "2026-03-01T00:00:00+08:00");
    int64_t o[2];
    occurrences(&p, sh, o, 2);
    ASSERT_AT(o[0], "2026-03-01T01:30:00Z");
    ASSERT_AT(o[1], "2026-03-02T01:30:00Z");
    plan_done(&p);
    calendar_free(sh);

    /* New York: 09:00 local is 14:00Z in winter and 13:00Z in summer. */
    struct calendar *ny = zone_calendar("America/New_York");
    plan_with(&p, "FREQ=MONTHLY;BYMONTHDAY=15", "2026-01-15T09:00:00-05:00");
    int64_t m[8];
    occurrences(&p, ny, m, 8);
    ASSERT_AT(m[0], "2026-01-15T14:00:00Z");
    ASSERT_AT(m[2], "2026-03-15T13:00:00Z");
    ASSERT_AT(m[7], "2026-08-15T13:00:00Z");
    plan_done(&p);
    /* A local time the spring change skips moves to the jump (03:00 EDT = 07:00Z). */
    plan_with(&p, "FREQ=YEARLY", "2025-03-08T02:30:00-05:00");
    ASSERT_AT(next_at(&p, ny, at("2026-01-01T00:00:00Z")), "2026-03-08T07:00:00Z");
    plan_done(&p);
    calendar_free(ny);
}

static void test_until_bounds(void **state)
{
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    struct plan p;
    int64_t o[4];
    /* The plan's until: an occurrence exactly at until counts, the next does not. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15", "2026-01-10T09:00:00+08:00");
    p.until_ms = at("2027-05-15T09:00:00+08:00");
    occurrences(&p, sh, o, 3);
    ASSERT_AT(o[0], "2026-05-15T09:00:00+08:00");
    ASSERT_AT(o[1], "2027-05-15T09:00:00+08:00");
    assert_true(o[2] == INT64_MAX);
    plan_done(&p);
    /* UNTIL as a date: up to the end of that local day. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15;UNTIL=20280515",
              "2026-01-10T09:00:00+08:00");
    occurrences(&p, sh, o, 4);
    ASSERT_AT(o[2], "2028-05-15T09:00:00+08:00");
    assert_true(o[3] == INT64_MAX);
    plan_done(&p);
    /* UNTIL in UTC: 00:59:59Z is before 09:00 local (01:00Z) of 15 May 2027. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15;UNTIL=20270515T005959Z",
              "2026-01-10T09:00:00+08:00");
    occurrences(&p, sh, o, 2);
    ASSERT_AT(o[0], "2026-05-15T09:00:00+08:00");
    assert_true(o[1] == INT64_MAX);
    plan_done(&p);
    /* COUNT counts from start. */
    plan_with(&p, "FREQ=MONTHLY;INTERVAL=6;COUNT=2", "2026-03-01T09:00:00+08:00");
    occurrences(&p, sh, o, 3);
    ASSERT_AT(o[1], "2026-09-01T09:00:00+08:00");
    assert_true(o[2] == INT64_MAX);
    plan_done(&p);
    calendar_free(sh);
}

/* The first occurrence at or after from as libical gives it expanding from start, one
 * candidate after another with no bound: what the bounded search (windows, probes,
 * COUNT counted apart, a start at from) must give. */
static int64_t reference_next(const struct plan *p, const struct calendar *cal, int64_t from)
{
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(p->rrule);
    int offset_s = 0;
    calendar_local(cal, p->start_ms, NULL, NULL, &offset_s);
    int64_t start_s = p->start_ms / 1000, frac_ms = p->start_ms % 1000;
    icalrecur_iterator *it =
        icalrecur_iterator_new(rule, icaltime_from_timet_with_zone(start_s + offset_s, 0, NULL));
    int64_t found = INT64_MAX;
    for (struct icaltimetype o; it && !icaltime_is_null_time(o = icalrecur_iterator_next(it));) {
        int64_t at_ms = calendar_utc_of_local(cal, icaltime_as_timet(o)) * 1000 + frac_ms;
        if (at_ms >= from && at_ms >= p->start_ms) {
            found = at_ms;
            break;
        }
    }
    if (it)
        icalrecur_iterator_free(it);
    return found;
}

/* Many rules, random starts and instants, New York (DST; a rule at 02:30 hits the skipped
 * hour each March): sparse DAILY and WEEKLY rules cross several windows, MONTHLY and
 * YEARLY ones skip months and years without a day, COUNT is counted from start. */
static void test_matches_libical_from_start(void **state)
{
    static const char *const rules[] = {
        "FREQ=MONTHLY;INTERVAL=6",
        "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=30",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=1,7",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=WEEKLY;COUNT=40",
        "FREQ=DAILY;BYDAY=FR;BYMONTHDAY=13",
        "FREQ=DAILY;BYMONTH=2,8;BYMONTHDAY=29,30;BYHOUR=8;BYMINUTE=0,15;BYSECOND=0,30",
        "FREQ=WEEKLY;INTERVAL=3;BYMONTH=3;BYDAY=SA,SU",
        "FREQ=DAILY;INTERVAL=10;COUNT=30",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=MONTHLY;INTERVAL=5;BYDAY=5SU",
        "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=TH",
        "FREQ=YEARLY;BYYEARDAY=-1,60",
        "FREQ=YEARLY;BYMONTH=2;BYDAY=-1MO,1TU;BYSETPOS=2",
        "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29;COUNT=3",
    };
    struct calendar *ny = zone_calendar("America/New_York");
    uint64_t seed = 20260515;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            struct plan p;
            plan_with(&p, rules[i], "2026-01-01T02:30:00-05:00");
            p.start_ms += (int64_t)(seed >> 33) % (400LL * 86400) * 1000;
            int64_t from = p.start_ms + (int64_t)(seed >> 20) % (900LL * 86400) * 1000;
            int64_t want = reference_next(&p, ny, from);
            int64_t got = next_at(&p, ny, from);
            if (got != want)
                fail_msg("%s from %lld, start %lld: got %lld want %lld", rules[i], (long long)from,
                         (long long)p.start_ms, (long long)got, (long long)want);
            plan_done(&p);
        }
    calendar_free(ny);
}

static void expect_invalid(struct plan *p, const char *needle, int line)
{
    struct slad_error err = {""};
    int r = plan_validate(p, &err);
    if (r != -EINVAL || !strstr(err.msg, needle))
        fail_msg("line %d: got %d '%s', want -EINVAL with '%s'", line, r, err.msg, needle);
}

static void test_invalid(void **state)
{
    static const struct {
        const char *rrule, *needle;
    } rules[] = {
        {"FREQ=SOMETIMES", "field 'rrule': 'FREQ=SOMETIMES' is not valid"},
        {"FREQ=DAILY;FOO=1", "'FOO=1' is not valid"},
        {"FREQ=DAILY;INTERVAL=0", "'INTERVAL=0' is not valid: write a whole number from 1"},
        {"INTERVAL=2", "has no FREQ"},
        {"RRULE:FREQ=DAILY", "without the 'RRULE:' prefix"},
        {"", "field 'rrule' must be an RFC 5545 RRULE"},
    };
    struct plan p;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        plan_with(&p, rules[i].rrule, "2026-03-01T09:00:00+08:00");
        expect_invalid(&p, rules[i].needle, __LINE__);
        plan_done(&p);
    }
    plan_with(&p, "FREQ=MONTHLY", "2026-03-01T09:00:00+08:00");
    struct slad_error err = {""};
    assert_int_equal(plan_validate(&p, &err), 0);
    p.until_ms = at("2026-02-01T00:00:00Z");
    expect_invalid(&p, "field 'until' lies before field 'start'", __LINE__);
    p.until_ms = SLAD_NO_TIME;
    assert_int_equal(plan_set_string(&p.due_within, "3 days"), 0);
    expect_invalid(&p, "field 'due_within'", __LINE__);
    assert_int_equal(plan_set_string(&p.due_within, "3wd"), 0);
    assert_int_equal(plan_set_string(&p.report_within, "75%"), 0);
    expect_invalid(&p, "field 'report_within'", __LINE__);
    assert_int_equal(plan_set_string(&p.report_within, "0s"), 0);
    expect_invalid(&p, "field 'report_within': '0s' must be longer than zero", __LINE__);
    assert_int_equal(plan_set_string(&p.name, NULL), 0);
    expect_invalid(&p, "field 'name' is required", __LINE__);
    plan_done(&p);
}

/* Each form refused before libical sees it (issue 11: the first three kept the loop busy
 * for 70 s, 80 s and 1.6 s), with what to write instead. */
static void test_refused_rules(void **state)
{
    static const struct {
        int line;
        const char *rrule, *needle;
    } rules[] = {
        /* finer than daily */
        {__LINE__, "FREQ=SECONDLY;BYSECOND=60",
         "field 'rrule': FREQ=SECONDLY is not accepted: a plan recurs at most daily"},
        {__LINE__, "FREQ=SECONDLY;BYHOUR=0;BYMINUTE=0;BYSECOND=0", "FREQ=SECONDLY is not accepted"},
        {__LINE__, "FREQ=MINUTELY;INTERVAL=30", "FREQ=MINUTELY is not accepted"},
        {__LINE__, "FREQ=HOURLY;BYDAY=MO", "write FREQ=DAILY;BYHOUR=9,17"},
        /* days no year has */
        {__LINE__, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
         "field 'rrule': BYMONTHDAY=30 never falls in BYMONTH=2: no year has such a day"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31", "BYMONTHDAY=30,31 never falls in"},
        {__LINE__, "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
         "never falls in BYMONTH=4,6,9,11"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-30", "write BYMONTHDAY=-1 for the last day"},
        /* RFC 5545 ranges */
        {__LINE__, "FREQ=DAILY;BYMONTH=13", "BYMONTH=13 is out of range: BYMONTH takes 1 to 12"},
        {__LINE__, "FREQ=DAILY;BYHOUR=24", "'BYHOUR=24' is not valid: BYHOUR takes 0 to 23"},
        {__LINE__, "FREQ=DAILY;BYMINUTE=60", "BYMINUTE takes 0 to 59"},
        {__LINE__, "FREQ=DAILY;BYSECOND=61", "'BYSECOND=61' is not valid: BYSECOND takes 0 to 59"},
        {__LINE__, "FREQ=DAILY;BYHOUR=23;BYMINUTE=59;BYSECOND=59,60",
         "BYSECOND=60 (a leap second) cannot be scheduled; write 0 to 59"},
        {__LINE__, "FREQ=MONTHLY;BYMONTHDAY=32",
         "BYMONTHDAY takes 1 to 31, or -31 to -1 counting from the end"},
        {__LINE__, "FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY=367 is out of range"},
        {__LINE__, "FREQ=YEARLY;BYWEEKNO=54;BYDAY=MO", "BYWEEKNO=54 is out of range"},
        {__LINE__, "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-367", "BYSETPOS=-367 is out of range"},
        {__LINE__, "FREQ=MONTHLY;BYDAY=6MO",
         "BYDAY=6MO is out of range: a month has at most 5 of a weekday"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=3;BYDAY=-6FR", "a month has at most 5"},
        {__LINE__, "FREQ=YEARLY;BYDAY=54SU", "a year has at most 53 of a weekday"},
        /* parts RFC 5545 forbids with the FREQ */
        {__LINE__, "FREQ=WEEKLY;BYDAY=2MO",
         "BYDAY=2MO: a numbered weekday needs FREQ=MONTHLY or FREQ=YEARLY; with FREQ=WEEKLY "
         "write BYDAY=MO"},
        {__LINE__, "FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO", "with BYWEEKNO write the weekday"},
        {__LINE__, "FREQ=MONTHLY;BYWEEKNO=20;BYDAY=MO", "BYWEEKNO needs FREQ=YEARLY"},
        {__LINE__, "FREQ=DAILY;BYYEARDAY=100", "BYYEARDAY needs FREQ=YEARLY"},
        {__LINE__, "FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY does not go with FREQ=WEEKLY"},
        {__LINE__, "FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another BY part"},
        /* what libical 3.0 expands wrongly */
        {__LINE__, "FREQ=DAILY;BYHOUR=9,17;BYSETPOS=1",
         "BYSETPOS is applied only with FREQ=MONTHLY or FREQ=YEARLY"},
        {__LINE__, "FREQ=DAILY;INTERVAL=14;BYDAY=MO",
         "FREQ=DAILY;INTERVAL=14 stays on the weekday of 'start', so BYDAY would match it or "
         "never; write FREQ=WEEKLY;INTERVAL=2 with BYDAY"},
        {__LINE__, "FREQ=DAILY;BYMONTHDAY=28,-1",
         "BYMONTHDAY=-1: libical counts days from the end of the month only with FREQ=MONTHLY "
         "or YEARLY; write FREQ=MONTHLY;BYMONTHDAY=-1"},
        {__LINE__, "FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO needs BYDAY"},
        {__LINE__, "FREQ=YEARLY;BYWEEKNO=20;BYMONTH=5;BYDAY=MO", "BYWEEKNO cannot be combined"},
        {__LINE__, "FREQ=YEARLY;BYYEARDAY=100;BYMONTHDAY=1", "BYYEARDAY cannot be combined"},
        {__LINE__, "FREQ=DAILY;RSCALE=CHINESE", "'RSCALE=CHINESE' is not supported"},
        {__LINE__, "FREQ=MONTHLY;SKIP=FORWARD", "'SKIP=FORWARD' is not supported"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=2L", "leap months (L) are not supported"},
        /* INTERVAL and COUNT */
        {__LINE__, "FREQ=DAILY;INTERVAL=3661",
         "INTERVAL=3661 is out of range: visits are at most 10 years apart; with FREQ=DAILY "
         "write INTERVAL from 1 to 3660"},
        {__LINE__, "FREQ=YEARLY;INTERVAL=11", "INTERVAL from 1 to 10"},
        {__LINE__, "FREQ=MONTHLY;INTERVAL=70000", "INTERVAL=70000 is out of range"},
        {__LINE__, "FREQ=DAILY;INTERVAL=2x", "'INTERVAL=2x' is not valid: write a whole number"},
        {__LINE__, "FREQ=DAILY;COUNT=367", "COUNT=367 is out of range: write COUNT from 1 to 366"},
    };
    struct plan p;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        plan_with(&p, rules[i].rrule, "2026-03-01T09:00:00+08:00");
        expect_invalid(&p, rules[i].needle, rules[i].line);
        plan_done(&p);
    }
}

/* Near misses of the refused forms that are fine. */
static void test_accepted_rules(void **state)
{
    static const char *const rules[] = {
        "FREQ=DAILY;BYHOUR=9,17",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=YEARLY;BYMONTH=2,4;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=-5FR",
        "FREQ=YEARLY;BYDAY=53MO",
        "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=DAILY;BYSECOND=59",
        "FREQ=DAILY;INTERVAL=3660",
        "FREQ=YEARLY;INTERVAL=10",
        "FREQ=WEEKLY;COUNT=366",
        "freq=weekly;byday=mo;wkst=su;",
    };
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct plan p;
        plan_with(&p, rules[i], "2026-03-01T09:00:00+08:00");
        struct slad_error err = {""};
        if (plan_validate(&p, &err) < 0)
            fail_msg("%s: %s", rules[i], err.msg);
        if (next_at(&p, sh, p.start_ms) == INT64_MAX)
            fail_msg("%s: no occurrence", rules[i]);
        plan_done(&p);
    }
    calendar_free(sh);
}

/* The budget is time on the caller's clock, not a number of steps: the same search that
 * finds 29 Feb 2028 on a clock that barely moves is "too costly" on one that moves 1 ms at
 * each reading, whatever the number of steps. */
static void test_budget_is_time(void **state)
{
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    struct plan p;
    /* Day by day through two years: several windows of libical calls. */
    plan_with(&p, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "2026-03-01T09:00:00+08:00");
    struct fake_clock slow = {0, 1000}, fast = {0, 1000000};
    struct budget_clock slow_clock = {fake_now_ns, &slow}, fast_clock = {fake_now_ns, &fast};
    struct budget b;
    int64_t next = 0;
    struct slad_error err = {""};
    budget_start(&b, &slow_clock, PLAN_BUDGET_NS);
    assert_int_equal(plan_next_occurrence(&p, sh, p.start_ms, &b, &next, &err), 0);
    ASSERT_AT(next, "2028-02-29T09:00:00+08:00");
    budget_start(&b, &fast_clock, PLAN_BUDGET_NS);
    assert_int_equal(plan_next_occurrence(&p, sh, p.start_ms, &b, &next, &err), -PLAN_ECOSTLY);
    assert_non_null(strstr(err.msg, "field 'rrule': rrule too costly"));
    assert_non_null(strstr(err.msg, "within 5 ms"));
    assert_true(fast.now_ns > PLAN_BUDGET_NS && fast.now_ns < 2 * PLAN_BUDGET_NS);
    plan_done(&p);
    /* Yearly, the same days cost one probe a year: found on the fast clock too. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2026-03-01T09:00:00+08:00");
    fast.now_ns = 0;
    budget_start(&b, &fast_clock, PLAN_BUDGET_NS);
    assert_int_equal(plan_next_occurrence(&p, sh, p.start_ms, &b, &next, &err), 0);
    ASSERT_AT(next, "2028-02-29T09:00:00+08:00");
    plan_done(&p);
    calendar_free(sh);
}

/* Rules whose parts never meet from this start (INTERVAL keeps them in the wrong months
 * or years): no occurrence, found without libical scanning to the year 20000. */
static void test_never_from_start(void **state)
{
    static const struct {
        const char *rrule, *start;
    } rules[] = {
        {"FREQ=MONTHLY;INTERVAL=2;BYMONTH=2", "2026-03-01T09:00:00+08:00"},
        {"FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "2026-04-10T09:00:00+08:00"},
        {"FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "2026-01-10T09:00:00+08:00"},
        {"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "2026-03-01T09:00:00+08:00"},
        {"FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1,2,3", "2026-03-01T09:00:00+08:00"},
        {"FREQ=YEARLY;BYDAY=53MO;BYYEARDAY=1", "2026-03-01T09:00:00+08:00"},
        {"FREQ=MONTHLY;INTERVAL=24;BYMONTH=2;BYMONTHDAY=29", "2027-02-01T09:00:00+08:00"},
    };
    struct calendar *sh = zone_calendar("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct plan p;
        plan_with(&p, rules[i].rrule, rules[i].start);
        /* A clock that moves 20 us a reading: a few hundred libical calls at most. */
        struct fake_clock c = {0, 20000};
        struct budget_clock clock = {fake_now_ns, &c};
        struct budget b;
        budget_start(&b, &clock, PLAN_BUDGET_NS);
        int64_t next = 0;
        struct slad_error err = {""};
        int r = plan_next_occurrence(&p, sh, p.start_ms, &b, &next, &err);
        if (r != 0 || next != INT64_MAX)
            fail_msg("%s: got %d (%s) %lld, want none", rules[i].rrule, r, err.msg,
                     (long long)next);
        plan_done(&p);
    }
    calendar_free(sh);
}

/* ---- the service ---- */

/* Office hours in Shanghai; National Day 1-7 Oct 2026 off, Saturday 10 Oct a make-up day. */
static const char conf_text[] =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"]; };"
    " } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test-plan.jsonl\"; } );\n"
    "calendars = ( { name = \"cn\"; timezone = \"Asia/Shanghai\";\n"
    "  hours = { mon = [\"09:00-12:00\", \"13:00-18:00\"]; tue = [\"09:00-12:00\", "
    "\"13:00-18:00\"];\n"
    "            wed = [\"09:00-12:00\", \"13:00-18:00\"]; thu = [\"09:00-12:00\", "
    "\"13:00-18:00\"];\n"
    "            fri = [\"09:00-12:00\", \"13:00-18:00\"]; };\n"
    "  holidays = [\"2026-10-01..2026-10-07\"]; workdays = [\"2026-10-10\"]; } );\n"
    "policies = ( { name = \"any\"; match = { }; calendar = \"cn\";\n"
    "  clocks = ( { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\"]; } ); } );\n";

struct fixture {
    struct conf *conf;
    struct store *store;
    struct agenda *agenda;
    struct service *svc;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "plan.conf", &f.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return -1;
    }
    struct slad_error err = {""};
    testdb_empty();
    if (store_open(testdb_on_postgres() ? testdb_target() : ":memory:", true, &f.store, &err) < 0 ||
        !(f.agenda = agenda_new()) ||
        service_new(f.conf, f.store, f.agenda, NULL, &f.svc, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    service_free(f->svc);
    agenda_free(f->agenda);
    store_close(f->store);
    conf_free(f->conf);
    return 0;
}

struct tasks {
    struct followup v[8];
    size_t n;
};

static int collect(void *userdata, const struct followup *f)
{
    struct tasks *t = userdata;
    if (t->n < 8)
        t->v[t->n++] = *f;
    return 0;
}

static struct tasks plan_tasks(struct fixture *f, int64_t plan_id, int64_t now_ms)
{
    struct tasks t = {.n = 0};
    struct followup_filter filter = {
        .view = -1, .before_ms = SLAD_NO_TIME, .plan_id = plan_id, .now_ms = now_ms};
    struct slad_error err = {""};
    assert_int_equal(store_followup_list(f->store, &filter, collect, &t, &err), 0);
    return t;
}

static void fire(struct fixture *f, int64_t now_ms)
{
    size_t done = 0;
    struct slad_error err = {""};
    if (service_fire_due(f->svc, now_ms, 100, &done, &err) < 0)
        fail_msg("fire_due: %s", err.msg);
}

static void test_service_visit_and_report(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {""};
    struct plan p;
    /* Each year on 30 Sep, the day before the holidays; created on 1 Sep. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=30", "2026-01-01T09:00:00+08:00");
    assert_int_equal(plan_set_string(&p.team, "north"), 0);
    assert_int_equal(plan_set_string(&p.assignee, "tech"), 0);
    assert_int_equal(plan_set_string(&p.report_within, "3wd"), 0);
    int64_t now = at("2026-09-01T00:00:00Z");
    if (service_plan_create(f->svc, &p, now, &err) < 0)
        fail_msg("create: %s", err.msg);
    assert_string_equal(p.calendar, "cn"); /* the catch-all policy's */
    assert_string_equal(p.owner, "assignee");
    ASSERT_AT(p.next_ms, "2026-09-30T09:00:00+08:00");
    assert_int_equal(agenda_when(f->agenda, AGENDA_PLAN, p.id), p.next_ms);
    int64_t id = p.id;
    plan_done(&p);

    /* Nothing before the occurrence; at it, one visit task due then, 3wd later: 30 Sep is
     * day 0, 1-7 Oct are off, 8 Oct is 1, 9 Oct is 2, Saturday 10 Oct (调休) is 3. */
    fire(f, at("2026-09-30T00:59:59Z"));
    assert_int_equal(plan_tasks(f, id, now).n, 0);
    now = at("2026-09-30T01:00:00Z");
    fire(f, now);
    struct tasks t = plan_tasks(f, id, now);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.v[0].name, "visit");
    assert_string_equal(t.v[0].owner, "assignee");
    ASSERT_AT(t.v[0].due_ms, "2026-09-30T09:00:00+08:00");
    ASSERT_AT(t.v[0].deadline_ms, "2026-10-10T18:00:00+08:00");
    assert_int_equal(service_plan_get(f->svc, id, &p, &err), 0);
    assert_int_equal(p.occurrences, 1);
    ASSERT_AT(p.next_ms, "2027-09-30T09:00:00+08:00");
    plan_done(&p);
    /* Firing again at the same instant creates nothing twice. */
    fire(f, now);
    assert_int_equal(plan_tasks(f, id, now).n, 1);

    /* The visit done on 30 Sep at 10:00: the report is due then, deadline the same 3wd. */
    now = at("2026-09-30T10:00:00+08:00");
    struct followup done;
    if (service_followup_complete(f->svc, t.v[0].id, "satisfied", "all fine", "tech", now, &done,
                                  &err) < 0)
        fail_msg("complete: %s", err.msg);
    t = plan_tasks(f, id, now);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.v[1].name, "report");
    assert_int_equal(t.v[1].due_ms, now);
    ASSERT_AT(t.v[1].deadline_ms, "2026-10-10T18:00:00+08:00");
    /* Completing the report asks for no further report. */
    now = at("2026-10-08T10:00:00+08:00");
    assert_int_equal(
        service_followup_complete(f->svc, t.v[1].id, "satisfied", NULL, NULL, now, &done, &err), 0);
    assert_int_equal(plan_tasks(f, id, now).n, 2);
    /* A report due on 8 Oct: 9 Oct, Saturday 10 Oct (调休), Monday 12 Oct. */
    ASSERT_AT(plan_deadline("3wd", conf_find_calendar(f->conf, "cn"), now),
              "2026-10-12T18:00:00+08:00");
}

static void test_service_patch_and_delete(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {""};
    struct plan p;
    plan_with(&p, "FREQ=MONTHLY;INTERVAL=6", "2026-03-02T09:00:00+08:00");
    int64_t now = at("2026-03-01T00:00:00Z");
    assert_int_equal(service_plan_create(f->svc, &p, now, &err), 0);
    int64_t id = p.id;
    now = at("2026-03-02T01:00:00Z");
    fire(f, now);
    assert_int_equal(plan_tasks(f, id, now).n, 1);

    /* The rule becomes yearly on 15 May: the task made stays, the next follows the rule. */
    now = at("2026-04-01T00:00:00Z");
    assert_int_equal(plan_set_string(&p.rrule, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15"), 0);
    if (service_plan_update(f->svc, &p, now, &err) < 0)
        fail_msg("update: %s", err.msg);
    ASSERT_AT(p.next_ms, "2026-05-15T09:00:00+08:00");
    assert_int_equal(p.occurrences, 1);
    assert_int_equal(agenda_when(f->agenda, AGENDA_PLAN, id), p.next_ms);
    struct tasks t = plan_tasks(f, id, now);
    assert_int_equal(t.n, 1);
    ASSERT_AT(t.v[0].due_ms, "2026-03-02T09:00:00+08:00");
    plan_done(&p);

    /* Delete: the open visit is cancelled and leaves the agenda with the plan. */
    size_t cancelled = 0;
    assert_int_equal(service_plan_delete(f->svc, id, &cancelled, &err), 0);
    assert_int_equal(cancelled, 1);
    assert_true(agenda_when(f->agenda, AGENDA_PLAN, id) == INT64_MAX);
    assert_true(agenda_when(f->agenda, AGENDA_FOLLOWUP, t.v[0].id) == INT64_MAX);
    struct followup gone;
    assert_int_equal(store_followup_load(f->store, t.v[0].id, &gone, &err), 0);
    assert_int_equal(gone.state, FOLLOWUP_CANCELLED);
    assert_int_equal(service_plan_get(f->svc, id, &p, &err), -ENOENT);
    assert_int_equal(service_plan_delete(f->svc, id, &cancelled, &err), -ENOENT);
}

static void test_service_refuses(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {""};
    struct plan p;
    plan_with(&p, "FREQ=MONTHLY", "2026-03-02T09:00:00+08:00");
    assert_int_equal(plan_set_string(&p.calendar, "mars"), 0);
    assert_int_equal(service_plan_create(f->svc, &p, at("2026-03-01T00:00:00Z"), &err), -EINVAL);
    assert_non_null(strstr(err.msg, "field 'calendar'"));
    plan_done(&p);
    /* A plan that would never occur: 15 May does not come before until. */
    plan_with(&p, "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15", "2026-03-02T09:00:00+08:00");
    p.until_ms = at("2026-04-01T00:00:00Z");
    assert_int_equal(service_plan_create(f->svc, &p, at("2026-03-01T00:00:00Z"), &err), -EINVAL);
    assert_non_null(strstr(err.msg, "has no occurrence from 'start' on"));
    plan_done(&p);
}

/* A costly rule is refused by POST and PATCH and changes nothing; the same days written
 * as a YEARLY rule are fine. The clock moves 1 ms a reading: the 5 ms run out after a few
 * libical calls. */
static void test_service_too_costly(void **state)
{
    struct fixture *f = *state;
    struct fake_clock c = {0, 1000000};
    struct budget_clock clock = {fake_now_ns, &c};
    service_set_clock(f->svc, &clock);
    struct slad_error err = {""};
    struct plan p;
    int64_t now = at("2026-03-01T00:00:00Z");
    plan_with(&p, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "2026-03-02T09:00:00+08:00");
    assert_int_equal(service_plan_create(f->svc, &p, now, &err), -PLAN_ECOSTLY);
    assert_non_null(strstr(err.msg, "field 'rrule': rrule too costly"));
    assert_int_equal(p.id, 0);
    assert_int_equal(agenda_size(f->agenda), 0);
    plan_done(&p);

    plan_with(&p, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "2026-03-02T09:00:00+08:00");
    if (service_plan_create(f->svc, &p, now, &err) < 0)
        fail_msg("create: %s", err.msg);
    ASSERT_AT(p.next_ms, "2028-02-29T09:00:00+08:00");
    int64_t id = p.id, next = p.next_ms;
    assert_int_equal(plan_set_string(&p.rrule, "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29"), 0);
    assert_int_equal(service_plan_update(f->svc, &p, now, &err), -PLAN_ECOSTLY);
    assert_non_null(strstr(err.msg, "rrule too costly"));
    plan_done(&p);
    assert_int_equal(service_plan_get(f->svc, id, &p, &err), 0);
    assert_string_equal(p.rrule, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29");
    assert_int_equal(p.next_ms, next);
    assert_int_equal(agenda_when(f->agenda, AGENDA_PLAN, id), next);
    plan_done(&p);
    service_set_clock(f->svc, NULL);
}

struct stops {
    int n;
    int64_t plan_id;
    char detail[SLAD_ERROR_MAX];
};

static void note_stop(void *userdata, const struct ticket *t, const struct effect *e)
{
    struct stops *s = userdata;
    if (e->kind != EFFECT_PLAN_STOPPED)
        return;
    s->n++;
    s->plan_id = e->plan_id;
    snprintf(s->detail, sizeof(s->detail), "%s", e->detail);
}

/* A plan whose stored rule (from an older slad, or the same rule on a slower day) cannot
 * give its next occurrence within the budget: the visit due is made, the plan stops
 * (next_at none, off the agenda) and the observer - the daemon's log - hears why. */
static void test_service_stored_rule_stops_plan(void **state)
{
    struct fixture *f = *state;
    struct stops seen = {0};
    service_set_observer(f->svc, note_stop, &seen);
    struct slad_error err = {""};
    static const struct {
        const char *stored, *why;
        int64_t clock_step_ns;
    } cases[] = {
        {"FREQ=SECONDLY;BYSECOND=60", "FREQ=SECONDLY is not accepted: a plan recurs at most daily",
         0},
        {"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", "field 'rrule': rrule too costly", 1000000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake_clock c = {0, cases[i].clock_step_ns};
        struct budget_clock clock = {fake_now_ns, &c};
        struct plan p;
        plan_with(&p, "FREQ=MONTHLY", "2026-03-02T09:00:00+08:00");
        assert_int_equal(service_plan_create(f->svc, &p, at("2026-03-01T00:00:00Z"), &err), 0);
        int64_t id = p.id;
        assert_int_equal(plan_set_string(&p.rrule, cases[i].stored), 0);
        assert_int_equal(store_plan_update(f->store, &p, &err), 0);
        plan_done(&p);

        service_set_clock(f->svc, &clock);
        seen.n = 0;
        int64_t now = at("2026-03-02T01:00:00Z");
        fire(f, now);
        service_set_clock(f->svc, NULL);
        struct tasks t = plan_tasks(f, id, now);
        assert_int_equal(t.n, 1);
        ASSERT_AT(t.v[0].due_ms, "2026-03-02T09:00:00+08:00");
        assert_int_equal(service_plan_get(f->svc, id, &p, &err), 0);
        assert_int_equal(p.occurrences, 1);
        assert_true(p.next_ms == INT64_MAX);
        assert_true(agenda_when(f->agenda, AGENDA_PLAN, id) == INT64_MAX);
        plan_done(&p);
        assert_int_equal(seen.n, 1);
        assert_int_equal(seen.plan_id, id);
        if (!strstr(seen.detail, cases[i].why))
            fail_msg("%s: told '%s'", cases[i].stored, seen.detail);
    }
    service_set_observer(f->svc, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_yearly),
        cmocka_unit_test(test_yearly_before_rainy_season),
        cmocka_unit_test(test_local_time_kept),
        cmocka_unit_test(test_until_bounds),
        cmocka_unit_test(test_matches_libical_from_start),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_refused_rules),
        cmocka_unit_test(test_accepted_rules),
        cmocka_unit_test(test_budget_is_time),
        cmocka_unit_test(test_never_from_start),
        cmocka_unit_test_setup_teardown(test_service_visit_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_patch_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_too_costly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_stored_rule_stops_plan, setup, teardown),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
