/* test-service-intake.c - alerts from monitoring through the service (service_intake) on
 * a real store with an injected "now": Alertmanager's firing alerts become one ticket per
 * fingerprint, their repeats change nothing, a resolved alert resolves its ticket at the
 * alert's end, firing again reopens it; PagerDuty's trigger, acknowledge and resolve by
 * dedup_key, and a trigger without one gets a key that later events can name; events for
 * no ticket change nothing. On ":memory:", and under meson test service-intake-postgres on
 * a PostgreSQL database emptied before each case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "conf_load.h"
#include "service.h"
#include "store.h"
#include "testdb.h"

#define S  1000LL
#define T0 INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */

static const char conf_text[] =
    "contacts = ( { name = \"boss\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"ops\"; roles = { supervisor = [\"boss\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test.jsonl\"; } );\n"
    "policies = ( { name = \"alerts\"; match = { source = [\"prom\", \"pd\"]; };\n"
    "    clocks = ( { name = \"response\"; target = \"10m\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"supervisor\"]; } ); } ); },\n"
    "  { name = \"default\"; match = { }; } );\n"
    "intakes = ( { name = \"prom\"; type = \"alertmanager\"; team = \"ops\"; },\n"
    "            { name = \"pd\"; type = \"pagerduty\"; team = \"ops\"; } );\n";

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
    struct slad_error err = {{0}};
    if (conf_load_string(conf_text, "t.conf", &f.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text);
        return -1;
    }
    testdb_empty();
    if (store_open(testdb_on_postgres() ? testdb_target() : ":memory:", true, &f.store, &err) < 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return -1;
    }
    f.agenda = agenda_new();
    if (!f.agenda || service_new(f.conf, f.store, f.agenda, NULL, &f.svc, &err) < 0)
        return -1;
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

static struct intake_alert alert(enum intake_action action, const char *key, const char *title)
{
    struct intake_alert a;
    intake_alert_init(&a);
    a.action = action;
    a.key = key ? strdup(key) : NULL;
    a.title = title ? strdup(title) : NULL;
    a.severity = strdup("critical");
    return a;
}

/* Apply alerts of intake name at now; outcomes into res. */
static void apply(struct fixture *f, const char *name, struct intake_alert *alerts, size_t n,
                  int64_t now, struct service_intake_result *res, int line)
{
    struct slad_error err = {{0}};
    int r = service_intake(f->svc, conf_find_intake(f->conf, name), alerts, n, now, res, &err);
    if (r < 0)
        fail_msg("line %d: service_intake: %d %s", line, r, err.msg);
    for (size_t i = 0; i < n; i++)
        intake_alert_done(&alerts[i]);
}

static struct ticket load(struct fixture *f, int64_t id)
{
    struct ticket t;
    struct slad_error err = {{0}};
    assert_int_equal(service_ticket_get(f->svc, id, &t, &err), 0);
    return t;
}

static int count_row(void *userdata, const struct ticket *t)
{
    (void)t;
    (*(int *)userdata)++;
    return 0;
}

static int count_tickets(struct fixture *f)
{
    int n = 0;
    struct slad_error err = {{0}};
    struct ticket_filter filter = {.breached = -1};
    assert_int_equal(service_ticket_list(f->svc, &filter, count_row, &n, &err), 0);
    return n;
}

static int count_history_row(void *userdata, const struct history_entry *h)
{
    (void)h;
    (*(int *)userdata)++;
    return 0;
}

static int count_history(struct fixture *f, int64_t id)
{
    int n = 0;
    struct slad_error err = {{0}};
    assert_int_equal(service_history_list(f->svc, id, 0, 0, count_history_row, &n, &err), 0);
    return n;
}

static void test_alertmanager_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct service_intake_result res[3];
    struct intake_alert v[3] = {alert(INTAKE_TRIGGER, "fp1", "disk full"),
                                alert(INTAKE_TRIGGER, "fp2", "load high"),
                                alert(INTAKE_RESOLVE, "fp-unknown", NULL)};
    v[0].started_ms = T0 - 60 * S;
    apply(f, "prom", v, 3, T0, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_CREATED);
    assert_int_equal(res[1].outcome, INTAKE_CREATED);
    assert_int_equal(res[2].outcome, INTAKE_UNCHANGED); /* nothing to resolve */
    assert_int_equal(res[2].ticket_id, 0);
    assert_string_equal(res[0].key, "fp1");
    assert_int_equal(count_tickets(f), 2);
    struct ticket t = load(f, res[0].ticket_id);
    assert_string_equal(t.source, "prom");
    assert_string_equal(t.external_id, "fp1");
    assert_string_equal(t.team, "ops");
    assert_string_equal(t.policy, "alerts");
    assert_int_equal(t.severity, 1);
    assert_int_equal(t.reported_at_ms, T0 - 60 * S);
    ticket_done(&t);
    int64_t id = res[0].ticket_id;
    int rows = count_history(f, id);

    /* Alertmanager's repeat of the firing alert: nothing changes, not even history. */
    struct intake_alert again[1] = {alert(INTAKE_TRIGGER, "fp1", "disk full (edited)")};
    apply(f, "prom", again, 1, T0 + 300 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_UNCHANGED);
    assert_int_equal(res[0].ticket_id, id);
    assert_int_equal(count_history(f, id), rows);
    t = load(f, id);
    assert_string_equal(t.title, "disk full");
    ticket_done(&t);

    /* Resolved: the ticket is resolved when the alert ended. */
    struct intake_alert end[1] = {alert(INTAKE_RESOLVE, "fp1", NULL)};
    end[0].ended_ms = T0 + 400 * S;
    apply(f, "prom", end, 1, T0 + 450 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_RESOLVED);
    t = load(f, id);
    assert_int_equal(t.status, TICKET_RESOLVED);
    assert_int_equal(t.event_last_ms[TICKET_EVENT_RESOLVE], T0 + 400 * S);
    ticket_done(&t);
    /* ... and its repeat changes nothing. */
    struct intake_alert end2[1] = {alert(INTAKE_RESOLVE, "fp1", NULL)};
    apply(f, "prom", end2, 1, T0 + 500 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_UNCHANGED);

    /* Firing again reopens the same ticket. */
    struct intake_alert refire[1] = {alert(INTAKE_TRIGGER, "fp1", "disk full")};
    apply(f, "prom", refire, 1, T0 + 600 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_REOPENED);
    assert_int_equal(res[0].ticket_id, id);
    t = load(f, id);
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.reopen_count, 1);
    ticket_done(&t);
    assert_int_equal(count_tickets(f), 2);
}

/* The same key under two intakes names two tickets: an intake's keys are its own. */
static void test_keys_per_intake(void **state)
{
    struct fixture *f = *state;
    struct service_intake_result res[1];
    struct intake_alert a[1] = {alert(INTAKE_TRIGGER, "same", "one")};
    apply(f, "prom", a, 1, T0, res, __LINE__);
    int64_t first = res[0].ticket_id;
    struct intake_alert b[1] = {alert(INTAKE_TRIGGER, "same", "two")};
    apply(f, "pd", b, 1, T0, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_CREATED);
    assert_int_not_equal(res[0].ticket_id, first);
}

static void test_pagerduty_events(void **state)
{
    struct fixture *f = *state;
    struct service_intake_result res[2];
    struct intake_alert trig[1] = {alert(INTAKE_TRIGGER, NULL, "Disk full on srv01")};
    apply(f, "pd", trig, 1, T0, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_CREATED);
    char want[32];
    snprintf(want, sizeof(want), "slad-%lld", (long long)res[0].ticket_id);
    assert_string_equal(res[0].key, want);
    int64_t id = res[0].ticket_id;
    struct ticket t = load(f, id);
    assert_string_equal(t.external_id, want);
    ticket_done(&t);

    /* A second trigger without a key is a new incident. */
    struct intake_alert trig2[1] = {alert(INTAKE_TRIGGER, NULL, "Disk full on srv01")};
    apply(f, "pd", trig2, 1, T0, res, __LINE__);
    assert_int_not_equal(res[0].ticket_id, id);

    struct intake_alert ack[1] = {alert(INTAKE_ACKNOWLEDGE, want, NULL)};
    apply(f, "pd", ack, 1, T0 + 10 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_ACKNOWLEDGED);
    assert_int_equal(res[0].ticket_id, id);
    t = load(f, id);
    assert_int_equal(t.status, TICKET_ACKNOWLEDGED);
    assert_int_equal(t.clocks[0].state, SLACLOCK_MET);
    ticket_done(&t);
    struct intake_alert ack2[1] = {alert(INTAKE_ACKNOWLEDGE, want, NULL)};
    apply(f, "pd", ack2, 1, T0 + 20 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_UNCHANGED);

    struct intake_alert done[2] = {alert(INTAKE_RESOLVE, want, NULL),
                                   alert(INTAKE_ACKNOWLEDGE, "no-such-key", NULL)};
    apply(f, "pd", done, 2, T0 + 30 * S, res, __LINE__);
    assert_int_equal(res[0].outcome, INTAKE_RESOLVED);
    assert_int_equal(res[1].outcome, INTAKE_UNCHANGED);
    t = load(f, id);
    assert_int_equal(t.status, TICKET_RESOLVED);
    assert_int_equal(t.event_last_ms[TICKET_EVENT_RESOLVE], T0 + 30 * S);
    ticket_done(&t);
    assert_int_equal(count_tickets(f), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alertmanager_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_per_intake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagerduty_events, setup, teardown),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
