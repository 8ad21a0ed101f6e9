/* test-plan.c - maintenance plans: occurrences of half-yearly and seasonal rules in the
 * calendar's local time (Asia/Shanghai, and New York across DST), the rule's UNTIL and
 * COUNT and the plan's `until`, the messages for bad rules and durations, and the service
 * end to end with an injected "now": plan -> occurrence task -> completion -> report task
 * whose 3wd deadline crosses the National Day holidays and a make-up day (调休), a PATCH
 * of the rule keeping its tasks, delete cancelling the open ones. */
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
#include "conf.h"
#include "followup.h"
#include "jsonx.h"
#include "plan.h"
#include "service.h"
#include "service_plan.h"
#include "store.h"
#include "store_followup.h"

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

/* The n occurrences from start on, each the next after the one before. */
static void occurrences(const struct plan *p, const struct calendar *cal, int64_t *out, int n)
{
    int64_t from = p->start_ms;
    for (int i = 0; i < n; i++) {
        out[i] = plan_next_occurrence(p, cal, from);
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
    ASSERT_AT(plan_next_occurrence(&p, sh, at("2026-05-20T00:00:00Z")),
              "2026-09-01T09:00:00+08:00");
    ASSERT_AT(plan_next_occurrence(&p, sh, at("2026-09-01T01:00:00Z")), "2026-09-01T01:00:00Z");
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
    ASSERT_AT(plan_next_occurrence(&p, ny, at("2026-01-01T00:00:00Z")), "2026-03-08T07:00:00Z");
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

/* Resuming from an occurrence gives what expanding from start gives: many rules, random
 * starts and occurrences, New York (DST; a rule at 02:30 hits the skipped hour each March). */
static void test_resume_matches_full_expansion(void **state)
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
        "FREQ=HOURLY;INTERVAL=5",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=WEEKLY;COUNT=40",
    };
    struct calendar *ny = zone_calendar("America/New_York");
    uint64_t seed = 20260515;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            struct plan p;
            plan_with(&p, rules[i], "2026-01-01T02:30:00-05:00");
            p.start_ms += (int64_t)(seed >> 33) % (400LL * 86400) * 1000;
            int64_t from = p.start_ms + (int64_t)(seed >> 20) % (200LL * 86400) * 1000;
            int64_t occ = plan_next_occurrence(&p, ny, from);
            if (occ == INT64_MAX) {
                plan_done(&p);
                continue;
            }
            int64_t want = plan_next_occurrence(&p, ny, occ + 1);
            int64_t got = plan_occurrence_after(&p, ny, occ);
            if (got != want)
                fail_msg("%s from %lld: after %lld got %lld want %lld", rules[i],
                         (long long)p.start_ms, (long long)occ, (long long)got, (long long)want);
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
        {"FREQ=DAILY;INTERVAL=0", "'INTERVAL=0' is not valid"},
        {"INTERVAL=2", "has no FREQ"},
        {"FREQ=DAILY;BYMONTH=13", "cannot be expanded"},
        {"RRULE:FREQ=DAILY", "without the 'RRULE:' prefix"},
        {"FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY takes no BYMONTHDAY"},
        {"FREQ=HOURLY;BYDAY=MO", "FREQ=HOURLY takes no BYDAY"},
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
    if (store_open(":memory:", true, &f.store, &err) < 0 || !(f.agenda = agenda_new()) ||
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
    struct store_followup_filter filter = {
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_yearly),
        cmocka_unit_test(test_yearly_before_rainy_season),
        cmocka_unit_test(test_local_time_kept),
        cmocka_unit_test(test_until_bounds),
        cmocka_unit_test(test_resume_matches_full_expansion),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test_setup_teardown(test_service_visit_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_patch_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
