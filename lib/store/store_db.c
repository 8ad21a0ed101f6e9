/* store_db.c - the statement plumbing of the store's files converted to the SQL seam
 * (store_db.h): store_sql.c's running and agenda reading, on db.h. */
#include "store_db.h"

#include <errno.h>

#include "store_internal.h"

struct db *store_dbh(struct store *s)
{
    return s->dbh;
}

struct db_stmt *store_stmt(struct store *s, const char *sql, struct slad_error *reterr)
{
    return db_prepare(s->dbh, sql, reterr);
}

int store_db_still_in_begin(struct store *s, const char *op, struct slad_error *reterr)
{
    if (s->in_begin && !db_in_transaction(s->dbh))
        return slad_error_set(reterr, EIO,
                              "database: %s failed: the transaction was rolled back after an "
                              "earlier error",
                              op);
    return 0;
}

int store_db_run(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    int r = store_db_still_in_begin(s, op, reterr);
    while (r == 0 && (r = db_step(st, op, reterr)) == 1)
        r = 0;
    db_reset(st);
    return r < 0 ? r : 0;
}

int store_db_write(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    if (db_kind(s->dbh) != DB_POSTGRES || !db_in_savepoint(s->dbh))
        return store_db_run(s, st, op, reterr);
    return store_db_queue(s, st, op, reterr);
}

int store_db_queue(struct store *s, struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    int r = store_db_still_in_begin(s, op, reterr);
    if (r == 0)
        r = db_queue(st, op, reterr);
    db_reset(st);
    return r;
}

/* The statement of sql with ?1 = id bound, NULL with reterr set. */
static struct db_stmt *with_id(struct store *s, const char *sql, int64_t id,
                               struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (st)
        db_bind_int64(st, 1, id);
    return st;
}

int store_db_write_id(struct store *s, const char *sql, int64_t id, const char *op,
                      struct slad_error *reterr)
{
    struct db_stmt *st = with_id(s, sql, id, reterr);
    return st ? store_db_write(s, st, op, reterr) : -EIO;
}

int store_db_run_changes(struct store *s, struct db_stmt *st, const char *op, int64_t *ret_changes,
                         struct slad_error *reterr)
{
    int r = store_db_run(s, st, op, reterr);
    *ret_changes = r < 0 ? 0 : db_changes(s->dbh);
    return r;
}

struct db_stmt *store_db_latest(struct store *s, const char *sql, int64_t id, size_t limit,
                                struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (st) {
        db_bind_int64(st, 1, id);
        db_bind_limit(st, 2, limit);
    }
    return st;
}

int store_db_insert(struct store *s, struct db_stmt *st, const char *op, int64_t *ret_id,
                    struct slad_error *reterr)
{
    *ret_id = 0;
    int r = store_db_still_in_begin(s, op, reterr);
    if (r == 0 && (r = db_step(st, op, reterr)) == 1) {
        *ret_id = db_column_int64(st, 0);
        while ((r = db_step(st, op, reterr)) == 1)
            ;
    }
    db_reset(st);
    return r < 0 ? r : 0;
}

int store_db_run_id(struct store *s, const char *sql, int64_t id, const char *op,
                    struct slad_error *reterr)
{
    struct db_stmt *st = with_id(s, sql, id, reterr);
    return st ? store_db_run(s, st, op, reterr) : -EIO;
}

int store_db_scalar(struct db_stmt *st, const char *op, int64_t *ret, struct slad_error *reterr)
{
    int r = db_step(st, op, reterr);
    if (r == 1)
        *ret = db_column_int64(st, 0);
    db_reset(st);
    return r;
}

int store_db_one(struct db_stmt *st, const char *op, int64_t *ret, struct slad_error *reterr)
{
    int r = store_db_scalar(st, op, ret, reterr);
    if (r == 0)
        return slad_error_set(reterr, EIO, "database: %s failed: no row", op);
    return r < 0 ? r : 0;
}

int store_db_rows(struct db_stmt *st, const char *op, store_db_row_fn *fn, void *ctx,
                  struct slad_error *reterr)
{
    int rc, r = 0;
    while ((rc = db_step(st, op, reterr)) == 1) {
        r = fn(ctx, st);
        if (r != 0)
            break;
    }
    if (r == 0 && rc < 0)
        r = rc;
    db_reset(st);
    return r < 0 ? r : 0;
}

struct agenda_walk {
    store_agenda_fn *fn;
    void *userdata;
};

static int agenda_row(void *ctx, struct db_stmt *st)
{
    struct agenda_walk *w = ctx;
    return w->fn(w->userdata, db_column_int64(st, 0), db_column_int64(st, 1));
}

int store_db_agenda_rows(struct store *s, const char *sql, store_agenda_fn *fn, void *userdata,
                         const char *op, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    struct agenda_walk w = {fn, userdata};
    return store_db_rows(st, op, agenda_row, &w, reterr);
}

int store_db_prepare_all(struct store *s, const char *const *sqls, struct slad_error *reterr)
{
    for (; *sqls; sqls++)
        if (!store_stmt(s, *sqls, reterr))
            return -EIO;
    return 0;
}
