/* store_outbox.c - notifications to deliver, in the table outbox (store.h). On the SQL
 * seam (store_db.h). */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define OUTBOX_COLUMNS                                                                             \
    "id, ticket_id, event, channel, recipient, idempotency_key, state, attempts,"                  \
    " next_attempt_ms, last_error, payload, created_ms, sent_ms, contact, retried_ms, address,"    \
    " deferred, group_id"

#define OUTBOX_INSERT                                                                              \
    "INSERT INTO outbox (ticket_id, event, channel, recipient, idempotency_key,"                   \
    " state, attempts, next_attempt_ms, last_error, payload, created_ms,"                          \
    " sent_ms, contact, address, deferred, group_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"  \
    " ?10, ?11, ?12, ?13, ?14, ?15, ?16)"                                                          \
    " ON CONFLICT (idempotency_key) DO NOTHING"
static const char sql_outbox_add[] = OUTBOX_INSERT " RETURNING id";
/* For a caller that asks nothing back (a step's notification): SQLite runs a RETURNING
 * statement's whole write into a table of its own before the first row comes back. */
static const char sql_outbox_add_quiet[] = OUTBOX_INSERT;
static const char sql_outbox_update[] =
    "UPDATE outbox SET state = ?2, channel = ?3, attempts = ?4,"
    " next_attempt_ms = ?5, last_error = ?6, sent_ms = ?7 WHERE id = ?1";
/* The CASTs let PostgreSQL type a parameter that may be NULL. */
static const char sql_outbox_list[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id > ?1"
                                      " AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)"
                                      " AND (CAST(?3 AS BIGINT) IS NULL OR ticket_id = ?3)"
                                      " AND (CAST(?4 AS BIGINT) IS NULL OR next_attempt_ms <= ?4)"
                                      " AND (CAST(?6 AS TEXT) IS NULL OR event = ?6)"
                                      " AND (CAST(?7 AS TEXT) IS NULL OR channel = ?7)"
                                      " AND (CAST(?8 AS BIGINT) IS NULL OR group_id = ?8)"
                                      " ORDER BY id LIMIT ?5";
static const char sql_outbox_get[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1";
/* Delivery: these three run on the outbox_due index (state, next_attempt_ms). */
static const char sql_outbox_due[] =
    "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 'pending'"
    " AND next_attempt_ms <= ?1"
    " AND (next_attempt_ms > ?3 OR (next_attempt_ms = ?3 AND id > ?4))"
    " ORDER BY next_attempt_ms, id LIMIT ?2";
static const char sql_outbox_next_due[] =
    "SELECT next_attempt_ms FROM outbox WHERE state = 'pending' AND next_attempt_ms IS NOT NULL"
    " ORDER BY next_attempt_ms LIMIT 1";
/* A grouped message's members stay `sending` while it is out: the message goes again. */
static const char sql_outbox_requeue[] = "UPDATE outbox SET state = 'pending', next_attempt_ms = ?1"
                                         " WHERE state = 'sending'"
                                         " AND (group_id IS NULL OR group_id = id)";
/* A manual retry gets a whole new budget: max_age counts from retried_ms. created_ms
 * keeps the instant the notification was queued. A member retried goes alone (it leaves
 * its group); a grouped message takes its dead members back. */
static const char sql_outbox_retry[] =
    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2, retried_ms = ?2,"
    " group_id = CASE WHEN group_id = id THEN id END WHERE id = ?1 AND state = 'dead'";
static const char sql_outbox_retry_members[] =
    "UPDATE outbox SET state = 'sending' WHERE group_id = ?1 AND id != ?1 AND state = 'dead'";
/* Storm grouping: the rows waiting for one address on a channel (outbox_grouping). IS NOT
 * DISTINCT FROM is SQLite's IS (an address may be NULL) in words PostgreSQL reads too. */
#define GROUP_CANDIDATES                                                                           \
    " FROM outbox WHERE state = 'pending' AND group_id IS NULL AND channel = ?1"                   \
    " AND address IS NOT DISTINCT FROM ?2 AND next_attempt_ms <= ?3"
/* PostgreSQL 15 wants a name for a subquery in FROM. */
static const char sql_outbox_group_count[] =
    "SELECT count(*) FROM (SELECT 1" GROUP_CANDIDATES " LIMIT ?4) AS candidates";
static const char sql_outbox_group_self[] = "UPDATE outbox SET group_id = id WHERE id = ?1";
static const char sql_outbox_group_join[] =
    "UPDATE outbox SET group_id = ?5, state = 'sending' WHERE id IN"
    " (SELECT id" GROUP_CANDIDATES " AND id != ?5 ORDER BY id LIMIT ?4)";
static const char sql_outbox_group_settle[] =
    "UPDATE outbox SET state = ?2, last_error = ?3, sent_ms = ?4"
    " WHERE group_id = ?1 AND id != ?1";
/* The newest rows of one ticket, on the (ticket_id, id) index read backwards. */
static const char sql_outbox_latest[] = "SELECT " OUTBOX_COLUMNS " FROM outbox"
                                        " WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2";

const char *const store_outbox_statements[] = {
    sql_outbox_add,        sql_outbox_add_quiet,  sql_outbox_update,        sql_outbox_list,
    sql_outbox_get,        sql_outbox_due,        sql_outbox_next_due,      sql_outbox_requeue,
    sql_outbox_retry,      sql_outbox_latest,     sql_outbox_retry_members, sql_outbox_group_count,
    sql_outbox_group_self, sql_outbox_group_join, sql_outbox_group_settle,  NULL,
};

int store_outbox_add(struct store *s, const struct outbox_row *o, int64_t *ret_id, bool *ret_added,
                     struct slad_error *reterr)
{
    const char *state = outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    bool quiet = !ret_id && !ret_added;
    struct db_stmt *st = store_stmt(s, quiet ? sql_outbox_add_quiet : sql_outbox_add, reterr);
    if (!st)
        return -EIO;
    store_bind_id(st, 1, o->ticket_id);
    db_bind_text(st, 2, o->event);
    db_bind_text(st, 3, o->channel);
    db_bind_text(st, 4, o->recipient);
    db_bind_text(st, 5, o->idempotency_key);
    db_bind_text(st, 6, state);
    db_bind_int64(st, 7, o->attempts);
    store_bind_time(st, 8, o->next_attempt_ms);
    db_bind_text(st, 9, o->last_error);
    db_bind_text(st, 10, o->payload);
    db_bind_int64(st, 11, o->created_ms);
    store_bind_time(st, 12, o->sent_ms);
    db_bind_text(st, 13, o->contact);
    db_bind_text(st, 14, o->address);
    db_bind_int64(st, 15, o->deferred);
    store_bind_id(st, 16, o->group_id);
    /* A caller that asks nothing back does not wait for the row (store_db_write). */
    if (quiet)
        return store_db_write(s, st, "queueing a notification", reterr);
    int64_t id = 0; /* none: the key was taken (ON CONFLICT DO NOTHING) */
    int r = store_db_insert(s, st, "queueing a notification", &id, reterr);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = id;
    if (ret_added)
        *ret_added = id != 0;
    return 0;
}

int store_outbox_update(struct store *s, const struct outbox_row *o, struct slad_error *reterr)
{
    const char *state = outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    struct db_stmt *st = store_stmt(s, sql_outbox_update, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, o->id);
    db_bind_text(st, 2, state);
    db_bind_text(st, 3, o->channel);
    db_bind_int64(st, 4, o->attempts);
    store_bind_time(st, 5, o->next_attempt_ms);
    db_bind_text(st, 6, o->last_error);
    store_bind_time(st, 7, o->sent_ms);
    int64_t changed;
    int r = store_db_run_changes(s, st, "updating a notification", &changed, reterr);
    if (r < 0)
        return r;
    if (changed == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", o->id);
    return 0;
}

struct outbox_walk {
    outbox_row_fn *fn;
    void *userdata;
    size_t rows;
    struct slad_error *reterr;
};

/* A row of columns OUTBOX_COLUMNS to the caller's fn. */
static int outbox_row(void *ctx, struct db_stmt *st)
{
    struct outbox_walk *w = ctx;
    int state = outbox_state_from_name(db_column_text(st, 6));
    if (state < 0)
        return slad_error_set(w->reterr, EIO,
                              "database: notification %" PRId64 " has an unknown state",
                              db_column_int64(st, 0));
    struct outbox_row o = {
        .id = db_column_int64(st, 0),
        .ticket_id = db_column_int64(st, 1), /* NULL reads as 0 */
        .event = db_column_text(st, 2),
        .channel = db_column_text(st, 3),
        .recipient = db_column_text(st, 4),
        .idempotency_key = db_column_text(st, 5),
        .state = state,
        .attempts = (int)db_column_int64(st, 7),
        .next_attempt_ms = store_column_time(st, 8),
        .last_error = db_column_text(st, 9),
        .payload = db_column_text(st, 10),
        .created_ms = db_column_int64(st, 11),
        .sent_ms = store_column_time(st, 12),
        .contact = db_column_text(st, 13),
        .retried_ms = store_column_time(st, 14),
        .address = db_column_text(st, 15),
        .deferred = db_column_int64(st, 16) != 0,
        .group_id = db_column_int64(st, 17), /* NULL reads as 0 */
    };
    w->rows++;
    return w->fn(w->userdata, &o);
}

/* Step st (bound; columns OUTBOX_COLUMNS) and call fn on each row; *ret_rows counts them.
 * st NULL: it could not be prepared (reterr is set). */
static int outbox_rows(struct db_stmt *st, const char *op, outbox_row_fn *fn, void *userdata,
                       size_t *ret_rows, struct slad_error *reterr)
{
    struct outbox_walk w = {fn, userdata, 0, reterr};
    int r = st ? store_db_rows(st, op, outbox_row, &w, reterr) : -EIO;
    if (ret_rows)
        *ret_rows = w.rows;
    return r;
}

int store_outbox_list(struct store *s, const struct outbox_filter *f, outbox_row_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_list, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, f->after_id);
    db_bind_text(st, 2, f->state >= 0 ? outbox_state_name(f->state) : NULL);
    store_bind_id(st, 3, f->ticket_id);
    store_bind_time(st, 4, f->due_ms);
    db_bind_limit(st, 5, f->limit);
    db_bind_text(st, 6, f->event);
    db_bind_text(st, 7, f->channel);
    store_bind_id(st, 8, f->group_id);
    return outbox_rows(st, "listing notifications", fn, userdata, NULL, reterr);
}

int store_outbox_latest(struct store *s, int64_t ticket_id, size_t limit, outbox_row_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_db_latest(s, sql_outbox_latest, ticket_id, limit, reterr);
    return outbox_rows(st, "listing notifications", fn, userdata, NULL, reterr);
}

int store_outbox_get(struct store *s, int64_t id, outbox_row_fn *fn, void *userdata,
                     struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_get, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    size_t rows;
    int r = outbox_rows(st, "loading a notification", fn, userdata, &rows, reterr);
    if (r < 0)
        return r;
    if (rows == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", id);
    return 0;
}

int store_outbox_due(struct store *s, int64_t now_ms, int64_t after_ms, int64_t after_id,
                     size_t limit, outbox_row_fn *fn, void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_due, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, now_ms);
    db_bind_limit(st, 2, limit);
    db_bind_int64(st, 3, after_ms);
    db_bind_int64(st, 4, after_id);
    return outbox_rows(st, "listing due notifications", fn, userdata, NULL, reterr);
}

int store_outbox_next_due(struct store *s, int64_t *ret_ms, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_next_due, reterr);
    if (!st)
        return -EIO;
    int r = store_db_scalar(st, "finding the next notification", ret_ms, reterr);
    if (r == 0)
        *ret_ms = SLAD_NO_TIME;
    return r < 0 ? r : 0;
}

int store_outbox_requeue_sending(struct store *s, int64_t now_ms, size_t *ret_n,
                                 struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_requeue, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, now_ms);
    int64_t changed;
    int r = store_db_run_changes(s, st, "re-queueing notifications", &changed, reterr);
    if (r == 0 && ret_n)
        *ret_n = (size_t)changed;
    return r;
}

int store_outbox_requeue(struct store *s, int64_t id, int64_t now_ms, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_retry, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now_ms);
    int64_t changed;
    int r = store_db_run_changes(s, st, "re-queueing a notification", &changed, reterr);
    if (r < 0)
        return r;
    if (changed == 0)
        return slad_error_set(reterr, EBUSY, "notification %" PRId64 " is not dead", id);
    return store_db_write_id(s, sql_outbox_retry_members, id, "re-queueing a notification", reterr);
}

/* The statement of sql with the grouping's candidates bound: channel, address, until_ms,
 * max (?1..?4). */
static struct db_stmt *candidates(struct store *s, const char *sql, const struct outbox_row *g,
                                  int64_t until_ms, size_t max, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (st) {
        db_bind_text(st, 1, g->channel);
        db_bind_text(st, 2, g->address);
        db_bind_int64(st, 3, until_ms);
        db_bind_limit(st, 4, max);
    }
    return st;
}

int store_outbox_group(struct store *s, const struct outbox_row *g, int64_t until_ms, size_t max,
                       int64_t *ret_id, size_t *ret_n, struct slad_error *reterr)
{
    *ret_id = 0;
    *ret_n = 0;
    struct db_stmt *st = candidates(s, sql_outbox_group_count, g, until_ms, max, reterr);
    int64_t n = 0;
    int r = st ? store_db_scalar(st, "grouping notifications", &n, reterr) : -EIO;
    if (r < 0)
        return r;
    if (n < 2) /* alone: it goes as it is */
        return 0;
    int64_t id = 0;
    r = store_outbox_add(s, g, &id, NULL, reterr);
    if (r == 0 && id == 0)
        r = slad_error_set(reterr, EEXIST, "grouped message '%s' exists", g->idempotency_key);
    if (r == 0)
        r = store_db_write_id(s, sql_outbox_group_self, id, "grouping notifications", reterr);
    if (r < 0)
        return r;
    if (!(st = candidates(s, sql_outbox_group_join, g, until_ms, max, reterr)))
        return -EIO;
    db_bind_int64(st, 5, id);
    int64_t joined;
    r = store_db_run_changes(s, st, "grouping notifications", &joined, reterr);
    if (r < 0)
        return r;
    *ret_id = id;
    *ret_n = (size_t)joined;
    return 0;
}

int store_outbox_settle_group(struct store *s, const struct outbox_row *g,
                              struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_outbox_group_settle, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, g->id);
    db_bind_text(st, 2, outbox_state_name(g->state));
    db_bind_text(st, 3, g->last_error);
    store_bind_time(st, 4, g->sent_ms);
    return store_db_write(s, st, "recording a grouped message", reterr);
}
