/* store_plan.c - maintenance plans in the plans table (store_plan.h). */
#include "store_plan.h"

#include <errno.h>
#include <string.h>

#include "store_internal.h"

/* The columns after id, in the order of bind parameters ?1..?19 (insert and update) and
 * of result columns 1..19 (column 0 is id). */
#define PLAN_COLUMNS                                                                               \
    "name, customer_name, customer_phone, customer_address, device_model, device_serial,"          \
    " team, owner, assignee, rrule, start_ms, until_ms, due_within, report_within, calendar,"      \
    " occurrences, next_ms, created_ms, updated_ms"

enum {
    PC_NAME = 1,
    PC_CUSTOMER_NAME,
    PC_CUSTOMER_PHONE,
    PC_CUSTOMER_ADDRESS,
    PC_DEVICE_MODEL,
    PC_DEVICE_SERIAL,
    PC_TEAM,
    PC_OWNER,
    PC_ASSIGNEE,
    PC_RRULE,
    PC_START_MS,
    PC_UNTIL_MS,
    PC_DUE_WITHIN,
    PC_REPORT_WITHIN,
    PC_CALENDAR,
    PC_OCCURRENCES,
    PC_NEXT_MS,
    PC_CREATED_MS,
    PC_UPDATED_MS,
    PC_COUNT = PC_UPDATED_MS
};

static const char sql_insert[] =
    "INSERT INTO plans (" PLAN_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
static const char sql_update[] =
    "UPDATE plans SET name = ?1, customer_name = ?2, customer_phone = ?3, customer_address = ?4,"
    " device_model = ?5, device_serial = ?6, team = ?7, owner = ?8, assignee = ?9, rrule = ?10,"
    " start_ms = ?11, until_ms = ?12, due_within = ?13, report_within = ?14, calendar = ?15,"
    " occurrences = ?16, next_ms = ?17, created_ms = ?18, updated_ms = ?19 WHERE id = ?20";
static const char sql_load[] = "SELECT id, " PLAN_COLUMNS " FROM plans WHERE id = ?1";
static const char sql_delete[] = "DELETE FROM plans WHERE id = ?1";
static const char sql_list[] =
    "SELECT id, " PLAN_COLUMNS " FROM plans WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char sql_agenda[] =
    "SELECT id, next_ms FROM plans INDEXED BY plans_next WHERE next_ms IS NOT NULL";

static void bind_plan(struct binder *b, const struct plan *p)
{
    bind_text(b, PC_NAME, p->name);
    bind_text(b, PC_CUSTOMER_NAME, p->customer_name);
    bind_text(b, PC_CUSTOMER_PHONE, p->customer_phone);
    bind_text(b, PC_CUSTOMER_ADDRESS, p->customer_address);
    bind_text(b, PC_DEVICE_MODEL, p->device_model);
    bind_text(b, PC_DEVICE_SERIAL, p->device_serial);
    bind_text(b, PC_TEAM, p->team);
    bind_text(b, PC_OWNER, p->owner ? p->owner : "assignee");
    bind_text(b, PC_ASSIGNEE, p->assignee);
    bind_text(b, PC_RRULE, p->rrule);
    bind_int64(b, PC_START_MS, p->start_ms);
    bind_time(b, PC_UNTIL_MS, p->until_ms);
    bind_text(b, PC_DUE_WITHIN, p->due_within);
    bind_text(b, PC_REPORT_WITHIN, p->report_within);
    bind_text(b, PC_CALENDAR, p->calendar);
    bind_int64(b, PC_OCCURRENCES, p->occurrences);
    bind_time(b, PC_NEXT_MS, p->next_ms);
    bind_int64(b, PC_CREATED_MS, p->created_ms);
    bind_int64(b, PC_UPDATED_MS, p->updated_ms);
}

int store_plan_insert(struct store *s, struct plan *p, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_plan(&b, p);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "inserting a plan", reterr);
    }
    int r = store_run(s, st, "inserting a plan", reterr);
    if (r < 0)
        return r;
    p->id = sqlite3_last_insert_rowid(store_db(s));
    return 0;
}

int store_plan_update(struct store *s, const struct plan *p, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_update, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_plan(&b, p);
    bind_int64(&b, PC_COUNT + 1, p->id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "updating a plan", reterr);
    }
    int r = store_run(s, st, "updating a plan", reterr);
    if (r == 0 && sqlite3_changes(store_db(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)p->id);
    return r;
}

/* Fill p (initialised) from the current row; -ENOMEM. */
static int read_row(sqlite3_stmt *st, struct plan *p)
{
    plan_init(p);
    p->id = sqlite3_column_int64(st, 0);
    char **fields[] = {
        [PC_NAME] = &p->name,
        [PC_CUSTOMER_NAME] = &p->customer_name,
        [PC_CUSTOMER_PHONE] = &p->customer_phone,
        [PC_CUSTOMER_ADDRESS] = &p->customer_address,
        [PC_DEVICE_MODEL] = &p->device_model,
        [PC_DEVICE_SERIAL] = &p->device_serial,
        [PC_TEAM] = &p->team,
        [PC_OWNER] = &p->owner,
        [PC_ASSIGNEE] = &p->assignee,
        [PC_RRULE] = &p->rrule,
        [PC_DUE_WITHIN] = &p->due_within,
        [PC_REPORT_WITHIN] = &p->report_within,
        [PC_CALENDAR] = &p->calendar,
    };
    for (int i = 1; i < (int)(sizeof(fields) / sizeof(fields[0])); i++)
        if (fields[i] && plan_set_string(fields[i], column_text(st, i)) < 0) {
            plan_done(p);
            return -ENOMEM;
        }
    p->start_ms = sqlite3_column_int64(st, PC_START_MS);
    p->until_ms = column_time(st, PC_UNTIL_MS);
    p->occurrences = sqlite3_column_int64(st, PC_OCCURRENCES);
    p->next_ms = column_time(st, PC_NEXT_MS);
    if (p->next_ms == SLAD_NO_TIME)
        p->next_ms = INT64_MAX;
    p->created_ms = sqlite3_column_int64(st, PC_CREATED_MS);
    p->updated_ms = sqlite3_column_int64(st, PC_UPDATED_MS);
    return 0;
}

int store_plan_load(struct store *s, int64_t id, struct plan *ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_load, reterr);
    if (!st)
        return -EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW)
        r = read_row(st, ret) < 0 ? slad_error_set(reterr, ENOMEM, "out of memory reading a plan")
                                  : 0;
    else if (rc == SQLITE_DONE)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)id);
    else
        r = store_fail(s, rc, "reading a plan", reterr);
    sqlite3_reset(st);
    return r;
}

int store_plan_delete(struct store *s, int64_t id, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, rc, "deleting a plan", reterr);
    }
    int r = store_run(s, st, "deleting a plan", reterr);
    if (r == 0 && sqlite3_changes(store_db(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)id);
    return r;
}

int store_plan_list(struct store *s, int64_t after_id, size_t limit, plan_row_fn *fn,
                    void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_list, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, after_id);
    bind_limit(&b, 2, limit);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "listing plans", reterr);
    }
    int rc, r = 0;
    struct plan p;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (read_row(st, &p) < 0) {
            r = slad_error_set(reterr, ENOMEM, "out of memory listing plans");
            break;
        }
        r = fn(userdata, &p);
        plan_done(&p);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, rc, "listing plans", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_plan_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                           struct slad_error *reterr)
{
    return store_agenda_rows(s, sql_agenda, fn, userdata, "loading the plans' agenda", reterr);
}
