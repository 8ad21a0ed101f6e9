/* batch.h - group commit: every request and timer callback of one loop iteration works
 * in one SQLite transaction, committed once just before the loop blocks (an ev_prepare
 * watcher, like Redis's beforeSleep). Answers that depend on the transaction wait for
 * the commit, so that a 2xx always means "durable", and one fsync serves the batch. */
#ifndef SLAD_BATCH_H
#define SLAD_BATCH_H

#include <ev.h>
#include <stdbool.h>

#include "error.h"

struct store;

/* Someone waiting for the commit: done is called once, after the transaction ended,
 * with committed false when it was rolled back (then nothing it wrote exists). */
struct batch_waiter {
    struct batch_waiter *next;
    void (*done)(struct batch_waiter *w, bool committed);
};

/* Called after every commit or rollback, after the waiters (re-arm timers, rebuild the
 * agenda after a rollback, let the HTTP servers send the answers). */
typedef void batch_after_fn(void *userdata, bool committed);

struct batch;

struct batch *batch_new(struct ev_loop *loop, struct store *store, batch_after_fn *after,
                        void *userdata);
/* Commits what is open (see batch_commit), then frees. */
void batch_free(struct batch *b);

/* Open the iteration's transaction unless it is open already. -EIO (or the store's
 * error) when the database cannot start one; reterr says why. */
int batch_begin(struct batch *b, struct slad_error *reterr);
bool batch_is_open(const struct batch *b);

/* The transaction holds changes: answers computed from now on may show uncommitted
 * data, so they wait for the commit too. */
void batch_mark_dirty(struct batch *b);
bool batch_is_dirty(const struct batch *b);

/* Call w->done after the transaction ends; w must stay valid until then. The batch
 * must be open. */
void batch_wait(struct batch *b, struct batch_waiter *w);

/* Why the last commit failed (the store's message, "" after a success): the waiters'
 * 503 answers say it, e.g. "database or disk is full". */
const char *batch_last_error(const struct batch *b);

/* Commit now (the prepare watcher does it otherwise); on failure roll back. Waiters and
 * the after hook run before it returns. 0, or the commit's -errno. */
int batch_commit(struct batch *b);

#endif
