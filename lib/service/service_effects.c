/* service_effects.c - recording what an operation did (service_internal.h): every effect
 * of the lifecycle becomes one history row (kind = effect_kind_name, data = its record
 * text, "late" when it is recorded more than LATE_MS after its instant), and every
 * notifying effect (step, reminder, repeat fault, a task's notices) one outbox row per
 * resolved recipient (recipient.h), keyed so that the same firing is never queued twice
 * (plus "/<contact>" when a role resolved to a contact, and "/<channel>" when the contact
 * is reached on several channels: each its own row and key):
 *     t<id>/<clock>/step<n>/r<repeat>/<recipient>          escalation step
 *     t<id>/reminder<n>/<appointment unix s>/<recipient>   appointment reminder
 *     t<id>/repeat_fault/<recipient>                       repeat fault
 *     f<id>/due/<recipient>, f<id>/step<n>/<recipient>,    a follow-up task's notices
 *     f<id>/unsatisfied/<recipient>
 * Recipients are resolved when the effect happens: the row names its channel, and its
 * payload the contact and address; an unreachable recipient is a dead row with the
 * reason. "oncall:SCHEDULE" is the person on call at now_ms, the instant the effect is
 * recorded (a step fires then), with the stored overrides that hold at that instant. The files of
 * the service all record through here; this file calls none of them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "payload.h"
#include "recipient.h"
#include "record.h"
#include "service_internal.h"
#include "store.h"
#include "store_schedule.h"

/* An effect recorded later than this after its instant is marked late. */
#define LATE_MS 1000

/* A history row with text (record.h; taken; NULL: memory ran out) as its data. */
int service_history_add(struct service *svc, int64_t ticket_id, int64_t at_ms, int64_t now_ms,
                        const char *kind, char *text, bool late, struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, ENOMEM, "out of memory recording history");
    struct history_entry h = {
        .ticket_id = ticket_id,
        .at_ms = at_ms,
        .created_ms = now_ms,
        .kind = kind,
        .data = text,
        .late = late,
    };
    int r = store_history_add(svc->store, &h, NULL, reterr);
    free(text);
    return r;
}

/* The idempotency key of effect e for recipient; -EINVAL if it does not fit. */
static int effect_key(const struct ticket *t, const struct effect *e, const char *recipient,
                      char *buf, size_t size, struct slad_error *reterr)
{
    int n;
    switch (e->kind) {
    case EFFECT_STEP:
        n = snprintf(buf, size, "t%" PRId64 "/%s/step%d/r%u/%s", t->id, e->clock, e->step,
                     e->repeat, recipient);
        break;
    case EFFECT_REMINDER: {
        /* The appointment is part of the key: a moved appointment reminds again. */
        int64_t appointment_s = t->appointment_at_ms / 1000;
        n = snprintf(buf, size, "t%" PRId64 "/reminder%d/%" PRId64 "/%s", t->id, e->step,
                     appointment_s, recipient);
        break;
    }
    case EFFECT_FOLLOWUP_DUE:
        n = snprintf(buf, size, "f%" PRId64 "/due/%s", e->followup_id, recipient);
        break;
    case EFFECT_FOLLOWUP_STEP:
        n = snprintf(buf, size, "f%" PRId64 "/step%d/%s", e->followup_id, e->step, recipient);
        break;
    case EFFECT_FOLLOWUP_DONE:
        n = snprintf(buf, size, "f%" PRId64 "/%s/%s", e->followup_id, e->outcome, recipient);
        break;
    default:
        n = snprintf(buf, size, "t%" PRId64 "/repeat_fault/%s", t->id, recipient);
        break;
    }
    if (n < 0 || (size_t)n >= size)
        return slad_error_set(reterr, EINVAL, "idempotency key for recipient '%s' is too long",
                              recipient);
    return 0;
}

/* Append "/part" to key; -EINVAL when it no longer fits. */
static int key_append(char *key, size_t size, const char *part, struct slad_error *reterr)
{
    size_t len = strlen(key);
    int n = snprintf(key + len, size - len, "/%s", part);
    if (n < 0 || (size_t)n >= size - len)
        return slad_error_set(reterr, EINVAL, "idempotency key for '%s' is too long", part);
    return 0;
}

/* One outbox row for resolved recipient rc of effect e: pending on its channel, or dead
 * with the reason it cannot be reached (never dropped, so that the API shows it). The key
 * names the contact when a role resolved to one, so that two supervisors get two rows. */
static int queue_one(struct service *svc, const struct ticket *t, const struct effect *e,
                     const struct recipient *rc, bool late, int64_t now_ms,
                     struct slad_error *reterr)
{
    char key[KEY_MAX];
    int r = effect_key(t, e, rc->text, key, sizeof(key), reterr);
    if (r < 0)
        return r;
    const char *contact = rc->contact ? rc->contact->name : NULL;
    const char *channel = rc->channel ? rc->channel->name : NULL;
    if (contact && strncmp(rc->text, "contact:", 8) != 0)
        r = key_append(key, sizeof(key), contact, reterr);
    if (r == 0 && rc->several_channels && channel)
        r = key_append(key, sizeof(key), channel, reterr);
    if (r < 0)
        return r;
    bool dead = rc->error[0] || !rc->channel;
    /* Quiet hours hold a row back to the contact's next opening; a grouped channel holds
     * it for its window, so that the storm that follows joins it (daemon/deliver_job.c). */
    const char *event = effect_event(e);
    int64_t due = recipient_reachable_at(svc->conf, rc, t->policy, event, now_ms);
    bool deferred = due > now_ms;
    int64_t window = rc->channel ? rc->channel->group_window_ms : 0;
    if (window > 0 && due - now_ms < window)
        due = now_ms + window;
    /* The console's link for the recipient (daemon.public_url). */
    char link[ACTION_LINK_URL_MAX];
    link[0] = '\0';
    if (!dead && (r = service_link_for(svc, t, rc, now_ms, link, sizeof(link), reterr)) < 0)
        return r;
    /* The payload keeps what the renderer needs besides the ticket as it is at delivery. */
    char *payload = payload_encode(t, e, late, rc, link[0] ? link : NULL);
    if (!payload)
        return slad_error_set(reterr, ENOMEM, "out of memory queueing a notification");
    struct outbox_row o = {
        .ticket_id = t->id,
        .event = event,
        .channel = channel,
        .recipient = rc->text,
        .contact = contact,
        .idempotency_key = key,
        .state = dead ? OUTBOX_DEAD : OUTBOX_PENDING,
        .attempts = 0,
        .next_attempt_ms = dead ? SLAD_NO_TIME : due,
        .last_error = dead ? (rc->error[0] ? rc->error : "no channel reaches the recipient") : NULL,
        .payload = payload,
        .created_ms = now_ms,
        .sent_ms = SLAD_NO_TIME,
        .address = rc->address,
        .deferred = deferred && !dead,
    };
    r = store_outbox_add(svc->store, &o, NULL, NULL, reterr);
    free(payload);
    return r;
}

struct override_sink {
    struct schedule_override *v;
    size_t n, cap;
};

static int override_add(void *userdata, const struct schedule_override *o)
{
    struct override_sink *k = userdata;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        struct schedule_override *v = realloc(k->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = *o;
    return 0;
}

int service_overrides_load(struct service *svc, const char *schedule, int64_t from_ms,
                           int64_t to_ms, struct schedule_override **ret, size_t *ret_n,
                           struct slad_error *reterr)
{
    struct override_sink k = {NULL, 0, 0};
    int r = store_override_list(svc->store, schedule, from_ms, to_ms, 0, SERVICE_OVERRIDES_MAX + 1,
                                override_add, &k, reterr);
    if (r == -ENOMEM)
        r = slad_error_set(reterr, ENOMEM, "out of memory reading overrides");
    else if (r == 0 && k.n > SERVICE_OVERRIDES_MAX)
        r = slad_error_set(reterr, E2BIG,
                           "more than %d overrides overlap the time asked about; delete old ones",
                           SERVICE_OVERRIDES_MAX);
    if (r < 0) {
        free(k.v);
        return r;
    }
    *ret = k.v;
    *ret_n = k.n;
    return 0;
}

/* One history row for e and, when it notifies, one outbox row per resolved recipient
 * (recipient.h: roles become their contacts, the team's group channel is added). */
int service_record_effect(struct service *svc, const struct ticket *t, const struct effect *e,
                          int64_t now_ms, struct slad_error *reterr)
{
    bool late = now_ms - e->at_ms > LATE_MS;
    int r = t->id ? service_history_add(svc, t->id, e->at_ms, now_ms, effect_kind_name(e->kind),
                                        record_effect(t, e, late), late, reterr)
                  : 0;
    if (r < 0 || !effect_notifies(e))
        return r;
    /* A task falling due tells its owner. */
    char *owner[1] = {(char *)e->owner};
    struct conf_strings owner_list = {owner, 1};
    const struct conf_strings *notify =
        e->kind == EFFECT_FOLLOWUP_DUE && e->owner ? &owner_list : e->notify;
    struct recipient_oncall oncall = {now_ms, NULL, 0};
    struct schedule_override *ov = NULL;
    if (recipient_needs_oncall(svc->conf, t, notify)) {
        r = service_overrides_load(svc, NULL, now_ms, now_ms + 1, &ov, &oncall.n_overrides, reterr);
        if (r < 0)
            return r;
        oncall.overrides = ov;
    }
    /* Not zeroed: recipient_resolve clears each entry it fills, and a burst step paid
     * 18k instructions to zero the 64 (18 KB) here. */
    struct recipient *rcpt = malloc(RECIPIENT_MAX * sizeof(*rcpt));
    if (!rcpt) {
        free(ov);
        return slad_error_set(reterr, ENOMEM, "out of memory resolving recipients");
    }
    size_t n = 0;
    recipient_resolve(svc->conf, t, notify, &oncall, rcpt, RECIPIENT_MAX, &n);
    for (size_t i = 0; i < n && r >= 0; i++)
        r = queue_one(svc, t, e, &rcpt[i], late, now_ms, reterr);
    free(rcpt);
    free(ov);
    return r;
}

/* Count what the operation did, once it is in the store. */
void service_count_effects(struct service *svc, const struct ticket *t, const struct effects *fx)
{
    for (size_t i = 0; svc->observer && i < fx->n; i++)
        svc->observer(svc->observer_data, t, &fx->v[i]);
    if (!svc->metrics)
        return;
    for (size_t i = 0; i < fx->n; i++) {
        const struct effect *e = &fx->v[i];
        if (e->kind == EFFECT_CLOCK && e->clock_state == SLACLOCK_BREACHED)
            metrics_breach(svc->metrics, t->policy ? t->policy : "", e->clock);
        else if (effect_notifies(e))
            metrics_escalation(svc->metrics, effect_event(e));
    }
}

/* Undo the operation; r (the error that made us give up) is returned. */
int service_abort_op(struct service *svc, int r)
{
    store_rollback_to(svc->store, NULL);
    return r;
}
