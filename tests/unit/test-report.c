/* test-report.c - the SLA report (report.h) over a store on ":memory:" (under meson test
 * report-postgres, a PostgreSQL database emptied for each store) filled through the
 * store's own write path: counts per group and clock, cancelled clocks left out, exact
 * mean and nearest-rank p90, the [from, to) range, month boundaries in UTC and in
 * Asia/Shanghai, follow-up completion and overdue figures, and bad queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "store.h"
#include "testdb.h"
#include "store_followup.h"
#include "ticket.h"

#define T0     INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define S      INT64_C(1000)
#define HOUR   (3600 * S)
#define DAY    (24 * HOUR)
#define FEB_1  INT64_C(1769904000000) /* 2026-02-01T00:00:00Z */
#define MAR_1  INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define CST_MS (8 * HOUR)             /* Asia/Shanghai is UTC+8, no DST */

static struct store *open_mem(void)
{
    struct store *s = NULL;
    struct slad_error err = {{0}};
    testdb_empty();
    int r = store_open(testdb_on_postgres() ? testdb_target() : ":memory:", true, &s, &err);
    if (r < 0)
        fail_msg("store_open: %d %s", r, err.msg);
    return s;
}

struct clock_spec {
    const char *name;
    enum slaclock_state state;
    int64_t elapsed_ms;
};

/* Store a ticket of team (NULL: none) and policy reported at reported_ms with up to two
 * clocks; returns its id. */
static int64_t add_ticket(struct store *s, const char *team, const char *policy,
                          int64_t reported_ms, const struct clock_spec *clocks, size_t n)
{
    struct ticket t;
    ticket_init(&t);
    assert_int_equal(ticket_set_string(&t.title, "report test"), 0);
    if (team)
        assert_int_equal(ticket_set_string(&t.team, team), 0);
    assert_int_equal(ticket_set_string(&t.region, "city"), 0);
    assert_int_equal(ticket_set_string(&t.policy, policy), 0);
    t.severity = 2;
    t.reported_at_ms = t.created_at_ms = t.updated_at_ms = reported_ms;
    t.n_clocks = n;
    for (size_t i = 0; i < n; i++) {
        struct slaclock *c = &t.clocks[i];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", clocks[i].name);
        c->state = clocks[i].state;
        c->target_ms = HOUR;
        c->elapsed_ms = clocks[i].elapsed_ms;
        c->since_ms = c->started_at_ms = reported_ms;
        c->stopped_at_ms = c->breached_at_ms = c->due_at_ms = SLAD_NO_TIME;
        c->stop_event = -1;
    }
    struct slad_error err = {{0}};
    int r = store_ticket_insert(s, &t, SLAD_NO_TIME, &err);
    if (r < 0)
        fail_msg("store_ticket_insert: %d %s", r, err.msg);
    int64_t id = t.id;
    ticket_done(&t);
    return id;
}

static void add_clock_ticket(struct store *s, const char *team, int64_t reported_ms,
                             enum slaclock_state state, int64_t elapsed_ms)
{
    struct clock_spec c = {"response", state, elapsed_ms};
    add_ticket(s, team, "standard", reported_ms, &c, 1);
}

static void run(struct store *s, const struct report_query *q, struct report *ret)
{
    struct slad_error err = {{0}};
    int r = store_report_sla(s, q, ret, &err);
    if (r < 0)
        fail_msg("store_report_sla: %d %s", r, err.msg);
}

static const struct report_row *find_row(const struct report *rep, const char *group,
                                         const char *clock)
{
    for (size_t i = 0; i < rep->n_rows; i++) {
        const struct report_row *r = &rep->rows[i];
        bool same_group = group ? r->group && strcmp(r->group, group) == 0 : !r->group;
        if (same_group && strcmp(r->clock, clock) == 0)
            return r;
    }
    fail_msg("no row (%s, %s)", group ? group : "null", clock);
    return NULL;
}

static void test_counts_mean_p90(void **state)
{
    (void)state;
    struct store *s = open_mem();
    /* north: met at 10, 20, ... 100 s, one missed at 500 s, two running, one paused, one
     * pending, one breached, one cancelled (not counted). */
    for (int i = 1; i <= 10; i++)
        add_clock_ticket(s, "north", T0 + i * S, SLACLOCK_MET, i * 10 * S);
    add_clock_ticket(s, "north", T0, SLACLOCK_MISSED, 500 * S);
    add_clock_ticket(s, "north", T0, SLACLOCK_RUNNING, 5 * S);
    add_clock_ticket(s, "north", T0, SLACLOCK_RUNNING, 6 * S);
    add_clock_ticket(s, "north", T0, SLACLOCK_PAUSED, 7 * S);
    add_clock_ticket(s, "north", T0, SLACLOCK_PENDING, 0);
    add_clock_ticket(s, "north", T0, SLACLOCK_BREACHED, 2 * HOUR);
    add_clock_ticket(s, "north", T0, SLACLOCK_CANCELLED, 0);
    /* south: only open clocks; no team: one met. */
    add_clock_ticket(s, "south", T0, SLACLOCK_RUNNING, S);
    add_clock_ticket(s, NULL, T0, SLACLOCK_MET, 1234);
    /* Two clocks on one ticket land in two rows. */
    struct clock_spec two[] = {{"response", SLACLOCK_MET, 30 * S},
                               {"resolution", SLACLOCK_MISSED, 2 * HOUR}};
    add_ticket(s, "west", "standard", T0, two, 2);

    struct report rep;
    struct report_query q = {.from_ms = T0, .to_ms = T0 + DAY, .by = REPORT_BY_TEAM, .now_ms = T0};
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 5);
    /* Sorted by group, the tickets without a team last, then by clock name. */
    assert_string_equal(rep.rows[0].group, "north");
    assert_string_equal(rep.rows[1].group, "south");
    assert_string_equal(rep.rows[2].group, "west");
    assert_string_equal(rep.rows[2].clock, "resolution");
    assert_string_equal(rep.rows[3].clock, "response");
    assert_null(rep.rows[4].group);

    const struct report_row *n = find_row(&rep, "north", "response");
    assert_int_equal(n->total, 16);
    assert_int_equal(n->met, 10);
    assert_int_equal(n->missed, 1);
    assert_int_equal(n->open, 5);
    assert_true(n->has_times);
    /* (10 + 20 + ... + 100 + 500) / 11 = 95.4545... s */
    assert_int_equal(n->mean_ms, 95455);
    /* 11 values: rank ceil(9.9) = 10, the 10th smallest is 100 s. */
    assert_int_equal(n->p90_ms, 100 * S);

    const struct report_row *so = find_row(&rep, "south", "response");
    assert_int_equal(so->total, 1);
    assert_int_equal(so->open, 1);
    assert_false(so->has_times);

    const struct report_row *none = find_row(&rep, NULL, "response");
    assert_int_equal(none->met, 1);
    assert_int_equal(none->mean_ms, 1234);
    assert_int_equal(none->p90_ms, 1234);

    const struct report_row *w = find_row(&rep, "west", "resolution");
    assert_int_equal(w->missed, 1);
    assert_int_equal(w->p90_ms, 2 * HOUR);
    report_done(&rep);
    store_close(s);
}

/* p90 by nearest rank on 20 values given in a shuffled order: the 18th smallest. */
static void test_p90_rank(void **state)
{
    (void)state;
    struct store *s = open_mem();
    static const int order[20] = {7,  19, 3,  12, 1,  20, 15, 9,  4, 18,
                                  11, 2,  16, 6,  14, 10, 5,  17, 8, 13};
    for (int i = 0; i < 20; i++)
        add_clock_ticket(s, "north", T0, SLACLOCK_MET, order[i] * S);
    struct report rep;
    struct report_query q = {.from_ms = T0, .to_ms = T0 + 1, .by = REPORT_BY_TEAM, .now_ms = T0};
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 1);
    assert_int_equal(rep.rows[0].p90_ms, 18 * S);
    assert_int_equal(rep.rows[0].mean_ms, 10500);
    report_done(&rep);
    store_close(s);
}

/* [from, to): a ticket reported at `to` is out, one at `from` is in. */
static void test_range(void **state)
{
    (void)state;
    struct store *s = open_mem();
    add_clock_ticket(s, "north", T0 - 1, SLACLOCK_MET, S);
    add_clock_ticket(s, "north", T0, SLACLOCK_MET, S);
    add_clock_ticket(s, "north", T0 + HOUR - 1, SLACLOCK_MISSED, S);
    add_clock_ticket(s, "north", T0 + HOUR, SLACLOCK_MET, S);
    struct report rep;
    struct report_query q = {.from_ms = T0, .to_ms = T0 + HOUR, .by = REPORT_BY_POLICY};
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 1);
    assert_string_equal(rep.rows[0].group, "standard");
    assert_int_equal(rep.rows[0].met, 1);
    assert_int_equal(rep.rows[0].missed, 1);
    report_done(&rep);

    /* Nothing in range: no rows. */
    q.from_ms = T0 + 2 * HOUR;
    q.to_ms = T0 + 3 * HOUR;
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 0);
    assert_int_equal(rep.followups.total, 0);
    report_done(&rep);
    store_close(s);
}

static void test_months(void **state)
{
    (void)state;
    struct store *s = open_mem();
    add_clock_ticket(s, "north", FEB_1 - CST_MS - 1, SLACLOCK_MET, S); /* Jan in both */
    add_clock_ticket(s, "north", FEB_1 - CST_MS, SLACLOCK_MET, S);     /* Feb 1 00:00 CST */
    add_clock_ticket(s, "north", FEB_1 - 1, SLACLOCK_MET, S);          /* Jan 31 23:59 UTC */
    add_clock_ticket(s, "north", FEB_1, SLACLOCK_MISSED, S);
    add_clock_ticket(s, "north", MAR_1 - 1, SLACLOCK_MISSED, S);
    add_clock_ticket(s, "north", MAR_1, SLACLOCK_RUNNING, S);

    struct report rep;
    struct report_query q = {.from_ms = T0, .to_ms = MAR_1 + DAY, .by = REPORT_BY_MONTH};
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 3);
    assert_string_equal(rep.rows[0].group, "2026-01");
    assert_int_equal(rep.rows[0].met, 3);
    assert_string_equal(rep.rows[1].group, "2026-02");
    assert_int_equal(rep.rows[1].missed, 2);
    assert_int_equal(rep.rows[1].met, 0);
    assert_string_equal(rep.rows[2].group, "2026-03");
    assert_int_equal(rep.rows[2].open, 1);
    report_done(&rep);

    q.tz = "Asia/Shanghai";
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 3);
    assert_string_equal(rep.rows[0].group, "2026-01");
    assert_int_equal(rep.rows[0].total, 1);
    assert_string_equal(rep.rows[1].group, "2026-02");
    assert_int_equal(rep.rows[1].met, 2);
    assert_int_equal(rep.rows[1].missed, 1);
    /* Mar 1 07:59:59.999 in Shanghai: March there, February in UTC. */
    assert_string_equal(rep.rows[2].group, "2026-03");
    assert_int_equal(rep.rows[2].missed, 1);
    assert_int_equal(rep.rows[2].open, 1);
    report_done(&rep);

    /* from in the middle of a month (local): that month is the first group. */
    q.from_ms = FEB_1 - CST_MS - 1;
    q.to_ms = FEB_1 - CST_MS;
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 1);
    assert_string_equal(rep.rows[0].group, "2026-01");
    report_done(&rep);
    store_close(s);
}

static void add_followup(struct store *s, int64_t ticket_id, const char *name,
                         enum followup_state st, int64_t deadline_ms, int64_t done_ms)
{
    struct followup f = {.ticket_id = ticket_id,
                         .created_ms = T0,
                         .due_ms = T0,
                         .deadline_ms = deadline_ms,
                         .done_ms = SLAD_NO_TIME};
    snprintf(f.name, sizeof(f.name), "%s", name);
    snprintf(f.owner, sizeof(f.owner), "supervisor");
    struct slad_error err = {{0}};
    assert_int_equal(store_followup_insert(s, &f, SLAD_NO_TIME, &err), 0);
    if (st != FOLLOWUP_OPEN) {
        f.state = st;
        f.done_ms = done_ms;
        f.outcome = st == FOLLOWUP_DONE ? FOLLOWUP_SATISFIED : FOLLOWUP_NO_OUTCOME;
        assert_int_equal(store_followup_update(s, &f, SLAD_NO_TIME, &err), 0);
    }
}

static void test_followups(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct clock_spec c = {"response", SLACLOCK_MET, S};
    int64_t in = add_ticket(s, "north", "standard", T0, &c, 1);
    int64_t out = add_ticket(s, "north", "standard", T0 + 2 * DAY, &c, 1);
    int64_t now = T0 + DAY;
    add_followup(s, in, "a", FOLLOWUP_DONE, T0 + HOUR, T0 + HOUR);         /* done in time */
    add_followup(s, in, "b", FOLLOWUP_DONE, T0 + HOUR, T0 + HOUR + 1);     /* done late */
    add_followup(s, in, "c", FOLLOWUP_OPEN, now, SLAD_NO_TIME);            /* deadline now */
    add_followup(s, in, "d", FOLLOWUP_OPEN, now + 1, SLAD_NO_TIME);        /* still in time */
    add_followup(s, in, "e", FOLLOWUP_CANCELLED, T0 + HOUR, SLAD_NO_TIME); /* not counted */
    add_followup(s, out, "a", FOLLOWUP_DONE, T0 + HOUR, T0);               /* out of range */

    struct report rep;
    struct report_query q = {
        .from_ms = T0, .to_ms = T0 + DAY, .by = REPORT_BY_POLICY, .now_ms = now};
    run(s, &q, &rep);
    assert_int_equal(rep.followups.total, 4);
    assert_int_equal(rep.followups.done, 2);
    assert_int_equal(rep.followups.overdue, 2);
    assert_int_equal(rep.n_rows, 1);
    report_done(&rep);
    store_close(s);
}

/* The clocks carry copies of the ticket's team (schema version 3): an update moves them. */
static void test_update_moves_the_copies(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct clock_spec c = {"response", SLACLOCK_MET, S};
    int64_t id = add_ticket(s, "north", "standard", T0, &c, 1);
    struct ticket t;
    struct slad_error err = {{0}};
    assert_int_equal(store_ticket_load(s, id, &t, &err), 0);
    assert_int_equal(ticket_set_string(&t.team, "south"), 0);
    assert_int_equal(ticket_set_string(&t.region, NULL), 0);
    t.clocks[0].state = SLACLOCK_MISSED;
    assert_int_equal(store_ticket_update(s, &t, SLAD_NO_TIME, &err), 0);
    ticket_done(&t);

    struct report rep;
    struct report_query q = {.from_ms = T0, .to_ms = T0 + 1, .by = REPORT_BY_TEAM};
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 1);
    assert_string_equal(rep.rows[0].group, "south");
    assert_int_equal(rep.rows[0].missed, 1);
    report_done(&rep);
    q.by = REPORT_BY_REGION;
    run(s, &q, &rep);
    assert_int_equal(rep.n_rows, 1);
    assert_null(rep.rows[0].group);
    report_done(&rep);
    store_close(s);
}

static void test_bad_queries(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct report rep;
    struct slad_error err = {{0}};
    struct report_query q = {.from_ms = T0, .to_ms = T0, .by = REPORT_BY_TEAM};
    assert_int_equal(store_report_sla(s, &q, &rep, &err), -EINVAL);
    assert_int_equal(rep.n_rows, 0);
    report_done(&rep);
    q.to_ms = T0 + DAY;
    q.by = REPORT_BY_MONTH;
    q.tz = "Mars/Olympus_Mons";
    assert_int_equal(store_report_sla(s, &q, &rep, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "Mars/Olympus_Mons"));
    report_done(&rep);

    assert_int_equal(report_by_from_name("policy"), REPORT_BY_POLICY);
    assert_int_equal(report_by_from_name("month"), REPORT_BY_MONTH);
    assert_int_equal(report_by_from_name("clock"), -1);
    store_close(s);
}

/* A report's plain-date from/to: local midnight in the zone, also across a DST change. */
static void test_day_start(void **state)
{
    (void)state;
    struct slad_error err = {""};
    int64_t ms;
    struct calendar_date d = {2026, 12, 1};
    assert_int_equal(report_day_start(&d, "Asia/Shanghai", &ms, &err), 0);
    assert_int_equal(ms, INT64_C(1796083200000) - 8 * 3600000); /* 2026-11-30T16:00Z */
    assert_int_equal(report_day_start(&d, NULL, &ms, &err), 0);
    assert_int_equal(ms, INT64_C(1796083200000)); /* 2026-12-01T00:00Z */
    d = (struct calendar_date){2026, 3, 9};       /* the day after New York's spring change */
    assert_int_equal(report_day_start(&d, "America/New_York", &ms, &err), 0);
    assert_int_equal(ms, INT64_C(1773028800000)); /* 2026-03-09T04:00Z (EDT) */
    assert_int_equal(report_day_start(&d, "Mars/Olympus", &ms, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "Mars/Olympus"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_mean_p90),
        cmocka_unit_test(test_p90_rank),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_day_start),
        cmocka_unit_test(test_followups),
        cmocka_unit_test(test_update_moves_the_copies),
        cmocka_unit_test(test_bad_queries),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
