/* test-store-seam.c - the store's files converted to the SQL seam (store_db.h: follow-ups,
 * plans, on-call overrides, history, gauges, retention, the SLA report) give the same
 * answers on SQLite (meson test store-seam: a store_open'ed file) and on PostgreSQL
 * (store-seam-postgres, under scripts/with-postgres.sh: a store whose one connection is
 * the seam's, on schema_pg_create's schema, as the PostgreSQL store is to be): ids from
 * RETURNING, duplicates refused, optional filters given or NULL, LIMIT none or some, the
 * report's sums, the purge of a closed ticket and the gauges its triggers keep. */
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

#include "report.h"
#include "schema_pg.h"
#include "store.h"
#include "store_db.h"
#include "store_followup.h"
#include "store_internal.h"
#include "store_plan.h"
#include "store_retention.h"
#include "store_schedule.h"
#include "testdb.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define H  INT64_C(3600000)

static struct store *open_store(void)
{
    struct slad_error err = {{0}};
    struct store *s = NULL;
    if (!testdb_on_postgres()) {
        if (store_open(testdb_target(), true, &s, &err) < 0)
            fail_msg("store_open: %s", err.msg);
        return s;
    }
    struct db *db = testdb_open();
    testdb_exec(db, "SET client_min_messages = warning;"
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    if (schema_pg_create(db, &err) < 0)
        fail_msg("schema_pg_create: %s", err.msg);
    s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->dbh = db; /* no SQLite connection: only the converted files may run */
    return s;
}

static int setup(void **state)
{
    *state = open_store();
    /* Two tickets (2 closed long ago), a clock each. */
    testdb_exec(store_dbh(*state),
                "INSERT INTO tickets (id, title, severity, team, reported_at_ms, created_at_ms,"
                " updated_at_ms, status, held_from, last_event_ms) VALUES"
                " (1, 'a', 2, 'north', 1767225600000, 1767225600000, 1767225600000, 'open',"
                "  'open', NULL),"
                " (2, 'b', 2, NULL, 1767229200000, 1767229200000, 1767229200000, 'closed',"
                "  'open', 1767229200000);"
                "INSERT INTO clocks (ticket_id, name, pos, policy, state, target_ms, elapsed_ms,"
                " reported_at_ms, team) VALUES"
                " (1, 'response', 0, 'repair', 'running', 3600000, 0, 1767225600000, 'north'),"
                " (2, 'response', 0, 'repair', 'met', 3600000, 600000, 1767229200000, NULL)");
    return 0;
}

static int teardown(void **state)
{
    struct store *s = *state;
    if (testdb_on_postgres()) {
        db_close(s->dbh);
        free(s);
    } else {
        store_close(s);
        testdb_cleanup();
        assert_int_equal(testdb_init(), 0);
    }
    return 0;
}

static int count_history(void *userdata, const struct history_entry *h)
{
    int64_t *ids = userdata;
    ids[++ids[0]] = h->id;
    assert_string_equal(h->kind, "event");
    return 0;
}

static void test_history(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    int64_t first = 0, id = 0;
    for (int i = 0; i < 5; i++) {
        struct history_entry h = {.ticket_id = 1,
                                  .at_ms = T0 + i,
                                  .created_ms = T0 + i,
                                  .kind = "event",
                                  .data = "{}",
                                  .late = i == 4};
        assert_int_equal(store_history_add(s, &h, &id, &err), 0);
        if (i == 0)
            first = id;
    }
    assert_int_equal(id, first + 4); /* RETURNING id */
    int64_t ids[8] = {0};
    assert_int_equal(store_history_list(s, 1, 0, 0, count_history, ids, &err), 0);
    assert_int_equal(ids[0], 5); /* limit 0: none */
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_history_list(s, 1, first, 2, count_history, ids, &err), 0);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], first + 1);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_history_latest(s, 1, 2, count_history, ids, &err), 0);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], first + 4); /* newest first */
    struct history_entry bad = {.ticket_id = 99, .kind = "event"};
    assert_int_equal(store_history_add(s, &bad, &id, &err), -EINVAL); /* no such ticket */
}

static int collect_followup(void *userdata, const struct followup *f)
{
    int64_t *ids = userdata;
    ids[++ids[0]] = f->id;
    return 0;
}

static size_t list_followups(struct store *s, struct followup_filter f, int64_t *ids)
{
    struct slad_error err = {{0}};
    memset(ids, 0, 8 * sizeof(*ids));
    if (store_followup_list(s, &f, collect_followup, ids, &err) < 0)
        fail_msg("store_followup_list: %s", err.msg);
    return (size_t)ids[0];
}

static int agenda_count(void *userdata, int64_t id, int64_t next_ms)
{
    (*(int *)userdata)++;
    return 0;
}

static int count_id(void *userdata, int64_t id)
{
    (*(int *)userdata)++;
    return 0;
}

static void test_followups_and_plans(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    struct plan p;
    plan_init(&p);
    plan_set_string(&p.name, "boiler");
    plan_set_string(&p.rrule, "FREQ=DAILY");
    plan_set_string(&p.due_within, "1h");
    p.start_ms = T0;
    p.next_ms = T0 + 24 * H;
    assert_int_equal(store_plan_insert(s, &p, &err), 0);
    assert_true(p.id > 0);
    p.occurrences = 3;
    assert_int_equal(store_plan_update(s, &p, &err), 0);
    struct plan q;
    assert_int_equal(store_plan_load(s, p.id, &q, &err), 0);
    assert_string_equal(q.owner, "assignee");
    assert_int_equal(q.occurrences, 3);
    assert_int_equal(q.until_ms, SLAD_NO_TIME);
    plan_done(&q);

    struct followup f = {.ticket_id = 1,
                         .owner = "assignee",
                         .created_ms = T0,
                         .due_ms = T0 + H,
                         .deadline_ms = T0 + 2 * H};
    snprintf(f.name, sizeof(f.name), "%s", "callback");
    assert_int_equal(store_followup_insert(s, &f, T0 + H, &err), 0);
    int64_t callback = f.id;
    assert_int_equal(store_followup_insert(s, &f, T0 + H, &err), -EEXIST);
    struct followup v = {.plan_id = p.id,
                         .owner = "assignee",
                         .created_ms = T0,
                         .due_ms = T0 + 3 * H,
                         .deadline_ms = T0 + 4 * H};
    snprintf(v.name, sizeof(v.name), "%s", "visit");
    assert_int_equal(store_followup_insert(s, &v, SLAD_NO_TIME, &err), 0);

    int64_t ids[8];
    struct followup_filter all = {.view = -1, .before_ms = SLAD_NO_TIME, .now_ms = T0};
    assert_int_equal(list_followups(s, all, ids), 2);
    struct followup_filter of_ticket = all;
    of_ticket.ticket_id = 1;
    assert_int_equal(list_followups(s, of_ticket, ids), 1);
    assert_int_equal(ids[1], callback);
    struct followup_filter of_plan = all;
    of_plan.plan_id = p.id;
    assert_int_equal(list_followups(s, of_plan, ids), 1);
    struct followup_filter before = all;
    before.before_ms = T0 + 2 * H;
    assert_int_equal(list_followups(s, before, ids), 1);
    struct followup_filter due = all;
    due.view = FOLLOWUP_VIEW_DUE;
    due.now_ms = T0 + H;
    assert_int_equal(list_followups(s, due, ids), 1);
    struct followup_filter one = all;
    one.limit = 1;
    assert_int_equal(list_followups(s, one, ids), 1);

    int n = 0;
    assert_int_equal(store_followup_agenda_load(s, agenda_count, &n, &err), 0);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(store_plan_agenda_load(s, agenda_count, &n, &err), 0);
    assert_int_equal(n, 1);

    f.state = FOLLOWUP_DONE;
    f.outcome = FOLLOWUP_SATISFIED;
    f.done_ms = T0 + H / 2;
    snprintf(f.done_by, sizeof(f.done_by), "%s", "tech");
    assert_int_equal(store_followup_update(s, &f, SLAD_NO_TIME, &err), 0);
    struct followup got;
    assert_int_equal(store_followup_load(s, callback, &got, &err), 0);
    assert_int_equal(got.state, FOLLOWUP_DONE);
    assert_int_equal(got.outcome, FOLLOWUP_SATISFIED);
    assert_int_equal(got.done_ms, T0 + H / 2);
    assert_string_equal(got.done_by, "tech");
    size_t open_n = 9;
    assert_int_equal(store_followup_open_of_ticket(s, 1, 0, &got, 1, &open_n, &err), 0);
    assert_int_equal(open_n, 0);

    int cancelled = 0;
    assert_int_equal(store_followup_cancel_plan(s, p.id, count_id, &cancelled, &err), 0);
    assert_int_equal(cancelled, 1);
    assert_int_equal(store_plan_delete(s, p.id, &err), 0);
    assert_int_equal(store_plan_delete(s, p.id, &err), -ENOENT);
    plan_done(&p);
    assert_int_equal(store_followup_load(s, 999, &got, &err), -ENOENT);
}

static int collect_override(void *userdata, const struct schedule_override *o)
{
    int64_t *ids = userdata;
    ids[++ids[0]] = o->id;
    return 0;
}

static void test_overrides(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    struct schedule_override o = {.from_ms = T0, .to_ms = T0 + H, .created_ms = T0};
    snprintf(o.schedule, sizeof(o.schedule), "%s", "ops");
    snprintf(o.contact, sizeof(o.contact), "%s", "ann");
    assert_int_equal(store_override_insert(s, &o, &err), 0);
    int64_t first = o.id;
    snprintf(o.schedule, sizeof(o.schedule), "%s", "night");
    o.from_ms = T0 + 5 * H;
    o.to_ms = T0 + 6 * H;
    assert_int_equal(store_override_insert(s, &o, &err), 0);
    assert_int_equal(o.id, first + 1);
    int64_t ids[8] = {0};
    assert_int_equal(
        store_override_list(s, NULL, INT64_MIN, INT64_MAX, 0, 0, collect_override, ids, &err), 0);
    assert_int_equal(ids[0], 2);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(
        store_override_list(s, "ops", INT64_MIN, INT64_MAX, 0, 0, collect_override, ids, &err), 0);
    assert_int_equal(ids[0], 1);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(
        store_override_list(s, NULL, T0 + 2 * H, T0 + 7 * H, 0, 5, collect_override, ids, &err), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], first + 1);
    assert_int_equal(store_override_delete(s, "ops", first, &err), 0);
    assert_int_equal(store_override_delete(s, "ops", first, &err), -ENOENT);
}

static void test_report_gauges_and_purge(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    struct report_query q = {
        .from_ms = T0, .to_ms = T0 + 24 * H, .by = REPORT_BY_TEAM, .now_ms = T0 + 3 * H};
    struct report r;
    assert_int_equal(store_report_sla(s, &q, &r, &err), 0);
    assert_int_equal(r.n_rows, 2); /* north, then no team */
    assert_string_equal(r.rows[0].group, "north");
    assert_null(r.rows[1].group);
    assert_int_equal(r.rows[1].met, 1);
    report_done(&r);

    struct gauges g;
    assert_int_equal(store_gauges(s, &g, &err), 0);
    assert_int_equal(g.tickets[TICKET_OPEN], 1);
    assert_int_equal(g.tickets[TICKET_CLOSED], 1);

    struct history_entry h = {.ticket_id = 2, .at_ms = T0, .created_ms = T0, .kind = "event"};
    int64_t id;
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_history_add(s, &h, &id, &err), 0);
    struct store_purge_cursor cursor = STORE_PURGE_START;
    struct store_purge_counts c = {0};
    bool more = true;
    while (more)
        assert_int_equal(store_purge_batch(s, T0 + 10 * H, 2, &cursor, &c, &more, &err), 0);
    assert_int_equal(c.tickets, 1);
    assert_int_equal(c.history, 3);
    assert_int_equal(c.clocks, 1);
    assert_int_equal(store_gauges(s, &g, &err), 0);
    assert_int_equal(g.tickets[TICKET_CLOSED], 0);
    assert_int_equal(g.tickets[TICKET_OPEN], 1);
}

int main(void)
{
    if (testdb_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followups_and_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_gauges_and_purge, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
