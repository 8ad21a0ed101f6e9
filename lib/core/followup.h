/* followup.h - one follow-up task (回访, an inspection visit, a report to hand in): its
 * state, the instants at which it acts, and its completion. Pure: the caller passes the
 * ladder, the calendar and "now", and records the effects.
 *
 * A task is created `open` with a due instant (the owner is told then, event
 * followup.due) and a deadline (the end of due_within). Its ladder's steps are placed in
 * the window from due to deadline: "50%" halfway through the window's business time,
 * "100%" at the deadline, "+1d"/"+1wd" after it; a step at or after the deadline says
 * followup.overdue, one before it followup.due. Each step fires once (a follow-up ladder
 * has no `repeat`). Completion with an outcome ends it; `unsatisfied` tells the
 * supervisor (event followup.unsatisfied). A task is cancelled when its ticket is
 * reopened or cancelled (the repair it followed was undone). */
#ifndef SLAD_FOLLOWUP_H
#define SLAD_FOLLOWUP_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "conf.h"
#include "error.h"
#include "lifecycle.h"

#define FOLLOWUP_NAME_MAX 64
#define FOLLOWUP_NOTE_MAX 1024

enum followup_state { FOLLOWUP_OPEN, FOLLOWUP_DONE, FOLLOWUP_CANCELLED, FOLLOWUP_STATE_COUNT };

enum followup_outcome {
    FOLLOWUP_NO_OUTCOME,
    FOLLOWUP_SATISFIED,
    FOLLOWUP_UNSATISFIED,
    FOLLOWUP_UNREACHABLE,
    FOLLOWUP_OUTCOME_COUNT
};

/* The states of the API: read off the stored state and the times at now. */
enum followup_view {
    FOLLOWUP_VIEW_PENDING, /* open, before its due instant */
    FOLLOWUP_VIEW_DUE,     /* open, due, deadline not passed */
    FOLLOWUP_VIEW_OVERDUE, /* open, past its deadline */
    FOLLOWUP_VIEW_DONE,
    FOLLOWUP_VIEW_CANCELLED,
    FOLLOWUP_VIEW_COUNT
};

struct followup {
    int64_t id;
    int64_t ticket_id; /* 0 for a plan's task */
    int64_t plan_id;   /* 0 for a ticket's task */
    char name[FOLLOWUP_NAME_MAX];
    char owner[FOLLOWUP_NAME_MAX]; /* role */
    int generation;                /* the ticket's reopen_count when created */
    enum followup_state state;
    enum followup_outcome outcome;
    char note[FOLLOWUP_NOTE_MAX];
    char done_by[FOLLOWUP_NAME_MAX];
    int64_t created_ms, due_ms, deadline_ms, done_ms;
    uint32_t fired; /* bit 0: owner told at due; bit i (1..31): step i fired */
};

const char *followup_state_name(enum followup_state s);
int followup_state_from_name(const char *name);
const char *followup_outcome_name(enum followup_outcome o); /* NULL for none */
int followup_outcome_from_name(const char *name);           /* -1 when unknown */
const char *followup_view_name(enum followup_view v);
int followup_view_from_name(const char *name);
enum followup_view followup_view(const struct followup *f, int64_t now_ms);

/* The ladder used when the follow-up's config has none, and for plans' tasks: at the
 * deadline, tell the supervisor. */
const struct conf_ladder *followup_default_ladder(void);

/* The instant of step i (0-based) of ladder for f, in cal's business time. */
int64_t followup_step_instant(const struct followup *f, const struct conf_ladder *ladder, size_t i,
                              const struct calendar *cal);

/* The next instant at which followup_advance has work; INT64_MAX when none. */
int64_t followup_next_instant(const struct followup *f, const struct conf_ladder *ladder,
                              const struct calendar *cal);

/* Fire what is due at or before now_ms: the owner's notice, then steps in order. 0, or
 * -ENOMEM when an effect cannot be appended (f is then half-changed: throw it away). */
int followup_advance(struct followup *f, const struct conf_ladder *ladder,
                     const struct calendar *cal, int64_t now_ms, struct effects *out);

/* Complete f with outcome (a name), note and by (may be NULL) at now_ms. -EINVAL for an
 * unknown outcome or a note too long, -EBUSY when f is not open, -ENOMEM (f unchanged);
 * reterr says what. */
int followup_complete(struct followup *f, const char *outcome, const char *note, const char *by,
                      int64_t now_ms, struct effects *out, struct slad_error *reterr);

#endif
