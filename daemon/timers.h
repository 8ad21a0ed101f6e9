/* timers.h - the one timer of the daemon: armed at the agenda's earliest instant, it
 * hands what is due to the service in bounded batches and re-arms.
 *
 * It is an ev_periodic in absolute mode rather than an ev_timer: agenda instants are
 * wall-clock (UTC) instants, and an ev_periodic fires when the wall clock reaches its
 * instant even when the clock is stepped (NTP, a VM resumed), where an ev_timer counts
 * monotonic seconds from when it was armed and would fire early or late. */
#ifndef SLAD_TIMERS_H
#define SLAD_TIMERS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct service;
struct agenda;
struct batch;

/* Entries handled per callback: a burst (start-up after downtime, a million steps at
 * the same instant) is cut into transactions of at most this many, and of at most
 * TIMERS_BUDGET_MS of work (each entry costs 0.1-0.2 ms at a million tickets: 1000 would
 * hold the loop for 100-200 ms), and the loop answers requests between them. The budget
 * is checked every TIMERS_CHUNK entries. */
#define TIMERS_BATCH     1000
#define TIMERS_BUDGET_MS 10.0
#define TIMERS_CHUNK     16

struct timers;

struct timers *timers_new(struct ev_loop *loop, struct service *svc, struct agenda *agenda,
                          struct batch *batch);
void timers_free(struct timers *t);

/* Arm at the agenda's earliest instant (call after anything may have changed it: each
 * commit, a rollback and rebuild, a reload). Cheap when nothing changed. */
void timers_rearm(struct timers *t);
void timers_stop(struct timers *t);

/* Fire only while may_act(userdata) (the scheduler lease, scheduler.h): closed, the
 * timer stays stopped and nothing fires; call timers_rearm when it opens. Firing marks
 * the batch fenced (batch_mark_fenced). */
typedef bool timers_gate_fn(void *userdata);
void timers_set_gate(struct timers *t, timers_gate_fn *may_act, void *userdata);

/* The loop's "now" in ms since the epoch, UTC: read once per iteration (ev_now) and
 * passed to everything that runs in it. */
int64_t timers_now_ms(struct ev_loop *loop);

/* Counters for STATUS= and logs. */
struct timers_stats {
    uint64_t fired;     /* entries handled */
    double max_lag_ms;  /* largest lateness seen since start */
    double last_lag_ms; /* lateness of the last callback's earliest entry */
};
void timers_stats(const struct timers *t, struct timers_stats *ret);

#endif
