/* service_plan.c - maintenance plans as a service (service_plan.h): CRUD for the API, the
 * occurrences fired from the agenda (AGENDA_PLAN, id) as follow-up tasks
 * (service_followup.c), and the report task after a visit.
 *
 * Exactly once. A plan's next occurrence is stored with it (plans.next_ms) in the same
 * savepoint as the task it creates, so a restart resumes at the first occurrence not yet
 * created; the unique (plan_id, name, due_ms) of the followups table is a second guard.
 * After downtime each missed occurrence is created (late) one agenda round at a time. */
#include "service_plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "service_internal.h"
#include "store.h"
#include "store_followup.h"
#include "store_plan.h"

#define VISIT_TASK  "visit"
#define REPORT_TASK "report"

/* Defaults and the checks that need the config. */
static int plan_complete(struct service *svc, struct plan *p, struct slad_error *reterr)
{
    if (p->calendar && !conf_find_calendar(svc->conf, p->calendar))
        return slad_error_set(reterr, EINVAL, "field 'calendar': no calendar '%s' in the config",
                              p->calendar);
    int r = 0;
    if (!p->calendar)
        r = plan_set_string(&p->calendar, calendar_name(service_plan_calendar(svc->conf, p)));
    if (r == 0 && !p->owner)
        r = plan_set_string(&p->owner, "assignee");
    if (r < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory completing a plan");
    return plan_validate(p, reterr);
}

/* Insert a task of plan p named name, due at due_ms, deadline within later. A task that
 * exists already (same plan, name and due instant) is left alone. */
static int add_task(struct service *svc, const struct plan *p, const char *name, int64_t due_ms,
                    const char *within, int64_t now_ms, struct slad_error *reterr)
{
    struct ticket t;
    const struct calendar *cal;
    int r = service_plan_context(svc, p->id, &t, &cal, reterr);
    if (r < 0) {
        ticket_done(&t);
        return r;
    }
    struct followup f;
    memset(&f, 0, sizeof(f));
    f.plan_id = p->id;
    snprintf(f.name, sizeof(f.name), "%s", name);
    snprintf(f.owner, sizeof(f.owner), "%s", p->owner ? p->owner : "assignee");
    f.created_ms = now_ms;
    f.due_ms = due_ms;
    f.deadline_ms = plan_deadline(within, cal, due_ms);
    f.done_ms = SLAD_NO_TIME;
    r = service_followup_add(svc, &f, &t, followup_default_ladder(), cal, now_ms, reterr);
    ticket_done(&t);
    return r == -EEXIST ? 0 : r;
}

/* Mirror p's next occurrence in the agenda. */
static int schedule(struct service *svc, const struct plan *p, struct slad_error *reterr)
{
    if (agenda_schedule(svc->agenda, AGENDA_PLAN, p->id, p->next_ms) < 0)
        return slad_error_set(reterr, ENOMEM, "agenda: out of memory scheduling plan %lld",
                              (long long)p->id);
    return 0;
}

/* p->next_ms for a plan whose rule, start, until or calendar is new at now_ms: its first
 * occurrence from then on, within one budget. Occurrences all past are fine (the plan
 * makes no task); none at all is a mistake (-EINVAL); -PLAN_ECOSTLY: too costly. */
static int first_occurrence(struct service *svc, struct plan *p, int64_t now_ms,
                            struct slad_error *reterr)
{
    const struct calendar *cal = service_plan_calendar(svc->conf, p);
    struct budget budget;
    budget_start(&budget, svc->clock, PLAN_BUDGET_NS);
    int r = plan_next_occurrence(p, cal, p->start_ms > now_ms ? p->start_ms : now_ms, &budget,
                                 &p->next_ms, reterr);
    int64_t first = p->next_ms;
    if (r == 0 && first == INT64_MAX && p->start_ms < now_ms)
        r = plan_next_occurrence(p, cal, p->start_ms, &budget, &first, reterr);
    if (r == 0 && first == INT64_MAX)
        r = slad_error_set(reterr, EINVAL,
                           "field 'rrule': '%s' has no occurrence from 'start' on (within "
                           "'until' and the rule's UNTIL or COUNT, before the year 2582)",
                           p->rrule);
    return r;
}

int service_plan_create(struct service *svc, struct plan *p, int64_t now_ms,
                        struct slad_error *reterr)
{
    int r = plan_complete(svc, p, reterr);
    if (r < 0)
        return r;
    p->occurrences = 0;
    p->created_ms = p->updated_ms = now_ms;
    r = first_occurrence(svc, p, now_ms, reterr);
    if (r < 0)
        return r;
    r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    r = store_plan_insert(svc->store, p, reterr);
    if (r >= 0)
        r = schedule(svc, p, reterr);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r < 0) {
        if (p->id)
            agenda_remove(svc->agenda, AGENDA_PLAN, p->id);
        return service_abort_op(svc, r);
    }
    return 0;
}

int service_plan_get(struct service *svc, int64_t id, struct plan *ret, struct slad_error *reterr)
{
    return store_plan_load(svc->store, id, ret, reterr);
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int service_plan_update(struct service *svc, struct plan *p, int64_t now_ms,
                        struct slad_error *reterr)
{
    int r = plan_complete(svc, p, reterr);
    if (r < 0)
        return r;
    r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct plan old;
    r = store_plan_load(svc->store, p->id, &old, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    bool rule_changed = !same_text(old.rrule, p->rrule) || old.start_ms != p->start_ms ||
                        old.until_ms != p->until_ms || !same_text(old.calendar, p->calendar);
    /* What the service keeps: the caller changes the plan's fields only. */
    p->occurrences = old.occurrences;
    p->created_ms = old.created_ms;
    p->next_ms = old.next_ms;
    p->updated_ms = now_ms;
    plan_done(&old);
    if (rule_changed && (r = first_occurrence(svc, p, now_ms, reterr)) < 0)
        return service_abort_op(svc, r);
    int64_t old_when = agenda_when(svc->agenda, AGENDA_PLAN, p->id);
    r = store_plan_update(svc->store, p, reterr);
    if (r >= 0)
        r = schedule(svc, p, reterr);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r < 0) {
        agenda_schedule(svc->agenda, AGENDA_PLAN, p->id, old_when); /* a move: no allocation */
        return service_abort_op(svc, r);
    }
    return 0;
}

struct cancelled {
    struct service *svc;
    size_t n;
};

static int unschedule_task(void *userdata, int64_t id)
{
    struct cancelled *c = userdata;
    agenda_remove(c->svc->agenda, AGENDA_FOLLOWUP, id);
    c->n++;
    return 0;
}

int service_plan_delete(struct service *svc, int64_t id, size_t *ret_cancelled,
                        struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct cancelled c = {svc, 0};
    r = store_followup_cancel_plan(svc->store, id, unschedule_task, &c, reterr);
    if (r >= 0)
        r = store_plan_delete(svc->store, id, reterr);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r < 0) {
        service_abort_op(svc, r);
        /* The rollback revived the tasks taken off the agenda: put them back. */
        struct slad_error ignored;
        if (c.n)
            service_followup_load_agenda(svc, &ignored);
        return r;
    }
    agenda_remove(svc->agenda, AGENDA_PLAN, id);
    *ret_cancelled = c.n;
    return 0;
}

int service_plan_task_done(struct service *svc, const struct followup *f, int64_t now_ms,
                           struct slad_error *reterr)
{
    if (strcmp(f->name, VISIT_TASK) != 0 || f->state != FOLLOWUP_DONE)
        return 0;
    struct plan p;
    int r = store_plan_load(svc->store, f->plan_id, &p, reterr);
    if (r == -ENOENT)
        return 0; /* the plan was deleted: nothing more to hand in */
    if (r < 0)
        return r;
    if (p.report_within)
        r = add_task(svc, &p, REPORT_TASK, now_ms, p.report_within, now_ms, reterr);
    plan_done(&p);
    return r;
}

/* The occurrence of p after occurrence into p->next_ms. A rule that is no longer accepted
 * (stored before today's checks) or too costly to expand stops the plan (*ret_stopped,
 * the reason in *why) rather than the loop or the other entries due: its visit was made,
 * its next one cannot be, and an operator is told (tell_stopped). Only -ENOMEM fails. */
static int next_after(struct service *svc, struct plan *p, int64_t occurrence, bool *ret_stopped,
                      struct slad_error *why, struct slad_error *reterr)
{
    struct budget budget;
    budget_start(&budget, svc->clock, PLAN_BUDGET_NS);
    int r = plan_next_occurrence(p, service_plan_calendar(svc->conf, p), occurrence + 1, &budget,
                                 &p->next_ms, why);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "%s", why->msg);
    if (r < 0) {
        p->next_ms = INT64_MAX;
        *ret_stopped = true;
    }
    return 0;
}

/* Tell the observer (the daemon's log) that plan p stopped, and why. */
static void tell_stopped(struct service *svc, const struct plan *p, const char *why, int64_t now_ms)
{
    struct effect e = {.kind = EFFECT_PLAN_STOPPED,
                       .at_ms = now_ms,
                       .name = p->name,
                       .plan_id = p->id,
                       .detail = why};
    struct effects fx = {&e, 1, 1};
    struct ticket none;
    ticket_init(&none);
    service_count_effects(svc, &none, &fx);
    ticket_done(&none);
}

int service_plan_fire(struct service *svc, int64_t id, int64_t now_ms, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct plan p;
    r = store_plan_load(svc->store, id, &p, reterr);
    if (r == -ENOENT)
        return store_release(svc->store, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    struct slad_error why = {""};
    bool stopped = false;
    if (p.next_ms > now_ms) {
        /* A stale entry (the rule changed since): wait for the stored instant. */
        r = schedule(svc, &p, reterr);
    } else {
        int64_t occurrence = p.next_ms;
        r = add_task(svc, &p, VISIT_TASK, occurrence, p.due_within, now_ms, reterr);
        if (r >= 0) {
            p.occurrences++;
            r = next_after(svc, &p, occurrence, &stopped, &why, reterr);
        }
        if (r >= 0)
            r = store_plan_update(svc->store, &p, reterr);
        if (r >= 0)
            r = schedule(svc, &p, reterr);
    }
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r >= 0 && stopped)
        tell_stopped(svc, &p, why.msg, now_ms);
    plan_done(&p);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

static int agenda_row(void *userdata, int64_t id, int64_t next_ms)
{
    struct service *svc = userdata;
    return agenda_schedule(svc->agenda, AGENDA_PLAN, id, next_ms);
}

int service_plan_load_agenda(struct service *svc, struct slad_error *reterr)
{
    return store_plan_agenda_load(svc->store, agenda_row, svc, reterr);
}
