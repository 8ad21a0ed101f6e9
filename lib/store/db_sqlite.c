/* db_sqlite.c - db.h on SQLite: each call is its sqlite3_* twin. The connection is set up
 * as store.c sets up its own (WAL, foreign keys, a short busy timeout); errors are
 * store_fail_rc's. */
#include "db.h"
#include "db_internal.h"
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* As STORE_BUSY_TIMEOUT_MS: a lock is waited for briefly, the loop must not stall. */
#define DB_SQLITE_BUSY_TIMEOUT_MS 25

/* The transaction statements db_exec runs most (BEGIN, COMMIT, SAVEPOINT op...). */
#define DB_SQLITE_KEPT_MAX 8
#define DB_SQLITE_KEPT_LEN 64

struct db_sqlite {
    struct db base;
    sqlite3 *conn;
    bool owns_conn; /* false for db_wrap_sqlite: the store closes its connection */
    /* One statement db_exec runs, kept prepared: running it again needs no memory, so a
     * ROLLBACK TO cannot fail for want of it (sqlite3_exec prepares each time). */
    char kept_sql[DB_SQLITE_KEPT_MAX][DB_SQLITE_KEPT_LEN];
    sqlite3_stmt *kept[DB_SQLITE_KEPT_MAX];
    size_t n_kept;
};

struct db_sqlite_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
    int bind_rc; /* the first binding's failure, returned by step */
};

static sqlite3 *conn_of(struct db *db)
{
    return ((struct db_sqlite *)db)->conn;
}

static struct db_sqlite_stmt *stmt_of(struct db_stmt *st)
{
    return (struct db_sqlite_stmt *)st;
}

/* One mapping of SQLite's codes to -errno, the store's (store_sql.c). */
static int fail(sqlite3 *conn, int rc, const char *op, struct slad_error *reterr)
{
    return store_fail_rc(conn, rc, op, reterr);
}

static void sqlite_close(struct db *db)
{
    struct db_sqlite *d = (struct db_sqlite *)db;
    for (size_t i = 0; i < d->n_kept; i++)
        sqlite3_finalize(d->kept[i]);
    if (((struct db_sqlite *)db)->owns_conn)
        sqlite3_close_v2(conn_of(db));
    free(db);
}

/* The kept statement of sql (one short statement), prepared now when there is room;
 * NULL for another (sqlite3_exec runs it). */
static sqlite3_stmt *kept_stmt(struct db_sqlite *d, const char *sql, int *ret_rc)
{
    *ret_rc = SQLITE_OK;
    if (strlen(sql) >= DB_SQLITE_KEPT_LEN || strchr(sql, ';'))
        return NULL;
    for (size_t i = 0; i < d->n_kept; i++)
        if (strcmp(d->kept_sql[i], sql) == 0)
            return d->kept[i];
    if (d->n_kept == DB_SQLITE_KEPT_MAX)
        return NULL;
    sqlite3_stmt *st = NULL;
    *ret_rc = sqlite3_prepare_v3(d->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (*ret_rc != SQLITE_OK)
        return NULL;
    snprintf(d->kept_sql[d->n_kept], DB_SQLITE_KEPT_LEN, "%s", sql);
    d->kept[d->n_kept++] = st;
    return st;
}

static int sqlite_exec(struct db *db, const char *sql, const char *op, struct slad_error *reterr)
{
    int rc;
    sqlite3_stmt *st = kept_stmt((struct db_sqlite *)db, sql, &rc);
    if (st) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_exec(conn_of(db), sql, NULL, NULL, NULL);
    }
    return rc == SQLITE_OK ? 0 : fail(conn_of(db), rc, op, reterr);
}

static int sqlite_keep(struct db *db, const char *sql, struct slad_error *reterr)
{
    int rc;
    kept_stmt((struct db_sqlite *)db, sql, &rc);
    return rc == SQLITE_OK ? 0 : fail(conn_of(db), rc, "preparing a statement", reterr);
}

static int sqlite_open(const char *target, struct db **ret, struct slad_error *reterr)
{
    struct db_sqlite *d = calloc(1, sizeof(*d));
    if (!d)
        return slad_error_set(reterr, ENOMEM, "database '%s': out of memory", target);
    d->owns_conn = true;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(target, &d->conn, flags, NULL);
    int r = 0;
    if (rc != SQLITE_OK)
        r = d->conn ? fail(d->conn, rc, "opening", reterr)
                    : slad_error_set(reterr, ENOMEM, "database '%s': out of memory", target);
    if (r == 0) {
        sqlite3_extended_result_codes(d->conn, 1);
        sqlite3_busy_timeout(d->conn, DB_SQLITE_BUSY_TIMEOUT_MS);
        r = sqlite_exec(&d->base, "PRAGMA foreign_keys = ON", "enabling foreign keys", reterr);
    }
    if (r == 0)
        r = sqlite_exec(&d->base, "PRAGMA journal_mode = WAL", "switching to WAL mode", reterr);
    if (r < 0) {
        sqlite_close(&d->base);
        return r;
    }
    *ret = &d->base;
    return 0;
}

int db_wrap_sqlite(sqlite3 *conn, struct db **ret, struct slad_error *reterr)
{
    struct db_sqlite *d = calloc(1, sizeof(*d));
    if (!d)
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    d->base.driver = &db_sqlite_driver;
    d->conn = conn;
    *ret = &d->base;
    return 0;
}

static struct db_stmt *sqlite_prepare(struct db *db, const char *sql, struct slad_error *reterr)
{
    struct db_sqlite_stmt *s = calloc(1, sizeof(*s));
    if (!s) {
        slad_error_set(reterr, ENOMEM, "database: out of memory preparing a statement");
        return NULL;
    }
    int rc = sqlite3_prepare_v3(conn_of(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
    if (rc != SQLITE_OK) {
        fail(conn_of(db), rc, "preparing a statement", reterr);
        free(s);
        return NULL;
    }
    return &s->base;
}

static void sqlite_finalize(struct db_stmt *st)
{
    sqlite3_finalize(stmt_of(st)->st);
    free(st);
}

static void keep_first(struct db_sqlite_stmt *s, int rc)
{
    if (s->bind_rc == SQLITE_OK)
        s->bind_rc = rc;
}

static void sqlite_bind_text(struct db_stmt *st, int i, const char *v)
{
    struct db_sqlite_stmt *s = stmt_of(st);
    keep_first(s,
               v ? sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s->st, i));
}

static void sqlite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    keep_first(stmt_of(st), sqlite3_bind_int64(stmt_of(st)->st, i, v));
}

static void sqlite_bind_null(struct db_stmt *st, int i)
{
    keep_first(stmt_of(st), sqlite3_bind_null(stmt_of(st)->st, i));
}

static int sqlite_step(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    struct db_sqlite_stmt *s = stmt_of(st);
    sqlite3 *conn = conn_of(st->db);
    if (s->bind_rc != SQLITE_OK)
        return fail(conn, s->bind_rc, op, reterr);
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : fail(conn, rc, op, reterr);
}

/* SQLite has no round trip to save: the write runs now. */
static int sqlite_queue(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    int r;
    while ((r = sqlite_step(st, op, reterr)) == 1)
        ;
    return r;
}

static int sqlite_sync(struct db *db, struct slad_error *reterr)
{
    return 0;
}

static bool sqlite_column_is_null(struct db_stmt *st, int i)
{
    return sqlite3_column_type(stmt_of(st)->st, i) == SQLITE_NULL;
}

static int64_t sqlite_column_int64(struct db_stmt *st, int i)
{
    return sqlite3_column_int64(stmt_of(st)->st, i);
}

static const char *sqlite_column_text(struct db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(stmt_of(st)->st, i);
}

static int sqlite_column_count(struct db_stmt *st)
{
    return sqlite3_column_count(stmt_of(st)->st);
}

static const char *sqlite_column_name(struct db_stmt *st, int i)
{
    return sqlite3_column_name(stmt_of(st)->st, i);
}

static void sqlite_reset(struct db_stmt *st)
{
    struct db_sqlite_stmt *s = stmt_of(st);
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->bind_rc = SQLITE_OK;
}

static int64_t sqlite_changes(struct db *db)
{
    return sqlite3_changes64(conn_of(db));
}

static int64_t sqlite_last_insert_id(struct db *db)
{
    return sqlite3_last_insert_rowid(conn_of(db));
}

static bool sqlite_in_transaction(struct db *db)
{
    return !sqlite3_get_autocommit(conn_of(db));
}

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .keep = sqlite_keep,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .bind_text = sqlite_bind_text,
    .bind_int64 = sqlite_bind_int64,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .queue = sqlite_queue,
    .sync = sqlite_sync,
    .column_is_null = sqlite_column_is_null,
    .column_int64 = sqlite_column_int64,
    .column_text = sqlite_column_text,
    .column_count = sqlite_column_count,
    .column_name = sqlite_column_name,
    .reset = sqlite_reset,
    .changes = sqlite_changes,
    .last_insert_id = sqlite_last_insert_id,
    .in_transaction = sqlite_in_transaction,
    .begin_sql = "BEGIN IMMEDIATE",
};
