/* scheduler.h - the scheduler lease on the loop (doc/POSTGRESQL.md, lib/core/lease.h):
 * one ev_timer asks for the lease (standby) or renews it (scheduler) every
 * LEASE_RENEW_EVERY_MS, in the loop iteration's transaction (batch.h), and keeps the role
 * and the fencing number that /healthz, /metrics and slactl status show.
 *
 * On SQLite the one process is the trivial single holder: it holds the row under the
 * database's name ("sqlite"), so every start takes it at once, under a fencing number one
 * larger than the last start's (the number counts the starts), and never renews it (renews
 * false): no other process can write the file while this one does, and an idle daemon
 * should not commit every second. Firing and delivering do
 * not wait for the role yet, nor does the batch commit carry the fencing check: both come
 * with the PostgreSQL backend, where several instances share the row. */
#ifndef SLAD_SCHEDULER_H
#define SLAD_SCHEDULER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct store;
struct batch;
struct metrics;
struct lease;
struct scheduler;

/* ttl_ms: failover_timeout; renews: false for a single holder by construction (SQLite),
 * which takes the lease once. NULL when out of memory. */
struct scheduler *scheduler_new(struct ev_loop *loop, struct store *store, struct batch *batch,
                                struct metrics *metrics, int64_t ttl_ms, bool renews);
void scheduler_free(struct scheduler *sc);

/* Make the lease row when missing and ask for it at once (the answer is known when this
 * returns); then every second. -errno with reterr when the row cannot be made. */
int scheduler_start(struct scheduler *sc, struct slad_error *reterr);
/* No more requests (graceful stop); the row expires after failover_timeout. */
void scheduler_stop(struct scheduler *sc);

/* The lease's state: role, fencing number (for the API's hooks). */
const struct lease *scheduler_lease(const struct scheduler *sc);

#endif
