/* test-jsonx-intake.c - the senders' JSON (jsonx_intake.h): Alertmanager's webhook as its
 * documentation shows it (firing and resolved, Go's zero time, fields slad does not read),
 * PagerDuty's Events API v2 (trigger, acknowledge, resolve), and every refusal naming its
 * field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonx_intake.h"

static const char alertmanager_body[] =
    "{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"DiskFull\\\"}\",\"truncatedAlerts\":0,"
    "\"status\":\"firing\",\"receiver\":\"slad\",\"groupLabels\":{\"alertname\":\"DiskFull\"},"
    "\"commonLabels\":{},\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\","
    "\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"DiskFull\",\"instance\":\"db1\","
    "\"severity\":\"critical\"},\"annotations\":{\"summary\":\"disk full on db1\","
    "\"description\":\"/var at 99%\",\"runbook\":\"http://wiki\"},"
    "\"startsAt\":\"2026-01-01T00:00:00.123456789Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"http://prom/graph\",\"fingerprint\":\"a1b2c3d4e5f60718\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"Load\"},\"annotations\":{},"
    "\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"2026-01-01T01:00:00+01:00\","
    "\"generatorURL\":\"\",\"fingerprint\":\"0000000000000001\",\"newField\":[1,2]}]}";

static void test_alertmanager(void **state)
{
    (void)state;
    struct intake_alert *v = NULL;
    size_t n = 0;
    struct slad_error err = {{0}};
    int r = jsonx_alertmanager_parse(alertmanager_body, strlen(alertmanager_body), &v, &n, &err);
    if (r < 0)
        fail_msg("%d %s", r, err.msg);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].action, INTAKE_TRIGGER);
    assert_string_equal(v[0].key, "a1b2c3d4e5f60718");
    assert_string_equal(v[0].title, "disk full on db1");
    assert_string_equal(v[0].description, "/var at 99%");
    assert_string_equal(v[0].severity, "critical");
    assert_int_equal(v[0].n_labels, 3);
    assert_string_equal(v[0].labels[1].key, "instance");
    assert_string_equal(v[0].labels[1].value, "db1");
    assert_int_equal(v[0].started_ms, 1767225600123);
    assert_int_equal(v[0].ended_ms, SLAD_NO_TIME);
    assert_int_equal(v[1].action, INTAKE_RESOLVE);
    assert_null(v[1].title);
    assert_null(v[1].severity);
    assert_int_equal(v[1].ended_ms, 1767225600000);
    for (size_t i = 0; i < n; i++)
        intake_alert_done(&v[i]);
    free(v);

    const char empty[] = "{\"version\":\"4\",\"alerts\":[]}";
    assert_int_equal(jsonx_alertmanager_parse(empty, strlen(empty), &v, &n, &err), 0);
    assert_int_equal(n, 0);
    free(v);
}

static void test_alertmanager_refused(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int r;
        const char *needle;
    } rows[] = {
        {"[1]", -EBADMSG, "must be a JSON object"},
        {"{\"alerts\":[]}", -ENODATA, "field 'version' is required"},
        {"{\"version\":\"3\",\"alerts\":[]}", -EINVAL, "field 'version' must be \"4\""},
        {"{\"version\":\"4\",\"alerts\":{}}", -EINVAL, "field 'alerts' must be an array"},
        {"{\"version\":\"4\",\"alerts\":[7]}", -EINVAL, "field 'alerts[0]' must be an object"},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"fingerprint\":\"a\"},"
         "{\"status\":\"firing\"}]}",
         -ENODATA, "field 'alerts[1].fingerprint' is required"},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"pending\",\"fingerprint\":\"a\"}]}", -EINVAL,
         "field 'alerts[0].status' must be \"firing\" or \"resolved\""},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"fingerprint\":\"\"}]}", -EINVAL,
         "field 'alerts[0].fingerprint' must be a string of 1..255 bytes"},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"fingerprint\":\"a\","
         "\"labels\":{\"n\":1}}]}",
         -EINVAL, "field 'alerts[0].labels.n' must be a string"},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"fingerprint\":\"a\","
         "\"annotations\":{\"summary\":[]}}]}",
         -EINVAL, "field 'alerts[0].annotations.summary' must be a string"},
        {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"fingerprint\":\"a\","
         "\"startsAt\":\"yesterday\"}]}",
         -EINVAL, "field 'alerts[0].startsAt'"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct intake_alert *v = NULL;
        size_t n = 0;
        struct slad_error err = {{0}};
        int r = jsonx_alertmanager_parse(rows[i].body, strlen(rows[i].body), &v, &n, &err);
        if (r != rows[i].r || !strstr(err.msg, rows[i].needle))
            fail_msg("row %zu: %d '%s', expected %d '%s'", i, r, err.msg, rows[i].r,
                     rows[i].needle);
        assert_null(v);
    }
}

static void test_pagerduty(void **state)
{
    (void)state;
    const char trigger[] =
        "{\"routing_key\":\"R0123456789abcdef0123456789abcde\",\"event_action\":\"trigger\","
        "\"dedup_key\":\"srv01/disk\",\"payload\":{\"summary\":\"Disk full on srv01\","
        "\"source\":\"srv01\",\"severity\":\"error\",\"timestamp\":\"2026-01-01T08:00:00+08:00\","
        "\"component\":\"disk\",\"group\":\"prod\",\"class\":\"storage\","
        "\"custom_details\":{\"free\":\"1%\",\"mounts\":[\"/var\"]}},"
        "\"client\":\"Zabbix\",\"links\":[{\"href\":\"http://z\"}]}";
    struct intake_alert a;
    char *key = NULL;
    struct slad_error err = {{0}};
    int r = jsonx_pagerduty_parse(trigger, strlen(trigger), &a, &key, &err);
    if (r < 0)
        fail_msg("%d %s", r, err.msg);
    assert_string_equal(key, "R0123456789abcdef0123456789abcde");
    assert_int_equal(a.action, INTAKE_TRIGGER);
    assert_string_equal(a.key, "srv01/disk");
    assert_string_equal(a.title, "Disk full on srv01");
    assert_string_equal(a.severity, "error");
    assert_int_equal(a.started_ms, 1767225600000);
    assert_string_equal(a.description, "{\"free\":\"1%\",\"mounts\":[\"/var\"]}");
    assert_int_equal(a.n_labels, 4);
    assert_string_equal(a.labels[0].key, "source");
    assert_string_equal(a.labels[0].value, "srv01");
    assert_string_equal(a.labels[3].key, "class");
    intake_alert_done(&a);
    free(key);

    /* Without a dedup_key a trigger is a new incident; details may be a string. */
    const char bare[] = "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{"
                        "\"summary\":\"s\",\"source\":\"h\",\"severity\":\"info\","
                        "\"custom_details\":\"plain words\"}}";
    assert_int_equal(jsonx_pagerduty_parse(bare, strlen(bare), &a, &key, &err), 0);
    assert_null(a.key);
    assert_string_equal(a.description, "plain words");
    assert_int_equal(a.started_ms, SLAD_NO_TIME);
    intake_alert_done(&a);
    free(key);

    const char ack[] =
        "{\"routing_key\":\"k\",\"event_action\":\"acknowledge\",\"dedup_key\":\"srv01/disk\"}";
    assert_int_equal(jsonx_pagerduty_parse(ack, strlen(ack), &a, &key, &err), 0);
    assert_int_equal(a.action, INTAKE_ACKNOWLEDGE);
    assert_string_equal(a.key, "srv01/disk");
    assert_null(a.title);
    intake_alert_done(&a);
    free(key);
    const char resolve[] = "{\"routing_key\":\"k\",\"event_action\":\"resolve\","
                           "\"dedup_key\":\"x\",\"payload\":{\"ignored\":true}}";
    assert_int_equal(jsonx_pagerduty_parse(resolve, strlen(resolve), &a, &key, &err), 0);
    assert_int_equal(a.action, INTAKE_RESOLVE);
    intake_alert_done(&a);
    free(key);

    assert_int_equal(jsonx_pagerduty_routing_key(trigger, strlen(trigger), &key), 0);
    assert_string_equal(key, "R0123456789abcdef0123456789abcde");
    free(key);
    assert_int_equal(jsonx_pagerduty_routing_key("{\"routing_key\":1}", 17, &key), -ENOENT);
    assert_int_equal(jsonx_pagerduty_routing_key("{}", 2, &key), -ENOENT);
    assert_int_equal(jsonx_pagerduty_routing_key("nope", 4, &key), -EBADMSG);
}

static void test_pagerduty_refused(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int r;
        const char *needle;
    } rows[] = {
        {"{\"event_action\":\"trigger\"}", -ENODATA, "field 'routing_key' is required"},
        {"{\"routing_key\":\"\",\"event_action\":\"trigger\"}", -EINVAL,
         "field 'routing_key' must be a string of 1.."},
        {"{\"routing_key\":\"k\",\"event_action\":\"page\"}", -EINVAL,
         "field 'event_action' must be one of trigger, acknowledge, resolve"},
        {"{\"routing_key\":\"k\",\"event_action\":\"resolve\"}", -ENODATA,
         "field 'dedup_key' is required"},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\"}", -ENODATA,
         "field 'payload' is required"},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":[]}", -EINVAL,
         "field 'payload' must be an object"},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\","
         "\"severity\":\"info\"}}",
         -ENODATA, "field 'payload.source' is required"},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\","
         "\"source\":\"h\",\"severity\":\"fatal\"}}",
         -EINVAL, "field 'payload.severity' must be one of critical, error, warning, info"},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"\","
         "\"source\":\"h\",\"severity\":\"info\"}}",
         -EINVAL, "field 'payload.summary' must be a string of 1.."},
        {"{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"s\","
         "\"source\":\"h\",\"severity\":\"info\",\"component\":5}}",
         -EINVAL, "field 'payload.component' must be a string"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct intake_alert a;
        char *key = NULL;
        struct slad_error err = {{0}};
        int r = jsonx_pagerduty_parse(rows[i].body, strlen(rows[i].body), &a, &key, &err);
        if (r != rows[i].r || !strstr(err.msg, rows[i].needle))
            fail_msg("row %zu: %d '%s', expected %d '%s'", i, r, err.msg, rows[i].r,
                     rows[i].needle);
        assert_null(key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alertmanager),
        cmocka_unit_test(test_alertmanager_refused),
        cmocka_unit_test(test_pagerduty),
        cmocka_unit_test(test_pagerduty_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
