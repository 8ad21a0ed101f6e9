/* scheduler.h - the scheduler lease on the loop (doc/POSTGRESQL.md, lib/core/lease.h):
 * one ev_timer asks for the lease (standby) or renews it (scheduler) every
 * LEASE_RENEW_EVERY_MS, in the loop iteration's transaction (batch.h), and keeps the role
 * and the fencing number that /healthz, /metrics and slactl status show.
 *
 * On SQLite the one process is the trivial single holder: it holds the row under the
 * database's name ("sqlite"), so every start takes it at once, under a fencing number one
 * larger than the last start's (the number counts the starts), and never renews it (renews
 * false): no other process can write the file while this one does, and an idle daemon
 * should not commit every second; its lease lasts a century (the next start takes it
 * over at once, under the same holder name).
 *
 * Only the scheduler fires (timers.c) and delivers (deliver.c): both ask
 * scheduler_may_act, and on_role hears of every gain and loss (load the agenda and re-send
 * what was left `sending`; stop at once). On PostgreSQL every transaction holding
 * scheduler writes carries the fencing check last before its COMMIT (batch_set_fence): a
 * refused check rolls the batch back and this instance becomes a standby; the holder is
 * host:pid:start-instant and the lease's instants are the database server's clock; a
 * graceful stop releases the row (scheduler_release). */
#ifndef SLAD_SCHEDULER_H
#define SLAD_SCHEDULER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "lease.h"

struct store;
struct batch;
struct metrics;
struct lease;
struct scheduler;

/* ttl_ms: failover_timeout; renews: false for a single holder by construction (SQLite),
 * which takes the lease once and needs no fencing check (the file's lock already makes it
 * the only writer); true installs the batch's fencing check. NULL when out of memory. */
struct scheduler *scheduler_new(struct ev_loop *loop, struct store *store, struct batch *batch,
                                struct metrics *metrics, int64_t ttl_ms, bool renews);
void scheduler_free(struct scheduler *sc);

/* Make the lease row when missing and ask for it at once (the answer is known when this
 * returns); then every second. -errno with reterr when the row cannot be made. */
int scheduler_start(struct scheduler *sc, struct slad_error *reterr);
/* No more requests (graceful stop). */
void scheduler_stop(struct scheduler *sc);
/* A graceful stop, once the last scheduler writes are committed (batch_flush): give the
 * row up in a transaction of its own (its expiry now, the fencing number kept), so that a
 * standby takes over at its next ask rather than after failover_timeout. Nothing on
 * SQLite (the next start takes the row at once anyway) or for a standby. Logged; a
 * failure only means the standby waits for the expiry. */
void scheduler_release(struct scheduler *sc);

/* The lease's state: role, fencing number (for the API's hooks). */
const struct lease *scheduler_lease(const struct scheduler *sc);
/* The holder name this instance writes in the lease row. */
const char *scheduler_holder(const struct scheduler *sc);

/* Whether this instance may fire and deliver now (lease_may_act at the loop's now). */
bool scheduler_may_act(const struct scheduler *sc);

/* Called on LEASE_EVENT_GAINED, _LOST and _RENEWED (the latter every second on
 * PostgreSQL), from the lease's timer or from a refused fencing check inside a commit. */
typedef void scheduler_role_fn(void *userdata, enum lease_event ev);
void scheduler_on_role(struct scheduler *sc, scheduler_role_fn *fn, void *userdata);

#endif
