/* test-copy-db.c - copy_db (slad --copy-database) read in pages of two rows, so that every
 * table is paged by its key, integer or text, single or composite: SQLite to SQLite (meson
 * test copy-db) and SQLite to PostgreSQL and back (copy-db-postgres, under
 * scripts/with-postgres.sh); the copy equals the source row by row. The daemon-level test
 * with a real daemon's data, the refusals and the value types is
 * tests/integration/test_copy_database.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy_db.h"
#include "store.h"
#include "testdb.h"

static char dir[] = "/tmp/slad-test-copy.XXXXXX";
static char source[64], back[64];

static const char fill[] =
    "INSERT INTO tickets (id, title, severity, reported_at_ms, created_at_ms, updated_at_ms,"
    " status, held_from) VALUES (1, 'a', 1, 0, 0, 0, 'open', 'open'),"
    " (2, 'b', 2, 0, 0, 0, 'closed', 'open'), (3, 'c''s ünï', 3, 0, 0, 0, 'open', 'open'),"
    " (7, 'd', 4, 9223372036854775807, 0, 0, 'open', 'open'),"
    " (9, 'e', 5, 0, 0, 0, 'open', 'open');"
    "INSERT INTO clocks (ticket_id, name, pos, state, target_ms, elapsed_ms) VALUES"
    " (1, 'arrival', 0, 'running', 1, 0), (1, 'response', 1, 'breached', 1, 0),"
    " (1, 'resolution', 2, 'running', 1, 0), (2, 'arrival', 0, 'met', 1, 0),"
    " (2, 'response', 1, 'met', 1, 0), (3, 'response', 0, 'running', 1, 0);"
    "INSERT INTO ticket_labels (ticket_id, pos, key, value) VALUES (1, 0, 'k', 'v'),"
    " (1, 1, 'k2', 'v2'), (1, 2, 'k3', ''), (3, 0, 'site', 'hq');"
    "INSERT INTO history (ticket_id, at_ms, created_ms, kind, data) VALUES"
    " (1, 1, 1, 'create', '{}'), (1, 2, 2, 'event', '{\"a\":1}'), (2, 3, 3, 'create', NULL);"
    "INSERT INTO plans (id, name, owner, rrule, start_ms, due_within, created_ms, updated_ms)"
    " VALUES (4, 'p', 'assignee', 'FREQ=DAILY', 0, '1h', 0, 0);"
    "INSERT INTO followups (ticket_id, plan_id, name, owner, created_ms, due_ms, deadline_ms)"
    " VALUES (1, NULL, 'callback', 'assignee', 0, 1, 2), (NULL, 4, 'visit', 'assignee', 0, 1, 2),"
    " (NULL, 4, 'visit', 'assignee', 0, 5, 6);"
    "INSERT INTO outbox (ticket_id, event, recipient, idempotency_key, created_ms) VALUES"
    " (1, 'step', 'sup', 'k1', 0), (1, 'step', 'mgr', 'k2', 0), (NULL, 'digest', 'ops', 'g',"
    " 0);"
    "INSERT INTO schedule_overrides (schedule, contact, from_ms, to_ms, created_ms) VALUES"
    " ('ops', 'ann', 0, 1, 0), ('ops', 'bob', 1, 2, 0), ('night', 'cy', 2, 3, 0);";

static const char *const dumps[] = {
    "SELECT * FROM tickets ORDER BY id",
    "SELECT * FROM clocks ORDER BY ticket_id, name",
    "SELECT * FROM ticket_labels ORDER BY ticket_id, pos",
    "SELECT * FROM history ORDER BY id",
    "SELECT * FROM plans ORDER BY id",
    "SELECT * FROM followups ORDER BY id",
    "SELECT * FROM outbox ORDER BY id",
    "SELECT * FROM schedule_overrides ORDER BY id",
    "SELECT * FROM counts ORDER BY what",
};

/* Every row of every table of the SQLite database path, as text. */
static char *dump(const char *path)
{
    struct db *db = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(db_open(path, &db, &err), 0);
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_non_null(f);
    for (size_t t = 0; t < sizeof(dumps) / sizeof(dumps[0]); t++) {
        struct db_stmt *st = db_prepare(db, dumps[t], &err);
        assert_non_null(st);
        int r;
        fprintf(f, "%s\n", dumps[t]);
        while ((r = db_step(st, "dump", &err)) == 1) {
            for (int i = 0; i < db_column_count(st); i++) {
                const char *v = db_column_text(st, i);
                fprintf(f, "%s%s", i ? "|" : "", v ? v : "<null>");
            }
            fputc('\n', f);
        }
        assert_int_equal(r, 0);
        db_reset(st);
    }
    fclose(f);
    db_close(db);
    return out;
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[96];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static void test_paged_copy(void **state)
{
    struct slad_error err = {{0}};
    struct store *s = NULL;
    assert_int_equal(store_open(source, true, &s, &err), 0);
    store_close(s);
    struct db *db = NULL;
    assert_int_equal(db_open(source, &db, &err), 0);
    if (db_exec(db, fill, "fill", &err) < 0)
        fail_msg("fill: %s", err.msg);
    db_close(db);
    char *want = dump(source);

    struct copy_db_report report;
    const char *target = testdb_on_postgres() ? testdb_target() : back;
    if (testdb_on_postgres()) {
        struct db *pg = testdb_open();
        testdb_exec(pg, "SET client_min_messages = warning;"
                        "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        db_close(pg);
    }
    if (copy_db(source, target, 2, &report, &err) < 0)
        fail_msg("copy_db: %s", err.msg);
    assert_int_equal(report.rows[0], 5); /* tickets: three pages, the last short */
    assert_int_equal(report.rows[1], 6); /* clocks: by (ticket_id, name), the last page empty */
    if (testdb_on_postgres() && copy_db(target, back, 2, &report, &err) < 0)
        fail_msg("copy_db back: %s", err.msg);
    char *got = dump(back);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

int main(void)
{
    if (testdb_init() < 0 || !mkdtemp(dir))
        return 1;
    snprintf(source, sizeof(source), "%s/source.db", dir);
    snprintf(back, sizeof(back), "%s/back.db", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paged_copy),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_db(source);
    remove_db(back);
    rmdir(dir);
    testdb_cleanup();
    return failed;
}
