/* test-metrics.c - the /metrics exposition: parsed back line by line against the text
 * format 0.0.4 (HELP/TYPE before samples, label syntax, cumulative buckets ending in +Inf
 * equal to _count), with values checked, label escaping, the overflow row, and gauges
 * from a real in-memory store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "store.h"

/* One parsed sample. */
struct sample {
    char name[96];
    char labels[256]; /* as written between the braces, unescaped not needed */
    double value;
};

struct exposition {
    struct sample *v;
    size_t n;
};

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* The family a sample belongs to: histogram samples carry a suffix. */
static bool family_of(const char *sample, const char *family, const char *type)
{
    size_t n = strlen(family);
    if (strncmp(sample, family, n) != 0)
        return false;
    if (sample[n] == '\0')
        return true;
    if (strcmp(type, "histogram") == 0)
        return strcmp(sample + n, "_bucket") == 0 || strcmp(sample + n, "_sum") == 0 ||
               strcmp(sample + n, "_count") == 0;
    return false;
}

/* Parse text strictly; fail_msg on the first line that breaks the format. */
static struct exposition parse(const char *text)
{
    struct exposition e = {calloc(4096, sizeof(struct sample)), 0};
    char family[96] = "", type[32] = "", helped[96] = "";
    char *copy = strdup(text);
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (strncmp(line, "# HELP ", 7) == 0) {
            if (sscanf(line + 7, "%95s", helped) != 1)
                fail_msg("line %d: bad HELP: %s", lineno, line);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            if (sscanf(line + 7, "%95s %31s", family, type) != 2)
                fail_msg("line %d: bad TYPE: %s", lineno, line);
            if (strcmp(family, helped) != 0)
                fail_msg("line %d: TYPE %s without HELP", lineno, family);
            if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram"))
                fail_msg("line %d: type %s", lineno, type);
            continue;
        }
        if (line[0] == '#')
            fail_msg("line %d: stray comment %s", lineno, line);
        struct sample *s = &e.v[e.n++];
        size_t i = 0;
        while (name_char(line[i], i == 0))
            i++;
        if (i == 0 || i >= sizeof(s->name))
            fail_msg("line %d: bad metric name: %s", lineno, line);
        memcpy(s->name, line, i);
        s->name[i] = '\0';
        if (!family_of(s->name, family, type))
            fail_msg("line %d: sample %s outside its family (%s)", lineno, s->name, family);
        if (line[i] == '{') {
            size_t start = ++i;
            /* label="value" pairs, comma separated */
            for (;;) {
                size_t k = i;
                while (name_char(line[i], i == k))
                    i++;
                if (i == k || line[i] != '=' || line[i + 1] != '"')
                    fail_msg("line %d: bad label at %zu: %s", lineno, i, line);
                i += 2;
                while (line[i] && line[i] != '"') {
                    if (line[i] == '\\') {
                        if (line[i + 1] != '\\' && line[i + 1] != '"' && line[i + 1] != 'n')
                            fail_msg("line %d: bad escape: %s", lineno, line);
                        i++;
                    }
                    i++;
                }
                if (line[i] != '"')
                    fail_msg("line %d: unterminated label value: %s", lineno, line);
                i++;
                if (line[i] == ',') {
                    i++;
                    continue;
                }
                if (line[i] == '}')
                    break;
                fail_msg("line %d: bad label list: %s", lineno, line);
            }
            snprintf(s->labels, sizeof(s->labels), "%.*s", (int)(i - start), line + start);
            i++;
        }
        if (line[i] != ' ')
            fail_msg("line %d: no space before value: %s", lineno, line);
        char *end;
        s->value = strtod(line + i + 1, &end);
        if (end == line + i + 1 || *end != '\0')
            fail_msg("line %d: bad value: %s", lineno, line);
    }
    free(copy);
    return e;
}

static double value_of(const struct exposition *e, const char *name, const char *labels)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].name, name) == 0 && strcmp(e->v[i].labels, labels) == 0)
            return e->v[i].value;
    fail_msg("no sample %s{%s}", name, labels);
    return -1;
}

static bool has_sample(const struct exposition *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].name, name) == 0)
            return true;
    return false;
}

/* Buckets are cumulative, ascending in le, end with +Inf equal to _count. */
static void check_histogram(const struct exposition *e, const char *name)
{
    char bucket[128], count[128];
    snprintf(bucket, sizeof(bucket), "%s_bucket", name);
    snprintf(count, sizeof(count), "%s_count", name);
    double last_le = -1, last_value = 0;
    bool inf = false;
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].name, bucket) != 0)
            continue;
        assert_false(inf);
        const char *le = e->v[i].labels;
        assert_true(strncmp(le, "le=\"", 4) == 0);
        if (strcmp(le, "le=\"+Inf\"") == 0) {
            inf = true;
        } else {
            double bound = strtod(le + 4, NULL);
            assert_true(bound > last_le);
            last_le = bound;
        }
        assert_true(e->v[i].value >= last_value);
        last_value = e->v[i].value;
    }
    assert_true(inf);
    assert_true(last_value == value_of(e, count, ""));
}

static void test_empty(void **state)
{
    char *text = metrics_render(NULL, NULL, 0);
    assert_non_null(text);
    struct exposition e = parse(text);
    assert_true(value_of(&e, "slad_timers", "") == 0);
    /* Every family is declared even with no samples. */
    static const char *const families[] = {
        "slad_tickets",
        "slad_clock_breaches_total",
        "slad_escalations_total",
        "slad_notifications",
        "slad_timers",
        "slad_notification_attempts_total",
        "slad_http_requests_total",
        "slad_http_request_duration_seconds",
        "slad_timer_lag_seconds",
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "# TYPE %s ", families[i]);
        if (!strstr(text, want))
            fail_msg("family %s not declared", families[i]);
    }
    free(e.v);
    free(text);

    struct metrics *m = metrics_new();
    text = metrics_render(m, NULL, 7);
    e = parse(text);
    assert_true(value_of(&e, "slad_timers", "") == 7);
    assert_false(has_sample(&e, "slad_http_requests_total"));
    assert_false(has_sample(&e, "slad_tickets"));
    assert_false(has_sample(&e, "slad_scheduler")); /* no lease: no family */
    check_histogram(&e, "slad_http_request_duration_seconds");
    check_histogram(&e, "slad_timer_lag_seconds");
    free(e.v);
    free(text);
    /* The scheduler lease: the role as 1/0 and the fencing number, as last set. */
    metrics_lease(m, true, 3);
    metrics_lease(m, false, 4);
    text = metrics_render(m, NULL, 7);
    e = parse(text);
    assert_true(value_of(&e, "slad_scheduler", "") == 0);
    assert_true(value_of(&e, "slad_lease_fencing", "") == 4);
    assert_non_null(strstr(text, "# TYPE slad_scheduler gauge\n"));
    free(e.v);
    free(text);
    metrics_free(m);
    metrics_free(NULL);
    /* NULL metrics: recording does nothing. */
    metrics_http(NULL, 200, 1);
    metrics_timer_lag(NULL, 1);
    metrics_breach(NULL, "p", "c");
    metrics_escalation(NULL, "e");
    metrics_attempt(NULL, "c", "sent");
}

static void test_values(void **state)
{
    struct metrics *m = metrics_new();
    assert_non_null(m);
    metrics_http(m, 200, 0.3);
    metrics_http(m, 200, 4);
    metrics_http(m, 404, 2000);
    metrics_http(m, 503, 60000); /* past the last bound: only +Inf */
    metrics_http(m, 9999, 1);    /* out of range: code 0 */
    metrics_timer_lag(m, 3);
    metrics_timer_lag(m, -50); /* a clock step backwards counts as 0 */
    metrics_breach(m, "critical-city", "response");
    metrics_breach(m, "critical-city", "response");
    metrics_breach(m, "default", "resolution");
    metrics_escalation(m, "sla.breach");
    metrics_escalation(m, "sla.warning");
    metrics_escalation(m, "sla.breach");
    metrics_attempt(m, "ops-webhook", "sent");
    metrics_attempt(m, "ops-webhook", "retry");
    metrics_attempt(m, "ops-webhook", "sent");
    metrics_breach(m, "we\"ird\\name\nx", "c");

    char *text = metrics_render(m, NULL, 3);
    assert_non_null(text);
    struct exposition e = parse(text);
    static const struct {
        int line;
        const char *name, *labels;
        double value;
    } want[] = {
        {__LINE__, "slad_http_requests_total", "code=\"200\"", 2},
        {__LINE__, "slad_http_requests_total", "code=\"404\"", 1},
        {__LINE__, "slad_http_requests_total", "code=\"503\"", 1},
        {__LINE__, "slad_http_requests_total", "code=\"0\"", 1},
        {__LINE__, "slad_http_request_duration_seconds_count", "", 5},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"0.0005\"", 1},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"0.001\"", 2},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"0.005\"", 3},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"2.5\"", 4},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"10\"", 4},
        {__LINE__, "slad_http_request_duration_seconds_bucket", "le=\"+Inf\"", 5},
        {__LINE__, "slad_timer_lag_seconds_count", "", 2},
        {__LINE__, "slad_timer_lag_seconds_bucket", "le=\"0.001\"", 1},
        {__LINE__, "slad_timer_lag_seconds_bucket", "le=\"0.005\"", 2},
        {__LINE__, "slad_clock_breaches_total", "policy=\"critical-city\",clock=\"response\"", 2},
        {__LINE__, "slad_clock_breaches_total", "policy=\"default\",clock=\"resolution\"", 1},
        {__LINE__, "slad_clock_breaches_total", "policy=\"we\\\"ird\\\\name\\nx\",clock=\"c\"", 1},
        {__LINE__, "slad_escalations_total", "event=\"sla.breach\"", 2},
        {__LINE__, "slad_escalations_total", "event=\"sla.warning\"", 1},
        {__LINE__, "slad_notification_attempts_total", "channel=\"ops-webhook\",result=\"sent\"",
         2},
        {__LINE__, "slad_notification_attempts_total", "channel=\"ops-webhook\",result=\"retry\"",
         1},
        {__LINE__, "slad_timers", "", 3},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        double v = value_of(&e, want[i].name, want[i].labels);
        if (v != want[i].value)
            fail_msg("line %d: %s{%s} = %g, want %g", want[i].line, want[i].name, want[i].labels, v,
                     want[i].value);
    }
    double sum = value_of(&e, "slad_http_request_duration_seconds_sum", "");
    assert_true(sum > 62.004 && sum < 62.0055);
    check_histogram(&e, "slad_http_request_duration_seconds");
    check_histogram(&e, "slad_timer_lag_seconds");
    free(e.v);
    free(text);
    metrics_free(m);
}

/* More distinct label sets than the table holds: the rest is counted as "_other". */
static void test_overflow(void **state)
{
    struct metrics *m = metrics_new();
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        metrics_breach(m, name, "c");
        metrics_escalation(m, name);
    }
    char *text = metrics_render(m, NULL, 0);
    struct exposition e = parse(text);
    assert_true(value_of(&e, "slad_clock_breaches_total", "policy=\"p0\",clock=\"c\"") == 1);
    assert_true(value_of(&e, "slad_clock_breaches_total", "policy=\"_other\",clock=\"_other\"") ==
                45);
    assert_true(value_of(&e, "slad_escalations_total", "event=\"_other\"") == 45);
    size_t rows = 0;
    for (size_t i = 0; i < e.n; i++)
        rows += strcmp(e.v[i].name, "slad_clock_breaches_total") == 0;
    assert_int_equal(rows, 256);
    free(e.v);
    free(text);
    metrics_free(m);
}

/* The gauges from a real store. */
static void test_store_gauges(void **state)
{
    struct store *s = NULL;
    struct slad_error err = {""};
    int r = store_open(":memory:", false, &s, &err);
    if (r < 0)
        fail_msg("store_open: %s", err.msg);
    struct metrics *m = metrics_new();
    struct gauges g;
    if (store_gauges(s, &g, &err) < 0)
        fail_msg("store_gauges: %s", err.msg);
    char *text = metrics_render(m, &g, 0);
    struct exposition e = parse(text);
    assert_true(value_of(&e, "slad_tickets", "status=\"open\"") == 0);
    assert_true(value_of(&e, "slad_tickets", "status=\"cancelled\"") == 0);
    assert_true(value_of(&e, "slad_notifications", "state=\"pending\"") == 0);
    assert_true(value_of(&e, "slad_notifications", "state=\"dead\"") == 0);
    free(e.v);
    free(text);
    metrics_free(m);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_store_gauges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
