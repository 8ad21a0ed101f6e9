/* test-lease-sql.c - the lease row's statements (lib/store/lease_sql.c) on both drivers
 * (as test-db.c: meson tests lease-sql and lease-sql-postgres): a free row is granted with
 * fencing 1; a held one is refused until it expires; renewal only for the holder under its
 * number before expiry; every new holder a larger number; the fencing check refuses a
 * holder that lost the lease (and one whose lease ran out), in its transaction; a released
 * row is taken at once by the next holder. On
 * PostgreSQL: the check locks the row, so a take-over waits for the old scheduler's
 * transaction (seen here as a lock timeout), and its later writes are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lease_sql.h"
#include "testdb.h"

#define TTL 10000
#define S   LEASE_SQL_SCHEDULER

static int setup(void **state)
{
    struct db *db = testdb_open();
    testdb_exec(db, "DROP TABLE IF EXISTS leases");
    struct slad_error err = {{0}};
    if (lease_sql_create(db, S, &err) < 0)
        fail_msg("lease_sql_create: %s", err.msg);
    /* Twice: the table and the row are made only when missing. */
    assert_int_equal(lease_sql_create(db, S, &err), 0);
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    db_close(*state);
    return 0;
}

static void test_acquire_renew_expire(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    int64_t fa = 0, fb = 0;
    assert_int_equal(lease_sql_acquire(db, S, "a", 1000, TTL, &fa, &err), 1);
    assert_int_equal(fa, 1);
    /* Held by a until 11000. */
    assert_int_equal(lease_sql_acquire(db, S, "b", 5000, TTL, &fb, &err), 0);
    assert_int_equal(lease_sql_renew(db, S, "a", fa, 5000, TTL, &err), 1); /* until 15000 */
    assert_int_equal(lease_sql_acquire(db, S, "b", 14999, TTL, &fb, &err), 0);
    assert_int_equal(lease_sql_renew(db, S, "b", fa, 14999, TTL, &err), 0); /* not b's */
    assert_int_equal(lease_sql_renew(db, S, "a", fa + 1, 14999, TTL, &err), 0);

    char holder[32];
    int64_t fencing, expires;
    assert_int_equal(lease_sql_read(db, S, holder, sizeof(holder), &fencing, &expires, &err), 0);
    assert_string_equal(holder, "a");
    assert_int_equal(fencing, 1);
    assert_int_equal(expires, 15000);

    /* a stops renewing: the row expires at 15000 and b takes it with a larger number. */
    assert_int_equal(lease_sql_acquire(db, S, "b", 15000, TTL, &fb, &err), 1);
    assert_int_equal(fb, 2);
    assert_int_equal(lease_sql_renew(db, S, "a", fa, 15001, TTL, &err), 0);
    assert_int_equal(lease_sql_check(db, S, "a", fa, 15001, &err), -ESTALE);
    assert_non_null(strstr(err.msg, "no longer holds it"));
    assert_int_equal(lease_sql_check(db, S, "b", fb, 15001, &err), 0);

    /* a asks again while b holds it: refused; after b's expiry a gets number 3. */
    assert_int_equal(lease_sql_acquire(db, S, "a", 16000, TTL, &fa, &err), 0);
    assert_int_equal(lease_sql_acquire(db, S, "a", 25000, TTL, &fa, &err), 1);
    assert_int_equal(fa, 3);
}

static void test_check_refuses_an_expired_holder(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    int64_t f = 0;
    assert_int_equal(lease_sql_acquire(db, S, "a", 0, TTL, &f, &err), 1);
    assert_int_equal(lease_sql_check(db, S, "a", f, TTL - 1, &err), 0);
    /* Nobody took it over, but it ran out: a must not write. */
    assert_int_equal(lease_sql_check(db, S, "a", f, TTL, &err), -ESTALE);
    /* A holder that lost its lease and takes it back gets a new number: what it prepared
     * under the old one is refused. */
    int64_t again = 0;
    assert_int_equal(lease_sql_acquire(db, S, "a", TTL, TTL, &again, &err), 1);
    assert_int_equal(again, f + 1);
    assert_int_equal(lease_sql_check(db, S, "a", f, TTL + 1, &err), -ESTALE);
}

static void test_check_rolls_back_the_write(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    testdb_exec(db, "DROP TABLE IF EXISTS fired");
    testdb_exec(db, "CREATE TABLE fired (step TEXT)");
    static const char sql_fire[] = "INSERT INTO fired (step) VALUES (?1)";
    int64_t fa = 0, fb = 0;
    assert_int_equal(lease_sql_acquire(db, S, "a", 0, TTL, &fa, &err), 1);
    assert_int_equal(lease_sql_acquire(db, S, "b", TTL, TTL, &fb, &err), 1);
    /* a, resumed after a pause, writes as the scheduler it believes it is. */
    assert_int_equal(db_begin(db, &err), 0);
    struct db_stmt *st = db_prepare(db, sql_fire, &err);
    db_bind_text(st, 1, "step 1");
    assert_int_equal(db_step(st, "firing", &err), 0);
    db_reset(st);
    assert_int_equal(lease_sql_check(db, S, "a", fa, TTL + 1, &err), -ESTALE);
    assert_int_equal(db_rollback(db, &err), 0);
    static const char sql_count[] = "SELECT count(*) FROM fired";
    st = db_prepare(db, sql_count, &err);
    assert_int_equal(db_step(st, "counting", &err), 1);
    assert_int_equal(db_column_int64(st, 0), 0);
    db_reset(st);
}

/* PostgreSQL: the check holds the row until the commit; a take-over in between waits. */
static void test_pg_takeover_waits_for_the_checked_transaction(void **state)
{
    struct db *a = *state;
    struct db *b = testdb_open();
    struct slad_error err = {{0}};
    int64_t fa = 0, fb = 0;
    assert_int_equal(lease_sql_acquire(a, S, "a", 0, TTL, &fa, &err), 1);
    assert_int_equal(db_begin(a, &err), 0);
    assert_int_equal(lease_sql_check(a, S, "a", fa, TTL - 1, &err), 0);
    /* b, whose clock says the lease ran out, tries to take it while a's write is open. */
    testdb_exec(b, "SET lock_timeout = '200ms'");
    assert_int_equal(lease_sql_acquire(b, S, "b", TTL, TTL, &fb, &err), -EAGAIN);
    assert_int_equal(db_commit(a, &err), 0);
    assert_int_equal(lease_sql_acquire(b, S, "b", TTL, TTL, &fb, &err), 1);
    assert_int_equal(fb, fa + 1);
    assert_int_equal(lease_sql_check(a, S, "a", fa, TTL - 1, &err), -ESTALE);
    db_close(b);
}

/* A graceful stop: the holder expires the row now under its number; another instance
 * takes it at once with the next number; the old holder can neither renew nor pass the
 * check. A holder that lost the row releases nothing. */
static void test_release_hands_over_at_once(void **state)
{
    struct db *db = *state;
    struct slad_error err = {{0}};
    int64_t fa = 0, fb = 0;
    assert_int_equal(lease_sql_acquire(db, S, "a", 1000, TTL, &fa, &err), 1);
    assert_int_equal(lease_sql_release(db, S, "b", fa, 2000, &err), 0); /* not b's */
    assert_int_equal(lease_sql_release(db, S, "a", fa + 1, 2000, &err), 0);
    assert_int_equal(lease_sql_acquire(db, S, "b", 2000, TTL, &fb, &err), 0);
    assert_int_equal(lease_sql_release(db, S, "a", fa, 2000, &err), 1);

    char holder[32];
    int64_t fencing, expires;
    assert_int_equal(lease_sql_read(db, S, holder, sizeof(holder), &fencing, &expires, &err), 0);
    assert_string_equal(holder, "a");
    assert_int_equal(fencing, fa); /* kept: the next holder's is larger */
    assert_int_equal(expires, 2000);
    assert_int_equal(lease_sql_renew(db, S, "a", fa, 2000, TTL, &err), 0);
    assert_int_equal(lease_sql_check(db, S, "a", fa, 2000, &err), -ESTALE);
    assert_int_equal(lease_sql_release(db, S, "a", fa, 2000, &err), 0); /* once */

    /* Long before the time to live (11000) would have run out. */
    assert_int_equal(lease_sql_acquire(db, S, "b", 2001, TTL, &fb, &err), 1);
    assert_int_equal(fb, fa + 1);
    assert_int_equal(lease_sql_release(db, S, "a", fa, 2002, &err), 0);
    assert_int_equal(lease_sql_check(db, S, "b", fb, 2002, &err), 0);
}

int main(void)
{
    if (testdb_init() < 0)
        return 1;
    const struct CMUnitTest both[] = {
        cmocka_unit_test_setup_teardown(test_acquire_renew_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses_an_expired_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_rolls_back_the_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_hands_over_at_once, setup, teardown),
    };
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test_setup_teardown(test_pg_takeover_waits_for_the_checked_transaction, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests(both, NULL, NULL);
    if (testdb_on_postgres())
        failed += cmocka_run_group_tests(pg_only, NULL, NULL);
    testdb_cleanup();
    return failed;
}
