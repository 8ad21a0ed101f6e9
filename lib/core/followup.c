/* followup.c - a follow-up task's instants, firing and completion (followup.h). */
#include "followup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[FOLLOWUP_STATE_COUNT] = {
    [FOLLOWUP_OPEN] = "open",
    [FOLLOWUP_DONE] = "done",
    [FOLLOWUP_CANCELLED] = "cancelled",
};

static const char *const outcome_names[FOLLOWUP_OUTCOME_COUNT] = {
    [FOLLOWUP_SATISFIED] = "satisfied",
    [FOLLOWUP_UNSATISFIED] = "unsatisfied",
    [FOLLOWUP_UNREACHABLE] = "unreachable",
};

static const char *const view_names[FOLLOWUP_VIEW_COUNT] = {
    [FOLLOWUP_VIEW_PENDING] = "pending",     [FOLLOWUP_VIEW_DUE] = "due",
    [FOLLOWUP_VIEW_OVERDUE] = "overdue",     [FOLLOWUP_VIEW_DONE] = "done",
    [FOLLOWUP_VIEW_CANCELLED] = "cancelled",
};

static int name_index(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

const char *followup_state_name(enum followup_state s)
{
    return (unsigned)s < FOLLOWUP_STATE_COUNT ? state_names[s] : NULL;
}

int followup_state_from_name(const char *name)
{
    return name_index(state_names, FOLLOWUP_STATE_COUNT, name);
}

const char *followup_outcome_name(enum followup_outcome o)
{
    return (unsigned)o < FOLLOWUP_OUTCOME_COUNT ? outcome_names[o] : NULL;
}

int followup_outcome_from_name(const char *name)
{
    return name_index(outcome_names, FOLLOWUP_OUTCOME_COUNT, name);
}

const char *followup_view_name(enum followup_view v)
{
    return (unsigned)v < FOLLOWUP_VIEW_COUNT ? view_names[v] : NULL;
}

int followup_view_from_name(const char *name)
{
    return name_index(view_names, FOLLOWUP_VIEW_COUNT, name);
}

enum followup_view followup_view(const struct followup *f, int64_t now_ms)
{
    if (f->state == FOLLOWUP_DONE)
        return FOLLOWUP_VIEW_DONE;
    if (f->state == FOLLOWUP_CANCELLED)
        return FOLLOWUP_VIEW_CANCELLED;
    if (now_ms < f->due_ms)
        return FOLLOWUP_VIEW_PENDING;
    return now_ms < f->deadline_ms ? FOLLOWUP_VIEW_DUE : FOLLOWUP_VIEW_OVERDUE;
}

const struct conf_ladder *followup_default_ladder(void)
{
    static char supervisor[] = "supervisor";
    static char *notify[] = {supervisor};
    static struct conf_step step = {
        .at = {.unit = DURATION_PERCENT, .after_due = false, .value = 100},
        .notify = {.v = notify, .n = 1},
    };
    static const struct conf_ladder ladder = {.steps = &step, .n_steps = 1};
    return &ladder;
}

int64_t followup_step_instant(const struct followup *f, const struct conf_ladder *ladder, size_t i,
                              const struct calendar *cal)
{
    const struct duration *at = &ladder->steps[i].at;
    if (at->unit == DURATION_PERCENT) {
        if (at->value == 100)
            return f->deadline_ms; /* exactly the deadline, whatever the calendar's rounding */
        /* At most 100 years of ms times 1000 %: far from overflowing. */
        int64_t window = calendar_elapsed(cal, f->due_ms, f->deadline_ms);
        return calendar_add(cal, f->due_ms, window * at->value / 100);
    }
    if (at->unit == DURATION_WORKDAYS)
        return calendar_workdays_close(cal, f->deadline_ms, (int)at->value);
    return calendar_add(cal, f->deadline_ms, at->value);
}

/* Steps beyond 31 cannot be recorded in `fired`; the config allows far fewer. */
static size_t usable_steps(const struct conf_ladder *ladder)
{
    return ladder->n_steps < 31 ? ladder->n_steps : 31;
}

int64_t followup_next_instant(const struct followup *f, const struct conf_ladder *ladder,
                              const struct calendar *cal)
{
    if (f->state != FOLLOWUP_OPEN)
        return INT64_MAX;
    if (!(f->fired & 1u))
        return f->due_ms;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < usable_steps(ladder); i++) {
        if (f->fired & (1u << (i + 1)))
            continue;
        int64_t at = followup_step_instant(f, ladder, i, cal);
        if (at < next)
            next = at;
    }
    return next;
}

int followup_advance(struct followup *f, const struct conf_ladder *ladder,
                     const struct calendar *cal, int64_t now_ms, struct effects *out)
{
    if (f->state != FOLLOWUP_OPEN)
        return 0;
    if (!(f->fired & 1u) && f->due_ms <= now_ms) {
        f->fired |= 1u;
        struct effect *e = effects_add(out, EFFECT_FOLLOWUP_DUE, f->due_ms);
        if (!e)
            return -ENOMEM;
        e->event = "followup.due";
        e->followup_id = f->id;
        e->name = f->name;
        e->owner = f->owner;
        e->due_at_ms = f->due_ms;
        e->deadline_at_ms = f->deadline_ms;
    }
    if (!(f->fired & 1u))
        return 0;
    for (size_t i = 0; i < usable_steps(ladder); i++) {
        int64_t at = followup_step_instant(f, ladder, i, cal);
        if ((f->fired & (1u << (i + 1))) || at > now_ms)
            continue;
        f->fired |= 1u << (i + 1);
        struct effect *e = effects_add(out, EFFECT_FOLLOWUP_STEP, at);
        if (!e)
            return -ENOMEM;
        e->event = at >= f->deadline_ms ? "followup.overdue" : "followup.due";
        e->followup_id = f->id;
        e->step = (int)i + 1;
        e->name = f->name;
        e->owner = f->owner;
        e->due_at_ms = f->due_ms;
        e->deadline_at_ms = f->deadline_ms;
        e->notify = &ladder->steps[i].notify;
    }
    return 0;
}

int followup_complete(struct followup *f, const char *outcome, const char *note, const char *by,
                      int64_t now_ms, struct effects *out, struct slad_error *reterr)
{
    int o = followup_outcome_from_name(outcome);
    if (o <= 0)
        return slad_error_set(reterr, EINVAL,
                              "outcome: '%s' is not one of satisfied, unsatisfied, unreachable",
                              outcome ? outcome : "");
    if (note && strlen(note) >= sizeof(f->note))
        return slad_error_set(reterr, EINVAL, "note: longer than %zu bytes", sizeof(f->note) - 1);
    if (by && strlen(by) >= sizeof(f->done_by))
        return slad_error_set(reterr, EINVAL, "by: longer than %zu bytes", sizeof(f->done_by) - 1);
    if (f->state != FOLLOWUP_OPEN)
        return slad_error_set(reterr, EBUSY,
                              "follow-up %lld is %s: only an open one can be "
                              "completed",
                              (long long)f->id, followup_state_name(f->state));
    struct effect *e = effects_add(out, EFFECT_FOLLOWUP_DONE, now_ms);
    if (!e)
        return slad_error_set(reterr, ENOMEM, "out of memory completing follow-up %lld",
                              (long long)f->id);
    f->state = FOLLOWUP_DONE;
    f->outcome = (enum followup_outcome)o;
    f->done_ms = now_ms;
    snprintf(f->note, sizeof(f->note), "%s", note ? note : "");
    snprintf(f->done_by, sizeof(f->done_by), "%s", by ? by : "");
    e->followup_id = f->id;
    e->name = f->name;
    e->owner = f->owner;
    e->outcome = outcome_names[o];
    e->due_at_ms = f->due_ms;
    e->deadline_at_ms = f->deadline_ms;
    if (o == FOLLOWUP_UNSATISFIED) {
        static char supervisor[] = "supervisor";
        static char *v[] = {supervisor};
        static const struct conf_strings notify = {.v = v, .n = 1};
        e->event = "followup.unsatisfied";
        e->notify = &notify;
    }
    return 0;
}
