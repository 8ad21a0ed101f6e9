/* test-store-pg.c - store_open on a PostgreSQL server (meson test store-pg-postgres, under
 * scripts/with-postgres.sh): an empty database gets the schema and the leases table, the
 * outbox and action links work on it, a reopening migrates nothing and checks the version,
 * a database of a newer slad (or of none) is refused, a missing leases table is made, two
 * stores opening one empty database together create the schema once, and the WAL's
 * commit thread declines (the daemon commits on the loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_pg.h"
#include "store.h"
#include "store_db.h"
#include "store_wal.h"
#include "testdb.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

/* The database emptied: no schema at all. */
static void empty_database(void)
{
    struct db *db = testdb_open();
    testdb_exec(db, "SET client_min_messages = warning;"
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    db_close(db);
}

static struct store *open_store(void)
{
    struct store *s = NULL;
    struct slad_error err = {{0}};
    if (store_open(testdb_target(), true, &s, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    assert_int_equal(db_kind(store_dbh(s)), DB_POSTGRES);
    return s;
}

/* The first value of sql (an integer) on a connection of the test's own. */
static int64_t value_of(const char *sql)
{
    struct db *db = testdb_open();
    int64_t v = testdb_value(db, sql);
    db_close(db);
    return v;
}

static void exec_sql(const char *sql)
{
    struct db *db = testdb_open();
    testdb_exec(db, sql);
    db_close(db);
}

static int setup(void **state)
{
    (void)state;
    empty_database();
    return 0;
}

static int copy_state(void *userdata, const struct outbox_row *o)
{
    *(enum outbox_state *)userdata = o->state;
    return 0;
}

static void test_open_use_reopen(void **state)
{
    (void)state;
    struct slad_error err = {{0}};
    struct store *s = open_store();
    int version = 0;
    assert_int_equal(schema_pg_version(store_dbh(s), &version, &err), 0);
    assert_int_equal(version, store_schema_version());
    assert_int_equal(store_check(s, &err), 0);

    /* A ticket (its file is SQLite's still), a notification and an action link, in a
     * transaction with a savepoint: an operation rolled back leaves nothing. */
    exec_sql("INSERT INTO tickets (id, title, severity, reported_at_ms, created_at_ms,"
             " updated_at_ms, status, held_from) VALUES (1, 'a', 2, 0, 0, 0, 'open', 'open')");
    assert_int_equal(store_begin(s, &err), 0);
    assert_true(store_in_transaction(s));
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(store_action_add(s, "gone", 1, "li.si", T0, T0 + 1000, &err), 0);
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    struct outbox_row o = {.ticket_id = 1,
                           .event = "sla.breach",
                           .recipient = "supervisor",
                           .idempotency_key = "k/1",
                           .state = OUTBOX_PENDING,
                           .next_attempt_ms = T0,
                           .created_ms = T0,
                           .sent_ms = SLAD_NO_TIME};
    int64_t id = 0;
    assert_int_equal(store_outbox_add(s, &o, &id, NULL, &err), 0);
    assert_true(id > 0);
    assert_int_equal(store_action_add(s, "h1", 1, "li.si", T0, T0 + 1000, &err), 0);
    assert_int_equal(store_release(s, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    assert_false(store_in_transaction(s));
    /* A statement PostgreSQL refuses inside the savepoint: the transaction lives on. The
     * write is queued (store_db_write): its failure is the release's. */
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(store_action_add(s, "h1", 1, "li.si", T0, T0 + 1000, &err), 0);
    assert_int_equal(store_release(s, &err), -EEXIST);
    assert_non_null(strstr(err.msg, "storing an action link"));
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_int_equal(store_outbox_requeue_sending(s, T0, NULL, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    store_close(s);

    /* Reopened: nothing migrated, one version row, the rows are there. */
    s = open_store();
    assert_int_equal(value_of("SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(value_of("SELECT version FROM schema_version"), store_schema_version());
    enum outbox_state st = OUTBOX_DEAD;
    assert_int_equal(store_outbox_get(s, id, copy_state, &st, &err), 0);
    assert_int_equal(st, OUTBOX_PENDING);
    struct action_link a;
    assert_int_equal(store_action_find(s, "gone", &a, &err), -ENOENT);
    assert_int_equal(store_action_find(s, "h1", &a, &err), 0);
    assert_string_equal(a.contact, "li.si");
    int64_t link = a.id;
    action_link_done(&a);
    assert_int_equal(store_action_use(s, link, "acknowledge", T0 + 1, &err), 0);

    /* No WAL file to hand to a thread: the daemon commits on the loop. */
    struct store_wal *w = NULL;
    assert_int_equal(store_wal_open(s, true, &w, &err), -ENOTSUP);
    assert_null(w);
    store_close(s);
}

static void test_versions_refused(void **state)
{
    (void)state;
    store_close(open_store());
    struct store *s = NULL;
    struct slad_error err = {{0}};
    char sql[96];
    snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
             store_schema_version() + 1);
    exec_sql(sql);
    assert_int_equal(store_open(testdb_target(), true, &s, &err), -ENOTSUP);
    assert_null(s);
    assert_non_null(strstr(err.msg, "newer than this slad"));
    assert_null(strstr(err.msg, testdb_target())); /* the connection string is never told */

    exec_sql("UPDATE schema_version SET version = 3");
    assert_int_equal(store_open(testdb_target(), true, &s, &err), -ENOTSUP);
    assert_non_null(strstr(err.msg, "version 3"));
    /* Refusing changed nothing. */
    assert_int_equal(value_of("SELECT version FROM schema_version"), 3);
}

static void test_leases_made_when_missing(void **state)
{
    (void)state;
    store_close(open_store());
    exec_sql("DROP TABLE leases");
    store_close(open_store());
    assert_int_equal(value_of("SELECT count(*) FROM leases WHERE name = 'scheduler'"), 1);
}

struct opener {
    pthread_barrier_t *start;
    int r;
    struct slad_error err;
};

static void *open_at_once(void *arg)
{
    struct opener *o = arg;
    struct store *s = NULL;
    pthread_barrier_wait(o->start);
    o->r = store_open(testdb_target(), true, &s, &o->err);
    store_close(s);
    return NULL;
}

static void test_two_instances_create_once(void **state)
{
    (void)state;
    enum { N = 3 };
    for (int round = 0; round < 3; round++) {
        empty_database();
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, N), 0);
        struct opener o[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
            o[i] = (struct opener){.start = &start};
            assert_int_equal(pthread_create(&t[i], NULL, open_at_once, &o[i]), 0);
        }
        for (int i = 0; i < N; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < N; i++)
            if (o[i].r < 0)
                fail_msg("round %d, store %d: %d %s", round, i, o[i].r, o[i].err.msg);
        assert_int_equal(value_of("SELECT count(*) FROM schema_version"), 1);
        assert_int_equal(value_of("SELECT count(*) FROM leases"), 1);
    }
}

int main(void)
{
    if (testdb_init() < 0 || !testdb_on_postgres()) {
        fprintf(stderr, "test-store-pg: run with SLAD_TEST_DB=postgres under with-postgres.sh\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_use_reopen, setup),
        cmocka_unit_test_setup(test_versions_refused, setup),
        cmocka_unit_test_setup(test_leases_made_when_missing, setup),
        cmocka_unit_test_setup(test_two_instances_create_once, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
