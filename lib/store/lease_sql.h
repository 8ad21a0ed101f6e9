/* lease_sql.h - the scheduler lease in the database (doc/POSTGRESQL.md), through db.h so
 * that the same statements run on SQLite and PostgreSQL. One row per lease name:
 *
 *   leases (name TEXT PRIMARY KEY, holder TEXT, fencing BIGINT, expires_at_ms BIGINT)
 *
 * Acquire and renew are each one conditional UPDATE ... RETURNING fencing: acquire takes
 * the row when it has expired (or is already this holder's) and adds one to its fencing
 * number; renew extends it only for the same holder under the same number before it
 * expires. Every scheduler write carries lease_sql_check in its own transaction, last
 * before COMMIT: on PostgreSQL it locks the row until the commit, so a take-over waits for
 * that transaction and a write of a holder that lost the lease is refused. A holder that
 * stops gracefully releases the row (its expiry now). Instants are
 * arguments (ms); lib/core/lease.c decides when to call what. */
#ifndef SLAD_LEASE_SQL_H
#define SLAD_LEASE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

/* The name of the scheduler's lease. */
#define LEASE_SQL_SCHEDULER "scheduler"

/* The table and the free row of name, when missing (the next session moves the table
 * into the schema's migrations). */
int lease_sql_create(struct db *db, const char *name, struct slad_error *reterr);

/* 1 granted (*ret_fencing the new number), 0 the row is another's, -errno. */
int lease_sql_acquire(struct db *db, const char *name, const char *holder, int64_t now_ms,
                      int64_t ttl_ms, int64_t *ret_fencing, struct slad_error *reterr);
int lease_sql_renew(struct db *db, const char *name, const char *holder, int64_t fencing,
                    int64_t now_ms, int64_t ttl_ms, struct slad_error *reterr);

/* A graceful stop: the row's expiry set to now_ms when holder still holds it under
 * fencing, the number kept (the next holder's is one larger), so that another instance
 * takes it at its next ask rather than after the time to live. 1 released, 0 not held
 * (nothing changed), -errno. */
int lease_sql_release(struct db *db, const char *name, const char *holder, int64_t fencing,
                      int64_t now_ms, struct slad_error *reterr);

/* In the writer's transaction: 0 when holder still holds name under fencing at now_ms,
 * -ESTALE (with a message) when it does not: roll the transaction back. */
int lease_sql_check(struct db *db, const char *name, const char *holder, int64_t fencing,
                    int64_t now_ms, struct slad_error *reterr);

/* The row, for /healthz and slactl status: holder copied into holder (size bytes). */
int lease_sql_read(struct db *db, const char *name, char *holder, size_t size, int64_t *ret_fencing,
                   int64_t *ret_expires_ms, struct slad_error *reterr);

#endif
