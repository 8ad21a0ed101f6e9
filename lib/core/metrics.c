/* metrics.c - the counters and histograms of /metrics in Prometheus text format 0.0.4.
 *
 * Every label set comes from a small fixed table: HTTP codes index an array, and the
 * label values that come from the config (policy, clock, event, channel names) fill
 * tables of METRICS_MAX_ROWS rows; past that, counts go to a row labelled "_other", so a
 * config with many names cannot grow memory or the exposition without bound. Nothing is
 * labelled per ticket. The gauges are the caller's (read from the store by the service).
 * All functions accept m == NULL and then do nothing. */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket.h"

#define METRICS_MAX_ROWS 256
#define LABEL_MAX        64
#define HTTP_CODE_MAX    600

struct histogram {
    const double *bounds; /* upper bounds in seconds, ascending */
    size_t n_bounds;
    uint64_t *counts; /* per bucket, not cumulative; [n_bounds] is +Inf */
    double sum_s;
    uint64_t count;
};

/* A counter with up to two label values. */
struct row {
    char a[LABEL_MAX], b[LABEL_MAX];
    uint64_t value;
};

struct table {
    struct row rows[METRICS_MAX_ROWS];
    size_t n;
};

static const double http_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const double lag_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                    0.5,   1,      2.5,   5,    10,    60,   300, 3600};

#define N_BOUNDS(a) (sizeof(a) / sizeof((a)[0]))

struct metrics {
    uint64_t http[HTTP_CODE_MAX]; /* by status code; 0 holds codes out of range */
    uint64_t http_buckets[N_BOUNDS(http_bounds) + 1];
    uint64_t lag_buckets[N_BOUNDS(lag_bounds) + 1];
    struct histogram http_duration, timer_lag;
    struct table breaches;    /* policy, clock */
    struct table escalations; /* event */
    struct table attempts;    /* channel, result */
    bool has_lease;           /* the daemon runs the scheduler lease (metrics_lease) */
    bool scheduler;
    int64_t fencing;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->http_duration =
        (struct histogram){http_bounds, N_BOUNDS(http_bounds), m->http_buckets, 0, 0};
    m->timer_lag = (struct histogram){lag_bounds, N_BOUNDS(lag_bounds), m->lag_buckets, 0, 0};
    return m;
}

void metrics_free(struct metrics *m)
{
    free(m);
}

static void histogram_observe(struct histogram *h, double seconds)
{
    if (!(seconds >= 0)) /* negative or NaN: a clock step; count it as 0 */
        seconds = 0;
    size_t i = 0;
    while (i < h->n_bounds && seconds > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum_s += seconds;
    h->count++;
}

static void copy_label(char dst[LABEL_MAX], const char *src)
{
    snprintf(dst, LABEL_MAX, "%s", src ? src : "");
}

static void table_inc(struct table *t, const char *a, const char *b)
{
    char ka[LABEL_MAX], kb[LABEL_MAX];
    copy_label(ka, a);
    copy_label(kb, b);
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->rows[i].a, ka) == 0 && strcmp(t->rows[i].b, kb) == 0) {
            t->rows[i].value++;
            return;
        }
    }
    if (t->n < METRICS_MAX_ROWS - 1) {
        struct row *r = &t->rows[t->n++];
        memcpy(r->a, ka, LABEL_MAX);
        memcpy(r->b, kb, LABEL_MAX);
        r->value = 1;
        return;
    }
    /* The last row is the overflow row. */
    struct row *r = &t->rows[METRICS_MAX_ROWS - 1];
    if (t->n < METRICS_MAX_ROWS) {
        t->n = METRICS_MAX_ROWS;
        copy_label(r->a, "_other");
        copy_label(r->b, b ? "_other" : "");
    }
    r->value++;
}

void metrics_http(struct metrics *m, int code, double duration_ms)
{
    if (!m)
        return;
    m->http[code > 0 && code < HTTP_CODE_MAX ? code : 0]++;
    histogram_observe(&m->http_duration, duration_ms / 1000.0);
}

void metrics_timer_lag(struct metrics *m, double lag_ms)
{
    if (m)
        histogram_observe(&m->timer_lag, lag_ms / 1000.0);
}

void metrics_breach(struct metrics *m, const char *policy, const char *clock)
{
    if (m)
        table_inc(&m->breaches, policy, clock ? clock : "");
}

void metrics_escalation(struct metrics *m, const char *event)
{
    if (m)
        table_inc(&m->escalations, event, NULL);
}

void metrics_attempt(struct metrics *m, const char *channel, const char *result)
{
    if (m)
        table_inc(&m->attempts, channel, result ? result : "");
}

/* ---- rendering ---- */

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *buf = realloc(o->buf, cap);
        if (!buf) {
            o->failed = true;
            return;
        }
        o->buf = buf;
        o->cap = cap;
    }
}

/* A label value escaped as the text format wants: backslash, quote and newline. */
static const char *escape(const char *s, char buf[LABEL_MAX * 2])
{
    size_t j = 0;
    for (; *s && j < LABEL_MAX * 2 - 3; s++) {
        if (*s == '\\' || *s == '"') {
            buf[j++] = '\\';
            buf[j++] = *s;
        } else if (*s == '\n') {
            buf[j++] = '\\';
            buf[j++] = 'n';
        } else {
            buf[j++] = *s;
        }
    }
    buf[j] = '\0';
    return buf;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_table(struct out *o, const char *name, const struct table *t,
                         const char *label_a, const char *label_b)
{
    for (size_t i = 0; i < t->n; i++) {
        char ea[LABEL_MAX * 2], eb[LABEL_MAX * 2];
        if (label_b)
            out_printf(o, "%s{%s=\"%s\",%s=\"%s\"} %llu\n", name, label_a, escape(t->rows[i].a, ea),
                       label_b, escape(t->rows[i].b, eb), (unsigned long long)t->rows[i].value);
        else
            out_printf(o, "%s{%s=\"%s\"} %llu\n", name, label_a, escape(t->rows[i].a, ea),
                       (unsigned long long)t->rows[i].value);
    }
}

static void render_histogram(struct out *o, const char *name, const struct histogram *h)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h->n_bounds; i++) {
        cumulative += h->counts[i];
        out_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                   (unsigned long long)cumulative);
    }
    cumulative += h->counts[h->n_bounds];
    out_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    out_printf(o, "%s_sum %.9g\n", name, h->sum_s);
    out_printf(o, "%s_count %llu\n", name, (unsigned long long)h->count);
}

void metrics_lease(struct metrics *m, bool scheduler, int64_t fencing)
{
    m->has_lease = true;
    m->scheduler = scheduler;
    m->fencing = fencing;
}

char *metrics_render(const struct metrics *m, const struct gauges *gauges, size_t timers)
{
    struct out o = {malloc(8192), 0, 8192, false};
    if (!o.buf)
        return NULL;
    o.buf[0] = '\0';

    family(&o, "slad_tickets", "gauge", "Tickets by status.");
    if (gauges)
        for (int s = 0; s < TICKET_STATUS_COUNT; s++)
            out_printf(&o, "slad_tickets{status=\"%s\"} %lld\n", ticket_status_name(s),
                       (long long)gauges->tickets[s]);
    family(&o, "slad_notifications", "gauge", "Notifications in the outbox by state.");
    if (gauges)
        for (int s = 0; s < OUTBOX_STATE_COUNT; s++)
            out_printf(&o, "slad_notifications{state=\"%s\"} %lld\n", outbox_state_name(s),
                       (long long)gauges->notifications[s]);
    family(&o, "slad_clocks_breached", "gauge", "Clocks now running past their due instant.");
    if (gauges)
        out_printf(&o, "slad_clocks_breached %lld\n", (long long)gauges->breached_clocks);
    family(&o, "slad_timers", "gauge", "Entries in the agenda (future instants to act on).");
    out_printf(&o, "slad_timers %zu\n", timers);

    if (m && m->has_lease) {
        family(&o, "slad_scheduler", "gauge",
               "1 while this instance is the scheduler (holds the lease), 0 on standby.");
        out_printf(&o, "slad_scheduler %d\n", m->scheduler ? 1 : 0);
        family(&o, "slad_lease_fencing", "gauge",
               "The fencing number of the scheduler lease this instance holds or last held.");
        out_printf(&o, "slad_lease_fencing %lld\n", (long long)m->fencing);
    }

    family(&o, "slad_clock_breaches_total", "counter", "Clocks that passed their due instant.");
    if (m)
        render_table(&o, "slad_clock_breaches_total", &m->breaches, "policy", "clock");
    family(&o, "slad_escalations_total", "counter", "Escalation steps fired, by event.");
    if (m)
        render_table(&o, "slad_escalations_total", &m->escalations, "event", NULL);
    family(&o, "slad_notification_attempts_total", "counter",
           "Delivery attempts by channel and result.");
    if (m)
        render_table(&o, "slad_notification_attempts_total", &m->attempts, "channel", "result");
    family(&o, "slad_http_requests_total", "counter", "HTTP requests answered, by status code.");
    for (int c = 0; m && c < HTTP_CODE_MAX; c++)
        if (m->http[c])
            out_printf(&o, "slad_http_requests_total{code=\"%d\"} %llu\n", c,
                       (unsigned long long)m->http[c]);
    family(&o, "slad_http_request_duration_seconds", "histogram",
           "Time from a request's arrival to its answer.");
    if (m)
        render_histogram(&o, "slad_http_request_duration_seconds", &m->http_duration);
    family(&o, "slad_timer_lag_seconds", "histogram",
           "Fire time minus due time of agenda entries.");
    if (m)
        render_histogram(&o, "slad_timer_lag_seconds", &m->timer_lag);

    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}
