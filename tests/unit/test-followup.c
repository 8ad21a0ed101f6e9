/* test-followup.c - follow-up tasks: their due instants and deadlines in working days
 * across China's National Day holidays and make-up days (调休), their ladder's instants,
 * firing once, the API's states, and completion. Every "now" is an argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "followup.h"
#include "jsonx.h"
#include "lifecycle.h"
#include "conf_load.h"

/* Office hours 09-12, 13-18 in Shanghai; 1-8 October off; Sunday 27 September and
 * Saturday 10 October are make-up working days. */
static const char *config_text =
    "calendars = ( { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
    "  hours = { mon = [\"09:00-12:00\", \"13:00-18:00\"]; tue = [\"09:00-12:00\", "
    "\"13:00-18:00\"];\n"
    "            wed = [\"09:00-12:00\", \"13:00-18:00\"]; thu = [\"09:00-12:00\", "
    "\"13:00-18:00\"];\n"
    "            fri = [\"09:00-12:00\", \"13:00-18:00\"]; sat = []; sun = []; };\n"
    "  holidays = [\"2026-10-01..2026-10-08\"]; workdays = [\"2026-09-27\", \"2026-10-10\"]; } "
    ");\n"
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"tech\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x.jsonl\"; } );\n"
    "policies = ( { name = \"repair\"; match = { }; calendar = \"office\";\n"
    "  clocks = ( { name = \"resolution\"; target = \"3wd\"; stop = [\"resolve\"]; } );\n"
    "  followups = (\n"
    "    { name = \"visit\"; from = \"resolve\"; after = \"1wd\"; due_within = \"3wd\";\n"
    "      escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                   { at = \"100%\"; notify = [\"supervisor\"]; },\n"
    "                   { at = \"+1wd\"; notify = [\"supervisor\"]; } ); },\n"
    "    { name = \"week\"; from = \"resolve\"; after = \"7d\"; due_within = \"2h\"; } ); } );\n";

static int64_t at(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(jsonx_time_parse(rfc3339, &ms, NULL), 0);
    return ms;
}

struct fixture {
    struct conf *conf;
    const struct conf_policy *policy;
};

static int setup(void **state)
{
    static struct fixture f;
    struct conf_errors errs = {0};
    if (conf_load_string(config_text, "followup.conf", &f.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text);
        conf_errors_done(&errs);
        return -1;
    }
    f.policy = conf_find_policy(f.conf, "repair");
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    conf_free(f->conf);
    return 0;
}

static const struct effect *find_followup(const struct effects *fx, const char *name)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->v[i].kind == EFFECT_FOLLOWUP && strcmp(fx->v[i].name, name) == 0)
            return &fx->v[i];
    return NULL;
}

/* Resolved on Wednesday 30 September at 16:00: the next working day is Friday 9
 * October (1-8 off), so "1wd" is its close; "3wd" from there counts the make-up
 * Saturday 10th, Monday 12th and Tuesday 13th. "7d" of wall-clock time lands on the
 * 7th, a holiday: the call is due at the next opening, 9 October 09:00. */
static void test_working_day_instants_across_holidays(void **state)
{
    struct fixture *f = *state;
    struct ticket t;
    ticket_init(&t);
    ticket_set_string(&t.title, "pump");
    t.severity = 3;
    t.reported_at_ms = at("2026-09-29T10:00:00+08:00");
    struct effects fx;
    effects_init(&fx);
    assert_int_equal(lifecycle_create(f->conf, &t, t.reported_at_ms, &fx, NULL), 0);
    effects_clear(&fx);
    int64_t resolved = at("2026-09-30T16:00:00+08:00");
    struct ticket_event ev = {.type = TICKET_EVENT_RESOLVE, .at_ms = resolved};
    assert_int_equal(lifecycle_event(f->conf, &t, &ev, resolved, &fx, NULL), 0);

    const struct effect *visit = find_followup(&fx, "visit");
    assert_non_null(visit);
    assert_int_equal(visit->due_at_ms, at("2026-10-09T18:00:00+08:00"));
    assert_int_equal(visit->deadline_at_ms, at("2026-10-13T18:00:00+08:00"));
    assert_string_equal(visit->owner, "assignee");
    const struct effect *week = find_followup(&fx, "week");
    assert_non_null(week);
    assert_int_equal(week->due_at_ms, at("2026-10-09T09:00:00+08:00"));
    assert_int_equal(week->deadline_at_ms, at("2026-10-09T11:00:00+08:00"));
    effects_done(&fx);
    ticket_done(&t);
}

static struct followup visit_task(void)
{
    struct followup f;
    memset(&f, 0, sizeof(f));
    f.id = 7;
    f.ticket_id = 1;
    snprintf(f.name, sizeof(f.name), "visit");
    snprintf(f.owner, sizeof(f.owner), "assignee");
    f.due_ms = at("2026-10-09T18:00:00+08:00");
    f.deadline_ms = at("2026-10-13T18:00:00+08:00");
    f.done_ms = SLAD_NO_TIME;
    return f;
}

/* The window from due to deadline holds 24 business hours (10th, 12th, 13th): 50 % is
 * 12 h in, Monday 12th 14:00; "+1wd" is the close of Wednesday 14th. */
static void test_ladder_instants(void **state)
{
    struct fixture *f = *state;
    const struct conf_ladder *ladder = &f->policy->followups[0].ladder;
    const struct calendar *cal = f->policy->calendar;
    struct followup task = visit_task();
    assert_int_equal(followup_step_instant(&task, ladder, 0, cal), at("2026-10-12T14:00:00+08:00"));
    assert_int_equal(followup_step_instant(&task, ladder, 1, cal), task.deadline_ms);
    assert_int_equal(followup_step_instant(&task, ladder, 2, cal), at("2026-10-14T18:00:00+08:00"));
    /* The default ladder: the supervisor at the deadline. */
    const struct conf_ladder *dflt = followup_default_ladder();
    assert_int_equal(dflt->n_steps, 1);
    assert_string_equal(dflt->steps[0].notify.v[0], "supervisor");
    assert_int_equal(followup_step_instant(&task, dflt, 0, cal), task.deadline_ms);
}

/* Due first (the owner), then each step once at its instant, in order; nothing fires
 * early, nothing twice; a step at or past the deadline says followup.overdue. */
static void test_advance_fires_each_once(void **state)
{
    struct fixture *f = *state;
    const struct conf_ladder *ladder = &f->policy->followups[0].ladder;
    const struct calendar *cal = f->policy->calendar;
    struct followup task = visit_task();
    struct effects fx;
    effects_init(&fx);
    assert_int_equal(followup_next_instant(&task, ladder, cal), task.due_ms);
    followup_advance(&task, ladder, cal, task.due_ms - 1, &fx);
    assert_int_equal(fx.n, 0);
    followup_advance(&task, ladder, cal, task.due_ms, &fx);
    assert_int_equal(fx.n, 1);
    assert_int_equal(fx.v[0].kind, EFFECT_FOLLOWUP_DUE);
    assert_string_equal(fx.v[0].event, "followup.due");
    assert_int_equal(fx.v[0].followup_id, 7);
    int64_t half = at("2026-10-12T14:00:00+08:00");
    assert_int_equal(followup_next_instant(&task, ladder, cal), half);
    effects_clear(&fx);
    followup_advance(&task, ladder, cal, half, &fx);
    followup_advance(&task, ladder, cal, half, &fx);
    assert_int_equal(fx.n, 1);
    assert_int_equal(fx.v[0].kind, EFFECT_FOLLOWUP_STEP);
    assert_int_equal(fx.v[0].step, 1);
    assert_string_equal(fx.v[0].event, "followup.due");
    /* After downtime everything due fires at once, each with its own instant. */
    effects_clear(&fx);
    followup_advance(&task, ladder, cal, at("2026-10-20T00:00:00Z"), &fx);
    assert_int_equal(fx.n, 2);
    assert_int_equal(fx.v[0].at_ms, task.deadline_ms);
    assert_string_equal(fx.v[0].event, "followup.overdue");
    assert_int_equal(fx.v[1].at_ms, at("2026-10-14T18:00:00+08:00"));
    assert_int_equal(followup_next_instant(&task, ladder, cal), INT64_MAX);
    effects_done(&fx);
}

static void test_views(void **state)
{
    (void)state;
    struct followup task = visit_task();
    assert_int_equal(followup_view(&task, task.due_ms - 1), FOLLOWUP_VIEW_PENDING);
    assert_int_equal(followup_view(&task, task.due_ms), FOLLOWUP_VIEW_DUE);
    assert_int_equal(followup_view(&task, task.deadline_ms), FOLLOWUP_VIEW_OVERDUE);
    task.state = FOLLOWUP_CANCELLED;
    assert_int_equal(followup_view(&task, task.due_ms), FOLLOWUP_VIEW_CANCELLED);
    for (int v = 0; v < FOLLOWUP_VIEW_COUNT; v++)
        assert_int_equal(followup_view_from_name(followup_view_name(v)), v);
    assert_int_equal(followup_view_from_name("later"), -1);
}

static void test_complete(void **state)
{
    struct fixture *f = *state;
    struct followup task = visit_task();
    struct effects fx;
    effects_init(&fx);
    struct slad_error err = {""};
    assert_int_equal(followup_complete(&task, "happy", NULL, NULL, 1, &fx, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "satisfied, unsatisfied, unreachable"));
    assert_int_equal(followup_complete(&task, NULL, NULL, NULL, 1, &fx, &err), -EINVAL);
    assert_int_equal(fx.n, 0);
    assert_int_equal(task.state, FOLLOWUP_OPEN);
    int64_t now = at("2026-10-12T10:00:00+08:00");
    assert_int_equal(followup_complete(&task, "unsatisfied", "noisy", "tech", now, &fx, &err), 0);
    assert_int_equal(task.state, FOLLOWUP_DONE);
    assert_int_equal(task.outcome, FOLLOWUP_UNSATISFIED);
    assert_int_equal(task.done_ms, now);
    assert_string_equal(task.note, "noisy");
    assert_int_equal(fx.n, 1);
    assert_string_equal(fx.v[0].event, "followup.unsatisfied");
    assert_string_equal(fx.v[0].notify->v[0], "supervisor");
    /* Done: no more instants, and a second completion is refused. */
    assert_int_equal(
        followup_next_instant(&task, &f->policy->followups[0].ladder, f->policy->calendar),
        INT64_MAX);
    assert_int_equal(followup_complete(&task, "satisfied", NULL, NULL, now, &fx, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "is done"));
    /* satisfied tells nobody. */
    struct followup other = visit_task();
    effects_clear(&fx);
    assert_int_equal(followup_complete(&other, "satisfied", NULL, NULL, now, &fx, &err), 0);
    assert_int_equal(fx.n, 1);
    assert_null(fx.v[0].notify);
    effects_done(&fx);
}

/* A follow-up ladder with `repeat` is a config error naming the follow-up. */
static void test_config_refuses_repeat(void **state)
{
    (void)state;
    const char *text = "policies = ( { name = \"p\"; match = { }; calendar = \"24x7\";\n"
                       "  clocks = ( { name = \"c\"; target = \"1h\"; stop = [\"resolve\"]; } );\n"
                       "  followups = ( { name = \"call\"; from = \"resolve\"; due_within = "
                       "\"1h\";\n"
                       "    escalate = ( { at = \"100%\"; notify = [\"supervisor\"]; "
                       "repeat = \"1h\"; } ); } ); } );\n";
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    assert_true(conf_load_string(text, "repeat.conf", &conf, &errs) < 0);
    assert_non_null(strstr(errs.text, "follow-up 'call'"));
    assert_non_null(strstr(errs.text, "fire once"));
    conf_errors_done(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_working_day_instants_across_holidays),
        cmocka_unit_test(test_ladder_instants),
        cmocka_unit_test(test_advance_fires_each_once),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_config_refuses_repeat),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
