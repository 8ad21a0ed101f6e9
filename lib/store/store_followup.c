/* store_followup.c - follow-up tasks in the followups table (store_followup.h). On the SQL
 * seam (store_db.h). */
#include "store_followup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_db.h"
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
    " ON CONFLICT DO NOTHING RETURNING id";
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
 * id, ?7 limit. The views read as in followup_view(). The CASTs let PostgreSQL type a
 * parameter that may be NULL. */
static const char sql_list[] =
    "SELECT " FOLLOWUP_COLUMNS " FROM followups WHERE id > ?6"
    " AND (CAST(?4 AS BIGINT) IS NULL OR ticket_id = ?4)"
    " AND (CAST(?5 AS BIGINT) IS NULL OR plan_id = ?5)"
    " AND (CAST(?3 AS BIGINT) IS NULL OR due_ms < ?3)"
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
    struct db_stmt *st = store_stmt(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    store_bind_id(st, 1, f->ticket_id);
    store_bind_id(st, 2, f->plan_id);
    db_bind_text(st, 3, f->name);
    db_bind_text(st, 4, f->owner);
    db_bind_int64(st, 5, f->generation);
    db_bind_int64(st, 6, f->created_ms);
    db_bind_int64(st, 7, f->due_ms);
    db_bind_int64(st, 8, f->deadline_ms);
    db_bind_int64(st, 9, f->fired);
    store_bind_time(st, 10, next_ms);
    int64_t id = 0;
    int r = store_db_insert(s, st, "inserting a follow-up", &id, reterr);
    if (r < 0)
        return r;
    if (id == 0)
        return slad_error_set(reterr, EEXIST, "follow-up '%s' exists already", f->name);
    f->id = id;
    return 0;
}

int store_followup_update(struct store *s, const struct followup *f, int64_t next_ms,
                          struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_update, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, f->id);
    db_bind_text(st, 2, followup_state_name(f->state));
    db_bind_text(st, 3, followup_outcome_name(f->outcome));
    db_bind_text(st, 4, f->note[0] ? f->note : NULL);
    db_bind_text(st, 5, f->done_by[0] ? f->done_by : NULL);
    store_bind_time(st, 6, f->done_ms);
    db_bind_int64(st, 7, f->fired);
    store_bind_time(st, 8, next_ms);
    return store_db_write(s, st, "updating a follow-up", reterr);
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void read_row(struct db_stmt *st, struct followup *f)
{
    memset(f, 0, sizeof(*f));
    f->id = db_column_int64(st, FC_ID);
    f->ticket_id = db_column_int64(st, FC_TICKET_ID); /* NULL reads 0 */
    f->plan_id = db_column_int64(st, FC_PLAN_ID);
    copy_text(f->name, sizeof(f->name), db_column_text(st, FC_NAME));
    copy_text(f->owner, sizeof(f->owner), db_column_text(st, FC_OWNER));
    f->generation = (int)db_column_int64(st, FC_GENERATION);
    int state = followup_state_from_name(db_column_text(st, FC_STATE));
    f->state = state < 0 ? FOLLOWUP_CANCELLED : (enum followup_state)state;
    f->created_ms = db_column_int64(st, FC_CREATED_MS);
    f->due_ms = db_column_int64(st, FC_DUE_MS);
    f->deadline_ms = db_column_int64(st, FC_DEADLINE_MS);
    int outcome = followup_outcome_from_name(db_column_text(st, FC_OUTCOME));
    f->outcome = outcome < 0 ? FOLLOWUP_NO_OUTCOME : (enum followup_outcome)outcome;
    copy_text(f->note, sizeof(f->note), db_column_text(st, FC_NOTE));
    copy_text(f->done_by, sizeof(f->done_by), db_column_text(st, FC_DONE_BY));
    f->done_ms = store_column_time(st, FC_DONE_MS);
    f->fired = (uint32_t)db_column_int64(st, FC_FIRED);
}

int store_followup_load(struct store *s, int64_t id, struct followup *ret,
                        struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_load, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    int r = db_step(st, "reading a follow-up", reterr);
    if (r == 1)
        read_row(st, ret);
    else if (r == 0)
        r = slad_error_set(reterr, ENOENT, "follow-up %lld not found", (long long)id);
    db_reset(st);
    return r < 0 ? r : 0;
}

int store_followup_open_of_ticket(struct store *s, int64_t ticket_id, int64_t after_id,
                                  struct followup *ret, size_t max, size_t *ret_n,
                                  struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_open_of_ticket, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, ticket_id);
    db_bind_int64(st, 2, after_id);
    db_bind_limit(st, 3, max);
    size_t n = 0;
    int r = 0;
    while (n < max && (r = db_step(st, "reading follow-ups", reterr)) == 1)
        read_row(st, &ret[n++]);
    db_reset(st);
    *ret_n = n;
    return r < 0 ? r : 0;
}

int store_followup_cancel_plan(struct store *s, int64_t plan_id, store_followup_id_fn *fn,
                               void *userdata, struct slad_error *reterr)
{
    static const char op[] = "cancelling a plan's follow-ups";
    struct db_stmt *st = store_stmt(s, sql_cancel_plan, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, plan_id);
    /* Every returned id is read (the update is whole) even when fn stops early. */
    int rc, r = 0;
    while ((rc = db_step(st, op, reterr)) == 1)
        if (r == 0 && fn)
            r = fn(userdata, db_column_int64(st, 0));
    if (rc < 0 && r == 0)
        r = rc;
    db_reset(st);
    return r < 0 ? r : 0;
}

struct list_walk {
    followup_row_fn *fn;
    void *userdata;
};

static int list_row(void *ctx, struct db_stmt *st)
{
    struct list_walk *w = ctx;
    struct followup f;
    read_row(st, &f);
    return w->fn(w->userdata, &f);
}

int store_followup_list(struct store *s, const struct followup_filter *filter, followup_row_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_list, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, filter->view);
    db_bind_int64(st, 2, filter->now_ms);
    store_bind_time(st, 3, filter->before_ms);
    store_bind_id(st, 4, filter->ticket_id);
    store_bind_id(st, 5, filter->plan_id);
    db_bind_int64(st, 6, filter->after_id);
    db_bind_limit(st, 7, filter->limit);
    struct list_walk w = {fn, userdata};
    return store_db_rows(st, "listing follow-ups", list_row, &w, reterr);
}

int store_followup_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                               struct slad_error *reterr)
{
    return store_db_agenda_rows(s, sql_agenda, fn, userdata, "loading the follow-ups' agenda",
                                reterr);
}
