/* store.c - the connection to slad's SQLite database (store.h): open and close,
 * transactions and the health check. The statement plumbing every store file shares
 * (errors, the statement cache, running) is store_sql.c's, the schema store_schema.c's;
 * each kind of row has its own file (store_internal.h lists them). Only the files of
 * lib/store include <sqlite3.h>.
 *
 * Every statement is prepared once with SQLITE_PREPARE_PERSISTENT, kept in a cache keyed
 * by the address of its SQL text, and reset after each use; those of the connection,
 * tickets, history, outbox and gauges are prepared at open. The list filters are fixed
 * statements whose NULL parameters mean "any". */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a statement waits for a lock held by another connection (sqlite3 shell, a
 * backup) before failing with -EAGAIN. The wait blocks the whole event loop, so it is
 * short: a write that cannot get the lock gets 503 at once rather than stalling every
 * other client (and /healthz, goal 50 ms) for seconds. WAL readers never take it. */
#define STORE_BUSY_TIMEOUT_MS 25

static const char sql_check[] = "SELECT 1";
static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT op";
static const char sql_release[] = "RELEASE op";
static const char sql_rollback_to[] = "ROLLBACK TO op";

static const char *const connection_statements[] = {
    sql_check,     sql_begin,   sql_commit,      sql_rollback,
    sql_savepoint, sql_release, sql_rollback_to, NULL,
};

/* Prepared at open (store_internal.h): those of the files on sqlite3_*, and those of the
 * files on the SQL seam (store_db.h). */
static const char *const *const statements[] = {
    connection_statements,
    store_outbox_statements,
    store_action_statements,
};
static const char *const *const seam_statements[] = {
    store_ticket_statements,   store_history_statements, store_gauges_statements,
    store_schedule_statements, store_session_statements, store_board_statements,
};

/* A statement of this file, prepared at open. */
static sqlite3_stmt *stmt(struct store *s, const char *sql)
{
    return store_prepared(s, sql, NULL);
}

/* "database: X" becomes "database 'PATH': X": at open the path tells which file. */
static void name_path(struct slad_error *err, const char *path)
{
    static const char generic[] = "database: ";
    if (!err || strncmp(err->msg, generic, sizeof(generic) - 1) != 0)
        return;
    char msg[SLAD_ERROR_MAX];
    snprintf(msg, sizeof(msg), "database '%s': %s", path, err->msg + sizeof(generic) - 1);
    memcpy(err->msg, msg, sizeof(msg));
}

/* The database holds customers' names and phones: a new one is created 0600 whatever the
 * umask (SQLite gives its -wal and -shm files the database's mode). An existing file keeps
 * the mode its operator gave it. */
static int create_private(const char *path, struct slad_error *reterr)
{
    if (!path[0] || strncmp(path, "file:", 5) == 0 || strcmp(path, ":memory:") == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST
                   ? 0
                   : slad_error_set(reterr, errno, "database '%s': cannot create it: %s", path,
                                    strerror(errno));
    int r = fchmod(fd, 0600) < 0
                ? slad_error_set(reterr, errno, "database '%s': cannot make it private: %s", path,
                                 strerror(errno))
                : 0;
    close(fd);
    return r;
}

int store_open(const char *path, bool synchronous_full, struct store **ret,
               struct slad_error *reterr)
{
    int cr = create_private(path, reterr);
    if (cr < 0)
        return cr;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return slad_error_set(reterr, ENOMEM, "database '%s': out of memory", path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    int r;
    if (rc != SQLITE_OK) {
        if (!s->db) {
            r = slad_error_set(reterr, ENOMEM, "database: out of memory");
        } else {
            r = store_fail(s, rc, "opening", reterr);
        }
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    r = db_wrap_sqlite(s->db, &s->dbh, reterr);
    if (r >= 0)
        r = store_exec(s->db, "PRAGMA foreign_keys = ON", "enabling foreign keys", reterr);
    /* Each operation runs in a savepoint; past 64 KiB SQLite spills a savepoint's journal
     * to a temp file and copies every page it touches there (two thirds of the writes of
     * an intake batch, measured): keep it in memory, it lives only until the commit. */
    if (r >= 0)
        r = store_exec(s->db, "PRAGMA temp_store = MEMORY", "keeping temp data in memory", reterr);
    if (r >= 0)
        r = store_exec(s->db, "PRAGMA journal_mode = WAL", "switching to WAL mode", reterr);
    if (r >= 0)
        r = store_exec(
            s->db, synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
            "setting synchronous", reterr);
    if (r >= 0)
        r = store_migrate(s->db, path, reterr);
    for (size_t i = 0; r >= 0 && i < sizeof(statements) / sizeof(statements[0]); i++)
        for (const char *const *sql = statements[i]; r >= 0 && *sql; sql++)
            if (!store_prepared(s, *sql, reterr))
                r = -EIO;
    for (size_t i = 0; r >= 0 && i < sizeof(seam_statements) / sizeof(seam_statements[0]); i++)
        r = store_db_prepare_all(s, seam_statements[i], reterr);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    name_path(reterr, path);
    store_close(s);
    return r;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_history_discard(s);
    free(s->history.more);
    for (size_t i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cached[i]);
    db_close(s->dbh); /* its statements; the connection is closed below */
    /* An open transaction is rolled back by the close. */
    sqlite3_close_v2(s->db);
    free(s);
}

int store_check(struct store *s, struct slad_error *reterr)
{
    sqlite3_stmt *st = stmt(s, sql_check);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? 0 : store_fail(s, rc, "health check", reterr);
    sqlite3_reset(st);
    return r;
}

int store_begin(struct store *s, struct slad_error *reterr)
{
    s->in_begin = false; /* a transaction SQLite rolled back by itself is over */
    int r = store_run(s, stmt(s, sql_begin), "begin transaction", reterr);
    s->in_begin = store_in_transaction(s);
    return r;
}

int store_commit(struct store *s, struct slad_error *reterr)
{
    int r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    r = store_run(s, stmt(s, sql_commit), "commit", reterr);
    s->in_begin = r < 0 && store_in_transaction(s);
    return r;
}

int store_rollback(struct store *s, struct slad_error *reterr)
{
    store_history_discard(s);
    s->in_begin = false;
    return store_run(s, stmt(s, sql_rollback), "rollback", reterr);
}

/* The pending history row belongs to the operation that recorded it: written before an
 * inner savepoint opens (so that rolling that one back cannot drop it) and when the
 * operation ends, dropped when it rolls back. */
int store_savepoint(struct store *s, struct slad_error *reterr)
{
    int r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    return store_run(s, stmt(s, sql_savepoint), "savepoint", reterr);
}

int store_release(struct store *s, struct slad_error *reterr)
{
    int r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    return store_run(s, stmt(s, sql_release), "release savepoint", reterr);
}

int store_rollback_to(struct store *s, struct slad_error *reterr)
{
    store_history_discard(s);
    /* ROLLBACK TO keeps the savepoint open; RELEASE ends it (and, when the savepoint
     * began the transaction, commits the now empty transaction). */
    int r = store_run(s, stmt(s, sql_rollback_to), "rollback to savepoint", reterr);
    if (r < 0)
        return r;
    return store_run(s, stmt(s, sql_release), "release savepoint", reterr);
}
