/* store_outbox.c - notifications to deliver, in the table outbox (store.h). */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define OUTBOX_COLUMNS                                                                             \
    "id, ticket_id, event, channel, recipient, idempotency_key, state, attempts,"                  \
    " next_attempt_ms, last_error, payload, created_ms, sent_ms, contact, retried_ms, address,"    \
    " deferred, group_id"

static const char sql_outbox_add[] =
    "INSERT INTO outbox (ticket_id, event, channel, recipient, idempotency_key,"
    " state, attempts, next_attempt_ms, last_error, payload, created_ms,"
    " sent_ms, contact, address, deferred, group_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
    " ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    " ON CONFLICT (idempotency_key) DO NOTHING";
static const char sql_outbox_update[] =
    "UPDATE outbox SET state = ?2, channel = ?3, attempts = ?4,"
    " next_attempt_ms = ?5, last_error = ?6, sent_ms = ?7 WHERE id = ?1";
static const char sql_outbox_list[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id > ?1"
                                      " AND (?2 IS NULL OR state = ?2)"
                                      " AND (?3 IS NULL OR ticket_id = ?3)"
                                      " AND (?4 IS NULL OR next_attempt_ms <= ?4)"
                                      " AND (?6 IS NULL OR event = ?6)"
                                      " AND (?7 IS NULL OR channel = ?7)"
                                      " AND (?8 IS NULL OR group_id = ?8)"
                                      " ORDER BY id LIMIT ?5";
static const char sql_outbox_get[] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1";
/* Delivery: these three run on the outbox_due index (state, next_attempt_ms). */
static const char sql_outbox_due[] =
    "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 'pending'"
    " AND next_attempt_ms <= ?1"
    " AND (next_attempt_ms > ?3 OR (next_attempt_ms = ?3 AND id > ?4))"
    " ORDER BY next_attempt_ms, id LIMIT ?2";
static const char sql_outbox_next_due[] =
    "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'pending'";
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
/* Storm grouping: the rows waiting for one address on a channel (outbox_grouping). */
#define GROUP_CANDIDATES                                                                           \
    " FROM outbox WHERE state = 'pending' AND group_id IS NULL AND channel = ?1"                   \
    " AND address IS ?2 AND next_attempt_ms <= ?3"
static const char sql_outbox_group_count[] =
    "SELECT count(*) FROM (SELECT 1" GROUP_CANDIDATES " LIMIT ?4)";
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
    sql_outbox_add,           sql_outbox_update,       sql_outbox_list,
    sql_outbox_get,           sql_outbox_due,          sql_outbox_next_due,
    sql_outbox_requeue,       sql_outbox_retry,        sql_outbox_latest,
    sql_outbox_retry_members, sql_outbox_group_count,  sql_outbox_group_self,
    sql_outbox_group_join,    sql_outbox_group_settle, NULL,
};

int store_outbox_add(struct store *s, const struct outbox_row *o, int64_t *ret_id, bool *ret_added,
                     struct slad_error *reterr)
{
    const char *state = outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    sqlite3_stmt *st = store_prepared(s, sql_outbox_add, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_id(&b, 1, o->ticket_id);
    bind_text(&b, 2, o->event);
    bind_text(&b, 3, o->channel);
    bind_text(&b, 4, o->recipient);
    bind_text(&b, 5, o->idempotency_key);
    bind_text(&b, 6, state);
    bind_int64(&b, 7, o->attempts);
    bind_time(&b, 8, o->next_attempt_ms);
    bind_text(&b, 9, o->last_error);
    bind_text(&b, 10, o->payload);
    bind_int64(&b, 11, o->created_ms);
    bind_time(&b, 12, o->sent_ms);
    bind_text(&b, 13, o->contact);
    bind_text(&b, 14, o->address);
    bind_int64(&b, 15, o->deferred);
    bind_id(&b, 16, o->group_id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "queueing a notification", reterr);
    }
    int r = store_run(s, st, "queueing a notification", reterr);
    if (r < 0)
        return r;
    bool added = sqlite3_changes(store_db(s)) > 0;
    if (ret_id)
        *ret_id = added ? sqlite3_last_insert_rowid(store_db(s)) : 0;
    if (ret_added)
        *ret_added = added;
    return 0;
}

int store_outbox_update(struct store *s, const struct outbox_row *o, struct slad_error *reterr)
{
    const char *state = outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    sqlite3_stmt *st = store_prepared(s, sql_outbox_update, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, o->id);
    bind_text(&b, 2, state);
    bind_text(&b, 3, o->channel);
    bind_int64(&b, 4, o->attempts);
    bind_time(&b, 5, o->next_attempt_ms);
    bind_text(&b, 6, o->last_error);
    bind_time(&b, 7, o->sent_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "updating a notification", reterr);
    }
    int r = store_run(s, st, "updating a notification", reterr);
    if (r < 0)
        return r;
    if (sqlite3_changes(store_db(s)) == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", o->id);
    return 0;
}

/* Step st (columns OUTBOX_COLUMNS) and call fn on each row; *ret_rows counts them. */
static int outbox_rows(struct store *s, sqlite3_stmt *st, outbox_row_fn *fn, void *userdata,
                       size_t *ret_rows, struct slad_error *reterr)
{
    int rc, r = 0;
    size_t rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = outbox_state_from_name(column_text(st, 6));
        if (state < 0) {
            r = slad_error_set(reterr, EIO,
                               "database: notification %" PRId64 " has an unknown "
                               "state",
                               (int64_t)sqlite3_column_int64(st, 0));
            break;
        }
        struct outbox_row o = {
            .id = sqlite3_column_int64(st, 0),
            .ticket_id = sqlite3_column_int64(st, 1), /* NULL reads as 0 */
            .event = column_text(st, 2),
            .channel = column_text(st, 3),
            .recipient = column_text(st, 4),
            .idempotency_key = column_text(st, 5),
            .state = state,
            .attempts = sqlite3_column_int(st, 7),
            .next_attempt_ms = column_time(st, 8),
            .last_error = column_text(st, 9),
            .payload = column_text(st, 10),
            .created_ms = sqlite3_column_int64(st, 11),
            .sent_ms = column_time(st, 12),
            .contact = column_text(st, 13),
            .retried_ms = column_time(st, 14),
            .address = column_text(st, 15),
            .deferred = sqlite3_column_int(st, 16) != 0,
            .group_id = sqlite3_column_int64(st, 17), /* NULL reads as 0 */
        };
        rows++;
        r = fn(userdata, &o);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store_fail(s, rc, "listing notifications", reterr);
    sqlite3_reset(st);
    *ret_rows = rows;
    return r < 0 ? r : 0;
}

int store_outbox_list(struct store *s, const struct outbox_filter *f, outbox_row_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_list, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, f->after_id);
    if (f->state >= 0)
        bind_text(&b, 2, outbox_state_name(f->state));
    else
        bind_null(&b, 2);
    bind_id(&b, 3, f->ticket_id);
    bind_time(&b, 4, f->due_ms);
    bind_limit(&b, 5, f->limit);
    bind_text(&b, 6, f->event);
    bind_text(&b, 7, f->channel);
    bind_id(&b, 8, f->group_id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "listing notifications", reterr);
    }
    size_t rows;
    return outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_latest(struct store *s, int64_t ticket_id, size_t limit, outbox_row_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int r = store_bind_latest(s, sql_outbox_latest, ticket_id, limit, "listing notifications", &st,
                              reterr);
    size_t rows;
    return r < 0 ? r : outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_get(struct store *s, int64_t id, outbox_row_fn *fn, void *userdata,
                     struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_get, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    if (b.rc != SQLITE_OK)
        return store_fail(s, b.rc, "loading a notification", reterr);
    size_t rows;
    int r = outbox_rows(s, st, fn, userdata, &rows, reterr);
    if (r < 0)
        return r;
    if (rows == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", id);
    return 0;
}

int store_outbox_due(struct store *s, int64_t now_ms, int64_t after_ms, int64_t after_id,
                     size_t limit, outbox_row_fn *fn, void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_due, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, now_ms);
    bind_limit(&b, 2, limit);
    bind_int64(&b, 3, after_ms);
    bind_int64(&b, 4, after_id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "listing due notifications", reterr);
    }
    size_t rows;
    return outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_next_due(struct store *s, int64_t *ret_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_next_due, reterr);
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW)
        *ret_ms =
            sqlite3_column_type(st, 0) == SQLITE_NULL ? SLAD_NO_TIME : sqlite3_column_int64(st, 0);
    else
        r = store_fail(s, rc, "finding the next notification", reterr);
    sqlite3_reset(st);
    return r;
}

int store_outbox_requeue_sending(struct store *s, int64_t now_ms, size_t *ret_n,
                                 struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_requeue, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, now_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "re-queueing notifications", reterr);
    }
    int r = store_run(s, st, "re-queueing notifications", reterr);
    if (r < 0)
        return r;
    if (ret_n)
        *ret_n = (size_t)sqlite3_changes(store_db(s));
    return 0;
}

int store_outbox_requeue(struct store *s, int64_t id, int64_t now_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_retry, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    bind_int64(&b, 2, now_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "re-queueing a notification", reterr);
    }
    int r = store_run(s, st, "re-queueing a notification", reterr);
    if (r < 0)
        return r;
    if (sqlite3_changes(store_db(s)) == 0)
        return slad_error_set(reterr, EBUSY, "notification %" PRId64 " is not dead", id);
    return store_run_id(s, sql_outbox_retry_members, id, "re-queueing a notification", reterr);
}

/* Bind the grouping's candidates: channel, address, until_ms, max (?1..?4). */
static void bind_candidates(struct binder *b, const struct outbox_row *g, int64_t until_ms,
                            size_t max)
{
    bind_text(b, 1, g->channel);
    bind_text(b, 2, g->address);
    bind_int64(b, 3, until_ms);
    bind_limit(b, 4, max);
}

int store_outbox_group(struct store *s, const struct outbox_row *g, int64_t until_ms, size_t max,
                       int64_t *ret_id, size_t *ret_n, struct slad_error *reterr)
{
    *ret_id = 0;
    *ret_n = 0;
    sqlite3_stmt *st = store_prepared(s, sql_outbox_group_count, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_candidates(&b, g, until_ms, max);
    int rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, rc, "grouping notifications", reterr);
    if (n < 2) /* alone: it goes as it is */
        return 0;
    int64_t id = 0;
    int r = store_outbox_add(s, g, &id, NULL, reterr);
    if (r == 0 && id == 0)
        r = slad_error_set(reterr, EEXIST, "grouped message '%s' exists", g->idempotency_key);
    if (r == 0)
        r = store_run_id(s, sql_outbox_group_self, id, "grouping notifications", reterr);
    if (r < 0)
        return r;
    if (!(st = store_prepared(s, sql_outbox_group_join, reterr)))
        return -EIO;
    b = (struct binder){st, SQLITE_OK};
    bind_candidates(&b, g, until_ms, max);
    bind_int64(&b, 5, id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "grouping notifications", reterr);
    }
    r = store_run(s, st, "grouping notifications", reterr);
    if (r < 0)
        return r;
    *ret_id = id;
    *ret_n = (size_t)sqlite3_changes(store_db(s));
    return 0;
}

int store_outbox_settle_group(struct store *s, const struct outbox_row *g,
                              struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_outbox_group_settle, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, g->id);
    bind_text(&b, 2, outbox_state_name(g->state));
    bind_text(&b, 3, g->last_error);
    bind_time(&b, 4, g->sent_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "recording a grouped message", reterr);
    }
    return store_run(s, st, "recording a grouped message", reterr);
}
