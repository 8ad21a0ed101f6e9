/* simulate.c - the engine run on one ticket without a store (see simulate.h).
 *
 * Time is walked instant by instant (each lifecycle_advance stops at the next instant),
 * so repeating steps appear one by one, exactly as a daemon that never stops fires them. */
#include "civil.h"
#include "simulate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "followup.h"
#include "policy.h"
#include "recipient.h"

#define DEFAULT_HORIZON_MS (90 * CIVIL_MS_PER_DAY)

static void entry_free(struct sim_entry *e)
{
    for (size_t i = 0; i < e->n_recipients; i++) {
        struct sim_recipient *r = &e->recipients[i];
        free(r->text);
        free(r->contact);
        free(r->channel);
        free(r->address);
        free(r->error);
    }
    free(e->recipients);
}

void timeline_done(struct timeline *tl)
{
    for (size_t i = 0; i < tl->n_entries; i++)
        entry_free(&tl->entries[i]);
    free(tl->entries);
    ticket_done(&tl->ticket);
    memset(tl, 0, sizeof(*tl));
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* Add an entry with its recipients resolved: 0, 1 when the timeline is full (truncated),
 * or -ENOMEM: a timeline that silently lacks an entry would mislead. */
static int add_entry(const struct conf *conf, struct timeline *tl, int64_t at_ms, const char *kind,
                     const char *event, const char *clock, int step, unsigned repeat,
                     const struct conf_strings *notify)
{
    if (tl->n_entries >= SIMULATE_MAX_ENTRIES) {
        tl->truncated = 1;
        return 1;
    }
    if (tl->n_entries % 64 == 0) {
        struct sim_entry *v = realloc(tl->entries, (tl->n_entries + 64) * sizeof(*v));
        if (!v)
            return -ENOMEM;
        tl->entries = v;
    }
    struct sim_entry *e = &tl->entries[tl->n_entries++];
    memset(e, 0, sizeof(*e));
    e->at_ms = at_ms;
    e->kind = kind;
    e->event = event;
    snprintf(e->clock, sizeof(e->clock), "%s", clock ? clock : "");
    e->step = step;
    e->repeat = repeat;
    struct recipient resolved[RECIPIENT_MAX];
    size_t n = 0;
    /* Without a store there are no overrides (simulate_run): the rota alone says who is
     * on call. */
    struct recipient_oncall oncall = {at_ms, tl->overrides, tl->n_overrides};
    recipient_resolve(conf, &tl->ticket, notify, &oncall, resolved, RECIPIENT_MAX, &n);
    e->recipients = calloc(n ? n : 1, sizeof(*e->recipients));
    if (!e->recipients)
        return -ENOMEM;
    e->n_recipients = n; /* entry_free frees what was copied */
    for (size_t i = 0; i < n; i++) {
        struct sim_recipient *r = &e->recipients[i];
        const struct recipient *from = &resolved[i];
        r->text = strdup(from->text);
        r->contact = from->contact ? strdup(from->contact->name) : NULL;
        r->channel = from->channel ? strdup(from->channel->name) : NULL;
        r->address = dup_or_null(from->address);
        r->error = dup_or_null(from->error);
        if (!r->text || (from->contact && !r->contact) || (from->channel && !r->channel) ||
            (from->address && from->address[0] && !r->address) || (from->error[0] && !r->error))
            return -ENOMEM;
    }
    return 0;
}

/* A follow-up the lifecycle asked for: its due notice to the owner and its escalation
 * steps, up to the horizon (no completion happens in a simulation). As add_entry. */
static int add_followup(const struct conf *conf, struct timeline *tl, const struct effect *fx,
                        int64_t horizon_ms)
{
    const struct conf_policy *p = lifecycle_policy(conf, &tl->ticket);
    if (!p)
        return 0;
    const struct conf_followup *fu = NULL;
    for (size_t i = 0; i < p->n_followups && !fu; i++)
        if (strcmp(p->followups[i].name, fx->name) == 0)
            fu = &p->followups[i];
    if (!fu)
        return 0;
    char *owner = fu->owner;
    struct conf_strings owner_list = {&owner, 1};
    int r = 0;
    if (fx->due_at_ms <= horizon_ms)
        r = add_entry(conf, tl, fx->due_at_ms, "followup", "followup.due", fu->name, 0, 0,
                      &owner_list);
    /* The steps as the daemon places them (followup.c), with its default ladder. */
    const struct conf_ladder *ladder = fu->ladder.n_steps ? &fu->ladder : followup_default_ladder();
    struct followup task = {.due_ms = fx->due_at_ms, .deadline_ms = fx->deadline_at_ms};
    for (size_t i = 0; r == 0 && i < ladder->n_steps; i++) {
        int64_t at = followup_step_instant(&task, ladder, i, p->calendar);
        if (at > horizon_ms)
            continue;
        bool overdue = at >= fx->deadline_at_ms;
        r = add_entry(conf, tl, at, "followup", overdue ? "followup.overdue" : "followup.due",
                      fu->name, (int)i + 1, 0, &ladder->steps[i].notify);
    }
    return r;
}

/* The timeline entries of fx, which is emptied; 0 or -ENOMEM. */
static int record(const struct conf *conf, struct timeline *tl, struct effects *fx,
                  int64_t horizon_ms)
{
    int r = 0;
    for (size_t i = 0; r >= 0 && i < fx->n; i++) {
        const struct effect *e = &fx->v[i];
        switch (e->kind) {
        case EFFECT_STEP:
            r = add_entry(conf, tl, e->at_ms, "step", e->event, e->clock, e->step, e->repeat,
                          e->notify);
            break;
        case EFFECT_REMINDER:
            r = add_entry(conf, tl, e->at_ms, "reminder", e->event, NULL, e->step, 0, e->notify);
            break;
        case EFFECT_FOLLOWUP:
            r = add_followup(conf, tl, e, horizon_ms);
            break;
        case EFFECT_REPEAT_FAULT:
            r = add_entry(conf, tl, e->at_ms, "repeat_fault", "ticket.repeat_fault", NULL, 0, 0,
                          e->notify);
            break;
        case EFFECT_POLICY:
        case EFFECT_CLOCK:
        case EFFECT_FOLLOWUP_DUE: /* tasks' own lives are not simulated: add_followup */
        case EFFECT_FOLLOWUP_STEP:
        case EFFECT_FOLLOWUP_DONE:
        case EFFECT_PLAN_STOPPED:
            break;
        }
    }
    effects_clear(fx);
    return r < 0 ? r : 0;
}

/* Walk time forward to until_ms, one instant at a time; 0 or -ENOMEM. */
static int walk(const struct conf *conf, struct timeline *tl, int64_t until_ms, struct effects *fx,
                int64_t horizon_ms)
{
    while (!tl->truncated) {
        int64_t next = lifecycle_next_instant(conf, &tl->ticket, until_ms);
        if (next > until_ms)
            return 0;
        int r = lifecycle_advance(conf, &tl->ticket, next, fx);
        if (r == 0)
            r = record(conf, tl, fx, horizon_ms);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Stable insertion sort by instant: entries arrive nearly sorted (follow-up steps are the
 * exception) and the order of entries at one instant is the order they fired in. */
static void sort_entries(struct timeline *tl)
{
    for (size_t i = 1; i < tl->n_entries; i++) {
        struct sim_entry e = tl->entries[i];
        size_t j = i;
        for (; j > 0 && tl->entries[j - 1].at_ms > e.at_ms; j--)
            tl->entries[j] = tl->entries[j - 1];
        tl->entries[j] = e;
    }
}

int simulate_run(const struct conf *conf, const struct ticket *ticket,
                 const struct ticket_event *events, size_t n_events, int64_t horizon_ms,
                 struct timeline *ret, struct slad_error *reterr)
{
    struct timeline *tl = ret;
    memset(tl, 0, sizeof(*tl));
    if (ticket_copy(&tl->ticket, ticket) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    struct ticket *t = &tl->ticket;
    if (t->reported_at_ms == SLAD_NO_TIME)
        t->reported_at_ms = n_events ? events[0].at_ms : 0;
    /* Out of order events are refused by lifecycle_event, as the daemon refuses them. */
    int64_t last = t->reported_at_ms;
    for (size_t i = 0; i < n_events; i++)
        if (events[i].at_ms > last)
            last = events[i].at_ms;
    if (horizon_ms <= 0)
        horizon_ms = last + DEFAULT_HORIZON_MS;

    struct effects fx;
    effects_init(&fx);
    int r = lifecycle_create(conf, t, t->reported_at_ms, &fx, reterr);
    if (r < 0)
        goto fail;
    tl->policy = lifecycle_policy(conf, t)->name;
    t->created_at_ms = t->updated_at_ms = t->reported_at_ms;
    /* The store counts earlier tickets of the same device and fault; here the body says. */
    if (conf->repeat_fault.count > 0 && t->repeat_count == conf->repeat_fault.count)
        r = add_entry(conf, tl, t->reported_at_ms, "repeat_fault", "ticket.repeat_fault", NULL, 0,
                      0, &conf->repeat_fault.notify);
    if (r >= 0)
        r = record(conf, tl, &fx, horizon_ms);
    for (size_t i = 0; r >= 0 && i < n_events; i++) {
        r = walk(conf, tl, events[i].at_ms, &fx, horizon_ms);
        if (r < 0)
            break;
        r = lifecycle_event(conf, t, &events[i], events[i].at_ms, &fx, reterr);
        if (r < 0) {
            slad_error_prefix(reterr, "events[%zu]: ", i);
            goto fail;
        }
        t->updated_at_ms = events[i].at_ms;
        r = record(conf, tl, &fx, horizon_ms);
    }
    if (r >= 0)
        r = walk(conf, tl, horizon_ms, &fx, horizon_ms);
    if (r < 0) {
        r = slad_error_set(reterr, ENOMEM, "out of memory simulating the ticket");
        goto fail;
    }
    if (lifecycle_next_instant(conf, t, horizon_ms) != INT64_MAX)
        tl->truncated = 1;
    effects_done(&fx);
    sort_entries(tl);
    return 0;
fail:
    effects_done(&fx);
    timeline_done(tl);
    return r;
}

/* The elapsed share (percent) of clock name's target at at_ms, or 0 when unknown. */
static int step_percent(const struct conf *conf, const struct ticket *t, const char *name,
                        int64_t at_ms)
{
    const struct conf_policy *p = lifecycle_policy(conf, t);
    for (size_t i = 0; p && i < p->n_clocks; i++) {
        if (strcmp(p->clocks[i].name, name) != 0)
            continue;
        for (size_t k = 0; k < t->n_clocks; k++) {
            const struct slaclock *c = &t->clocks[k];
            if (strcmp(c->name, name) != 0 || c->target_ms <= 0)
                continue;
            int64_t elapsed = slaclock_elapsed(c, policy_clock_calendar(p, &p->clocks[i]), at_ms);
            return (int)((elapsed * 100 + c->target_ms / 2) / c->target_ms);
        }
    }
    return 0;
}

/* Walk iterations at most: each instant fires at least one thing, so this bounds the walk
 * even when steps repeat every second. */
#define NEXT_MAX_INSTANTS 4096

int simulate_next(const struct conf *conf, const struct ticket *ticket, int64_t now_ms,
                  int64_t horizon_ms, size_t max, const struct schedule_override *overrides,
                  size_t n_overrides, struct timeline *ret, struct slad_error *reterr)
{
    struct timeline *tl = ret;
    memset(tl, 0, sizeof(*tl));
    if (ticket_copy(&tl->ticket, ticket) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    const struct conf_policy *p = lifecycle_policy(conf, &tl->ticket);
    tl->policy = p ? p->name : NULL;
    tl->overrides = overrides;
    tl->n_overrides = n_overrides;
    if (max > SIMULATE_MAX_ENTRIES)
        max = SIMULATE_MAX_ENTRIES;
    struct effects fx;
    effects_init(&fx);
    int r = 0;
    for (int n = 0; r == 0 && n < NEXT_MAX_INSTANTS; n++) {
        int64_t next = lifecycle_next_instant(conf, &tl->ticket, horizon_ms);
        if (next > horizon_ms)
            break;
        r = lifecycle_advance(conf, &tl->ticket, next > now_ms ? next : now_ms, &fx);
        for (size_t i = 0; r == 0 && i < fx.n; i++) {
            const struct effect *e = &fx.v[i];
            if (e->kind != EFFECT_STEP)
                continue;
            if (tl->n_entries >= max) {
                tl->truncated = 1;
                break;
            }
            r = add_entry(conf, tl, e->at_ms, "step", e->event, e->clock, e->step, e->repeat,
                          e->notify);
            if (r == 0)
                tl->entries[tl->n_entries - 1].percent =
                    step_percent(conf, &tl->ticket, e->clock, e->at_ms);
        }
        effects_clear(&fx);
        if (tl->truncated)
            break;
    }
    effects_done(&fx);
    if (r < 0) {
        timeline_done(tl);
        return slad_error_set(reterr, ENOMEM, "out of memory finding the next steps");
    }
    sort_entries(tl);
    return 0;
}
