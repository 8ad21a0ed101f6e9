/* batch.h - group commit: every request and timer callback of one loop iteration works
 * in one SQLite transaction, committed once just before the loop blocks (an ev_prepare
 * watcher, like Redis's beforeSleep). Answers that depend on the transaction wait for
 * the commit, so that a 2xx always means "durable", and one fsync serves the batch.
 *
 * With synchronous = full and a database file, the COMMIT on the loop only writes the
 * WAL, and the commit thread (walsync.h) makes it durable with one fdatasync while the
 * loop goes on with the next batch on the same connection (store_wal.h: why that is
 * safe). Everything that depends on a commit (the waiters: held answers, deliveries'
 * `sending` marks; the after hook: timers, the pump, resumed connections) runs only when
 * the thread reports that commit durable, in commit order; a read that could show a
 * commit in flight waits for it too. The thread also checkpoints the WAL, never the loop.
 *
 * On PostgreSQL there is no thread: the COMMIT and a sync point are sent in the
 * connection's pipeline without waiting (store_commit_async), the connection's socket is
 * watched by an ev_io, and the commit's outcome, read as it arrives, plays the part of the
 * thread's report: the same commit numbers, held waiters and after hook; a failed or lost
 * commit fails its waiters (503). The next batch may begin behind it in the same pipeline;
 * its first read waits for the COMMIT's answer (doc/POSTGRESQL.md). */
#ifndef SLAD_BATCH_H
#define SLAD_BATCH_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct store;

/* Someone waiting for the commit: done is called once, after the transaction ended,
 * with committed false when it was rolled back (then nothing it wrote exists). */
struct batch_waiter {
    struct batch_waiter *next;
    void (*done)(struct batch_waiter *w, bool committed);
    /* The batch's own: the commit waited for, and its outcome; refused: rolled back
     * because the database refused the COMMIT for concurrency (a serialization failure
     * or a deadlock, -EAGAIN), so that running the same work again may well succeed. */
    uint64_t seq;
    bool committed, refused;
};

/* Called after every commit once it is durable, or rollback, after the waiters (re-arm
 * timers, rebuild the agenda after a rollback, let the HTTP servers send the answers). */
typedef void batch_after_fn(void *userdata, bool committed);

struct batch;

/* sync_full: the database's synchronous = full (commits wait for the WAL's fdatasync on
 * the commit thread); else commits answer at once and the thread only checkpoints. */
struct batch *batch_new(struct ev_loop *loop, struct store *store, bool sync_full,
                        batch_after_fn *after, void *userdata);
/* Commits what is open and waits until every commit is durable (its waiters and after
 * hook run), then stops the commit thread and frees. */
void batch_free(struct batch *b);
/* Commit what is open and wait until every commit is durable, waiters and after hook run:
 * before the daemon frees what they use. */
void batch_flush(struct batch *b);

/* Open the iteration's transaction unless it is open already. -EIO (or the store's
 * error) when the database cannot start one; reterr says why. */
int batch_begin(struct batch *b, struct slad_error *reterr);
bool batch_is_open(const struct batch *b);
/* No transaction open and every commit durable: nothing waits on the batch. */
bool batch_is_idle(const struct batch *b);

/* A commit has waited more than limit_s for the commit thread's fdatasync (a hung disk),
 * or for PostgreSQL's answer (a hung server):
 * the watchdog stops being fed, as when the loop itself hung in an fsync. */
bool batch_sync_stalled(const struct batch *b, double limit_s);

/* The transaction holds changes, or a commit is not yet durable: answers computed from
 * now on may show data that is not on disk yet, so they wait for it too. */
void batch_mark_dirty(struct batch *b);
bool batch_is_dirty(const struct batch *b);

/* The fencing check (doc/POSTGRESQL.md, scheduler.h): fence is called last before the
 * COMMIT of a transaction that holds scheduler writes (fired steps, follow-ups, plans;
 * the outbox's `sending` marks and outcomes), in that transaction. A negative answer (the
 * lease is another's now: -ESTALE) rolls the whole batch back, as a failed commit: its
 * waiters get their 503, the after hook rebuilds the agenda. */
typedef int batch_fence_fn(void *userdata, struct slad_error *reterr);
void batch_set_fence(struct batch *b, batch_fence_fn *fence, void *userdata);
/* The open transaction holds a scheduler write (and so changes: dirty too). */
void batch_mark_fenced(struct batch *b);

/* Call w->done after the transaction ends and is durable; w must stay valid until then.
 * The batch must be open or dirty (a commit in flight: w waits for the last one). */
void batch_wait(struct batch *b, struct batch_waiter *w);

/* Whether a commit is in the WAL and not yet durable; if so, call w->done (committed true)
 * once every commit made up to now is durable, and return true. The open transaction is
 * not waited for: for a read on another connection (reader.h), which sees only committed
 * data, made before it returns. */
bool batch_wait_durable(struct batch *b, struct batch_waiter *w);

/* Why the last commit failed (the store's message, "" after a success): the waiters'
 * 503 answers say it, e.g. "database or disk is full". */
const char *batch_last_error(const struct batch *b);

/* Commit now (the prepare watcher does it otherwise); on failure roll back. Waiters and
 * the after hook run before it returns, or when the commit thread reports the commit
 * durable (a rollback's waiters after the commits before it). 0, or the commit's -errno. */
int batch_commit(struct batch *b);

#endif
