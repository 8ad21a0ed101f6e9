/* api_intake.c - POST /v1/intake/{name}: alerts from monitoring (the intakes of the
 * config). An alertmanager intake reads Alertmanager's webhook and answers what each
 * alert did; a pagerduty intake reads one Events API v2 event and answers as PagerDuty
 * does (202 {"status":"success","message":"Event processed","dedup_key":...}; 400
 * {"status":"invalid event","message":"Event object is invalid","errors":[...]}, with
 * slad's "error" object beside), so that its senders need no change. Who may post is
 * the daemon's to check (the intake's token, or PagerDuty's routing_key). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_call.h"
#include "api_warnings.h"
#include "jsonx.h"
#include "jsonx_intake.h"
#include "service.h"

/* alerts[0..n) through the service; results (n of them) say what each did. false after
 * answering an error. */
static bool apply(struct call *c, const struct conf_intake *in, const struct intake_alert *alerts,
                  size_t n, struct service_intake_result *results)
{
    struct slad_error err = {""};
    int r = service_intake(c->api->svc, in, alerts, n, c->now_ms, results, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (results[i].outcome != INTAKE_UNCHANGED)
            c->resp->wrote = true;
    return true;
}

static json_t *result_render(const struct intake_alert *a, const struct service_intake_result *res)
{
    return json_pack("{s:o,s:s,s:o,s:s}", "fingerprint", jsonx_string(a->key), "status",
                     a->action == INTAKE_RESOLVE ? "resolved" : "firing", "ticket_id",
                     res->ticket_id ? json_integer(res->ticket_id) : json_null(), "result",
                     intake_outcome_name(res->outcome));
}

/* 200 {"alerts":[{"fingerprint","status","ticket_id","result"}...]} in the body's order. */
static void alertmanager(struct call *c, const struct conf_intake *in)
{
    struct intake_alert *alerts = NULL;
    size_t n = 0;
    struct slad_error err = {""};
    int r = jsonx_alertmanager_parse(c->req->body, c->req->body_len, &alerts, &n, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    struct service_intake_result *results = calloc(n ? n : 1, sizeof(*results));
    if (!results)
        call_error(c, 503, "out_of_memory", "out of memory while reading the alerts");
    else if (apply(c, in, alerts, n, results)) {
        json_t *rows = json_array(), *w = NULL;
        bool ok = rows != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            ok = json_array_append_new(rows, result_render(&alerts[i], &results[i])) == 0;
            char prefix[INTAKE_KEY_MAX + 32];
            snprintf(prefix, sizeof(prefix), "alert '%s': ", alerts[i].key ? alerts[i].key : "");
            warnings_repeat(&w, prefix, results[i].ticket_id, results[i].differs);
        }
        call_json(c, 200, warnings_attach(ok ? json_pack("{s:o}", "alerts", rows) : NULL, w));
        if (!ok)
            json_decref(rows);
    }
    free(results);
    for (size_t i = 0; i < n; i++)
        intake_alert_done(&alerts[i]);
    free(alerts);
}

/* PagerDuty's refusal, with slad's error object beside its fields. */
static void pagerduty_refused(struct call *c, int r, const struct slad_error *err)
{
    if (r == -ENOMEM) {
        call_parse_error(c, r, err);
        return;
    }
    call_json(c, 400,
              json_pack("{s:s,s:s,s:[s],s:{s:s,s:s}}", "status", "invalid event", "message",
                        "Event object is invalid", "errors", err->msg, "error", "code",
                        jsonx_error_code(r), "message", err->msg));
}

static void pagerduty(struct call *c, const struct conf_intake *in)
{
    struct intake_alert a;
    char *routing_key = NULL;
    struct slad_error err = {""};
    int r = jsonx_pagerduty_parse(c->req->body, c->req->body_len, &a, &routing_key, &err);
    if (r < 0) {
        pagerduty_refused(c, r, &err);
        return;
    }
    free(routing_key);
    struct service_intake_result res;
    if (apply(c, in, &a, 1, &res)) {
        json_t *w = NULL;
        warnings_repeat(&w, "", res.ticket_id, res.differs);
        call_json(c, 202,
                  warnings_attach(json_pack("{s:s,s:s,s:o}", "status", "success", "message",
                                            "Event processed", "dedup_key",
                                            jsonx_string(res.key[0] ? res.key : NULL)),
                                  w));
    }
    intake_alert_done(&a);
}

void route_intake(struct call *c)
{
    const struct conf *conf = call_conf(c);
    const struct conf_intake *in = conf ? conf_find_intake(conf, c->name) : NULL;
    if (!in) {
        char known[256] = "";
        size_t len = 0;
        for (size_t i = 0; conf && i < conf->n_intakes && len < sizeof(known); i++)
            len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
                                    conf->intakes[i].name);
        call_error(c, 404, "not_found", "no intake named '%s'%s%s", c->name,
                   len ? "; the config has: " : "; the config has no intakes", len ? known : "");
        return;
    }
    if (in->type == INTAKE_PAGERDUTY)
        pagerduty(c, in);
    else
        alertmanager(c, in);
}
