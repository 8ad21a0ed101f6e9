/* store_db.h - what the store's files converted to the SQL seam (db.h) share, as
 * store_internal.h's helpers are for those still on sqlite3_*: the connection, running a
 * statement, the agenda's rows, and NULL for "none" in times and ids. Not for use outside
 * lib/store. Converted: store_board.c, store_followup.c, store_gauges.c, store_history.c,
 * store_plan.c, store_report.c, store_retention.c, store_schedule.c, store_session.c,
 * store_ticket.c (doc/POSTGRESQL.md). */
#ifndef SLAD_STORE_DB_H
#define SLAD_STORE_DB_H

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

/* Run st (bound) to its end, its rows ignored, and reset it. Inside store_begin's
 * transaction, refused when the database rolled that transaction back by itself (SQLite
 * after an I/O error): the statement would commit alone while its batch fails. */
int store_db_run(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr);

/* Run st, an INSERT ... RETURNING id (bound), as store_db_run: the new row's id into
 * *ret_id, 0 when it inserted none (ON CONFLICT DO NOTHING). */
int store_db_insert(struct store *s, struct db_stmt *st, const char *op, int64_t *ret_id,
                    struct slad_error *reterr);

/* Run sql (a string constant, no rows) with ?1 = id, as store_db_run. */
int store_db_run_id(struct store *s, const char *sql, int64_t id, const char *op,
                    struct slad_error *reterr);

/* Step st (bound) once and reset it: 1 with column 0 of its row into *ret (a count, an
 * id), 0 when it has no row, -errno on failure. */
int store_db_scalar(struct db_stmt *st, const char *op, int64_t *ret, struct slad_error *reterr);

/* Step st (bound) and call fn on each row until it returns non-zero, then reset st: 0, or
 * the first failure (fn's negative value or the database's). */
typedef int store_db_row_fn(void *ctx, struct db_stmt *st);
int store_db_rows(struct db_stmt *st, const char *op, store_db_row_fn *fn, void *ctx,
                  struct slad_error *reterr);

/* The (id, next_ms) rows of sql through fn (store_agenda_rows on the seam). */
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
