/* store_schedule.c - on-call overrides in the schedule_overrides table (store_schedule.h). */
#include "store_schedule.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms, created_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_delete[] = "DELETE FROM schedule_overrides WHERE id = ?1 AND schedule = ?2";
#define OVERRIDE_COLUMNS "id, schedule, contact, from_ms, to_ms, created_ms"
/* A schedule's listing, page by page. */
static const char sql_list[] = "SELECT " OVERRIDE_COLUMNS " FROM schedule_overrides"
                               " WHERE (?1 IS NULL OR schedule = ?1) AND id > ?5"
                               " ORDER BY id LIMIT ?4";
/* Overlap of [from_ms, to_ms) with [?2, ?3): through the end index, which holds few rows
 * past a recent instant (the overrides still running) however many have ended. */
static const char sql_window[] =
    "SELECT " OVERRIDE_COLUMNS " FROM schedule_overrides INDEXED BY schedule_overrides_end"
    " WHERE to_ms > ?2 AND (?1 IS NULL OR schedule = ?1) AND from_ms < ?3 AND id > ?5"
    " ORDER BY id LIMIT ?4";

const char *const store_schedule_statements[] = {sql_insert, sql_delete, sql_list, sql_window,
                                                 NULL};

int store_override_insert(struct store *s, struct schedule_override *o, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, o->schedule);
    bind_text(&b, 2, o->contact);
    bind_int64(&b, 3, o->from_ms);
    bind_int64(&b, 4, o->to_ms);
    bind_int64(&b, 5, o->created_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "adding an override", reterr);
    }
    int r = store_run(s, st, "adding an override", reterr);
    if (r == 0)
        o->id = sqlite3_last_insert_rowid(store_db(s));
    return r;
}

int store_override_delete(struct store *s, const char *schedule, int64_t id,
                          struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    bind_text(&b, 2, schedule);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "deleting an override", reterr);
    }
    int r = store_run(s, st, "deleting an override", reterr);
    if (r == 0 && sqlite3_changes(store_db(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "schedule '%s' has no override %lld", schedule,
                           (long long)id);
    return r;
}

int store_override_list(struct store *s, const char *schedule, int64_t from_ms, int64_t to_ms,
                        int64_t after_id, size_t limit, schedule_override_fn *fn, void *userdata,
                        struct slad_error *reterr)
{
    bool all = from_ms == INT64_MIN && to_ms == INT64_MAX;
    sqlite3_stmt *st = store_prepared(s, all ? sql_list : sql_window, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, schedule);
    bind_int64(&b, 2, from_ms);
    bind_int64(&b, 3, to_ms);
    bind_limit(&b, 4, limit);
    bind_int64(&b, 5, after_id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "listing overrides", reterr);
    }
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct schedule_override o = {
            .id = sqlite3_column_int64(st, 0),
            .from_ms = sqlite3_column_int64(st, 3),
            .to_ms = sqlite3_column_int64(st, 4),
            .created_ms = sqlite3_column_int64(st, 5),
        };
        snprintf(o.schedule, sizeof(o.schedule), "%s", column_text(st, 1));
        snprintf(o.contact, sizeof(o.contact), "%s", column_text(st, 2));
        r = fn(userdata, &o);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store_fail(s, rc, "listing overrides", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}
