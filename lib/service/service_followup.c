/* service_followup.c - follow-up tasks as a service: created from the lifecycle's
 * follow-up effects (tickets) or by plans, fired from the agenda (AGENDA_FOLLOWUP, id),
 * completed through the API. Each operation runs in a savepoint like the ticket ones
 * (service.c), and the task's next instant is stored with it (followups.next_ms) and
 * mirrored in the agenda, so a restart rebuilds the agenda and fires nothing twice.
 *
 * A task's rules: the ladder of its follow-up in the ticket's policy (matched by name;
 * the default ladder of followup.h when the config has none or no longer has it) and
 * the policy's calendar; a plan's task uses the default ladder and the plan's calendar.
 * The owner's notices are keyed f<id>/due/<recipient>, steps f<id>/step<n>/<recipient>,
 * an unsatisfied outcome f<id>/unsatisfied/<recipient>. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "service_internal.h"
#include "store.h"
#include "store_followup.h"

/* The rules of a task of ticket t named name: its follow-up's ladder in t's policy (the
 * default ladder when it has none) and the policy's calendar. */
static int ticket_task_rules(struct service *svc, const struct ticket *t, const char *name,
                             const struct conf_ladder **ret_ladder, const struct calendar **ret_cal,
                             struct slad_error *reterr)
{
    const struct conf_policy *p = lifecycle_policy(svc->conf, t);
    if (!p)
        p = policy_choose(svc->conf, t);
    if (!p)
        return slad_error_set(reterr, EINVAL, "no policy for ticket %lld", (long long)t->id);
    *ret_cal = p->calendar;
    *ret_ladder = followup_default_ladder();
    for (size_t i = 0; i < p->n_followups; i++)
        if (strcmp(p->followups[i].name, name) == 0 && p->followups[i].ladder.n_steps)
            *ret_ladder = &p->followups[i].ladder;
    return 0;
}

/* The ladder and calendar of task f, and the ticket its notices go through (t is
 * initialised here; the caller ticket_done()s it). */
static int task_context(struct service *svc, const struct followup *f, struct ticket *t,
                        const struct conf_ladder **ret_ladder, const struct calendar **ret_cal,
                        struct slad_error *reterr)
{
    ticket_init(t);
    *ret_ladder = followup_default_ladder();
    if (f->plan_id)
        return service_plan_context(svc, f->plan_id, t, ret_cal, reterr);
    int r = store_ticket_load(svc->store, f->ticket_id, t, reterr);
    return r < 0 ? r : ticket_task_rules(svc, t, f->name, ret_ladder, ret_cal, reterr);
}

/* Record svc->ffx for task f through t. */
static int record_task_effects(struct service *svc, const struct ticket *t, int64_t now_ms,
                               struct slad_error *reterr)
{
    for (size_t i = 0; i < svc->ffx.n; i++) {
        int r = service_record_effect(svc, t, &svc->ffx.v[i], now_ms, reterr);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Bring f to now_ms, store it and mirror its next instant in the agenda. */
static int advance_and_store(struct service *svc, struct followup *f, const struct ticket *t,
                             const struct conf_ladder *ladder, const struct calendar *cal,
                             int64_t now_ms, bool insert, struct slad_error *reterr)
{
    effects_clear(&svc->ffx);
    if (followup_advance(f, ladder, cal, now_ms, &svc->ffx) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory firing follow-up %lld",
                              (long long)f->id);
    int64_t next_ms = followup_next_instant(f, ladder, cal);
    if (next_ms <= now_ms)
        next_ms = now_ms + 1; /* never spin on an instant the engine says is due */
    int r = insert ? store_followup_insert(svc->store, f, next_ms, reterr)
                   : store_followup_update(svc->store, f, next_ms, reterr);
    if (r < 0)
        return r;
    /* Effects made before the insert had no id for their keys. */
    for (size_t i = 0; i < svc->ffx.n; i++)
        svc->ffx.v[i].followup_id = f->id;
    r = record_task_effects(svc, t, now_ms, reterr);
    if (r < 0)
        return r;
    if (agenda_schedule(svc->agenda, AGENDA_FOLLOWUP, f->id, next_ms) < 0)
        return slad_error_set(reterr, ENOMEM, "agenda: out of memory scheduling follow-up %lld",
                              (long long)f->id);
    service_count_effects(svc, t, &svc->ffx);
    return 0;
}

int service_followup_add(struct service *svc, struct followup *f, const struct ticket *t,
                         const struct conf_ladder *ladder, const struct calendar *cal,
                         int64_t now_ms, struct slad_error *reterr)
{
    f->state = FOLLOWUP_OPEN;
    f->fired = 0;
    return advance_and_store(svc, f, t, ladder, cal, now_ms, true, reterr);
}

int service_followup_from_effect(struct service *svc, const struct ticket *t,
                                 const struct effect *e, int64_t now_ms, struct slad_error *reterr)
{
    struct followup f;
    memset(&f, 0, sizeof(f));
    f.ticket_id = t->id;
    snprintf(f.name, sizeof(f.name), "%s", e->name ? e->name : "");
    snprintf(f.owner, sizeof(f.owner), "%s", e->owner ? e->owner : "assignee");
    f.generation = t->reopen_count;
    f.created_ms = now_ms;
    f.due_ms = e->due_at_ms;
    f.deadline_ms = e->deadline_at_ms;
    f.done_ms = SLAD_NO_TIME;
    const struct conf_ladder *ladder;
    const struct calendar *cal;
    int r = ticket_task_rules(svc, t, f.name, &ladder, &cal, reterr);
    if (r >= 0)
        r = service_followup_add(svc, &f, t, ladder, cal, now_ms, reterr);
    return r == -EEXIST ? 0 : r;
}

/* Whether a reopen undoes what task f follows: tasks from `resolve` or `close` (or from
 * an event the config no longer names) follow the repair; the others (say, an
 * installation call from `create`) stay. */
static bool follows_repair(struct service *svc, const struct ticket *t, const struct followup *f)
{
    const struct conf_policy *p = lifecycle_policy(svc->conf, t);
    for (size_t i = 0; p && i < p->n_followups; i++)
        if (strcmp(p->followups[i].name, f->name) == 0)
            return strcmp(p->followups[i].from, "resolve") == 0 ||
                   strcmp(p->followups[i].from, "close") == 0;
    return true;
}

#define CANCEL_PAGE 32

int service_followup_cancel_for(struct service *svc, const struct ticket *t, bool all,
                                struct slad_error *reterr)
{
    struct followup page[CANCEL_PAGE];
    int64_t after_id = 0;
    size_t n;
    do {
        int r = store_followup_open_of_ticket(svc->store, t->id, after_id, page, CANCEL_PAGE, &n,
                                              reterr);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            struct followup *f = &page[i];
            after_id = f->id;
            if (!all && (f->generation >= t->reopen_count || !follows_repair(svc, t, f)))
                continue;
            f->state = FOLLOWUP_CANCELLED;
            r = store_followup_update(svc->store, f, INT64_MAX, reterr);
            if (r < 0)
                return r;
            agenda_remove(svc->agenda, AGENDA_FOLLOWUP, f->id);
        }
    } while (n == CANCEL_PAGE);
    return 0;
}

int service_followup_fire(struct service *svc, int64_t id, int64_t now_ms,
                          struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct followup f;
    r = store_followup_load(svc->store, id, &f, reterr);
    if (r == -ENOENT)
        return store_release(svc->store, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    struct ticket t;
    const struct conf_ladder *ladder;
    const struct calendar *cal = NULL;
    r = task_context(svc, &f, &t, &ladder, &cal, reterr);
    if (r == -ENOENT) {
        /* Its ticket or plan is gone (deleted with its tasks): nothing left to do. */
        ticket_done(&t);
        return store_release(svc->store, reterr);
    }
    if (r >= 0)
        r = advance_and_store(svc, &f, &t, ladder, cal, now_ms, false, reterr);
    ticket_done(&t);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

int service_followup_close(struct service *svc, int64_t id, const char *outcome, const char *note,
                           const char *by, int64_t now_ms, struct followup *ret,
                           struct slad_error *reterr)
{
    struct followup f;
    int r = store_followup_load(svc->store, id, &f, reterr);
    if (r < 0)
        return r;
    struct ticket t;
    const struct conf_ladder *ladder;
    const struct calendar *cal = NULL;
    r = task_context(svc, &f, &t, &ladder, &cal, reterr);
    effects_clear(&svc->ffx);
    if (r >= 0)
        r = followup_complete(&f, outcome, note, by, now_ms, &svc->ffx, reterr);
    if (r >= 0)
        r = store_followup_update(svc->store, &f, INT64_MAX, reterr);
    if (r >= 0)
        r = record_task_effects(svc, &t, now_ms, reterr);
    if (r >= 0)
        service_count_effects(svc, &t, &svc->ffx);
    ticket_done(&t);
    if (r >= 0)
        *ret = f;
    return r;
}

static int agenda_row(void *userdata, int64_t id, int64_t next_ms)
{
    struct service *svc = userdata;
    return agenda_schedule(svc->agenda, AGENDA_FOLLOWUP, id, next_ms);
}

int service_followup_load_agenda(struct service *svc, struct slad_error *reterr)
{
    return store_followup_agenda_load(svc->store, agenda_row, svc, reterr);
}
