/* store_wal.h - the write-ahead log's fsync and checkpoints, done off the connection's
 * thread (daemon/batch.c runs them on its commit thread; doc/PERFORMANCE.md).
 *
 * Why it is safe with one SQLite connection that only the loop uses: in WAL mode a COMMIT
 * with synchronous NORMAL appends the transaction's frames to the WAL file and publishes
 * them in the WAL index, and synchronous FULL adds exactly one fdatasync of the WAL after
 * that (sqlite.org/pragma.html#pragma_synchronous). store_wal_open switches the connection
 * to NORMAL and store_wal_sync makes that fdatasync on a descriptor of its own: it touches
 * no SQLite object, so it may run on another thread while the loop goes on with the next
 * transaction on the connection. A commit is durable once a store_wal_sync that *began*
 * after it returned (fdatasync covers every byte written before the call); recovery keeps
 * the WAL's frames up to its last complete commit, so the durable prefix is what survives.
 * The WAL header, written when the log restarts, is still synced by SQLite itself in NORMAL.
 * Checkpoints run on a second connection, used by one thread only (SQLITE_OPEN_NOMUTEX: a
 * connection must not be used by two threads at once): PASSIVE never waits for the loop's writer,
 * syncs the WAL before it copies frames into the database and the database after, and the
 * loop's writer restarts the log once everything is copied -- which under steady writes
 * only a RESTART checkpoint achieves (store_wal.c). */
#ifndef SLAD_STORE_WAL_H
#define SLAD_STORE_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct store;
struct store_wal;

/* On the connection's thread, outside a transaction. Turns off SQLite's automatic
 * checkpoints (store_wal_frames tells when one is due) and, when sync_commits, the WAL's
 * fdatasync at each commit: from then on a commit is durable only after store_wal_sync.
 * -ENOTSUP for a database without a file (":memory:", a temporary one) or on PostgreSQL
 * (its server makes each commit durable): nothing changes.
 * On any failure the connection is left as it was. */
int store_wal_open(struct store *s, bool sync_commits, struct store_wal **ret,
                   struct slad_error *reterr);

/* The frames in the WAL after the connection's last commit (connection's thread). */
int64_t store_wal_frames(const struct store_wal *w);

/* The WAL's path, for messages. */
const char *store_wal_path(const struct store_wal *w);

/* fdatasync the WAL: every commit made before the call is then on disk. Any one thread
 * (the same for each call). */
int store_wal_sync(struct store_wal *w, struct slad_error *reterr);

/* A PASSIVE checkpoint on the second connection: copies what it can of the WAL into the
 * database without waiting for anyone; when the log is long (a few thousand frames) a
 * RESTART one after it, for which the connection's writer waits (bounded: store_wal.c
 * says why and how). Any one thread (the same for each call; it may run beside
 * store_wal_sync). */
int store_wal_checkpoint(struct store_wal *w, struct slad_error *reterr);

/* A write of the connection waited for one of our checkpoints as long as it may (some
 * 20 s, store_wal.c) and fails: fn gets a message for the operator (what failed, why,
 * what to check), on the connection's thread, before the write returns its error. */
typedef void store_wal_stall_fn(void *userdata, const char *msg);
void store_wal_set_stall_fn(struct store_wal *w, store_wal_stall_fn *fn, void *userdata);

/* Tests: the monotonic clock (microseconds) the waits of both threads measure with;
 * called from either thread. */
typedef int64_t store_wal_clock_fn(void *userdata);
void store_wal_set_clock(struct store_wal *w, store_wal_clock_fn *fn, void *userdata);

/* The RESTART checkpoints that completed (the checkpoint's thread), and the longest the
 * connection's thread waited for one, in microseconds (its thread): for tests, benches. */
unsigned long store_wal_restarts(const struct store_wal *w);
int64_t store_wal_loop_wait_max_us(const struct store_wal *w);

/* On the connection's thread once the other thread no longer uses w: the connection syncs
 * and checkpoints by itself again. NULL-safe. */
void store_wal_close(struct store_wal *w);

#endif
