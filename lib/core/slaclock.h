/* slaclock.h - one promise on one ticket: a clock counting business time to a target,
 * and the instants of its escalation ladder.
 *
 * A clock is plain data (it is stored and copied); every operation takes the clock's
 * config (struct conf_clock), its calendar and the instant "now". Elapsed time counts
 * only the calendar's business time and only while the clock runs (not pending, not
 * paused, not stopped). States:
 *   pending   not started (or started with a delay that has not passed)
 *   running   counting, before due
 *   breached  counting, past due
 *   paused    not counting (the ticket is in one of the clock's pause statuses)
 *   met       stopped at or before due       missed    stopped after due
 *   cancelled stopped before it started, or the ticket was cancelled */
#ifndef SLAD_SLACLOCK_H
#define SLAD_SLACLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No instant": unset times (appointment_at, stopped_at, ...). */
#define SLAD_NO_TIME INT64_MIN

struct calendar;
struct conf_clock;
struct conf_ladder;

enum slaclock_state {
    SLACLOCK_PENDING,
    SLACLOCK_RUNNING,
    SLACLOCK_PAUSED,
    SLACLOCK_MET,
    SLACLOCK_BREACHED,
    SLACLOCK_MISSED,
    SLACLOCK_CANCELLED,
};

const char *slaclock_state_name(enum slaclock_state state);
int slaclock_state_from_name(const char *name);

#define SLACLOCK_NAME_MAX 48
/* A running clock is "at risk" once less than 1/SLACLOCK_RISK_LEFT of its target is left. */
#define SLACLOCK_RISK_LEFT 4
#define SLACLOCK_MAX_STEPS 16

struct slaclock {
    char name[SLACLOCK_NAME_MAX];
    enum slaclock_state state;
    int64_t target_ms;  /* business ms; a "3wd" target is fixed when the clock starts */
    int64_t elapsed_ms; /* business time counted up to since_ms (running) or in total */
    int64_t since_ms;   /* running: counting goes on from here; pending: the start instant
                           once the start event happened (SLAD_NO_TIME before) */
    int64_t started_at_ms, stopped_at_ms, breached_at_ms; /* SLAD_NO_TIME when not yet */
    int64_t due_at_ms;    /* when elapsed reaches target (running), or did (breached/stopped);
                             SLAD_NO_TIME while pending without a start or paused before due */
    int64_t risk_at_ms;   /* running: when less than a quarter of the target is left
                             (SLACLOCK_RISK_LEFT), computed with due_at_ms; the board's
                             "at risk" (SLAD_NO_TIME before a clock first runs) */
    bool paused_breached; /* paused after due */
    int stop_event;       /* enum ticket_event_type that stopped it, or -1 */
    uint16_t fired[SLACLOCK_MAX_STEPS]; /* how many times each ladder step fired */
};

/* A pending clock named after cc. */
void slaclock_init(struct slaclock *c, const struct conf_clock *cc);

/* The start event happened at at_ms: the clock starts at at_ms plus its delay (business
 * time), which slaclock_advance makes happen. Ignored unless pending without a start. */
void slaclock_start(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                    int64_t at_ms);

/* Bring the clock to now_ms: a pending clock whose start instant passed starts running; a
 * running clock whose due passed becomes breached (breached_at = its due instant). Returns
 * true when the state changed. */
bool slaclock_advance(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                      int64_t now_ms);

/* Business time elapsed at now_ms. */
int64_t slaclock_elapsed(const struct slaclock *c, const struct calendar *cal, int64_t now_ms);

void slaclock_pause(struct slaclock *c, const struct calendar *cal, int64_t now_ms);
void slaclock_resume(struct slaclock *c, const struct calendar *cal, int64_t now_ms);

/* Stop at now_ms because of event (enum ticket_event_type): met (elapsed <= target),
 * missed, or cancelled if it never started. */
void slaclock_stop(struct slaclock *c, const struct calendar *cal, int64_t now_ms, int event);

/* The ticket was cancelled: a clock not yet stopped becomes cancelled. */
void slaclock_cancel(struct slaclock *c, const struct calendar *cal, int64_t now_ms);

/* The ticket was reopened: a clock stopped by resolve or close runs again from now_ms with
 * its elapsed time kept; one cancelled before it started is pending again. */
void slaclock_restart(struct slaclock *c, const struct calendar *cal, int64_t now_ms);

/* Apply a (possibly) new config to a running or stopped clock: the elapsed time is kept,
 * the new target applies and due is recomputed. A running clock already past the new
 * target keeps running with its due in the past (the instant it reached the target):
 * slaclock_advance breaches it there, as it would have been. */
void slaclock_retarget(struct slaclock *c, const struct conf_clock *cc, const struct calendar *cal,
                       int64_t now_ms);

bool slaclock_is_stopped(const struct slaclock *c);
bool slaclock_is_counting(const struct slaclock *c); /* running or breached */

/* The notification event of a step whose threshold is threshold_ms: "sla.warning" before
 * the target, "sla.breach" at it, "sla.escalation" after it. */
const char *slaclock_step_event(const struct slaclock *c, int64_t threshold_ms);

/* The business-time threshold (elapsed ms) of ladder step i at repeat r, or -1 when that
 * step cannot fire again (no repeat, or a "+Nwd" step whose due is unknown). */
int64_t slaclock_step_threshold(const struct slaclock *c, const struct conf_ladder *ladder,
                                size_t i, unsigned r, const struct calendar *cal);

/* The next instant at which something happens to this clock after its state at now_ms:
 * its delayed start, its due (breach), or its next unfired step. When a step is already
 * overdue (threshold passed) the instant is its exact due instant, which may lie before
 * now_ms. INT64_MAX when nothing is ahead. */
int64_t slaclock_next_instant(const struct slaclock *c, const struct conf_clock *cc,
                              const struct calendar *cal, int64_t now_ms);

/* The instant a step fires: the moment elapsed business time reaches threshold_ms,
 * counting from the clock's current run (a threshold the clock passed before it, after a
 * new target, is counted back from the run's start); INT64_MAX when the clock does not
 * count. */
int64_t slaclock_instant_of(const struct slaclock *c, const struct calendar *cal,
                            int64_t threshold_ms);

#endif
