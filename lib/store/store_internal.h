/* store_internal.h - what the files of the store share: the connection, a cache of
 * prepared statements, errors, and the bind and column helpers. Not for use outside
 * lib/store: everything else goes through store.h (and store_followup.h, store_plan.h,
 * store_retention.h), which keep <sqlite3.h> out of the rest of lib/.
 *
 *   store.c            the connection: open, close, statement cache, transactions
 *   store_schema.c     the schema and its migrations (PRAGMA user_version)
 *   store_ticket.c     tickets, their clocks and labels, the agenda, repeat faults
 *   store_history.c    history rows
 *   store_outbox.c     outbox rows: queueing, listing, delivery
 *   store_gauges.c     the gauges' counters
 *   store_board.c      the console board's counts
 *   store_action.c     the codes of action links
 *   store_schedule.c   on-call overrides
 *   store_followup.c, store_plan.c, store_retention.c,
 *   store_report.c     the SLA report's reads
 *   store_db.c         what the files on the SQL seam (db.h) share (store_db.h)
 *   store_lease.c      the scheduler lease on the store's connection (store_lease.h)
 *   copy_db.c          slad --copy-database (copy_db.h)
 *   store_wal.c        the WAL's fsync and checkpoints off the loop (store_wal.h) */
#ifndef SLAD_STORE_INTERNAL_H
#define SLAD_STORE_INTERNAL_H

#include <stdint.h>

#include <sqlite3.h>

#include "db.h"
#include "error.h"
#include "store.h"
#include "ticket.h"

/* Every statement of every store file fits in the cache. */
#define STORE_CACHED_MAX 112

/* The connection (store.c opens it; store_sql.c runs its statements). */
/* The history entries of the running operation not yet written (store_history.c): one
 * row holds them all, the first in its columns, the others in more_entries. */
struct history_pending {
    int64_t ticket_id; /* 0: nothing pending */
    int64_t at_ms, created_ms;
    bool late;
    char *kind, *data; /* the first entry's (owned; data may be NULL) */
    char *more;        /* the further entries, encoded (owned), more_len bytes */
    size_t more_len, more_cap;
    int n_more;
};

struct store {
    sqlite3 *db;
    /* The same connection behind db.h (db_wrap_sqlite): the files converted to the seam
     * (store_db.h) run on it, the others on db until they are converted. */
    struct db *dbh;
    const char *cached_sql[STORE_CACHED_MAX];
    sqlite3_stmt *cached[STORE_CACHED_MAX];
    size_t n_cached;
    /* store_begin's transaction is open: SQLite may roll it back by itself on an I/O
     * error or out of memory, and store_run then refuses to run outside it. */
    bool in_begin;
    struct history_pending history;
};

/* Write the pending history row (at the end of an operation, before a savepoint opens,
 * before history is read); drop it (the operation rolled back, the store closes). */
int store_history_flush(struct store *s, struct slad_error *reterr);
void store_history_discard(struct store *s);

sqlite3 *store_db(struct store *s);

/* The statement for sql, prepared (SQLITE_PREPARE_PERSISTENT) at its first use and kept
 * until store_close; sql must be a string constant: its address is the cache key. NULL
 * with reterr set when it cannot be prepared. Reset it after use. */
sqlite3_stmt *store_prepared(struct store *s, const char *sql, struct slad_error *reterr);

/* The statements store_open prepares, so that one that cannot be (a lost index named by
 * INDEXED BY) fails the open rather than a request: NULL-terminated lists of the files. */
extern const char *const store_ticket_statements[];
extern const char *const store_history_statements[];
extern const char *const store_outbox_statements[];
extern const char *const store_gauges_statements[];
extern const char *const store_board_statements[];
extern const char *const store_action_statements[];
extern const char *const store_schedule_statements[];
extern const char *const store_session_statements[];

/* An SQLite result code as a negative errno (ENOSPC, EROFS, EAGAIN, ENOMEM, EEXIST,
 * EINVAL, EIO), with a message naming the operation; db may be NULL. */
int store_fail_rc(sqlite3 *db, int rc, const char *op, struct slad_error *reterr);
int store_fail(struct store *s, int rc, const char *op, struct slad_error *reterr);

/* sqlite3_exec of sql on db; op names it in errors. */
int store_exec(sqlite3 *db, const char *sql, const char *op, struct slad_error *reterr);

/* Bring the schema of db (the file at path, for messages) to store_schema_version() in
 * one transaction (store_schema.c). */
int store_migrate(sqlite3 *db, const char *path, struct slad_error *reterr);

/* The (id, next_ms) rows of sql (a string constant, as for store_prepared) through fn:
 * how each table's agenda entries are read at start. op names it in errors. */
int store_agenda_rows(struct store *s, const char *sql, store_agenda_fn *fn, void *userdata,
                      const char *op, struct slad_error *reterr);

/* Step a statement that returns no row (or whose rows are ignored) and reset it. */
int store_run(struct store *s, sqlite3_stmt *st, const char *op, struct slad_error *reterr);

/* Run sql (a string constant, no rows) with ?1 = id. */
int store_run_id(struct store *s, const char *sql, int64_t id, const char *op,
                 struct slad_error *reterr);

/* The statement of sql (a string constant) with ?1 = id and ?2 = limit bound, into *ret:
 * the newest rows of a ticket. op names it in errors. */
int store_bind_latest(struct store *s, const char *sql, int64_t id, size_t limit, const char *op,
                      sqlite3_stmt **ret, struct slad_error *reterr);

/* Bind helpers that remember the first failure, so that a statement is bound in one
 * sequence and checked once. */
struct binder {
    sqlite3_stmt *st;
    int rc;
};

static inline void bind_text(struct binder *b, int i, const char *v)
{
    if (b->rc == SQLITE_OK)
        b->rc = v ? sqlite3_bind_text(b->st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(b->st, i);
}

static inline void bind_int64(struct binder *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_int64(b->st, i, v);
}

/* SLAD_NO_TIME (and INT64_MAX, "never") as NULL. */
static inline void bind_time(struct binder *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK)
        b->rc = v == SLAD_NO_TIME || v == INT64_MAX ? sqlite3_bind_null(b->st, i)
                                                    : sqlite3_bind_int64(b->st, i, v);
}

static inline void bind_null(struct binder *b, int i)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_null(b->st, i);
}

/* A row's id, 0 (none) as NULL. */
static inline void bind_id(struct binder *b, int i, int64_t id)
{
    if (id)
        bind_int64(b, i, id);
    else
        bind_null(b, i);
}

/* LIMIT: 0 means none (-1 for SQLite). */
static inline void bind_limit(struct binder *b, int i, size_t limit)
{
    bind_int64(b, i, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
}

static inline int64_t column_time(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? SLAD_NO_TIME : sqlite3_column_int64(st, i);
}

static inline const char *column_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

#endif
