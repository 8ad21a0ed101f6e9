/* store_history.c - what happened to a ticket, in the table history (store.h). */
#include "store.h"
#include "store_internal.h"

#include <errno.h>

#define HISTORY_COLUMNS "id, ticket_id, at_ms, created_ms, kind, data, late"

static const char sql_history_add[] =
    "INSERT INTO history (ticket_id, at_ms, created_ms, kind, data, late)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
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
    sqlite3_stmt *st = store_prepared(s, sql_history_add, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, h->ticket_id);
    bind_int64(&b, 2, h->at_ms);
    bind_int64(&b, 3, h->created_ms);
    bind_text(&b, 4, h->kind);
    bind_text(&b, 5, h->data);
    bind_int64(&b, 6, h->late ? 1 : 0);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "adding history", reterr);
    }
    int r = store_run(s, st, "adding history", reterr);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(store_db(s));
    return 0;
}

/* Step st (columns HISTORY_COLUMNS) and call fn on each row. */
static int history_rows(struct store *s, sqlite3_stmt *st, history_entry_fn *fn, void *userdata,
                        struct slad_error *reterr)
{
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct history_entry h = {
            .id = sqlite3_column_int64(st, 0),
            .ticket_id = sqlite3_column_int64(st, 1),
            .at_ms = sqlite3_column_int64(st, 2),
            .created_ms = sqlite3_column_int64(st, 3),
            .kind = column_text(st, 4),
            .data = column_text(st, 5),
            .late = sqlite3_column_int(st, 6) != 0,
        };
        r = fn(userdata, &h);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store_fail(s, rc, "listing history", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_history_list(struct store *s, int64_t ticket_id, int64_t after_id, size_t limit,
                       history_entry_fn *fn, void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_history_list, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, ticket_id);
    bind_int64(&b, 2, after_id);
    bind_limit(&b, 3, limit);
    if (b.rc != SQLITE_OK)
        return store_fail(s, b.rc, "listing history", reterr);
    return history_rows(s, st, fn, userdata, reterr);
}

int store_history_latest(struct store *s, int64_t ticket_id, size_t limit, history_entry_fn *fn,
                         void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int r =
        store_bind_latest(s, sql_history_latest, ticket_id, limit, "listing history", &st, reterr);
    return r < 0 ? r : history_rows(s, st, fn, userdata, reterr);
}
