/* test-intake.c - alerts as tickets (intake.h): what each sender's action does to the
 * ticket it names, in every status; the ticket an alert becomes (title fallbacks, cuts at
 * UTF-8 boundaries, severities, labels beside the intake's hints, reported_at); the
 * instant of a resolve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_load.h"
#include "intake.h"

#define NOW 1767225600000 /* 2026-01-01T00:00:00Z */

static const char conf_text[] =
    "teams = ( { name = \"ops\"; } );\n"
    "policies = ( { name = \"default\"; match = { }; } );\n"
    "intakes = ( { name = \"prom\"; type = \"alertmanager\"; team = \"ops\"; grade = \"A\";\n"
    "              labels = { env = \"prod\"; severity = \"set-by-intake\"; }; } );\n";

static struct conf *load(void)
{
    struct conf *conf = NULL;
    struct conf_errors errs;
    if (conf_load_string(conf_text, "t.conf", &conf, &errs) < 0)
        fail_msg("%s", errs.text);
    return conf;
}

static void add_label(struct intake_alert *a, const char *key, const char *value)
{
    a->labels = realloc(a->labels, (a->n_labels + 1) * sizeof(*a->labels));
    assert_non_null(a->labels);
    a->labels[a->n_labels].key = strdup(key);
    a->labels[a->n_labels].value = strdup(value);
    a->n_labels++;
}

/* Every action against no ticket and a ticket in every status. */
static void test_decide(void **state)
{
    (void)state;
    static const struct {
        enum ticket_status status;
        enum intake_outcome trigger, ack, resolve;
    } rows[] = {
        {TICKET_OPEN, INTAKE_UNCHANGED, INTAKE_ACKNOWLEDGED, INTAKE_RESOLVED},
        {TICKET_ACKNOWLEDGED, INTAKE_UNCHANGED, INTAKE_UNCHANGED, INTAKE_RESOLVED},
        {TICKET_DISPATCHED, INTAKE_UNCHANGED, INTAKE_UNCHANGED, INTAKE_RESOLVED},
        {TICKET_ON_SITE, INTAKE_UNCHANGED, INTAKE_UNCHANGED, INTAKE_RESOLVED},
        {TICKET_ON_HOLD, INTAKE_UNCHANGED, INTAKE_UNCHANGED, INTAKE_RESOLVED},
        {TICKET_RESOLVED, INTAKE_REOPENED, INTAKE_UNCHANGED, INTAKE_UNCHANGED},
        {TICKET_CLOSED, INTAKE_REOPENED, INTAKE_UNCHANGED, INTAKE_UNCHANGED},
        {TICKET_CANCELLED, INTAKE_UNCHANGED, INTAKE_UNCHANGED, INTAKE_UNCHANGED},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(intake_decide(INTAKE_TRIGGER, true, rows[i].status), rows[i].trigger);
        assert_int_equal(intake_decide(INTAKE_ACKNOWLEDGE, true, rows[i].status), rows[i].ack);
        assert_int_equal(intake_decide(INTAKE_RESOLVE, true, rows[i].status), rows[i].resolve);
    }
    assert_int_equal(intake_decide(INTAKE_TRIGGER, false, TICKET_OPEN), INTAKE_CREATED);
    assert_int_equal(intake_decide(INTAKE_ACKNOWLEDGE, false, TICKET_OPEN), INTAKE_UNCHANGED);
    assert_int_equal(intake_decide(INTAKE_RESOLVE, false, TICKET_OPEN), INTAKE_UNCHANGED);
    assert_string_equal(intake_outcome_name(INTAKE_REOPENED), "reopened");
    assert_null(intake_outcome_name(INTAKE_OUTCOME_COUNT));
}

static void test_ticket(void **state)
{
    (void)state;
    struct conf *conf = load();
    const struct conf_intake *in = conf_find_intake(conf, "prom");
    struct intake_alert a;
    intake_alert_init(&a);
    a.key = strdup("f00dfeed");
    a.title = strdup("disk full on db1");
    a.description = strdup("/var is at 99%");
    a.severity = strdup("Critical");
    a.started_ms = NOW - 60000;
    add_label(&a, "alertname", "DiskFull");
    add_label(&a, "severity", "critical");
    struct ticket t;
    struct slad_error err;
    assert_int_equal(intake_ticket(in, &a, NOW, &t, &err), 0);
    assert_string_equal(t.source, "prom");
    assert_string_equal(t.external_id, "f00dfeed");
    assert_string_equal(t.title, "disk full on db1");
    assert_string_equal(t.description, "/var is at 99%");
    assert_int_equal(t.severity, 1);
    assert_string_equal(t.team, "ops");
    assert_string_equal(t.grade, "A");
    assert_null(t.region);
    assert_int_equal(t.reported_at_ms, NOW - 60000);
    /* The alert's labels, then the intake's, which win. */
    assert_int_equal(t.n_labels, 3);
    assert_string_equal(ticket_label(&t, "alertname"), "DiskFull");
    assert_string_equal(ticket_label(&t, "severity"), "set-by-intake");
    assert_string_equal(ticket_label(&t, "env"), "prod");
    ticket_done(&t);

    /* No summary: the alertname; neither: the key. A start in the future is now. */
    free(a.title);
    a.title = NULL;
    a.started_ms = NOW + 1000;
    free(a.severity);
    a.severity = strdup("page");
    assert_int_equal(intake_ticket(in, &a, NOW, &t, &err), 0);
    assert_string_equal(t.title, "DiskFull");
    assert_int_equal(t.reported_at_ms, NOW);
    assert_int_equal(t.severity, 3); /* not in the map: the default */
    ticket_done(&t);
    intake_alert_done(&a);
    a.key = strdup("abc");
    assert_int_equal(intake_ticket(in, &a, NOW, &t, &err), 0);
    assert_string_equal(t.title, "alert abc");
    assert_int_equal(t.reported_at_ms, NOW);
    ticket_done(&t);
    intake_alert_done(&a);
    conf_free(conf);
}

/* What does not fit is cut at a UTF-8 boundary (titles, label values) or left out (long
 * keys, labels past the room the intake's own leave). */
static void test_ticket_limits(void **state)
{
    (void)state;
    struct conf *conf = load();
    const struct conf_intake *in = conf_find_intake(conf, "prom");
    struct intake_alert a;
    intake_alert_init(&a);
    char title[INTAKE_TITLE_MAX + 8];
    memset(title, 'x', INTAKE_TITLE_MAX - 1);
    memcpy(title + INTAKE_TITLE_MAX - 1, "\xe5\x91\x8a!", 5); /* 告 across the limit */
    a.title = strdup(title);
    char key[INTAKE_LABEL_MAX + 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    add_label(&a, key, "dropped");
    char value[INTAKE_LABEL_MAX + 8];
    memset(value, 'v', INTAKE_LABEL_MAX - 2);
    memcpy(value + INTAKE_LABEL_MAX - 2, "\xe5\x91\x8a", 4);
    add_label(&a, "long", value);
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof(k), "l%02d", i);
        add_label(&a, k, "v");
    }
    struct ticket t;
    struct slad_error err;
    assert_int_equal(intake_ticket(in, &a, NOW, &t, &err), 0);
    assert_int_equal(strlen(t.title), INTAKE_TITLE_MAX - 1);
    assert_int_equal(strlen(ticket_label(&t, "long")), INTAKE_LABEL_MAX - 2);
    assert_null(ticket_label(&t, key));
    assert_int_equal(t.n_labels, TICKET_MAX_LABELS);
    assert_string_equal(ticket_label(&t, "env"), "prod");
    assert_string_equal(ticket_label(&t, "severity"), "set-by-intake");
    assert_string_equal(ticket_label(&t, "l28"), "v");
    assert_null(ticket_label(&t, "l29"));
    ticket_done(&t);
    intake_alert_done(&a);
    conf_free(conf);
}

static void test_resolve_at(void **state)
{
    (void)state;
    assert_int_equal(intake_resolve_at(SLAD_NO_TIME, NOW - 5000, NOW), NOW);
    assert_int_equal(intake_resolve_at(NOW - 1000, NOW - 5000, NOW), NOW - 1000);
    assert_int_equal(intake_resolve_at(NOW - 9000, NOW - 5000, NOW), NOW - 5000);
    assert_int_equal(intake_resolve_at(NOW + 9000, NOW - 5000, NOW), NOW);
    assert_int_equal(intake_resolve_at(NOW - 9000, NOW + 5000, NOW), NOW + 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_ticket),
        cmocka_unit_test(test_ticket_limits),
        cmocka_unit_test(test_resolve_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
