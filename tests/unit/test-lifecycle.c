/* test-lifecycle.c - a ticket's clocks through events, policy changes, reloads, reopen,
 * cancel and catch-up after downtime, with an injected clock (every "now" is an argument). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "conf_load.h"

#define MIN  (60 * 1000LL)
#define HOUR (60 * MIN)
#define T0   (1772438400000LL) /* 2026-03-02T08:00:00Z */

static const char *config_text =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x.jsonl\"; } );\n"
    "policies = (\n"
    "  { name = \"fast\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"resolution\"; target = \"2h\"; stop = [\"resolve\"];\n"
    "                 pause = [\"on_hold\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\"]; },\n"
    "                              { at = \"+30m\"; notify = [\"supervisor\"]; repeat = \"1h\"; } "
    "); },\n"
    "               { name = \"backup\"; start = \"arrive\"; delay = \"1h\"; target = \"1h\";\n"
    "                 stop = [\"resolve\"]; } ); },\n"
    "  { name = \"slow\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"resolution\"; target = \"8h\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"supervisor\"]; } ); },\n"
    "               { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\"]; } ); }\n"
    ");\n";

struct fixture {
    struct conf *conf;
    struct ticket t;
    struct effects fx;
};

static int setup(void **state)
{
    static struct fixture f;
    struct conf_errors errs = {0};
    if (conf_load_string(config_text, "lifecycle.conf", &f.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text);
        conf_errors_done(&errs);
        return -1;
    }
    ticket_init(&f.t);
    ticket_set_string(&f.t.title, "printer on fire");
    ticket_set_string(&f.t.team, "north");
    ticket_set_string(&f.t.assignee, "tech");
    f.t.severity = 3;
    f.t.reported_at_ms = T0;
    effects_init(&f.fx);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ticket_done(&f->t);
    effects_done(&f->fx);
    conf_free(f->conf);
    return 0;
}

static size_t count_steps(const struct effects *fx)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n; i++)
        n += fx->v[i].kind == EFFECT_STEP;
    return n;
}

static const struct effect *step_at(const struct effects *fx, size_t k)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->v[i].kind == EFFECT_STEP && k-- == 0)
            return &fx->v[i];
    fail_msg("no step %zu", k);
    return NULL;
}

static struct ticket_event ev(enum ticket_event_type type, int64_t at_ms)
{
    return (struct ticket_event){.type = type, .at_ms = at_ms, .reason = "parts"};
}

static void test_policy_change_keeps_elapsed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(lifecycle_create(f->conf, &f->t, T0, &f->fx, NULL), 0);
    assert_string_equal(f->t.policy, "slow");
    assert_int_equal(ticket_clock(&f->t, "resolution")->due_at_ms, T0 + 8 * HOUR);
    /* One hour later the ticket turns out critical: 1 h elapsed is kept, target 2 h. */
    f->t.severity = 1;
    effects_clear(&f->fx);
    lifecycle_rechoose(f->conf, &f->t, T0 + HOUR, &f->fx);
    assert_string_equal(f->t.policy, "fast");
    struct slaclock *c = ticket_clock(&f->t, "resolution");
    assert_int_equal(c->elapsed_ms, HOUR);
    assert_int_equal(c->target_ms, 2 * HOUR);
    assert_int_equal(c->due_at_ms, T0 + 2 * HOUR);
    assert_null(ticket_clock(&f->t, "response")); /* dropped: the new policy has none */
    /* The 50% step (1 h) is due right now under the new target. */
    assert_int_equal(count_steps(&f->fx), 1);
    assert_string_equal(step_at(&f->fx, 0)->event, "sla.warning");
    assert_int_equal(lifecycle_next_instant(f->conf, &f->t, T0 + HOUR), T0 + 2 * HOUR);
    /* A reload with an identical config fires nothing again. */
    effects_clear(&f->fx);
    lifecycle_rechoose(f->conf, &f->t, T0 + HOUR + MIN, &f->fx);
    assert_int_equal(count_steps(&f->fx), 0);
}

static void test_pause_reopen_cancel(void **state)
{
    struct fixture *f = *state;
    f->t.severity = 1;
    assert_int_equal(lifecycle_create(f->conf, &f->t, T0, &f->fx, NULL), 0);
    struct ticket_event e = ev(TICKET_EVENT_HOLD, T0 + 30 * MIN);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + 30 * MIN, &f->fx, NULL), 0);
    struct slaclock *c = ticket_clock(&f->t, "resolution");
    assert_int_equal(c->state, SLACLOCK_PAUSED);
    assert_int_equal(lifecycle_next_instant(f->conf, &f->t, T0 + HOUR), INT64_MAX);
    e = ev(TICKET_EVENT_RESUME, T0 + 5 * HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + 5 * HOUR, &f->fx, NULL), 0);
    assert_int_equal(f->t.status, TICKET_OPEN);
    assert_int_equal(c->due_at_ms, T0 + 5 * HOUR + 90 * MIN);
    e = ev(TICKET_EVENT_RESOLVE, T0 + 5 * HOUR + 10 * MIN);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, e.at_ms, &f->fx, NULL), 0);
    assert_int_equal(c->state, SLACLOCK_MET);
    assert_int_equal(ticket_clock(&f->t, "backup")->state, SLACLOCK_CANCELLED);
    /* Reopened: the resolution clock counts on from 40 min; backup waits for arrive. */
    e = ev(TICKET_EVENT_REOPEN, T0 + 6 * HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, e.at_ms, &f->fx, NULL), 0);
    assert_int_equal(f->t.reopen_count, 1);
    assert_int_equal(c->state, SLACLOCK_RUNNING);
    assert_int_equal(c->elapsed_ms, 40 * MIN);
    assert_int_equal(c->due_at_ms, T0 + 6 * HOUR + 80 * MIN);
    assert_int_equal(ticket_clock(&f->t, "backup")->state, SLACLOCK_PENDING);
    e = ev(TICKET_EVENT_CANCEL, T0 + 7 * HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, e.at_ms, &f->fx, NULL), 0);
    assert_int_equal(c->state, SLACLOCK_CANCELLED);
    assert_int_equal(lifecycle_next_instant(f->conf, &f->t, T0 + 7 * HOUR), INT64_MAX);
    /* Refused events change nothing and say what is allowed. */
    struct slad_error err;
    e = ev(TICKET_EVENT_RESOLVE, T0 + 8 * HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, e.at_ms, &f->fx, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "'cancelled'"));
    assert_int_equal(f->t.status, TICKET_CANCELLED);
}

static void test_delayed_start(void **state)
{
    struct fixture *f = *state;
    f->t.severity = 1;
    assert_int_equal(lifecycle_create(f->conf, &f->t, T0, &f->fx, NULL), 0);
    /* Before it starts, a pending clock shows the target it is configured with. */
    assert_int_equal(ticket_clock(&f->t, "backup")->state, SLACLOCK_PENDING);
    assert_int_equal(ticket_clock(&f->t, "backup")->target_ms, 1 * HOUR);
    struct ticket_event e = ev(TICKET_EVENT_ARRIVE, T0 + 10 * MIN);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, e.at_ms, &f->fx, NULL), 0);
    struct slaclock *b = ticket_clock(&f->t, "backup");
    assert_int_equal(b->state, SLACLOCK_PENDING);
    assert_int_equal(b->target_ms, 1 * HOUR);
    assert_int_equal(b->since_ms, T0 + 70 * MIN);
    lifecycle_advance(f->conf, &f->t, T0 + 70 * MIN, &f->fx);
    assert_int_equal(b->state, SLACLOCK_RUNNING);
    assert_int_equal(b->started_at_ms, T0 + 70 * MIN);
    assert_int_equal(b->due_at_ms, T0 + 130 * MIN);
}

/* The board's "at risk" (issue 13): the instant a running clock has a quarter of its
 * target left, on its calendar. Office hours Mon-Fri 09:00-18:00 UTC (9 h a day), target
 * 40 h, reported Monday 2 March 09:00: due Friday 13:00 (4 x 9 h + 4 h), at risk once
 * 30 h are used, Thursday 12:00 (3 x 9 h + 3 h); a wall-clock quarter before the due
 * (Friday 03:00) would be wrong. A pause clears it; resuming counts it again from the
 * time left. */
static void test_risk_instant_on_the_calendar(void **state)
{
    (void)state;
    static const char text[] =
        "calendars = ( { name = \"office\"; timezone = \"UTC\"; hours = {\n"
        "  mon = [\"09:00-18:00\"]; tue = [\"09:00-18:00\"]; wed = [\"09:00-18:00\"];\n"
        "  thu = [\"09:00-18:00\"]; fri = [\"09:00-18:00\"]; }; } );\n"
        "policies = ( { name = \"p\"; match = { }; calendar = \"office\";\n"
        "  clocks = ( { name = \"resolution\"; target = \"40h\"; stop = [\"resolve\"];\n"
        "               pause = [\"on_hold\"]; } ); } );\n";
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(text, "risk.conf", &conf, &errs) < 0)
        fail_msg("%s", errs.text);
    const int64_t mon9 = 1772442000000LL; /* 2026-03-02T09:00:00Z, a Monday */
    const int64_t day = 24 * HOUR;
    struct ticket t;
    ticket_init(&t);
    ticket_set_string(&t.title, "x");
    t.severity = 3;
    t.reported_at_ms = mon9;
    struct effects fx;
    effects_init(&fx);
    assert_int_equal(lifecycle_create(conf, &t, mon9, &fx, NULL), 0);
    struct slaclock *c = ticket_clock(&t, "resolution");
    assert_int_equal(c->state, SLACLOCK_RUNNING);
    assert_int_equal(c->due_at_ms, mon9 + 4 * day + 4 * HOUR);
    assert_int_equal(c->risk_at_ms, mon9 + 3 * day + 3 * HOUR);
    /* On hold Tuesday 09:00 (9 h used) to Wednesday 09:00: 31 h left, 21 h to the risk. */
    struct ticket_event hold = {.type = TICKET_EVENT_HOLD, .at_ms = mon9 + day, .reason = "parts"};
    assert_int_equal(lifecycle_event(conf, &t, &hold, hold.at_ms, &fx, NULL), 0);
    assert_int_equal(c->state, SLACLOCK_PAUSED);
    struct ticket_event resume = {.type = TICKET_EVENT_RESUME, .at_ms = mon9 + 2 * day};
    assert_int_equal(lifecycle_event(conf, &t, &resume, resume.at_ms, &fx, NULL), 0);
    assert_int_equal(c->state, SLACLOCK_RUNNING);
    /* Wed 9 h, Thu 9 h, Fri 3 h: at risk Friday 12:00; due Monday 13:00 (Fri 9 h + 4 h). */
    assert_int_equal(c->risk_at_ms, mon9 + 4 * day + 3 * HOUR);
    assert_int_equal(c->due_at_ms, mon9 + 7 * day + 4 * HOUR);
    effects_done(&fx);
    ticket_done(&t);
    conf_free(conf);
}

/* Events apply in time order: a resume dated before its hold would count the paused hour
 * again (resolution 3 h elapsed after 2 h), an event before the report would stop a
 * clock before it started. Refused with the last event's instant, nothing changed; an
 * event at the very instant of the last one is fine. */
static void test_event_out_of_order(void **state)
{
    struct fixture *f = *state;
    f->t.severity = 1;
    assert_int_equal(lifecycle_create(f->conf, &f->t, T0, &f->fx, NULL), 0);
    struct slad_error err = {{0}};
    struct ticket_event e = ev(TICKET_EVENT_ACKNOWLEDGE, T0 - MIN);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + MIN, &f->fx, &err), -TICKET_EORDER);
    assert_non_null(strstr(err.msg, "reported_at"));
    assert_non_null(strstr(err.msg, "2026-03-02T08:00:00Z"));
    e = ev(TICKET_EVENT_HOLD, T0 + HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + HOUR, &f->fx, NULL), 0);
    struct ticket before;
    assert_int_equal(ticket_copy(&before, &f->t), 0);
    e = ev(TICKET_EVENT_RESUME, T0);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + 2 * HOUR, &f->fx, &err),
                     -TICKET_EORDER);
    assert_non_null(strstr(err.msg, "'resume'"));
    assert_non_null(strstr(err.msg, "'hold'"));
    assert_non_null(strstr(err.msg, "at or after 2026-03-02T09:00:00Z"));
    assert_int_equal(f->t.status, TICKET_ON_HOLD);
    assert_memory_equal(f->t.clocks, before.clocks, sizeof(before.clocks));
    assert_memory_equal(f->t.event_last_ms, before.event_last_ms, sizeof(before.event_last_ms));
    ticket_done(&before);
    /* A tie with the hold: paused for no time at all. */
    e = ev(TICKET_EVENT_RESUME, T0 + HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + 2 * HOUR, &f->fx, NULL), 0);
    e = ev(TICKET_EVENT_RESOLVE, T0 + 2 * HOUR);
    assert_int_equal(lifecycle_event(f->conf, &f->t, &e, T0 + 2 * HOUR, &f->fx, NULL), 0);
    struct slaclock *c = ticket_clock(&f->t, "resolution");
    assert_int_equal(c->elapsed_ms, 2 * HOUR);
    assert_int_equal(c->state, SLACLOCK_MET);
    assert_int_equal(ticket_last_event_ms(&f->t), T0 + 2 * HOUR);
}

/* A ticket reported 5 h ago: every step fires once, late, and the repeating step after due
 * fires only as its latest repeat, not once per hour missed. */
static void test_catch_up_collapses_repeats(void **state)
{
    struct fixture *f = *state;
    f->t.severity = 1;
    assert_int_equal(lifecycle_create(f->conf, &f->t, T0 + 5 * HOUR, &f->fx, NULL), 0);
    assert_int_equal(count_steps(&f->fx), 3);
    assert_int_equal(step_at(&f->fx, 0)->at_ms, T0 + HOUR);
    assert_int_equal(step_at(&f->fx, 1)->at_ms, T0 + 2 * HOUR);
    const struct effect *rep = step_at(&f->fx, 2);
    assert_string_equal(rep->event, "sla.escalation");
    assert_int_equal(rep->repeat, 2); /* +30m, +1h30m, +2h30m: the last is at T0+4h30 */
    assert_int_equal(rep->at_ms, T0 + 4 * HOUR + 30 * MIN);
    assert_int_equal(lifecycle_next_instant(f->conf, &f->t, T0 + 5 * HOUR),
                     T0 + 5 * HOUR + 30 * MIN);
    /* Advancing again at the same instant fires nothing twice. */
    effects_clear(&f->fx);
    lifecycle_advance(f->conf, &f->t, T0 + 5 * HOUR, &f->fx);
    assert_int_equal(count_steps(&f->fx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy_change_keeps_elapsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_reopen_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delayed_start, setup, teardown),
        cmocka_unit_test(test_risk_instant_on_the_calendar),
        cmocka_unit_test_setup_teardown(test_event_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_collapses_repeats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
