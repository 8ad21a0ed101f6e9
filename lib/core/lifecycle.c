/* lifecycle.c - a ticket's life under its policy (see lifecycle.h).
 *
 * Time only moves forward through lifecycle_advance, which visits the ticket's next
 * instants in order (delayed clock starts, dues, ladder steps, reminders) up to "now".
 * Events first advance to their own instant, then change the status and the clocks. */
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "policy.h"

/* Bound on the instants one advance visits: a safety net against a ladder that would
 * otherwise loop (repeats are collapsed, so real tickets need a handful). */
#define ADVANCE_MAX_INSTANTS 100000

static const char *const effect_kind_names[] = {
    [EFFECT_POLICY] = "policy",
    [EFFECT_CLOCK] = "clock",
    [EFFECT_STEP] = "step",
    [EFFECT_REMINDER] = "reminder",
    [EFFECT_FOLLOWUP] = "followup",
    [EFFECT_REPEAT_FAULT] = "repeat_fault",
    [EFFECT_FOLLOWUP_DUE] = "followup_due",
    [EFFECT_FOLLOWUP_STEP] = "followup_step",
    [EFFECT_FOLLOWUP_DONE] = "followup_done",
    [EFFECT_PLAN_STOPPED] = "plan_stopped",
};

const char *effect_kind_name(enum effect_kind kind)
{
    return (unsigned)kind < sizeof(effect_kind_names) / sizeof(effect_kind_names[0])
               ? effect_kind_names[kind]
               : "unknown";
}

const char *effect_event(const struct effect *e)
{
    if (e->event)
        return e->event;
    switch (e->kind) {
    case EFFECT_REMINDER:
        return "appointment.reminder";
    case EFFECT_REPEAT_FAULT:
        return "ticket.repeat_fault";
    default:
        return "sla.escalation";
    }
}

bool effect_notifies(const struct effect *e)
{
    switch (e->kind) {
    case EFFECT_STEP:
    case EFFECT_REMINDER:
    case EFFECT_REPEAT_FAULT:
    case EFFECT_FOLLOWUP_DUE:
    case EFFECT_FOLLOWUP_STEP:
        return true;
    case EFFECT_FOLLOWUP_DONE:
        return e->notify != NULL; /* unsatisfied */
    default:
        return false;
    }
}

void effects_init(struct effects *e)
{
    memset(e, 0, sizeof(*e));
}

void effects_clear(struct effects *e)
{
    e->n = 0;
}

void effects_done(struct effects *e)
{
    free(e->v);
    effects_init(e);
}

struct effect *effects_add(struct effects *out, enum effect_kind kind, int64_t at_ms)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        struct effect *v = realloc(out->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        out->v = v;
        out->cap = cap;
    }
    struct effect *e = &out->v[out->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->at_ms = at_ms;
    return e;
}

static int clock_effect(struct effects *out, const struct slaclock *c, int64_t at_ms)
{
    struct effect *e = effects_add(out, EFFECT_CLOCK, at_ms);
    if (!e)
        return -ENOMEM;
    snprintf(e->clock, sizeof(e->clock), "%s", c->name);
    e->clock_state = c->state;
    return 0;
}

const struct conf_policy *lifecycle_policy(const struct conf *conf, const struct ticket *t)
{
    return t->policy ? conf_find_policy(conf, t->policy) : NULL;
}

/* The config of clock c in policy p, or NULL when the policy has no such clock. */
static const struct conf_clock *clock_conf(const struct conf_policy *p, const struct slaclock *c)
{
    for (size_t i = 0; p && i < p->n_clocks; i++)
        if (strcmp(p->clocks[i].name, c->name) == 0)
            return &p->clocks[i];
    return NULL;
}

/* Pause or resume each clock so that it counts exactly when the status is not one of its
 * pause statuses. */
static int sync_pauses(const struct conf_policy *p, struct ticket *t, int64_t at_ms,
                       struct effects *out)
{
    const char *status = ticket_status_name(t->status);
    int r = 0;
    for (size_t i = 0; r == 0 && i < t->n_clocks; i++) {
        struct slaclock *c = &t->clocks[i];
        const struct conf_clock *cc = clock_conf(p, c);
        if (!cc)
            continue;
        const struct calendar *cal = policy_clock_calendar(p, cc);
        bool pause = policy_list_has(&cc->pause, status);
        if (pause && slaclock_is_counting(c)) {
            slaclock_pause(c, cal, at_ms);
            r = clock_effect(out, c, at_ms);
        } else if (!pause && c->state == SLACLOCK_PAUSED) {
            slaclock_resume(c, cal, at_ms);
            r = clock_effect(out, c, at_ms);
        }
    }
    return r;
}

static bool reminders_apply(const struct ticket *t)
{
    return t->appointment_at_ms != SLAD_NO_TIME && ticket_status_is_open(t->status);
}

static int64_t reminder_instant(const struct ticket *t, const struct conf_reminder *r)
{
    return t->appointment_at_ms - r->before_ms;
}

int64_t lifecycle_next_instant(const struct conf *conf, const struct ticket *t, int64_t now_ms)
{
    const struct conf_policy *p = lifecycle_policy(conf, t);
    if (!p)
        return INT64_MAX;
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < t->n_clocks; i++) {
        const struct conf_clock *cc = clock_conf(p, &t->clocks[i]);
        if (!cc)
            continue;
        int64_t at = slaclock_next_instant(&t->clocks[i], cc, policy_clock_calendar(p, cc), now_ms);
        if (at < best)
            best = at;
    }
    if (reminders_apply(t)) {
        for (size_t i = 0; i < p->n_reminders && i < 32; i++) {
            if (t->reminders_fired & (1u << i))
                continue;
            int64_t at = reminder_instant(t, &p->reminders[i]);
            if (at < best)
                best = at;
        }
    }
    return best;
}

/* Fire the steps of clock c due at or before at_ms. A step that is due several times over
 * (a repeating step after the daemon was down) fires once, as its latest repeat. */
static int fire_steps(const struct conf_clock *cc, const struct calendar *cal, struct slaclock *c,
                      int64_t at_ms, int64_t now_ms, struct effects *out)
{
    for (size_t i = 0; i < cc->ladder.n_steps && i < SLACLOCK_MAX_STEPS; i++) {
        unsigned r = c->fired[i];
        int64_t threshold = slaclock_step_threshold(c, &cc->ladder, i, r, cal);
        if (threshold < 0)
            continue;
        int64_t when = slaclock_instant_of(c, cal, threshold);
        if (when > at_ms)
            continue;
        /* Collapse repeats that are all due by now into the latest one. */
        for (;;) {
            int64_t next_th = slaclock_step_threshold(c, &cc->ladder, i, r + 1, cal);
            if (next_th < 0 || r + 1 >= UINT16_MAX)
                break;
            int64_t next_when = slaclock_instant_of(c, cal, next_th);
            if (next_when > now_ms)
                break;
            r++;
            threshold = next_th;
            when = next_when;
        }
        c->fired[i] = (uint16_t)(r + 1);
        struct effect *e = effects_add(out, EFFECT_STEP, when);
        if (!e)
            return -ENOMEM;
        snprintf(e->clock, sizeof(e->clock), "%s", c->name);
        e->clock_state = c->state;
        e->step = (int)i + 1;
        e->repeat = r;
        e->event = slaclock_step_event(c, threshold);
        e->notify = &cc->ladder.steps[i].notify;
    }
    return 0;
}

/* Everything due at instant at_ms: clock starts and breaches, then steps, then reminders. */
static int visit_instant(const struct conf_policy *p, struct ticket *t, int64_t at_ms,
                         int64_t now_ms, struct effects *out)
{
    bool started = false;
    int r = 0;
    for (size_t i = 0; r == 0 && i < t->n_clocks; i++) {
        struct slaclock *c = &t->clocks[i];
        const struct conf_clock *cc = clock_conf(p, c);
        if (!cc)
            continue;
        enum slaclock_state before = c->state;
        if (slaclock_advance(c, cc, policy_clock_calendar(p, cc), at_ms)) {
            if (before == SLACLOCK_PENDING) {
                r = clock_effect(out, c, c->started_at_ms);
                started = true;
            }
            if (r == 0 && c->state == SLACLOCK_BREACHED)
                r = clock_effect(out, c, c->breached_at_ms);
        }
    }
    if (r == 0 && started)
        r = sync_pauses(p, t, at_ms, out);
    for (size_t i = 0; r == 0 && i < t->n_clocks; i++) {
        struct slaclock *c = &t->clocks[i];
        const struct conf_clock *cc = clock_conf(p, c);
        if (cc && slaclock_is_counting(c))
            r = fire_steps(cc, policy_clock_calendar(p, cc), c, at_ms, now_ms, out);
    }
    if (r < 0 || !reminders_apply(t))
        return r;
    for (size_t i = 0; i < p->n_reminders && i < 32; i++) {
        int64_t when = reminder_instant(t, &p->reminders[i]);
        if ((t->reminders_fired & (1u << i)) || when > at_ms)
            continue;
        t->reminders_fired |= 1u << i;
        if (now_ms >= t->appointment_at_ms)
            continue; /* the visit is already past: a reminder would be noise */
        struct effect *e = effects_add(out, EFFECT_REMINDER, when);
        if (!e)
            return -ENOMEM;
        e->event = "appointment.reminder";
        e->step = (int)i + 1;
        e->notify = &p->reminders[i].notify;
    }
    return 0;
}

int lifecycle_advance(const struct conf *conf, struct ticket *t, int64_t now_ms,
                      struct effects *out)
{
    const struct conf_policy *p = lifecycle_policy(conf, t);
    if (!p)
        return 0;
    for (int n = 0; n < ADVANCE_MAX_INSTANTS; n++) {
        int64_t at = lifecycle_next_instant(conf, t, now_ms);
        if (at > now_ms)
            return 0;
        int r = visit_instant(p, t, at, now_ms, out);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A follow-up of p whose `from` is event (or "create") happened at at_ms. */
static int schedule_followups(const struct conf_policy *p, const char *event, int64_t at_ms,
                              struct effects *out)
{
    for (size_t i = 0; i < p->n_followups; i++) {
        const struct conf_followup *fu = &p->followups[i];
        if (strcmp(fu->from, event) != 0)
            continue;
        /* `after` is wall-clock time (a call a week later) or working days; the call is
         * due at the next opening of the policy's calendar. */
        int64_t due;
        if (fu->after.unit == DURATION_WORKDAYS)
            due = calendar_workdays_close(p->calendar, at_ms, (int)fu->after.value);
        else
            due = calendar_next_open(p->calendar, at_ms + fu->after.value);
        int64_t deadline;
        if (fu->due_within.unit == DURATION_WORKDAYS)
            deadline = calendar_workdays_close(p->calendar, due, (int)fu->due_within.value);
        else
            deadline = calendar_add(p->calendar, due, fu->due_within.value);
        struct effect *e = effects_add(out, EFFECT_FOLLOWUP, at_ms);
        if (!e)
            return -ENOMEM;
        e->event = "followup.due";
        e->name = fu->name;
        e->owner = fu->owner;
        e->due_at_ms = due;
        e->deadline_at_ms = deadline;
    }
    return 0;
}

/* Start the clocks of p whose start is `start` ("created" or an event name) at at_ms. */
static void start_clocks(const struct conf_policy *p, struct ticket *t, const char *start,
                         int64_t at_ms)
{
    for (size_t i = 0; i < t->n_clocks; i++) {
        const struct conf_clock *cc = clock_conf(p, &t->clocks[i]);
        if (cc && strcmp(cc->start, start) == 0)
            slaclock_start(&t->clocks[i], cc, policy_clock_calendar(p, cc), at_ms);
    }
}

int lifecycle_create(const struct conf *conf, struct ticket *t, int64_t now_ms, struct effects *out,
                     struct slad_error *reterr)
{
    const struct conf_policy *p = policy_choose(conf, t);
    if (!p)
        return slad_error_set(reterr, EINVAL,
                              "no policy matches the ticket and the config "
                              "has no catch-all policy");
    if (ticket_set_string(&t->policy, p->name) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if (t->reported_at_ms == SLAD_NO_TIME)
        t->reported_at_ms = now_ms;
    t->status = TICKET_OPEN;
    struct effect *e = effects_add(out, EFFECT_POLICY, now_ms);
    if (!e)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    e->name = p->name;
    t->n_clocks = 0;
    for (size_t i = 0; i < p->n_clocks && i < TICKET_MAX_CLOCKS; i++)
        slaclock_init(&t->clocks[t->n_clocks++], &p->clocks[i]);
    start_clocks(p, t, "created", t->reported_at_ms);
    if (schedule_followups(p, "create", t->reported_at_ms, out) < 0 ||
        lifecycle_advance(conf, t, now_ms, out) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    return 0;
}

int lifecycle_event(const struct conf *conf, struct ticket *t, const struct ticket_event *ev,
                    int64_t now_ms, struct effects *out, struct slad_error *reterr)
{
    int r = ticket_event_check(t->status, ev->type, reterr);
    if (r < 0)
        return r;
    int64_t at = ev->at_ms != SLAD_NO_TIME && ev->at_ms < now_ms ? ev->at_ms : now_ms;
    r = ticket_event_check_order(t, ev->type, at, reterr);
    if (r < 0)
        return r;
    if (lifecycle_advance(conf, t, at, out) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    const struct conf_policy *p = lifecycle_policy(conf, t);
    if (!p) {
        if (lifecycle_rechoose(conf, t, at, out) < 0)
            return slad_error_set(reterr, ENOMEM, "out of memory");
        p = lifecycle_policy(conf, t);
    }
    enum ticket_status from = t->status;
    t->status = ticket_event_target(from, ev->type, t->held_from);
    if (ev->type == TICKET_EVENT_HOLD)
        t->held_from = from;
    if (ev->type == TICKET_EVENT_REOPEN)
        t->reopen_count++;
    if (ev->type == TICKET_EVENT_DISPATCH && ev->assignee &&
        ticket_set_string(&t->assignee, ev->assignee) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    t->event_last_ms[ev->type] = at;
    const char *name = ticket_event_name(ev->type);
    for (size_t i = 0; r == 0 && p && i < t->n_clocks; i++) {
        struct slaclock *c = &t->clocks[i];
        const struct conf_clock *cc = clock_conf(p, c);
        if (!cc)
            continue;
        const struct calendar *cal = policy_clock_calendar(p, cc);
        enum slaclock_state before = c->state;
        if (ev->type == TICKET_EVENT_CANCEL)
            slaclock_cancel(c, cal, at);
        else if (policy_list_has(&cc->stop, name))
            slaclock_stop(c, cal, at, (int)ev->type);
        else if (ev->type == TICKET_EVENT_REOPEN &&
                 (c->stop_event == TICKET_EVENT_RESOLVE || c->stop_event == TICKET_EVENT_CLOSE))
            slaclock_restart(c, cal, at);
        if (c->state != before)
            r = clock_effect(out, c, at);
    }
    if (r == 0 && p) {
        start_clocks(p, t, name, at);
        r = sync_pauses(p, t, at, out);
        if (r == 0)
            r = schedule_followups(p, name, at, out);
    }
    if (r == 0)
        r = lifecycle_advance(conf, t, now_ms, out);
    if (r < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    return 0;
}

/* A clock the new policy adds: start it where its start event already happened, and stop
 * it again if one of its stop events came later. */
static void catch_up_clock(const struct conf_policy *p, const struct conf_clock *cc,
                           struct ticket *t, struct slaclock *c, int64_t now_ms)
{
    const struct calendar *cal = policy_clock_calendar(p, cc);
    int64_t start = SLAD_NO_TIME;
    if (strcmp(cc->start, "created") == 0) {
        start = t->reported_at_ms;
    } else {
        int type = ticket_event_from_name(cc->start);
        if (type >= 0)
            start = t->event_last_ms[type];
    }
    if (start == SLAD_NO_TIME)
        return;
    slaclock_start(c, cc, cal, start);
    int64_t stop = SLAD_NO_TIME;
    int stop_type = -1;
    for (size_t i = 0; i < cc->stop.n; i++) {
        int type = ticket_event_from_name(cc->stop.v[i]);
        if (type >= 0 && t->event_last_ms[type] != SLAD_NO_TIME &&
            t->event_last_ms[type] >= start && t->event_last_ms[type] > stop) {
            stop = t->event_last_ms[type];
            stop_type = type;
        }
    }
    if (stop != SLAD_NO_TIME) {
        slaclock_advance(c, cc, cal, stop);
        slaclock_stop(c, cal, stop, stop_type);
    } else if (!ticket_status_is_open(t->status)) {
        slaclock_cancel(c, cal, now_ms);
    }
}

int lifecycle_rechoose(const struct conf *conf, struct ticket *t, int64_t now_ms,
                       struct effects *out)
{
    const struct conf_policy *p = policy_choose(conf, t);
    if (!p)
        return 0;
    if (!t->policy || strcmp(t->policy, p->name) != 0) {
        struct effect *e = effects_add(out, EFFECT_POLICY, now_ms);
        if (!e || ticket_set_string(&t->policy, p->name) < 0)
            return -ENOMEM;
        e->name = p->name;
    }
    struct slaclock old[TICKET_MAX_CLOCKS];
    size_t n_old = t->n_clocks;
    memcpy(old, t->clocks, n_old * sizeof(old[0]));
    t->n_clocks = 0;
    for (size_t i = 0; i < p->n_clocks && i < TICKET_MAX_CLOCKS; i++) {
        const struct conf_clock *cc = &p->clocks[i];
        struct slaclock *c = &t->clocks[t->n_clocks++];
        const struct slaclock *prev = NULL;
        for (size_t j = 0; j < n_old && !prev; j++)
            if (strcmp(old[j].name, cc->name) == 0)
                prev = &old[j];
        if (prev) {
            *c = *prev;
            slaclock_retarget(c, cc, policy_clock_calendar(p, cc), now_ms);
        } else {
            slaclock_init(c, cc);
            catch_up_clock(p, cc, t, c, now_ms);
        }
    }
    if (ticket_status_is_open(t->status)) {
        int r = sync_pauses(p, t, now_ms, out);
        if (r < 0)
            return r;
    }
    return lifecycle_advance(conf, t, now_ms, out);
}

void lifecycle_appointment_changed(struct ticket *t, int64_t now_ms)
{
    (void)now_ms;
    /* A new appointment gets its reminders again; one whose instant already passed fires
     * at once if the visit is still ahead. */
    t->reminders_fired = 0;
}
