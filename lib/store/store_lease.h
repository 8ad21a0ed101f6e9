/* store_lease.h - the scheduler lease (lease_sql.h, doc/POSTGRESQL.md) on the store's own
 * connection, for the daemon (daemon/scheduler.c): the row is asked for and renewed in
 * the loop iteration's transaction, as any other write. */
#ifndef SLAD_STORE_LEASE_H
#define SLAD_STORE_LEASE_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* The leases table and the scheduler's row, when missing (on SQLite outside the schema's
 * migrations for now: the table is the lease's alone, --copy-database leaves it). */
int store_lease_setup(struct store *s, struct slad_error *reterr);

/* lease_sql_acquire and lease_sql_renew of the scheduler's lease: 1 granted (acquire:
 * *ret_fencing the new number), 0 refused (the row is another holder's), -errno. */
int store_lease_acquire(struct store *s, const char *holder, int64_t now_ms, int64_t ttl_ms,
                        int64_t *ret_fencing, struct slad_error *reterr);
int store_lease_renew(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                      int64_t ttl_ms, struct slad_error *reterr);

/* lease_sql_release of the scheduler's lease (a graceful stop): 1 released, 0 not held. */
int store_lease_release(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                        struct slad_error *reterr);

/* The scheduler's lease row: its holder's fencing number and expiry (ms). */
int store_lease_read(struct store *s, int64_t *ret_fencing, int64_t *ret_expires_ms,
                     struct slad_error *reterr);

/* lease_sql_check of the scheduler's lease, in the open transaction, last before its
 * COMMIT: 0 when holder still holds it under fencing at now_ms, -ESTALE (roll back) when
 * not, -errno when the database failed. */
int store_lease_check(struct store *s, const char *holder, int64_t fencing, int64_t now_ms,
                      struct slad_error *reterr);

/* The instant the lease statements compare and set: on PostgreSQL the database server's
 * clock (one SELECT), so that instances whose clocks differ agree on when a lease
 * expires; on SQLite, where one host is the only writer, local_ms itself. */
int store_lease_now(struct store *s, int64_t local_ms, int64_t *ret_now_ms,
                    struct slad_error *reterr);

#endif
