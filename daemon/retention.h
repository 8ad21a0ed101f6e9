/* retention.h - the daemon's purge of closed and cancelled tickets past `retention`
 * (store_retention.h does the deleting).
 *
 * One ev_timer at the lowest priority runs a batch: a bounded number of rows deleted in a
 * savepoint of the loop iteration's transaction, committed with the rest by the group
 * commit (batch.h). While the pass has more it comes back RETENTION_NEXT_S later, so the
 * loop serves requests and escalations between batches; then the next pass starts
 * RETENTION_PASS_S later. A pass also starts shortly after start and after each reload.
 * Each batch is timed: the rows per batch shrink when one takes longer than
 * RETENTION_BUDGET_MS and grow back when they are quick. */
#ifndef SLAD_RETENTION_H
#define SLAD_RETENTION_H

#include <ev.h>

#include "conf.h"

#define RETENTION_KICK_S    1.0    /* start and reload: the first batch this much later */
#define RETENTION_NEXT_S    0.02   /* between the batches of a pass */
#define RETENTION_PASS_S    3600.0 /* from the end of a pass to the next */
#define RETENTION_RETRY_S   60.0   /* after a failed batch (database unavailable) */
#define RETENTION_BUDGET_MS 5.0    /* aim of one batch's time on the loop */

struct store;
struct batch;
struct retention;

/* conf points to the daemon's current config pointer (reload swaps it); retention_ms is
 * read at every batch. NULL when out of memory. */
struct retention *retention_new(struct ev_loop *loop, struct store *store, struct batch *batch,
                                const struct conf *const *conf);
void retention_free(struct retention *r);

/* Whether this instance purges now; NULL (the default): always. On PostgreSQL only the
 * scheduler purges (daemon/scheduler.h): two instances deleting the same rows would only
 * wait on each other's locks. A batch that finds the gate closed ends the pass and arms
 * nothing: the gain of the lease kicks a new one. */
typedef bool retention_gate_fn(void *userdata);
void retention_set_gate(struct retention *r, retention_gate_fn *may_purge, void *userdata);

/* Run a batch RETENTION_KICK_S from now (a new pass unless one is under way). */
void retention_kick(struct retention *r);
/* No more batches (graceful stop). */
void retention_stop(struct retention *r);

#endif
