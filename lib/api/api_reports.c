/* api_reports.c - GET /v1/reports/sla (SPEC 2): the SLA report of report.h as JSON or CSV.
 *
 * Query: from, to (RFC 3339, or a plain date YYYY-MM-DD: its midnight in tz; defaults: to
 * = now, from = 30 days before to), by (policy|region|team|assignee|month, default
 * policy), format (json|csv, default json), tz (IANA zone of the months when by=month and
 * of plain dates, default UTC). Times are seconds with millisecond
 * precision; compliance, mean_s and p90_s are null (empty in CSV) when nothing stopped.
 *
 * CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes
 * doubled) holds the rows only, under a header line of the same columns; the follow-up
 * figures are in the JSON form. Text cells that a spreadsheet would run as a formula get
 * a leading ' (csv_field).
 *
 * A report is one answer, not pages: one that would take more than API_ANSWER_MAX (several
 * thousand rows of groups and clocks in JSON, more in CSV) is refused with 400
 * report_too_large, before it is rendered whole, and asks for a narrower query.
 *
 * Off the loop: when the daemon has a reader thread (api_hooks.offload_reads), the route
 * only validates the query and hands an api_read to the daemon, which runs api_read_run
 * on the thread's read-only connection (daemon/reader.c). The time zone code it reaches
 * (libical's built-in zones) guards its cache with a mutex. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "api_call.h"
#include "jsonx.h"
#include "report.h"
#include "service.h"

#define CSV_TYPE               "text/csv; charset=utf-8"
#define REPORT_DEFAULT_SPAN_MS (30 * CIVIL_MS_PER_DAY)

static const char *const columns[] = {"group", "clock",      "total",  "met",  "missed",
                                      "open",  "compliance", "mean_s", "p90_s"};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static bool row_has_compliance(const struct report_row *r)
{
    return r->met + r->missed > 0;
}

static double row_compliance(const struct report_row *r)
{
    return (double)r->met / (double)(r->met + r->missed);
}

static json_t *row_render(const struct report_row *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "group", jsonx_string(r->group));
    json_object_set_new(o, "clock", jsonx_string(r->clock));
    json_object_set_new(o, "total", json_integer(r->total));
    json_object_set_new(o, "met", json_integer(r->met));
    json_object_set_new(o, "missed", json_integer(r->missed));
    json_object_set_new(o, "open", json_integer(r->open));
    json_object_set_new(o, "compliance",
                        row_has_compliance(r) ? json_real(row_compliance(r)) : json_null());
    json_object_set_new(o, "mean_s", r->has_times ? json_real(r->mean_ms / 1000.0) : json_null());
    json_object_set_new(o, "p90_s", r->has_times ? json_real(r->p90_ms / 1000.0) : json_null());
    return o;
}

/* The JSON form into *ret; -ENOMEM, or -EFBIG when the rows take more than API_ROWS_MAX. */
static int report_render(const struct report *rep, json_t **ret)
{
    json_t *out = json_object(), *fu = json_object();
    struct call_page rows = {0};
    if (!out || !fu || call_page_init(&rows, rep->n_rows, API_ROWS_MAX, 0) < 0) {
        json_decref(out);
        json_decref(fu);
        return -ENOMEM;
    }
    json_object_set_new(out, "rows", rows.rows);
    json_object_set_new(out, "followups", fu);
    for (size_t i = 0; i < rep->n_rows; i++) {
        int r = call_page_add(&rows, (int64_t)i, row_render(&rep->rows[i]));
        if (r != 0) {
            json_decref(out);
            return r < 0 ? r : -EFBIG;
        }
    }
    const struct report_followups *f = &rep->followups;
    json_object_set_new(fu, "total", json_integer(f->total));
    json_object_set_new(fu, "done", json_integer(f->done));
    json_object_set_new(fu, "overdue", json_integer(f->overdue));
    json_object_set_new(fu, "rate",
                        f->total ? json_real((double)f->done / (double)f->total) : json_null());
    *ret = out;
    return 0;
}

/* ---- CSV ---- */

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* One field, quoted when it holds a comma, a quote or a line break (RFC 4180 2.6, 2.7).
 * A text field (a group or clock name: words a caller chose) that begins with = + - @, a
 * tab or a carriage return gets a leading ' so that a spreadsheet shows it rather than
 * runs it as a formula (OWASP "CSV Injection"). Numbers are written by csv_int and
 * csv_real, never prefixed: a -1 stays a number. */
static void csv_field(struct buf *b, const char *s, bool first, bool text)
{
    if (!first)
        buf_add(b, ",", 1);
    bool formula = text && s[0] && strchr("=+-@\t\r", s[0]);
    bool quoted = strpbrk(s, ",\"\r\n") != NULL;
    if (quoted)
        buf_add(b, "\"", 1);
    if (formula)
        buf_add(b, "'", 1);
    if (!quoted) {
        buf_add(b, s, strlen(s));
        return;
    }
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        buf_add(b, s, (size_t)(q - s));
        buf_add(b, "\"\"", 2);
    }
    buf_add(b, s, strlen(s));
    buf_add(b, "\"", 1);
}

static void csv_int(struct buf *b, int64_t v)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    csv_field(b, num, false, false);
}

/* A real, or an empty field when absent. */
static void csv_real(struct buf *b, bool present, double v)
{
    char num[64] = "";
    if (present)
        snprintf(num, sizeof(num), "%.*g", JSONX_REAL_DIGITS, v);
    csv_field(b, num, false, false);
}

/* The CSV form into *ret (*ret_len bytes); -ENOMEM, or -EFBIG past API_ANSWER_MAX. */
static int report_csv(const struct report *rep, char **ret, size_t *ret_len)
{
    struct buf b = {0};
    for (size_t i = 0; i < N_COLUMNS; i++)
        csv_field(&b, columns[i], i == 0, true);
    buf_add(&b, "\r\n", 2);
    for (size_t i = 0; i < rep->n_rows && b.len <= API_ANSWER_MAX; i++) {
        const struct report_row *r = &rep->rows[i];
        csv_field(&b, r->group ? r->group : "", true, true);
        csv_field(&b, r->clock, false, true);
        csv_int(&b, r->total);
        csv_int(&b, r->met);
        csv_int(&b, r->missed);
        csv_int(&b, r->open);
        csv_real(&b, row_has_compliance(r), row_has_compliance(r) ? row_compliance(r) : 0);
        csv_real(&b, r->has_times, r->mean_ms / 1000.0);
        csv_real(&b, r->has_times, r->p90_ms / 1000.0);
        buf_add(&b, "\r\n", 2);
    }
    if (b.failed || b.len > API_ANSWER_MAX) {
        free(b.p);
        return b.failed ? -ENOMEM : -EFBIG;
    }
    *ret = b.p;
    *ret_len = b.len;
    return 0;
}

/* ---- the route ---- */

/* from/to: RFC 3339, or a plain date (midnight in tz; *plain set). */
static bool query_time(struct call *c, const char *value, const char *name, const char *tz,
                       int64_t *ret, bool *plain)
{
    struct slad_error err = {""};
    struct calendar_date date;
    if (value && strlen(value) == 10 && calendar_parse_date(value, &date, &err) == 0) {
        *plain = true;
        int r = report_day_start(&date, tz, ret, &err);
        if (r == -EINVAL)
            call_error(c, 400, "invalid_parameter", "query parameter 'tz': %s", err.msg);
        else if (r < 0)
            call_errno(c, r, &err);
        return r == 0;
    }
    if (value && jsonx_time_parse(value, ret, &err) < 0) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter '%s': %s (or a plain date such as 2026-10-01: midnight in "
                   "'tz')",
                   name, err.msg);
        return false;
    }
    return true;
}

static void answer(struct call *c, const struct report *rep, bool csv)
{
    char *text = NULL;
    size_t len = 0;
    json_t *v = NULL;
    int r = csv ? report_csv(rep, &text, &len) : report_render(rep, &v);
    if (r == -EFBIG)
        call_error(c, 400, "report_too_large",
                   "the report has %zu rows (groups x clocks), more than one answer of %zu bytes "
                   "holds: narrow 'from'..'to', or group by a coarser 'by' (policy, month)",
                   rep->n_rows, API_ANSWER_MAX);
    else if (r < 0)
        call_error(c, 503, "out_of_memory", "out of memory while rendering the report");
    else if (csv)
        call_text(c, 200, CSV_TYPE, text, len);
    else
        call_json(c, 200, v);
}

/* The store's outcome r of the report rep as the answer; frees rep. call_error, call_errno,
 * call_text and call_json touch only c->resp: this runs on a reader thread too. */
static void finish(struct call *c, int r, struct report *rep, const struct slad_error *err,
                   bool csv)
{
    if (r == -EINVAL)
        call_error(c, 400, "invalid_parameter", "query parameter 'tz': %s", err->msg);
    else if (r < 0)
        call_errno(c, r, err);
    else
        answer(c, rep, csv);
    report_done(rep);
}

/* ---- off the loop (api.h) ---- */

/* A report to compute on a reader thread: the validated query, with its own copy of tz. */
struct api_read {
    struct report_query q;
    bool csv;
    char tz[QUERY_VALUE_MAX + 1];
};

/* Hand the report to the daemon's reader; false when out of memory (then answered 503). */
static bool defer(struct call *c, const struct report_query *q, bool csv)
{
    struct api_read *rd = calloc(1, sizeof(*rd));
    if (!rd) {
        call_error(c, 503, "out_of_memory", "out of memory while queueing the report");
        return false;
    }
    rd->q = *q;
    rd->csv = csv;
    if (q->tz) {
        snprintf(rd->tz, sizeof(rd->tz), "%s", q->tz);
        rd->q.tz = rd->tz;
    }
    c->resp->read = rd;
    return true;
}

void api_read_run(const struct api_read *rd, struct store *reader, struct api_response *resp)
{
    *resp = (struct api_response){0};
    struct call c = {.now_ms = rd->q.now_ms, .resp = resp};
    struct report rep;
    struct slad_error err = {""};
    int r = service_report_sla_on(reader, &rd->q, &rep, &err);
    finish(&c, r, &rep, &err, rd->csv);
}

void api_read_free(struct api_read *rd)
{
    free(rd);
}

void route_report_sla(struct call *c)
{
    /* Indexes as in api.c's report_params. */
    const char *from = c->query[0], *to = c->query[1], *by = c->query[2], *format = c->query[3],
               *tz = c->query[4];
    struct report_query q = {.to_ms = c->now_ms, .by = REPORT_BY_POLICY, .now_ms = c->now_ms};
    bool plain = false;
    if (!query_time(c, to, "to", tz, &q.to_ms, &plain))
        return;
    q.from_ms = q.to_ms - REPORT_DEFAULT_SPAN_MS;
    if (!query_time(c, from, "from", tz, &q.from_ms, &plain))
        return;
    if (q.to_ms <= q.from_ms) {
        call_error(c, 400, "invalid_parameter", "query parameter 'to' must be after 'from'");
        return;
    }
    int b = by ? report_by_from_name(by) : REPORT_BY_POLICY;
    if (b < 0) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'by' must be one of policy, region, team, assignee, month");
        return;
    }
    q.by = (enum report_by)b;
    bool csv = format && strcmp(format, "csv") == 0;
    if (format && !csv && strcmp(format, "json") != 0) {
        call_error(c, 400, "invalid_parameter", "query parameter 'format' must be json or csv");
        return;
    }
    if (tz && q.by != REPORT_BY_MONTH && !plain) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'tz' applies only to by=month and to plain dates in "
                   "'from' and 'to'");
        return;
    }
    q.tz = tz;
    /* Validated here, on the loop (cheap); the scan and the rendering, up to a second for
     * a year of a million tickets, on the daemon's reader thread when it has one. */
    if (c->api->hooks.offload_reads) {
        defer(c, &q, csv);
        return;
    }
    struct report rep;
    struct slad_error err = {""};
    int r = service_report_sla(c->api->svc, &q, &rep, &err);
    finish(c, r, &rep, &err, csv);
}
