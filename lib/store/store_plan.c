/* store_plan.c - maintenance plans in the plans table (store_plan.h). On the SQL seam
 * (store_db.h). */
#include "store_plan.h"

#include <errno.h>
#include <string.h>

#include "store_db.h"
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
    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id";
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

static void bind_plan(struct db_stmt *st, const struct plan *p)
{
    db_bind_text(st, PC_NAME, p->name);
    db_bind_text(st, PC_CUSTOMER_NAME, p->customer_name);
    db_bind_text(st, PC_CUSTOMER_PHONE, p->customer_phone);
    db_bind_text(st, PC_CUSTOMER_ADDRESS, p->customer_address);
    db_bind_text(st, PC_DEVICE_MODEL, p->device_model);
    db_bind_text(st, PC_DEVICE_SERIAL, p->device_serial);
    db_bind_text(st, PC_TEAM, p->team);
    db_bind_text(st, PC_OWNER, p->owner ? p->owner : "assignee");
    db_bind_text(st, PC_ASSIGNEE, p->assignee);
    db_bind_text(st, PC_RRULE, p->rrule);
    db_bind_int64(st, PC_START_MS, p->start_ms);
    store_bind_time(st, PC_UNTIL_MS, p->until_ms);
    db_bind_text(st, PC_DUE_WITHIN, p->due_within);
    db_bind_text(st, PC_REPORT_WITHIN, p->report_within);
    db_bind_text(st, PC_CALENDAR, p->calendar);
    db_bind_int64(st, PC_OCCURRENCES, p->occurrences);
    store_bind_time(st, PC_NEXT_MS, p->next_ms);
    db_bind_int64(st, PC_CREATED_MS, p->created_ms);
    db_bind_int64(st, PC_UPDATED_MS, p->updated_ms);
}

int store_plan_insert(struct store *s, struct plan *p, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    bind_plan(st, p);
    int64_t id = 0;
    int r = store_db_insert(s, st, "inserting a plan", &id, reterr);
    if (r < 0)
        return r;
    p->id = id;
    return 0;
}

int store_plan_update(struct store *s, const struct plan *p, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_update, reterr);
    if (!st)
        return -EIO;
    bind_plan(st, p);
    db_bind_int64(st, PC_COUNT + 1, p->id);
    int r = store_db_run(s, st, "updating a plan", reterr);
    if (r == 0 && db_changes(store_dbh(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)p->id);
    return r;
}

/* Fill p (initialised) from the current row; -ENOMEM. */
static int read_row(struct db_stmt *st, struct plan *p)
{
    plan_init(p);
    p->id = db_column_int64(st, 0);
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
        if (fields[i] && plan_set_string(fields[i], db_column_text(st, i)) < 0) {
            plan_done(p);
            return -ENOMEM;
        }
    p->start_ms = db_column_int64(st, PC_START_MS);
    p->until_ms = store_column_time(st, PC_UNTIL_MS);
    p->occurrences = db_column_int64(st, PC_OCCURRENCES);
    p->next_ms = store_column_time(st, PC_NEXT_MS);
    if (p->next_ms == SLAD_NO_TIME)
        p->next_ms = INT64_MAX;
    p->created_ms = db_column_int64(st, PC_CREATED_MS);
    p->updated_ms = db_column_int64(st, PC_UPDATED_MS);
    return 0;
}

int store_plan_load(struct store *s, int64_t id, struct plan *ret, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_load, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    int r = db_step(st, "reading a plan", reterr);
    if (r == 1)
        r = read_row(st, ret) < 0 ? slad_error_set(reterr, ENOMEM, "out of memory reading a plan")
                                  : 0;
    else if (r == 0)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)id);
    db_reset(st);
    return r;
}

int store_plan_delete(struct store *s, int64_t id, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    int r = store_db_run(s, st, "deleting a plan", reterr);
    if (r == 0 && db_changes(store_dbh(s)) == 0)
        r = slad_error_set(reterr, ENOENT, "plan %lld not found", (long long)id);
    return r;
}

struct list_walk {
    plan_row_fn *fn;
    void *userdata;
    struct slad_error *reterr;
};

static int list_row(void *ctx, struct db_stmt *st)
{
    struct list_walk *w = ctx;
    struct plan p;
    if (read_row(st, &p) < 0)
        return slad_error_set(w->reterr, ENOMEM, "out of memory listing plans");
    int r = w->fn(w->userdata, &p);
    plan_done(&p);
    return r;
}

int store_plan_list(struct store *s, int64_t after_id, size_t limit, plan_row_fn *fn,
                    void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_list, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, after_id);
    db_bind_limit(st, 2, limit);
    struct list_walk w = {fn, userdata, reterr};
    return store_db_rows(st, "listing plans", list_row, &w, reterr);
}

int store_plan_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                           struct slad_error *reterr)
{
    return store_db_agenda_rows(s, sql_agenda, fn, userdata, "loading the plans' agenda", reterr);
}
