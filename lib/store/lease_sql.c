/* lease_sql.c - the lease row's statements (lease_sql.h), the same text on both drivers:
 * a parameter whose type PostgreSQL cannot tell from its column (in arithmetic) is
 * written CAST(?N AS BIGINT). */
#include "lease_sql.h"

#include <errno.h>
#include <stdio.h>

static const char sql_create_sqlite[] =
    "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " fencing INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL)";
static const char sql_create_pg[] =
    "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " fencing BIGINT NOT NULL, expires_at_ms BIGINT NOT NULL)";
static const char sql_seed[] = "INSERT INTO leases (name, holder, fencing, expires_at_ms)"
                               " VALUES (?1, '', 0, 0) ON CONFLICT (name) DO NOTHING";
static const char sql_acquire[] =
    "UPDATE leases SET holder = ?2, fencing = fencing + 1,"
    " expires_at_ms = CAST(?3 AS BIGINT) + CAST(?4 AS BIGINT)"
    " WHERE name = ?1 AND (expires_at_ms <= CAST(?3 AS BIGINT) OR holder = ?2)"
    " RETURNING fencing";
static const char sql_renew[] =
    "UPDATE leases SET expires_at_ms = CAST(?4 AS BIGINT) + CAST(?5 AS BIGINT)"
    " WHERE name = ?1 AND holder = ?2 AND fencing = ?3 AND expires_at_ms > CAST(?4 AS BIGINT)"
    " RETURNING fencing";
/* The holder gives the row up: expired now, under the same number. */
static const char sql_release[] =
    "UPDATE leases SET expires_at_ms = CAST(?4 AS BIGINT)"
    " WHERE name = ?1 AND holder = ?2 AND fencing = ?3 AND expires_at_ms > CAST(?4 AS BIGINT)";
/* A write that changes nothing: on PostgreSQL it takes the row's lock until the commit. */
static const char sql_check[] =
    "UPDATE leases SET fencing = fencing"
    " WHERE name = ?1 AND holder = ?2 AND fencing = ?3 AND expires_at_ms > CAST(?4 AS BIGINT)";
static const char sql_read[] = "SELECT holder, fencing, expires_at_ms FROM leases WHERE name = ?1";

int lease_sql_create(struct db *db, const char *name, struct slad_error *reterr)
{
    int r = db_exec(db, db_kind(db) == DB_POSTGRES ? sql_create_pg : sql_create_sqlite,
                    "creating the leases table", reterr);
    struct db_stmt *st = r < 0 ? NULL : db_prepare(db, sql_seed, reterr);
    if (r < 0 || !st)
        return r < 0 ? r : -EIO;
    db_bind_text(st, 1, name);
    r = db_step(st, "creating the lease row", reterr);
    db_reset(st);
    return r < 0 ? r : 0;
}

/* The statement's one row (its fencing number): 1 with *ret_fencing, 0 when none. */
static int run_returning(struct db_stmt *st, const char *op, int64_t *ret_fencing,
                         struct slad_error *reterr)
{
    int r = db_step(st, op, reterr);
    if (r == 1 && ret_fencing)
        *ret_fencing = db_column_int64(st, 0);
    db_reset(st);
    return r;
}

int lease_sql_acquire(struct db *db, const char *name, const char *holder, int64_t now_ms,
                      int64_t ttl_ms, int64_t *ret_fencing, struct slad_error *reterr)
{
    struct db_stmt *st = db_prepare(db, sql_acquire, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, name);
    db_bind_text(st, 2, holder);
    db_bind_int64(st, 3, now_ms);
    db_bind_int64(st, 4, ttl_ms);
    return run_returning(st, "acquiring the scheduler lease", ret_fencing, reterr);
}

/* sql (renew, check) bound to the holder's tenure: ?1 name, ?2 holder, ?3 fencing, ?4 now. */
static struct db_stmt *tenure_stmt(struct db *db, const char *sql, const char *name,
                                   const char *holder, int64_t fencing, int64_t now_ms,
                                   struct slad_error *reterr)
{
    struct db_stmt *st = db_prepare(db, sql, reterr);
    if (!st)
        return NULL;
    db_bind_text(st, 1, name);
    db_bind_text(st, 2, holder);
    db_bind_int64(st, 3, fencing);
    db_bind_int64(st, 4, now_ms);
    return st;
}

int lease_sql_renew(struct db *db, const char *name, const char *holder, int64_t fencing,
                    int64_t now_ms, int64_t ttl_ms, struct slad_error *reterr)
{
    struct db_stmt *st = tenure_stmt(db, sql_renew, name, holder, fencing, now_ms, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 5, ttl_ms);
    return run_returning(st, "renewing the scheduler lease", NULL, reterr);
}

/* sql (release, check) bound to the holder's tenure and run: 1 when it changed the row,
 * 0 when not (the row is not the holder's under fencing, or it expired), -errno. */
static int tenure_change(struct db *db, const char *sql, const char *op, const char *name,
                         const char *holder, int64_t fencing, int64_t now_ms,
                         struct slad_error *reterr)
{
    struct db_stmt *st = tenure_stmt(db, sql, name, holder, fencing, now_ms, reterr);
    if (!st)
        return -EIO;
    int r = db_step(st, op, reterr);
    db_reset(st);
    return r < 0 ? r : db_changes(db) == 1;
}

int lease_sql_release(struct db *db, const char *name, const char *holder, int64_t fencing,
                      int64_t now_ms, struct slad_error *reterr)
{
    return tenure_change(db, sql_release, "releasing the scheduler lease", name, holder, fencing,
                         now_ms, reterr);
}

int lease_sql_check(struct db *db, const char *name, const char *holder, int64_t fencing,
                    int64_t now_ms, struct slad_error *reterr)
{
    int r = tenure_change(db, sql_check, "checking the scheduler lease", name, holder, fencing,
                          now_ms, reterr);
    if (r == 0)
        return slad_error_set(reterr, ESTALE,
                              "lease '%s': this instance no longer holds it under fencing number "
                              "%lld: it is a standby now, and its write is not made",
                              name, (long long)fencing);
    return r < 0 ? r : 0;
}

int lease_sql_read(struct db *db, const char *name, char *holder, size_t size, int64_t *ret_fencing,
                   int64_t *ret_expires_ms, struct slad_error *reterr)
{
    struct db_stmt *st = db_prepare(db, sql_read, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, name);
    int r = db_step(st, "reading the scheduler lease", reterr);
    if (r == 1) {
        snprintf(holder, size, "%s", db_column_text(st, 0));
        *ret_fencing = db_column_int64(st, 1);
        *ret_expires_ms = db_column_int64(st, 2);
    } else if (r == 0) {
        r = slad_error_set(reterr, ENOENT, "lease '%s': no such row", name);
    }
    db_reset(st);
    return r < 0 ? r : 0;
}
