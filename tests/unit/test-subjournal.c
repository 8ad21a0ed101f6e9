/* test-subjournal.c - an operation's savepoint keeps its sub-journal in memory
 * (store_subjournal.c): no temporary file for an operation that touches 300 KB of pages,
 * past SQLite's 64 KiB default spill, and the rows come back as they were when the
 * savepoint is rolled back. Its own program: SQLite must not be initialized before the
 * store opens. */
#include "store.h"
#include "store_internal.h"
#include "store_subjournal.h"

#include <dirent.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

/* The descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static int64_t value(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_big_savepoint_stays_in_memory(void **state)
{
    (void)state;
    char dir[] = "/tmp/test-subjournal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/slad.db", dir);
    struct store *s = NULL;
    struct slad_error err = {{0}};
    if (store_open(path, true, &s, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    assert_true(store_subjournal_configured());

    /* 300 rows of 1,000 bytes: about 75 pages, committed. */
    exec(s->db, "CREATE TABLE big (x BLOB);"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
                " INSERT INTO big SELECT zeroblob(1000) FROM n;");
    int before = open_fds();
    exec(s->db, "BEGIN IMMEDIATE; SAVEPOINT op; UPDATE big SET x = randomblob(1000);");
    assert_int_equal(open_fds(), before); /* every page copied, none to a file */
    exec(s->db, "ROLLBACK TO op; RELEASE op;");
    assert_int_equal(value(s->db, "SELECT count(*) FROM big WHERE x = zeroblob(1000)"), 300);
    exec(s->db, "SAVEPOINT op; UPDATE big SET x = zeroblob(999); RELEASE op; COMMIT;");
    assert_int_equal(open_fds(), before);
    assert_int_equal(value(s->db, "SELECT count(*) FROM big WHERE x = zeroblob(999)"), 300);
    store_close(s);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_savepoint_stays_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
