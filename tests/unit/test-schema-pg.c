/* test-schema-pg.c - slad's schema in PostgreSQL's dialect (lib/store/schema_pg.c) on the
 * server of SLAD_TEST_PG (meson test schema-pg-postgres, under scripts/with-postgres.sh):
 * created once, at SQLite's version; every table with SQLite's columns in SQLite's order
 * and types; instants in ms fit; the unique keys of idempotent intake and of
 * notifications; deletes cascade; the triggers keep the gauges' counters and the
 * follow-ups' reported_at as SQLite's do; the checks of on-call overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease_sql.h"
#include "schema_pg.h"
#include "store.h"
#include "testdb.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static int setup(void **state)
{
    struct db *db = testdb_open();
    testdb_exec(db, "SET client_min_messages = warning;"
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    db_close(*state);
    return 0;
}

/* The counter `what`, 0 when it has no row. */
static int64_t counter(struct db *db, const char *what)
{
    static const char sql[] = "SELECT n FROM counts WHERE what = ?1";
    struct db_stmt *st = db_prepare(db, sql, NULL);
    assert_non_null(st);
    db_bind_text(st, 1, what);
    int r = db_step(st, "counter", NULL);
    int64_t n = r == 1 ? db_column_int64(st, 0) : 0;
    db_reset(st);
    return n;
}

static int run(struct db *db, const char *sql, struct slad_error *err)
{
    return db_exec(db, sql, "test", err);
}

static void test_create_once(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    int version = -1;
    assert_int_equal(schema_pg_version(db, &version, &err), -ENOENT);
    if (schema_pg_create(db, &err) < 0)
        fail_msg("schema_pg_create: %s", err.msg);
    assert_int_equal(schema_pg_version(db, &version, &err), 0);
    assert_int_equal(version, SCHEMA_PG_VERSION);
    assert_int_equal(schema_pg_create(db, &err), -EEXIST);
    char expected[64];
    snprintf(expected, sizeof(expected), "already has slad's schema, version %d",
             SCHEMA_PG_VERSION);
    assert_non_null(strstr(err.msg, expected));
    /* The lease row is there. */
    int64_t fencing = 0;
    assert_int_equal(lease_sql_acquire(db, LEASE_SQL_SCHEDULER, "a", T0, 10000, &fencing, &err), 1);
    assert_int_equal(fencing, 1);
}

#define TICKET(id, source, ext, status)                                                            \
    "INSERT INTO tickets (id, source, external_id, title, severity, reported_at_ms,"               \
    " created_at_ms, updated_at_ms, status, held_from) VALUES (" id ", " source ", " ext           \
    ", 't', 2, 1767225600000, 1767225600000, 1767225600000, '" status "', 'new')"

static void test_keys_cascades_and_counters(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    assert_int_equal(schema_pg_create(db, &err), 0);

    assert_int_equal(run(db, TICKET("1", "'crm'", "'A-1'", "new"), &err), 0);
    assert_int_equal(run(db, TICKET("2", "'crm'", "'A-1'", "new"), &err), -EEXIST);
    assert_int_equal(run(db, TICKET("2", "NULL", "NULL", "new"), &err), 0);
    assert_int_equal(run(db, TICKET("3", "NULL", "NULL", "new"), &err), 0); /* NULLs differ */
    assert_int_equal(testdb_value(db, "SELECT reported_at_ms FROM tickets WHERE id = 1"), T0);
    assert_int_equal(counter(db, "ticket new"), 3);
    assert_int_equal(run(db, "UPDATE tickets SET status = 'closed' WHERE id = 1", &err), 0);
    assert_int_equal(run(db, "UPDATE tickets SET title = 'x' WHERE id = 2", &err), 0);
    assert_int_equal(counter(db, "ticket new"), 2);
    assert_int_equal(counter(db, "ticket closed"), 1);

    assert_int_equal(run(db,
                         "INSERT INTO clocks (ticket_id, name, pos, state, target_ms, elapsed_ms)"
                         " VALUES (1, 'response', 0, 'breached', 3600000, 0),"
                         " (1, 'onsite', 1, 'running', 7200000, 0)",
                         &err),
                     0);
    assert_int_equal(counter(db, "breached"), 1);
    assert_int_equal(run(db, "UPDATE clocks SET state = 'breached' WHERE name = 'onsite'", &err),
                     0);
    assert_int_equal(counter(db, "breached"), 2);

    static const char outbox[] =
        "INSERT INTO outbox (ticket_id, event, recipient, idempotency_key, created_ms)"
        " VALUES (1, 'step', 'sup', 'k1', 1767225600000)";
    assert_int_equal(run(db, outbox, &err), 0);
    assert_int_equal(run(db, outbox, &err), -EEXIST); /* one notification per key */
    assert_int_equal(counter(db, "outbox pending"), 1);
    assert_int_equal(run(db, "UPDATE outbox SET state = 'sent'", &err), 0);
    assert_int_equal(run(db, "UPDATE outbox SET state = 'lost'", &err), -EINVAL);
    assert_int_equal(counter(db, "outbox pending"), 0);
    assert_int_equal(counter(db, "outbox sent"), 1);

    assert_int_equal(run(db,
                         "INSERT INTO followups (ticket_id, name, owner, created_ms, due_ms,"
                         " deadline_ms) VALUES (1, 'visit', 'assignee', 0, 1, 2)",
                         &err),
                     0);
    assert_int_equal(testdb_value(db, "SELECT reported_at_ms FROM followups WHERE name = 'visit'"),
                     T0);
    assert_int_equal(run(db,
                         "INSERT INTO followups (ticket_id, name, owner, created_ms, due_ms,"
                         " deadline_ms) VALUES (1, 'visit', 'assignee', 0, 1, 2)",
                         &err),
                     -EEXIST);

    /* Deleting the ticket takes its rows, and the counters follow. */
    assert_int_equal(run(db, "DELETE FROM tickets WHERE id = 1", &err), 0);
    assert_int_equal(testdb_value(db, "SELECT count(*) FROM clocks"), 0);
    assert_int_equal(testdb_value(db, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(testdb_value(db, "SELECT count(*) FROM followups"), 0);
    assert_int_equal(counter(db, "breached"), 0);
    assert_int_equal(counter(db, "ticket closed"), 0);
    assert_int_equal(counter(db, "outbox sent"), 0);
}

/* The rows of sql (text columns, joined by ' ' and '\n') into a new string. */
static char *rows_text(struct db *db, const char *sql)
{
    struct slad_error err = {{0}};
    struct db_stmt *st = db_prepare(db, sql, &err);
    if (!st)
        fail_msg("%s: %s", sql, err.msg);
    size_t size = 65536, n = 0;
    char *out = calloc(1, size);
    assert_non_null(out);
    int r;
    while ((r = db_step(st, "rows", &err)) == 1)
        for (int i = 0; i < 3; i++)
            n += (size_t)snprintf(out + n, size - n, "%s%c", db_column_text(st, i),
                                  i == 2 ? '\n' : ' ');
    if (r < 0)
        fail_msg("%s: %s", sql, err.msg);
    assert_true(n < size);
    db_reset(st);
    return out;
}

/* Tables, columns (in order) and types as SQLite's migrations leave them, BIGINT for
 * INTEGER: the PostgreSQL schema is SQLite's at the same version (rows copy by name). */
static void test_columns_are_sqlites(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    assert_int_equal(SCHEMA_PG_VERSION, store_schema_version());
    assert_int_equal(schema_pg_create(db, &err), 0);

    char dir[] = "/tmp/slad-test-schema.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/slad.db", dir);
    struct store *store = NULL;
    if (store_open(path, false, &store, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    store_close(store);
    struct db *lite = NULL;
    assert_int_equal(db_open(path, &lite, &err), 0);
    char *want = rows_text(lite, "SELECT m.name, p.name,"
                                 " CASE p.type WHEN 'INTEGER' THEN 'bigint' ELSE lower(p.type) END"
                                 " FROM sqlite_schema AS m, pragma_table_info(m.name) AS p"
                                 " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
                                 " ORDER BY m.name, p.cid");
    db_close(lite);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);

    /* PostgreSQL's own tables: the schema's version, the scheduler's lease. */
    char *got = rows_text(db, "SELECT table_name, column_name, data_type"
                              " FROM information_schema.columns WHERE table_schema = 'public'"
                              " AND table_name NOT IN ('schema_version', 'leases')"
                              " ORDER BY table_name COLLATE \"C\", ordinal_position");
    assert_true(strlen(want) > 1000);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

/* Version 8's overrides: an interval that ends after it starts; ids never reused. */
static void test_overrides(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    assert_int_equal(schema_pg_create(db, &err), 0);
    static const char add[] =
        "INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms, created_ms)"
        " VALUES ('ops', 'ann', 1767225600000, 1767229200000, 1767225600000)";
    assert_int_equal(run(db, add, &err), 0);
    assert_int_equal(run(db,
                         "INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms,"
                         " created_ms) VALUES ('ops', 'bob', 2, 2, 0)",
                         &err),
                     -EINVAL);
    assert_int_equal(run(db, "DELETE FROM schedule_overrides", &err), 0);
    assert_int_equal(run(db, add, &err), 0);
    assert_true(testdb_value(db, "SELECT max(id) FROM schedule_overrides") >
                1); /* 1 is not reused */
    /* Version 9's outbox columns and their defaults. */
    assert_int_equal(run(db,
                         "INSERT INTO outbox (event, recipient, idempotency_key, created_ms,"
                         " contact, address) VALUES ('digest', 'ops', 'g1', 0, 'ann', 'a@b')",
                         &err),
                     0);
    assert_int_equal(testdb_value(db, "SELECT deferred FROM outbox WHERE idempotency_key = 'g1'"),
                     0);
}

int main(void)
{
    if (testdb_init() < 0 || !testdb_on_postgres())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_cascades_and_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_are_sqlites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
