/* store_ticket.c - tickets with their clocks in the tables tickets and clocks (store.h):
 * insert, update, load, find, list, the agenda's instants and repeat faults. On the SQL
 * seam (store_db.h). */
#include "store.h"
#include "store_clock_write.h"
#include "store_clocks_known.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ticket columns in the order of bind parameters ?1..?26 (insert and update) and of
 * result columns 1..26 (column 0 is id). The insert numbers ?1..?29, the update ?1..?30
 * (PostgreSQL cannot type a parameter a statement does not use). */
#define TICKET_COLUMNS                                                                             \
    "source, external_id, title, description, severity, grade, region, team, assignee,"            \
    " customer_name, customer_phone, customer_address, device_model, device_serial,"               \
    " fault_code, reported_at_ms, appointment_at_ms, created_at_ms, updated_at_ms,"                \
    " status, held_from, policy, reopen_count, repeat_count, event_last, reminders_fired"

enum {
    TC_SOURCE = 1,
    TC_EXTERNAL_ID,
    TC_TITLE,
    TC_DESCRIPTION,
    TC_SEVERITY,
    TC_GRADE,
    TC_REGION,
    TC_TEAM,
    TC_ASSIGNEE,
    TC_CUSTOMER_NAME,
    TC_CUSTOMER_PHONE,
    TC_CUSTOMER_ADDRESS,
    TC_DEVICE_MODEL,
    TC_DEVICE_SERIAL,
    TC_FAULT_CODE,
    TC_REPORTED_AT,
    TC_APPOINTMENT_AT,
    TC_CREATED_AT,
    TC_UPDATED_AT,
    TC_STATUS,
    TC_HELD_FROM,
    TC_POLICY,
    TC_REOPEN_COUNT,
    TC_REPEAT_COUNT,
    TC_EVENT_LAST,
    TC_REMINDERS_FIRED,
    TC_NEXT_MS,    /* bind only */
    TC_LAST_EVENT, /* bind only */
    TC_DUE,        /* bind only */
    TC_ID,         /* update only */
};

/* ?1 after_id, ?2 status, ?3 policy, ?4 team, ?5 breached (0/1), ?6 open_only, ?7 limit,
 * ?8 source, ?9 external_id, ?10 the only id (the origin's, found first by its index),
 * ?11 missed (0/1), ?12 assignee, ?13 severity, ?14 region, ?15 q (lower case: a substring
 * of the searched fields in lower case), ?16 due_before, ?17 at_risk (0/1), ?18 now (for
 * at_risk), ?19 after_due (sort=due: the cursor is (due_ms, id) > (?19, ?1)).
 * A "running" clock of the board counts (running or breached); one at risk runs with less
 * than a quarter of its target left (risk_at_ms, computed by the clock) and is not due.
 * Written for both dialects (doc/POSTGRESQL.md): a parameter is cast before IS NULL
 * (PostgreSQL cannot type it otherwise), a flag compared to EXISTS is `(flag = 1)` (a
 * boolean there, 0/1 in SQLite), paused_breached is `!= 0` (a BIGINT there), and instr is
 * a function schema_pg.c adds (strpos). */
#define TICKET_WHERE                                                                               \
    " AND (CAST(?2 AS TEXT) IS NULL OR t.status = ?2)"                                             \
    " AND (CAST(?3 AS TEXT) IS NULL OR t.policy = ?3)"                                             \
    " AND (CAST(?4 AS TEXT) IS NULL OR t.team = ?4)"                                               \
    " AND (CAST(?5 AS BIGINT) IS NULL OR (CAST(?5 AS BIGINT) = 1) = EXISTS (SELECT 1 FROM clocks " \
    "c"                                                                                            \
    "  WHERE c.ticket_id = t.id"                                                                   \
    "  AND (c.state = 'breached' OR (c.state = 'paused' AND c.paused_breached != 0))))"            \
    " AND (CAST(?11 AS BIGINT) IS NULL OR (CAST(?11 AS BIGINT) = 1) = EXISTS (SELECT 1 FROM"       \
    "  clocks c WHERE c.ticket_id = t.id AND c.state = 'missed'))"                                 \
    " AND (CAST(?6 AS BIGINT) IS NULL OR t.status NOT IN ('resolved', 'closed', 'cancelled'))"     \
    " AND (CAST(?8 AS TEXT) IS NULL OR t.source = ?8)"                                             \
    " AND (CAST(?9 AS TEXT) IS NULL OR t.external_id = ?9)"                                        \
    " AND (CAST(?10 AS BIGINT) IS NULL OR t.id = ?10)"                                             \
    " AND (CAST(?12 AS TEXT) IS NULL OR t.assignee = ?12)"                                         \
    " AND (CAST(?13 AS BIGINT) IS NULL OR t.severity = ?13)"                                       \
    " AND (CAST(?14 AS TEXT) IS NULL OR t.region = ?14)"                                           \
    " AND (CAST(?15 AS TEXT) IS NULL OR instr(lower(t.title), ?15) > 0"                            \
    "  OR instr(lower(coalesce(t.customer_name, '')), ?15) > 0"                                    \
    "  OR instr(lower(coalesce(t.customer_phone, '')), ?15) > 0"                                   \
    "  OR instr(lower(coalesce(t.device_serial, '')), ?15) > 0"                                    \
    "  OR instr(lower(coalesce(t.external_id, '')), ?15) > 0)"                                     \
    " AND (CAST(?16 AS BIGINT) IS NULL OR t.due_ms < ?16)"                                         \
    " AND (CAST(?17 AS BIGINT) IS NULL OR (CAST(?17 AS BIGINT) = 1) = EXISTS (SELECT 1 FROM"       \
    "  clocks c WHERE c.ticket_id = t.id"                                                          \
    "  AND c.state = 'running' AND c.risk_at_ms <= ?18 AND c.due_at_ms > ?18))"

/* In id order, or (sort=due) by the earliest due instant of the ticket's running clocks
 * (tickets.due_ms, TICKET_NO_DUE when none: last), through the index tickets_due. */
#define TICKET_FILTER                                                                              \
    " WHERE t.id > ?1 AND CAST(?19 AS BIGINT) IS NULL" TICKET_WHERE " ORDER BY t.id LIMIT ?7"
#define TICKET_FILTER_DUE                                                                          \
    " WHERE (t.due_ms, t.id) > (?19, ?1)" TICKET_WHERE " ORDER BY t.due_ms, t.id LIMIT ?7"

#define CLOCK_COLUMNS                                                                              \
    "name, state, target_ms, elapsed_ms, since_ms, started_at_ms, stopped_at_ms,"                  \
    " breached_at_ms, due_at_ms, paused_breached, stop_event, fired"

static const char sql_ticket_insert[] =
    "INSERT INTO tickets (" TICKET_COLUMNS ", next_ms, last_event_ms, due_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29) RETURNING id";
/* A ticket's update in three shapes, tried in this order until one matches the row
 * (store_ticket_update). SQLite rewrites every index whose columns (or whose partial
 * WHERE's columns) are in an UPDATE's SET list, and runs the UPDATE OF triggers of
 * those columns, even when the values stay the same: a step firing, which changes
 * neither the intake key nor the status nor the due instant, rewrote the unique
 * (source, external_id), tickets_repeat, tickets_due and tickets_retention keys and ran
 * count_ticket_update. The narrower shapes leave those columns out of SET and require
 * instead, in WHERE, that the row already holds the values: when it does not, they
 * match no row and the next, wider shape writes them. Every parameter ?1..?30 appears
 * in each shape (PostgreSQL types a parameter by where it is used). */
#define TICKET_SET_PLAIN                                                                           \
    "UPDATE tickets SET title = ?3, description = ?4,"                                             \
    " severity = ?5, grade = ?6, region = ?7, team = ?8, assignee = ?9,"                           \
    " customer_name = ?10, customer_phone = ?11, customer_address = ?12,"                          \
    " device_model = ?13, appointment_at_ms = ?17, created_at_ms = ?18,"                           \
    " updated_at_ms = ?19, held_from = ?21, policy = ?22,"                                         \
    " reopen_count = ?23, repeat_count = ?24, event_last = ?25, reminders_fired = ?26,"            \
    " next_ms = ?27"
/* The columns of the intake key and of tickets_repeat: a PATCH may change them. */
#define TICKET_SAME_IDENTITY                                                                       \
    " WHERE id = ?30 AND (source, external_id, device_serial, fault_code, reported_at_ms)"         \
    " IS NOT DISTINCT FROM (?1, ?2, ?14, ?15, ?16)"
/* Only what a step or a clock changes (tickets_next is the one index written). */
static const char sql_ticket_update_clock[] = TICKET_SET_PLAIN TICKET_SAME_IDENTITY
    " AND (status, last_event_ms, due_ms) IS NOT DISTINCT FROM (?20, ?28, ?29)";
/* An event or a clock started or stopped: the status, the last event, the due instant. */
static const char sql_ticket_update_state[] =
    TICKET_SET_PLAIN ", status = ?20, last_event_ms = ?28, due_ms = ?29" TICKET_SAME_IDENTITY;
static const char sql_ticket_update[] =
    "UPDATE tickets SET source = ?1, external_id = ?2, title = ?3, description = ?4,"
    " severity = ?5, grade = ?6, region = ?7, team = ?8, assignee = ?9,"
    " customer_name = ?10, customer_phone = ?11, customer_address = ?12,"
    " device_model = ?13, device_serial = ?14, fault_code = ?15,"
    " reported_at_ms = ?16, appointment_at_ms = ?17, created_at_ms = ?18,"
    " updated_at_ms = ?19, status = ?20, held_from = ?21, policy = ?22,"
    " reopen_count = ?23, repeat_count = ?24, event_last = ?25, reminders_fired = ?26,"
    " next_ms = ?27, last_event_ms = ?28, due_ms = ?29 WHERE id = ?30";
static const char sql_ticket_load[] = "SELECT id, " TICKET_COLUMNS " FROM tickets WHERE id = ?1";
/* The load before a write on PostgreSQL: the row stays locked until the commit, so that
 * two instances changing one ticket decide one after the other (SQLite's BEGIN IMMEDIATE
 * already makes one writer; it has no FOR UPDATE). */
static const char sql_ticket_load_for_update[] =
    "SELECT id, " TICKET_COLUMNS " FROM tickets WHERE id = ?1 FOR UPDATE";
static const char sql_ticket_find[] =
    "SELECT id FROM tickets WHERE source = ?1 AND external_id = ?2";
static const char sql_ticket_list[] =
    "SELECT t.id, " TICKET_COLUMNS " FROM tickets t" TICKET_FILTER;
static const char sql_ticket_list_due[] =
    "SELECT t.id, " TICKET_COLUMNS " FROM tickets t INDEXED BY tickets_due" TICKET_FILTER_DUE;
static const char sql_label_insert[] =
    "INSERT INTO ticket_labels (ticket_id, pos, key, value) VALUES (?1, ?2, ?3, ?4)";
/* Labels in place too, as the clocks: an unchanged label is not written; those past the
 * ticket's last are deleted. */
static const char sql_label_upsert[] =
    "INSERT INTO ticket_labels (ticket_id, pos, key, value) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (ticket_id, pos) DO UPDATE SET (key, value) = (excluded.key, excluded.value)"
    " WHERE (ticket_labels.key, ticket_labels.value) IS DISTINCT FROM"
    " (excluded.key, excluded.value)";
static const char sql_labels_drop_from[] =
    "DELETE FROM ticket_labels WHERE ticket_id = ?1 AND pos >= ?2";
static const char sql_labels_load[] =
    "SELECT key, value FROM ticket_labels WHERE ticket_id = ?1 ORDER BY pos";
static const char sql_clocks_load[] =
    "SELECT " CLOCK_COLUMNS ", risk_at_ms FROM clocks WHERE ticket_id = ?1 ORDER BY pos";
/* INDEXED BY makes a lost index an error at open instead of a silent table scan. */
static const char sql_agenda_load[] = "SELECT id, next_ms FROM tickets INDEXED BY tickets_next"
                                      " WHERE next_ms IS NOT NULL ORDER BY next_ms";
static const char sql_repeat_count[] = "SELECT count(*) FROM tickets INDEXED BY tickets_repeat"
                                       " WHERE device_serial = ?1 AND fault_code = ?2"
                                       " AND reported_at_ms BETWEEN ?3 AND ?4"
                                       " AND status != 'cancelled'";

const char *const store_ticket_statements[] = {
    /* writes */
    sql_ticket_insert,
    sql_ticket_update,
    sql_ticket_update_clock,
    sql_ticket_update_state,
    sql_labels_drop_from,
    sql_label_insert,
    sql_label_upsert,
    /* reads */
    sql_ticket_load,
    sql_ticket_find,
    sql_ticket_list,
    sql_ticket_list_due,
    sql_clocks_load,
    sql_labels_load,
    sql_agenda_load,
    sql_repeat_count,
    NULL,
};

/* event_last as "name=ms;name=ms", only the events that happened; NULL when none. */
static const char *event_last_encode(const struct ticket *t, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int e = 0; e < TICKET_EVENT_COUNT; e++) {
        if (t->event_last_ms[e] == SLAD_NO_TIME)
            continue;
        int n = snprintf(buf + len, size - len, "%s%s=%" PRId64, len ? ";" : "",
                         ticket_event_name(e), t->event_last_ms[e]);
        if (n < 0 || (size_t)n >= size - len)
            break; /* cannot happen: size fits every event with a 20-digit instant */
        len += (size_t)n;
    }
    return len ? buf : NULL;
}

static int event_last_decode(struct ticket *t, const char *text, struct slad_error *reterr)
{
    for (const char *p = text; p && *p;) {
        const char *eq = strchr(p, '=');
        if (!eq)
            goto bad;
        char name[32];
        size_t n = (size_t)(eq - p);
        if (n == 0 || n >= sizeof(name))
            goto bad;
        memcpy(name, p, n);
        name[n] = '\0';
        char *end;
        errno = 0;
        long long ms = strtoll(eq + 1, &end, 10);
        if (errno || end == eq + 1 || (*end && *end != ';'))
            goto bad;
        /* An event name this binary does not know (removed in a later version) is
         * ignored rather than making the ticket unreadable. */
        int e = ticket_event_from_name(name);
        if (e >= 0)
            t->event_last_ms[e] = ms;
        p = *end ? end + 1 : end;
    }
    return 0;
bad:
    return slad_error_set(reterr, EIO, "database: ticket %" PRId64 ": bad event_last '%s'", t->id,
                          text);
}

static int fired_decode(struct slaclock *c, const char *text)
{
    size_t i = 0;
    for (const char *p = text; p && *p; i++) {
        if (i >= SLACLOCK_MAX_STEPS)
            return -1;
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        if (errno || end == p || v > UINT16_MAX || (*end && *end != ','))
            return -1;
        c->fired[i] = (uint16_t)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* Room for every event name with a 20-digit instant. */
#define EVENT_LAST_SIZE (TICKET_EVENT_COUNT * 40)

/* Bind ?1..?29 of st from t; the texts are bound without copies, so event_last
 * (EVENT_LAST_SIZE bytes) must live until st is reset. */
static void bind_ticket(struct db_stmt *st, const struct ticket *t, int64_t next_ms,
                        char *event_last)
{
    db_bind_text(st, TC_SOURCE, t->source);
    db_bind_text(st, TC_EXTERNAL_ID, t->external_id);
    db_bind_text(st, TC_TITLE, t->title);
    db_bind_text(st, TC_DESCRIPTION, t->description);
    db_bind_int64(st, TC_SEVERITY, t->severity);
    db_bind_text(st, TC_GRADE, t->grade);
    db_bind_text(st, TC_REGION, t->region);
    db_bind_text(st, TC_TEAM, t->team);
    db_bind_text(st, TC_ASSIGNEE, t->assignee);
    db_bind_text(st, TC_CUSTOMER_NAME, t->customer_name);
    db_bind_text(st, TC_CUSTOMER_PHONE, t->customer_phone);
    db_bind_text(st, TC_CUSTOMER_ADDRESS, t->customer_address);
    db_bind_text(st, TC_DEVICE_MODEL, t->device_model);
    db_bind_text(st, TC_DEVICE_SERIAL, t->device_serial);
    db_bind_text(st, TC_FAULT_CODE, t->fault_code);
    store_bind_time(st, TC_REPORTED_AT, t->reported_at_ms);
    store_bind_time(st, TC_APPOINTMENT_AT, t->appointment_at_ms);
    store_bind_time(st, TC_CREATED_AT, t->created_at_ms);
    store_bind_time(st, TC_UPDATED_AT, t->updated_at_ms);
    db_bind_text(st, TC_STATUS, ticket_status_name(t->status));
    db_bind_text(st, TC_HELD_FROM, ticket_status_name(t->held_from));
    db_bind_text(st, TC_POLICY, t->policy);
    db_bind_int64(st, TC_REOPEN_COUNT, t->reopen_count);
    db_bind_int64(st, TC_REPEAT_COUNT, t->repeat_count);
    db_bind_text(st, TC_EVENT_LAST, event_last_encode(t, event_last, EVENT_LAST_SIZE));
    db_bind_int64(st, TC_REMINDERS_FIRED, t->reminders_fired);
    store_bind_time(st, TC_NEXT_MS, next_ms);
    store_bind_time(st, TC_LAST_EVENT, ticket_last_event_ms(t));
    db_bind_int64(st, TC_DUE, ticket_due_key(t));
}

/* One row per label (schema version 6), in the ticket's order, with sql (sql_label_insert
 * for a new ticket, sql_label_upsert). */
static int labels_write(struct store *s, const struct ticket *t, const char *sql,
                        struct slad_error *reterr)
{
    struct db_stmt *st = t->n_labels ? store_stmt(s, sql, reterr) : NULL;
    if (t->n_labels && !st)
        return -EIO;
    for (size_t i = 0; i < t->n_labels; i++) {
        db_bind_int64(st, 1, t->id);
        db_bind_int64(st, 2, (int64_t)i);
        db_bind_text(st, 3, t->labels[i].key);
        db_bind_text(st, 4, t->labels[i].value);
        int r = store_db_write(s, st, "writing a label", reterr);
        if (r < 0)
            return r;
    }
    return 0;
}

int store_ticket_insert(struct store *s, struct ticket *t, int64_t next_ms,
                        struct slad_error *reterr)
{
    if (t->id != 0)
        return slad_error_set(reterr, EINVAL,
                              "database: inserting ticket %" PRId64 " which already has an id",
                              t->id);
    struct db_stmt *st = store_stmt(s, sql_ticket_insert, reterr);
    if (!st)
        return -EIO;
    char event_last[EVENT_LAST_SIZE];
    bind_ticket(st, t, next_ms, event_last);
    int64_t id = 0;
    int r = store_db_insert(s, st, "inserting a ticket", &id, reterr);
    if (r == -EEXIST)
        return slad_error_set(reterr, EEXIST,
                              "a ticket with source '%s' and external_id '%s' "
                              "already exists",
                              t->source ? t->source : "", t->external_id ? t->external_id : "");
    if (r < 0)
        return r;
    t->id = id;
    r = store_clocks_insert(s, t, reterr);
    if (r >= 0)
        r = labels_write(s, t, sql_label_insert, reterr);
    if (r < 0) {
        store_clocks_known_forget(s, t->id);
        t->id = 0; /* the caller rolls back; the ticket was not stored */
    }
    return r;
}

/* Delete the labels of t->id past t's last. */
static int labels_drop_from(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_labels_drop_from, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, t->id);
    db_bind_int64(st, 2, (int64_t)t->n_labels);
    return store_db_write(s, st, "updating labels", reterr);
}

int store_ticket_update(struct store *s, const struct ticket *t, int64_t next_ms,
                        struct slad_error *reterr)
{
    /* The narrowest shape the row allows (sql_ticket_update_clock): one that matches no
     * row left the row as it was, and the next one is tried; none matching, the ticket
     * is not there. */
    static const char *const shapes[] = {sql_ticket_update_clock, sql_ticket_update_state,
                                         sql_ticket_update};
    int64_t changed = 0;
    int r = 0;
    for (size_t i = 0; changed == 0 && i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct db_stmt *st = store_stmt(s, shapes[i], reterr);
        if (!st)
            return -EIO;
        char event_last[EVENT_LAST_SIZE];
        bind_ticket(st, t, next_ms, event_last);
        db_bind_int64(st, TC_ID, t->id);
        r = store_db_run_changes(s, st, "updating a ticket", &changed, reterr);
        if (r < 0)
            return r;
    }
    if (changed == 0)
        return slad_error_set(reterr, ENOENT, "ticket %" PRId64 " not found", t->id);
    /* Asked before the clocks' write notes t's rows as known. */
    bool no_labels_past = store_known_labels_within(s, t);
    r = store_clocks_update(s, t, reterr);
    if (r >= 0)
        r = labels_write(s, t, sql_label_upsert, reterr);
    if (r >= 0 && !no_labels_past)
        r = labels_drop_from(s, t, reterr);
    if (r < 0)
        store_clocks_known_forget(s, t->id);
    return r;
}

/* A row read into the ticket t, with where errors go. */
struct ticket_walk {
    struct ticket *t;
    struct slad_error *reterr;
};

static int label_row(void *ctx, struct db_stmt *st)
{
    struct ticket_walk *w = ctx;
    const char *key = db_column_text(st, 0), *value = db_column_text(st, 1);
    int r = key && value ? ticket_set_label(w->t, key, value) : -EIO;
    if (r < 0)
        return slad_error_set(w->reterr, -r, "database: ticket %" PRId64 ": label '%s': %s",
                              w->t->id, key ? key : "",
                              r == -EIO ? "no key or value" : strerror(-r));
    return 0;
}

/* The labels of ticket t->id into t, in their order. */
static int labels_load(struct store *s, struct ticket *t, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_labels_load, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, t->id);
    struct ticket_walk w = {t, reterr};
    return store_db_rows(st, "loading labels", label_row, &w, reterr);
}

static int clock_row(void *ctx, struct db_stmt *st)
{
    struct ticket_walk *w = ctx;
    struct ticket *t = w->t;
    if (t->n_clocks >= TICKET_MAX_CLOCKS)
        return slad_error_set(w->reterr, EIO,
                              "database: ticket %" PRId64 " has more than %d clocks", t->id,
                              TICKET_MAX_CLOCKS);
    struct slaclock *c = &t->clocks[t->n_clocks];
    memset(c, 0, sizeof(*c));
    const char *name = db_column_text(st, 0);
    int state_id = slaclock_state_from_name(db_column_text(st, 1));
    if (!name || strlen(name) >= sizeof(c->name) || state_id < 0)
        return slad_error_set(w->reterr, EIO, "database: ticket %" PRId64 ": bad clock '%s'", t->id,
                              name ? name : "");
    memcpy(c->name, name, strlen(name) + 1);
    c->state = state_id;
    c->target_ms = db_column_int64(st, 2);
    c->elapsed_ms = db_column_int64(st, 3);
    c->since_ms = store_column_time(st, 4);
    c->started_at_ms = store_column_time(st, 5);
    c->stopped_at_ms = store_column_time(st, 6);
    c->breached_at_ms = store_column_time(st, 7);
    c->due_at_ms = store_column_time(st, 8);
    c->paused_breached = db_column_int64(st, 9) != 0;
    c->risk_at_ms = store_column_time(st, 12);
    /* An unknown event name (not written by this binary) reads as "none". */
    c->stop_event = db_column_is_null(st, 10) ? -1 : ticket_event_from_name(db_column_text(st, 10));
    if (fired_decode(c, db_column_text(st, 11)) < 0)
        return slad_error_set(w->reterr, EIO,
                              "database: ticket %" PRId64 ": clock '%s': bad fired '%s'", t->id,
                              c->name, db_column_text(st, 11));
    t->n_clocks++;
    return 0;
}

static int clocks_load(struct store *s, struct ticket *t, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_clocks_load, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, t->id);
    t->n_clocks = 0;
    struct ticket_walk w = {t, reterr};
    return store_db_rows(st, "loading clocks", clock_row, &w, reterr);
}

/* The ticket of the current row of st (columns: id, TICKET_COLUMNS), without its labels
 * and clocks, into *t, which is initialised here; on failure t is left for ticket_done. */
static int ticket_fields_from_row(struct db_stmt *st, struct ticket *t, struct slad_error *reterr)
{
    ticket_init(t);
    t->id = db_column_int64(st, 0);
    static const struct {
        int col;
        size_t offset;
    } strings[] = {
        {TC_SOURCE, offsetof(struct ticket, source)},
        {TC_EXTERNAL_ID, offsetof(struct ticket, external_id)},
        {TC_TITLE, offsetof(struct ticket, title)},
        {TC_DESCRIPTION, offsetof(struct ticket, description)},
        {TC_GRADE, offsetof(struct ticket, grade)},
        {TC_REGION, offsetof(struct ticket, region)},
        {TC_TEAM, offsetof(struct ticket, team)},
        {TC_ASSIGNEE, offsetof(struct ticket, assignee)},
        {TC_CUSTOMER_NAME, offsetof(struct ticket, customer_name)},
        {TC_CUSTOMER_PHONE, offsetof(struct ticket, customer_phone)},
        {TC_CUSTOMER_ADDRESS, offsetof(struct ticket, customer_address)},
        {TC_DEVICE_MODEL, offsetof(struct ticket, device_model)},
        {TC_DEVICE_SERIAL, offsetof(struct ticket, device_serial)},
        {TC_FAULT_CODE, offsetof(struct ticket, fault_code)},
        {TC_POLICY, offsetof(struct ticket, policy)},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        char **field = (char **)((char *)t + strings[i].offset);
        if (ticket_set_string(field, db_column_text(st, strings[i].col)) < 0)
            return slad_error_set(reterr, ENOMEM, "database: out of memory loading a ticket");
    }
    t->severity = (int)db_column_int64(st, TC_SEVERITY);
    t->reported_at_ms = store_column_time(st, TC_REPORTED_AT);
    t->appointment_at_ms = store_column_time(st, TC_APPOINTMENT_AT);
    t->created_at_ms = store_column_time(st, TC_CREATED_AT);
    t->updated_at_ms = store_column_time(st, TC_UPDATED_AT);
    int status = ticket_status_from_name(db_column_text(st, TC_STATUS));
    int held_from = ticket_status_from_name(db_column_text(st, TC_HELD_FROM));
    if (status < 0 || held_from < 0)
        return slad_error_set(reterr, EIO, "database: ticket %" PRId64 " has an unknown status",
                              t->id);
    t->status = status;
    t->held_from = held_from;
    t->reopen_count = (int)db_column_int64(st, TC_REOPEN_COUNT);
    t->repeat_count = (int)db_column_int64(st, TC_REPEAT_COUNT);
    t->reminders_fired = (uint32_t)db_column_int64(st, TC_REMINDERS_FIRED);
    return event_last_decode(t, db_column_text(st, TC_EVENT_LAST), reterr);
}

/* The same with its labels and clocks. */
static int ticket_from_row(struct store *s, struct db_stmt *st, struct ticket *t,
                           struct slad_error *reterr)
{
    int r = ticket_fields_from_row(st, t, reterr);
    if (r >= 0)
        r = labels_load(s, t, reterr);
    if (r >= 0)
        r = clocks_load(s, t, reterr);
    return r;
}

/* The ticket of sql (sql_ticket_load or its FOR UPDATE twin) with ?1 = id. */
static int ticket_load(struct store *s, const char *sql, int64_t id, struct ticket *ret,
                       struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    int r = db_step(st, "loading a ticket", reterr);
    struct ticket t;
    if (r == 1) {
        r = ticket_from_row(s, st, &t, reterr);
        if (r < 0)
            ticket_done(&t);
    } else if (r == 0) {
        r = slad_error_set(reterr, ENOENT, "ticket %" PRId64 " not found", id);
    }
    db_reset(st);
    if (r < 0)
        return r;
    *ret = t;
    return 0;
}

int store_ticket_load(struct store *s, int64_t id, struct ticket *ret, struct slad_error *reterr)
{
    return ticket_load(s, sql_ticket_load, id, ret, reterr);
}

int store_ticket_load_for_update(struct store *s, int64_t id, struct ticket *ret,
                                 struct slad_error *reterr)
{
    bool pg = db_kind(store_dbh(s)) == DB_POSTGRES;
    int r = ticket_load(s, pg ? sql_ticket_load_for_update : sql_ticket_load, id, ret, reterr);
    if (r >= 0) /* the clocks as the rows hold them, for the write that follows */
        store_clocks_known_note(s, ret);
    return r;
}

int store_ticket_find(struct store *s, const char *source, const char *external_id, int64_t *ret_id,
                      struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_ticket_find, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, source);
    db_bind_text(st, 2, external_id);
    int r = store_db_scalar(st, "finding a ticket", ret_id, reterr);
    if (r == 0)
        return slad_error_set(reterr, ENOENT, "no ticket with source '%s' and external_id '%s'",
                              source ? source : "", external_id ? external_id : "");
    return r < 0 ? r : 0;
}

/* A flag that may be unset: -1 (or 0, for those whose 0 is "any") as NULL. */
static void bind_flag(struct db_stmt *st, int i, bool given, bool v)
{
    if (given)
        db_bind_int64(st, i, v ? 1 : 0);
    else
        db_bind_null(st, i);
}

static int bind_ticket_filter(struct store *s, struct db_stmt *st, const struct ticket_filter *f,
                              size_t limit, struct slad_error *reterr)
{
    /* An origin is one ticket at most: found by its index, not by a scan of every id. The
     * lookup runs before st is bound (bindings live until st is reset). */
    int64_t origin_id = 0; /* none has id 0 */
    if (f->source && f->external_id) {
        struct slad_error err;
        int r = store_ticket_find(s, f->source, f->external_id, &origin_id, &err);
        if (r < 0 && r != -ENOENT) {
            if (reterr)
                *reterr = err;
            return r;
        }
    }
    db_bind_int64(st, 1, f->after_id);
    db_bind_text(st, 2, f->status);
    db_bind_text(st, 3, f->policy);
    db_bind_text(st, 4, f->team);
    bind_flag(st, 5, f->breached >= 0, f->breached);
    bind_flag(st, 6, f->open_only, true);
    db_bind_limit(st, 7, limit);
    db_bind_text(st, 8, f->source);
    db_bind_text(st, 9, f->external_id);
    if (f->source && f->external_id)
        db_bind_int64(st, 10, origin_id);
    else
        db_bind_null(st, 10);
    bind_flag(st, 11, f->missed != 0, f->missed > 0);
    db_bind_text(st, 12, f->assignee);
    if (f->severity > 0)
        db_bind_int64(st, 13, f->severity);
    else
        db_bind_null(st, 13);
    db_bind_text(st, 14, f->region);
    db_bind_text(st, 15, f->q);
    if (f->due_before_ms != 0)
        db_bind_int64(st, 16, f->due_before_ms);
    else
        db_bind_null(st, 16);
    bind_flag(st, 17, f->at_risk != 0, f->at_risk > 0);
    db_bind_int64(st, 18, f->now_ms);
    if (f->sort_due)
        db_bind_int64(st, 19, f->after_due_ms);
    else
        db_bind_null(st, 19);
    return 0;
}

struct list_walk {
    struct store *s;
    ticket_row_fn *fn;
    void *userdata;
    struct slad_error *reterr;
};

static int list_row(void *ctx, struct db_stmt *st)
{
    struct list_walk *w = ctx;
    struct ticket t;
    int r = ticket_from_row(w->s, st, &t, w->reterr);
    if (r >= 0)
        r = w->fn(w->userdata, &t);
    ticket_done(&t);
    return r;
}

int store_ticket_list(struct store *s, const struct ticket_filter *f, ticket_row_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, f->sort_due ? sql_ticket_list_due : sql_ticket_list, reterr);
    if (!st)
        return -EIO;
    int r = bind_ticket_filter(s, st, f, f->limit, reterr);
    if (r < 0)
        return r;
    struct list_walk w = {s, fn, userdata, reterr};
    return store_db_rows(st, "listing tickets", list_row, &w, reterr);
}

int store_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                      struct slad_error *reterr)
{
    return store_db_agenda_rows(s, sql_agenda_load, fn, userdata, "loading the agenda", reterr);
}

int store_repeat_count(struct store *s, const char *serial, const char *fault_code, int64_t from_ms,
                       int64_t to_ms, int64_t *ret_count, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_repeat_count, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, serial);
    db_bind_text(st, 2, fault_code);
    db_bind_int64(st, 3, from_ms);
    db_bind_int64(st, 4, to_ms);
    return store_db_one(st, "counting repeat faults", ret_count, reterr);
}

/* Open tickets in batches (store.h: store_ticket_load_open, store_ticket_rewrite), for a
 * reload: a batch is read in three statements and written back in one pipeline, instead
 * of some ten round trips per ticket on PostgreSQL. */
#define OPEN_IN(lo, hi)                                                                            \
    " ticket_id IN (SELECT id FROM tickets WHERE id BETWEEN " lo " AND " hi                        \
    " AND status NOT IN ('resolved', 'closed', 'cancelled'))"
#define OPEN_LOAD                                                                                  \
    "SELECT id, " TICKET_COLUMNS " FROM tickets WHERE id > ?1"                                     \
    " AND status NOT IN ('resolved', 'closed', 'cancelled') ORDER BY id LIMIT ?2"
static const char sql_open_load[] = OPEN_LOAD;
/* Locked until the commit, as store_ticket_load_for_update's. */
static const char sql_open_load_for_update[] = OPEN_LOAD " FOR UPDATE";
/* The clocks and labels of the open tickets with ids in [?1, ?2], by ticket then place;
 * the ticket's id is the last column, so the rows read as clock_row and label_row read
 * them. */
static const char sql_open_clocks[] =
    "SELECT " CLOCK_COLUMNS ", risk_at_ms, ticket_id FROM clocks"
    " WHERE ticket_id BETWEEN ?1 AND ?2 AND" OPEN_IN("?1", "?2") " ORDER BY ticket_id, pos";
static const char sql_open_labels[] =
    "SELECT key, value, ticket_id FROM ticket_labels"
    " WHERE ticket_id BETWEEN ?1 AND ?2 AND" OPEN_IN("?1", "?2") " ORDER BY ticket_id, pos";
#define OPEN_CLOCKS_ID_COLUMN 13
#define OPEN_LABELS_ID_COLUMN 2

struct open_walk {
    struct ticket *tickets;
    size_t n, max;
    struct slad_error *reterr;
};

static int open_ticket_row(void *ctx, struct db_stmt *st)
{
    struct open_walk *w = ctx;
    struct ticket *t = &w->tickets[w->n];
    int r = ticket_fields_from_row(st, t, w->reterr);
    if (r < 0) {
        ticket_done(t);
        return r;
    }
    w->n++;
    return w->n < w->max ? 0 : 1;
}

/* Rows of a batch's clocks or labels (in ticket order) to the ticket each names. */
struct batch_walk {
    struct ticket *tickets;
    size_t n, at;
    int id_column;
    store_db_row_fn *row; /* clock_row, label_row */
    struct ticket_walk w;
};

static int batch_row(void *ctx, struct db_stmt *st)
{
    struct batch_walk *b = ctx;
    int64_t id = db_column_int64(st, b->id_column);
    while (b->at < b->n && b->tickets[b->at].id < id)
        b->at++;
    if (b->at == b->n || b->tickets[b->at].id != id)
        return 0; /* a ticket another instance reopened since the batch was read */
    b->w.t = &b->tickets[b->at];
    return b->row(&b->w, st);
}

static int batch_rows(struct store *s, const char *sql, int id_column, store_db_row_fn *row,
                      struct ticket *tickets, size_t n, const char *op, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, tickets[0].id);
    db_bind_int64(st, 2, tickets[n - 1].id);
    struct batch_walk b = {tickets, n, 0, id_column, row, {NULL, reterr}};
    return store_db_rows(st, op, batch_row, &b, reterr);
}

int store_ticket_load_open(struct store *s, int64_t after_id, struct ticket *tickets, size_t max,
                           size_t *ret_n, struct slad_error *reterr)
{
    *ret_n = 0;
    if (max == 0)
        return 0;
    bool pg = db_kind(store_dbh(s)) == DB_POSTGRES;
    struct db_stmt *st = store_stmt(s, pg ? sql_open_load_for_update : sql_open_load, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, after_id);
    db_bind_limit(st, 2, max);
    struct open_walk w = {tickets, 0, max, reterr};
    int r = store_db_rows(st, "loading open tickets", open_ticket_row, &w, reterr);
    if (r >= 0 && w.n > 0)
        r = batch_rows(s, sql_open_labels, OPEN_LABELS_ID_COLUMN, label_row, tickets, w.n,
                       "loading the labels of open tickets", reterr);
    if (r >= 0 && w.n > 0)
        r = batch_rows(s, sql_open_clocks, OPEN_CLOCKS_ID_COLUMN, clock_row, tickets, w.n,
                       "loading the clocks of open tickets", reterr);
    if (r < 0) {
        for (size_t i = 0; i < w.n; i++)
            ticket_done(&tickets[i]);
        return r;
    }
    *ret_n = w.n;
    return 0;
}

/* Ticket t's row and clocks queued; its identity (intake key, device, fault, reported_at)
 * is the stored one, as a ticket loaded and changed in this transaction has it. */
static int queue_ticket_rewrite(struct store *s, const struct ticket *t, int64_t next_ms,
                                struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_ticket_update_state, reterr);
    if (!st)
        return -EIO;
    char event_last[EVENT_LAST_SIZE];
    bind_ticket(st, t, next_ms, event_last);
    db_bind_int64(st, TC_ID, t->id);
    int r = store_db_queue(s, st, "rewriting a ticket", reterr);
    return r < 0 ? r : store_clocks_queue_rewrite(s, t, reterr);
}

int store_ticket_rewrite(struct store *s, const struct ticket *tickets, const int64_t *next_ms,
                         size_t n, struct slad_error *reterr)
{
    for (size_t i = 0; i < n; i++) {
        int r = queue_ticket_rewrite(s, &tickets[i], next_ms[i], reterr);
        if (r < 0)
            return r;
    }
    return db_sync(store_dbh(s), reterr);
}
