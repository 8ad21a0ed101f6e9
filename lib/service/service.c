/* service.c - tickets as a service (service.h): each operation is one savepoint in the
 * caller's transaction around load, lifecycle, write, record (service_effects.c). Applied
 * events, PATCHes and creations get history rows ("event", "patch", "create"); the
 * scheduler's entries due are dispatched here to tickets, follow-up tasks and plans.
 *
 * Agenda: a ticket's next instant (lifecycle_next_instant) is stored with the ticket and
 * mirrored in the agenda as (AGENDA_TICKET, id). The agenda changes only once the
 * operation's savepoint is released, and a failed release puts the old entry back, so
 * memory never runs ahead of the store. (A failed commit of the daemon's group
 * transaction is the daemon's to repair: it reloads the agenda from the store.) */
#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "metrics.h"
#include "payload.h"
#include "recipient.h"
#include "record.h"
#include "service_internal.h"
#include "store.h"

/* Open tickets re-chosen per batch on reload: read in three statements, written back in
 * one pipeline (store_ticket_load_open, store_ticket_rewrite). */
#define RELOAD_BATCH 256
/* The source of a ticket posted without one, so that an external_id alone still makes
 * intake idempotent. */
#define DEFAULT_SOURCE "api"

void service_set_observer(struct service *svc, service_observer_fn *fn, void *userdata)
{
    svc->observer = fn;
    svc->observer_data = userdata;
}

void service_set_clock(struct service *svc, const struct budget_clock *clock)
{
    svc->clock = clock;
}

int service_new(const struct conf *conf, struct store *store, struct agenda *agenda,
                struct metrics *metrics, struct service **ret, struct slad_error *reterr)
{
    struct service *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    svc->conf = conf;
    svc->store = store;
    svc->agenda = agenda;
    svc->metrics = metrics;
    effects_init(&svc->fx);
    effects_init(&svc->ffx);
    *ret = svc;
    return 0;
}

void service_free(struct service *svc)
{
    if (!svc)
        return;
    effects_done(&svc->fx);
    effects_done(&svc->ffx);
    free(svc->changes);
    free(svc);
}

/* Remember that ticket t changed (its status and updated_at now), once per ticket: the
 * daemon tells the console's streams after the commit. Never fails the operation: past
 * SERVICE_CHANGES_MAX, or out of memory, the list says "too many" instead. */
static void note_change(struct service *svc, const struct ticket *t)
{
    for (size_t i = 0; i < svc->n_changes; i++) {
        if (svc->changes[i].id == t->id) {
            svc->changes[i].status = t->status;
            svc->changes[i].updated_ms = t->updated_at_ms;
            return;
        }
    }
    if (svc->changes_overflow)
        return;
    if (svc->n_changes >= SERVICE_CHANGES_MAX) {
        svc->changes_overflow = true;
        return;
    }
    if (!svc->changes) {
        svc->changes = malloc(SERVICE_CHANGES_MAX * sizeof(*svc->changes));
        if (!svc->changes) {
            svc->changes_overflow = true;
            return;
        }
    }
    svc->changes[svc->n_changes++] = (struct service_change){t->id, t->status, t->updated_at_ms};
}

const struct service_change *service_changes(const struct service *svc, size_t *ret_n,
                                             bool *ret_overflow)
{
    *ret_n = svc->n_changes;
    *ret_overflow = svc->changes_overflow;
    return svc->changes;
}

void service_changes_clear(struct service *svc)
{
    svc->n_changes = 0;
    svc->changes_overflow = false;
}

const struct conf *service_conf(const struct service *svc)
{
    return svc->conf;
}

/* -ENOMEM with what was being done to ticket id. */
static int out_of_memory(struct slad_error *reterr, const char *doing, int64_t id)
{
    return slad_error_set(reterr, ENOMEM, "out of memory %s ticket %" PRId64, doing, id);
}

/* A ticket's effect: recorded, and a follow-up it asks for created as a task. */
static int record_ticket_effect(struct service *svc, const struct ticket *t, const struct effect *e,
                                int64_t now_ms, struct slad_error *reterr)
{
    int r = service_record_effect(svc, t, e, now_ms, reterr);
    if (r >= 0 && e->kind == EFFECT_FOLLOWUP)
        r = service_followup_from_effect(svc, t, e, now_ms, reterr);
    return r;
}

static int record_effects(struct service *svc, const struct ticket *t, int64_t now_ms,
                          struct slad_error *reterr)
{
    for (size_t i = 0; i < svc->fx.n; i++) {
        int r = record_ticket_effect(svc, t, &svc->fx.v[i], now_ms, reterr);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Mirror the ticket's next instant in the agenda and end the savepoint; on failure the
 * operation is rolled back and the agenda left as it was. */
static int finish_op(struct service *svc, const struct ticket *t, int64_t next_ms,
                     struct slad_error *reterr)
{
    int64_t id = t->id;
    int64_t old_ms = agenda_when(svc->agenda, AGENDA_TICKET, id);
    int r = agenda_schedule(svc->agenda, AGENDA_TICKET, id, next_ms);
    if (r < 0)
        return service_abort_op(
            svc, slad_error_set(reterr, -r, "agenda: cannot schedule ticket %" PRId64 ": %s", id,
                                strerror(-r)));
    r = store_release(svc->store, reterr);
    if (r < 0) {
        /* Moving or removing an entry never allocates, so this cannot fail. */
        agenda_schedule(svc->agenda, AGENDA_TICKET, id, old_ms);
        return service_abort_op(svc, r);
    }
    note_change(svc, t);
    return 0;
}

static int agenda_row(void *userdata, int64_t id, int64_t next_ms)
{
    struct service *svc = userdata;
    return agenda_schedule(svc->agenda, AGENDA_TICKET, id, next_ms);
}

int service_load_agenda(struct service *svc, struct slad_error *reterr)
{
    int r = store_agenda_load(svc->store, agenda_row, svc, reterr);
    if (r >= 0)
        r = service_followup_load_agenda(svc, reterr);
    if (r >= 0)
        r = service_plan_load_agenda(svc, reterr);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "agenda: out of memory loading the agenda");
    return r;
}

static bool same_string(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int check_severity(int severity, struct slad_error *reterr)
{
    if (severity < TICKET_SEVERITY_MIN || severity > TICKET_SEVERITY_MAX)
        return slad_error_set(reterr, EINVAL, "severity %d is out of range %d..%d", severity,
                              TICKET_SEVERITY_MIN, TICKET_SEVERITY_MAX);
    return 0;
}

/* The repeat-fault effect the lifecycle cannot produce (it does not see the store). */
static int record_repeat_fault(struct service *svc, const struct ticket *t, int64_t now_ms,
                               struct slad_error *reterr)
{
    const struct conf_repeat_fault *rf = &svc->conf->repeat_fault;
    struct effect e;
    memset(&e, 0, sizeof(e));
    e.kind = EFFECT_REPEAT_FAULT;
    e.at_ms = now_ms;
    e.event = "ticket.repeat_fault";
    e.notify = &rf->notify;
    int r = service_record_effect(svc, t, &e, now_ms, reterr);
    if (r == 0 && svc->metrics)
        metrics_escalation(svc->metrics, e.event);
    return r;
}

int service_ticket_create(struct service *svc, const struct ticket *in, int64_t now_ms,
                          struct ticket *ret, bool *ret_created, struct slad_error *reterr)
{
    if (!in->title || !in->title[0])
        return slad_error_set(reterr, EINVAL, "title is required");
    int r = check_severity(in->severity, reterr);
    if (r < 0)
        return r;
    if (in->reported_at_ms != SLAD_NO_TIME && in->reported_at_ms > now_ms + TICKET_FUTURE_SKEW_MS) {
        char buf[CIVIL_UTC_MAX];
        return slad_error_set(reterr, EINVAL,
                              "reported_at: '%s' is more than 5 minutes in the future",
                              civil_utc_format(in->reported_at_ms, buf, sizeof(buf)));
    }
    struct ticket t;
    if (ticket_copy(&t, in) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    /* What the service sets, whatever the request said. */
    t.id = 0;
    t.status = TICKET_OPEN;
    t.held_from = TICKET_OPEN;
    t.n_clocks = 0;
    t.reopen_count = 0;
    t.repeat_count = 0;
    t.reminders_fired = 0;
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        t.event_last_ms[e] = SLAD_NO_TIME;
    t.created_at_ms = now_ms;
    t.updated_at_ms = now_ms;
    /* Within the allowed clock skew a report from the future happened now. */
    if (t.reported_at_ms == SLAD_NO_TIME || t.reported_at_ms > now_ms)
        t.reported_at_ms = now_ms;
    if (ticket_set_string(&t.policy, NULL) < 0 ||
        (!t.source && ticket_set_string(&t.source, DEFAULT_SOURCE) < 0)) {
        ticket_done(&t);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }

    r = store_savepoint(svc->store, reterr);
    if (r < 0)
        goto out;
    if (t.external_id) {
        int64_t id;
        r = store_ticket_find(svc->store, t.source, t.external_id, &id, reterr);
        if (r == 0) {
            struct ticket existing;
            r = store_ticket_load(svc->store, id, &existing, reterr);
            if (r < 0) {
                r = service_abort_op(svc, r);
                goto out;
            }
            r = store_release(svc->store, reterr);
            if (r < 0) {
                ticket_done(&existing);
                r = service_abort_op(svc, r);
                goto out;
            }
            *ret = existing;
            *ret_created = false;
            goto out;
        }
        if (r != -ENOENT) {
            r = service_abort_op(svc, r);
            goto out;
        }
    }
    int64_t same = 0;
    if (t.device_serial && t.fault_code) {
        r = store_repeat_count(svc->store, t.device_serial, t.fault_code,
                               t.reported_at_ms - svc->conf->repeat_fault.window_ms,
                               t.reported_at_ms, &same, reterr);
        if (r < 0) {
            r = service_abort_op(svc, r);
            goto out;
        }
        t.repeat_count = (int)(same + 1); /* itself included */
    }
    effects_clear(&svc->fx);
    r = lifecycle_create(svc->conf, &t, now_ms, &svc->fx, reterr);
    if (r < 0) {
        r = service_abort_op(svc, r);
        goto out;
    }
    int64_t next_ms = lifecycle_next_instant(svc->conf, &t, now_ms);
    r = store_ticket_insert(svc->store, &t, next_ms, reterr);
    if (r < 0) {
        r = service_abort_op(svc, r);
        goto out;
    }
    r = service_history_add(svc, t.id, now_ms, now_ms, "create", record_create(&t), false, reterr);
    if (r >= 0)
        r = record_effects(svc, &t, now_ms, reterr);
    /* Every ticket at or beyond the count: the 4th repair of a device is no less a repeat
     * than the 3rd. */
    if (r >= 0 && t.repeat_count > 0 && t.repeat_count >= svc->conf->repeat_fault.count)
        r = record_repeat_fault(svc, &t, now_ms, reterr);
    if (r < 0) {
        r = service_abort_op(svc, r);
        goto out;
    }
    r = finish_op(svc, &t, next_ms, reterr);
    if (r < 0)
        goto out;
    service_count_effects(svc, &t, &svc->fx);
    *ret = t;
    *ret_created = true;
    return 0;
out:
    ticket_done(&t);
    return r;
}

int service_ticket_get(struct service *svc, int64_t id, struct ticket *ret,
                       struct slad_error *reterr)
{
    return store_ticket_load(svc->store, id, ret, reterr);
}

/* Set a string field; *changed when the value differs. */
static int patch_string(char **field, const char *value, bool *changed)
{
    if (same_string(*field, value))
        return 0;
    *changed = true;
    return ticket_set_string(field, value);
}

/* Apply p to t; *matched when a field that policies match on changed, *moved when the
 * appointment did. */
static int patch_apply(struct ticket *t, const struct ticket_patch *p, bool *matched, bool *moved,
                       struct slad_error *reterr)
{
    int r = 0;
    if (p->has_severity) {
        r = check_severity(p->severity, reterr);
        if (r < 0)
            return r;
        if (t->severity != p->severity) {
            t->severity = p->severity;
            *matched = true;
        }
    }
    bool unused = false;
    if ((p->has_grade && patch_string(&t->grade, p->grade, matched) < 0) ||
        (p->has_region && patch_string(&t->region, p->region, matched) < 0) ||
        (p->has_team && patch_string(&t->team, p->team, matched) < 0) ||
        (p->has_assignee && patch_string(&t->assignee, p->assignee, &unused) < 0))
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if (p->has_appointment_at && t->appointment_at_ms != p->appointment_at_ms) {
        t->appointment_at_ms = p->appointment_at_ms;
        *moved = true;
    }
    for (size_t i = 0; i < p->n_labels; i++) {
        const struct ticket_label *l = &p->labels[i];
        if (same_string(ticket_label(t, l->key), l->value))
            continue;
        r = ticket_set_label(t, l->key, l->value);
        if (r == -E2BIG)
            return slad_error_set(reterr, EINVAL, "labels: a ticket has at most %d labels",
                                  TICKET_MAX_LABELS);
        if (r < 0)
            return slad_error_set(reterr, ENOMEM, "out of memory");
        *matched = true;
    }
    for (size_t k = 0; k < TICKET_TEXT_COUNT; k++)
        if (p->has_text[k] && patch_string(ticket_text_field(t, k), p->text[k], &unused) < 0)
            return slad_error_set(reterr, ENOMEM, "out of memory");
    return 0;
}

int service_ticket_patch(struct service *svc, int64_t id, const struct ticket_patch *patch,
                         int64_t now_ms, struct ticket *ret, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct ticket t;
    r = store_ticket_load_for_update(svc->store, id, &t, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    bool matched = false, moved = false;
    r = patch_apply(&t, patch, &matched, &moved, reterr);
    if (r < 0)
        goto fail;
    t.updated_at_ms = now_ms;
    effects_clear(&svc->fx);
    /* A stopped ticket keeps the policy it was measured under (reports stay true). */
    if (matched && ticket_status_is_open(t.status))
        r = lifecycle_rechoose(svc->conf, &t, now_ms, &svc->fx);
    if (moved)
        lifecycle_appointment_changed(&t, now_ms);
    if (r >= 0)
        r = lifecycle_advance(svc->conf, &t, now_ms, &svc->fx);
    if (r < 0) {
        r = out_of_memory(reterr, "patching", t.id);
        goto fail;
    }
    int64_t next_ms = lifecycle_next_instant(svc->conf, &t, now_ms);
    r = store_ticket_update(svc->store, &t, next_ms, reterr);
    if (r >= 0)
        r = service_history_add(svc, t.id, now_ms, now_ms, "patch", record_patch(patch), false,
                                reterr);
    if (r >= 0)
        r = record_effects(svc, &t, now_ms, reterr);
    if (r < 0)
        goto fail;
    r = finish_op(svc, &t, next_ms, reterr);
    if (r < 0) {
        ticket_done(&t);
        return r;
    }
    service_count_effects(svc, &t, &svc->fx);
    *ret = t;
    return 0;
fail:
    ticket_done(&t);
    return service_abort_op(svc, r);
}

int service_ticket_event(struct service *svc, int64_t id, const struct ticket_event *in,
                         int64_t now_ms, struct ticket *ret, struct slad_error *reterr)
{
    if ((unsigned)in->type >= TICKET_EVENT_COUNT)
        return slad_error_set(reterr, EINVAL, "unknown event type %d", (int)in->type);
    struct ticket_event ev = *in;
    if (ev.at_ms == SLAD_NO_TIME)
        ev.at_ms = now_ms;
    if (ev.at_ms > now_ms + TICKET_FUTURE_SKEW_MS) {
        char buf[CIVIL_UTC_MAX];
        return slad_error_set(reterr, EINVAL, "at: '%s' is more than 5 minutes in the future",
                              civil_utc_format(ev.at_ms, buf, sizeof(buf)));
    }
    /* Within the allowed skew an event from the future happens now. */
    if (ev.at_ms > now_ms)
        ev.at_ms = now_ms;
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct ticket t;
    r = store_ticket_load_for_update(svc->store, id, &t, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    enum ticket_status from = t.status;
    effects_clear(&svc->fx);
    r = lifecycle_event(svc->conf, &t, &ev, now_ms, &svc->fx, reterr);
    if (r < 0)
        goto fail;
    t.updated_at_ms = now_ms;
    /* The repair a follow-up was to check was undone (reopen) or the ticket dropped
     * (cancel): its open tasks go; a reopened ticket gets new ones when resolved again. */
    if (ev.type == TICKET_EVENT_REOPEN || ev.type == TICKET_EVENT_CANCEL) {
        r = service_followup_cancel_for(svc, &t, ev.type == TICKET_EVENT_CANCEL, reterr);
        if (r < 0)
            goto fail;
    }
    int64_t next_ms = lifecycle_next_instant(svc->conf, &t, now_ms);
    r = store_ticket_update(svc->store, &t, next_ms, reterr);
    /* History in time order: what fell due before the event, the event, the rest. */
    size_t i = 0;
    for (; r >= 0 && i < svc->fx.n && svc->fx.v[i].at_ms < ev.at_ms; i++)
        r = record_ticket_effect(svc, &t, &svc->fx.v[i], now_ms, reterr);
    if (r >= 0)
        r = service_history_add(svc, t.id, ev.at_ms, now_ms, "event",
                                record_event(&ev, from, t.status), false, reterr);
    for (; r >= 0 && i < svc->fx.n; i++)
        r = record_ticket_effect(svc, &t, &svc->fx.v[i], now_ms, reterr);
    if (r < 0)
        goto fail;
    r = finish_op(svc, &t, next_ms, reterr);
    if (r < 0) {
        ticket_done(&t);
        return r;
    }
    service_count_effects(svc, &t, &svc->fx);
    *ret = t;
    return 0;
fail:
    ticket_done(&t);
    return service_abort_op(svc, r);
}

/* Bring ticket id to now_ms: fire what is due, record it, re-schedule. A ticket that no
 * longer exists is dropped from the agenda. */
static int fire_ticket(struct service *svc, int64_t id, int64_t now_ms, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct ticket t;
    r = store_ticket_load_for_update(svc->store, id, &t, reterr);
    if (r == -ENOENT)
        return store_release(svc->store, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    effects_clear(&svc->fx);
    r = lifecycle_advance(svc->conf, &t, now_ms, &svc->fx);
    if (r < 0) {
        ticket_done(&t);
        return service_abort_op(svc, out_of_memory(reterr, "escalating", id));
    }
    int64_t next_ms = lifecycle_next_instant(svc->conf, &t, now_ms);
    /* After an advance nothing is due at now; should the engine ever say otherwise, the
     * entry waits a millisecond instead of spinning in this batch. */
    if (next_ms <= now_ms)
        next_ms = now_ms + 1;
    r = store_ticket_update(svc->store, &t, next_ms, reterr);
    if (r >= 0)
        r = record_effects(svc, &t, now_ms, reterr);
    if (r < 0) {
        ticket_done(&t);
        return service_abort_op(svc, r);
    }
    r = finish_op(svc, &t, next_ms, reterr);
    if (r >= 0)
        service_count_effects(svc, &t, &svc->fx);
    ticket_done(&t);
    return r;
}

int service_fire_due(struct service *svc, int64_t now_ms, size_t max, size_t *ret_done,
                     struct slad_error *reterr)
{
    size_t done = 0;
    struct agenda_entry e;
    while (done < max && agenda_pop_due(svc->agenda, now_ms, &e)) {
        done++;
        int r;
        switch (e.kind) {
        case AGENDA_TICKET:
            r = fire_ticket(svc, e.id, now_ms, reterr);
            break;
        case AGENDA_FOLLOWUP:
            r = service_followup_fire(svc, e.id, now_ms, reterr);
            break;
        case AGENDA_PLAN:
            r = service_plan_fire(svc, e.id, now_ms, reterr);
            break;
        default:
            continue; /* notifications have their own timer (daemon/deliver.c) */
        }
        if (r < 0) {
            /* Keep the entry so that the next round tries again. */
            agenda_schedule(svc->agenda, e.kind, e.id, e.at_ms);
            return r;
        }
        if (svc->metrics)
            metrics_timer_lag(svc->metrics, (double)(now_ms - e.at_ms));
    }
    *ret_done = done;
    return 0;
}

/* Re-choose the policy of the n tickets of a batch (loaded with their rows locked) under
 * the current conf at now_ms, and write them back together (store_ticket_rewrite). */
static int rechoose_batch(struct service *svc, struct ticket *tickets, size_t n, int64_t now_ms,
                          struct slad_error *reterr)
{
    int64_t next_ms[RELOAD_BATCH] = {0};
    for (size_t i = 0; i < n; i++) {
        struct ticket *t = &tickets[i];
        effects_clear(&svc->fx);
        if (lifecycle_rechoose(svc->conf, t, now_ms, &svc->fx) < 0)
            return out_of_memory(reterr, "re-choosing the policy of", t->id);
        next_ms[i] = lifecycle_next_instant(svc->conf, t, now_ms);
        int r = record_effects(svc, t, now_ms, reterr);
        if (r < 0)
            return r;
        service_count_effects(svc, t, &svc->fx);
    }
    int r = store_ticket_rewrite(svc->store, tickets, next_ms, n, reterr);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        if (agenda_schedule(svc->agenda, AGENDA_TICKET, tickets[i].id, next_ms[i]) < 0)
            r = slad_error_set(reterr, ENOMEM, "agenda: out of memory");
        else
            note_change(svc, &tickets[i]);
    }
    return r;
}

int service_set_conf(struct service *svc, const struct conf *conf, int64_t now_ms,
                     struct slad_error *reterr)
{
    const struct conf *old = svc->conf;
    /* One savepoint for the whole reload: either every open ticket follows the new config
     * or none does. */
    struct ticket *batch = calloc(RELOAD_BATCH, sizeof(*batch));
    if (!batch)
        return slad_error_set(reterr, ENOMEM, "out of memory reloading the config");
    int r = store_savepoint(svc->store, reterr);
    if (r < 0) {
        free(batch);
        return r;
    }
    svc->conf = conf;
    int64_t after_id = 0;
    size_t n = RELOAD_BATCH;
    while (r >= 0 && n == RELOAD_BATCH) {
        r = store_ticket_load_open(svc->store, after_id, batch, RELOAD_BATCH, &n, reterr);
        if (r < 0)
            break;
        r = rechoose_batch(svc, batch, n, now_ms, reterr);
        if (n)
            after_id = batch[n - 1].id;
        for (size_t i = 0; i < n; i++)
            ticket_done(&batch[i]);
    }
    free(batch);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r < 0) {
        store_rollback_to(svc->store, NULL);
        svc->conf = old;
        /* The agenda moved with the batches written so far: take it back from the store
         * (entries left for tickets without an instant are harmless: firing them finds
         * nothing due and drops them). */
        service_load_agenda(svc, NULL);
        return r;
    }
    return 0;
}

int service_counts(struct service *svc, struct service_counts *ret)
{
    struct gauges c;
    int r = store_gauges(svc->store, &c, NULL);
    if (r < 0)
        return r;
    struct service_counts out = {0};
    for (int s = 0; s < TICKET_STATUS_COUNT; s++)
        if (ticket_status_is_open(s))
            out.open_tickets += c.tickets[s];
    out.breached_clocks = c.breached_clocks;
    out.pending_notifications = c.notifications[OUTBOX_PENDING] + c.notifications[OUTBOX_SENDING];
    out.timers = agenda_size(svc->agenda);
    *ret = out;
    return 0;
}
