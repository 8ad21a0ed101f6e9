/* service_internal.h - what the files of the service share. Not for use outside them.
 * They call each other one way only, top to bottom:
 *     service_intake.c (alerts from monitoring) -> service.c (its ticket operations)
 *     service.c (tickets, the scheduler's dispatch), service_task_done.c, service_query.c,
 *     service_notification.c, service_schedule.c
 *       -> service_plan.c (plans) -> service_followup.c (follow-up tasks)
 *       -> service_plan_rules.c (what a plan's tasks run under)
 *       -> service_effects.c (recording effects) */
#ifndef SLAD_SERVICE_INTERNAL_H
#define SLAD_SERVICE_INTERNAL_H

#include <stdint.h>

#include "agenda.h"
#include "conf.h"
#include "followup.h"
#include "lifecycle.h"
#include "plan.h"
#include "schedule.h"
#include "service.h"
#include "ticket.h"

/* Longest idempotency key: clock names and recipients are short config strings. */
#define KEY_MAX 512

struct service {
    const struct conf *conf;
    struct store *store;
    struct agenda *agenda;
    struct metrics *metrics;       /* may be NULL */
    struct effects fx;             /* reused by every operation */
    struct effects ffx;            /* a follow-up task's, made while fx is being recorded */
    service_observer_fn *observer; /* told of each effect once it is recorded */
    void *observer_data;
    const struct budget_clock *clock; /* times plan expansions; NULL: unlimited */
    /* Tickets changed since service_changes_clear (service.c: note_change). */
    struct service_change *changes; /* SERVICE_CHANGES_MAX, allocated at the first */
    size_t n_changes;
    bool changes_overflow;
};

/* ---- recording (service_effects.c) ---- */

/* A history row of ticket_id with text (a record.h text, taken; NULL: memory ran out). */
int service_history_add(struct service *svc, int64_t ticket_id, int64_t at_ms, int64_t now_ms,
                        const char *kind, char *text, bool late, struct slad_error *reterr);
/* One history row for e (on t, unless t->id is 0: a plan's task) and, when it notifies,
 * one outbox row per resolved recipient. */
int service_record_effect(struct service *svc, const struct ticket *t, const struct effect *e,
                          int64_t now_ms, struct slad_error *reterr);
/* The stored overrides of schedule (NULL: of every schedule) that overlap [from_ms,
 * to_ms), in id order, into *ret (malloc'd; free it) and *ret_n; -E2BIG over
 * SERVICE_OVERRIDES_MAX. */
#define SERVICE_OVERRIDES_MAX 4096
int service_overrides_load(struct service *svc, const char *schedule, int64_t from_ms,
                           int64_t to_ms, struct schedule_override **ret, size_t *ret_n,
                           struct slad_error *reterr);
/* ---- the console's links (service_links.c) ---- */

/* The link of a notification to rc about t at now_ms into link (size bytes; "" when
 * none): an action link (a new code, stored hashed) for a person, the ticket's page for a
 * channel, none for the customer or without daemon.public_url. */
#define ACTION_LINK_URL_MAX 640
struct recipient;
int service_link_for(struct service *svc, const struct ticket *t, const struct recipient *rc,
                     int64_t now_ms, char *link, size_t size, struct slad_error *reterr);
/* The hex SHA-256 of code, as the store keeps it; -EIO. */
#define ACTION_HASH_HEX 65
int service_code_hash(const char *code, char hex[ACTION_HASH_HEX]);

/* Tell the observer and the metrics about fx once it is recorded. */
void service_count_effects(struct service *svc, const struct ticket *t, const struct effects *fx);
/* Roll back the operation's savepoint; returns r. */
int service_abort_op(struct service *svc, int r);

/* ---- follow-up tasks (service_followup.c) ---- */

/* Record a follow-up effect of the lifecycle (EFFECT_FOLLOWUP) as a task of ticket t;
 * one that exists already (same name and generation) is left alone. */
int service_followup_from_effect(struct service *svc, const struct ticket *t,
                                 const struct effect *e, int64_t now_ms, struct slad_error *reterr);
/* Insert task f (f->id set here) whose notices go through t (a ticket, or a plan's
 * pseudo ticket with id 0), under ladder and cal (its rules: followup_default_ladder()
 * for a plan's task), fire what is due at now_ms, and schedule the rest. -EEXIST when it
 * exists already. */
int service_followup_add(struct service *svc, struct followup *f, const struct ticket *t,
                         const struct conf_ladder *ladder, const struct calendar *cal,
                         int64_t now_ms, struct slad_error *reterr);
/* Ticket t was reopened: its open tasks that followed the undone repair (from `resolve`
 * or `close`, of earlier generations) are cancelled and leave the agenda; with all (the
 * ticket was cancelled), every open task is. */
int service_followup_cancel_for(struct service *svc, const struct ticket *t, bool all,
                                struct slad_error *reterr);
/* Complete task id with outcome inside the caller's savepoint: its row, the notices its
 * outcome asks for (an unsatisfied customer's), the effects counted; *ret the task after.
 * What follows a plan's visit is the caller's (service_task_done.c). */
int service_followup_close(struct service *svc, int64_t id, const char *outcome, const char *note,
                           const char *by, int64_t now_ms, struct followup *ret,
                           struct slad_error *reterr);
/* An agenda entry of a task fell due. */
int service_followup_fire(struct service *svc, int64_t id, int64_t now_ms,
                          struct slad_error *reterr);
int service_followup_load_agenda(struct service *svc, struct slad_error *reterr);

/* ---- what a plan's tasks run under (service_plan_rules.c) ---- */

/* The calendar of plan p under conf: its own when the config still has it, else the
 * catch-all policy's (the last policy), else 24x7. */
const struct calendar *service_plan_calendar(const struct conf *conf, const struct plan *p);
/* The pseudo ticket a plan's tasks notify through (title = the plan's name; its team,
 * assignee, customer and device; id 0) and the calendar their times count in. t is
 * initialised here; the caller ticket_done()s it. -ENOENT when the plan is gone. */
int service_plan_context(struct service *svc, int64_t plan_id, struct ticket *t,
                         const struct calendar **ret_cal, struct slad_error *reterr);
/* ---- maintenance plans (service_plan.c) ---- */

/* A task of a plan was completed: the plan's report task, when it asks for one. */
int service_plan_task_done(struct service *svc, const struct followup *f, int64_t now_ms,
                           struct slad_error *reterr);
/* An agenda entry of a plan fell due: create the occurrence's task, schedule the next. */
int service_plan_fire(struct service *svc, int64_t id, int64_t now_ms, struct slad_error *reterr);
int service_plan_load_agenda(struct service *svc, struct slad_error *reterr);

#endif
