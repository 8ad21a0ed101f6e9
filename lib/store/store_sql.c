/* store_sql.c - the statement plumbing every file of lib/store shares (store_internal.h):
 * SQLite's result codes as -errno with a message, the statement cache (each statement
 * prepared once, keyed by the address of its SQL text, reset after use), binding the
 * newest rows, running a statement, and whether a transaction is open. It calls no other
 * store file. */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_fail_rc(sqlite3 *db, int rc, const char *op, struct slad_error *reterr)
{
    int code;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        code = ENOSPC;
        break;
    case SQLITE_READONLY:
        code = EROFS;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = EAGAIN;
        break;
    case SQLITE_NOMEM:
        code = ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
        code =
            rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? EEXIST : EINVAL;
        break;
    default:
        code = EIO;
        break;
    }
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return slad_error_set(reterr, code, "database: %s failed: %s", op, detail);
}

int store_fail(struct store *s, int rc, const char *op, struct slad_error *reterr)
{
    return store_fail_rc(s->db, rc, op, reterr);
}

int store_agenda_rows(struct store *s, const char *sql, store_agenda_fn *fn, void *userdata,
                      const char *op, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql, reterr);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = fn(userdata, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc, op, reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

sqlite3_stmt *store_prepared(struct store *s, const char *sql, struct slad_error *reterr)
{
    if (!s->db) { /* a PostgreSQL store: only the files on the seam run on it */
        slad_error_set(reterr, ENOTSUP,
                       "database: this operation is not available on PostgreSQL yet");
        return NULL;
    }
    size_t i = 0;
    for (; i < s->n_cached; i++)
        if (s->cached_sql[i] == sql)
            return s->cached[i];
    if (i == STORE_CACHED_MAX) {
        slad_error_set(reterr, ENOSPC, "database: more than %d cached statements",
                       STORE_CACHED_MAX);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        store_fail(s, rc, "preparing a statement", reterr);
        return NULL;
    }
    s->cached_sql[i] = sql;
    s->cached[i] = st;
    s->n_cached++;
    return st;
}

int store_bind_latest(struct store *s, const char *sql, int64_t id, size_t limit, const char *op,
                      sqlite3_stmt **ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    bind_limit(&b, 2, limit);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, op, reterr);
    }
    *ret = st;
    return 0;
}

int store_run(struct store *s, sqlite3_stmt *st, const char *op, struct slad_error *reterr)
{
    /* Else the statement would commit alone while the batch it belongs to fails. */
    if (s->in_begin && !store_in_transaction(s))
        return slad_error_set(reterr, EIO,
                              "database: %s failed: the transaction was rolled back after an "
                              "earlier error",
                              op);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(s, rc, op, reterr);
    sqlite3_reset(st);
    return r;
}

int store_run_id(struct store *s, const char *sql, int64_t id, const char *op,
                 struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, op, reterr);
    }
    return store_run(s, st, op, reterr);
}

int store_exec(sqlite3 *db, const char *sql, const char *op, struct slad_error *reterr)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail_rc(db, rc, op, reterr);
}

bool store_in_transaction(const struct store *s)
{
    return db_in_transaction(s->dbh);
}
