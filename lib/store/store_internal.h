/* store_internal.h - what the files of the store share: the connection, the statement lists
 * prepared at open, and SQLite's errors for the code only SQLite has (the files' statements
 * run on the SQL seam, store_db.h). Not for use outside
 * lib/store: everything else goes through store.h (and store_followup.h, store_plan.h,
 * store_retention.h), which keep <sqlite3.h> out of the rest of lib/.
 *
 *   store.c            the connection: open (SQLite or PostgreSQL), close, transactions
 *   store_sql.c        SQLite's errors and exec, for SQLite-only code
 *   store_schema.c     the schema and its migrations (PRAGMA user_version)
 *   store_ticket.c     tickets, their clocks and labels, the agenda, repeat faults
 *   store_clock_write.c  a ticket's clock rows written, only those that changed
 *   store_clocks_known.c the clock rows known to be in the database in this transaction
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
 *   store_wal.c        the WAL's fsync and checkpoints off the loop (store_wal.h)
 *   store_reader.c     a read-only connection for a reader thread (store_reader.h) */
#ifndef SLAD_STORE_INTERNAL_H
#define SLAD_STORE_INTERNAL_H

/* How long a statement waits for a lock held by another connection (sqlite3 shell, a
 * backup) before failing with -EAGAIN. The wait blocks the whole event loop, so it is
 * short: a write that cannot get the lock gets 503 at once rather than stalling every
 * other client (and /healthz, goal 50 ms) for seconds. WAL readers never take it. */
#define STORE_BUSY_TIMEOUT_MS 25

#include <stdint.h>

#include <sqlite3.h>

#include "db.h"
#include "error.h"
#include "store.h"
#include "ticket.h"

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

/* The connection (store.c opens it). */
struct store {
    /* SQLite's connection; NULL on PostgreSQL. Only SQLite-only code uses it (the schema's
     * migrations, store_wal.c, the storage fault tests). */
    sqlite3 *db;
    /* The connection behind db.h: SQLite's wrapped (db_wrap_sqlite), or PostgreSQL's. Every
     * row file (store_db.h) and the transactions run on it. */
    struct db *dbh;
    /* store_begin's transaction is open: SQLite may roll it back by itself on an I/O
     * error or out of memory, and store_db_run then refuses to run outside it. */
    bool in_begin;
    struct history_pending history;
    /* The clock rows known in store_begin's transaction (store_clocks_known.c); NULL until
     * the first is noted. */
    struct clocks_known *clocks_known;
    uint64_t clock_statements; /* clock statements run (store_clock_statements) */
};

/* SQLite's connection; NULL on PostgreSQL. */
sqlite3 *store_db(struct store *s);

/* Write the pending history row (at the end of an operation, before a savepoint opens,
 * before history is read); drop it (the operation rolled back, the store closes). */
int store_history_flush(struct store *s, struct slad_error *reterr);
void store_history_discard(struct store *s);

/* The statements store_open prepares, so that one that cannot be (a lost index named by
 * INDEXED BY) fails the open rather than a request: NULL-terminated lists of the files. */
extern const char *const store_ticket_statements[];
extern const char *const store_clock_write_statements[];
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

#endif
