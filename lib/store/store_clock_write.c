/* store_clock_write.c - a ticket's clocks written to the table clocks (store_clock_write.h),
 * on the SQL seam (store_db.h), the same SQL on SQLite and PostgreSQL.
 *
 * A ticket's update writes only the clocks that changed (issue 16). When the rows the
 * database holds are known (store_clocks_known.h: loaded for update or written in this
 * transaction), a clock that is the same is not written at all, one whose changes are all
 * in columns no index reads (a step's fired count) is updated in those columns only, one
 * with an indexed column changed in all of them, and only a new one takes the upsert. When
 * they are not known, every clock takes the upsert, which writes nothing for a clock that
 * is the same but still costs a statement. */
#include "store_clock_write.h"
#include "store_clocks_known.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>

/* The bind parameters of every clock statement: each statement names all of them
 * (PostgreSQL types a parameter by where it is used). */
enum {
    CK_TICKET_ID = 1,
    CK_POS,
    CK_POLICY,
    CK_NAME,
    CK_STATE,
    CK_TARGET,
    CK_ELAPSED,
    CK_SINCE,
    CK_STARTED_AT,
    CK_STOPPED_AT,
    CK_BREACHED_AT,
    CK_DUE_AT,
    CK_PAUSED_BREACHED,
    CK_STOP_EVENT,
    CK_FIRED,
    CK_REPORTED_AT, /* copies for reports (schema version 3) */
    CK_TEAM,
    CK_REGION,
    CK_ASSIGNEE,
    CK_RISK_AT,
};

#define CLOCK_INSERT                                                                               \
    "INSERT INTO clocks (ticket_id, pos, policy, name, state, target_ms, elapsed_ms, since_ms,"    \
    " started_at_ms, stopped_at_ms, breached_at_ms, due_at_ms, paused_breached, stop_event,"       \
    " fired, reported_at_ms, team, region, assignee, risk_at_ms)"                                  \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"                        \
    " ?15, ?16, ?17, ?18, ?19, ?20)"
static const char sql_clock_insert[] = CLOCK_INSERT;
/* The fallback when the row may be missing or its values are not known: a clock whose
 * columns all hold the same values is left alone, one that changed is updated in its row,
 * one that is new is inserted. */
#define CLOCK_WRITTEN                                                                              \
    "pos, policy, state, target_ms, elapsed_ms, since_ms, started_at_ms, stopped_at_ms,"           \
    " breached_at_ms, due_at_ms, paused_breached, stop_event, fired, reported_at_ms, team,"        \
    " region, assignee, risk_at_ms"
#define CLOCK_PROPOSED                                                                             \
    "excluded.pos, excluded.policy, excluded.state, excluded.target_ms, excluded.elapsed_ms,"      \
    " excluded.since_ms, excluded.started_at_ms, excluded.stopped_at_ms,"                          \
    " excluded.breached_at_ms, excluded.due_at_ms, excluded.paused_breached,"                      \
    " excluded.stop_event, excluded.fired, excluded.reported_at_ms, excluded.team,"                \
    " excluded.region, excluded.assignee, excluded.risk_at_ms"
static const char sql_clock_upsert[] = CLOCK_INSERT
    " ON CONFLICT (ticket_id, name) DO UPDATE SET (" CLOCK_WRITTEN ") = (" CLOCK_PROPOSED
    ") WHERE (clocks.pos, clocks.policy, clocks.state, clocks.target_ms,"
    " clocks.elapsed_ms, clocks.since_ms, clocks.started_at_ms, clocks.stopped_at_ms,"
    " clocks.breached_at_ms, clocks.due_at_ms, clocks.paused_breached,"
    " clocks.stop_event, clocks.fired, clocks.reported_at_ms, clocks.team,"
    " clocks.region, clocks.assignee, clocks.risk_at_ms)"
    " IS DISTINCT FROM (" CLOCK_PROPOSED ")";
/* A known row with an indexed column changed: every column, in place. */
static const char sql_clock_update[] =
    "UPDATE clocks SET (" CLOCK_WRITTEN ") = (?2, ?3, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
    " ?14, ?15, ?16, ?17, ?18, ?19, ?20) WHERE ticket_id = ?1 AND name = ?4";
/* A known row whose changes are all in columns no index reads: SQLite rewrites an index
 * (and runs an UPDATE OF trigger) for every column in SET, equal value or not, so the
 * indexed ones stay out of it; the WHERE requires that the row holds their values, so a
 * row that does not matches nothing and sql_clock_update writes it. */
static const char sql_clock_update_plain[] =
    "UPDATE clocks SET (pos, target_ms, since_ms, started_at_ms, stopped_at_ms,"
    " breached_at_ms, due_at_ms, stop_event, fired) = (?2, ?6, ?8, ?9, ?10, ?11, ?12, ?14, ?15)"
    " WHERE ticket_id = ?1 AND name = ?4 AND (policy, state, elapsed_ms, paused_breached,"
    " reported_at_ms, team, region, assignee, risk_at_ms)"
    " IS NOT DISTINCT FROM (?3, ?5, ?7, ?13, ?16, ?17, ?18, ?19, ?20)";
static const char sql_clocks_delete[] = "DELETE FROM clocks WHERE ticket_id = ?1";
/* The clocks the ticket no longer has (a policy changed): any name but ?2..?17, the
 * ticket's (the unused places repeat its first name). Comparisons, not NOT IN: a list
 * of parameters makes SQLite build a temporary b-tree on every run (5 % of a burst). */
static const char sql_clocks_drop_others[] =
    "DELETE FROM clocks WHERE ticket_id = ?1 AND name <> ?2 AND name <> ?3 AND name <> ?4"
    " AND name <> ?5 AND name <> ?6 AND name <> ?7 AND name <> ?8 AND name <> ?9"
    " AND name <> ?10 AND name <> ?11 AND name <> ?12 AND name <> ?13 AND name <> ?14"
    " AND name <> ?15 AND name <> ?16 AND name <> ?17";
_Static_assert(TICKET_MAX_CLOCKS == 16, "sql_clocks_drop_others has a place per clock");

const char *const store_clock_write_statements[] = {
    sql_clock_insert,
    sql_clock_upsert,
    sql_clock_update,
    sql_clock_update_plain,
    sql_clocks_delete,
    sql_clocks_drop_others,
    NULL,
};

/* fired as "1,0,2" with trailing zeros dropped; NULL when no step fired. */
static const char *fired_encode(const struct slaclock *c, char *buf, size_t size)
{
    size_t last = 0;
    for (size_t i = 0; i < SLACLOCK_MAX_STEPS; i++)
        if (c->fired[i])
            last = i + 1;
    if (last == 0)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < last; i++) {
        int n = snprintf(buf + len, size - len, "%s%u", i ? "," : "", (unsigned)c->fired[i]);
        if (n < 0 || (size_t)n >= size - len)
            break; /* cannot happen: 16 numbers of at most 5 digits */
        len += (size_t)n;
    }
    return buf;
}

/* Room for fired_encode's text. */
#define FIRED_SIZE (SLACLOCK_MAX_STEPS * 8)

/* Bind st (a clock statement) to clock i of t; fired must live until st is reset. */
static void clock_bind(struct db_stmt *st, const struct ticket *t, size_t i, char *fired)
{
    const struct slaclock *c = &t->clocks[i];
    db_bind_int64(st, CK_TICKET_ID, t->id);
    db_bind_int64(st, CK_POS, (int64_t)i);
    db_bind_text(st, CK_POLICY, t->policy);
    db_bind_text(st, CK_NAME, c->name);
    db_bind_text(st, CK_STATE, slaclock_state_name(c->state));
    db_bind_int64(st, CK_TARGET, c->target_ms);
    db_bind_int64(st, CK_ELAPSED, c->elapsed_ms);
    store_bind_time(st, CK_SINCE, c->since_ms);
    store_bind_time(st, CK_STARTED_AT, c->started_at_ms);
    store_bind_time(st, CK_STOPPED_AT, c->stopped_at_ms);
    store_bind_time(st, CK_BREACHED_AT, c->breached_at_ms);
    store_bind_time(st, CK_DUE_AT, c->due_at_ms);
    db_bind_int64(st, CK_PAUSED_BREACHED, c->paused_breached);
    db_bind_text(st, CK_STOP_EVENT, c->stop_event >= 0 ? ticket_event_name(c->stop_event) : NULL);
    db_bind_text(st, CK_FIRED, fired_encode(c, fired, FIRED_SIZE));
    db_bind_int64(st, CK_REPORTED_AT, t->reported_at_ms);
    db_bind_text(st, CK_TEAM, t->team);
    db_bind_text(st, CK_REGION, t->region);
    db_bind_text(st, CK_ASSIGNEE, t->assignee);
    store_bind_time(st, CK_RISK_AT, c->state == SLACLOCK_RUNNING ? c->risk_at_ms : SLAD_NO_TIME);
}

/* Run sql for clock i of t; the rows it changed into *ret_changes (NULL: not wanted). */
static int clock_run(struct store *s, const char *sql, const struct ticket *t, size_t i,
                     int64_t *ret_changes, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    char fired[FIRED_SIZE];
    clock_bind(st, t, i, fired);
    store_clock_statement_ran(s);
    if (ret_changes)
        return store_db_run_changes(s, st, "writing a clock", ret_changes, reterr);
    return store_db_write(s, st, "writing a clock", reterr);
}

/* The statement deleting the clocks of t->id that t no longer has, bound; NULL with
 * reterr set on failure. */
static struct db_stmt *clocks_drop_others_bound(struct store *s, const struct ticket *t,
                                                struct slad_error *reterr)
{
    size_t n = t->n_clocks < TICKET_MAX_CLOCKS ? t->n_clocks : TICKET_MAX_CLOCKS;
    struct db_stmt *st = store_stmt(s, n ? sql_clocks_drop_others : sql_clocks_delete, reterr);
    if (!st)
        return NULL;
    db_bind_int64(st, 1, t->id);
    for (size_t i = 0; n && i < TICKET_MAX_CLOCKS; i++)
        db_bind_text(st, 2 + (int)i, t->clocks[i < n ? i : 0].name);
    return st;
}

/* Delete the clocks of t->id that t no longer has. */
static int clocks_drop_others(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    struct db_stmt *st = clocks_drop_others_bound(s, t, reterr);
    return st ? store_db_write(s, st, "updating clocks", reterr) : -EIO;
}

int store_clocks_insert(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    store_clocks_known_forget(s, t->id);
    for (size_t i = 0; i < t->n_clocks && i < TICKET_MAX_CLOCKS; i++) {
        int r = clock_run(s, sql_clock_insert, t, i, NULL, reterr);
        if (r < 0)
            return r;
    }
    store_clocks_known_note(s, t);
    return 0;
}

/* Clock i of t, a known row whose change is `change`: the narrowest statement that
 * matches its row, the upsert when none does (the row is missing after all). */
static int clock_write_known(struct store *s, const struct ticket *t, size_t i,
                             enum clock_change change, struct slad_error *reterr)
{
    int64_t changed = 0;
    int r = 0;
    if (change == CLOCK_PLAIN)
        r = clock_run(s, sql_clock_update_plain, t, i, &changed, reterr);
    if (r >= 0 && changed == 0 && change != CLOCK_NEW)
        r = clock_run(s, sql_clock_update, t, i, &changed, reterr);
    if (r >= 0 && changed == 0)
        r = clock_run(s, sql_clock_upsert, t, i, NULL, reterr);
    return r;
}

int store_clocks_update(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    const struct clocks_known_ticket *k = store_clocks_known_find(s, t->id);
    size_t n = t->n_clocks < TICKET_MAX_CLOCKS ? t->n_clocks : TICKET_MAX_CLOCKS;
    int r = 0;
    if (!k || clocks_known_has_others(k, t))
        r = clocks_drop_others(s, t, reterr);
    bool copies_same = k && clocks_known_copies_same(k, t);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        if (!k) {
            r = clock_run(s, sql_clock_upsert, t, i, NULL, reterr);
            continue;
        }
        enum clock_change change = clocks_known_change(k, t, i, copies_same);
        if (change != CLOCK_SAME)
            r = clock_write_known(s, t, i, change, reterr);
    }
    /* Noted only once every row holds t's clocks; a failed write leaves them unknown. */
    if (r >= 0)
        store_clocks_known_note(s, t);
    else
        store_clocks_known_forget(s, t->id);
    return r;
}

int store_clocks_queue_rewrite(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    /* The rows change behind whatever was known of them. */
    store_clocks_known_forget(s, t->id);
    struct db_stmt *st = clocks_drop_others_bound(s, t, reterr);
    int r = st ? store_db_queue(s, st, "rewriting clocks", reterr) : -EIO;
    st = r < 0 ? NULL : store_stmt(s, sql_clock_upsert, reterr);
    if (r >= 0 && !st)
        r = -EIO;
    for (size_t i = 0; r >= 0 && i < t->n_clocks && i < TICKET_MAX_CLOCKS; i++) {
        char fired[FIRED_SIZE];
        clock_bind(st, t, i, fired);
        store_clock_statement_ran(s);
        r = store_db_queue(s, st, "rewriting a clock", reterr);
    }
    return r;
}
