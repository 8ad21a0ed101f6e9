/* walsync.h - the commit thread: makes the loop's commits durable (fdatasync of the WAL)
 * while the loop goes on reading, parsing and running the next requests; a second thread
 * checkpoints the WAL, so that no answer waits behind a checkpoint. It never touches the loop's
 * SQLite connection (store_wal.h says why that is enough); batch.c holds the answers until their
 * commit is reported durable. */
#ifndef SLAD_WALSYNC_H
#define SLAD_WALSYNC_H

#include <ev.h>
#include <stdint.h>

struct store_wal;
struct walsync;

/* On the loop's thread, from an ev_async: every commit numbered up to durable is on disk;
 * err (an errno, else 0) when a sync failed, with msg saying what failed. */
typedef void walsync_done_fn(void *userdata, uint64_t durable, int err, const char *msg);

/* Start the thread on wal (not taken). NULL when it cannot start (out of memory, no
 * thread). */
struct walsync *walsync_new(struct ev_loop *loop, struct store_wal *wal, walsync_done_fn *done,
                            void *userdata);
/* Commits up to seq (increasing) are in the WAL: make them durable. */
void walsync_request(struct walsync *ws, uint64_t seq);
/* The WAL has grown past the bound: a passive checkpoint on the checkpoint thread, and a
 * RESTART one when the log is long (store_wal_checkpoint). */
void walsync_checkpoint(struct walsync *ws);
/* Block until seq is durable (or a sync failed), then call done here: at stop. */
void walsync_wait(struct walsync *ws, uint64_t seq);
/* Finish what was requested, stop the thread. NULL-safe. */
void walsync_free(struct walsync *ws);

#endif
