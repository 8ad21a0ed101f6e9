/* db.h - one SQL connection behind two drivers: SQLite (db_sqlite.c) and PostgreSQL through
 * libpq (db_pg.c). The seam the store's files are converted to so that the same statements
 * run on either (doc/POSTGRESQL.md): what sqlite3_* calls they make today has a db_*
 * twin here, one for one.
 *
 *   sqlite3_prepare_v3 (cached)   db_prepare (cached by the address of the SQL text)
 *   sqlite3_bind_text/int64/null  db_bind_text/int64/null (?N placeholders, from 1)
 *   sqlite3_step                  db_step: 1 a row, 0 done, -errno
 *   sqlite3_column_*              db_column_text/int64/is_null (from 0)
 *   sqlite3_reset                 db_reset
 *   sqlite3_changes64             db_changes
 *   sqlite3_last_insert_rowid     db_last_insert_id (the statement ends in RETURNING id)
 *   sqlite3_exec                  db_exec (no parameters; several statements)
 *
 * Statements are written with ?N placeholders; the PostgreSQL driver sends them as $N
 * (db_sql_to_pg), and reads a boolean column ('t', 'f') as the integer SQLite gives.
 * A failure is -errno with a message naming the operation (SQLite's codes mapped as
 * store_fail_rc maps them): EEXIST a unique key, EINVAL another constraint or a value the
 * column refuses, EAGAIN a lock or a serialization failure to retry, ENOSPC, EROFS (a
 * read-only server: a standby), ENOTCONN the connection was lost (the next call
 * reconnects, or db_reconnect_step does in the background), ENOMEM, EIO the rest (a statement the
 * database refuses, a parameter out of range: a fault of the program).
 *
 * One connection is used by one thread at a time; the caller's strings bound with
 * db_bind_text must live until db_reset. */
#ifndef SLAD_DB_H
#define SLAD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum db_driver_kind {
    DB_SQLITE,
    DB_POSTGRES,
};

struct db;
struct db_stmt;

/* Which driver a `database` setting selects: a libpq URI (postgresql:// or postgres://)
 * or a conninfo with host=, dbname=, service=... is PostgreSQL; anything else is
 * the path (or file: URI) of an SQLite database. */
enum db_driver_kind db_kind_of(const char *target);

/* Open target with the driver db_kind_of names. SQLite: the file, WAL, foreign keys on.
 * PostgreSQL: a blocking connection (libpq's own parsing of the string, its hosts and
 * target_session_attrs); a failure names the target with its password hidden. */
int db_open(const char *target, struct db **ret, struct slad_error *reterr);
void db_close(struct db *db);

/* An SQLite connection opened (and closed, after db_close) by its caller, behind db.h: the
 * store's own connection, so that its files move to the seam one at a time while they
 * share its transactions. The caller keeps its settings (store.c's). */
struct sqlite3;
int db_wrap_sqlite(struct sqlite3 *conn, struct db **ret, struct slad_error *reterr);
enum db_driver_kind db_kind(const struct db *db);

/* sql (no parameters, one or several statements) run at once. */
int db_exec(struct db *db, const char *sql, const char *op, struct slad_error *reterr);

/* The statement of sql, prepared at its first use and kept until db_close: sql must be a
 * string constant, its address is the cache key. NULL with reterr set on failure. */
struct db_stmt *db_prepare(struct db *db, const char *sql, struct slad_error *reterr);

/* Bind parameter ?i (from 1); v NULL binds NULL. The first failure is kept and returned by
 * db_step (so a statement is bound in one sequence and checked once). */
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_null(struct db_stmt *st, int i);
/* LIMIT ?i: limit rows, 0 for none (-1 on SQLite, NULL on PostgreSQL). */
void db_bind_limit(struct db_stmt *st, int i, size_t limit);

/* Run the statement (at the first call) and move to its next row: 1 there is a row,
 * 0 there is none left, -errno on failure (op names it in the message). */
int db_step(struct db_stmt *st, const char *op, struct slad_error *reterr);

/* A write whose rows are not needed, run or queued: SQLite runs it at once; PostgreSQL sends
 * it in a pipeline and does not wait for its answer, so that a batch of writes costs one
 * round trip. Its failure is returned by db_sync, or by the next call that must wait (a
 * step, an exec, RELEASE, COMMIT), which waits for the queued answers first; a ROLLBACK or
 * ROLLBACK TO drops it (it belongs to what they undo) and goes on. Reset st after it, as
 * after db_step. db_changes does not count queued writes. */
int db_queue(struct db_stmt *st, const char *op, struct slad_error *reterr);

/* Wait for the answers of every queued write: 0, or the first one's failure (the
 * transaction is then aborted on PostgreSQL: roll it, or its savepoint, back). */
int db_sync(struct db *db, struct slad_error *reterr);

/* Column i (from 0) of the current row. Text is valid until the next step or reset;
 * an integer column read as text is its decimal digits. */
bool db_column_is_null(struct db_stmt *st, int i);
int64_t db_column_int64(struct db_stmt *st, int i);
const char *db_column_text(struct db_stmt *st, int i);

/* The columns of the statement's rows and the name of column i (from 0): valid after the
 * first db_step (PostgreSQL knows them once the statement ran), 0 and NULL before. */
int db_column_count(struct db_stmt *st);
const char *db_column_name(struct db_stmt *st, int i);

/* Ready the statement to be bound and run again; its bindings are cleared. */
void db_reset(struct db_stmt *st);

/* Rows the last statement run changed (INSERT, UPDATE, DELETE). */
int64_t db_changes(struct db *db);

/* The id of the row the last INSERT made. Portable statements end in `RETURNING id`
 * (SQLite >= 3.35 has it too) and read it as column 0; this is the id of that row, for
 * code converted from sqlite3_last_insert_rowid. 0 when none. */
int64_t db_last_insert_id(struct db *db);

/* Transactions: BEGIN (IMMEDIATE on SQLite: the write lock at once), COMMIT, ROLLBACK;
 * savepoints by name (an identifier: letters, digits, '_'). */
int db_begin(struct db *db, struct slad_error *reterr);
int db_commit(struct db *db, struct slad_error *reterr);
int db_rollback(struct db *db, struct slad_error *reterr);
int db_savepoint(struct db *db, const char *name, struct slad_error *reterr);
int db_release(struct db *db, const char *name, struct slad_error *reterr);
int db_rollback_to(struct db *db, const char *name, struct slad_error *reterr);
bool db_in_transaction(struct db *db);
/* Whether a savepoint is open (db_savepoint not yet released or rolled back to): a queued
 * write's failure then has an operation to fail (doc/POSTGRESQL.md, "Queued writes"). */
bool db_in_savepoint(struct db *db);

/* The asynchronous COMMIT (PostgreSQL; doc/POSTGRESQL.md "Asynchronous writes"): COMMIT
 * and a sync point are sent in the connection's pipeline without waiting, and done is
 * called once with the outcome: 0, or -errno with err saying why (a statement of the
 * transaction failed, the COMMIT was refused, the connection was lost: nothing of it may
 * be taken as written). The transaction is over once this returns 0 (a next one may begin
 * behind it in the same pipeline). done runs from db_async_pump or from any call that
 * waits for answers (db_step, db_exec, db_sync...), in commit order: it must not use the
 * connection, only record the outcome. -ENOTSUP on SQLite (commit with db_commit); another
 * failure here leaves the transaction open: roll it back. */
typedef void db_commit_done_fn(void *arg, int rc, const struct slad_error *err);
int db_commit_async(struct db *db, db_commit_done_fn *done, void *arg, struct slad_error *reterr);

/* The socket a loop watches for the answers of an asynchronous commit (-1: none now; it
 * changes when the connection is made again), and what to watch it for: DB_WANT_READ
 * while answers are awaited, DB_WANT_WRITE while sent statements wait in libpq's buffer.
 * 0 on SQLite. */
enum {
    DB_WANT_READ = 1,
    DB_WANT_WRITE = 2,
};
int db_async_socket(struct db *db);
int db_async_wants(struct db *db);
/* Without blocking: send what the socket takes, read the answers that arrived, call the
 * done of each commit whose sync point arrived. A lost connection fails them all. */
void db_async_pump(struct db *db);
/* Commits sent whose outcome was not reported yet. */
int db_async_in_flight(struct db *db);

/* Reconnection in the background (PostgreSQL; doc/POSTGRESQL.md "Reconnection"). Once
 * asked for, a lost connection is not made again by the next call (which would block the
 * loop): every call fails at once with -ENOTCONN ("reconnecting in the background") until
 * db_reconnect_step, driven by the caller's loop, has made it again. Without it (tools,
 * tests) the next call reconnects, blocking. Nothing on SQLite. */
void db_reconnect_in_background(struct db *db);
/* What db_reconnect_step waits for: fd (-1: none) for wants (DB_WANT_READ or
 * DB_WANT_WRITE), and at_s (the caller's clock) at the latest; failed attempts since the
 * loss and the last one's reason (""). */
struct db_link {
    int fd;
    int wants;
    double at_s;
    unsigned failed;
    const char *why;
};
/* Drive the reconnection at now_s: 1 connected again (the driver redid its set-up: the
 * statements are prepared again at their next use), 0 not yet (wait as *link says), or 0
 * with link->fd -1 and link->at_s 0 when connected: nothing to do. */
int db_reconnect_step(struct db *db, double now_s, struct db_link *link);
/* Whether the connection may be used now (SQLite: always). */
bool db_connected(struct db *db);

/* Prepare the statements of the calls above (savepoint: the one name used, or NULL) ahead,
 * at open: on SQLite they then need no memory when run, so that a rollback cannot fail
 * for want of it and leave an operation half undone. Nothing on PostgreSQL. */
int db_prepare_transactions(struct db *db, const char *savepoint, struct slad_error *reterr);

/* sql as PostgreSQL reads it, into out (size bytes): each ?N placeholder written $N and
 * SQLite's planner hints (INDEXED BY name) dropped, outside quotes, identifiers and
 * comments; the largest N into *ret_nparams. -ENOSPC when out is too small (strlen(sql) + 1
 * is enough), -EINVAL for a bare '?' (the store numbers every parameter). */
int db_sql_to_pg(const char *sql, char *out, size_t size, int *ret_nparams);

#endif
