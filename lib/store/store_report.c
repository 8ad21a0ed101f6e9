/* store_report.c - the SLA report's reads (store.h): the clocks of the tickets reported in
 * the period, streamed into core's report builder, and the follow-ups counted in SQL.
 *
 * The clocks come from one range of the covering index clocks_period (reported_at_ms,
 * name, state, elapsed_ms, policy, team, region, assignee) of schema version 3, which
 * holds copies of the ticket's fields: no join, no table row read, and no GROUP BY (the
 * builder counts in one pass). Follow-ups are counted over the covering index
 * followups_report. */
#include "store.h"
#include "store_internal.h"

#include <errno.h>

#include "report.h"

/* One statement per grouping column (store_prepared caches by address); ?1 from, ?2 to.
 * INDEXED BY keeps the covering index even when the range is the whole table. */
#define REPORT_SQL(column)                                                                         \
    "SELECT " column ", reported_at_ms, name, state, elapsed_ms"                                   \
    " FROM clocks INDEXED BY clocks_period WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2"

static const char *const report_sql[] = {
    [REPORT_BY_POLICY] = REPORT_SQL("policy"), [REPORT_BY_REGION] = REPORT_SQL("region"),
    [REPORT_BY_TEAM] = REPORT_SQL("team"),     [REPORT_BY_ASSIGNEE] = REPORT_SQL("assignee"),
    [REPORT_BY_MONTH] = REPORT_SQL("NULL"),
};

/* ?1 from, ?2 to, ?3 now. */
static const char followup_sql[] =
    "SELECT count(*), coalesce(sum(state = 'done'), 0),"
    " coalesce(sum((state = 'open' AND deadline_ms <= ?3)"
    "  OR (state = 'done' AND done_ms > deadline_ms)), 0)"
    " FROM followups INDEXED BY followups_report"
    " WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2 AND state != 'cancelled'";

static int scan_clocks(struct store *s, const struct report_query *q, struct report_builder *b,
                       struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, report_sql[q->by], reterr);
    if (!st)
        return -EIO;
    struct binder bi = {st, SQLITE_OK};
    bind_int64(&bi, 1, q->from_ms);
    bind_int64(&bi, 2, q->to_ms);
    if (bi.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, bi.rc, "reading the report", reterr);
    }
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct report_clock c = {
            .group = column_text(st, 0),
            .group_len = (size_t)sqlite3_column_bytes(st, 0),
            .reported_at_ms = sqlite3_column_int64(st, 1),
            .clock = column_text(st, 2),
            .clock_len = (size_t)sqlite3_column_bytes(st, 2),
            .state = column_text(st, 3),
            .elapsed_ms = sqlite3_column_int64(st, 4),
        };
        r = report_builder_add(b, &c);
    }
    sqlite3_reset(st);
    if (r < 0)
        return r;
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, "reading the report", reterr);
}

static int count_followups(struct store *s, const struct report_query *q,
                           struct report_followups *ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, followup_sql, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, q->from_ms);
    bind_int64(&b, 2, q->to_ms);
    bind_int64(&b, 3, q->now_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "counting follow-ups", reterr);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ret->total = sqlite3_column_int64(st, 0);
        ret->done = sqlite3_column_int64(st, 1);
        ret->overdue = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_fail(s, rc, "counting follow-ups", reterr);
}

int store_report_sla(struct store *s, const struct report_query *q, struct report *ret,
                     struct slad_error *reterr)
{
    *ret = (struct report){0};
    struct report_builder *b = NULL;
    int r = report_builder_new(q, &b, reterr);
    if (r == 0)
        r = scan_clocks(s, q, b, reterr);
    if (r == 0)
        r = count_followups(s, q, &ret->followups, reterr);
    if (r == 0)
        r = report_builder_finish(b, ret);
    report_builder_free(b);
    if (r < 0)
        report_done(ret);
    return r;
}
