/* store.c - the connection to slad's database (store.h): open and close, transactions and
 * the health check. The target names the driver (db_kind_of): an SQLite file, opened here
 * with its pragmas and migrated (store_schema.c), then put behind db.h (db_wrap_sqlite);
 * or a PostgreSQL server, opened by db_open and brought to the schema by schema_pg_open.
 * Transactions and savepoints go through db.h on both. The statement plumbing the row files
 * share is store_db.c's, SQLite's own (errors, exec) store_sql.c's, the schema
 * store_schema.c's and schema_pg.c's; each kind of row has its own file (store_internal.h
 * lists them). Only the files of lib/store include <sqlite3.h>.
 *
 * Every statement is prepared once, kept in db.h's cache keyed by the address of its SQL
 * text, and reset after each use; all of them are prepared at open. The list filters are
 * fixed statements whose NULL parameters mean "any". */
#include "store.h"
#include "schema_pg.h"
#include "store_clocks_known.h"
#include "store_db.h"
#include "store_internal.h"
#include "store_subjournal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sql_check[] = "SELECT 1";
/* Every service operation runs in this savepoint (store.h). */
#define OP_SAVEPOINT "op"

/* Prepared at open, on either database: every file's statements (store_db.h). */
static const char *const check_statements[] = {sql_check, NULL};
static const char *const *const seam_statements[] = {
    check_statements,         store_ticket_statements, store_clock_write_statements,
    store_history_statements, store_gauges_statements, store_schedule_statements,
    store_outbox_statements,  store_action_statements, store_session_statements,
    store_board_statements,
};

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

/* The SQLite file at path: its pragmas, its migrations, then behind db.h. */
static int open_sqlite(struct store *s, const char *path, bool synchronous_full,
                       struct slad_error *reterr)
{
    int r = create_private(path, reterr);
    if (r < 0)
        return r;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    bool subjournal_configured = store_subjournal_configured(); /* before SQLite starts */
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK)
        return s->db ? store_fail(s, rc, "opening", reterr)
                     : slad_error_set(reterr, ENOMEM, "database: out of memory");
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    r = db_wrap_sqlite(s->db, &s->dbh, reterr);
    if (r >= 0)
        r = store_exec(s->db, "PRAGMA foreign_keys = ON", "enabling foreign keys", reterr);
    /* Each operation runs in a savepoint; past 64 KiB SQLite spills a savepoint's journal
     * to a temp file and copies every page it touches there (two thirds of the writes of
     * an intake batch, measured): keep it in memory, it lives only until the release. In
     * one buffer when store_subjournal.c could set its size; else in 1 KiB pieces. */
    if (r >= 0 && !subjournal_configured)
        r = store_exec(s->db, "PRAGMA temp_store = MEMORY", "keeping temp data in memory", reterr);
    if (r >= 0)
        r = store_exec(s->db, "PRAGMA journal_mode = WAL", "switching to WAL mode", reterr);
    if (r >= 0)
        r = store_exec(
            s->db, synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
            "setting synchronous", reterr);
    if (r >= 0)
        r = store_migrate(s->db, path, reterr);
    return r;
}

/* A PostgreSQL server: durability is the server's (synchronous_commit), the schema is
 * created or migrated under its locks. The target is never quoted: it may hold a
 * password. */
static int open_postgres(struct store *s, const char *target, struct slad_error *reterr)
{
    if (store_schema_version() != SCHEMA_PG_VERSION) /* a migration written for one only */
        return slad_error_set(reterr, EIO,
                              "database: this slad's PostgreSQL schema (version %d) is behind "
                              "its SQLite schema (version %d): use an SQLite database",
                              SCHEMA_PG_VERSION, store_schema_version());
    int r = db_open(target, &s->dbh, reterr);
    if (r >= 0)
        r = schema_pg_open(s->dbh, reterr);
    return r;
}

int store_open(const char *path, bool synchronous_full, struct store **ret,
               struct slad_error *reterr)
{
    bool postgres = db_kind_of(path) == DB_POSTGRES;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    int r =
        postgres ? open_postgres(s, path, reterr) : open_sqlite(s, path, synchronous_full, reterr);
    for (size_t i = 0; r >= 0 && i < sizeof(seam_statements) / sizeof(seam_statements[0]); i++)
        r = store_db_prepare_all(s, seam_statements[i], reterr);
    if (r >= 0)
        r = db_prepare_transactions(s->dbh, OP_SAVEPOINT, reterr);
    if (r < 0) {
        if (!postgres)
            name_path(reterr, path);
        store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_history_discard(s);
    free(s->history.more);
    clocks_known_free(s->clocks_known);
    /* Its statements, and on PostgreSQL the connection; SQLite's is closed below. An open
     * transaction is rolled back by the close. */
    db_close(s->dbh);
    sqlite3_close_v2(s->db);
    free(s);
}

int store_check(struct store *s, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_check, reterr);
    if (!st)
        return -EIO;
    int r = db_step(st, "health check", reterr);
    db_reset(st);
    return r < 0 ? r : 0;
}

int store_begin(struct store *s, struct slad_error *reterr)
{
    s->in_begin = false; /* a transaction SQLite rolled back by itself is over */
    store_clocks_known_forget_all(s);
    int r = db_begin(s->dbh, reterr);
    s->in_begin = store_in_transaction(s);
    return r;
}

int store_commit(struct store *s, struct slad_error *reterr)
{
    int r = store_db_still_in_begin(s, "commit", reterr);
    if (r == 0)
        r = store_history_flush(s, reterr);
    if (r == 0)
        r = db_commit(s->dbh, reterr);
    store_clocks_known_forget_all(s); /* other connections may write the rows now */
    s->in_begin = r < 0 && store_in_transaction(s);
    return r;
}

int store_commit_async(struct store *s, store_commit_done_fn *done, void *arg,
                       struct slad_error *reterr)
{
    if (db_kind(s->dbh) != DB_POSTGRES)
        return slad_error_set(reterr, ENOTSUP, "database: SQLite commits synchronously");
    int r = store_db_still_in_begin(s, "commit", reterr);
    if (r == 0)
        r = store_history_flush(s, reterr);
    if (r == 0)
        r = db_commit_async(s->dbh, done, arg, reterr);
    store_clocks_known_forget_all(s);
    s->in_begin = r < 0 && store_in_transaction(s);
    return r;
}

bool store_commits_async(const struct store *s)
{
    return db_kind(s->dbh) == DB_POSTGRES;
}

int store_async_socket(struct store *s)
{
    return db_async_socket(s->dbh);
}

int store_async_wants(struct store *s)
{
    int w = db_async_wants(s->dbh);
    return (w & DB_WANT_READ ? STORE_WANT_READ : 0) | (w & DB_WANT_WRITE ? STORE_WANT_WRITE : 0);
}

void store_async_pump(struct store *s)
{
    db_async_pump(s->dbh);
}

void store_async_wait(struct store *s)
{
    struct slad_error ignored;
    /* The commits' outcomes go to their done; a queued write's failure to its caller. */
    if (db_async_in_flight(s->dbh) > 0)
        db_sync(s->dbh, &ignored);
}

void store_reconnect_in_background(struct store *s)
{
    db_reconnect_in_background(s->dbh);
}

int store_reconnect_step(struct store *s, double now_s, struct store_link *link)
{
    struct db_link l;
    int r = db_reconnect_step(s->dbh, now_s, &l);
    *link = (struct store_link){
        .fd = l.fd,
        .wants = (l.wants & DB_WANT_READ ? STORE_WANT_READ : 0) |
                 (l.wants & DB_WANT_WRITE ? STORE_WANT_WRITE : 0),
        .at_s = l.at_s,
        .failed = l.failed,
        .why = l.why ? l.why : "",
    };
    return r;
}

bool store_connected(struct store *s)
{
    return db_connected(s->dbh);
}

int store_rollback(struct store *s, struct slad_error *reterr)
{
    store_history_discard(s);
    store_clocks_known_forget_all(s);
    s->in_begin = false;
    return db_rollback(s->dbh, reterr);
}

/* The pending history row belongs to the operation that recorded it: written before an
 * inner savepoint opens (so that rolling that one back cannot drop it) and when the
 * operation ends, dropped when it rolls back. */
int store_savepoint(struct store *s, struct slad_error *reterr)
{
    int r = store_db_still_in_begin(s, "savepoint", reterr);
    if (r == 0)
        r = store_history_flush(s, reterr);
    return r < 0 ? r : db_savepoint(s->dbh, OP_SAVEPOINT, reterr);
}

int store_release(struct store *s, struct slad_error *reterr)
{
    int r = store_db_still_in_begin(s, "release savepoint", reterr);
    if (r == 0)
        r = store_history_flush(s, reterr);
    return r < 0 ? r : db_release(s->dbh, OP_SAVEPOINT, reterr);
}

int store_rollback_to(struct store *s, struct slad_error *reterr)
{
    store_history_discard(s);
    store_clocks_known_forget_all(s); /* the rows hold what they held before the savepoint */
    /* db_rollback_to ends the savepoint too (and, when the savepoint began the
     * transaction, commits the now empty transaction). */
    int r = store_db_still_in_begin(s, "rollback to savepoint", reterr);
    return r < 0 ? r : db_rollback_to(s->dbh, OP_SAVEPOINT, reterr);
}
