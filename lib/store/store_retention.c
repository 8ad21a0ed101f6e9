/* store_retention.c - purging old closed and cancelled tickets (store_retention.h).
 *
 * Candidates come from the partial index tickets_retention (schema version 5), oldest
 * last event first. A purged ticket's rows go child table by child table, each in
 * chunks that fit the batch (history can be long), and the ticket row last: until then
 * the ticket is a candidate again at the same place, so a batch that stops halfway
 * resumes it. The foreign keys' ON DELETE CASCADE would do it in one statement, but
 * unbounded and without counts. On the SQL seam (store_db.h). */
#include "store_retention.h"

#include <errno.h>

#include "store_clocks_known.h"
#include "store_db.h"
#include "store_internal.h"

/* ?1 cutoff, (?2, ?3) the cursor. */
static const char sql_next[] =
    "SELECT id, last_event_ms FROM tickets INDEXED BY tickets_retention"
    " WHERE status IN ('closed', 'cancelled') AND last_event_ms < ?1"
    " AND (last_event_ms, id) > (?2, ?3) ORDER BY last_event_ms, id LIMIT 1";
/* Whether something keeps ticket ?1 (?2 cutoff). */
static const char sql_kept[] =
    "SELECT EXISTS (SELECT 1 FROM followups WHERE ticket_id = ?1"
    "  AND (state = 'open' OR done_ms >= ?2))"
    " OR EXISTS (SELECT 1 FROM outbox WHERE ticket_id = ?1 AND state IN ('pending', 'sending'))";
/* At most ?2 rows of ticket ?1. */
static const char sql_history[] = "DELETE FROM history WHERE id IN"
                                  " (SELECT id FROM history WHERE ticket_id = ?1 LIMIT ?2)";
/* The grouped messages (no ticket) whose members left are those of ticket ?1 alone (?1
 * is never NULL: "IS NULL OR !=" is SQLite's IS NOT in both dialects). */
static const char sql_groups[] =
    "DELETE FROM outbox WHERE id IN (SELECT DISTINCT m.group_id FROM outbox AS m"
    " WHERE m.ticket_id = ?1 AND m.group_id != m.id AND NOT EXISTS (SELECT 1 FROM outbox AS o"
    "  WHERE o.group_id = m.group_id AND o.id != m.group_id"
    "  AND (o.ticket_id IS NULL OR o.ticket_id != ?1))"
    " LIMIT ?2)";
static const char sql_outbox[] = "DELETE FROM outbox WHERE id IN"
                                 " (SELECT id FROM outbox WHERE ticket_id = ?1 LIMIT ?2)";
static const char sql_followups[] = "DELETE FROM followups WHERE id IN"
                                    " (SELECT id FROM followups WHERE ticket_id = ?1 LIMIT ?2)";
static const char sql_clocks[] = "DELETE FROM clocks WHERE ticket_id = ?1";
static const char sql_labels[] = "DELETE FROM ticket_labels WHERE ticket_id = ?1";
static const char sql_ticket[] = "DELETE FROM tickets WHERE id = ?1";

/* The next candidate after *cursor into *ret_id / *ret_last_ms; -ENOENT when none. */
static int next_candidate(struct store *s, int64_t cutoff_ms, const struct store_purge_cursor *c,
                          int64_t *ret_id, int64_t *ret_last_ms, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_next, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, cutoff_ms);
    db_bind_int64(st, 2, c->last_event_ms);
    db_bind_int64(st, 3, c->id);
    int r = db_step(st, "finding tickets past retention", reterr);
    if (r == 1) {
        *ret_id = db_column_int64(st, 0);
        *ret_last_ms = db_column_int64(st, 1);
        r = 0;
    } else if (r == 0) {
        r = -ENOENT;
    }
    db_reset(st);
    return r;
}

static int is_kept(struct store *s, int64_t id, int64_t cutoff_ms, bool *ret,
                   struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_kept, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, cutoff_ms);
    int64_t kept = 0;
    int r = store_db_one(st, "checking a ticket past retention", &kept, reterr);
    *ret = kept != 0;
    return r;
}

/* Run a DELETE of sql for ticket id (?2 limit when limit > 0); *ret_n rows went. */
static int delete_rows(struct store *s, const char *sql, int64_t id, size_t limit, int64_t *ret_n,
                       struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    if (limit)
        db_bind_limit(st, 2, limit);
    int r = store_db_run(s, st, "purging a ticket past retention", reterr);
    if (r == 0)
        *ret_n = db_changes(store_dbh(s));
    return r;
}

/* Purge ticket id within *budget rows; *ret_done false when the budget ran out first. */
static int purge_ticket(struct store *s, int64_t id, size_t *budget,
                        struct store_purge_counts *counts, bool *ret_done,
                        struct slad_error *reterr)
{
    const struct {
        const char *sql;
        int64_t *count;
    } children[] = {
        {sql_history, &counts->history},
        {sql_groups, &counts->outbox},
        {sql_outbox, &counts->outbox},
        {sql_followups, &counts->followups},
    };
    *ret_done = false;
    for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
        /* A ticket reached with the budget spent (its own candidate row took the last)
         * still moves by a row, so that a batch always makes progress. */
        size_t limit = *budget > 0 ? *budget : 1;
        int64_t n = 0;
        int r = delete_rows(s, children[i].sql, id, limit, &n, reterr);
        if (r < 0)
            return r;
        *children[i].count += n;
        if ((size_t)n >= limit) {
            *budget = 0;
            return 0; /* maybe more rows: this ticket again in the next batch */
        }
        *budget -= (size_t)n;
    }
    int64_t n = 0;
    store_clocks_known_forget(s, id);
    int r = delete_rows(s, sql_clocks, id, 0, &n, reterr);
    if (r < 0)
        return r;
    counts->clocks += n;
    r = delete_rows(s, sql_labels, id, 0, &n, reterr); /* at most TICKET_MAX_LABELS */
    if (r < 0)
        return r;
    r = delete_rows(s, sql_ticket, id, 0, &n, reterr);
    if (r < 0)
        return r;
    counts->tickets += n;
    *budget -= (size_t)n < *budget ? (size_t)n : *budget;
    *ret_done = true;
    return 0;
}

int store_purge_batch(struct store *s, int64_t cutoff_ms, size_t max_rows,
                      struct store_purge_cursor *cursor, struct store_purge_counts *counts,
                      bool *ret_more, struct slad_error *reterr)
{
    size_t budget = max_rows ? max_rows : 1;
    *ret_more = true;
    while (budget > 0) {
        int64_t id = 0, last_ms = 0;
        int r = next_candidate(s, cutoff_ms, cursor, &id, &last_ms, reterr);
        if (r == -ENOENT) {
            *ret_more = false;
            return 0;
        }
        if (r < 0)
            return r;
        budget--;
        bool kept = false;
        r = is_kept(s, id, cutoff_ms, &kept, reterr);
        if (r < 0)
            return r;
        bool done = true;
        if (kept)
            counts->kept++;
        else if ((r = purge_ticket(s, id, &budget, counts, &done, reterr)) < 0)
            return r;
        if (!done)
            return 0;
        *cursor = (struct store_purge_cursor){last_ms, id};
    }
    return 0;
}
