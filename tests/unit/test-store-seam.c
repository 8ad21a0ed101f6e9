/* test-store-seam.c - the store's files on the SQL seam (store_db.h: tickets, the board,
 * console sessions, follow-ups, plans, on-call overrides, history, the outbox, action
 * links, gauges, retention, the SLA report) give the same answers on SQLite (meson test
 * store-seam: a store_open'ed file) and on PostgreSQL (store-seam-postgres, under
 * scripts/with-postgres.sh: store_open on an empty database): ids from RETURNING,
 * duplicates refused, optional filters given or NULL, LIMIT none or some, changed rows
 * counted, the report's sums, the purge of a closed ticket and the gauges its triggers
 * keep; a ticket with its labels and clocks written and read back whole, every list
 * filter, the board's counts, sessions; on PostgreSQL the load for update holds the row
 * until the commit. */
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
#include "store.h"
#include "store_db.h"
#include "store_followup.h"
#include "store_plan.h"
#include "store_retention.h"
#include "store_schedule.h"
#include "store_session.h"
#include "testdb.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define H  INT64_C(3600000)

static struct store *open_store(void)
{
    struct slad_error err = {{0}};
    struct store *s = NULL;
    if (testdb_on_postgres()) { /* an empty database: store_open makes the schema */
        struct db *db = testdb_open();
        testdb_exec(db, "SET client_min_messages = warning;"
                        "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        db_close(db);
    }
    if (store_open(testdb_target(), true, &s, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    assert_int_equal(db_kind(store_dbh(s)), testdb_on_postgres() ? DB_POSTGRES : DB_SQLITE);
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
    store_close(*state);
    if (!testdb_on_postgres()) {
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

/* One operation's history row, in a savepoint of its own: the row is queued on PostgreSQL
 * (store_db_write), so its failure comes back at the release, on both. */
static int history_op(struct store *s, int64_t ticket_id, int *ret_add_rc, struct slad_error *err)
{
    struct history_entry h = {
        .ticket_id = ticket_id, .at_ms = T0, .created_ms = T0, .kind = "event", .data = "{}"};
    assert_int_equal(store_savepoint(s, err), 0);
    int r = *ret_add_rc = store_history_add(s, &h, NULL, err);
    if (r == 0)
        r = store_release(s, err);
    if (r < 0)
        assert_int_equal(store_rollback_to(s, err), 0);
    return r;
}

/* Three operations in one batch; the middle one's write fails (no such ticket) after it
 * was queued: that operation alone fails and is undone, the batch commits the other two. */
static void test_queued_write_fails_its_operation_alone(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    int add_rc;
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(history_op(s, 1, &add_rc, &err), 0);
    assert_int_equal(history_op(s, 99, &add_rc, &err), -EINVAL);
    assert_int_equal(add_rc, 0); /* queued (PostgreSQL), or pending to the release (SQLite) */
    assert_non_null(strstr(err.msg, "adding history"));
    assert_int_equal(history_op(s, 1, &add_rc, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    int64_t ids[8] = {0};
    assert_int_equal(store_history_list(s, 1, 0, 0, count_history, ids, &err), 0);
    assert_int_equal(ids[0], 2);
    assert_int_equal(testdb_value(store_dbh(s), "SELECT count(*) FROM history"), 2);
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

/* Outbox rows seen by a listing: their ids, in order, after the count in ids[0]. */
static int collect_outbox(void *userdata, const struct outbox_row *o)
{
    int64_t *ids = userdata;
    ids[++ids[0]] = o->id;
    return 0;
}

static int64_t list_outbox(struct store *s, struct outbox_filter f, int64_t *ids)
{
    struct slad_error err = {{0}};
    memset(ids, 0, 8 * sizeof(*ids));
    if (store_outbox_list(s, &f, collect_outbox, ids, &err) < 0)
        fail_msg("store_outbox_list: %s", err.msg);
    return ids[0];
}

static int copy_outbox(void *userdata, const struct outbox_row *o)
{
    struct outbox_row *ret = userdata;
    *ret = *o;
    ret->event = ret->channel = ret->recipient = ret->contact = NULL; /* borrowed: gone */
    ret->idempotency_key = ret->last_error = ret->payload = NULL;
    ret->address = o->address ? "set" : NULL;
    return 0;
}

static struct outbox_row get_outbox(struct store *s, int64_t id)
{
    struct slad_error err = {{0}};
    struct outbox_row o = {.id = 0};
    if (store_outbox_get(s, id, copy_outbox, &o, &err) < 0)
        fail_msg("store_outbox_get %lld: %s", (long long)id, err.msg);
    return o;
}

static int64_t add_outbox(struct store *s, int64_t ticket_id, const char *key, const char *channel,
                          const char *address, int64_t next_ms)
{
    struct outbox_row o = {.ticket_id = ticket_id,
                           .event = "sla.breach",
                           .channel = channel,
                           .recipient = "supervisor",
                           .idempotency_key = key,
                           .state = OUTBOX_PENDING,
                           .next_attempt_ms = next_ms,
                           .payload = "{}",
                           .created_ms = T0,
                           .sent_ms = SLAD_NO_TIME,
                           .address = address};
    struct slad_error err = {{0}};
    int64_t id = 0;
    bool added = false;
    if (store_outbox_add(s, &o, &id, &added, &err) < 0)
        fail_msg("store_outbox_add: %s", err.msg);
    assert_true(added);
    assert_true(id > 0);
    return id;
}

static void test_outbox(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    int64_t a = add_outbox(s, 1, "k/a", "robot", NULL, T0);
    int64_t b = add_outbox(s, 1, "k/b", "robot", NULL, T0 + 1000);
    int64_t c = add_outbox(s, 2, "k/c", "sms", "+8613800000001", T0 + 5000);
    assert_true(a < b && b < c); /* RETURNING id */

    /* The key is taken: nothing added, no id. */
    struct outbox_row dup = {.event = "sla.breach",
                             .recipient = "supervisor",
                             .idempotency_key = "k/a",
                             .state = OUTBOX_PENDING,
                             .created_ms = T0,
                             .next_attempt_ms = SLAD_NO_TIME,
                             .sent_ms = SLAD_NO_TIME};
    int64_t id = -1;
    bool added = true;
    assert_int_equal(store_outbox_add(s, &dup, &id, &added, &err), 0);
    assert_false(added);
    assert_int_equal(id, 0);
    /* Every filter NULL, then each given. */
    int64_t ids[8];
    struct outbox_filter any = {.state = -1, .due_ms = SLAD_NO_TIME};
    assert_int_equal(list_outbox(s, any, ids), 3);
    struct outbox_filter f = any;
    f.state = OUTBOX_PENDING;
    assert_int_equal(list_outbox(s, f, ids), 3);
    f = any;
    f.ticket_id = 2;
    assert_int_equal(list_outbox(s, f, ids), 1);
    assert_int_equal(ids[1], c);
    f = any;
    f.channel = "robot";
    f.event = "sla.breach";
    assert_int_equal(list_outbox(s, f, ids), 2);
    f = any;
    f.due_ms = T0 + 1000;
    assert_int_equal(list_outbox(s, f, ids), 2);
    f = any;
    f.after_id = a;
    f.limit = 1;
    assert_int_equal(list_outbox(s, f, ids), 1);
    assert_int_equal(ids[1], b);

    /* One row's fields; the newest of a ticket; an unknown id. */
    struct outbox_row o = get_outbox(s, c);
    assert_int_equal(o.ticket_id, 2);
    assert_int_equal(o.state, OUTBOX_PENDING);
    assert_int_equal(o.next_attempt_ms, T0 + 5000);
    assert_int_equal(o.sent_ms, SLAD_NO_TIME);
    assert_int_equal(o.retried_ms, SLAD_NO_TIME);
    assert_non_null(o.address);
    assert_false(o.deferred);
    assert_int_equal(o.group_id, 0);
    assert_null(get_outbox(s, a).address);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_outbox_latest(s, 1, 1, collect_outbox, ids, &err), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], b);
    assert_int_equal(store_outbox_get(s, c + 100, copy_outbox, &o, &err), -ENOENT);

    /* Delivery: due in order, paged, the next instant. */
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_outbox_due(s, T0 + 1000, INT64_MIN, 0, 0, collect_outbox, ids, &err), 0);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], a);
    memset(ids, 0, sizeof(ids));
    assert_int_equal(store_outbox_due(s, T0 + 9000, T0, a, 1, collect_outbox, ids, &err), 0);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], b);
    int64_t next = 0;
    assert_int_equal(store_outbox_next_due(s, &next, &err), 0);
    assert_int_equal(next, T0);

    /* Dead, then retried once; a row updated must exist. */
    o = (struct outbox_row){.id = a,
                            .channel = "robot",
                            .state = OUTBOX_DEAD,
                            .attempts = 3,
                            .next_attempt_ms = SLAD_NO_TIME,
                            .last_error = "HTTP 500",
                            .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    o.id = c + 100;
    assert_int_equal(store_outbox_update(s, &o, &err), -ENOENT);
    assert_int_equal(store_outbox_next_due(s, &next, &err), 0);
    assert_int_equal(next, T0 + 1000);
    assert_int_equal(store_outbox_requeue(s, a, T0 + 9000, &err), 0);
    o = get_outbox(s, a);
    assert_int_equal(o.state, OUTBOX_PENDING);
    assert_int_equal(o.attempts, 0);
    assert_int_equal(o.retried_ms, T0 + 9000);
    assert_int_equal(store_outbox_requeue(s, a, T0 + 9000, &err), -EBUSY);

    /* A crash while sending: the row goes back to pending, counted. */
    o = (struct outbox_row){.id = b,
                            .channel = "robot",
                            .state = OUTBOX_SENDING,
                            .attempts = 1,
                            .next_attempt_ms = T0 + 1000,
                            .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    size_t n = 0;
    assert_int_equal(store_outbox_requeue_sending(s, T0 + 8000, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(get_outbox(s, b).state, OUTBOX_PENDING);

    /* Storm grouping of the robot's two rows (no address: NULL matches NULL); the SMS row
     * is alone for its address. */
    struct outbox_row g = {.event = OUTBOX_GROUP_EVENT,
                           .channel = "robot",
                           .recipient = "channel:robot",
                           .idempotency_key = "group/robot/1",
                           .state = OUTBOX_PENDING,
                           .next_attempt_ms = T0 + 9000,
                           .created_ms = T0 + 9000,
                           .sent_ms = SLAD_NO_TIME};
    int64_t gid = 0;
    assert_int_equal(store_outbox_group(s, &g, T0 + 10000, 10, &gid, &n, &err), 0);
    assert_true(gid > c);
    assert_int_equal(n, 2);
    assert_int_equal(get_outbox(s, a).group_id, gid);
    assert_int_equal(get_outbox(s, b).state, OUTBOX_SENDING);
    f = any;
    f.group_id = gid;
    assert_int_equal(list_outbox(s, f, ids), 3);
    struct outbox_row alone = g;
    alone.channel = "sms";
    alone.address = "+8613800000001";
    alone.idempotency_key = "group/sms/1";
    assert_int_equal(store_outbox_group(s, &alone, T0 + 10000, 10, &id, &n, &err), 0);
    assert_int_equal(id, 0);
    g.id = gid;
    g.state = OUTBOX_SENT;
    g.sent_ms = T0 + 9500;
    assert_int_equal(store_outbox_settle_group(s, &g, &err), 0);
    o = get_outbox(s, a);
    assert_int_equal(o.state, OUTBOX_SENT);
    assert_int_equal(o.sent_ms, T0 + 9500);

    /* Asking nothing back (a step's notification: the statement without RETURNING): a
     * taken key is no error and adds nothing, a new key adds its row. */
    assert_int_equal(list_outbox(s, any, ids), 4);
    assert_int_equal(store_outbox_add(s, &dup, NULL, NULL, &err), 0);
    assert_int_equal(list_outbox(s, any, ids), 4);
    dup.idempotency_key = "k/quiet";
    assert_int_equal(store_outbox_add(s, &dup, NULL, NULL, &err), 0);
    assert_int_equal(list_outbox(s, any, ids), 5);
    assert_true(ids[5] > gid);
    assert_int_equal(get_outbox(s, ids[5]).state, OUTBOX_PENDING);
}

static void test_action_links(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    assert_int_equal(store_action_add(s, "h1", 1, "li.si", T0, T0 + H, &err), 0);
    assert_int_equal(store_action_add(s, "h2", 1, "wang.wu", T0, T0 + 2 * H, &err), 0);
    assert_int_equal(store_action_add(s, "h1", 1, "li.si", T0, T0 + H, &err), -EEXIST);
    assert_int_equal(store_action_add(s, "h3", 99, "li.si", T0, T0 + H, &err), -EINVAL);

    struct action_link a;
    assert_int_equal(store_action_find(s, "h1", &a, &err), 0);
    assert_int_equal(a.ticket_id, 1);
    assert_string_equal(a.contact, "li.si");
    assert_int_equal(a.created_ms, T0);
    assert_int_equal(a.expires_ms, T0 + H);
    assert_int_equal(a.used_ms, SLAD_NO_TIME);
    assert_null(a.used_action);
    int64_t id = a.id;
    action_link_done(&a);
    assert_int_equal(store_action_find(s, "nope", &a, &err), -ENOENT);

    /* Used once: the second use is refused, the first is kept. */
    assert_int_equal(store_action_use(s, id, "acknowledge", T0 + 1, &err), 0);
    assert_int_equal(store_action_use(s, id, "take", T0 + 2, &err), -EALREADY);
    assert_int_equal(store_action_find(s, "h1", &a, &err), 0);
    assert_int_equal(a.used_ms, T0 + 1);
    assert_string_equal(a.used_action, "acknowledge");
    action_link_done(&a);

    /* The purge takes what expired before the instant only. */
    assert_int_equal(store_action_purge(s, T0 + H + 1, &err), 0);
    assert_int_equal(store_action_find(s, "h1", &a, &err), -ENOENT);
    assert_int_equal(store_action_find(s, "h2", &a, &err), 0);
    action_link_done(&a);
}

#define M INT64_C(60000)

/* A ticket from the "mon" source; the caller ticket_done()s it. */
static void make_ticket(struct ticket *t, const char *ext, const char *title, const char *team,
                        int severity, enum ticket_status status)
{
    ticket_init(t);
    assert_int_equal(ticket_set_string(&t->source, "mon"), 0);
    assert_int_equal(ticket_set_string(&t->external_id, ext), 0);
    assert_int_equal(ticket_set_string(&t->title, title), 0);
    assert_int_equal(ticket_set_string(&t->team, team), 0);
    assert_int_equal(ticket_set_string(&t->policy, "repair"), 0);
    t->severity = severity;
    t->status = status;
    t->reported_at_ms = T0;
    t->created_at_ms = T0;
    t->updated_at_ms = T0;
}

/* Clock i of t named name in state. */
static struct slaclock *add_clock(struct ticket *t, const char *name, enum slaclock_state state)
{
    struct slaclock *c = &t->clocks[t->n_clocks++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->state = state;
    c->target_ms = H;
    c->since_ms = c->started_at_ms = c->stopped_at_ms = SLAD_NO_TIME;
    c->breached_at_ms = c->due_at_ms = c->risk_at_ms = SLAD_NO_TIME;
    c->stop_event = -1;
    return c;
}

struct collected {
    int64_t ids[8];
    size_t n;
};

static int collect_ticket(void *userdata, const struct ticket *t)
{
    struct collected *c = userdata;
    if (c->n < 8)
        c->ids[c->n] = t->id;
    c->n++;
    return 0;
}

/* How many "mon" tickets f lists (its source set here), their ids into c. */
static size_t list_mon(struct store *s, struct ticket_filter f, struct collected *c)
{
    struct slad_error err = {{0}};
    memset(c, 0, sizeof(*c));
    f.source = "mon";
    if (f.breached == 0 && f.missed == 0) /* the zeroed filter: breached any */
        f.breached = -1;
    if (store_ticket_list(s, &f, collect_ticket, c, &err) < 0)
        fail_msg("store_ticket_list: %s", err.msg);
    return c->n;
}

/* The ids the sequence gives start after those setup inserted. */
static void after_setup_ids(struct store *s)
{
    if (testdb_on_postgres())
        testdb_exec(store_dbh(s), "SELECT setval(pg_get_serial_sequence('tickets', 'id'), 2)");
}

/* Three tickets: a (open, a running clock at risk and a paused one past due, labels),
 * b (resolved, a clock missed), c (open, a clock breached). */
static void insert_three(struct store *s, int64_t *a, int64_t *b, int64_t *c)
{
    struct slad_error err = {{0}};
    struct ticket t;
    make_ticket(&t, "a-1", "Boiler LEAK at Main St", "north", 2, TICKET_OPEN);
    assert_int_equal(ticket_set_string(&t.device_serial, "SN1"), 0);
    assert_int_equal(ticket_set_string(&t.fault_code, "F1"), 0);
    assert_int_equal(ticket_set_label(&t, "site", "hq"), 0);
    assert_int_equal(ticket_set_label(&t, "floor", "2"), 0);
    t.event_last_ms[TICKET_EVENT_ACKNOWLEDGE] = T0 + 1;
    struct slaclock *k = add_clock(&t, "response", SLACLOCK_RUNNING);
    k->since_ms = k->started_at_ms = T0;
    k->due_at_ms = T0 + H;
    k->risk_at_ms = T0 + 45 * M;
    k->fired[0] = 1;
    k->fired[2] = 2;
    k = add_clock(&t, "resolve", SLACLOCK_PAUSED);
    k->paused_breached = true;
    k->elapsed_ms = 2 * H;
    assert_int_equal(store_ticket_insert(s, &t, T0 + 45 * M, &err), 0);
    *a = t.id;
    t.id = 0;
    assert_int_equal(store_ticket_insert(s, &t, T0 + 45 * M, &err), -EEXIST);
    ticket_done(&t);

    make_ticket(&t, "b-2", "Printer", "south", 4, TICKET_RESOLVED);
    k = add_clock(&t, "response", SLACLOCK_MISSED);
    k->stop_event = TICKET_EVENT_RESOLVE;
    k->stopped_at_ms = T0 + 2 * H;
    assert_int_equal(store_ticket_insert(s, &t, SLAD_NO_TIME, &err), 0);
    *b = t.id;
    ticket_done(&t);

    make_ticket(&t, "c-3", "Fan", "north", 2, TICKET_OPEN);
    assert_int_equal(ticket_set_string(&t.device_serial, "SN1"), 0);
    assert_int_equal(ticket_set_string(&t.fault_code, "F1"), 0);
    k = add_clock(&t, "response", SLACLOCK_BREACHED);
    k->due_at_ms = k->breached_at_ms = T0 + 30 * M;
    assert_int_equal(store_ticket_insert(s, &t, T0 + H, &err), 0);
    *c = t.id;
    ticket_done(&t);
}

static void test_tickets(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    after_setup_ids(s);
    int64_t a, b, c;
    insert_three(s, &a, &b, &c);
    assert_int_equal(a, 3); /* RETURNING id */
    assert_true(b > a);     /* PostgreSQL's sequence skips the refused duplicate's id */

    struct ticket t;
    assert_int_equal(store_ticket_load(s, a, &t, &err), 0);
    assert_string_equal(t.title, "Boiler LEAK at Main St");
    assert_int_equal(t.severity, 2);
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.appointment_at_ms, SLAD_NO_TIME);
    assert_int_equal(t.event_last_ms[TICKET_EVENT_ACKNOWLEDGE], T0 + 1);
    assert_int_equal(t.n_labels, 2);
    assert_string_equal(ticket_label(&t, "site"), "hq");
    assert_int_equal(t.n_clocks, 2);
    assert_int_equal(t.clocks[0].state, SLACLOCK_RUNNING);
    assert_int_equal(t.clocks[0].risk_at_ms, T0 + 45 * M);
    assert_int_equal(t.clocks[0].fired[0], 1);
    assert_int_equal(t.clocks[0].fired[1], 0);
    assert_int_equal(t.clocks[0].fired[2], 2);
    assert_int_equal(t.clocks[0].stop_event, -1);
    assert_true(t.clocks[1].paused_breached);
    assert_int_equal(t.clocks[1].elapsed_ms, 2 * H);
    assert_int_equal(t.clocks[1].risk_at_ms, SLAD_NO_TIME); /* kept for running clocks only */

    /* Update: a label and a clock fewer, a new status. */
    t.status = TICKET_ACKNOWLEDGED;
    assert_int_equal(ticket_set_label(&t, "floor", NULL), 0);
    t.n_clocks = 1;
    assert_int_equal(store_ticket_update(s, &t, T0 + 50 * M, &err), 0);
    ticket_done(&t);
    assert_int_equal(store_ticket_load_for_update(s, a, &t, &err), 0);
    assert_int_equal(t.status, TICKET_ACKNOWLEDGED);
    assert_int_equal(t.n_labels, 1);
    assert_int_equal(t.n_clocks, 1);
    t.id = 999;
    assert_int_equal(store_ticket_update(s, &t, SLAD_NO_TIME, &err), -ENOENT);
    ticket_done(&t);
    assert_int_equal(store_ticket_load(s, 999, &t, &err), -ENOENT);
    assert_int_equal(store_ticket_load(s, b, &t, &err), 0);
    assert_int_equal(t.clocks[0].state, SLACLOCK_MISSED);
    assert_int_equal(t.clocks[0].stop_event, TICKET_EVENT_RESOLVE);
    ticket_done(&t);

    int64_t id = 0;
    assert_int_equal(store_ticket_find(s, "mon", "b-2", &id, &err), 0);
    assert_int_equal(id, b);
    assert_int_equal(store_ticket_find(s, "mon", "nope", &id, &err), -ENOENT);

    int n = 0;
    assert_int_equal(store_agenda_load(s, agenda_count, &n, &err), 0);
    assert_int_equal(n, 2); /* a and c; b has none, setup's have none */
    int64_t same = 0;
    assert_int_equal(store_repeat_count(s, "SN1", "F1", T0 - H, T0 + H, &same, &err), 0);
    assert_int_equal(same, 2);
    assert_int_equal(store_repeat_count(s, "SN1", "F1", T0 + H, T0 + 2 * H, &same, &err), 0);
    assert_int_equal(same, 0);
}

static void test_ticket_filters(void **state)
{
    struct store *s = *state;
    after_setup_ids(s);
    int64_t a, b, c;
    insert_three(s, &a, &b, &c);
    struct collected got;
    struct ticket_filter f = {.breached = -1};
    assert_int_equal(list_mon(s, f, &got), 3);
    assert_int_equal(got.ids[0], a);
    f = (struct ticket_filter){.breached = -1, .team = "north"};
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = -1, .status = "resolved"};
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], b);
    f = (struct ticket_filter){.breached = -1, .policy = "other"};
    assert_int_equal(list_mon(s, f, &got), 0);
    f = (struct ticket_filter){.breached = 1}; /* c breached, a paused past due */
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = 0, .missed = 0};
    f.breached = 0;
    f.missed = 1;
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], b);
    f = (struct ticket_filter){.breached = -1, .missed = -1};
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = -1, .open_only = true};
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = -1, .severity = 4, .assignee = NULL};
    assert_int_equal(list_mon(s, f, &got), 1);
    f = (struct ticket_filter){.breached = -1, .assignee = "nobody"};
    assert_int_equal(list_mon(s, f, &got), 0);
    f = (struct ticket_filter){.breached = -1, .region = "nowhere"};
    assert_int_equal(list_mon(s, f, &got), 0);
    f = (struct ticket_filter){.breached = -1, .q = "leak"};
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], a);
    f = (struct ticket_filter){.breached = -1, .q = "sn1"}; /* the device serial */
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = -1, .due_before_ms = T0 + 40 * M};
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], c);
    f = (struct ticket_filter){.breached = -1, .at_risk = 1, .now_ms = T0 + 50 * M};
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], a);
    f = (struct ticket_filter){.breached = -1, .at_risk = -1, .now_ms = T0 + 50 * M};
    assert_int_equal(list_mon(s, f, &got), 2);
    f = (struct ticket_filter){.breached = -1, .limit = 1, .after_id = a};
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], b);
    f = (struct ticket_filter){.breached = -1, .external_id = "c-3"}; /* the origin */
    assert_int_equal(list_mon(s, f, &got), 1);
    assert_int_equal(got.ids[0], c);
    f = (struct ticket_filter){.breached = -1, .external_id = "nope"};
    assert_int_equal(list_mon(s, f, &got), 0);
    /* The board's order: c (due first), a, then b (nothing counting: last). */
    f = (struct ticket_filter){.breached = -1, .sort_due = true, .after_due_ms = INT64_MIN};
    assert_int_equal(list_mon(s, f, &got), 3);
    assert_int_equal(got.ids[0], c);
    assert_int_equal(got.ids[1], a);
    assert_int_equal(got.ids[2], b);
    f.after_due_ms = T0 + 30 * M; /* the cursor after c */
    f.after_id = c;
    assert_int_equal(list_mon(s, f, &got), 2);
    assert_int_equal(got.ids[0], a);

    struct slad_error err = {{0}};
    struct board_summary board;
    assert_int_equal(store_board_summary(s, T0 + 50 * M, &board, &err), 0);
    assert_int_equal(board.open, 3); /* setup's 1, a and c */
    assert_int_equal(board.at_risk, 1);
    assert_int_equal(board.breached, 2);
    assert_int_equal(board.dead_notifications, 0);
}

/* On PostgreSQL the load for update holds the row: another connection's write waits for
 * the commit (here: fails at its lock timeout while the row is held). */
static void test_load_for_update_locks(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    after_setup_ids(s);
    int64_t a, b, c;
    insert_three(s, &a, &b, &c);
    if (!testdb_on_postgres()) {
        struct ticket t;
        assert_int_equal(store_ticket_load_for_update(s, c, &t, &err), 0);
        assert_string_equal(t.title, "Fan");
        ticket_done(&t);
        return;
    }
    char held[80], free_row[80];
    snprintf(held, sizeof(held), "UPDATE tickets SET title = 'x' WHERE id = %lld", (long long)c);
    snprintf(free_row, sizeof(free_row), "UPDATE tickets SET title = 'x' WHERE id = %lld",
             (long long)a);
    struct db *other = testdb_open();
    testdb_exec(other, "SET lock_timeout = '100ms'");
    assert_int_equal(db_begin(store_dbh(s), &err), 0);
    struct ticket t;
    assert_int_equal(store_ticket_load_for_update(s, c, &t, &err), 0);
    ticket_done(&t);
    assert_int_equal(db_exec(other, held, "test", &err), -EAGAIN);
    assert_int_equal(db_exec(other, free_row, "test", &err), 0); /* another row is free */
    assert_int_equal(db_commit(store_dbh(s), &err), 0);
    assert_int_equal(db_exec(other, held, "test", &err), 0);
    /* The plain load takes no lock. */
    assert_int_equal(db_begin(store_dbh(s), &err), 0);
    assert_int_equal(store_ticket_load(s, c, &t, &err), 0);
    ticket_done(&t);
    assert_int_equal(db_exec(other, held, "test", &err), 0);
    assert_int_equal(db_commit(store_dbh(s), &err), 0);
    db_close(other);
}

static void test_sessions(void **state)
{
    struct store *s = *state;
    struct slad_error err = {{0}};
    struct session one = {.created_ms = T0, .last_seen_ms = T0};
    memset(one.token_hash, 0xab, sizeof(one.token_hash));
    snprintf(one.contact, sizeof(one.contact), "%s", "ann");
    snprintf(one.csrf, sizeof(one.csrf), "%s", "csrf-1");
    assert_int_equal(store_session_insert(s, &one, &err), 0);
    assert_int_equal(store_session_insert(s, &one, &err), -EEXIST);
    struct session old = one;
    old.token_hash[0] = 0x01;
    old.created_ms = T0 - 8 * 24 * H; /* past SESSION_MAX_MS at T0 */
    assert_int_equal(store_session_insert(s, &old, &err), 0);

    struct session got;
    assert_int_equal(store_session_get(s, one.token_hash, &got, &err), 0);
    assert_string_equal(got.contact, "ann");
    assert_string_equal(got.csrf, "csrf-1");
    assert_int_equal(got.created_ms, T0);
    assert_memory_equal(got.token_hash, one.token_hash, SESSION_HASH_BYTES);
    assert_int_equal(store_session_touch(s, one.token_hash, T0 + H, &err), 0);
    assert_int_equal(store_session_get(s, one.token_hash, &got, &err), 0);
    assert_int_equal(got.last_seen_ms, T0 + H);

    assert_int_equal(store_session_purge(s, T0 + 2 * H, &err), 0);
    assert_int_equal(store_session_get(s, old.token_hash, &got, &err), -ENOENT);
    assert_int_equal(store_session_get(s, one.token_hash, &got, &err), 0);
    assert_int_equal(store_session_purge(s, T0 + H + SESSION_IDLE_MS, &err), 0); /* idle */
    assert_int_equal(store_session_get(s, one.token_hash, &got, &err), -ENOENT);
    assert_int_equal(store_session_delete(s, one.token_hash, &err), 0); /* twice: no error */
    assert_int_equal(store_session_insert(s, &one, &err), 0);
    assert_int_equal(store_session_delete(s, one.token_hash, &err), 0);
    assert_int_equal(store_session_get(s, one.token_hash, &got, &err), -ENOENT);
}

int main(void)
{
    if (testdb_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_write_fails_its_operation_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_followups_and_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_gauges_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticket_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_for_update_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
