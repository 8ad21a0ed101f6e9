/* store_db.h - what the store's files converted to the SQL seam (db.h) share, as
 * store_internal.h's helpers are for those still on sqlite3_*: the connection, running a
 * statement, the agenda's rows, and NULL for "none" in times and ids. Not for use outside
 * lib/store. Converted: all the row files (doc/POSTGRESQL.md); store_sql.c keeps what only
 * SQLite's own code uses (errors, the migrations' exec). */
#ifndef SLAD_STORE_DB_H
#define SLAD_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"
#include "store.h"
#include "ticket.h"

/* The store's connection behind db.h. */
struct db *store_dbh(struct store *s);

/* The statement of sql (a string constant: its address is the cache key), NULL with
 * reterr set when it cannot be prepared. */
struct db_stmt *store_stmt(struct store *s, const char *sql, struct slad_error *reterr);

/* 0, or -EIO when store_begin's transaction was rolled back by the database itself (SQLite
 * after an I/O error): what runs now would commit alone while its batch fails. */
int store_db_still_in_begin(struct store *s, const char *op, struct slad_error *reterr);

/* Run st (bound) to its end, its rows ignored, and reset it. Inside store_begin's
 * transaction, refused when the database rolled that transaction back by itself (SQLite
 * after an I/O error): the statement would commit alone while its batch fails. */
int store_db_run(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr);

/* Queue st (bound) without waiting for its answer (db_queue; on SQLite it runs), and reset
 * it: for writes whose outcome the caller collects at once with db_sync. */
int store_db_queue(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr);

/* A write whose rows and count are not needed (a history row, a clock, a label, an outbox
 * row): inside an operation's savepoint on PostgreSQL it is queued (db_queue), not waited
 * for, and its failure is held until the operation's next read, RELEASE or the COMMIT,
 * which fails the operation (rolled back to its savepoint). Elsewhere, and on SQLite, it
 * is store_db_run. st is reset after it either way. */
int store_db_write(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr);

/* store_db_write of sql (a string constant, no rows) with ?1 = id. */
int store_db_write_id(struct store *s, const char *sql, int64_t id, const char *op,
                      struct slad_error *reterr);

/* Run st, an INSERT ... RETURNING id (bound), as store_db_run: the new row's id into
 * *ret_id, 0 when it inserted none (ON CONFLICT DO NOTHING). */
int store_db_insert(struct store *s, struct db_stmt *st, const char *op, int64_t *ret_id,
                    struct slad_error *reterr);

/* Run st as store_db_run: the rows it changed (db_changes) into *ret_changes. */
int store_db_run_changes(struct store *s, struct db_stmt *st, const char *op, int64_t *ret_changes,
                         struct slad_error *reterr);

/* Run sql (a string constant, no rows) with ?1 = id, as store_db_run. */
int store_db_run_id(struct store *s, const char *sql, int64_t id, const char *op,
                    struct slad_error *reterr);

/* The statement of sql (a string constant) with ?1 = id and ?2 = limit (0: none) bound: the
 * newest rows of a ticket. NULL with reterr set when it cannot be prepared. */
struct db_stmt *store_db_latest(struct store *s, const char *sql, int64_t id, size_t limit,
                                struct slad_error *reterr);

/* Step st (bound) once and reset it: 1 with column 0 of its row into *ret (a count, an
 * id), 0 when it has no row, -errno on failure. */
int store_db_scalar(struct db_stmt *st, const char *op, int64_t *ret, struct slad_error *reterr);
/* The same for a statement that always answers one row (a count, an EXISTS): 0 with its
 * value in *ret; no row is a failure of the database (-EIO). */
int store_db_one(struct db_stmt *st, const char *op, int64_t *ret, struct slad_error *reterr);

/* Step st (bound) and call fn on each row until it returns non-zero, then reset st: 0, or
 * the first failure (fn's negative value or the database's). */
typedef int store_db_row_fn(void *ctx, struct db_stmt *st);
int store_db_rows(struct db_stmt *st, const char *op, store_db_row_fn *fn, void *ctx,
                  struct slad_error *reterr);

/* The (id, next_ms) rows of sql (a string constant) through fn: how each table's agenda
 * entries are read at start. op names it in errors. */
int store_db_agenda_rows(struct store *s, const char *sql, store_agenda_fn *fn, void *userdata,
                         const char *op, struct slad_error *reterr);

/* Prepare every statement of a NULL-terminated list (store_open: one that cannot be
 * prepared fails the open rather than a request). */
int store_db_prepare_all(struct store *s, const char *const *sqls, struct slad_error *reterr);

/* SLAD_NO_TIME (and INT64_MAX, "never") as NULL. */
static inline void store_bind_time(struct db_stmt *st, int i, int64_t v)
{
    if (v == SLAD_NO_TIME || v == INT64_MAX)
        db_bind_null(st, i);
    else
        db_bind_int64(st, i, v);
}

/* A row's id, 0 (none) as NULL. */
static inline void store_bind_id(struct db_stmt *st, int i, int64_t id)
{
    if (id)
        db_bind_int64(st, i, id);
    else
        db_bind_null(st, i);
}

/* NULL as SLAD_NO_TIME. */
static inline int64_t store_column_time(struct db_stmt *st, int i)
{
    return db_column_is_null(st, i) ? SLAD_NO_TIME : db_column_int64(st, i);
}

#endif
