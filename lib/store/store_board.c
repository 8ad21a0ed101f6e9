/* store_board.c - the console board's counts (store.h): open tickets and dead
 * notifications from the counters the triggers keep (schema version 4), at-risk and
 * breached tickets from the clocks' partial indexes (versions 11, 12). On the SQL seam
 * (store_db.h). */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char sql_board_at_risk[] =
    "SELECT count(DISTINCT ticket_id) FROM clocks INDEXED BY clocks_risk"
    " WHERE state = 'running' AND risk_at_ms <= ?1 AND due_at_ms > ?1";
/* A clock running late now: breached, or paused past its due (as breached=true lists);
 * the partial index clocks_late (version 12) holds those clocks only. */
static const char sql_board_breached[] =
    "SELECT count(DISTINCT ticket_id) FROM clocks INDEXED BY clocks_late"
    " WHERE state = 'breached' OR (state = 'paused' AND paused_breached <> 0)";

const char *const store_board_statements[] = {sql_board_at_risk, sql_board_breached, NULL};

/* The count of sql; ?1 = now_ms when the statement numbers it (at_risk). */
static int count_of(struct store *s, const char *sql, bool with_now, int64_t now_ms, int64_t *ret,
                    struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    if (with_now)
        db_bind_int64(st, 1, now_ms);
    return store_db_one(st, "counting the board", ret, reterr);
}

int store_board_summary(struct store *s, int64_t now_ms, struct board_summary *ret,
                        struct slad_error *reterr)
{
    struct gauges g;
    struct board_summary out;
    memset(&out, 0, sizeof(out));
    int r = store_gauges(s, &g, reterr);
    if (r < 0)
        return r;
    for (int i = 0; i < TICKET_STATUS_COUNT; i++)
        if (ticket_status_is_open((enum ticket_status)i))
            out.open += g.tickets[i];
    out.dead_notifications = g.notifications[OUTBOX_DEAD];
    r = count_of(s, sql_board_at_risk, true, now_ms, &out.at_risk, reterr);
    if (r >= 0)
        r = count_of(s, sql_board_breached, false, now_ms, &out.breached, reterr);
    if (r < 0)
        return r;
    *ret = out;
    return 0;
}
