/* test-clock-write.c - a ticket's clocks are written only when they changed (issue 16,
 * lib/store/store_clock_write.c and store_clocks_known.c), on SQLite (meson test
 * clock-write) and PostgreSQL (clock-write-postgres): a clock that is the same runs no
 * statement, a step's fired count is updated without the indexed columns (TEMP triggers
 * show which columns an UPDATE set), an indexed change in all of them; what is known is
 * forgotten at the commit and at any rollback, is never used outside store_begin's
 * transaction, and a wrong belief (a row changed or deleted behind the store) still ends
 * with the row holding the ticket's clocks. After every write the clocks load back equal
 * to the ones in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_clocks_known.h"
#include "store_db.h"
#include "testdb.h"
#include "ticket.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define H  INT64_C(3600000)

/* A fresh store with a table col_writes that triggers fill: 'row' for every clock row
 * updated, 'state' and 'fired' when those columns were in an UPDATE's SET. */
static struct store *open_store(void)
{
    struct store *s = NULL;
    struct slad_error err = {{0}};
    testdb_empty();
    if (store_open(testdb_on_postgres() ? testdb_target() : ":memory:", true, &s, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    if (testdb_on_postgres())
        testdb_exec(store_dbh(s),
                    "CREATE TABLE col_writes (what TEXT);"
                    "CREATE FUNCTION note_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN INSERT INTO col_writes VALUES (TG_ARGV[0]); RETURN NULL; END $$;"
                    "CREATE TRIGGER w_row AFTER UPDATE ON clocks FOR EACH ROW"
                    " EXECUTE FUNCTION note_write('row');"
                    "CREATE TRIGGER w_state AFTER UPDATE OF state ON clocks FOR EACH ROW"
                    " EXECUTE FUNCTION note_write('state');"
                    "CREATE TRIGGER w_fired AFTER UPDATE OF fired ON clocks FOR EACH ROW"
                    " EXECUTE FUNCTION note_write('fired');");
    else
        testdb_exec(store_dbh(s),
                    "CREATE TEMP TABLE col_writes (what TEXT);"
                    "CREATE TEMP TRIGGER w_row AFTER UPDATE ON main.clocks BEGIN"
                    " INSERT INTO col_writes VALUES ('row'); END;"
                    "CREATE TEMP TRIGGER w_state AFTER UPDATE OF state ON main.clocks BEGIN"
                    " INSERT INTO col_writes VALUES ('state'); END;"
                    "CREATE TEMP TRIGGER w_fired AFTER UPDATE OF fired ON main.clocks BEGIN"
                    " INSERT INTO col_writes VALUES ('fired'); END;");
    return s;
}

static void make_ticket(struct ticket *t)
{
    ticket_init(t);
    assert_int_equal(ticket_set_string(&t->title, "no cooling"), 0);
    assert_int_equal(ticket_set_string(&t->policy, "standard"), 0);
    assert_int_equal(ticket_set_string(&t->team, "north"), 0);
    t->severity = 2;
    t->reported_at_ms = t->created_at_ms = t->updated_at_ms = T0;
    t->status = t->held_from = TICKET_OPEN;
    t->n_clocks = 2;
    struct slaclock *c = &t->clocks[0];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "response");
    c->state = SLACLOCK_RUNNING;
    c->target_ms = H;
    c->since_ms = c->started_at_ms = T0;
    c->stopped_at_ms = c->breached_at_ms = SLAD_NO_TIME;
    c->due_at_ms = T0 + H;
    c->risk_at_ms = T0 + 3 * H / 4;
    c->stop_event = -1;
    c = &t->clocks[1];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "resolution");
    c->state = SLACLOCK_PENDING;
    c->target_ms = 8 * H;
    c->since_ms = c->started_at_ms = c->stopped_at_ms = SLAD_NO_TIME;
    c->breached_at_ms = c->due_at_ms = c->risk_at_ms = SLAD_NO_TIME;
    c->stop_event = -1;
}

static void check(int r, const struct slad_error *err, const char *what, int line)
{
    if (r < 0)
        fail_msg("line %d: %s: %d %s", line, what, r, err->msg);
}

static void begin(struct store *s)
{
    struct slad_error err = {{0}};
    check(store_begin(s, &err), &err, "store_begin", __LINE__);
}

static void commit(struct store *s)
{
    struct slad_error err = {{0}};
    check(store_commit(s, &err), &err, "store_commit", __LINE__);
}

/* The ticket loaded back has the clocks t has in memory, every field. */
static void loads_as(struct store *s, const struct ticket *t, int line)
{
    struct slad_error err = {{0}};
    struct ticket u;
    check(store_ticket_load(s, t->id, &u, &err), &err, "store_ticket_load", line);
    if (u.n_clocks != t->n_clocks)
        fail_msg("line %d: %zu clocks loaded, %zu in memory", line, u.n_clocks, t->n_clocks);
    for (size_t i = 0; i < t->n_clocks; i++) {
        const struct slaclock *a = &t->clocks[i], *b = &u.clocks[i];
        /* risk_at_ms is stored for a running clock only; "never" is stored as NULL */
        int64_t risk = a->state == SLACLOCK_RUNNING && a->risk_at_ms != INT64_MAX ? a->risk_at_ms
                                                                                  : SLAD_NO_TIME;
        if (strcmp(a->name, b->name) != 0 || a->state != b->state || a->target_ms != b->target_ms ||
            a->elapsed_ms != b->elapsed_ms || a->since_ms != b->since_ms ||
            a->started_at_ms != b->started_at_ms || a->stopped_at_ms != b->stopped_at_ms ||
            a->breached_at_ms != b->breached_at_ms || a->due_at_ms != b->due_at_ms ||
            risk != b->risk_at_ms || a->paused_breached != b->paused_breached ||
            a->stop_event != b->stop_event || memcmp(a->fired, b->fired, sizeof(a->fired)) != 0)
            fail_msg("line %d: clock %zu ('%s') loads as '%s', state %d, elapsed %" PRId64
                     ", fired[0] %u, not as in memory",
                     line, i, a->name, b->name, (int)b->state, b->elapsed_ms,
                     (unsigned)b->fired[0]);
    }
    ticket_done(&u);
}

/* The rows of col_writes that are `what` ('row', 'state', 'fired'). The statement of each
 * is a constant of its own: the seam keeps statements by the address of their text. */
static int64_t col_writes(struct store *s, const char *what)
{
    static const char *const sqls[] = {
        "SELECT count(*) FROM col_writes WHERE what = 'row'",
        "SELECT count(*) FROM col_writes WHERE what = 'state'",
        "SELECT count(*) FROM col_writes WHERE what = 'fired'",
    };
    int i = strcmp(what, "row") == 0 ? 0 : strcmp(what, "state") == 0 ? 1 : 2;
    return testdb_value(store_dbh(s), sqls[i]);
}

static void col_writes_clear(struct store *s)
{
    testdb_exec(store_dbh(s), "DELETE FROM col_writes");
}

/* Updates t and checks the clock statements it ran, the rows and columns it updated
 * (-1: not checked), and that t loads back as it is. */
static void update(struct store *s, struct ticket *t, uint64_t statements, int64_t rows,
                   int64_t states, int line)
{
    struct slad_error err = {{0}};
    col_writes_clear(s);
    uint64_t before = store_clock_statements(s);
    check(store_ticket_update(s, t, INT64_MAX, &err), &err, "store_ticket_update", line);
    uint64_t ran = store_clock_statements(s) - before;
    if (ran != statements)
        fail_msg("line %d: %" PRIu64 " clock statements, expected %" PRIu64, line, ran, statements);
    if (rows >= 0 && col_writes(s, "row") != rows)
        fail_msg("line %d: %" PRId64 " clock rows updated, expected %" PRId64, line,
                 col_writes(s, "row"), rows);
    if (states >= 0 && col_writes(s, "state") != states)
        fail_msg("line %d: state set in %" PRId64 " rows, expected %" PRId64, line,
                 col_writes(s, "state"), states);
    loads_as(s, t, line);
}

static void load_for_update(struct store *s, int64_t id, struct ticket *t)
{
    struct slad_error err = {{0}};
    check(store_ticket_load_for_update(s, id, t, &err), &err, "load for update", __LINE__);
}

/* A transaction begun with the ticket loaded for update: what it knows of the rows. */
static void begin_loaded(struct store *s, int64_t id, struct ticket *t)
{
    begin(s);
    load_for_update(s, id, t);
}

static int64_t insert_one(struct store *s)
{
    struct slad_error err = {{0}};
    struct ticket t;
    make_ticket(&t);
    begin(s);
    check(store_ticket_insert(s, &t, INT64_MAX, &err), &err, "store_ticket_insert", __LINE__);
    commit(s);
    int64_t id = t.id;
    ticket_done(&t);
    return id;
}

/* A step, a breach, a pause, a resume, a stop: each writes the clock that changed and
 * nothing else; the step's fired count without the state column. */
static void test_written_only_when_changed(void **state)
{
    (void)state;
    struct store *s = open_store();
    int64_t id = insert_one(s);
    struct ticket t;
    begin_loaded(s, id, &t);
    update(s, &t, 0, 0, 0, __LINE__); /* nothing changed */
    t.clocks[0].fired[0] = 1;         /* a step fired */
    update(s, &t, 1, 1, 0, __LINE__);
    assert_int_equal(col_writes(s, "fired"), 1);
    t.clocks[0].fired[1] = 2; /* a second step, the reminder's count */
    update(s, &t, 1, 1, 0, __LINE__);
    t.clocks[0].state = SLACLOCK_BREACHED; /* the breach: state, counted by the trigger */
    t.clocks[0].breached_at_ms = T0 + H;
    update(s, &t, 1, 1, 1, __LINE__);
    update(s, &t, 0, 0, 0, __LINE__);
    commit(s);
    ticket_done(&t);

    /* The next transaction: what is known comes from its own load. */
    begin_loaded(s, id, &t);
    update(s, &t, 0, 0, 0, __LINE__);
    t.clocks[1].state = SLACLOCK_RUNNING; /* the resolution clock starts */
    t.clocks[1].since_ms = t.clocks[1].started_at_ms = T0 + H;
    t.clocks[1].due_at_ms = T0 + 9 * H;
    t.clocks[1].risk_at_ms = T0 + 7 * H;
    update(s, &t, 1, 1, 1, __LINE__);
    t.clocks[1].state = SLACLOCK_PAUSED; /* paused: elapsed counted, since gone */
    t.clocks[1].elapsed_ms = H / 2;
    t.clocks[1].since_ms = SLAD_NO_TIME;
    t.clocks[1].due_at_ms = SLAD_NO_TIME;
    update(s, &t, 1, 1, 1, __LINE__);
    t.clocks[1].state = SLACLOCK_RUNNING; /* resumed */
    t.clocks[1].since_ms = T0 + 2 * H;
    t.clocks[1].due_at_ms = T0 + 9 * H + H / 2;
    t.clocks[1].risk_at_ms = T0 + 7 * H + H / 2;
    update(s, &t, 1, 1, 1, __LINE__);
    t.clocks[1].risk_at_ms = INT64_MAX; /* stored as NULL (clocks_risk: all columns) */
    update(s, &t, 1, 1, 1, __LINE__);
    t.clocks[1].state = SLACLOCK_MET; /* resolved: both stop, the breached one stays */
    t.clocks[1].stopped_at_ms = T0 + 3 * H;
    t.clocks[1].stop_event = TICKET_EVENT_RESOLVE;
    update(s, &t, 1, 1, 1, __LINE__);
    commit(s);
    ticket_done(&t);
    store_close(s);
}

/* Reordered, renamed, dropped, added back, a ticket's copied column changed: what must be
 * written is, on rows known from the load. */
static void test_known_rows_reshaped(void **state)
{
    (void)state;
    struct store *s = open_store();
    int64_t id = insert_one(s);
    struct ticket t;
    begin_loaded(s, id, &t);
    struct slaclock c0 = t.clocks[0]; /* reordered: both positions, no indexed column */
    t.clocks[0] = t.clocks[1];
    t.clocks[1] = c0;
    update(s, &t, 2, 2, 0, __LINE__);
    snprintf(t.clocks[1].name, sizeof(t.clocks[1].name), "onsite"); /* renamed */
    update(s, &t, 1, 0, 0, __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), "SELECT count(*) FROM clocks"), 2);
    t.n_clocks = 1; /* a policy with one clock: the other goes */
    update(s, &t, 0, 0, 0, __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), "SELECT count(*) FROM clocks"), 1);
    t.n_clocks = 2; /* back: inserted */
    update(s, &t, 1, 0, 0, __LINE__);
    assert_int_equal(ticket_set_string(&t.team, "south"), 0); /* copied into every clock */
    update(s, &t, 2, 2, -1, __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), "SELECT count(*) FROM clocks WHERE team = 'south'"),
                     2);
    t.n_clocks = 0;
    update(s, &t, 0, 0, 0, __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), "SELECT count(*) FROM clocks"), 0);
    commit(s);
    ticket_done(&t);
    store_close(s);
}

/* The labels past a ticket's last are deleted when the rows known held more; with no more
 * known, none are, and a label added, changed or dropped still lands. */
static void test_labels_past_the_last(void **state)
{
    (void)state;
    struct store *s = open_store();
    struct slad_error err = {{0}};
    int64_t id = insert_one(s);
    struct ticket t;
    begin_loaded(s, id, &t);
    assert_int_equal(ticket_set_label(&t, "channel", "hotline"), 0);
    assert_int_equal(ticket_set_label(&t, "vip", "yes"), 0);
    update(s, &t, 0, 0, 0, __LINE__);
    commit(s);
    static const char count_labels[] = "SELECT count(*) FROM ticket_labels";
    assert_int_equal(testdb_value(store_dbh(s), count_labels), 2);
    ticket_done(&t);
    begin_loaded(s, id, &t);
    assert_int_equal(t.n_labels, 2);
    update(s, &t, 0, 0, 0, __LINE__);
    assert_int_equal(ticket_set_label(&t, "channel", NULL), 0); /* two rows known, one left */
    update(s, &t, 0, 0, 0, __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), count_labels), 1);
    assert_int_equal(ticket_set_label(&t, "zone", "east"), 0);
    update(s, &t, 0, 0, 0, __LINE__);
    check(store_savepoint(s, &err), &err, "savepoint", __LINE__);
    assert_int_equal(ticket_set_label(&t, "zone", NULL), 0);
    update(s, &t, 0, 0, 0, __LINE__);
    check(store_rollback_to(s, &err), &err, "rollback to", __LINE__);
    assert_int_equal(testdb_value(store_dbh(s), count_labels), 2); /* back: two rows */
    update(s, &t, 2, 0, 0, __LINE__); /* nothing known after the rollback: upserts */
    assert_int_equal(testdb_value(store_dbh(s), count_labels), 1);
    commit(s);
    struct ticket u;
    check(store_ticket_load(s, id, &u, &err), &err, "load", __LINE__);
    assert_int_equal(u.n_labels, 1);
    assert_string_equal(ticket_label(&u, "vip"), "yes");
    ticket_done(&u);
    ticket_done(&t);
    store_close(s);
}

/* What is known holds in its transaction only, and not past a rollback. */
static void test_known_only_while_true(void **state)
{
    (void)state;
    struct store *s = open_store();
    struct slad_error err = {{0}};
    int64_t id = insert_one(s);
    struct ticket t;

    /* Outside store_begin's transaction nothing is known: every clock takes a statement. */
    check(store_ticket_load_for_update(s, id, &t, &err), &err, "load", __LINE__);
    update(s, &t, 2, 0, 0, __LINE__);

    /* Changed behind the store after the commit: the next transaction writes it back. */
    begin(s);
    update(s, &t, 2, 0, 0, __LINE__); /* not loaded in this one: upserts */
    update(s, &t, 0, 0, 0, __LINE__); /* its own write is known */
    commit(s);
    testdb_exec(store_dbh(s), "UPDATE clocks SET fired = '9', elapsed_ms = 7");
    begin(s);
    update(s, &t, 2, 2, 2, __LINE__); /* the upsert sets every column */
    commit(s);

    /* A savepoint rolled back: its write is undone, so is what it made known. */
    ticket_done(&t);
    begin_loaded(s, id, &t);
    check(store_savepoint(s, &err), &err, "savepoint", __LINE__);
    t.clocks[1].elapsed_ms = 1000; /* indexed (clocks_period): every column */
    update(s, &t, 1, 1, 1, __LINE__);
    check(store_rollback_to(s, &err), &err, "rollback to", __LINE__);
    update(s, &t, 2, 1, 1, __LINE__); /* the same values again: written (upserts) */
    commit(s);

    /* The transaction rolled back, and the next one writes without a load. */
    ticket_done(&t);
    begin_loaded(s, id, &t);
    t.clocks[1].elapsed_ms = 2000;
    update(s, &t, 1, 1, 1, __LINE__);
    check(store_rollback(s, &err), &err, "rollback", __LINE__);
    begin(s);
    update(s, &t, 2, 1, 1, __LINE__);
    commit(s);

    /* A wrong belief inside the transaction (a row changed or deleted behind the store):
     * the narrow UPDATE matches nothing, the wider one or the upsert writes the row. */
    ticket_done(&t);
    begin_loaded(s, id, &t);
    testdb_exec(store_dbh(s), "UPDATE clocks SET elapsed_ms = 1 WHERE name = 'response'");
    t.clocks[0].fired[0] = 3;
    update(s, &t, 2, 1, 1, __LINE__); /* the plain shape missed, the full one wrote */
    testdb_exec(store_dbh(s), "DELETE FROM clocks WHERE name = 'resolution'");
    t.clocks[1].fired[0] = 1;
    update(s, &t, 3, 0, 0, __LINE__); /* plain, full, then the upsert's insert */
    commit(s);
    ticket_done(&t);
    store_close(s);
}

static int setup(void **state)
{
    (void)state;
    return testdb_init() < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    testdb_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_only_when_changed),
        cmocka_unit_test(test_known_rows_reshaped),
        cmocka_unit_test(test_labels_past_the_last),
        cmocka_unit_test(test_known_only_while_true),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
