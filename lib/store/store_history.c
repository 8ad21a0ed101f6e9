/* store_history.c - what happened to a ticket, in the table history (store.h). On the SQL
 * seam (store_db.h). */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>

#define HISTORY_COLUMNS "id, ticket_id, at_ms, created_ms, kind, data, late"

static const char sql_history_add[] =
    "INSERT INTO history (ticket_id, at_ms, created_ms, kind, data, late)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char sql_history_list[] = "SELECT " HISTORY_COLUMNS " FROM history"
                                       " WHERE ticket_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
/* The newest rows of one ticket, on the (ticket_id, id) index read backwards. */
static const char sql_history_latest[] = "SELECT " HISTORY_COLUMNS " FROM history"
                                         " WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2";

const char *const store_history_statements[] = {
    sql_history_add,
    sql_history_list,
    sql_history_latest,
    NULL,
};

int store_history_add(struct store *s, const struct history_entry *h, int64_t *ret_id,
                      struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_history_add, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, h->ticket_id);
    db_bind_int64(st, 2, h->at_ms);
    db_bind_int64(st, 3, h->created_ms);
    db_bind_text(st, 4, h->kind);
    db_bind_text(st, 5, h->data);
    db_bind_int64(st, 6, h->late ? 1 : 0);
    int64_t id = 0;
    int r = store_db_insert(s, st, "adding history", &id, reterr);
    if (r == 0 && ret_id)
        *ret_id = id;
    return r;
}

struct history_walk {
    history_entry_fn *fn;
    void *userdata;
};

/* A row of columns HISTORY_COLUMNS to the caller's fn. */
static int history_row(void *ctx, struct db_stmt *st)
{
    struct history_walk *w = ctx;
    struct history_entry h = {
        .id = db_column_int64(st, 0),
        .ticket_id = db_column_int64(st, 1),
        .at_ms = db_column_int64(st, 2),
        .created_ms = db_column_int64(st, 3),
        .kind = db_column_text(st, 4),
        .data = db_column_text(st, 5),
        .late = db_column_int64(st, 6) != 0,
    };
    return w->fn(w->userdata, &h);
}

static int history_rows(struct db_stmt *st, history_entry_fn *fn, void *userdata,
                        struct slad_error *reterr)
{
    struct history_walk w = {fn, userdata};
    return store_db_rows(st, "listing history", history_row, &w, reterr);
}

int store_history_list(struct store *s, int64_t ticket_id, int64_t after_id, size_t limit,
                       history_entry_fn *fn, void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_history_list, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, ticket_id);
    db_bind_int64(st, 2, after_id);
    db_bind_limit(st, 3, limit);
    return history_rows(st, fn, userdata, reterr);
}

int store_history_latest(struct store *s, int64_t ticket_id, size_t limit, history_entry_fn *fn,
                         void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_db_latest(s, sql_history_latest, ticket_id, limit, reterr);
    return st ? history_rows(st, fn, userdata, reterr) : -EIO;
}
