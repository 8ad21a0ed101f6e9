/* store_wal.c - the WAL's fsync and checkpoints off the connection's thread (see
 * store_wal.h for why this keeps SQLite's durability). */
#include "store_wal.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store_wal {
    struct store *s;
    bool sync_commits;
    char *wal_path;
    int fd;         /* the WAL, opened by the syncing thread at its first sync */
    sqlite3 *ckpt;  /* the checkpoints' connection, used only by the syncing thread */
    int64_t frames; /* after the connection's last commit (its WAL hook) */
};

/* SQLite calls this after every commit of the loop's connection; returning without a
 * checkpoint is what wal_autocheckpoint = 0 does. */
static int wal_hook(void *userdata, sqlite3 *db, const char *name, int frames)
{
    struct store_wal *w = userdata;
    w->frames = frames;
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
    if (r == 0 && sync_commits)
        r = store_exec(db, "PRAGMA synchronous = NORMAL", "handing the WAL's sync to a thread",
                       reterr);
    if (r < 0) {
        sqlite3_close_v2(w->ckpt);
        free(w->wal_path);
        free(w);
        return r;
    }
    sqlite3_wal_hook(db, wal_hook, w); /* replaces the automatic checkpoint */
    *ret = w;
    return 0;
}

int64_t store_wal_frames(const struct store_wal *w)
{
    return w->frames;
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
    int rc = sqlite3_wal_checkpoint_v2(w->ckpt, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* BUSY: another checkpoint runs (an operator's shell); the next one will do. */
    if (rc == SQLITE_OK || rc == SQLITE_BUSY)
        return 0;
    return store_fail_rc(w->ckpt, rc, "checkpoint", reterr);
}

void store_wal_close(struct store_wal *w)
{
    if (!w)
        return;
    sqlite3 *db = store_db(w->s);
    sqlite3_wal_autocheckpoint(db, 1000); /* SQLite's default; removes wal_hook */
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
