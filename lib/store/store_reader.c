/* store_reader.c - the read-only connection of a reader thread (store_reader.h). A file of
 * its own, beside store.c: the connection is opened without creating, migrating or
 * preparing anything (the loop's store_open did that, and a read-only connection could not);
 * statements are prepared at first use, on the reader's thread. */
#include "store_reader.h"
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>

/* A reader waits this long for SQLite's locks: only a WAL being recovered or reset holds
 * a reader back, briefly, and this wait is on the reader's thread, not the loop. */
#define STORE_READER_BUSY_TIMEOUT_MS 5000

int store_open_reader(struct store *s, struct store **ret, struct slad_error *reterr)
{
    /* Not SQLite (the PostgreSQL store has no sqlite3 handle), or no file behind it. */
    sqlite3 *main_db = s ? store_db(s) : NULL;
    const char *file = main_db ? sqlite3_db_filename(main_db, "main") : NULL;
    if (!file || !file[0])
        return slad_error_set(reterr, ENOTSUP,
                              "database: no file a second connection could read; reads stay "
                              "on the loop's connection");
    struct store *r = calloc(1, sizeof(*r));
    if (!r)
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(file, &r->db, flags, NULL);
    int e;
    if (rc != SQLITE_OK) {
        e = r->db ? store_fail(r, rc, "opening a reader's connection", reterr)
                  : slad_error_set(reterr, ENOMEM, "database: out of memory");
        store_close(r);
        return e;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, STORE_READER_BUSY_TIMEOUT_MS);
    e = db_wrap_sqlite(r->db, &r->dbh, reterr);
    if (e >= 0)
        e = store_exec(r->db, "PRAGMA temp_store = MEMORY", "keeping temp data in memory", reterr);
    if (e < 0) {
        store_close(r);
        return e;
    }
    *ret = r;
    return 0;
}

int store_read_begin(struct store *r, struct slad_error *reterr)
{
    return store_exec(r->db, "BEGIN", "starting a read", reterr);
}

void store_read_end(struct store *r)
{
    if (!sqlite3_get_autocommit(r->db)) {
        struct slad_error err;
        (void)store_exec(r->db, "COMMIT", "ending a read", &err);
    }
}

void store_reader_interrupt(struct store *r)
{
    sqlite3_interrupt(r->db);
}
