/* slaclock.c - clock arithmetic: elapsed business time, due instants, ladder steps.
 *
 * A running clock keeps (elapsed_ms, since_ms): the business time counted before since_ms,
 * and the instant from which it goes on counting. Everything else (elapsed now, due, the
 * instant of a step) is derived from those two through the calendar, so pausing and
 * resuming only move since_ms. */
#include "slaclock.h"

#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "conf.h"

static const char *const state_names[] = {
    [SLACLOCK_PENDING] = "pending",     [SLACLOCK_RUNNING] = "running",
    [SLACLOCK_PAUSED] = "paused",       [SLACLOCK_MET] = "met",
    [SLACLOCK_BREACHED] = "breached",   [SLACLOCK_MISSED] = "missed",
    [SLACLOCK_CANCELLED] = "cancelled",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *slaclock_state_name(enum slaclock_state state)
{
    return (unsigned)state < N_STATES ? state_names[state] : "unknown";
}

int slaclock_state_from_name(const char *name)
{
    for (size_t i = 0; name && i < N_STATES; i++)
        if (strcmp(state_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* What a pending clock shows as its target before it starts: a plain duration as it is
 * written; 0 for "3wd", whose business time depends on the day the clock starts. */
static int64_t configured_target(const struct conf_clock *cc)
{
    return cc->target.unit == DURATION_WORKDAYS ? 0 : cc->target.value;
}

void slaclock_init(struct slaclock *c, const struct conf_clock *cc)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", cc->name);
    c->state = SLACLOCK_PENDING;
    c->since_ms = SLAD_NO_TIME;
    c->started_at_ms = SLAD_NO_TIME;
    c->stopped_at_ms = SLAD_NO_TIME;
    c->breached_at_ms = SLAD_NO_TIME;
    c->due_at_ms = SLAD_NO_TIME;
    c->risk_at_ms = SLAD_NO_TIME;
    c->stop_event = -1;
    c->target_ms = configured_target(cc);
}

bool slaclock_is_stopped(const struct slaclock *c)
{
    return c->state == SLACLOCK_MET || c->state == SLACLOCK_MISSED ||
           c->state == SLACLOCK_CANCELLED;
}

bool slaclock_is_counting(const struct slaclock *c)
{
    return c->state == SLACLOCK_RUNNING || c->state == SLACLOCK_BREACHED;
}

/* The target in business ms for a clock starting at start_ms: "3wd" becomes the business
 * time from the start to the close of the 3rd working day after the start day. */
static int64_t target_at(const struct conf_clock *cc, const struct calendar *cal, int64_t start_ms)
{
    if (cc->target.unit != DURATION_WORKDAYS)
        return cc->target.value;
    int64_t close = calendar_workdays_close(cal, start_ms, (int)cc->target.value);
    if (close == INT64_MAX)
        return DURATION_MAX_MS;
    return calendar_elapsed(cal, start_ms, close);
}

/* Due instant of a counting clock that has not reached its target, and the instant it
 * comes at risk (a quarter of its target left), on the same calendar: the board filters and
 * counts at-risk clocks in SQL, which knows no calendar. */
static void compute_due(struct slaclock *c, const struct calendar *cal)
{
    c->due_at_ms = calendar_add(cal, c->since_ms, c->target_ms - c->elapsed_ms);
    int64_t to_risk = c->target_ms - c->target_ms / SLACLOCK_RISK_LEFT - c->elapsed_ms;
    c->risk_at_ms = to_risk <= 0 ? c->since_ms : calendar_add(cal, c->since_ms, to_risk);
}

void slaclock_start(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                    int64_t at_ms)
{
    if (c->state != SLACLOCK_PENDING || c->since_ms != SLAD_NO_TIME)
        return;
    c->since_ms = cc->delay_ms > 0 ? calendar_add(cal, at_ms, cc->delay_ms) : at_ms;
    c->target_ms = target_at(cc, cal, c->since_ms);
}

int64_t slaclock_elapsed(const struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    if (!slaclock_is_counting(c) || now_ms <= c->since_ms)
        return c->elapsed_ms;
    return c->elapsed_ms + calendar_elapsed(cal, c->since_ms, now_ms);
}

bool slaclock_advance(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                      int64_t now_ms)
{
    (void)cc;
    bool changed = false;
    if (c->state == SLACLOCK_PENDING && c->since_ms != SLAD_NO_TIME && now_ms >= c->since_ms) {
        c->state = SLACLOCK_RUNNING;
        c->started_at_ms = c->since_ms;
        compute_due(c, cal);
        changed = true;
    }
    if (c->state == SLACLOCK_RUNNING && c->due_at_ms != SLAD_NO_TIME && now_ms >= c->due_at_ms) {
        c->state = SLACLOCK_BREACHED;
        c->breached_at_ms = c->due_at_ms;
        changed = true;
    }
    return changed;
}

void slaclock_pause(struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    if (!slaclock_is_counting(c))
        return;
    int64_t at = now_ms > c->since_ms ? now_ms : c->since_ms;
    c->elapsed_ms = slaclock_elapsed(c, cal, at);
    c->paused_breached = c->state == SLACLOCK_BREACHED;
    if (!c->paused_breached)
        c->due_at_ms = SLAD_NO_TIME;
    c->since_ms = SLAD_NO_TIME;
    c->state = SLACLOCK_PAUSED;
}

void slaclock_resume(struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    if (c->state != SLACLOCK_PAUSED)
        return;
    c->since_ms = now_ms;
    if (c->paused_breached) {
        c->state = SLACLOCK_BREACHED;
    } else {
        c->state = SLACLOCK_RUNNING;
        compute_due(c, cal);
    }
    c->paused_breached = false;
}

void slaclock_stop(struct slaclock *c, const struct calendar *cal, int64_t now_ms, int event)
{
    if (slaclock_is_stopped(c))
        return;
    c->stop_event = event;
    c->stopped_at_ms = now_ms;
    if (c->state == SLACLOCK_PENDING) {
        c->state = SLACLOCK_CANCELLED;
        return;
    }
    c->elapsed_ms = slaclock_elapsed(c, cal, now_ms);
    c->since_ms = SLAD_NO_TIME;
    c->paused_breached = false;
    c->state = c->elapsed_ms <= c->target_ms ? SLACLOCK_MET : SLACLOCK_MISSED;
}

void slaclock_cancel(struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    if (slaclock_is_stopped(c))
        return;
    c->elapsed_ms = slaclock_elapsed(c, cal, now_ms);
    c->since_ms = SLAD_NO_TIME;
    c->stopped_at_ms = now_ms;
    c->state = SLACLOCK_CANCELLED;
}

void slaclock_restart(struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    if (c->state == SLACLOCK_CANCELLED && c->started_at_ms == SLAD_NO_TIME) {
        c->state = SLACLOCK_PENDING;
        c->since_ms = SLAD_NO_TIME;
        c->stopped_at_ms = SLAD_NO_TIME;
        c->stop_event = -1;
        return;
    }
    if (c->state != SLACLOCK_MET && c->state != SLACLOCK_MISSED)
        return;
    c->since_ms = now_ms;
    c->stopped_at_ms = SLAD_NO_TIME;
    c->stop_event = -1;
    if (c->elapsed_ms >= c->target_ms && c->breached_at_ms != SLAD_NO_TIME) {
        c->state = SLACLOCK_BREACHED;
    } else {
        c->state = SLACLOCK_RUNNING;
        compute_due(c, cal);
    }
}

void slaclock_retarget(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                       int64_t now_ms)
{
    if (slaclock_is_stopped(c))
        return;
    if (c->state == SLACLOCK_PENDING) {
        c->target_ms =
            c->since_ms != SLAD_NO_TIME ? target_at(cc, cal, c->since_ms) : configured_target(cc);
        return;
    }
    c->target_ms = target_at(cc, cal, c->started_at_ms);
    if (slaclock_is_counting(c)) {
        /* Keep what was counted under the old calendar; count on from now. */
        int64_t at = now_ms > c->since_ms ? now_ms : c->since_ms;
        c->elapsed_ms = slaclock_elapsed(c, cal, at);
        c->since_ms = at;
    }
    bool past_due = c->elapsed_ms >= c->target_ms;
    if (c->state == SLACLOCK_PAUSED) {
        c->paused_breached = past_due;
        if (!past_due) {
            c->due_at_ms = SLAD_NO_TIME;
            c->breached_at_ms = SLAD_NO_TIME;
        }
        return;
    }
    if (past_due) {
        /* Due in the past under the new target: the instant elapsed time reached it,
         * counted back on the calendar. slaclock_advance breaches the clock there, so the
         * breach is recorded as late as any other (a pause in between is not known here:
         * counted back as if it ran, the instant is never earlier than the true one). */
        if (c->state == SLACLOCK_RUNNING)
            c->due_at_ms = slaclock_instant_of(c, cal, c->target_ms);
    } else {
        c->state = SLACLOCK_RUNNING;
        c->breached_at_ms = SLAD_NO_TIME;
        compute_due(c, cal);
    }
}

const char *slaclock_step_event(const struct slaclock *c, int64_t threshold_ms)
{
    if (threshold_ms < c->target_ms)
        return "sla.warning";
    return threshold_ms == c->target_ms ? "sla.breach" : "sla.escalation";
}

int64_t slaclock_step_threshold(const struct slaclock *c, const struct conf_ladder *ladder,
                                size_t i, unsigned r, const struct calendar *cal)
{
    const struct conf_step *step = &ladder->steps[i];
    if (r > 0 && step->repeat_ms <= 0)
        return -1;
    int64_t base;
    if (step->at.unit == DURATION_PERCENT) {
        base = c->target_ms * step->at.value / 100;
    } else if (step->at.unit == DURATION_WORKDAYS) {
        /* "+1wd": the close of the first working day after the due date. */
        if (c->breached_at_ms == SLAD_NO_TIME)
            return -1;
        int64_t close = calendar_workdays_close(cal, c->breached_at_ms, (int)step->at.value);
        if (close == INT64_MAX)
            return -1;
        base = c->target_ms + calendar_elapsed(cal, c->breached_at_ms, close);
    } else {
        base = (step->at.after_due ? c->target_ms : 0) + step->at.value;
    }
    return base + (int64_t)r * step->repeat_ms;
}

int64_t slaclock_instant_of(const struct slaclock *c, const struct calendar *cal,
                            int64_t threshold_ms)
{
    if (!slaclock_is_counting(c))
        return INT64_MAX;
    if (threshold_ms <= c->elapsed_ms) {
        /* Passed before the current run (a new target after a policy change): counted
         * back from since_ms, as if the clock had run all along. */
        int64_t at = calendar_sub(cal, c->since_ms, c->elapsed_ms - threshold_ms);
        return at != INT64_MIN ? at : c->since_ms;
    }
    return calendar_add(cal, c->since_ms, threshold_ms - c->elapsed_ms);
}

int64_t slaclock_next_instant(const struct slaclock *c, const struct conf_clock *cc,
                              const struct calendar *cal, int64_t now_ms)
{
    (void)now_ms;
    if (c->state == SLACLOCK_PENDING)
        return c->since_ms != SLAD_NO_TIME ? c->since_ms : INT64_MAX;
    if (!slaclock_is_counting(c))
        return INT64_MAX;
    int64_t best = c->state == SLACLOCK_RUNNING ? c->due_at_ms : INT64_MAX;
    for (size_t i = 0; i < cc->ladder.n_steps && i < SLACLOCK_MAX_STEPS; i++) {
        int64_t threshold = slaclock_step_threshold(c, &cc->ladder, i, c->fired[i], cal);
        if (threshold < 0)
            continue;
        int64_t at = slaclock_instant_of(c, cal, threshold);
        if (at < best)
            best = at;
    }
    return best;
}
