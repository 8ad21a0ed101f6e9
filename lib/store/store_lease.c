/* store_lease.c - the scheduler lease on the store's connection (store_lease.h). */
#include "store_lease.h"

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
