/* testdb.c - the database of a db.h test (testdb.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testdb.h"

static bool on_postgres;
static char target[512];
static char tmpdir[64];

int testdb_init(void)
{
    const char *which = getenv("SLAD_TEST_DB");
    on_postgres = which && strcmp(which, "postgres") == 0;
    if (on_postgres) {
        const char *pg = getenv("SLAD_TEST_PG");
        if (!pg) {
            fprintf(stderr, "SLAD_TEST_PG is not set: run under scripts/with-postgres.sh\n");
            return -1;
        }
        snprintf(target, sizeof(target), "%s", pg);
        return 0;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/slad-test-db.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(target, sizeof(target), "%s/db.sqlite", tmpdir);
    return 0;
}

void testdb_cleanup(void)
{
    if (on_postgres)
        return;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[sizeof(target) + 8];
        snprintf(p, sizeof(p), "%s%s", target, suffixes[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

bool testdb_on_postgres(void)
{
    return on_postgres;
}

const char *testdb_target(void)
{
    return target;
}

struct db *testdb_open(void)
{
    struct db *db = NULL;
    struct slad_error err = {{0}};
    int r = db_open(target, &db, &err);
    if (r < 0)
        fail_msg("db_open '%s': %d %s", target, r, err.msg);
    assert_int_equal(db_kind(db), on_postgres ? DB_POSTGRES : DB_SQLITE);
    return db;
}

void testdb_exec(struct db *db, const char *sql)
{
    struct slad_error err = {{0}};
    int r = db_exec(db, sql, "test", &err);
    if (r < 0)
        fail_msg("db_exec '%s': %d %s", sql, r, err.msg);
}

int64_t testdb_value(struct db *db, const char *sql)
{
    struct slad_error err = {{0}};
    struct db_stmt *st = db_prepare(db, sql, &err);
    if (!st)
        fail_msg("%s: %s", sql, err.msg);
    if (db_step(st, "test", &err) != 1)
        fail_msg("%s: no row: %s", sql, err.msg);
    int64_t v = db_column_int64(st, 0);
    db_reset(st);
    return v;
}

void testdb_empty(void)
{
    if (!on_postgres)
        return;
    struct db *db = testdb_open();
    testdb_exec(db, "SET client_min_messages = warning;"
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    db_close(db);
}
