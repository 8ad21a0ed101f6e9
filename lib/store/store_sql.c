/* store_sql.c - what the store keeps of SQLite's own plumbing (store_internal.h), for the
 * code only SQLite has (the migrations, store_wal.c, db_sqlite.c): SQLite's result codes
 * as -errno with a message, sqlite3_exec, the raw connection, and whether a transaction is
 * open. Every row file runs on the SQL seam (store_db.h). It calls no other store file. */
#include "store.h"
#include "store_internal.h"

#include <errno.h>

int store_fail_rc(sqlite3 *db, int rc, const char *op, struct slad_error *reterr)
{
    int code;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        code = ENOSPC;
        break;
    case SQLITE_READONLY:
        code = EROFS;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = EAGAIN;
        break;
    case SQLITE_NOMEM:
        code = ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
        code =
            rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? EEXIST : EINVAL;
        break;
    default:
        code = EIO;
        break;
    }
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return slad_error_set(reterr, code, "database: %s failed: %s", op, detail);
}

int store_fail(struct store *s, int rc, const char *op, struct slad_error *reterr)
{
    return store_fail_rc(s->db, rc, op, reterr);
}

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

int store_exec(sqlite3 *db, const char *sql, const char *op, struct slad_error *reterr)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail_rc(db, rc, op, reterr);
}

bool store_in_transaction(const struct store *s)
{
    return db_in_transaction(s->dbh);
}
