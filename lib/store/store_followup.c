/* store_followup.c - follow-up tasks in the followups table (store_followup.h). */
#include "store_followup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

#define FOLLOWUP_COLUMNS                                                                           \
    "id, ticket_id, plan_id, name, owner, generation, state, created_ms, due_ms, deadline_ms,"     \
    " outcome, note, done_by, done_ms, fired"

enum {
    FC_ID,
    FC_TICKET_ID,
    FC_PLAN_ID,
    FC_NAME,
    FC_OWNER,
    FC_GENERATION,
    FC_STATE,
    FC_CREATED_MS,
    FC_DUE_MS,
    FC_DEADLINE_MS,
    FC_OUTCOME,
    FC_NOTE,
    FC_DONE_BY,
    FC_DONE_MS,
    FC_FIRED,
};

static const char sql_insert[] =
    "INSERT INTO followups (ticket_id, plan_id, name, owner, generation, state, created_ms,"
    " due_ms, deadline_ms, fired, next_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT DO NOTHING";
static const char sql_update[] =
    "UPDATE followups SET state = ?2, outcome = ?3, note = ?4, done_by = ?5, done_ms = ?6,"
    " fired = ?7, next_ms = ?8 WHERE id = ?1";
static const char sql_load[] = "SELECT " FOLLOWUP_COLUMNS " FROM followups WHERE id = ?1";
static const char sql_open_of_ticket[] =
    "SELECT " FOLLOWUP_COLUMNS " FROM followups INDEXED BY followups_ticket"
    " WHERE ticket_id = ?1 AND id > ?2 AND state = 'open' ORDER BY id LIMIT ?3";
static const char sql_cancel_plan[] = "UPDATE followups SET state = 'cancelled', next_ms = NULL"
                                      " WHERE plan_id = ?1 AND state = 'open' RETURNING id";
/* ?1 view (-1 any, else followup_view), ?2 now, ?3 before, ?4 ticket, ?5 plan, ?6 after
 * id, ?7 limit. The views read as in followup_view(). */
static const char sql_list[] =
    "SELECT " FOLLOWUP_COLUMNS " FROM followups WHERE id > ?6"
    " AND (?4 IS NULL OR ticket_id = ?4) AND (?5 IS NULL OR plan_id = ?5)"
    " AND (?3 IS NULL OR due_ms < ?3)"
    " AND (?1 = -1"
    "  OR (?1 = 0 AND state = 'open' AND due_ms > ?2)"
    "  OR (?1 = 1 AND state = 'open' AND due_ms <= ?2 AND deadline_ms > ?2)"
    "  OR (?1 = 2 AND state = 'open' AND deadline_ms <= ?2)"
    "  OR (?1 = 3 AND state = 'done')"
    "  OR (?1 = 4 AND state = 'cancelled'))"
    " ORDER BY id LIMIT ?7";
static const char sql_agenda[] =
    "SELECT id, next_ms FROM followups INDEXED BY followups_next WHERE next_ms IS NOT NULL";

/* The list's view numbers are the enum's: keep them in step. */
_Static_assert(FOLLOWUP_VIEW_PENDING == 0 && FOLLOWUP_VIEW_DUE == 1 && FOLLOWUP_VIEW_OVERDUE == 2 &&
                   FOLLOWUP_VIEW_DONE == 3 && FOLLOWUP_VIEW_CANCELLED == 4,
               "sql_list numbers the views");

int store_followup_insert(struct store *s, struct followup *f, int64_t next_ms,
                          struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_id(&b, 1, f->ticket_id);
    bind_id(&b, 2, f->plan_id);
    bind_text(&b, 3, f->name);
    bind_text(&b, 4, f->owner);
    bind_int64(&b, 5, f->generation);
    bind_int64(&b, 6, f->created_ms);
    bind_int64(&b, 7, f->due_ms);
    bind_int64(&b, 8, f->deadline_ms);
    bind_int64(&b, 9, f->fired);
    bind_time(&b, 10, next_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "inserting a follow-up", reterr);
    }
    int r = store_run(s, st, "inserting a follow-up", reterr);
    if (r < 0)
        return r;
    sqlite3 *db = store_db(s);
    if (sqlite3_changes(db) == 0)
        return slad_error_set(reterr, EEXIST, "follow-up '%s' exists already", f->name);
    f->id = sqlite3_last_insert_rowid(db);
    return 0;
}

int store_followup_update(struct store *s, const struct followup *f, int64_t next_ms,
                          struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_update, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, f->id);
    bind_text(&b, 2, followup_state_name(f->state));
    bind_text(&b, 3, followup_outcome_name(f->outcome));
    bind_text(&b, 4, f->note[0] ? f->note : NULL);
    bind_text(&b, 5, f->done_by[0] ? f->done_by : NULL);
    bind_time(&b, 6, f->done_ms);
    bind_int64(&b, 7, f->fired);
    bind_time(&b, 8, next_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "updating a follow-up", reterr);
    }
    return store_run(s, st, "updating a follow-up", reterr);
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void read_row(sqlite3_stmt *st, struct followup *f)
{
    memset(f, 0, sizeof(*f));
    f->id = sqlite3_column_int64(st, FC_ID);
    f->ticket_id = sqlite3_column_int64(st, FC_TICKET_ID); /* NULL reads 0 */
    f->plan_id = sqlite3_column_int64(st, FC_PLAN_ID);
    copy_text(f->name, sizeof(f->name), column_text(st, FC_NAME));
    copy_text(f->owner, sizeof(f->owner), column_text(st, FC_OWNER));
    f->generation = sqlite3_column_int(st, FC_GENERATION);
    int state = followup_state_from_name(column_text(st, FC_STATE));
    f->state = state < 0 ? FOLLOWUP_CANCELLED : (enum followup_state)state;
    f->created_ms = sqlite3_column_int64(st, FC_CREATED_MS);
    f->due_ms = sqlite3_column_int64(st, FC_DUE_MS);
    f->deadline_ms = sqlite3_column_int64(st, FC_DEADLINE_MS);
    int outcome = followup_outcome_from_name(column_text(st, FC_OUTCOME));
    f->outcome = outcome < 0 ? FOLLOWUP_NO_OUTCOME : (enum followup_outcome)outcome;
    copy_text(f->note, sizeof(f->note), column_text(st, FC_NOTE));
    copy_text(f->done_by, sizeof(f->done_by), column_text(st, FC_DONE_BY));
    f->done_ms = column_time(st, FC_DONE_MS);
    f->fired = (uint32_t)sqlite3_column_int64(st, FC_FIRED);
}

int store_followup_load(struct store *s, int64_t id, struct followup *ret,
                        struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_load, reterr);
    if (!st)
        return -EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        read_row(st, ret);
        r = 0;
    } else if (rc == SQLITE_DONE) {
        r = slad_error_set(reterr, ENOENT, "follow-up %lld not found", (long long)id);
    } else {
        r = store_fail(s, rc, "reading a follow-up", reterr);
    }
    sqlite3_reset(st);
    return r;
}

/* Step st (bound) and hand each returned id to fn. */
static int each_id(struct store *s, sqlite3_stmt *st, store_followup_id_fn *fn, void *userdata,
                   const char *op, struct slad_error *reterr)
{
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (r == 0 && fn)
            r = fn(userdata, sqlite3_column_int64(st, 0));
    if (rc != SQLITE_DONE && r == 0)
        r = store_fail(s, rc, op, reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_followup_open_of_ticket(struct store *s, int64_t ticket_id, int64_t after_id,
                                  struct followup *ret, size_t max, size_t *ret_n,
                                  struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_open_of_ticket, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, ticket_id);
    bind_int64(&b, 2, after_id);
    bind_limit(&b, 3, max);
    size_t n = 0;
    int rc = b.rc;
    while (rc == SQLITE_OK && n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &ret[n++]);
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    *ret_n = n;
    return rc == SQLITE_OK || rc == SQLITE_DONE ? 0
                                                : store_fail(s, rc, "reading follow-ups", reterr);
}

int store_followup_cancel_plan(struct store *s, int64_t plan_id, store_followup_id_fn *fn,
                               void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_cancel_plan, reterr);
    if (!st)
        return -EIO;
    int rc = sqlite3_bind_int64(st, 1, plan_id);
    if (rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, rc, "cancelling a plan's follow-ups", reterr);
    }
    return each_id(s, st, fn, userdata, "cancelling a plan's follow-ups", reterr);
}

int store_followup_list(struct store *s, const struct followup_filter *filter, followup_row_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_list, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, filter->view);
    bind_int64(&b, 2, filter->now_ms);
    bind_time(&b, 3, filter->before_ms);
    bind_id(&b, 4, filter->ticket_id);
    bind_id(&b, 5, filter->plan_id);
    bind_int64(&b, 6, filter->after_id);
    bind_limit(&b, 7, filter->limit);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "listing follow-ups", reterr);
    }
    int rc, r = 0;
    struct followup f;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &f);
        r = fn(userdata, &f);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc, "listing follow-ups", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_followup_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                               struct slad_error *reterr)
{
    return store_agenda_rows(s, sql_agenda, fn, userdata, "loading the follow-ups' agenda", reterr);
}
