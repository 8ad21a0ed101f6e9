/* store_wal.c - the WAL's fsync and checkpoints off the connection's thread (see
 * store_wal.h for why this keeps SQLite's durability). */
#include "store_wal.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Why PASSIVE alone lets the WAL grow without bound (sqlite.org/wal.html, "Avoiding
 * Excessively Large WAL Files", and wal.c): a writer starts the log again from its head
 * only if, when its transaction began, every frame was copied (nBackfill == mxFrame) and
 * no reader still uses the log. A PASSIVE checkpoint copies the frames committed before
 * it started; under steady writes the loop commits more meanwhile, so the log is never
 * found fully copied and every commit appends: 4,000 tickets left a 51-93 MB WAL.
 * So past STORE_WAL_RESTART_FRAMES the checkpoint thread runs a RESTART checkpoint after
 * its PASSIVE one: it takes the writer lock, copies the few frames the PASSIVE one left,
 * syncs the database, waits for readers to leave the log and returns; the loop's next
 * transaction then restarts the log and overwrites the file from its head. The file is
 * not truncated in between: an fdatasync of a file that grows also commits its new size
 * (a journal commit of the file system): with the WAL cut back to 4 MiB at every restart,
 * a paced intake's answers took about twice as long (p50 1.6-1.9 ms against 0.9-1.0, p99
 * 26-30 ms against 12-15, doc/PERFORMANCE.md "WAL not cut back"). So STORE_WAL_SIZE_LIMIT,
 * journal_size_limit, is above what the log reaches under the cap below (24.7 MB): it
 * only cuts back a log that outgrew the cap (a reader holding an old snapshot).
 * The loop waits while the writer lock is held (measured in doc/PERFORMANCE.md): it must not
 * fail for it, nor starve the checkpoint by taking the lock again at once, so while a restart
 * is wanted the loop's WAL hook (after its commit released the lock) waits for it to end, and
 * its busy handler keeps waiting instead of giving up after STORE_BUSY_TIMEOUT_MS -- as long as
 * the checkpoint runs, not a fixed 2 s: copying thousands of frames into a large database and
 * syncing it on a busy disk can take longer, and a write that gave up failed (a 503 to an
 * intake request, a delivery's outcome not recorded). Only past STORE_WAL_BUSY_MAX_MS, below
 * systemd's watchdog, does the write fail, and the stall function (store_wal_set_stall_fn)
 * tells the operator why.
 * A writer faster than the checkpoints (a PASSIVE one syncing a loaded disk takes tens of
 * ms, the writer may append thousands of frames meanwhile) would still outgrow any bound:
 * past STORE_WAL_CAP_FRAMES the loop also waits, after its commit, for the checkpoint in
 * progress (which then restarts the log): back-pressure, bounded by the same wait. */
#define STORE_WAL_RESTART_FRAMES 4000
#define STORE_WAL_CAP_FRAMES     6000
#define STORE_WAL_SIZE_LIMIT     (32 * 1024 * 1024)
/* How long the checkpoint waits for the writer lock and for readers (a report on a reader
 * thread) before leaving the restart to the next one; the most the loop waits after its
 * commit (it then goes on, nothing fails); the most a write of the loop waits for the lock
 * one of our checkpoints holds before it fails (systemd's WatchdogSec is 30 s: a loop
 * stopped longer is killed). */
#define STORE_WAL_RESTART_BUDGET_MS 200
#define STORE_WAL_LOOP_WAIT_MAX_MS  2000
#define STORE_WAL_BUSY_MAX_MS       20000
/* Polling step of both waits: short, the loop is stopped meanwhile. */
#define STORE_WAL_POLL_US 100

struct store_wal {
    struct store *s;
    bool sync_commits;
    char *wal_path;
    int fd;              /* the WAL, opened by the syncing thread at its first sync */
    sqlite3 *ckpt;       /* the checkpoints' connection, used only by the syncing thread */
    atomic_llong frames; /* after the connection's last commit (its WAL hook) */
    /* Set by the checkpoint thread: while store_wal_checkpoint runs, and while its RESTART
     * checkpoint is pending or running. */
    atomic_bool checkpointing, restart_wanted;
    double restart_deadline;   /* checkpoint thread only */
    unsigned long restarts;    /* RESTART checkpoints that completed (checkpoint thread) */
    int64_t loop_wait_max_us;  /* the longest the loop waited for one (loop's thread) */
    int64_t busy_start_us;     /* the loop's busy handler: when this wait began */
    bool busy_for_ckpt;        /* ... and it has seen our checkpoint running */
    store_wal_clock_fn *clock; /* NULL: CLOCK_MONOTONIC */
    void *clock_userdata;
    store_wal_stall_fn *stall;
    void *stall_userdata;
};

static int64_t now_us(const struct store_wal *w)
{
    if (w->clock)
        return w->clock(w->clock_userdata);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The loop's thread, after a commit: while a restart is wanted, or the log is past its cap
 * and a checkpoint runs, wait (bounded) for the checkpoint to end. */
static void wait_for_checkpoint(struct store_wal *w, int frames)
{
    if (!atomic_load(&w->restart_wanted) &&
        !(frames >= STORE_WAL_CAP_FRAMES && atomic_load(&w->checkpointing)))
        return;
    int64_t start = now_us(w);
    int64_t waited = 0;
    while (atomic_load(&w->checkpointing) && waited < STORE_WAL_LOOP_WAIT_MAX_MS * 1000) {
        usleep(STORE_WAL_POLL_US);
        waited = now_us(w) - start;
    }
    if (waited > w->loop_wait_max_us)
        w->loop_wait_max_us = waited;
}

/* The lock was waited for as long as a write may: say so, once per failed write. */
static void report_stall(struct store_wal *w, int64_t waited)
{
    if (!w->stall)
        return;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "database: a write waited %.1f s for the WAL checkpoint of '%s' (the most it may "
             "wait) and failed as 'database is locked'; the checkpoint copies the WAL into the "
             "database and syncs it: the disk is too slow for it (check its latency, e.g. "
             "with iostat -x), or another process keeps the database busy",
             (double)waited / 1e6, w->wal_path);
    w->stall(w->stall_userdata, msg);
}

/* The loop's connection: a lock held by someone else is waited for STORE_BUSY_TIMEOUT_MS
 * as before; while our checkpoint runs (its RESTART holds the writer lock), as long as it
 * runs, up to STORE_WAL_BUSY_MAX_MS. (A foreign lock met while only its PASSIVE part runs
 * is waited for until that ends too: rare, bounded by that checkpoint, and one flag for
 * the whole checkpoint cannot miss the moment its RESTART takes the lock.) */
static int loop_busy(void *userdata, int count)
{
    struct store_wal *w = userdata;
    int64_t now = now_us(w);
    if (count == 0) {
        w->busy_start_us = now;
        w->busy_for_ckpt = false;
    }
    int64_t waited = now - w->busy_start_us;
    if (atomic_load(&w->checkpointing)) {
        w->busy_for_ckpt = true;
        if (waited > w->loop_wait_max_us)
            w->loop_wait_max_us = waited;
        if (waited >= STORE_WAL_BUSY_MAX_MS * 1000) {
            report_stall(w, waited);
            return 0;
        }
        usleep(STORE_WAL_POLL_US);
        return 1;
    }
    if (w->busy_for_ckpt) {
        /* Our checkpoint ended between the last try and now: its lock is free, the
         * ordinary timeout starts again (the try that failed came before its end). */
        w->busy_for_ckpt = false;
        w->busy_start_us = now;
        waited = 0;
    }
    if (waited >= STORE_BUSY_TIMEOUT_MS * 1000)
        return 0;
    usleep(1000);
    return 1;
}

/* The checkpoint's connection, in its RESTART: poll for the writer lock and the readers
 * until the deadline (SQLite's own timeout sleeps up to 100 ms a step, the loop waits). */
static int ckpt_busy(void *userdata, int count)
{
    struct store_wal *w = userdata;
    if ((double)now_us(w) >= w->restart_deadline)
        return 0;
    usleep(STORE_WAL_POLL_US);
    return 1;
}

/* SQLite calls this after every commit of the loop's connection; returning without a
 * checkpoint is what wal_autocheckpoint = 0 does. */
static int wal_hook(void *userdata, sqlite3 *db, const char *name, int frames)
{
    struct store_wal *w = userdata;
    atomic_store(&w->frames, frames);
    wait_for_checkpoint(w, frames);
    return SQLITE_OK;
}

int store_wal_open(struct store *s, bool sync_commits, struct store_wal **ret,
                   struct slad_error *reterr)
{
    /* PostgreSQL: the server makes each commit durable; the daemon commits on the loop. */
    if (db_kind(store_dbh(s)) != DB_SQLITE)
        return slad_error_set(reterr, ENOTSUP, "database: PostgreSQL has no WAL file to sync");
    sqlite3 *db = store_db(s);
    const char *main_file = sqlite3_db_filename(db, "main");
    if (!main_file || !main_file[0])
        return slad_error_set(reterr, ENOTSUP, "database: in memory, no WAL to sync");
    const char *wal = sqlite3_filename_wal(main_file);
    struct store_wal *w = calloc(1, sizeof(*w));
    if (!w || !wal || !(w->wal_path = strdup(wal))) {
        free(w);
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    }
    w->s = s;
    w->sync_commits = sync_commits;
    w->fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(main_file, &w->ckpt, flags, NULL);
    int r = rc == SQLITE_OK
                ? 0
                : store_fail_rc(w->ckpt, rc, "opening the checkpoints' connection", reterr);
    /* FULL: the checkpoint syncs the WAL before copying it and the database after. */
    if (r == 0)
        r = store_exec(w->ckpt, "PRAGMA synchronous = FULL", "setting synchronous", reterr);
    /* The loop's writer cuts a restarted log back to this size (see the top). */
    char limit[64];
    snprintf(limit, sizeof(limit), "PRAGMA journal_size_limit = %d", STORE_WAL_SIZE_LIMIT);
    if (r == 0)
        r = store_exec(db, limit, "limiting the WAL's size", reterr);
    if (r == 0 && sync_commits)
        r = store_exec(db, "PRAGMA synchronous = NORMAL", "handing the WAL's sync to a thread",
                       reterr);
    if (r < 0) {
        sqlite3_close_v2(w->ckpt);
        free(w->wal_path);
        free(w);
        return r;
    }
    sqlite3_busy_handler(w->ckpt, ckpt_busy, w);
    sqlite3_busy_handler(db, loop_busy, w);
    sqlite3_wal_hook(db, wal_hook, w); /* replaces the automatic checkpoint */
    *ret = w;
    return 0;
}

int64_t store_wal_frames(const struct store_wal *w)
{
    return atomic_load(&w->frames);
}

const char *store_wal_path(const struct store_wal *w)
{
    return w->wal_path;
}

int store_wal_sync(struct store_wal *w, struct slad_error *reterr)
{
    /* The file exists: the connection opened it (WAL mode) before store_wal_open, and it
     * is removed only when the last connection closes. */
    if (w->fd < 0 && (w->fd = open(w->wal_path, O_RDONLY | O_CLOEXEC)) < 0)
        return slad_error_set(reterr, errno, "database: cannot open the WAL '%s' to sync it: %s",
                              w->wal_path, strerror(errno));
    if (fdatasync(w->fd) < 0)
        return slad_error_set(reterr, errno, "database: fdatasync of the WAL '%s' failed: %s",
                              w->wal_path, strerror(errno));
    return 0;
}

int store_wal_checkpoint(struct store_wal *w, struct slad_error *reterr)
{
    int log = 0;
    atomic_store(&w->checkpointing, true);
    int rc = sqlite3_wal_checkpoint_v2(w->ckpt, "main", SQLITE_CHECKPOINT_PASSIVE, &log, NULL);
    /* log: the frames when the PASSIVE one began; the writer's count is newer. */
    if (rc == SQLITE_OK &&
        (log >= STORE_WAL_RESTART_FRAMES || atomic_load(&w->frames) >= STORE_WAL_RESTART_FRAMES)) {
        /* The log is long and nobody restarts it: see the top of this file. */
        w->restart_deadline = (double)now_us(w) + STORE_WAL_RESTART_BUDGET_MS * 1000.0;
        atomic_store(&w->restart_wanted, true);
        rc = sqlite3_wal_checkpoint_v2(w->ckpt, "main", SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        atomic_store(&w->restart_wanted, false);
        if (rc == SQLITE_OK)
            w->restarts++;
    }
    atomic_store(&w->checkpointing, false);
    /* BUSY: another checkpoint runs (an operator's shell), or the restart found the writer
     * lock or a reader busy past its budget; the next one will do. */
    if (rc == SQLITE_OK || rc == SQLITE_BUSY)
        return 0;
    return store_fail_rc(w->ckpt, rc, "checkpoint", reterr);
}

void store_wal_set_stall_fn(struct store_wal *w, store_wal_stall_fn *fn, void *userdata)
{
    w->stall = fn;
    w->stall_userdata = userdata;
}

void store_wal_set_clock(struct store_wal *w, store_wal_clock_fn *fn, void *userdata)
{
    w->clock = fn;
    w->clock_userdata = userdata;
}

unsigned long store_wal_restarts(const struct store_wal *w)
{
    return w->restarts;
}

int64_t store_wal_loop_wait_max_us(const struct store_wal *w)
{
    return w->loop_wait_max_us;
}

void store_wal_close(struct store_wal *w)
{
    if (!w)
        return;
    sqlite3 *db = store_db(w->s);
    sqlite3_wal_autocheckpoint(db, 1000);            /* SQLite's default; removes wal_hook */
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS); /* removes loop_busy */
    struct slad_error err;
    if (w->sync_commits)
        (void)store_exec(db, "PRAGMA synchronous = FULL", "setting synchronous", &err);
    sqlite3_close_v2(w->ckpt);
    /* Closing our descriptor drops no lock: SQLite locks the database and -shm files only. */
    if (w->fd >= 0)
        close(w->fd);
    free(w->wal_path);
    free(w);
}
