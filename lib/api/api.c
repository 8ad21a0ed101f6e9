/* api.c - the HTTP API of SPEC 2 as a declarative route table (as tmux's command table):
 * each route is a method, a path pattern, the query parameters it takes and one handler.
 * api_handle matches the path, decodes the query strictly, calls the handler, and maps
 * errnos to status codes in one place (errno_status). Handlers validate with jsonx, act
 * and read through the service (service.h: never the store), and render.
 *
 * Errors are always {"error":{"code":"snake_case","message":"for a person"}}. */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api_call.h"
#include "api_warnings.h"
#include "jsonx.h"
#include "lease.h"
#include "metrics.h"
#include "openapi.h"
#include "plan.h"
#include "service.h"
#include "simulate.h"
#include "ticket_diff.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* GET /v1/tickets/{id} shows the newest history entries and notifications, oldest first:
 * at most this many of each; the notifications in at most NOTIFICATIONS_SHOWN_BYTES, the
 * history in what the answer has left. */
#define HISTORY_SHOWN             100
#define NOTIFICATIONS_SHOWN       100
#define NOTIFICATIONS_SHOWN_BYTES (128 * 1024)

#define PATH_QUOTE_MAX 64

static route_fn ticket_create, ticket_list, ticket_get, ticket_patch, ticket_event, ticket_history,
    simulate, healthz, metrics, reload;
static route_fn summary, ticket_next;
static route_fn notification_list, notification_get, notification_retry, openapi;

static const char *const list_params[] = {
    "status", "policy",      "team",    "breached", "limit",    "after",
    "source", "external_id", "missed",  "assignee", "severity", "region",
    "q",      "due_before",  "at_risk", "sort",     "open",     NULL};
static const char *const no_params[] = {NULL};
static const char *const notification_params[] = {"state", "ticket", "event", "channel",
                                                  "limit", "after",  "group", NULL};
static const char *const report_params[] = {"from", "to", "by", "format", "tz", NULL};
static const char *const followup_params[] = {"state", "before", "ticket", "plan",
                                              "limit", "after",  NULL};
static const char *const plan_params[] = {"limit", "after", NULL};
static const char *const history_params[] = {"limit", "after", NULL};
static const char *const oncall_params[] = {"at", "from", "to", NULL};
static const char *const at_params[] = {"at", NULL};
static const char *const ics_params[] = {"from", "to", "contact", NULL};

static const struct route {
    const char *method;
    const char *pattern;       /* "{id}" matches an id, "{name}" a name */
    const char *const *params; /* query parameters it takes */
    route_fn *fn;
} routes[] = {
    {"POST", "/v1/tickets", no_params, ticket_create},
    {"GET", "/v1/tickets", list_params, ticket_list},
    {"GET", "/v1/tickets/{id}", no_params, ticket_get},
    {"PATCH", "/v1/tickets/{id}", no_params, ticket_patch},
    {"POST", "/v1/tickets/{id}/events", no_params, ticket_event},
    {"GET", "/v1/tickets/{id}/history", history_params, ticket_history},
    {"GET", "/v1/tickets/{id}/next", no_params, ticket_next},
    {"GET", "/v1/summary", no_params, summary},
    {"GET", "/v1/actions/{name}", no_params, route_action_get},
    {"POST", "/v1/actions/{name}", no_params, route_action_post},
    {"POST", "/v1/simulate", no_params, simulate},
    {"GET", "/healthz", no_params, healthz},
    {"GET", "/metrics", no_params, metrics},
    {"POST", "/v1/reload", no_params, reload},
    {"GET", "/v1/notifications", notification_params, notification_list},
    {"GET", "/v1/notifications/{id}", no_params, notification_get},
    {"POST", "/v1/notifications/{id}/retry", no_params, notification_retry},
    {"GET", "/v1/followups", followup_params, route_followup_list},
    {"GET", "/v1/followups/{id}", no_params, route_followup_get},
    {"POST", "/v1/followups/{id}/complete", no_params, route_followup_complete},
    {"POST", "/v1/plans", no_params, route_plan_create},
    {"GET", "/v1/plans", plan_params, route_plan_list},
    {"GET", "/v1/plans/{id}", no_params, route_plan_get},
    {"PATCH", "/v1/plans/{id}", no_params, route_plan_patch},
    {"DELETE", "/v1/plans/{id}", no_params, route_plan_delete},
    {"GET", "/v1/reports/sla", report_params, route_report_sla},
    {"POST", "/v1/intake/{name}", no_params, route_intake},
    {"GET", "/v1/openapi.json", no_params, openapi},
    {"GET", "/v1/schedules", at_params, route_schedule_list},
    {"GET", "/v1/schedules/{name}/oncall", oncall_params, route_schedule_oncall},
    {"GET", "/v1/schedules/{name}.ics", ics_params, route_schedule_ics},
    {"POST", "/v1/schedules/{name}/overrides", no_params, route_override_create},
    {"GET", "/v1/schedules/{name}/overrides", plan_params, route_override_list},
    {"DELETE", "/v1/schedules/{name}/overrides/{id}", no_params, route_override_delete},
    {"POST", "/v1/session", no_params, route_session_create},
    {"GET", "/v1/session", no_params, route_session_get},
    {"DELETE", "/v1/session", no_params, route_session_delete},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- responses ---- */

void api_response_done(struct api_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    api_read_free(resp->read);
    resp->read = NULL;
}

/* Whether s[0..len) is word, any case, with optional spaces and tabs around it and, for
 * a value, optional double quotes. */
static bool token_is(const char *s, size_t len, const char *word, bool value)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (value && len >= 2 && s[0] == '"' && s[len - 1] == '"')
        s++, len -= 2;
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

bool api_prefers_minimal(const char *prefer)
{
    if (!prefer)
        return false;
    for (const char *p = prefer; *p;) {
        size_t n = strcspn(p, ",");
        size_t pref = strcspn(p, ";"); /* the preference without its parameters */
        if (pref > n)
            pref = n;
        const char *eq = memchr(p, '=', pref);
        if (eq && token_is(p, (size_t)(eq - p), "return", false) &&
            token_is(eq + 1, pref - (size_t)(eq - p) - 1, "minimal", true))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

/* ---- paths and queries ---- */

static const char *quote_path(const char *s, char buf[PATH_QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= PATH_QUOTE_MAX) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    size_t cut = PATH_QUOTE_MAX;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(buf, s, cut);
    memcpy(buf + cut, "...", 4);
    return buf;
}

static int url_decode(const char *s, size_t len, char *out, const char *what,
                      struct slad_error *err);

/* Whether path matches pattern segment by segment; {id} takes a ticket id, {name} (with
 * an optional suffix: "{name}.ics") a non-empty name, percent-decoded into name
 * (QUERY_VALUE_MAX + 1 bytes). */
static bool path_match(const char *pattern, const char *path, int64_t *ret_id, char *name)
{
    int64_t id = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++;
        path++;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (plen == 4 && memcmp(pattern, "{id}", 4) == 0) {
            if (!call_parse_id(path, slen, &id))
                return false;
        } else if (plen >= 6 && memcmp(pattern, "{name}", 6) == 0) {
            size_t suffix = plen - 6;
            if (slen <= suffix || memcmp(path + slen - suffix, pattern + 6, suffix) != 0 ||
                url_decode(path, slen - suffix, name, "the path", NULL) < 0 || !name[0])
                return false;
        } else if (plen != slen || memcmp(pattern, path, plen) != 0) {
            return false;
        }
        pattern += plen;
        path += slen;
    }
    if (*pattern || *path)
        return false;
    *ret_id = id;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) into out (QUERY_VALUE_MAX + 1 bytes); '+' is a space. */
static int url_decode(const char *s, size_t len, char *out, const char *what,
                      struct slad_error *err)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return slad_error_set(err, EINVAL, "%s has a bad percent escape", what);
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (ch == '\0' || (unsigned char)ch < 0x20 || ch == 0x7f)
            return slad_error_set(err, EINVAL, "%s holds a control character", what);
        if (j >= QUERY_VALUE_MAX)
            return slad_error_set(err, EINVAL, "%s is longer than %d bytes", what, QUERY_VALUE_MAX);
        out[j++] = ch;
    }
    out[j] = '\0';
    /* Decoded text must be UTF-8: it is compared with names and quoted in messages. */
    json_t *probe = json_string(out);
    if (!probe)
        return slad_error_set(err, EINVAL, "%s is not valid UTF-8", what);
    json_decref(probe);
    return 0;
}

/* Decode the query into c->query by the route's parameter names. Empty values are
 * absent ("status=&team=north"). -ENOMSG for an unknown name, -EINVAL otherwise. */
static int query_decode(struct call *c, const char *const *names, struct slad_error *err)
{
    const char *q = c->req->query;
    unsigned seen = 0; /* bit k: names[k] was given (even empty) */
    if (!q)
        return 0;
    while (*q) {
        size_t plen = strcspn(q, "&");
        if (plen > 0) {
            size_t nlen = strcspn(q, "=");
            if (nlen > plen)
                nlen = plen;
            char name[QUERY_VALUE_MAX + 1];
            int r = url_decode(q, nlen, name, "a query parameter name", err);
            if (r < 0)
                return r;
            size_t k = 0;
            while (names[k] && strcmp(names[k], name) != 0)
                k++;
            char qn[PATH_QUOTE_MAX + 4];
            if (!names[k]) {
                char known[256] = "";
                size_t len = 0;
                for (size_t i = 0; names[i]; i++) {
                    int n =
                        snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "", names[i]);
                    if (n > 0 && (size_t)n < sizeof(known) - len)
                        len += (size_t)n;
                }
                return slad_error_set(err, ENOMSG, "unknown query parameter '%s'%s%s",
                                      quote_path(name, qn), len ? "; known: " : "",
                                      len ? known : "; this path takes none");
            }
            if (seen & (1u << k))
                return slad_error_set(err, EINVAL, "query parameter '%s' is given twice", names[k]);
            seen |= 1u << k;
            if (nlen == plen)
                return slad_error_set(err, EINVAL, "query parameter '%s' needs a value (%s=...)",
                                      names[k], names[k]);
            char what[64];
            snprintf(what, sizeof(what), "query parameter '%s'", names[k]);
            r = url_decode(q + nlen + 1, plen - nlen - 1, c->query_buf[k], what, err);
            if (r < 0)
                return r;
            if (c->query_buf[k][0])
                c->query[k] = c->query_buf[k];
        }
        q += plen;
        if (*q == '&')
            q++;
    }
    return 0;
}

/* ---- handlers ---- */

/* Whether the answer is only the id: a POST (create, event) with `Prefer: return=minimal`.
 * Rendering the whole ticket is about a tenth of a durable intake's CPU. */
static bool wants_minimal(const struct call *c)
{
    return c->req->prefer_minimal && strcmp(c->req->method, "POST") == 0;
}

/* {"id":N} with the warnings w (taken, may be NULL) and the ticket's Location. */
static void ticket_minimal(struct call *c, int status, int64_t id, json_t *w)
{
    call_json(c, status, warnings_attach(json_pack("{s:I}", "id", (json_int_t)id), w));
    if (c->resp->status == status)
        snprintf(c->resp->location, sizeof(c->resp->location), "/v1/tickets/%lld", (long long)id);
}

/* The ticket, with warnings: who it names that the config lacks, and what a repeat's
 * body (sent, when not NULL) said that was not applied. */
static void ticket_respond(struct call *c, int status, const struct ticket *t,
                           const struct ticket *sent)
{
    const struct conf *conf = call_conf(c);
    json_t *w = NULL;
    warnings_people(&w, conf, t->team, t->assignee);
    if (sent) {
        char fields[256];
        ticket_diff(sent, t, fields, sizeof(fields));
        warnings_repeat(&w, "", t->id, fields);
    }
    if (wants_minimal(c))
        ticket_minimal(c, status, t->id, w);
    else
        call_json(c, status, warnings_attach(jsonx_ticket_render(t, conf, c->now_ms), w));
}

static void ticket_create(struct call *c)
{
    struct ticket t;
    struct slad_error err = {""};
    int r = jsonx_ticket_parse(c->req->body, c->req->body_len, c->now_ms, &t, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    struct ticket out;
    bool created = false;
    r = service_ticket_create(c->api->svc, &t, c->now_ms, &out, &created, &err);
    if (r < 0) {
        ticket_done(&t);
        call_errno(c, r, &err);
        return;
    }
    ticket_respond(c, created ? 201 : 200, &out, created ? NULL : &t);
    ticket_done(&t);
    ticket_done(&out);
    /* Also when it existed: it may have been created in the batch not yet committed. */
    c->resp->wrote = true;
}

struct ticket_page {
    struct call_page page;
    struct call *c;
    bool sort_due;
    int64_t last_due_ms; /* sort=due: the due key of the page's last row */
};

static int ticket_page_row(void *userdata, const struct ticket *t)
{
    struct ticket_page *p = userdata;
    if (call_page_full(&p->page))
        return 1;
    int r = call_page_add(&p->page, t->id, jsonx_ticket_render(t, call_conf(p->c), p->c->now_ms));
    if (r == 0)
        p->last_due_ms = ticket_due_key(t);
    return r;
}

/* sort=due pages by (due key, id): the cursor is "DUE_MS.ID" (opaque to clients: `next`
 * of one page is the `after` of the next). */
static bool due_cursor_parse(const char *s, int64_t *due_ms, int64_t *id)
{
    const char *dot = s ? strchr(s, '.') : NULL;
    if (!dot || dot == s || dot - s > 20)
        return false;
    char num[24];
    memcpy(num, s, (size_t)(dot - s));
    num[dot - s] = '\0';
    bool negative = num[0] == '-';
    int64_t v;
    if (call_parse_uint(num + negative, INT64_MAX, &v) < 0 ||
        call_parse_uint(dot + 1, INT64_MAX, id) < 0)
        return false;
    *due_ms = negative ? -v : v;
    return true;
}

/* The board's filters of GET /v1/tickets (issue 13) into f; false after answering 400. */
static bool board_filters(struct call *c, struct ticket_filter *f)
{
    /* Indexes as in list_params. */
    const char *severity = c->query[10], *q = c->query[12], *due_before = c->query[13],
               *at_risk = c->query[14], *sort = c->query[15], *open = c->query[16];
    if (open) {
        if (strcmp(open, "true") != 0) {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'open' must be true (not resolved, closed or "
                       "cancelled); leave it out for every ticket");
            return false;
        }
        f->open_only = true;
    }
    f->assignee = c->query[9];
    f->region = c->query[11];
    if (severity) {
        int64_t v;
        if (call_parse_uint(severity, 5, &v) < 0 || v < 1) {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'severity' must be 1 (most severe) .. 5");
            return false;
        }
        f->severity = (int)v;
    }
    if (q) {
        /* Compared with the fields in lower case: ASCII letters ignore case, the rest
         * (Chinese has none) is compared as it is. */
        for (char *p = c->query_buf[12]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        f->q = c->query_buf[12];
    }
    if (due_before && !call_query_time(c, due_before, "due_before", &f->due_before_ms))
        return false;
    if (due_before && f->due_before_ms == 0)
        f->due_before_ms = 1; /* 0 means "any" in the filter; 1 ms later matches the same */
    if (at_risk) {
        if (strcmp(at_risk, "true") != 0 && strcmp(at_risk, "false") != 0) {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'at_risk' must be true (a running clock has under a "
                       "quarter of its target left) or false");
            return false;
        }
        f->at_risk = at_risk[0] == 't' ? 1 : -1;
    }
    f->now_ms = c->now_ms;
    if (sort) {
        if (strcmp(sort, "due") != 0 && strcmp(sort, "id") != 0) {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'sort' must be id (the default) or due (the earliest "
                       "due instant of the running clocks first, tickets without one last)");
            return false;
        }
        f->sort_due = sort[0] == 'd';
    }
    return true;
}

static void ticket_list(struct call *c)
{
    /* Indexes as in list_params. */
    const char *status = c->query[0], *policy = c->query[1], *team = c->query[2],
               *breached = c->query[3], *limit = c->query[4], *after = c->query[5];
    struct ticket_filter f = {.breached = -1, .source = c->query[6], .external_id = c->query[7]};
    if (f.external_id && !f.source) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'external_id' needs 'source' too: a ticket's origin is "
                   "both (source 'api' when it was posted without one)");
        return;
    }
    if (status) {
        if (ticket_status_from_name(status) < 0) {
            char q[PATH_QUOTE_MAX + 4];
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'status' must be one of open, acknowledged, "
                       "dispatched, on_site, on_hold, resolved, closed, cancelled; got '%s'",
                       quote_path(status, q));
            return;
        }
        f.status = status;
    }
    f.policy = policy;
    f.team = team;
    if (breached) {
        if (strcmp(breached, "true") == 0) {
            f.breached = 1;
        } else if (strcmp(breached, "false") == 0) {
            f.breached = 0;
        } else {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'breached' must be true (a clock runs late now) or false");
            return;
        }
    }
    const char *missed = c->query[8];
    if (missed) {
        if (strcmp(missed, "true") == 0 || strcmp(missed, "false") == 0) {
            f.missed = missed[0] == 't' ? 1 : -1;
        } else {
            call_error(c, 400, "invalid_parameter",
                       "query parameter 'missed' must be true (a clock stopped late) or false");
            return;
        }
    }
    if (!board_filters(c, &f))
        return;
    struct ticket_page p = {.c = c, .sort_due = f.sort_due};
    f.after_due_ms = INT64_MIN;
    if (f.sort_due && after && !due_cursor_parse(after, &f.after_due_ms, &f.after_id)) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'after' with sort=due must be the 'next' of the page before");
        return;
    }
    if (!call_page_start(c, limit, f.sort_due ? NULL : after, "ticket", &p.page, &f.after_id))
        return;
    f.limit = p.page.limit + 1;
    struct slad_error err = {""};
    int r = service_ticket_list(c->api->svc, &f, ticket_page_row, &p, &err);
    if (!f.sort_due || r < 0 || !p.page.more) {
        call_page_answer(c, &p.page, "tickets", r, &err);
        return;
    }
    json_t *out = json_object();
    char cursor[48];
    snprintf(cursor, sizeof(cursor), "%lld.%lld", (long long)p.last_due_ms,
             (long long)p.page.last_id);
    if (!out || json_object_set_new(out, "tickets", p.page.rows) < 0) {
        if (!out)
            json_decref(p.page.rows);
        json_decref(out);
        call_errno(c, -ENOMEM, NULL);
        return;
    }
    json_object_set_new(out, "next", json_string(cursor));
    call_json(c, 200, out);
}

static json_t *history_render(const struct history_entry *h)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = json_object_set_new(o, "id", json_integer(h->id)) == 0 &&
              json_object_set_new(o, "at", jsonx_time(h->at_ms)) == 0 &&
              json_object_set_new(o, "recorded_at", jsonx_time(h->created_ms)) == 0 &&
              json_object_set_new(o, "kind", jsonx_string(h->kind)) == 0 &&
              json_object_set_new(o, "late", json_boolean(h->late)) == 0;
    if (ok && h->data) {
        /* The row's own fields (type, by, clock, step...) join the entry; the names
         * above win. Text that is not a JSON object is shown as "data". */
        json_t *data = json_loads(h->data, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(data))
            ok = json_object_update_missing(o, data) == 0;
        else
            ok = json_object_set_new(o, "data", jsonx_string(h->data)) == 0;
        json_decref(data);
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int history_page_row(void *userdata, const struct history_entry *h)
{
    struct call_page *p = userdata;
    return call_page_full(p) ? 1 : call_page_add(p, h->id, history_render(h));
}

static json_t *outbox_render(const struct outbox_row *o)
{
    json_t *v = json_object();
    if (!v)
        return NULL;
    bool ok = json_object_set_new(v, "id", json_integer(o->id)) == 0 &&
              json_object_set_new(v, "ticket_id",
                                  o->ticket_id ? json_integer(o->ticket_id) : json_null()) == 0 &&
              json_object_set_new(v, "event", jsonx_string(o->event)) == 0 &&
              json_object_set_new(v, "channel", jsonx_string(o->channel)) == 0 &&
              json_object_set_new(v, "recipient", jsonx_string(o->recipient)) == 0 &&
              json_object_set_new(v, "contact", jsonx_string(o->contact)) == 0 &&
              json_object_set_new(v, "state", jsonx_string(outbox_state_name(o->state))) == 0 &&
              json_object_set_new(v, "attempts", json_integer(o->attempts)) == 0 &&
              json_object_set_new(v, "last_error", jsonx_string(o->last_error)) == 0 &&
              json_object_set_new(v, "idempotency_key", jsonx_string(o->idempotency_key)) == 0 &&
              json_object_set_new(v, "next_attempt_at", jsonx_time(o->next_attempt_ms)) == 0 &&
              json_object_set_new(v, "created_at", jsonx_time(o->created_ms)) == 0 &&
              json_object_set_new(v, "sent_at", jsonx_time(o->sent_ms)) == 0 &&
              json_object_set_new(v, "retried_at", jsonx_time(o->retried_ms)) == 0 &&
              json_object_set_new(v, "deferred", json_boolean(o->deferred)) == 0 &&
              json_object_set_new(v, "group_id",
                                  o->group_id ? json_integer(o->group_id) : json_null()) == 0;
    if (!ok) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static int notification_append(void *userdata, const struct outbox_row *o)
{
    json_t *v = outbox_render(o);
    if (!v || json_array_append_new(userdata, v) < 0)
        return -ENOMEM;
    return 0;
}

static int notification_page_row(void *userdata, const struct outbox_row *o)
{
    struct call_page *p = userdata;
    return call_page_full(p) ? 1 : call_page_add(p, o->id, outbox_render(o));
}

static void notification_list(struct call *c)
{
    /* Indexes as in notification_params. */
    const char *state = c->query[0], *ticket = c->query[1], *limit = c->query[4],
               *after = c->query[5], *group = c->query[6];
    struct outbox_filter f = {
        .state = -1, .due_ms = SLAD_NO_TIME, .event = c->query[2], .channel = c->query[3]};
    char q[PATH_QUOTE_MAX + 4];
    if (state && (f.state = outbox_state_from_name(state)) < 0) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'state' must be one of pending, sending, sent, dead; "
                   "got '%s'",
                   quote_path(state, q));
        return;
    }
    int64_t v = 0;
    if (ticket && (call_parse_uint(ticket, INT64_MAX, &v) < 0 || v < 1)) {
        call_error(c, 400, "invalid_parameter", "query parameter 'ticket' must be a ticket id");
        return;
    }
    f.ticket_id = v;
    if (group && (call_parse_uint(group, INT64_MAX, &f.group_id) < 0 || f.group_id < 1)) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'group' must be the id of a grouped message");
        return;
    }
    struct call_page page;
    if (!call_page_start(c, limit, after, "notification", &page, &f.after_id))
        return;
    f.limit = page.limit + 1;
    struct slad_error err = {""};
    int r = service_notification_list(c->api->svc, &f, notification_page_row, &page, &err);
    call_page_answer(c, &page, "notifications", r, &err);
}

/* One notification as its row in the listing would show it (rendered once, here). */
static void notification_respond(struct call *c)
{
    struct slad_error err = {""};
    json_t *rows = json_array();
    int r = rows ? service_notification_get(c->api->svc, c->id, notification_append, rows, &err)
                 : -ENOMEM;
    json_t *v = r == 0 ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    if (!v)
        call_errno(c, r < 0 ? r : -ENOMEM, r < 0 ? &err : NULL);
    else
        call_json(c, 200, v);
}

static void notification_get(struct call *c)
{
    notification_respond(c);
}

/* A dead notification goes back to pending now, with a fresh attempt budget and the
 * same key, and its ticket's history says so; the delivery loop picks it up after the
 * commit. */
static void notification_retry(struct call *c)
{
    struct slad_error err = {""};
    int r = service_notification_retry(c->api->svc, c->id, c->now_ms, &err);
    if (r == -EBUSY) {
        call_error(c, 409, "not_dead", "%s", err.msg);
        return;
    }
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    notification_respond(c);
    c->resp->wrote = true; /* the re-queue stands, even when only its rendering failed */
}

/* Load ticket c->id into *t (ticket_done it); false after answering the error (404 when
 * unknown). */
static bool ticket_load(struct call *c, struct ticket *t)
{
    struct slad_error err = {""};
    int r = service_ticket_get(c->api->svc, c->id, t, &err);
    if (r < 0)
        call_errno(c, r, &err);
    return r == 0;
}

/* Read the newest notifications and history of ticket c->id into pages (newest first)
 * for an answer of which the ticket takes ticket_bytes. */
static int newest_rows(struct call *c, size_t ticket_bytes, struct call_page *notifications,
                       struct call_page *history, struct slad_error *err)
{
    struct service *svc = c->api->svc;
    if (call_page_init(notifications, NOTIFICATIONS_SHOWN, NOTIFICATIONS_SHOWN_BYTES, 0) < 0)
        return -ENOMEM;
    int r = service_notification_newest(svc, c->id, NOTIFICATIONS_SHOWN + 1, notification_page_row,
                                        notifications, err);
    if (r < 0)
        return r;
    size_t used = ticket_bytes + notifications->bytes;
    if (call_page_init(history, HISTORY_SHOWN, used < API_ROWS_MAX ? API_ROWS_MAX - used : 0, 0) <
        0)
        return -ENOMEM;
    return service_history_newest(svc, c->id, HISTORY_SHOWN + 1, history_page_row, history, err);
}

/* Put page (read newest first) into v as key, in id order, and key_more: whether older
 * rows exist that the answer leaves out. Takes the rows. */
static bool put_newest(json_t *v, const char *key, const char *key_more, struct call_page *page)
{
    json_t *rows = page->rows;
    page->rows = NULL;
    size_t n = json_array_size(rows);
    for (size_t i = 0; i < n / 2; i++) {
        json_t *first = json_incref(json_array_get(rows, i));
        json_array_set(rows, i, json_array_get(rows, n - 1 - i));
        json_array_set_new(rows, n - 1 - i, first);
    }
    return json_object_set_new(v, key, rows) == 0 &&
           json_object_set_new(v, key_more, json_boolean(page->more)) == 0;
}

/* The ticket with its newest notifications and history, oldest first (older history is
 * paged by GET /v1/tickets/{id}/history, older notifications by GET
 * /v1/notifications?ticket=ID). The answer stays under API_ANSWER_MAX: the notifications
 * take at most NOTIFICATIONS_SHOWN_BYTES, the history what the ticket leaves. */
static void ticket_get(struct call *c)
{
    struct ticket t;
    if (!ticket_load(c, &t))
        return;
    json_t *v = jsonx_ticket_render(&t, call_conf(c), c->now_ms);
    ticket_done(&t);
    size_t ticket_bytes = v ? jsonx_dump_size(v) : 0;
    struct call_page notifications = {0}, history = {0};
    struct slad_error err = {""};
    int r =
        ticket_bytes > 0 ? newest_rows(c, ticket_bytes, &notifications, &history, &err) : -ENOMEM;
    if (r == 0 && !(put_newest(v, "history", "history_more", &history) &&
                    put_newest(v, "notifications", "notifications_more", &notifications)))
        r = -ENOMEM;
    json_decref(history.rows);
    json_decref(notifications.rows);
    if (r < 0) {
        json_decref(v);
        call_errno(c, r, r == -ENOMEM ? NULL : &err);
        return;
    }
    call_json(c, 200, v);
}

/* GET /v1/tickets/{id}/history?after=&limit=: the whole history in id order, paged. */
static void ticket_history(struct call *c)
{
    /* Indexes as in history_params. */
    const char *limit = c->query[0], *after = c->query[1];
    struct ticket t;
    if (!ticket_load(c, &t))
        return;
    ticket_done(&t);
    struct call_page page;
    int64_t after_id = 0;
    if (!call_page_start(c, limit, after, "history entry", &page, &after_id))
        return;
    struct slad_error err = {""};
    int r = service_history_list(c->api->svc, c->id, after_id, page.limit + 1, history_page_row,
                                 &page, &err);
    call_page_answer(c, &page, "history", r, &err);
}

static void ticket_patch(struct call *c)
{
    struct jsonx_patch p;
    struct slad_error err = {""};
    int r = jsonx_patch_parse(c->req->body, c->req->body_len, &p, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    struct ticket out;
    r = service_ticket_patch(c->api->svc, c->id, &p.patch, c->now_ms, &out, &err);
    jsonx_patch_done(&p);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    ticket_respond(c, 200, &out, NULL);
    ticket_done(&out);
    c->resp->wrote = true;
}

static void ticket_event(struct call *c)
{
    struct jsonx_event e;
    struct slad_error err = {""};
    int r = jsonx_event_parse(c->req->body, c->req->body_len, c->now_ms, &e, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    struct ticket out;
    if (c->req->actor)
        e.ev.by = c->req->actor; /* a signed-in contact acts as itself */
    r = service_ticket_event(c->api->svc, c->id, &e.ev, c->now_ms, &out, &err);
    jsonx_event_done(&e);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    if (wants_minimal(c))
        ticket_minimal(c, 200, out.id, NULL);
    else
        call_json(c, 200, jsonx_ticket_render(&out, call_conf(c), c->now_ms));
    ticket_done(&out);
    c->resp->wrote = true;
}

static json_t *recipient_render(const struct sim_recipient *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = json_object_set_new(o, "recipient", jsonx_string(r->text)) == 0;
    if (ok && r->contact)
        ok = json_object_set_new(o, "contact", jsonx_string(r->contact)) == 0;
    if (ok && r->channel)
        ok = json_object_set_new(o, "channel", jsonx_string(r->channel)) == 0;
    if (ok && r->address)
        ok = json_object_set_new(o, "address", jsonx_string(r->address)) == 0;
    if (ok && r->error)
        ok = json_object_set_new(o, "error", jsonx_string(r->error)) == 0;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *sim_entry_render(const struct sim_entry *e)
{
    json_t *o = json_object(), *recipients = json_array();
    bool ok = o && recipients;
    for (size_t i = 0; ok && i < e->n_recipients; i++) {
        json_t *r = recipient_render(&e->recipients[i]);
        ok = r && json_array_append_new(recipients, r) == 0;
    }
    ok = ok && json_object_set_new(o, "at", jsonx_time(e->at_ms)) == 0 &&
         json_object_set_new(o, "kind", jsonx_string(e->kind)) == 0 &&
         json_object_set_new(o, "event", jsonx_string(e->event)) == 0 &&
         json_object_set_new(o, "clock", e->clock[0] ? jsonx_string(e->clock) : json_null()) == 0 &&
         json_object_set_new(o, "step", e->step ? json_integer(e->step) : json_null()) == 0 &&
         json_object_set_new(o, "repeat", json_integer(e->repeat)) == 0;
    if (ok && e->state[0])
        ok = json_object_set_new(o, "state", jsonx_string(e->state)) == 0;
    ok = ok && json_object_set_new(o, "recipients", json_incref(recipients)) == 0;
    json_decref(recipients);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void simulate(struct call *c)
{
    struct jsonx_simulate s;
    struct slad_error err = {""};
    int r = jsonx_simulate_parse(c->req->body, c->req->body_len, c->now_ms, &s, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    struct timeline tl;
    r = simulate_run(call_conf(c), &s.ticket, s.evs, s.n_events, s.until_ms, &tl, &err);
    int64_t until_ms = s.until_ms;
    jsonx_simulate_done(&s);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    json_t *v = json_object();
    json_t *ticket = jsonx_ticket_render(&tl.ticket, call_conf(c), until_ms);
    json_t *clocks = json_object_get(ticket, "clocks");
    size_t clocks_bytes = clocks ? jsonx_dump_size(clocks) : 0;
    /* The timeline ends early, truncated, where it would take the answer past the bound. */
    struct call_page timeline = {0};
    bool ok = v && clocks_bytes > 0 && clocks_bytes < API_ROWS_MAX &&
              call_page_init(&timeline, tl.n_entries, API_ROWS_MAX - clocks_bytes, 0) == 0;
    for (size_t i = 0; ok && i < tl.n_entries; i++) {
        int added = call_page_add(&timeline, (int64_t)i, sim_entry_render(&tl.entries[i]));
        ok = added >= 0;
        if (added > 0)
            break;
    }
    ok = ok && json_object_set_new(v, "policy", jsonx_string(tl.policy)) == 0 &&
         json_object_set_new(v, "status", json_incref(json_object_get(ticket, "status"))) == 0 &&
         json_object_set_new(v, "clocks", json_incref(clocks)) == 0 &&
         json_object_set_new(v, "timeline", json_incref(timeline.rows)) == 0 &&
         json_object_set_new(v, "until", jsonx_time(until_ms)) == 0 &&
         json_object_set_new(v, "truncated", json_boolean(tl.truncated || timeline.more)) == 0;
    json_decref(ticket);
    json_decref(timeline.rows);
    timeline_done(&tl);
    if (!ok) {
        json_decref(v);
        v = NULL;
    }
    call_json(c, 200, v);
}

/* GET /v1/tickets/{id}/next looks this far ahead for at most this many steps. */
#define NEXT_HORIZON_MS (30LL * 86400 * 1000)
#define NEXT_MAX_STEPS  50

static json_t *next_step_render(const struct sim_entry *e)
{
    json_t *o = json_object(), *recipients = json_array();
    bool ok = o && recipients;
    for (size_t i = 0; ok && i < e->n_recipients; i++) {
        const struct sim_recipient *r = &e->recipients[i];
        json_t *v = json_object();
        ok = v && json_array_append_new(recipients, v) == 0 &&
             json_object_set_new(v, "role", jsonx_string(r->text)) == 0 &&
             json_object_set_new(v, "contact",
                                 r->contact ? jsonx_string(r->contact) : json_null()) == 0 &&
             json_object_set_new(v, "channel",
                                 r->channel ? jsonx_string(r->channel) : json_null()) == 0 &&
             (!r->error || json_object_set_new(v, "error", jsonx_string(r->error)) == 0);
    }
    ok = ok && json_object_set_new(o, "clock", jsonx_string(e->clock)) == 0 &&
         json_object_set_new(o, "at", jsonx_time(e->at_ms)) == 0 &&
         json_object_set_new(o, "percent", json_integer(e->percent)) == 0 &&
         json_object_set_new(o, "event", jsonx_string(e->event)) == 0 &&
         json_object_set_new(o, "step", json_integer(e->step)) == 0 &&
         json_object_set_new(o, "repeat", json_integer(e->repeat)) == 0 &&
         json_object_set_new(o, "recipients", json_incref(recipients)) == 0;
    json_decref(recipients);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* What happens next: the coming escalation steps of the ticket's clocks, from the engine
 * (the daemon's own walk, recipients resolved at each step's instant with the on-call
 * overrides), in time order. */
static void ticket_next(struct call *c)
{
    struct timeline tl;
    struct slad_error err = {""};
    int r = service_ticket_next(c->api->svc, c->id, c->now_ms, c->now_ms + NEXT_HORIZON_MS,
                                NEXT_MAX_STEPS, &tl, &err);
    if (r < 0) {
        timeline_done(&tl);
        call_errno(c, r, &err);
        return;
    }
    json_t *v = json_object(), *steps = json_array();
    bool ok = v && steps;
    for (size_t i = 0; ok && i < tl.n_entries; i++) {
        json_t *s = next_step_render(&tl.entries[i]);
        ok = s && json_array_append_new(steps, s) == 0;
    }
    ok = ok && json_object_set_new(v, "ticket", json_integer(c->id)) == 0 &&
         json_object_set_new(v, "steps", json_incref(steps)) == 0 &&
         json_object_set_new(v, "more", json_boolean(tl.truncated)) == 0;
    json_decref(steps);
    timeline_done(&tl);
    if (!ok) {
        json_decref(v);
        v = NULL;
    }
    call_json(c, 200, v);
}

/* The board's counts: open tickets, those at risk and breached now, dead notifications. */
static void summary(struct call *c)
{
    struct board_summary b;
    struct slad_error err = {""};
    int r = service_board_summary(c->api->svc, c->now_ms, &b, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 200,
              json_pack("{s:I,s:I,s:I,s:I}", "open", (json_int_t)b.open, "at_risk",
                        (json_int_t)b.at_risk, "breached", (json_int_t)b.breached,
                        "dead_notifications", (json_int_t)b.dead_notifications));
}

static void healthz(struct call *c)
{
    struct slad_error err = {""};
    struct service_counts counts;
    int r = service_check(c->api->svc, &err);
    if (r == 0 && service_counts(c->api->svc, &counts) < 0) {
        r = -EIO;
        snprintf(err.msg, sizeof(err.msg), "the database did not answer the counts");
    }
    if (r < 0) {
        call_error(c, 503, "database_unavailable", "%s", err.msg);
        if (r == -ENOTCONN) /* being reconnected in the background (PostgreSQL) */
            c->resp->retry_after_s = 1;
        return;
    }
    json_t *v = json_pack(
        "{s:s,s:I,s:I,s:I,s:I}", "status", "ok", "open_tickets", (json_int_t)counts.open_tickets,
        "breached_clocks", (json_int_t)counts.breached_clocks, "pending_notifications",
        (json_int_t)counts.pending_notifications, "timers", (json_int_t)counts.timers);
    const struct lease *lease = c->api->hooks.lease;
    if (v && lease &&
        (json_object_set_new(v, "role", json_string(lease_role_name(lease->role))) < 0 ||
         json_object_set_new(v, "fencing", json_integer((json_int_t)lease->fencing)) < 0)) {
        json_decref(v);
        v = NULL;
    }
    call_json(c, 200, v);
}

static void metrics(struct call *c)
{
    struct service_counts counts = {0};
    if (service_counts(c->api->svc, &counts) < 0)
        counts.timers = 0;
    struct gauges gauges;
    bool have_gauges = service_gauges(c->api->svc, &gauges, NULL) == 0;
    char *text = metrics_render(c->api->metrics, have_gauges ? &gauges : NULL, counts.timers);
    call_text(c, 200, METRICS_TYPE, text, text ? strlen(text) : 0);
}

static void reload(struct call *c)
{
    if (!c->api->hooks.reload) {
        call_error(c, 503, "unavailable", "reload is not available here");
        return;
    }
    char errbuf[SLAD_ERROR_MAX] = "";
    int r = c->api->hooks.reload(c->api->hooks.userdata, errbuf, sizeof(errbuf));
    if (r < 0) {
        call_error(c, r == -EINVAL ? 400 : 503, r == -EINVAL ? "invalid_config" : "unavailable",
                   "the configuration was not reloaded; the running one stays: %s",
                   errbuf[0] ? errbuf : strerror(-r));
        return;
    }
    call_json(c, 200, json_pack("{s:s}", "status", "reloaded"));
    c->resp->wrote = true; /* policies were re-chosen */
}

/* doc/openapi.yaml, compiled in as JSON. */
static void openapi(struct call *c)
{
    char *body = malloc(openapi_json_len + 1);
    if (body)
        memcpy(body, openapi_json, openapi_json_len + 1);
    call_text(c, 200, JSON_TYPE, body, openapi_json_len);
}

/* ---- the router ---- */

struct api *api_new(struct service *svc, struct metrics *metrics, const struct api_hooks *hooks)
{
    struct api *api = calloc(1, sizeof(*api));
    if (!api)
        return NULL;
    api->svc = svc;
    api->metrics = metrics;
    if (hooks)
        api->hooks = *hooks;
    return api;
}

void api_free(struct api *api)
{
    if (api)
        action_limits_free(api->action_limits);
    free(api);
}

void api_handle(struct api *api, const struct api_request *req, int64_t now_ms,
                struct api_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    struct call c = {.api = api, .req = req, .now_ms = now_ms, .resp = resp};
    const char *path = req->path ? req->path : "";
    const char *method = req->method ? req->method : "";
    /* HEAD is GET without the body, which the HTTP server leaves out: it takes every GET
     * route, and Allow names it after GET. */
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    const struct route *found = NULL;
    size_t allow_len = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        int64_t id;
        if (!path_match(routes[i].pattern, path, &id, c.name))
            continue;
        if (strcmp(routes[i].method, wanted) == 0) {
            found = &routes[i];
            c.id = id;
            break;
        }
        bool get = strcmp(routes[i].method, "GET") == 0;
        int n = snprintf(resp->allow + allow_len, sizeof(resp->allow) - allow_len, "%s%s%s",
                         allow_len ? ", " : "", routes[i].method, get ? ", HEAD" : "");
        if (n > 0 && (size_t)n < sizeof(resp->allow) - allow_len)
            allow_len += (size_t)n;
    }
    char q[PATH_QUOTE_MAX + 4];
    if (!found && allow_len) {
        char qm[PATH_QUOTE_MAX + 4];
        call_error(&c, 405, "method_not_allowed", "'%s' takes %s, not '%s'", quote_path(path, q),
                   resp->allow, quote_path(method, qm));
        return;
    }
    resp->allow[0] = '\0';
    if (!found) {
        call_error(&c, 404, "not_found", "no such path '%s'", quote_path(path, q));
        return;
    }
    const struct conf *conf = service_conf(api->svc);
    int64_t max_body = conf ? conf->daemon.max_body_bytes : 0;
    if (max_body > 0 && (int64_t)req->body_len > max_body) {
        call_error(&c, 413, "payload_too_large", "the body has %zu bytes; the limit is %lld",
                   req->body_len, (long long)max_body);
        return;
    }
    enum api_access needs = api_access_needed(method, path);
    if (req->access > needs) {
        if (req->access == API_ACCESS_PUBLIC)
            call_error(&c, 401, "unauthorized",
                       "'%s' needs credentials: sign in (POST /v1/session) or send the "
                       "header 'Authorization: Bearer <token>'",
                       quote_path(path, q));
        else
            call_error(&c, 403, "forbidden", "%s '%s' needs %s access; %s%s%s has %s access",
                       method, quote_path(path, q), api_access_name(needs),
                       req->actor ? "contact '" : "this request", req->actor ? req->actor : "",
                       req->actor ? "'" : "", api_access_name(req->access));
        return;
    }
    struct slad_error err = {""};
    int r = query_decode(&c, found->params, &err);
    if (r < 0) {
        call_error(&c, 400, r == -ENOMSG ? "unknown_parameter" : "invalid_parameter", "%s",
                   err.msg);
        return;
    }
    found->fn(&c);
    /* The database refused the operation for concurrency (PostgreSQL: a deadlock 40P01, a
     * serialization failure 40001; SQLite: a lock another process held past the busy
     * timeout): -EAGAIN. The service rolled it back to its own savepoint, so the batch's
     * other work stands and running the handler again starts from the same state; the
     * other transaction has usually ended meanwhile. Once: a second refusal is the 503
     * (the client retries; intake and creates are idempotent). Every handler makes at
     * most one write, which is the one refused. */
    if (c.conflict && !resp->wrote && !resp->read) {
        api_response_done(resp);
        memset(resp, 0, sizeof(*resp));
        c.conflict = false;
        found->fn(&c);
    }
}
