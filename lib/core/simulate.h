/* simulate.h - the engine run on one ticket without a store: the full timeline of its
 * clocks and escalations for a list of timed events (POST /v1/simulate, slactl simulate,
 * and the seed-promise tests). */
#ifndef SLAD_SIMULATE_H
#define SLAD_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "schedule.h"
#include "error.h"
#include "lifecycle.h"
#include "ticket.h"

/* One resolved recipient of a timeline entry. */
struct sim_recipient {
    char *text;    /* as written: "supervisor", "contact:li.si", "channel:ops", "customer" */
    char *contact; /* contact name, or NULL */
    char *channel; /* channel name (group channel or the contact's first `via`), or NULL */
    char *address; /* phone or e-mail where known, or NULL */
    char *error;   /* why it cannot be reached (no such role in the team...), or NULL */
};

struct sim_entry {
    int64_t at_ms;
    const char *kind;  /* "step", "followup", "reminder", "repeat_fault", "clock", "event" */
    const char *event; /* "sla.warning", "sla.breach", ..., or the ticket event name */
    char clock[SLACLOCK_NAME_MAX]; /* clock (or follow-up) name, or "" */
    char state[16];                /* kind "clock": the clock's new state */
    int step;                      /* 1-based step number, 0 when none */
    int percent; /* simulate_next: the clock's elapsed share of its target at at_ms */
    unsigned repeat;
    struct sim_recipient *recipients;
    size_t n_recipients;
};

struct timeline {
    struct ticket ticket; /* the ticket at the end, with its clocks */
    const char *policy;   /* borrowed from the conf */
    struct sim_entry *entries;
    size_t n_entries;
    int truncated; /* stopped at the entry limit or horizon with work left */
    /* On-call overrides the recipients are resolved with (borrowed; none: the rota). */
    const struct schedule_override *overrides;
    size_t n_overrides;
};

#define SIMULATE_MAX_ENTRIES 1000

/* Run ticket (its fields as posted; status open) from its reported_at through events
 * (sorted by at_ms, each at or after reported_at) until horizon_ms, recording every
 * step, reminder, follow-up and clock change in *ret (initialised here; free with
 * timeline_done). Errors: an event the status table refuses (-EBUSY), an event dated
 * before the one that precedes it or before reported_at (-TICKET_EORDER), both from
 * lifecycle_event with "events[i]: " before the message. */
int simulate_run(const struct conf *conf, const struct ticket *ticket,
                 const struct ticket_event *events, size_t n_events, int64_t horizon_ms,
                 struct timeline *ret, struct slad_error *reterr);

/* What happens next to a stored ticket: the escalation steps of its clocks after now_ms
 * (an overdue one, which the daemon is about to fire, at its own instant), found by
 * walking the engine forward from the ticket as it is, as the daemon fires them, up to
 * max steps or horizon_ms. Each step's recipients are resolved at its instant with the
 * overrides given (borrowed; those overlapping [now_ms, horizon_ms) suffice), its percent
 * is the clock's elapsed share of the target then. *ret as simulate_run's (kind "step"
 * only, in time order); truncated when steps remain past max. -ENOMEM. */
int simulate_next(const struct conf *conf, const struct ticket *ticket, int64_t now_ms,
                  int64_t horizon_ms, size_t max, const struct schedule_override *overrides,
                  size_t n_overrides, struct timeline *ret, struct slad_error *reterr);

void timeline_done(struct timeline *tl);

#endif
