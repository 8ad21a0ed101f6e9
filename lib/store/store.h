/* store.h - the store interface: operations on tickets, history, the outbox, gauges and
 * reports, over the records of core (records.h, ticket.h, report.h); follow-ups, plans and
 * retention have their own headers (store_followup.h, store_plan.h, store_retention.h).
 * The service calls it; nothing in it is SQL, so that a second backend can stand behind
 * it. Two databases stand behind it (store_open): SQLite, embedded, and PostgreSQL
 * (doc/POSTGRESQL.md), the same statements on both through lib/store's db.h.
 *
 * The store is the truth (ARCHITECTURE: "memory is a cache"): tickets with their clocks,
 * their history and the outbox rows they cause. Every statement is prepared once and
 * reused; nothing builds SQL at run time. Only the files of lib/store talk to a database
 * (store_internal.h says which file holds what).
 *
 * Errors: 0 or a negative errno with a message naming the operation and the database's
 * words:
 * -ENOENT no such row, -EEXIST a unique key already taken, -ENOSPC disk full, -EROFS
 * read-only database, -EAGAIN database busy (another process holds the lock), -ENOMEM,
 * -ENOTSUP a database written by a newer slad, -EIO anything else. (-EBUSY is not used:
 * the service reserves it for events refused by the status table, SPEC 1.)
 *
 * Times are int64_t ms since the epoch, UTC; SLAD_NO_TIME is stored as NULL. */
#ifndef SLAD_STORE_H
#define SLAD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "records.h"
#include "ticket.h"

struct store;

/* The schema version this binary writes (PRAGMA user_version after open). */
int store_schema_version(void);

/* Open the database path names (db_kind_of, as `database` is written). SQLite: the file
 * (created if needed; ":memory:" and "file:" URIs work), in WAL mode with synchronous FULL
 * or NORMAL, a busy timeout and foreign keys. PostgreSQL (a libpq URI or conninfo): the
 * server's durability, synchronous_full unused. Then the schema is brought to
 * store_schema_version() in one transaction (on PostgreSQL created or migrated once under
 * its locks when several instances start together). A database whose version is newer
 * than this binary is refused with -ENOTSUP. */
int store_open(const char *path, bool synchronous_full, struct store **ret,
               struct slad_error *reterr);
/* NULL-safe. Rolls back an open transaction. */
void store_close(struct store *s);

/* SELECT 1: whether the database answers (/healthz). */
int store_check(struct store *s, struct slad_error *reterr);

/* Transactions. store_begin opens a write transaction (BEGIN IMMEDIATE); the daemon
 * holds one per loop iteration (group commit). Savepoints nest inside it (or, without
 * one, open and on release commit their own); the service wraps every operation in one:
 * store_savepoint ... store_release, or on failure store_rollback_to, which undoes the
 * operation and ends the savepoint. */
int store_begin(struct store *s, struct slad_error *reterr);
int store_commit(struct store *s, struct slad_error *reterr);
int store_rollback(struct store *s, struct slad_error *reterr);
bool store_in_transaction(const struct store *s);
/* The COMMIT sent without waiting (PostgreSQL: db_commit_async, doc/POSTGRESQL.md); done
 * is called once with its outcome, from store_async_pump or from any later store call
 * that waits for the database (it must only record the outcome). -ENOTSUP on SQLite:
 * commit with store_commit. Another failure leaves the transaction open: roll it back. */
typedef void store_commit_done_fn(void *arg, int rc, const struct slad_error *err);
int store_commit_async(struct store *s, store_commit_done_fn *done, void *arg,
                       struct slad_error *reterr);
/* For the loop that waits for those outcomes: the socket to watch (-1: none now), for
 * what (STORE_WANT_READ, STORE_WANT_WRITE), a read of what arrived without blocking, and
 * a blocking wait for every outcome (at stop). */
enum {
    STORE_WANT_READ = 1,
    STORE_WANT_WRITE = 2,
};
/* Whether store_commit_async sends commits without waiting (PostgreSQL). */
bool store_commits_async(const struct store *s);
int store_async_socket(struct store *s);
int store_async_wants(struct store *s);
void store_async_pump(struct store *s);
void store_async_wait(struct store *s);
/* Reconnection in the background (PostgreSQL; doc/POSTGRESQL.md "Reconnection"): once
 * asked for, a lost connection makes every store call fail at once with -ENOTCONN until
 * store_reconnect_step, driven by the loop, has made it again. store_reconnect_step: 1
 * connected again, 0 not yet (wait for fd, for wants, or until at_s on the caller's clock,
 * whichever first), 0 with fd -1 and at_s 0 when there is nothing to do. Nothing on
 * SQLite, always connected. */
struct store_link {
    int fd;
    int wants; /* STORE_WANT_READ, STORE_WANT_WRITE */
    double at_s;
    unsigned failed; /* attempts failed since the loss */
    const char *why; /* the last one's reason, or "" */
};
void store_reconnect_in_background(struct store *s);
int store_reconnect_step(struct store *s, double now_s, struct store_link *link);
bool store_connected(struct store *s);
int store_savepoint(struct store *s, struct slad_error *reterr);
int store_release(struct store *s, struct slad_error *reterr);
int store_rollback_to(struct store *s, struct slad_error *reterr);

/* Tickets. next_ms is the ticket's next agenda instant (INT64_MAX or SLAD_NO_TIME: none);
 * it is kept in an index so that start-up reads the agenda without computing anything.
 * insert stores t with its clocks and sets t->id (t->id must be 0); -EEXIST when
 * (source, external_id) is taken. update rewrites the row and replaces the clocks;
 * -ENOENT when t->id is unknown. */
int store_ticket_insert(struct store *s, struct ticket *t, int64_t next_ms,
                        struct slad_error *reterr);
int store_ticket_update(struct store *s, const struct ticket *t, int64_t next_ms,
                        struct slad_error *reterr);
/* Load ticket id with its clocks into *ret (initialised here, on success only; the caller
 * ticket_done()s it). -ENOENT when unknown. */
int store_ticket_load(struct store *s, int64_t id, struct ticket *ret, struct slad_error *reterr);
/* The same, before the ticket is changed and written back in the caller's transaction: on
 * PostgreSQL the row is locked (FOR UPDATE) until the commit, so that another instance
 * changing the same ticket waits and decides on this one's result; on SQLite, whose
 * transaction already holds the write lock, it is store_ticket_load. */
int store_ticket_load_for_update(struct store *s, int64_t id, struct ticket *ret,
                                 struct slad_error *reterr);
/* The id of the ticket with (source, external_id); -ENOENT when none. */
int store_ticket_find(struct store *s, const char *source, const char *external_id, int64_t *ret_id,
                      struct slad_error *reterr);

/* Tickets (with clocks) matching f (records.h), in id order, or with f->sort_due by
 * ticket_due_key then id (the index tickets_due). Listings call back as records.h says. */
int store_ticket_list(struct store *s, const struct ticket_filter *f, ticket_row_fn *fn,
                      void *userdata, struct slad_error *reterr);

/* A reload's batches: up to max open tickets with id > after_id, in id order, with their
 * labels and clocks, into tickets (initialised here; on success the caller ticket_done()s
 * the *ret_n loaded, on failure none is left), in three statements; on PostgreSQL the rows
 * stay locked until the commit (as store_ticket_load_for_update's). */
int store_ticket_load_open(struct store *s, int64_t after_id, struct ticket *tickets, size_t max,
                           size_t *ret_n, struct slad_error *reterr);
/* Write back the n tickets such a batch loaded and changed (their row and clocks; their
 * labels and identity unchanged), next_ms[i] each one's next instant: on PostgreSQL every
 * write is queued in the pipeline and the batch costs one round trip. A failure leaves the
 * transaction to be rolled back (or its savepoint). */
int store_ticket_rewrite(struct store *s, const struct ticket *tickets, const int64_t *next_ms,
                         size_t n, struct slad_error *reterr);

/* Every ticket with a next instant: fn(userdata, id, next_ms), read from the covering
 * index (start-up). */
typedef int store_agenda_fn(void *userdata, int64_t id, int64_t next_ms);
int store_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                      struct slad_error *reterr);

/* How many tickets with device serial and fault code were reported in [from_ms, to_ms],
 * cancelled ones left out (indexed). */
int store_repeat_count(struct store *s, const char *serial, const char *fault_code, int64_t from_ms,
                       int64_t to_ms, int64_t *ret_count, struct slad_error *reterr);

/* History (records.h). Append a row (h->id is ignored); *ret_id (may be NULL) gets the
 * new id. */
int store_history_add(struct store *s, const struct history_entry *h, int64_t *ret_id,
                      struct slad_error *reterr);
/* Rows of ticket_id with id > after_id in id order, at most limit (0: all). */
int store_history_list(struct store *s, int64_t ticket_id, int64_t after_id, size_t limit,
                       history_entry_fn *fn, void *userdata, struct slad_error *reterr);
/* The newest rows of ticket_id, newest first, at most limit (0: all). */
int store_history_latest(struct store *s, int64_t ticket_id, size_t limit, history_entry_fn *fn,
                         void *userdata, struct slad_error *reterr);

/* Outbox: one row per notification to deliver (SPEC 3, records.h). Queue a row (its id
 * is ignored); INSERT OR IGNORE on the idempotency key: when the key is already queued
 * nothing changes and *ret_added is false. ret_id / ret_added may be NULL; *ret_id is 0
 * when nothing was added. */
int store_outbox_add(struct store *s, const struct outbox_row *o, int64_t *ret_id, bool *ret_added,
                     struct slad_error *reterr);
/* Write the delivery fields of row o->id: state, channel, attempts, next_attempt_ms,
 * last_error, sent_ms. -ENOENT when unknown. */
int store_outbox_update(struct store *s, const struct outbox_row *o, struct slad_error *reterr);
/* Rows matching f, in id order. */
int store_outbox_list(struct store *s, const struct outbox_filter *f, outbox_row_fn *fn,
                      void *userdata, struct slad_error *reterr);
/* The newest rows of ticket_id, newest first, at most limit (0: all). */
int store_outbox_latest(struct store *s, int64_t ticket_id, size_t limit, outbox_row_fn *fn,
                        void *userdata, struct slad_error *reterr);
/* Row id through fn; -ENOENT when unknown. */
int store_outbox_get(struct store *s, int64_t id, outbox_row_fn *fn, void *userdata,
                     struct slad_error *reterr);

/* Delivery (daemon/deliver.c). Pending rows with next_attempt_ms <= now_ms, earliest
 * first (next_attempt_ms, id), after (after_ms, after_id) (INT64_MIN, 0: from the
 * start; a page's last row continues), at most limit (0: all). */
int store_outbox_due(struct store *s, int64_t now_ms, int64_t after_ms, int64_t after_id,
                     size_t limit, outbox_row_fn *fn, void *userdata, struct slad_error *reterr);
/* The earliest next_attempt_ms of a pending row, SLAD_NO_TIME when none. */
int store_outbox_next_due(struct store *s, int64_t *ret_ms, struct slad_error *reterr);
/* Start-up: rows left `sending` by a crash go back to pending at now_ms (sent again with
 * the same key: at-least-once). *ret_n (may be NULL) counts them. */
int store_outbox_requeue_sending(struct store *s, int64_t now_ms, size_t *ret_n,
                                 struct slad_error *reterr);

/* POST /v1/notifications/{id}/retry: dead row id goes back to pending at now_ms with
 * its attempts reset and created_ms set to now_ms, from which max_age counts: a whole new
 * budget (same key, same channel, last_error kept until the next attempt). A grouped
 * message takes its dead members back (`sending`); a member leaves its group and goes
 * alone.
 * -EBUSY when the row is not dead. */
int store_outbox_requeue(struct store *s, int64_t id, int64_t now_ms, struct slad_error *reterr);

/* Storm grouping. The pending rows of g->channel for g->address (NULL: the channel's
 * own) that are in no group and due by until_ms, at most max in id order: when there are
 * two or more, row g is queued (its group_id names itself) and they become its members
 * (group_id = its id, state `sending`, so that they are not picked alone), *ret_id its id
 * and *ret_n their number; else nothing changes and *ret_id is 0. A crash's re-queue
 * leaves members as they are: the message goes again, with its key. */
int store_outbox_group(struct store *s, const struct outbox_row *g, int64_t until_ms, size_t max,
                       int64_t *ret_id, size_t *ret_n, struct slad_error *reterr);
/* The members of grouped message g->id take its state, last_error and sent_ms. */
int store_outbox_settle_group(struct store *s, const struct outbox_row *g,
                              struct slad_error *reterr);

/* The console board's counts at now_ms (records.h): a few indexed reads. */
int store_board_summary(struct store *s, int64_t now_ms, struct board_summary *ret,
                        struct slad_error *reterr);

/* Action links (records.h): code_hash is the hex SHA-256 of the code (the caller
 * hashes; the code itself is never stored). add: -EEXIST when the hash is taken.
 * find: -ENOENT when unknown; *ret is action_link_done'd by the caller. use: marks it used
 * by action at now_ms; -EALREADY when it was used before. purge: deletes the links that
 * expired before before_ms. */
int store_action_add(struct store *s, const char *code_hash, int64_t ticket_id, const char *contact,
                     int64_t created_ms, int64_t expires_ms, struct slad_error *reterr);
int store_action_find(struct store *s, const char *code_hash, struct action_link *ret,
                      struct slad_error *reterr);
int store_action_use(struct store *s, int64_t id, const char *action, int64_t now_ms,
                     struct slad_error *reterr);
int store_action_purge(struct store *s, int64_t before_ms, struct slad_error *reterr);

/* The gauges (records.h), from counters that triggers keep: one short read. */
int store_gauges(struct store *s, struct gauges *ret, struct slad_error *reterr);

/* The SLA report of q (report.h): the clocks of the tickets reported in [from, to), counted
 * by core's report builder, and their follow-ups. Errors: -EINVAL (to <= from; an unknown
 * time zone, named), -ENOMEM, database errors. ret is empty (report_done is safe) on
 * error. */
struct report;
struct report_query;
int store_report_sla(struct store *s, const struct report_query *q, struct report *ret,
                     struct slad_error *reterr);

#endif
