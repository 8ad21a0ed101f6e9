/* test-recur.c - recur.c against libical's own iteration from dtstart: the same
 * occurrences in the same order for rules that cross many windows (dense times of day,
 * sparse days), with COUNT counted apart and a start anywhere, and for MONTHLY and YEARLY
 * rules that skip months and years without a day (dtstart on the 31st or on 29 February,
 * near the year 2582 where libical stops); a rule whose next day is too many periods
 * ahead is too costly even without a budget; the budget is time on the caller's clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "recur.h"
#include "rrule.h"

static struct icaltimetype local(const char *text)
{
    struct icaltimetype t = icaltime_from_string(text);
    if (icaltime_is_null_time(t))
        fail_msg("bad time in test: %s", text);
    return t;
}

static struct icalrecurrencetype rule_of(const char *text)
{
    struct icalrecurrencetype rule;
    struct slad_error err = {""};
    if (rrule_parse(text, &rule, &err) < 0)
        fail_msg("%s: %s", text, err.msg);
    return rule;
}

/* Up to n occurrences at or after begin, as libical gives them from dtstart. */
static int reference(const char *text, struct icaltimetype dtstart, struct icaltimetype begin,
                     struct icaltimetype *out, int n)
{
    icalrecur_iterator *it = icalrecur_iterator_new(rule_of(text), dtstart);
    int got = 0;
    for (struct icaltimetype o;
         it && got < n && !icaltime_is_null_time(o = icalrecur_iterator_next(it));)
        if (icaltime_compare(o, begin) >= 0)
            out[got++] = o;
    if (it)
        icalrecur_iterator_free(it);
    return got;
}

/* Up to n occurrences from recur without a time limit. */
static int bounded(const char *text, struct icaltimetype dtstart, struct icaltimetype begin,
                   struct icaltimetype *out, int n)
{
    struct icalrecurrencetype rule = rule_of(text);
    struct budget unlimited;
    budget_start(&unlimited, NULL, 0);
    struct recur *r;
    assert_int_equal(recur_new(&rule, dtstart, begin, &unlimited, &r), 0);
    int got = 0, k = 0;
    while (got < n && (k = recur_next(r, &out[got])) > 0)
        got++;
    if (k < 0)
        fail_msg("%s: %d", text, k);
    recur_free(r);
    return got;
}

static void expect_same(const char *text, const char *dtstart, const char *begin, int line)
{
    enum { N = 600 }; /* more than a window holds */
    struct icaltimetype want[N], got[N];
    int n_want = reference(text, local(dtstart), local(begin), want, N);
    int n_got = bounded(text, local(dtstart), local(begin), got, N);
    for (int i = 0; i < n_want && i < n_got; i++)
        if (icaltime_compare(want[i], got[i]) != 0) {
            char w[32];
            snprintf(w, sizeof(w), "%s", icaltime_as_ical_string(want[i]));
            fail_msg("line %d: %s from %s, begin %s: occurrence %d is %s, want %s", line, text,
                     dtstart, begin, i, icaltime_as_ical_string(got[i]), w);
        }
    if (n_got != n_want)
        fail_msg("line %d: %s from %s, begin %s: %d occurrences, want %d", line, text, dtstart,
                 begin, n_got, n_want);
}

static void test_same_as_libical(void **state)
{
    static const struct {
        int line;
        const char *rrule, *dtstart, *begin;
    } cases[] = {
        /* 48 times a day: a window is about five days */
        {__LINE__, "FREQ=DAILY;BYHOUR=0,6,12,18;BYMINUTE=0,20,40;BYSECOND=0,15,30,45",
         "20260301T083000", "20260301T083000"},
        {__LINE__, "FREQ=DAILY;BYHOUR=0,6,12,18;BYMINUTE=0,20,40;BYSECOND=0,15,30,45",
         "20260301T083000", "20270505T171717"},
        {__LINE__, "FREQ=DAILY;INTERVAL=2;BYHOUR=7", "20260301T070000", "20260301T070000"},
        /* sparse days: windows of 128 days pass without one */
        {__LINE__, "FREQ=DAILY;BYMONTH=1,7;BYMONTHDAY=1,15;BYHOUR=9,17", "20260301T090000",
         "20260301T090000"},
        {__LINE__, "FREQ=DAILY;BYDAY=FR;BYMONTHDAY=13", "20260102T100000", "20300101T000000"},
        {__LINE__, "FREQ=DAILY;INTERVAL=5;BYDAY=MO,FR", "20260301T090000", "20261111T000000"},
        {__LINE__, "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=8,12,16;BYMINUTE=0,30", "20260302T080000",
         "20260620T000000"},
        {__LINE__, "FREQ=WEEKLY;INTERVAL=2;BYMONTH=12;BYDAY=SU", "20260301T090000",
         "20280101T000000"},
        {__LINE__, "FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SA,SU", "20260307T090000",
         "20260501T000000"},
        /* COUNT from dtstart, whatever begin is */
        {__LINE__, "FREQ=DAILY;COUNT=100;BYHOUR=1,2,3,4,5,6,7,8", "20260301T010000",
         "20260305T000000"},
        {__LINE__, "FREQ=WEEKLY;COUNT=60;BYDAY=TU,TH;BYMINUTE=0,30", "20260303T090000",
         "20260303T090000"},
        {__LINE__, "FREQ=YEARLY;BYYEARDAY=366,-366;COUNT=8", "20260101T000000", "20330101T000000"},
        /* months and years without a day */
        {__LINE__, "FREQ=MONTHLY;BYDAY=5FR", "20260301T090000", "20260301T090000"},
        {__LINE__, "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31,-31", "20260131T090000",
         "20290101T000000"},
        {__LINE__, "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=6,18", "20260301T090000",
         "20260301T090000"},
        {__LINE__, "FREQ=MONTHLY", "20260131T100000", "20260131T100000"},
        {__LINE__, "FREQ=MONTHLY;INTERVAL=7", "20260131T100000", "20310101T000000"},
        {__LINE__, "FREQ=YEARLY", "20280229T083000", "20280229T083000"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=1,4,7,10", "20260131T120000", "20260131T120000"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=2;BYDAY=5SU", "20260301T090000", "20260301T090000"},
        {__LINE__, "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO,SU", "20260301T090000", "20400101T000000"},
        {__LINE__, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1;BYHOUR=9", "20260301T090000",
         "20260601T000000"},
        {__LINE__, "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29", "20280229T090000",
         "20280229T090000"},
        /* the last periods libical gives */
        {__LINE__, "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=6,18", "20260301T090000",
         "25700101T000000"},
        {__LINE__, "FREQ=YEARLY;BYMONTH=2;BYDAY=5SU", "20260301T090000", "24000101T000000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_same(cases[i].rrule, cases[i].dtstart, cases[i].begin, cases[i].line);
}

static int first(const char *text, const char *dtstart, struct budget *budget,
                 struct icaltimetype *ret)
{
    struct icalrecurrencetype rule = rule_of(text);
    struct recur *r;
    assert_int_equal(recur_new(&rule, local(dtstart), local(dtstart), budget, &r), 0);
    int k = recur_next(r, ret);
    recur_free(r);
    return k;
}

/* The 5th Monday of February every 7th month from March 2026: the first comes in 2512,
 * 833 periods on, beyond what one libical call may scan (18 ms): too costly whatever the
 * budget. The same days 7 months apart without BYMONTH come often enough. */
static void test_far_period_is_too_costly(void **state)
{
    struct budget unlimited;
    budget_start(&unlimited, NULL, 0);
    struct icaltimetype occ;
    assert_int_equal(
        first("FREQ=MONTHLY;INTERVAL=7;BYMONTH=2;BYDAY=5MO", "20260301T090000", &unlimited, &occ),
        -ETIME);
    assert_int_equal(
        first("FREQ=MONTHLY;INTERVAL=7;BYDAY=5MO", "20260301T090000", &unlimited, &occ), 1);
}

/* No period the rule visits has a day: none, after one probe per kind of period. */
static void test_never(void **state)
{
    struct budget unlimited;
    budget_start(&unlimited, NULL, 0);
    struct icaltimetype occ;
    assert_int_equal(first("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "20260301T090000", &unlimited, &occ),
                     0);
    assert_int_equal(first("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "20270101T090000",
                           &unlimited, &occ),
                     0);
    /* DAILY: every 4 years from 3 March, one day later after 2100, never on 29 February. */
    assert_int_equal(first("FREQ=DAILY;INTERVAL=1461;BYMONTH=2;BYMONTHDAY=29", "20260303T090000",
                           &unlimited, &occ),
                     0);
}

struct counting_clock {
    int64_t reads, step_ns;
};

static int64_t counting_now_ns(void *userdata)
{
    struct counting_clock *c = userdata;
    return ++c->reads * c->step_ns;
}

/* The clock is read before each libical call, and the budget counts its time: a rule
 * whose next day is 18 years and some 26 windows away (29 February 2044, a Monday) is
 * cut off by a clock that moves 100 us a reading at the first reading past 5 ms. */
static void test_budget_between_calls(void **state)
{
    struct counting_clock c = {0, 100000};
    struct budget_clock clock = {counting_now_ns, &c};
    struct budget b;
    budget_start(&b, &clock, 5000000);
    struct icaltimetype occ;
    assert_int_equal(
        first("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "20260303T090000", &b, &occ), -ETIME);
    assert_int_equal(c.reads, 52);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_libical),
        cmocka_unit_test(test_far_period_is_too_costly),
        cmocka_unit_test(test_never),
        cmocka_unit_test(test_budget_between_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
