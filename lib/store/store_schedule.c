/* store_schedule.c - on-call overrides in the schedule_overrides table (store_schedule.h).
 * On the SQL seam (store_db.h). */
#include "store_schedule.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "store_db.h"
#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms, created_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
static const char sql_delete[] = "DELETE FROM schedule_overrides WHERE id = ?1 AND schedule = ?2";
#define OVERRIDE_COLUMNS "id, schedule, contact, from_ms, to_ms, created_ms"
/* A schedule's listing (?1 schedule or NULL for all), page by page: ?2 after id, ?3 limit.
 * The CASTs let PostgreSQL type a parameter that may be NULL. */
static const char sql_list[] = "SELECT " OVERRIDE_COLUMNS " FROM schedule_overrides"
                               " WHERE (CAST(?1 AS TEXT) IS NULL OR schedule = ?1) AND id > ?2"
                               " ORDER BY id LIMIT ?3";
/* Overlap of [from_ms, to_ms) with [?4, ?5): through the end index, which holds few rows
 * past a recent instant (the overrides still running) however many have ended. */
static const char sql_window[] =
    "SELECT " OVERRIDE_COLUMNS " FROM schedule_overrides INDEXED BY schedule_overrides_end"
    " WHERE to_ms > ?4 AND (CAST(?1 AS TEXT) IS NULL OR schedule = ?1) AND from_ms < ?5"
    " AND id > ?2 ORDER BY id LIMIT ?3";

const char *const store_schedule_statements[] = {sql_insert, sql_delete, sql_list, sql_window,
                                                 NULL};

int store_override_insert(struct store *s, struct schedule_override *o, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, o->schedule);
    db_bind_text(st, 2, o->contact);
    db_bind_int64(st, 3, o->from_ms);
    db_bind_int64(st, 4, o->to_ms);
    db_bind_int64(st, 5, o->created_ms);
    int64_t id = 0;
    int r = store_db_insert(s, st, "adding an override", &id, reterr);
    if (r == 0)
        o->id = id;
    return r;
}

int store_override_delete(struct store *s, const char *schedule, int64_t id,
                          struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_text(st, 2, schedule);
    int r = store_db_run(s, st, "deleting an override", reterr);
    if (r == 0 && db_changes(store_dbh(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "schedule '%s' has no override %lld", schedule,
                           (long long)id);
    return r;
}

struct list_walk {
    schedule_override_fn *fn;
    void *userdata;
};

static int list_row(void *ctx, struct db_stmt *st)
{
    struct list_walk *w = ctx;
    struct schedule_override o = {
        .id = db_column_int64(st, 0),
        .from_ms = db_column_int64(st, 3),
        .to_ms = db_column_int64(st, 4),
        .created_ms = db_column_int64(st, 5),
    };
    snprintf(o.schedule, sizeof(o.schedule), "%s", db_column_text(st, 1));
    snprintf(o.contact, sizeof(o.contact), "%s", db_column_text(st, 2));
    return w->fn(w->userdata, &o);
}

int store_override_list(struct store *s, const char *schedule, int64_t from_ms, int64_t to_ms,
                        int64_t after_id, size_t limit, schedule_override_fn *fn, void *userdata,
                        struct slad_error *reterr)
{
    bool all = from_ms == INT64_MIN && to_ms == INT64_MAX;
    struct db_stmt *st = store_stmt(s, all ? sql_list : sql_window, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, schedule);
    db_bind_int64(st, 2, after_id);
    db_bind_limit(st, 3, limit);
    if (!all) {
        db_bind_int64(st, 4, from_ms);
        db_bind_int64(st, 5, to_ms);
    }
    struct list_walk w = {fn, userdata};
    return store_db_rows(st, "listing overrides", list_row, &w, reterr);
}
