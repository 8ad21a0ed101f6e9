/* service_intake.c - alerts from monitoring as ticket operations (service.h,
 * service_intake): the ticket an alert names is found by (intake name, key), core decides
 * what the alert does to it (intake_decide), and the operations of service.c do it, all
 * alerts of one request in one savepoint. Calls service.c's operations; nothing calls
 * back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "service_internal.h"
#include "store.h"
#include "ticket_diff.h"

/* A ticket made for a trigger without a key is named by this key afterwards (PagerDuty
 * makes one up in that case too, and answers it). */
#define MADE_KEY_FORMAT "slad-%" PRId64

/* The ticket of trigger a, created; *ret_id its id. A trigger without a key gets one made
 * of the ticket's id, so that later events can name it. */
static int create(struct service *svc, const struct conf_intake *in, const struct intake_alert *a,
                  int64_t now_ms, struct service_intake_result *res, struct slad_error *reterr)
{
    struct ticket t, out;
    int r = intake_ticket(in, a, now_ms, &t, reterr);
    if (r < 0)
        return r;
    bool created = false;
    r = service_ticket_create(svc, &t, now_ms, &out, &created, reterr);
    ticket_done(&t);
    if (r < 0)
        return r;
    res->ticket_id = out.id;
    if (!a->key) {
        snprintf(res->key, sizeof(res->key), MADE_KEY_FORMAT, out.id);
        r = ticket_set_string(&out.external_id, res->key) < 0
                ? slad_error_set(reterr, ENOMEM, "out of memory")
                : store_ticket_update(svc->store, &out,
                                      lifecycle_next_instant(svc->conf, &out, now_ms), reterr);
    }
    ticket_done(&out);
    return r;
}

/* The event outcome o asks of ticket t. */
static int apply_event(struct service *svc, const struct conf_intake *in,
                       const struct intake_alert *a, const struct ticket *t, enum intake_outcome o,
                       int64_t now_ms, struct slad_error *reterr)
{
    struct ticket_event ev = {.at_ms = now_ms, .by = in->name};
    switch (o) {
    case INTAKE_REOPENED:
        ev.type = TICKET_EVENT_REOPEN;
        break;
    case INTAKE_ACKNOWLEDGED:
        ev.type = TICKET_EVENT_ACKNOWLEDGE;
        break;
    default:
        /* Resolved when the alert ended, as far as the ticket's events allow. */
        ev.type = TICKET_EVENT_RESOLVE;
        ev.at_ms = intake_resolve_at(a->ended_ms, ticket_last_event_ms(t), now_ms);
        break;
    }
    struct ticket out;
    int r = service_ticket_event(svc, t->id, &ev, now_ms, &out, reterr);
    if (r == 0)
        ticket_done(&out);
    return r;
}

/* A trigger for stored ticket t: what it says otherwise (a new summary, severity...) is
 * not applied, and the answer says so (res->differs). */
static int repeat_differs(const struct conf_intake *in, const struct intake_alert *a,
                          const struct ticket *t, int64_t now_ms, struct service_intake_result *res,
                          struct slad_error *reterr)
{
    struct ticket sent;
    int r = intake_ticket(in, a, now_ms, &sent, reterr);
    if (r < 0)
        return r;
    ticket_diff(&sent, t, res->differs, sizeof(res->differs));
    ticket_done(&sent);
    return 0;
}

/* One alert: find its ticket, decide, act. */
static int one(struct service *svc, const struct conf_intake *in, const struct intake_alert *a,
               int64_t now_ms, struct service_intake_result *res, struct slad_error *reterr)
{
    memset(res, 0, sizeof(*res));
    if (a->key)
        snprintf(res->key, sizeof(res->key), "%s", a->key);
    struct ticket t;
    ticket_init(&t);
    bool exists = false;
    int64_t id = 0;
    int r = a->key ? store_ticket_find(svc->store, in->name, a->key, &id, reterr) : -ENOENT;
    if (r == 0) {
        r = store_ticket_load_for_update(svc->store, id, &t, reterr);
        exists = r == 0;
    } else if (r == -ENOENT) {
        r = 0;
    }
    if (r < 0)
        return r;
    res->outcome = intake_decide(a->action, exists, t.status);
    res->ticket_id = id;
    if (exists && a->action == INTAKE_TRIGGER)
        r = repeat_differs(in, a, &t, now_ms, res, reterr);
    if (r < 0) {
        ticket_done(&t);
        return r;
    }
    if (res->outcome == INTAKE_CREATED)
        r = create(svc, in, a, now_ms, res, reterr);
    else if (res->outcome != INTAKE_UNCHANGED)
        r = apply_event(svc, in, a, &t, res->outcome, now_ms, reterr);
    ticket_done(&t);
    return r;
}

int service_intake(struct service *svc, const struct conf_intake *in,
                   const struct intake_alert *alerts, size_t n, int64_t now_ms,
                   struct service_intake_result *results, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        r = one(svc, in, &alerts[i], now_ms, &results[i], reterr);
        if (r < 0 && n > 1)
            slad_error_prefix(reterr, "alert %zu (%s): ", i + 1,
                              alerts[i].key ? alerts[i].key : "without a key");
    }
    if (r >= 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}
