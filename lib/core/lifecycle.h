/* lifecycle.h - a ticket's life under its policy: creation, events, the passing of time,
 * policy changes. Pure: the caller passes the config and "now", and gets back the
 * effects (clock changes, escalation steps, reminders, follow-ups to create) to record
 * and deliver. The daemon and the simulator drive the same functions. */
#ifndef SLAD_LIFECYCLE_H
#define SLAD_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "ticket.h"

enum effect_kind {
    EFFECT_POLICY,       /* the ticket's policy was chosen or changed (policy) */
    EFFECT_CLOCK,        /* a clock changed state (clock, clock_state) */
    EFFECT_STEP,         /* an escalation step fired (clock, step, repeat, event, notify) */
    EFFECT_REMINDER,     /* an appointment reminder fired (step = reminder number, notify) */
    EFFECT_FOLLOWUP,     /* a follow-up is to be created (name, due_at, deadline_at, owner) */
    EFFECT_REPEAT_FAULT, /* the ticket reached the repeat-fault count (notify) */
    /* A follow-up task's own life (followup.h; followup_id set): */
    EFFECT_FOLLOWUP_DUE,  /* it fell due: the owner is told (notify) */
    EFFECT_FOLLOWUP_STEP, /* a step of its ladder fired (step, notify) */
    EFFECT_FOLLOWUP_DONE, /* it was completed (name, outcome; notify when unsatisfied) */
    /* A maintenance plan's (plan_id set): */
    EFFECT_PLAN_STOPPED, /* no next occurrence could be found (name, detail): no more visits */
};

const char *effect_kind_name(enum effect_kind kind);

struct effect {
    enum effect_kind kind;
    int64_t at_ms;     /* the instant it was due (lateness = now - at_ms) */
    const char *event; /* notification event: "sla.warning", "sla.breach", ...; static */
    char clock[SLACLOCK_NAME_MAX];
    enum slaclock_state clock_state;
    int step;                          /* 1-based step (or reminder) number */
    unsigned repeat;                   /* 0 for the first firing of a step */
    const struct conf_strings *notify; /* recipients as written; borrowed from the conf */
    const char *name;                  /* policy or follow-up name; borrowed from the conf */
    const char *owner;                 /* follow-up owner role; borrowed */
    int64_t due_at_ms, deadline_at_ms; /* follow-up */
    int64_t followup_id;               /* EFFECT_FOLLOWUP_* */
    const char *outcome;               /* EFFECT_FOLLOWUP_DONE; static */
    int64_t plan_id;                   /* EFFECT_PLAN_STOPPED */
    const char *detail;                /* EFFECT_PLAN_STOPPED: why, for a person; borrowed */
};

/* The notification event of e: its own, else the one of its kind (reminders, repeat
 * faults; "sla.escalation" for the rest). */
const char *effect_event(const struct effect *e);

/* Whether e tells someone (steps, reminders, repeat faults, a task falling due or its
 * steps, an unsatisfied outcome): the service queues an outbox row per recipient. */
bool effect_notifies(const struct effect *e);

struct effects {
    struct effect *v;
    size_t n, cap;
};

void effects_init(struct effects *e);
void effects_clear(struct effects *e);
void effects_done(struct effects *e);
/* Append an effect (zeroed but for kind and at_ms); NULL when memory runs out. An effect
 * is what the store records and the outbox delivers (an escalation, a notice): the
 * caller fails the whole operation with -ENOMEM, never goes on without it. */
struct effect *effects_add(struct effects *out, enum effect_kind kind, int64_t at_ms);

/* An event as posted: type, instant and who/why. */
struct ticket_event {
    enum ticket_event_type type;
    int64_t at_ms;
    const char *by, *note;
    const char *assignee; /* dispatch */
    const char *reason;   /* hold */
};

/* Out of memory. The functions below that change a ticket and append effects return
 * -ENOMEM when an effect cannot be appended (those with reterr say "out of memory" in
 * it): the ticket and out are then half-changed and must be thrown away, so that the
 * operation fails whole and nothing of it is stored (a ticket whose step is marked fired
 * but whose escalation was never recorded would never escalate). */

/* A new ticket (fields filled, status open) enters at now_ms: choose its policy, create
 * its clocks, start those that start at creation from reported_at, and fire everything
 * already due (a ticket reported long ago escalates at once). */
int lifecycle_create(const struct conf *conf, struct ticket *t, int64_t now_ms, struct effects *out,
                     struct slad_error *reterr);

/* Apply ev (ev->at_ms <= now_ms): refuse it with -EBUSY and the allowed events when the
 * status table forbids it, with -TICKET_EORDER when it is dated before the ticket's last
 * event (ticket_event_check_order); else move the status, start/stop/pause/resume clocks, create
 * follow-ups, and fire what became due. */
int lifecycle_event(const struct conf *conf, struct ticket *t, const struct ticket_event *ev,
                    int64_t now_ms, struct effects *out, struct slad_error *reterr);

/* Fire everything due at or before now_ms, in order of instant. 0 or -ENOMEM. */
int lifecycle_advance(const struct conf *conf, struct ticket *t, int64_t now_ms,
                      struct effects *out);

/* Choose the policy again (after a PATCH of a matched field or a config reload): clocks
 * keep their elapsed time and fired steps, take the new targets, clocks the new policy
 * lacks are dropped, new ones start from their start event if it already happened.
 * 0 or -ENOMEM. */
int lifecycle_rechoose(const struct conf *conf, struct ticket *t, int64_t now_ms,
                       struct effects *out);

/* The appointment moved (or was set): reminders not yet due are re-armed for it. */
void lifecycle_appointment_changed(struct ticket *t, int64_t now_ms);

/* The next instant at which lifecycle_advance has work for t; INT64_MAX when none. */
int64_t lifecycle_next_instant(const struct conf *conf, const struct ticket *t, int64_t now_ms);

/* The policy of t in conf (by name), or NULL. */
const struct conf_policy *lifecycle_policy(const struct conf *conf, const struct ticket *t);

#endif
