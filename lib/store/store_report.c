/* store_report.c - the SLA report's reads (store.h): the clocks of the tickets reported in
 * the period, streamed into core's report builder, and the follow-ups counted in SQL.
 *
 * The clocks come from one range of the covering index clocks_period (reported_at_ms,
 * name, state, elapsed_ms, policy, team, region, assignee) of schema version 3, which
 * holds copies of the ticket's fields: no join, no table row read, and no GROUP BY (the
 * builder counts in one pass). Follow-ups are counted over the covering index
 * followups_report. On the SQL seam (store_db.h). */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <string.h>

#include "report.h"

/* One statement per grouping column (store_stmt caches by address); ?1 from, ?2 to.
 * INDEXED BY keeps the covering index even when the range is the whole table. */
#define REPORT_SQL(column)                                                                         \
    "SELECT " column ", reported_at_ms, name, state, elapsed_ms"                                   \
    " FROM clocks INDEXED BY clocks_period WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2"

static const char *const report_sql[] = {
    [REPORT_BY_POLICY] = REPORT_SQL("policy"), [REPORT_BY_REGION] = REPORT_SQL("region"),
    [REPORT_BY_TEAM] = REPORT_SQL("team"),     [REPORT_BY_ASSIGNEE] = REPORT_SQL("assignee"),
    [REPORT_BY_MONTH] = REPORT_SQL("NULL"),
};

/* ?1 from, ?2 to, ?3 now. CASE, not a sum of comparisons: PostgreSQL's are booleans. */
static const char followup_sql[] =
    "SELECT count(*), coalesce(sum(CASE WHEN state = 'done' THEN 1 ELSE 0 END), 0),"
    " coalesce(sum(CASE WHEN (state = 'open' AND deadline_ms <= ?3)"
    "  OR (state = 'done' AND done_ms > deadline_ms) THEN 1 ELSE 0 END), 0)"
    " FROM followups INDEXED BY followups_report"
    " WHERE reported_at_ms >= ?1 AND reported_at_ms < ?2 AND state != 'cancelled'";

static int scan_clocks(struct store *s, const struct report_query *q, struct report_builder *b,
                       struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, report_sql[q->by], reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, q->from_ms);
    db_bind_int64(st, 2, q->to_ms);
    int rc = 0, r = 0;
    while (r == 0 && (rc = db_step(st, "reading the report", reterr)) == 1) {
        const char *group = db_column_text(st, 0);
        const char *clock = db_column_text(st, 2);
        struct report_clock c = {
            .group = group,
            .group_len = group ? strlen(group) : 0,
            .reported_at_ms = db_column_int64(st, 1),
            .clock = clock,
            .clock_len = clock ? strlen(clock) : 0,
            .state = db_column_text(st, 3),
            .elapsed_ms = db_column_int64(st, 4),
        };
        r = report_builder_add(b, &c);
    }
    db_reset(st);
    if (r < 0)
        return r;
    return rc < 0 ? rc : 0;
}

static int count_followups(struct store *s, const struct report_query *q,
                           struct report_followups *ret, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, followup_sql, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, q->from_ms);
    db_bind_int64(st, 2, q->to_ms);
    db_bind_int64(st, 3, q->now_ms);
    int r = db_step(st, "counting follow-ups", reterr);
    if (r == 1) {
        ret->total = db_column_int64(st, 0);
        ret->done = db_column_int64(st, 1);
        ret->overdue = db_column_int64(st, 2);
    }
    db_reset(st);
    if (r == 0)
        return slad_error_set(reterr, EIO, "database: counting follow-ups returned no row");
    return r < 0 ? r : 0;
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
