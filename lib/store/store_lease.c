/* store_lease.c - the scheduler lease on the store's connection (store_lease.h). */
#include "store_lease.h"

#include <errno.h>

#include "lease_sql.h"
#include "store_db.h"

int store_lease_setup(struct store *s, struct slad_error *reterr)
{
    return lease_sql_create(store_dbh(s), LEASE_SQL_SCHEDULER, reterr);
}

int store_lease_acquire(struct store *s, const char *holder, int64_t now_ms, int64_t ttl_ms,
                        int64_t *ret_fencing, struct slad_error *reterr)
{
    return lease_sql_acquire(store_dbh(s), LEASE_SQL_SCHEDULER, holder, now_ms, ttl_ms, ret_fencing,
                             reterr);
}

int store_lease_renew(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                      int64_t ttl_ms, struct slad_error *reterr)
{
    return lease_sql_renew(store_dbh(s), LEASE_SQL_SCHEDULER, holder, fencing, now_ms, ttl_ms,
                           reterr);
}

int store_lease_release(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                        struct slad_error *reterr)
{
    return lease_sql_release(store_dbh(s), LEASE_SQL_SCHEDULER, holder, fencing, now_ms, reterr);
}

int store_lease_read(struct store *s, int64_t *ret_fencing, int64_t *ret_expires_ms,
                     struct slad_error *reterr)
{
    char holder[256];
    return lease_sql_read(store_dbh(s), LEASE_SQL_SCHEDULER, holder, sizeof(holder), ret_fencing,
                          ret_expires_ms, reterr);
}

int store_lease_check(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                      struct slad_error *reterr)
{
    return lease_sql_check(store_dbh(s), LEASE_SQL_SCHEDULER, holder, fencing, now_ms, reterr);
}

/* clock_timestamp(), not now(): now() is the transaction's start, and the loop's
 * transaction may have been open for a while. */
static const char sql_server_now[] =
    "SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)";

int store_lease_now(struct store *s, int64_t local_ms, int64_t *ret_now_ms,
                    struct slad_error *reterr)
{
    struct db *db = store_dbh(s);
    if (db_kind(db) != DB_POSTGRES) {
        *ret_now_ms = local_ms;
        return 0;
    }
    struct db_stmt *st = store_stmt(s, sql_server_now, reterr);
    if (!st)
        return -EIO;
    int r = db_step(st, "reading the database server's clock", reterr);
    if (r == 1)
        *ret_now_ms = db_column_int64(st, 0);
    else if (r == 0)
        r = slad_error_set(reterr, EIO, "reading the database server's clock: no row");
    db_reset(st);
    return r < 0 ? r : 0;
}
