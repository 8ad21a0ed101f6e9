/* test-retention.c - purging closed and cancelled tickets past retention
 * (store_retention.h), on tickets made through the service with explicit times: only
 * final tickets whose last event is older than the cutoff go, with all their rows; open,
 * recent, undelivered and followed-up ones stay; batches keep to their row budget and
 * resume a ticket cut halfway; the gauges stay equal to the tables; an SLA report over a
 * period after the cutoff is unchanged. On ":memory:" and, under meson test
 * retention-postgres, on an emptied PostgreSQL database (the rows read through db.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "conf_load.h"
#include "followup.h"
#include "report.h"
#include "service.h"
#include "store.h"
#include "store_followup.h"
#include "store_db.h"
#include "store_retention.h"
#include "testdb.h"

#define S   INT64_C(1000)
#define H   (3600 * S)
#define DAY (24 * H)
#define T0  INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */
/* Retention cuts at T0 + 10 d (say, now T0 + 40 d with retention = "30d"). */
#define CUTOFF (T0 + 10 * DAY)

/* Severity 1: a follow-up from resolve; others none. Every ticket escalates at 50 %. */
static const char conf_text[] =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"tech\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test-ret.jsonl\"; } );\n"
    "policies = (\n"
    "  { name = \"visits\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"resolution\"; target = \"2h\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; } ); } );\n"
    "    followups = ( { name = \"callback\"; from = \"resolve\"; after = \"1d\";\n"
    "                    due_within = \"1d\"; owner = \"supervisor\"; } ); },\n"
    "  { name = \"plain\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"resolution\"; target = \"2h\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; } ); } ); }\n"
    ");\n";

struct fixture {
    struct conf *conf;
    struct store *store;
    struct agenda *agenda;
    struct service *svc;
};

static struct fixture fx;

static int64_t create(int severity, int64_t reported_ms, int64_t now_ms, int line)
{
    struct ticket in, out;
    ticket_init(&in);
    in.title = "冰箱不制冷";
    in.team = "north";
    in.assignee = "tech";
    in.severity = severity;
    in.reported_at_ms = reported_ms;
    bool created = false;
    struct slad_error err = {{0}};
    if (service_ticket_create(fx.svc, &in, now_ms, &out, &created, &err) < 0)
        fail_msg("line %d: create: %s", line, err.msg);
    int64_t id = out.id;
    ticket_done(&out);
    return id;
}

static void event(int64_t id, enum ticket_event_type type, int64_t at_ms, int line)
{
    struct ticket_event ev = {.type = type, .at_ms = at_ms, .note = "n"};
    struct ticket out;
    struct slad_error err = {{0}};
    if (service_ticket_event(fx.svc, id, &ev, at_ms, &out, &err) < 0)
        fail_msg("line %d: %s: %s", line, ticket_event_name(type), err.msg);
    ticket_done(&out);
}

/* Resolved at +1 h and closed at +2 h after reported_ms. */
static int64_t closed(int severity, int64_t reported_ms, int line)
{
    int64_t id = create(severity, reported_ms, reported_ms, line);
    event(id, TICKET_EVENT_RESOLVE, reported_ms + H, line);
    event(id, TICKET_EVENT_CLOSE, reported_ms + 2 * H, line);
    return id;
}

/* sql: a string constant (db_prepare keeps it by address). */
static int64_t count(const char *sql, int64_t id)
{
    struct slad_error err = {{0}};
    struct db_stmt *st = db_prepare(store_dbh(fx.store), sql, &err);
    if (!st)
        fail_msg("%s: %s", sql, err.msg);
    if (id)
        db_bind_int64(st, 1, id);
    if (db_step(st, "counting", &err) != 1)
        fail_msg("%s: no row: %s", sql, err.msg);
    int64_t n = db_column_int64(st, 0);
    db_reset(st);
    return n;
}

static void exec_sql(const char *sql)
{
    struct slad_error err = {{0}};
    if (db_exec(store_dbh(fx.store), sql, "test", &err) < 0)
        fail_msg("%s: %s", sql, err.msg);
}

/* Every row of ticket id, in every table. */
static int64_t rows_of(int64_t id)
{
    return count("SELECT (SELECT count(*) FROM tickets WHERE id = ?1)"
                 " + (SELECT count(*) FROM clocks WHERE ticket_id = ?1)"
                 " + (SELECT count(*) FROM history WHERE ticket_id = ?1)"
                 " + (SELECT count(*) FROM outbox WHERE ticket_id = ?1)"
                 " + (SELECT count(*) FROM followups WHERE ticket_id = ?1)",
                 id);
}

/* The triggers' gauges equal counts of the tables. */
static void gauges_match_tables(int line)
{
    int64_t wrong =
        count("SELECT count(*) FROM ("
              " SELECT 'ticket ' || status w, count(*) n FROM tickets GROUP BY status"
              " UNION ALL SELECT 'outbox ' || state, count(*) FROM outbox GROUP BY state"
              " UNION ALL SELECT 'breached', count(*) FROM clocks"
              "  WHERE state = 'breached') AS t"
              " FULL JOIN counts c ON c.what = t.w"
              " WHERE coalesce(c.n, 0) != coalesce(t.n, 0)",
              0);
    if (wrong)
        fail_msg("line %d: %" PRId64 " gauges differ from the tables", line, wrong);
}

/* Mark every pending notification of ticket id sent (or dead). */
static void deliver(int64_t id, bool dead)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "UPDATE outbox SET state = '%s', sent_ms = %" PRId64 " WHERE ticket_id = %" PRId64,
             dead ? "dead" : "sent", T0 + DAY, id);
    exec_sql(sql);
}

static int64_t callback_of(int64_t ticket_id)
{
    struct followup page[2];
    size_t n = 0;
    struct slad_error err = {{0}};
    assert_int_equal(store_followup_open_of_ticket(fx.store, ticket_id, 0, page, 2, &n, &err), 0);
    assert_int_equal(n, 1);
    return page[0].id;
}

static void complete(int64_t ticket_id, int64_t at_ms)
{
    struct followup f;
    struct slad_error err = {{0}};
    if (service_followup_complete(fx.svc, callback_of(ticket_id), "satisfied", NULL, NULL, at_ms,
                                  &f, &err) < 0)
        fail_msg("complete: %s", err.msg);
}

static char *report_text(void)
{
    struct report_query q = {.from_ms = CUTOFF,
                             .to_ms = CUTOFF + 30 * DAY,
                             .by = REPORT_BY_POLICY,
                             .now_ms = CUTOFF + 20 * DAY};
    struct report rep;
    struct slad_error err = {{0}};
    if (store_report_sla(fx.store, &q, &rep, &err) < 0)
        fail_msg("report: %s", err.msg);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    for (size_t i = 0; i < rep.n_rows; i++) {
        const struct report_row *r = &rep.rows[i];
        fprintf(out, "%s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
                r->group ? r->group : "-", r->clock, r->total, r->met, r->missed, r->open,
                r->mean_ms);
    }
    fprintf(out, "followups %" PRId64 " %" PRId64 " %" PRId64 "\n", rep.followups.total,
            rep.followups.done, rep.followups.overdue);
    fclose(out);
    report_done(&rep);
    return text;
}

static void test_purge(void **state)
{
    /* Go: final, last event before the cutoff, nothing keeps them. */
    int64_t gone[8];
    size_t n_gone = 0;
    for (int i = 0; i < 3; i++) {
        gone[n_gone] = closed(2, T0 + i * H, __LINE__);
        deliver(gone[n_gone++], false);
    }
    int64_t dead = closed(2, T0, __LINE__); /* a notification that was given up on */
    deliver(dead, true);
    gone[n_gone++] = dead;
    int64_t cancelled = create(2, T0, T0, __LINE__);
    event(cancelled, TICKET_EVENT_CANCEL, T0 + 30 * 60 * S, __LINE__); /* before any step */
    gone[n_gone++] = cancelled;
    int64_t chatty = closed(3, T0, __LINE__);
    deliver(chatty, false);
    for (int i = 0; i < 25; i++)
        event(chatty, TICKET_EVENT_COMMENT, T0 + 3 * H + i * S, __LINE__);
    gone[n_gone++] = chatty;
    int64_t called = closed(1, T0, __LINE__); /* its callback done long ago */
    complete(called, T0 + 2 * DAY);
    deliver(called, false);
    gone[n_gone++] = called;

    /* Stay. */
    int64_t stay[8];
    size_t n_stay = 0;
    int64_t recent = create(2, T0, T0, __LINE__); /* closed after the cutoff */
    event(recent, TICKET_EVENT_RESOLVE, CUTOFF + H, __LINE__);
    event(recent, TICKET_EVENT_CLOSE, CUTOFF + 2 * H, __LINE__);
    deliver(recent, false);
    stay[n_stay++] = recent;
    int64_t open = create(2, T0, T0, __LINE__); /* never closed */
    deliver(open, false);
    stay[n_stay++] = open;
    int64_t resolved = create(2, T0, T0, __LINE__); /* resolved, not closed */
    event(resolved, TICKET_EVENT_RESOLVE, T0 + H, __LINE__);
    deliver(resolved, false);
    stay[n_stay++] = resolved;
    int64_t pending = closed(2, T0, __LINE__); /* its notification not delivered yet */
    stay[n_stay++] = pending;
    int64_t task_open = closed(1, T0, __LINE__); /* its callback still open */
    deliver(task_open, false);
    stay[n_stay++] = task_open;
    int64_t task_recent = closed(1, T0, __LINE__); /* its callback done after the cutoff */
    complete(task_recent, CUTOFF + DAY);
    deliver(task_recent, false);
    stay[n_stay++] = task_recent;
    int64_t later = closed(1, CUTOFF + DAY, __LINE__); /* reported after the cutoff */
    deliver(later, false);
    complete(later, CUTOFF + 2 * DAY);
    stay[n_stay++] = later;

    int64_t rows_gone = 0;
    for (size_t i = 0; i < n_gone; i++)
        rows_gone += rows_of(gone[i]);
    int64_t rows_stay[8];
    for (size_t i = 0; i < n_stay; i++)
        rows_stay[i] = rows_of(stay[i]);
    int64_t pending_rows = count("SELECT count(*) FROM outbox WHERE ticket_id = ?1 AND"
                                 " state = 'pending'",
                                 pending);
    assert_true(pending_rows > 0);
    assert_true(rows_of(chatty) > 30);
    gauges_match_tables(__LINE__);
    char *report_before = report_text();

    /* Batches of 10 rows: the chatty ticket alone needs several. */
    struct store_purge_cursor cursor = STORE_PURGE_START;
    struct store_purge_counts total = {0};
    struct slad_error err = {{0}};
    int batches = 0;
    bool more = true;
    while (more) {
        struct store_purge_counts c = {0};
        assert_int_equal(store_purge_batch(fx.store, CUTOFF, 10, &cursor, &c, &more, &err), 0);
        int64_t rows = c.tickets + c.clocks + c.history + c.followups + c.outbox;
        /* The ticket row and its clocks go together after the budget is spent. */
        if (rows > 10 + 1 + TICKET_MAX_CLOCKS)
            fail_msg("batch %d deleted %" PRId64 " rows", batches, rows);
        total.tickets += c.tickets;
        total.clocks += c.clocks;
        total.history += c.history;
        total.followups += c.followups;
        total.outbox += c.outbox;
        total.kept += c.kept;
        gauges_match_tables(__LINE__);
        assert_true(++batches < 1000);
    }
    print_message("%d batches of 10 rows: %" PRId64 " tickets, %" PRId64 " clocks, %" PRId64
                  " history, %" PRId64 " follow-ups, %" PRId64 " notifications; %" PRId64 " kept\n",
                  batches, total.tickets, total.clocks, total.history, total.followups,
                  total.outbox, total.kept);
    assert_true(batches > 3);
    assert_int_equal(total.tickets, (int64_t)n_gone);
    assert_int_equal(total.kept, 3); /* pending, task_open, task_recent */
    assert_int_equal(total.tickets + total.clocks + total.history + total.followups + total.outbox,
                     rows_gone);
    assert_true(total.followups == 1 && total.outbox > 0 && total.history > 30);
    for (size_t i = 0; i < n_gone; i++)
        if (rows_of(gone[i]) != 0)
            fail_msg("ticket %" PRId64 " still has rows", gone[i]);
    for (size_t i = 0; i < n_stay; i++)
        if (rows_of(stay[i]) != rows_stay[i])
            fail_msg("ticket %" PRId64 " lost rows", stay[i]);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE ticket_id = ?1 AND"
                           " state = 'pending'",
                           pending),
                     pending_rows);
    struct gauges c;
    assert_int_equal(store_gauges(fx.store, &c, &err), 0);
    assert_int_equal(c.tickets[TICKET_CLOSED], 5);    /* recent, pending, task x2, later */
    assert_int_equal(c.tickets[TICKET_CANCELLED], 0); /* the one cancelled went */
    char *report_after = report_text();
    assert_string_equal(report_after, report_before);
    free(report_before);
    free(report_after);

    /* A new pass finds nothing more to purge; once the notification is sent, it goes. */
    cursor = STORE_PURGE_START;
    memset(&total, 0, sizeof(total));
    assert_int_equal(store_purge_batch(fx.store, CUTOFF, 100, &cursor, &total, &more, &err), 0);
    assert_false(more);
    assert_int_equal(total.tickets, 0);
    assert_int_equal(total.kept, 3);
    deliver(pending, false);
    cursor = STORE_PURGE_START;
    memset(&total, 0, sizeof(total));
    assert_int_equal(store_purge_batch(fx.store, CUTOFF, 100, &cursor, &total, &more, &err), 0);
    assert_int_equal(total.tickets, 1);
    assert_int_equal(rows_of(pending), 0);
    gauges_match_tables(__LINE__);
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "retention.conf", &fx.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return -1;
    }
    struct slad_error err = {{0}};
    fx.agenda = agenda_new();
    testdb_empty();
    const char *target = testdb_on_postgres() ? testdb_target() : ":memory:";
    if (!fx.agenda || store_open(target, true, &fx.store, &err) < 0 ||
        service_new(fx.conf, fx.store, fx.agenda, NULL, &fx.svc, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    service_free(fx.svc);
    store_close(fx.store);
    agenda_free(fx.agenda);
    conf_free(fx.conf);
    return 0;
}

/* A grouped message (storm grouping) has no ticket: it goes with its last member, and
 * stays while one is left. */
static void test_purge_group_message(void **state)
{
    (void)state;
    int64_t old = closed(2, T0, __LINE__), recent = closed(2, CUTOFF + DAY, __LINE__);
    deliver(old, false);
    deliver(recent, false);
    exec_sql("INSERT INTO outbox (event, channel, recipient, idempotency_key, state,"
             " created_ms, group_id) VALUES ('notification.group', 'log', 'assignee',"
             " 'group/log/1', 'sent', 0, (SELECT max(id) + 1 FROM outbox));"
             "UPDATE outbox SET group_id = (SELECT max(id) FROM outbox)"
             " WHERE ticket_id IS NOT NULL;");
    const char *groups = "SELECT count(*) FROM outbox WHERE group_id = id";
    assert_int_equal(count(groups, 0), 1);
    struct store_purge_cursor cursor = STORE_PURGE_START;
    struct store_purge_counts c = {0};
    struct slad_error err = {{0}};
    bool more = true;
    assert_int_equal(store_purge_batch(fx.store, CUTOFF, 100, &cursor, &c, &more, &err), 0);
    assert_int_equal(c.tickets, 1);
    assert_int_equal(count(groups, 0), 1); /* recent's row is still in it */
    cursor = STORE_PURGE_START;
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_purge_batch(fx.store, CUTOFF + 10 * DAY, 100, &cursor, &c, &more, &err),
                     0);
    assert_int_equal(c.tickets, 1);
    assert_int_equal(count(groups, 0), 0);
    assert_int_equal(count("SELECT count(*) FROM outbox", 0), 0);
    gauges_match_tables(__LINE__);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_group_message, setup, teardown),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
