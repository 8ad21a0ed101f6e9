/* test-schema-pg.c - slad's schema in PostgreSQL's dialect (lib/store/schema_pg.c) on the
 * server of SLAD_TEST_PG (meson test schema-pg-postgres, under scripts/with-postgres.sh):
 * created once, at version 6; instants in ms fit; the unique keys of idempotent intake and
 * of notifications; deletes cascade; and the triggers keep the gauges' counters and the
 * follow-ups' reported_at as SQLite's do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lease_sql.h"
#include "schema_pg.h"
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

static int64_t one(struct db *db, const char *sql)
{
    struct slad_error err = {{0}};
    struct db_stmt *st = db_prepare(db, sql, &err);
    if (!st)
        fail_msg("%s: %s", sql, err.msg);
    assert_int_equal(db_step(st, "one", &err), 1);
    int64_t v = db_column_int64(st, 0);
    db_reset(st);
    return v;
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
    assert_non_null(strstr(err.msg, "already has slad's schema, version 6"));
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
    assert_int_equal(one(db, "SELECT reported_at_ms FROM tickets WHERE id = 1"), T0);
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
    assert_int_equal(one(db, "SELECT reported_at_ms FROM followups WHERE name = 'visit'"), T0);
    assert_int_equal(run(db,
                         "INSERT INTO followups (ticket_id, name, owner, created_ms, due_ms,"
                         " deadline_ms) VALUES (1, 'visit', 'assignee', 0, 1, 2)",
                         &err),
                     -EEXIST);

    /* Deleting the ticket takes its rows, and the counters follow. */
    assert_int_equal(run(db, "DELETE FROM tickets WHERE id = 1", &err), 0);
    assert_int_equal(one(db, "SELECT count(*) FROM clocks"), 0);
    assert_int_equal(one(db, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(one(db, "SELECT count(*) FROM followups"), 0);
    assert_int_equal(counter(db, "breached"), 0);
    assert_int_equal(counter(db, "ticket closed"), 0);
    assert_int_equal(counter(db, "outbox sent"), 0);
}

int main(void)
{
    if (testdb_init() < 0 || !testdb_on_postgres())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_cascades_and_counters, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
