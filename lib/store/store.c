/* store.c - the SQLite database of slad: schema, migrations, cached statements.
 *
 * Exports store_* (store.h). The only file of lib/ that includes <sqlite3.h>.
 *
 * Schema (version 5). Instants are INTEGER ms since the epoch, UTC; NULL = none.
 *
 *   tickets   id INTEGER PRIMARY KEY, source, external_id (UNIQUE together: idempotent
 *             intake), title, description, severity, grade, region, team, assignee,
 *             customer_name/phone/address, device_model/serial, fault_code,
 *             labels (JSON object text {"k":"v"}, NULL when none), reported_at_ms,
 *             appointment_at_ms, created_at_ms, updated_at_ms, status and held_from (names
 *             as in the API: "on_site"), policy (name), reopen_count, repeat_count,
 *             event_last ("acknowledge=1767225600000;dispatch=..." for the events that
 *             happened), reminders_fired (bit set), next_ms (the next agenda instant),
 *             last_event_ms (version 5: the instant of its latest event, or reported_at;
 *             ticket_last_event_ms).
 *             Indexes: tickets_next (next_ms) WHERE next_ms IS NOT NULL, which covers
 *             (next_ms, id): start-up reads the agenda from it alone; tickets_repeat
 *             (device_serial, fault_code, reported_at_ms) for repeat faults;
 *             tickets_status (status) for the gauges; tickets_reported (reported_at_ms)
 *             until version 3, which dropped it (reports read clocks_period);
 *             tickets_retention (last_event_ms) WHERE status is closed or cancelled,
 *             version 5, from which retention (store_retention.c) picks the oldest.
 *   clocks    PRIMARY KEY (ticket_id, name), WITHOUT ROWID: a ticket's clocks are one
 *             b-tree range. pos (order in the ticket), policy (denormalised from the
 *             ticket for reports), state (name), target_ms, elapsed_ms, since_ms,
 *             started_at_ms, stopped_at_ms, breached_at_ms, due_at_ms, paused_breached,
 *             stop_event (name of the event that stopped it, NULL when none), fired
 *             (times each ladder step fired: "1,0,2", trailing zeros dropped).
 *             Version 3: reported_at_ms, team, region, assignee copied from the ticket
 *             (written with the clock, so they follow a PATCH).
 *             Indexes: clocks_state (state) for the breached gauge; clocks_report
 *             (policy, name, state); clocks_period (reported_at_ms, name, state,
 *             elapsed_ms, policy, team, region, assignee), version 3, covers the SLA
 *             report.
 *   history   id, ticket_id, at_ms (when it happened or was due), created_ms (when
 *             recorded), kind ("create", "event", "patch", or an effect kind), data
 *             (JSON object text), late (0/1). Index (ticket_id, id).
 *   outbox    id, ticket_id, event, channel, recipient, idempotency_key UNIQUE, state
 *             (pending|sending|sent|dead), attempts, next_attempt_ms, last_error, payload
 *             (JSON object text), created_ms, sent_ms. Indexes (state, next_attempt_ms)
 *             for delivery and (ticket_id, id) for a ticket's notifications.
 *   counts    (version 4) what ("ticket <status>", "outbox <state>", "breached"), n:
 *             the gauges, kept by triggers on tickets, outbox and clocks so that reading
 *             them costs one short scan however many tickets there are.
 *   plans     (version 2) id, name, customer_*, device_*, team, owner (role), assignee,
 *             rrule (RFC 5545 RRULE text), start_ms, until_ms, due_within and
 *             report_within (durations as written), calendar (name), occurrences (created
 *             so far), next_ms (the next occurrence not yet created). Index plans_next.
 *   followups (version 2) id, ticket_id or plan_id (the other NULL), name, owner (role),
 *             generation (the ticket's reopen_count when it was created), state
 *             (open|done|cancelled; pending/due/overdue are read off the times), created_ms,
 *             due_ms, deadline_ms, outcome, note, done_by, done_ms, fired (bit 0: owner
 *             notified at due; bit i: ladder step i fired), next_ms. UNIQUE (ticket_id,
 *             name, generation) and (plan_id, name, due_ms): a follow-up is created once.
 *             Indexes followups_next (agenda), followups_due (state, due_ms) for listings
 *             and reports, followups_ticket. Version 3: reported_at_ms, the ticket's, set
 *             by the trigger followups_reported; index followups_report (reported_at_ms,
 *             state, deadline_ms, done_ms) for the SLA report.
 *
 * Migrations: migrations[i] brings user_version i to i + 1; store_open applies the missing
 * ones in one transaction and refuses a database newer than the table. Never edit a
 * released migration: append a new one.
 *
 * Every statement is prepared once at open with SQLITE_PREPARE_PERSISTENT and reset after
 * each use. The list filters are fixed statements whose NULL parameters mean "any". */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonx.h"

/* How long a statement waits for a lock held by another connection (sqlite3 shell, a
 * backup) before failing with -EAGAIN. The wait blocks the whole event loop, so it is
 * short: a write that cannot get the lock gets 503 at once rather than stalling every
 * other client (and /healthz, goal 50 ms) for seconds. WAL readers never take it. */
#define STORE_BUSY_TIMEOUT_MS 25

static const char *const migrations[] = {
    /* 1: tickets, clocks, history, outbox. */
    "CREATE TABLE tickets ("
    " id INTEGER PRIMARY KEY,"
    " source TEXT, external_id TEXT,"
    " title TEXT NOT NULL, description TEXT,"
    " severity INTEGER NOT NULL,"
    " grade TEXT, region TEXT, team TEXT, assignee TEXT,"
    " customer_name TEXT, customer_phone TEXT, customer_address TEXT,"
    " device_model TEXT, device_serial TEXT, fault_code TEXT,"
    " labels TEXT,"
    " reported_at_ms INTEGER NOT NULL, appointment_at_ms INTEGER,"
    " created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL, held_from TEXT NOT NULL,"
    " policy TEXT,"
    " reopen_count INTEGER NOT NULL DEFAULT 0, repeat_count INTEGER NOT NULL DEFAULT 0,"
    " event_last TEXT,"
    " reminders_fired INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER,"
    " UNIQUE (source, external_id));"
    "CREATE INDEX tickets_next ON tickets (next_ms) WHERE next_ms IS NOT NULL;"
    "CREATE INDEX tickets_repeat ON tickets (device_serial, fault_code, reported_at_ms)"
    " WHERE device_serial IS NOT NULL AND fault_code IS NOT NULL;"
    "CREATE INDEX tickets_status ON tickets (status);"
    "CREATE INDEX tickets_reported ON tickets (reported_at_ms);"
    "CREATE TABLE clocks ("
    " ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " pos INTEGER NOT NULL,"
    " policy TEXT,"
    " state TEXT NOT NULL,"
    " target_ms INTEGER NOT NULL, elapsed_ms INTEGER NOT NULL,"
    " since_ms INTEGER, started_at_ms INTEGER, stopped_at_ms INTEGER,"
    " breached_at_ms INTEGER, due_at_ms INTEGER,"
    " paused_breached INTEGER NOT NULL DEFAULT 0,"
    " stop_event TEXT,"
    " fired TEXT,"
    " PRIMARY KEY (ticket_id, name)) WITHOUT ROWID;"
    "CREATE INDEX clocks_state ON clocks (state);"
    "CREATE INDEX clocks_report ON clocks (policy, name, state);"
    "CREATE TABLE history ("
    " id INTEGER PRIMARY KEY,"
    " ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,"
    " at_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, data TEXT,"
    " late INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX history_ticket ON history (ticket_id, id);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,"
    " event TEXT NOT NULL, channel TEXT, recipient TEXT NOT NULL,"
    " idempotency_key TEXT NOT NULL UNIQUE,"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (state IN ('pending', 'sending', 'sent', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER, last_error TEXT, payload TEXT,"
    " created_ms INTEGER NOT NULL, sent_ms INTEGER);"
    "CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);"
    "CREATE INDEX outbox_ticket ON outbox (ticket_id, id);",
    /* 2: maintenance plans and follow-up tasks. */
    "CREATE TABLE plans ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " customer_name TEXT, customer_phone TEXT, customer_address TEXT,"
    " device_model TEXT, device_serial TEXT,"
    " team TEXT, owner TEXT NOT NULL, assignee TEXT,"
    " rrule TEXT NOT NULL,"
    " start_ms INTEGER NOT NULL, until_ms INTEGER,"
    " due_within TEXT NOT NULL, report_within TEXT,"
    " calendar TEXT,"
    " occurrences INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX plans_next ON plans (next_ms) WHERE next_ms IS NOT NULL;"
    "CREATE TABLE followups ("
    " id INTEGER PRIMARY KEY,"
    " ticket_id INTEGER REFERENCES tickets (id) ON DELETE CASCADE,"
    " plan_id INTEGER REFERENCES plans (id) ON DELETE SET NULL,"
    " name TEXT NOT NULL, owner TEXT NOT NULL,"
    " generation INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),"
    " created_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL, deadline_ms INTEGER NOT NULL,"
    " outcome TEXT CHECK (outcome IN ('satisfied', 'unsatisfied', 'unreachable')),"
    " note TEXT, done_by TEXT, done_ms INTEGER,"
    " fired INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER,"
    " UNIQUE (ticket_id, name, generation));"
    "CREATE UNIQUE INDEX followups_plan ON followups (plan_id, name, due_ms)"
    " WHERE plan_id IS NOT NULL;"
    "CREATE INDEX followups_next ON followups (next_ms) WHERE next_ms IS NOT NULL;"
    "CREATE INDEX followups_due ON followups (state, due_ms);"
    "CREATE INDEX followups_ticket ON followups (ticket_id) WHERE ticket_id IS NOT NULL;",
    /* 3: SLA reports (report.c) read one covering index per table: the ticket fields they
     * group by are copied into clocks (written with them) and the immutable reported_at
     * into follow-ups (by a trigger). tickets_reported, meant for reports, goes: nothing
     * reads it now, and every ticket write paid for it. */
    "DROP INDEX tickets_reported;"
    "ALTER TABLE clocks ADD COLUMN reported_at_ms INTEGER;"
    "ALTER TABLE clocks ADD COLUMN team TEXT;"
    "ALTER TABLE clocks ADD COLUMN region TEXT;"
    "ALTER TABLE clocks ADD COLUMN assignee TEXT;"
    "UPDATE clocks SET reported_at_ms = t.reported_at_ms, team = t.team, region = t.region,"
    " assignee = t.assignee FROM tickets AS t WHERE t.id = clocks.ticket_id;"
    "CREATE INDEX clocks_period ON clocks"
    " (reported_at_ms, name, state, elapsed_ms, policy, team, region, assignee);"
    "ALTER TABLE followups ADD COLUMN reported_at_ms INTEGER;"
    "UPDATE followups SET reported_at_ms ="
    " (SELECT reported_at_ms FROM tickets WHERE id = followups.ticket_id)"
    " WHERE ticket_id IS NOT NULL;"
    "CREATE TRIGGER followups_reported AFTER INSERT ON followups"
    " WHEN NEW.ticket_id IS NOT NULL BEGIN"
    " UPDATE followups SET reported_at_ms ="
    " (SELECT reported_at_ms FROM tickets WHERE id = NEW.ticket_id) WHERE id = NEW.id; END;"
    "CREATE INDEX followups_report ON followups (reported_at_ms, state, deadline_ms, done_ms)"
    " WHERE reported_at_ms IS NOT NULL;",
    /* 4: the gauges of /healthz, /metrics and STATUS= as counters kept by triggers: a
     * GROUP BY over a million tickets took ~170 ms of the loop on every call. */
    "CREATE TABLE counts (what TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counts SELECT 'ticket ' || status, count(*) FROM tickets GROUP BY status;"
    "INSERT INTO counts SELECT 'outbox ' || state, count(*) FROM outbox GROUP BY state;"
    "INSERT INTO counts SELECT 'breached', count(*) FROM clocks WHERE state = 'breached';"
    "CREATE TRIGGER count_ticket_insert AFTER INSERT ON tickets BEGIN"
    " INSERT INTO counts VALUES ('ticket ' || NEW.status, 1)"
    "  ON CONFLICT (what) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER count_ticket_update AFTER UPDATE OF status ON tickets"
    " WHEN OLD.status IS NOT NEW.status BEGIN"
    " UPDATE counts SET n = n - 1 WHERE what = 'ticket ' || OLD.status;"
    " INSERT INTO counts VALUES ('ticket ' || NEW.status, 1)"
    "  ON CONFLICT (what) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER count_ticket_delete AFTER DELETE ON tickets BEGIN"
    " UPDATE counts SET n = n - 1 WHERE what = 'ticket ' || OLD.status; END;"
    "CREATE TRIGGER count_outbox_insert AFTER INSERT ON outbox BEGIN"
    " INSERT INTO counts VALUES ('outbox ' || NEW.state, 1)"
    "  ON CONFLICT (what) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER count_outbox_update AFTER UPDATE OF state ON outbox"
    " WHEN OLD.state IS NOT NEW.state BEGIN"
    " UPDATE counts SET n = n - 1 WHERE what = 'outbox ' || OLD.state;"
    " INSERT INTO counts VALUES ('outbox ' || NEW.state, 1)"
    "  ON CONFLICT (what) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER count_outbox_delete AFTER DELETE ON outbox BEGIN"
    " UPDATE counts SET n = n - 1 WHERE what = 'outbox ' || OLD.state; END;"
    "INSERT OR IGNORE INTO counts VALUES ('breached', 0);"
    "CREATE TRIGGER count_breached_insert AFTER INSERT ON clocks"
    " WHEN NEW.state = 'breached' BEGIN"
    " UPDATE counts SET n = n + 1 WHERE what = 'breached'; END;"
    "CREATE TRIGGER count_breached_update AFTER UPDATE OF state ON clocks"
    " WHEN (OLD.state = 'breached') IS NOT (NEW.state = 'breached') BEGIN"
    " UPDATE counts SET n = n + (CASE WHEN NEW.state = 'breached' THEN 1 ELSE -1 END)"
    "  WHERE what = 'breached'; END;"
    "CREATE TRIGGER count_breached_delete AFTER DELETE ON clocks"
    " WHEN OLD.state = 'breached' BEGIN"
    " UPDATE counts SET n = n - 1 WHERE what = 'breached'; END;",
    /* 5: retention purges closed and cancelled tickets by the instant of their last event,
     * oldest first, through a partial index that only final tickets pay for. A ticket
     * written before this version counts from updated_at (when its last event was
     * recorded, never earlier than the event): it is purged later, never earlier. */
    "ALTER TABLE tickets ADD COLUMN last_event_ms INTEGER;"
    "UPDATE tickets SET last_event_ms = updated_at_ms WHERE status IN ('closed', 'cancelled');"
    "CREATE INDEX tickets_retention ON tickets (last_event_ms)"
    " WHERE status IN ('closed', 'cancelled');",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The ticket columns in the order of bind parameters ?1..?27 (insert and update) and of
 * result columns 1..27 (column 0 is id). */
#define TICKET_COLUMNS                                                                             \
    "source, external_id, title, description, severity, grade, region, team, assignee,"            \
    " customer_name, customer_phone, customer_address, device_model, device_serial,"               \
    " fault_code, labels, reported_at_ms, appointment_at_ms, created_at_ms, updated_at_ms,"        \
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
    TC_LABELS,
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
    TC_ID,         /* update only */
    TC_LAST_EVENT, /* bind only */
};

/* ?1 after_id, ?2 status, ?3 policy, ?4 team, ?5 breached (0/1), ?6 open_only, ?7 limit. */
#define TICKET_FILTER                                                                              \
    " WHERE t.id > ?1"                                                                             \
    " AND (?2 IS NULL OR t.status = ?2)"                                                           \
    " AND (?3 IS NULL OR t.policy = ?3)"                                                           \
    " AND (?4 IS NULL OR t.team = ?4)"                                                             \
    " AND (?5 IS NULL OR ?5 = EXISTS (SELECT 1 FROM clocks c WHERE c.ticket_id = t.id"             \
    "  AND (c.state IN ('breached', 'missed') OR c.paused_breached)))"                             \
    " AND (?6 IS NULL OR t.status NOT IN ('resolved', 'closed', 'cancelled'))"                     \
    " ORDER BY t.id LIMIT ?7"

#define CLOCK_COLUMNS                                                                              \
    "name, state, target_ms, elapsed_ms, since_ms, started_at_ms, stopped_at_ms,"                  \
    " breached_at_ms, due_at_ms, paused_breached, stop_event, fired"

#define OUTBOX_COLUMNS                                                                             \
    "id, ticket_id, event, channel, recipient, idempotency_key, state, attempts,"                  \
    " next_attempt_ms, last_error, payload, created_ms, sent_ms"

#define HISTORY_COLUMNS "id, ticket_id, at_ms, created_ms, kind, data, late"

enum stmt_id {
    ST_CHECK,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_TICKET_INSERT,
    ST_TICKET_UPDATE,
    ST_TICKET_LOAD,
    ST_TICKET_FIND,
    ST_TICKET_LIST,
    ST_TICKET_IDS,
    ST_CLOCKS_DELETE,
    ST_CLOCK_INSERT,
    ST_CLOCKS_LOAD,
    ST_AGENDA_LOAD,
    ST_REPEAT_COUNT,
    ST_HISTORY_ADD,
    ST_HISTORY_LIST,
    ST_OUTBOX_ADD,
    ST_OUTBOX_UPDATE,
    ST_OUTBOX_LIST,
    ST_OUTBOX_GET,
    ST_OUTBOX_DUE,
    ST_OUTBOX_NEXT_DUE,
    ST_OUTBOX_REQUEUE,
    ST_OUTBOX_RETRY,
    ST_COUNTS,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CHECK] = "SELECT 1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT op",
    [ST_RELEASE] = "RELEASE op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO op",
    [ST_TICKET_INSERT] = "INSERT INTO tickets (" TICKET_COLUMNS ", next_ms, last_event_ms)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                         " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28,"
                         " ?30)",
    [ST_TICKET_UPDATE] =
        "UPDATE tickets SET source = ?1, external_id = ?2, title = ?3, description = ?4,"
        " severity = ?5, grade = ?6, region = ?7, team = ?8, assignee = ?9,"
        " customer_name = ?10, customer_phone = ?11, customer_address = ?12,"
        " device_model = ?13, device_serial = ?14, fault_code = ?15, labels = ?16,"
        " reported_at_ms = ?17, appointment_at_ms = ?18, created_at_ms = ?19,"
        " updated_at_ms = ?20, status = ?21, held_from = ?22, policy = ?23,"
        " reopen_count = ?24, repeat_count = ?25, event_last = ?26, reminders_fired = ?27,"
        " next_ms = ?28, last_event_ms = ?30 WHERE id = ?29",
    [ST_TICKET_LOAD] = "SELECT id, " TICKET_COLUMNS " FROM tickets WHERE id = ?1",
    [ST_TICKET_FIND] = "SELECT id FROM tickets WHERE source = ?1 AND external_id = ?2",
    [ST_TICKET_LIST] = "SELECT t.id, " TICKET_COLUMNS " FROM tickets t" TICKET_FILTER,
    [ST_TICKET_IDS] = "SELECT t.id FROM tickets t" TICKET_FILTER,
    [ST_CLOCKS_DELETE] = "DELETE FROM clocks WHERE ticket_id = ?1",
    [ST_CLOCK_INSERT] = "INSERT INTO clocks (ticket_id, pos, policy, " CLOCK_COLUMNS
                        ", reported_at_ms, team, region, assignee)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                        " ?15, ?16, ?17, ?18, ?19)",
    [ST_CLOCKS_LOAD] = "SELECT " CLOCK_COLUMNS " FROM clocks WHERE ticket_id = ?1 ORDER BY pos",
    /* INDEXED BY makes a lost index an error at open instead of a silent table scan. */
    [ST_AGENDA_LOAD] = "SELECT id, next_ms FROM tickets INDEXED BY tickets_next"
                       " WHERE next_ms IS NOT NULL ORDER BY next_ms",
    [ST_REPEAT_COUNT] = "SELECT count(*) FROM tickets INDEXED BY tickets_repeat"
                        " WHERE device_serial = ?1 AND fault_code = ?2"
                        " AND reported_at_ms BETWEEN ?3 AND ?4",
    [ST_HISTORY_ADD] = "INSERT INTO history (ticket_id, at_ms, created_ms, kind, data, late)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_HISTORY_LIST] = "SELECT " HISTORY_COLUMNS " FROM history"
                        " WHERE ticket_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox (ticket_id, event, channel, recipient, idempotency_key,"
                      " state, attempts, next_attempt_ms, last_error, payload, created_ms,"
                      " sent_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                      " ON CONFLICT (idempotency_key) DO NOTHING",
    [ST_OUTBOX_UPDATE] = "UPDATE outbox SET state = ?2, channel = ?3, attempts = ?4,"
                         " next_attempt_ms = ?5, last_error = ?6, sent_ms = ?7 WHERE id = ?1",
    [ST_OUTBOX_LIST] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id > ?1"
                       " AND (?2 IS NULL OR state = ?2)"
                       " AND (?3 IS NULL OR ticket_id = ?3)"
                       " AND (?4 IS NULL OR next_attempt_ms <= ?4)"
                       " ORDER BY id LIMIT ?5",
    [ST_OUTBOX_GET] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1",
    /* Delivery: these three run on the outbox_due index (state, next_attempt_ms). */
    [ST_OUTBOX_DUE] = "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 'pending'"
                      " AND next_attempt_ms <= ?1"
                      " AND (next_attempt_ms > ?3 OR (next_attempt_ms = ?3 AND id > ?4))"
                      " ORDER BY next_attempt_ms, id LIMIT ?2",
    [ST_OUTBOX_NEXT_DUE] = "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'pending'",
    [ST_OUTBOX_REQUEUE] = "UPDATE outbox SET state = 'pending', next_attempt_ms = ?1"
                          " WHERE state = 'sending'",
    /* A manual retry gets a whole new budget: max_age counts from created_ms. */
    [ST_OUTBOX_RETRY] = "UPDATE outbox SET state = 'pending', attempts = 0,"
                        " next_attempt_ms = ?2, created_ms = ?2 WHERE id = ?1 AND state = 'dead'",
    [ST_COUNTS] = "SELECT what, n FROM counts",
};

/* Statements of the other store files (store_prepared), keyed by their SQL's address. */
#define STORE_CACHED_MAX 64

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    const char *cached_sql[STORE_CACHED_MAX];
    sqlite3_stmt *cached[STORE_CACHED_MAX];
    size_t n_cached;
    /* store_begin's transaction is open: SQLite may roll it back by itself on an I/O
     * error or out of memory, and store_run then refuses to run outside it. */
    bool in_begin;
};

static const char *const outbox_state_names[STORE_OUTBOX_STATE_COUNT] = {
    [STORE_OUTBOX_PENDING] = "pending",
    [STORE_OUTBOX_SENDING] = "sending",
    [STORE_OUTBOX_SENT] = "sent",
    [STORE_OUTBOX_DEAD] = "dead",
};

const char *store_outbox_state_name(enum store_outbox_state state)
{
    return (unsigned)state < STORE_OUTBOX_STATE_COUNT ? outbox_state_names[state] : NULL;
}

int store_outbox_state_from_name(const char *name)
{
    for (int i = 0; name && i < STORE_OUTBOX_STATE_COUNT; i++)
        if (strcmp(outbox_state_names[i], name) == 0)
            return i;
    return -1;
}

int store_schema_version(void)
{
    return N_MIGRATIONS;
}

/* An SQLite result code as a negative errno, with a message naming the operation. */
static int fail_rc(sqlite3 *db, int rc, const char *op, struct slad_error *reterr)
{
    int code;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        code = ENOSPC;
        break;
    case SQLITE_READONLY:
        code = EROFS;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = EAGAIN;
        break;
    case SQLITE_NOMEM:
        code = ENOMEM;
        break;
    case SQLITE_CONSTRAINT:
        code =
            rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? EEXIST : EINVAL;
        break;
    default:
        code = EIO;
        break;
    }
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return slad_error_set(reterr, code, "database: %s failed: %s", op, detail);
}

static int fail(struct store *s, int rc, const char *op, struct slad_error *reterr)
{
    return fail_rc(s->db, rc, op, reterr);
}

int store_agenda_rows(struct store *s, const char *sql, store_agenda_fn *fn, void *userdata,
                      const char *op, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql, reterr);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = fn(userdata, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc, op, reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_fail(struct store *s, int rc, const char *op, struct slad_error *reterr)
{
    return fail_rc(s->db, rc, op, reterr);
}

sqlite3 *store_db(struct store *s)
{
    return s->db;
}

sqlite3_stmt *store_prepared(struct store *s, const char *sql, struct slad_error *reterr)
{
    size_t i = 0;
    for (; i < s->n_cached; i++)
        if (s->cached_sql[i] == sql)
            return s->cached[i];
    if (i == STORE_CACHED_MAX) {
        slad_error_set(reterr, ENOSPC, "database: more than %d cached statements",
                       STORE_CACHED_MAX);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        fail(s, rc, "preparing a statement", reterr);
        return NULL;
    }
    s->cached_sql[i] = sql;
    s->cached[i] = st;
    s->n_cached++;
    return st;
}

int store_run(struct store *s, sqlite3_stmt *st, const char *op, struct slad_error *reterr)
{
    /* Else the statement would commit alone while the batch it belongs to fails. */
    if (s->in_begin && !store_in_transaction(s))
        return slad_error_set(reterr, EIO,
                              "database: %s failed: the transaction was rolled back after an "
                              "earlier error",
                              op);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, rc, op, reterr);
    sqlite3_reset(st);
    return r;
}

static int exec(sqlite3 *db, const char *sql, const char *op, struct slad_error *reterr)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail_rc(db, rc, op, reterr);
}

static int read_user_version(sqlite3 *db, int *ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *ret = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    int r = rc == SQLITE_OK ? 0 : fail_rc(db, rc, "reading the schema version", reterr);
    sqlite3_finalize(st);
    return r;
}

static int migrate(sqlite3 *db, const char *path, struct slad_error *reterr)
{
    int version = 0;
    int r = read_user_version(db, &version, reterr);
    if (r < 0)
        return r;
    if (version == N_MIGRATIONS)
        return 0;
    if (version < 0 || version > N_MIGRATIONS)
        return slad_error_set(reterr, ENOTSUP,
                              "database '%s' has schema version %d, newer than this slad knows "
                              "(%d): it was written by a newer slad; run that version or "
                              "restore a backup",
                              path, version, N_MIGRATIONS);
    r = exec(db, "BEGIN IMMEDIATE", "starting the schema migration", reterr);
    if (r < 0)
        return r;
    /* Read again under the write lock: another process may have migrated meanwhile. */
    r = read_user_version(db, &version, reterr);
    if (r < 0)
        goto fail;
    if (version > N_MIGRATIONS) {
        r = slad_error_set(reterr, ENOTSUP, "database '%s' has schema version %d, newer than %d",
                           path, version, N_MIGRATIONS);
        goto fail;
    }
    for (int v = version; v < N_MIGRATIONS; v++) {
        char op[64];
        snprintf(op, sizeof(op), "migrating the schema to version %d", v + 1);
        r = exec(db, migrations[v], op, reterr);
        if (r < 0)
            goto fail;
    }
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", N_MIGRATIONS);
    r = exec(db, pragma, "setting the schema version", reterr);
    if (r < 0)
        goto fail;
    r = exec(db, "COMMIT", "committing the schema migration", reterr);
    if (r < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* "database: X" becomes "database 'PATH': X": at open the path tells which file. */
static void name_path(struct slad_error *err, const char *path)
{
    static const char generic[] = "database: ";
    if (!err || strncmp(err->msg, generic, sizeof(generic) - 1) != 0)
        return;
    char msg[SLAD_ERROR_MAX];
    snprintf(msg, sizeof(msg), "database '%s': %s", path, err->msg + sizeof(generic) - 1);
    memcpy(err->msg, msg, sizeof(msg));
}

/* The database holds customers' names and phones: a new one is created 0600 whatever the
 * umask (SQLite gives its -wal and -shm files the database's mode). An existing file keeps
 * the mode its operator gave it. */
static int create_private(const char *path, struct slad_error *reterr)
{
    if (!path[0] || strncmp(path, "file:", 5) == 0 || strcmp(path, ":memory:") == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST
                   ? 0
                   : slad_error_set(reterr, errno, "database '%s': cannot create it: %s", path,
                                    strerror(errno));
    int r = fchmod(fd, 0600) < 0
                ? slad_error_set(reterr, errno, "database '%s': cannot make it private: %s", path,
                                 strerror(errno))
                : 0;
    close(fd);
    return r;
}

int store_open(const char *path, bool synchronous_full, struct store **ret,
               struct slad_error *reterr)
{
    int cr = create_private(path, reterr);
    if (cr < 0)
        return cr;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return slad_error_set(reterr, ENOMEM, "database '%s': out of memory", path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    int r;
    if (rc != SQLITE_OK) {
        if (!s->db) {
            r = slad_error_set(reterr, ENOMEM, "database: out of memory");
        } else {
            r = fail(s, rc, "opening", reterr);
        }
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    r = exec(s->db, "PRAGMA foreign_keys = ON", "enabling foreign keys", reterr);
    /* Each operation runs in a savepoint; past 64 KiB SQLite spills a savepoint's journal
     * to a temp file and copies every page it touches there (two thirds of the writes of
     * an intake batch, measured): keep it in memory, it lives only until the commit. */
    if (r >= 0)
        r = exec(s->db, "PRAGMA temp_store = MEMORY", "keeping temp data in memory", reterr);
    if (r >= 0)
        r = exec(s->db, "PRAGMA journal_mode = WAL", "switching to WAL mode", reterr);
    if (r >= 0)
        r = exec(s->db,
                 synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                 "setting synchronous", reterr);
    if (r >= 0)
        r = migrate(s->db, path, reterr);
    for (int i = 0; r >= 0 && i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                NULL);
        if (rc != SQLITE_OK)
            r = fail(s, rc, "preparing a statement", reterr);
    }
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    name_path(reterr, path);
    store_close(s);
    return r;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (size_t i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cached[i]);
    /* An open transaction is rolled back by the close. */
    sqlite3_close_v2(s->db);
    free(s);
}

int store_check(struct store *s, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_CHECK];
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? 0 : fail(s, rc, "health check", reterr);
    sqlite3_reset(st);
    return r;
}

int store_begin(struct store *s, struct slad_error *reterr)
{
    s->in_begin = false; /* a transaction SQLite rolled back by itself is over */
    int r = store_run(s, s->stmt[ST_BEGIN], "begin transaction", reterr);
    s->in_begin = store_in_transaction(s);
    return r;
}

int store_commit(struct store *s, struct slad_error *reterr)
{
    int r = store_run(s, s->stmt[ST_COMMIT], "commit", reterr);
    s->in_begin = r < 0 && store_in_transaction(s);
    return r;
}

int store_rollback(struct store *s, struct slad_error *reterr)
{
    s->in_begin = false;
    return store_run(s, s->stmt[ST_ROLLBACK], "rollback", reterr);
}

bool store_in_transaction(const struct store *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int store_savepoint(struct store *s, struct slad_error *reterr)
{
    return store_run(s, s->stmt[ST_SAVEPOINT], "savepoint", reterr);
}

int store_release(struct store *s, struct slad_error *reterr)
{
    return store_run(s, s->stmt[ST_RELEASE], "release savepoint", reterr);
}

int store_rollback_to(struct store *s, struct slad_error *reterr)
{
    /* ROLLBACK TO keeps the savepoint open; RELEASE ends it (and, when the savepoint
     * began the transaction, commits the now empty transaction). */
    int r = store_run(s, s->stmt[ST_ROLLBACK_TO], "rollback to savepoint", reterr);
    if (r < 0)
        return r;
    return store_run(s, s->stmt[ST_RELEASE], "release savepoint", reterr);
}

/* Labels as a JSON object; *ret NULL when there are none. */
static int labels_encode(const struct ticket *t, char **ret, struct slad_error *reterr)
{
    *ret = NULL;
    if (t->n_labels == 0)
        return 0;
    json_t *obj = json_object();
    if (!obj)
        return slad_error_set(reterr, ENOMEM, "database: out of memory encoding labels");
    for (size_t i = 0; i < t->n_labels; i++) {
        json_t *v = json_string(t->labels[i].value);
        if (!v || json_object_set_new(obj, t->labels[i].key, v) < 0) {
            json_decref(obj);
            return slad_error_set(reterr, EINVAL, "label '%s' is not valid UTF-8",
                                  t->labels[i].key);
        }
    }
    *ret = jsonx_dump(obj, NULL);
    json_decref(obj);
    if (!*ret)
        return slad_error_set(reterr, ENOMEM, "database: out of memory encoding labels");
    return 0;
}

static int labels_decode(struct ticket *t, const char *text, struct slad_error *reterr)
{
    if (!text)
        return 0;
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return slad_error_set(reterr, EIO,
                              "database: ticket %" PRId64 ": labels are not a "
                              "JSON object",
                              t->id);
    }
    const char *key;
    json_t *v;
    int r = 0;
    json_object_foreach(obj, key, v)
    {
        if (!json_is_string(v)) {
            r = slad_error_set(reterr, EIO,
                               "database: ticket %" PRId64 ": label '%s' is not "
                               "a string",
                               t->id, key);
            break;
        }
        r = ticket_set_label(t, key, json_string_value(v));
        if (r < 0) {
            r = slad_error_set(reterr, -r, "database: ticket %" PRId64 ": label '%s': %s", t->id,
                               key, strerror(-r));
            break;
        }
    }
    json_decref(obj);
    return r;
}

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

/* Bind ?1..?28 of st from t; the texts are bound without copies, so *ret_labels (to be
 * freed) and event_last (EVENT_LAST_SIZE bytes) must live until st is reset. */
static int bind_ticket(struct store *s, sqlite3_stmt *st, const struct ticket *t, int64_t next_ms,
                       char **ret_labels, char *event_last, const char *op,
                       struct slad_error *reterr)
{
    char *labels;
    int r = labels_encode(t, &labels, reterr);
    if (r < 0)
        return r;
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, TC_SOURCE, t->source);
    bind_text(&b, TC_EXTERNAL_ID, t->external_id);
    bind_text(&b, TC_TITLE, t->title);
    bind_text(&b, TC_DESCRIPTION, t->description);
    bind_int64(&b, TC_SEVERITY, t->severity);
    bind_text(&b, TC_GRADE, t->grade);
    bind_text(&b, TC_REGION, t->region);
    bind_text(&b, TC_TEAM, t->team);
    bind_text(&b, TC_ASSIGNEE, t->assignee);
    bind_text(&b, TC_CUSTOMER_NAME, t->customer_name);
    bind_text(&b, TC_CUSTOMER_PHONE, t->customer_phone);
    bind_text(&b, TC_CUSTOMER_ADDRESS, t->customer_address);
    bind_text(&b, TC_DEVICE_MODEL, t->device_model);
    bind_text(&b, TC_DEVICE_SERIAL, t->device_serial);
    bind_text(&b, TC_FAULT_CODE, t->fault_code);
    bind_text(&b, TC_LABELS, labels);
    bind_time(&b, TC_REPORTED_AT, t->reported_at_ms);
    bind_time(&b, TC_APPOINTMENT_AT, t->appointment_at_ms);
    bind_time(&b, TC_CREATED_AT, t->created_at_ms);
    bind_time(&b, TC_UPDATED_AT, t->updated_at_ms);
    bind_text(&b, TC_STATUS, ticket_status_name(t->status));
    bind_text(&b, TC_HELD_FROM, ticket_status_name(t->held_from));
    bind_text(&b, TC_POLICY, t->policy);
    bind_int64(&b, TC_REOPEN_COUNT, t->reopen_count);
    bind_int64(&b, TC_REPEAT_COUNT, t->repeat_count);
    bind_text(&b, TC_EVENT_LAST, event_last_encode(t, event_last, EVENT_LAST_SIZE));
    bind_int64(&b, TC_REMINDERS_FIRED, t->reminders_fired);
    bind_time(&b, TC_NEXT_MS, next_ms);
    bind_time(&b, TC_LAST_EVENT, ticket_last_event_ms(t));
    if (b.rc != SQLITE_OK) {
        free(labels);
        sqlite3_reset(st);
        return fail(s, b.rc, op, reterr);
    }
    *ret_labels = labels;
    return 0;
}

static int clocks_write(struct store *s, const struct ticket *t, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_CLOCK_INSERT];
    for (size_t i = 0; i < t->n_clocks && i < TICKET_MAX_CLOCKS; i++) {
        const struct slaclock *c = &t->clocks[i];
        char fired[SLACLOCK_MAX_STEPS * 8];
        struct binder b = {st, SQLITE_OK};
        bind_int64(&b, 1, t->id);
        bind_int64(&b, 2, (int64_t)i);
        bind_text(&b, 3, t->policy);
        bind_text(&b, 4, c->name);
        bind_text(&b, 5, slaclock_state_name(c->state));
        bind_int64(&b, 6, c->target_ms);
        bind_int64(&b, 7, c->elapsed_ms);
        bind_time(&b, 8, c->since_ms);
        bind_time(&b, 9, c->started_at_ms);
        bind_time(&b, 10, c->stopped_at_ms);
        bind_time(&b, 11, c->breached_at_ms);
        bind_time(&b, 12, c->due_at_ms);
        bind_int64(&b, 13, c->paused_breached);
        bind_text(&b, 14, c->stop_event >= 0 ? ticket_event_name(c->stop_event) : NULL);
        bind_text(&b, 15, fired_encode(c, fired, sizeof(fired)));
        bind_int64(&b, 16, t->reported_at_ms); /* copies for reports (schema version 3) */
        bind_text(&b, 17, t->team);
        bind_text(&b, 18, t->region);
        bind_text(&b, 19, t->assignee);
        if (b.rc != SQLITE_OK) {
            sqlite3_reset(st);
            return fail(s, b.rc, "writing a clock", reterr);
        }
        int r = store_run(s, st, "writing a clock", reterr);
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
    sqlite3_stmt *st = s->stmt[ST_TICKET_INSERT];
    char *labels, event_last[EVENT_LAST_SIZE];
    int r = bind_ticket(s, st, t, next_ms, &labels, event_last, "inserting a ticket", reterr);
    if (r < 0)
        return r;
    r = store_run(s, st, "inserting a ticket", reterr);
    free(labels);
    if (r == -EEXIST)
        return slad_error_set(reterr, EEXIST,
                              "a ticket with source '%s' and external_id '%s' "
                              "already exists",
                              t->source ? t->source : "", t->external_id ? t->external_id : "");
    if (r < 0)
        return r;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    t->id = id;
    r = clocks_write(s, t, reterr);
    if (r < 0)
        t->id = 0; /* the caller rolls back; the ticket was not stored */
    return r;
}

int store_ticket_update(struct store *s, const struct ticket *t, int64_t next_ms,
                        struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_TICKET_UPDATE];
    char *labels, event_last[EVENT_LAST_SIZE];
    int r = bind_ticket(s, st, t, next_ms, &labels, event_last, "updating a ticket", reterr);
    if (r < 0)
        return r;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, TC_ID, t->id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        free(labels);
        return fail(s, b.rc, "updating a ticket", reterr);
    }
    r = store_run(s, st, "updating a ticket", reterr);
    free(labels);
    if (r < 0)
        return r;
    if (sqlite3_changes(s->db) == 0)
        return slad_error_set(reterr, ENOENT, "ticket %" PRId64 " not found", t->id);
    st = s->stmt[ST_CLOCKS_DELETE];
    b = (struct binder){st, SQLITE_OK};
    bind_int64(&b, 1, t->id);
    r = b.rc == SQLITE_OK ? store_run(s, st, "updating clocks", reterr)
                          : fail(s, b.rc, "updating clocks", reterr);
    if (r < 0)
        return r;
    return clocks_write(s, t, reterr);
}

static int clocks_load(struct store *s, struct ticket *t, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_CLOCKS_LOAD];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, t->id);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "loading clocks", reterr);
    int rc, r = 0;
    t->n_clocks = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n_clocks >= TICKET_MAX_CLOCKS) {
            r = slad_error_set(reterr, EIO, "database: ticket %" PRId64 " has more than %d clocks",
                               t->id, TICKET_MAX_CLOCKS);
            break;
        }
        struct slaclock *c = &t->clocks[t->n_clocks];
        memset(c, 0, sizeof(*c));
        const char *name = column_text(st, 0);
        const char *state = column_text(st, 1);
        int state_id = slaclock_state_from_name(state);
        if (!name || strlen(name) >= sizeof(c->name) || state_id < 0) {
            r = slad_error_set(reterr, EIO, "database: ticket %" PRId64 ": bad clock '%s'", t->id,
                               name ? name : "");
            break;
        }
        memcpy(c->name, name, strlen(name) + 1);
        c->state = state_id;
        c->target_ms = sqlite3_column_int64(st, 2);
        c->elapsed_ms = sqlite3_column_int64(st, 3);
        c->since_ms = column_time(st, 4);
        c->started_at_ms = column_time(st, 5);
        c->stopped_at_ms = column_time(st, 6);
        c->breached_at_ms = column_time(st, 7);
        c->due_at_ms = column_time(st, 8);
        c->paused_breached = sqlite3_column_int(st, 9) != 0;
        /* An unknown event name (not written by this binary) reads as "none". */
        c->stop_event = sqlite3_column_type(st, 10) == SQLITE_NULL
                            ? -1
                            : ticket_event_from_name(column_text(st, 10));
        if (fired_decode(c, column_text(st, 11)) < 0) {
            r = slad_error_set(reterr, EIO,
                               "database: ticket %" PRId64 ": clock '%s': bad "
                               "fired '%s'",
                               t->id, c->name, column_text(st, 11));
            break;
        }
        t->n_clocks++;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc, "loading clocks", reterr);
    sqlite3_reset(st);
    return r;
}

/* The ticket of the current row of st (columns: id, TICKET_COLUMNS) with its clocks into
 * *t, which is initialised here; on failure t is left for ticket_done. */
static int ticket_from_row(struct store *s, sqlite3_stmt *st, struct ticket *t,
                           struct slad_error *reterr)
{
    ticket_init(t);
    t->id = sqlite3_column_int64(st, 0);
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
        if (ticket_set_string(field, column_text(st, strings[i].col)) < 0)
            return slad_error_set(reterr, ENOMEM, "database: out of memory loading a ticket");
    }
    t->severity = sqlite3_column_int(st, TC_SEVERITY);
    t->reported_at_ms = column_time(st, TC_REPORTED_AT);
    t->appointment_at_ms = column_time(st, TC_APPOINTMENT_AT);
    t->created_at_ms = column_time(st, TC_CREATED_AT);
    t->updated_at_ms = column_time(st, TC_UPDATED_AT);
    int status = ticket_status_from_name(column_text(st, TC_STATUS));
    int held_from = ticket_status_from_name(column_text(st, TC_HELD_FROM));
    if (status < 0 || held_from < 0)
        return slad_error_set(reterr, EIO, "database: ticket %" PRId64 " has an unknown status",
                              t->id);
    t->status = status;
    t->held_from = held_from;
    t->reopen_count = sqlite3_column_int(st, TC_REOPEN_COUNT);
    t->repeat_count = sqlite3_column_int(st, TC_REPEAT_COUNT);
    t->reminders_fired = (uint32_t)sqlite3_column_int64(st, TC_REMINDERS_FIRED);
    int r = event_last_decode(t, column_text(st, TC_EVENT_LAST), reterr);
    if (r >= 0)
        r = labels_decode(t, column_text(st, TC_LABELS), reterr);
    if (r >= 0)
        r = clocks_load(s, t, reterr);
    return r;
}

int store_ticket_load(struct store *s, int64_t id, struct ticket *ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_TICKET_LOAD];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "loading a ticket", reterr);
    int rc = sqlite3_step(st);
    int r;
    struct ticket t;
    if (rc == SQLITE_ROW) {
        r = ticket_from_row(s, st, &t, reterr);
        if (r < 0)
            ticket_done(&t);
    } else if (rc == SQLITE_DONE) {
        r = slad_error_set(reterr, ENOENT, "ticket %" PRId64 " not found", id);
    } else {
        r = fail(s, rc, "loading a ticket", reterr);
    }
    sqlite3_reset(st);
    if (r < 0)
        return r;
    *ret = t;
    return 0;
}

int store_ticket_find(struct store *s, const char *source, const char *external_id, int64_t *ret_id,
                      struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_TICKET_FIND];
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, source);
    bind_text(&b, 2, external_id);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "finding a ticket", reterr);
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW)
        *ret_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        r = slad_error_set(reterr, ENOENT, "no ticket with source '%s' and external_id '%s'",
                           source ? source : "", external_id ? external_id : "");
    else
        r = fail(s, rc, "finding a ticket", reterr);
    sqlite3_reset(st);
    return r;
}

static int bind_ticket_filter(struct store *s, sqlite3_stmt *st,
                              const struct store_ticket_filter *f, size_t limit,
                              struct slad_error *reterr)
{
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, f->after_id);
    bind_text(&b, 2, f->status);
    bind_text(&b, 3, f->policy);
    bind_text(&b, 4, f->team);
    if (f->breached < 0)
        bind_null(&b, 5);
    else
        bind_int64(&b, 5, f->breached ? 1 : 0);
    if (f->open_only)
        bind_int64(&b, 6, 1);
    else
        bind_null(&b, 6);
    bind_limit(&b, 7, limit);
    return b.rc == SQLITE_OK ? 0 : fail(s, b.rc, "listing tickets", reterr);
}

int store_ticket_list(struct store *s, const struct store_ticket_filter *f, store_ticket_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_TICKET_LIST];
    int r = bind_ticket_filter(s, st, f, f->limit, reterr);
    if (r < 0)
        return r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ticket t;
        r = ticket_from_row(s, st, &t, reterr);
        if (r >= 0)
            r = fn(userdata, &t);
        ticket_done(&t);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc, "listing tickets", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_ticket_ids(struct store *s, const struct store_ticket_filter *f, int64_t *ids, size_t max,
                     size_t *ret_n, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_TICKET_IDS];
    if (max == 0) {
        *ret_n = 0;
        return 0;
    }
    int r = bind_ticket_filter(s, st, f, max, reterr);
    if (r < 0)
        return r;
    size_t n = 0;
    int rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    if (n < max && rc != SQLITE_DONE)
        r = fail(s, rc, "listing ticket ids", reterr);
    sqlite3_reset(st);
    if (r < 0)
        return r;
    *ret_n = n;
    return 0;
}

int store_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                      struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_AGENDA_LOAD];
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r = fn(userdata, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc, "loading the agenda", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_repeat_count(struct store *s, const char *serial, const char *fault_code, int64_t from_ms,
                       int64_t to_ms, int64_t *ret_count, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_REPEAT_COUNT];
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, serial);
    bind_text(&b, 2, fault_code);
    bind_int64(&b, 3, from_ms);
    bind_int64(&b, 4, to_ms);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "counting repeat faults", reterr);
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW)
        *ret_count = sqlite3_column_int64(st, 0);
    else
        r = fail(s, rc, "counting repeat faults", reterr);
    sqlite3_reset(st);
    return r;
}

int store_history_add(struct store *s, const struct store_history *h, int64_t *ret_id,
                      struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_HISTORY_ADD];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, h->ticket_id);
    bind_int64(&b, 2, h->at_ms);
    bind_int64(&b, 3, h->created_ms);
    bind_text(&b, 4, h->kind);
    bind_text(&b, 5, h->data);
    bind_int64(&b, 6, h->late ? 1 : 0);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "adding history", reterr);
    }
    int r = store_run(s, st, "adding history", reterr);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* Step st (columns HISTORY_COLUMNS) and call fn on each row. */
static int history_rows(struct store *s, sqlite3_stmt *st, store_history_fn *fn, void *userdata,
                        struct slad_error *reterr)
{
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_history h = {
            .id = sqlite3_column_int64(st, 0),
            .ticket_id = sqlite3_column_int64(st, 1),
            .at_ms = sqlite3_column_int64(st, 2),
            .created_ms = sqlite3_column_int64(st, 3),
            .kind = column_text(st, 4),
            .data = column_text(st, 5),
            .late = sqlite3_column_int(st, 6) != 0,
        };
        r = fn(userdata, &h);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc, "listing history", reterr);
    sqlite3_reset(st);
    return r < 0 ? r : 0;
}

int store_history_list(struct store *s, int64_t ticket_id, int64_t after_id, size_t limit,
                       store_history_fn *fn, void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_HISTORY_LIST];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, ticket_id);
    bind_int64(&b, 2, after_id);
    bind_limit(&b, 3, limit);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "listing history", reterr);
    return history_rows(s, st, fn, userdata, reterr);
}

/* The newest rows of one ticket, on the (ticket_id, id) indexes read backwards. */
static const char history_latest_sql[] = "SELECT " HISTORY_COLUMNS " FROM history"
                                         " WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2";
static const char outbox_latest_sql[] = "SELECT " OUTBOX_COLUMNS " FROM outbox"
                                        " WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2";

/* The statement of sql with (ticket_id, limit) bound, into *ret. */
static int latest_bind(struct store *s, const char *sql, int64_t ticket_id, size_t limit,
                       const char *op, sqlite3_stmt **ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, ticket_id);
    bind_limit(&b, 2, limit);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, op, reterr);
    }
    *ret = st;
    return 0;
}

int store_history_latest(struct store *s, int64_t ticket_id, size_t limit, store_history_fn *fn,
                         void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int r = latest_bind(s, history_latest_sql, ticket_id, limit, "listing history", &st, reterr);
    return r < 0 ? r : history_rows(s, st, fn, userdata, reterr);
}

int store_outbox_add(struct store *s, const struct store_outbox *o, int64_t *ret_id,
                     bool *ret_added, struct slad_error *reterr)
{
    const char *state = store_outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_ADD];
    struct binder b = {st, SQLITE_OK};
    if (o->ticket_id)
        bind_int64(&b, 1, o->ticket_id);
    else
        bind_null(&b, 1);
    bind_text(&b, 2, o->event);
    bind_text(&b, 3, o->channel);
    bind_text(&b, 4, o->recipient);
    bind_text(&b, 5, o->idempotency_key);
    bind_text(&b, 6, state);
    bind_int64(&b, 7, o->attempts);
    bind_time(&b, 8, o->next_attempt_ms);
    bind_text(&b, 9, o->last_error);
    bind_text(&b, 10, o->payload);
    bind_int64(&b, 11, o->created_ms);
    bind_time(&b, 12, o->sent_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "queueing a notification", reterr);
    }
    int r = store_run(s, st, "queueing a notification", reterr);
    if (r < 0)
        return r;
    bool added = sqlite3_changes(s->db) > 0;
    if (ret_id)
        *ret_id = added ? sqlite3_last_insert_rowid(s->db) : 0;
    if (ret_added)
        *ret_added = added;
    return 0;
}

int store_outbox_update(struct store *s, const struct store_outbox *o, struct slad_error *reterr)
{
    const char *state = store_outbox_state_name(o->state);
    if (!state)
        return slad_error_set(reterr, EINVAL, "database: bad outbox state %d", (int)o->state);
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_UPDATE];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, o->id);
    bind_text(&b, 2, state);
    bind_text(&b, 3, o->channel);
    bind_int64(&b, 4, o->attempts);
    bind_time(&b, 5, o->next_attempt_ms);
    bind_text(&b, 6, o->last_error);
    bind_time(&b, 7, o->sent_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "updating a notification", reterr);
    }
    int r = store_run(s, st, "updating a notification", reterr);
    if (r < 0)
        return r;
    if (sqlite3_changes(s->db) == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", o->id);
    return 0;
}

/* Step st (columns OUTBOX_COLUMNS) and call fn on each row; *ret_rows counts them. */
static int outbox_rows(struct store *s, sqlite3_stmt *st, store_outbox_fn *fn, void *userdata,
                       size_t *ret_rows, struct slad_error *reterr)
{
    int rc, r = 0;
    size_t rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int state = store_outbox_state_from_name(column_text(st, 6));
        if (state < 0) {
            r = slad_error_set(reterr, EIO,
                               "database: notification %" PRId64 " has an unknown "
                               "state",
                               (int64_t)sqlite3_column_int64(st, 0));
            break;
        }
        struct store_outbox o = {
            .id = sqlite3_column_int64(st, 0),
            .ticket_id = sqlite3_column_int64(st, 1), /* NULL reads as 0 */
            .event = column_text(st, 2),
            .channel = column_text(st, 3),
            .recipient = column_text(st, 4),
            .idempotency_key = column_text(st, 5),
            .state = state,
            .attempts = sqlite3_column_int(st, 7),
            .next_attempt_ms = column_time(st, 8),
            .last_error = column_text(st, 9),
            .payload = column_text(st, 10),
            .created_ms = sqlite3_column_int64(st, 11),
            .sent_ms = column_time(st, 12),
        };
        rows++;
        r = fn(userdata, &o);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc, "listing notifications", reterr);
    sqlite3_reset(st);
    *ret_rows = rows;
    return r < 0 ? r : 0;
}

int store_outbox_list(struct store *s, const struct store_outbox_filter *f, store_outbox_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_LIST];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, f->after_id);
    if (f->state >= 0)
        bind_text(&b, 2, store_outbox_state_name(f->state));
    else
        bind_null(&b, 2);
    if (f->ticket_id)
        bind_int64(&b, 3, f->ticket_id);
    else
        bind_null(&b, 3);
    bind_time(&b, 4, f->due_ms);
    bind_limit(&b, 5, f->limit);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "listing notifications", reterr);
    }
    size_t rows;
    return outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_latest(struct store *s, int64_t ticket_id, size_t limit, store_outbox_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int r =
        latest_bind(s, outbox_latest_sql, ticket_id, limit, "listing notifications", &st, reterr);
    size_t rows;
    return r < 0 ? r : outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_get(struct store *s, int64_t id, store_outbox_fn *fn, void *userdata,
                     struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_GET];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    if (b.rc != SQLITE_OK)
        return fail(s, b.rc, "loading a notification", reterr);
    size_t rows;
    int r = outbox_rows(s, st, fn, userdata, &rows, reterr);
    if (r < 0)
        return r;
    if (rows == 0)
        return slad_error_set(reterr, ENOENT, "notification %" PRId64 " not found", id);
    return 0;
}

int store_outbox_due(struct store *s, int64_t now_ms, int64_t after_ms, int64_t after_id,
                     size_t limit, store_outbox_fn *fn, void *userdata, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_DUE];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, now_ms);
    bind_limit(&b, 2, limit);
    bind_int64(&b, 3, after_ms);
    bind_int64(&b, 4, after_id);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "listing due notifications", reterr);
    }
    size_t rows;
    return outbox_rows(s, st, fn, userdata, &rows, reterr);
}

int store_outbox_next_due(struct store *s, int64_t *ret_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_NEXT_DUE];
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW)
        *ret_ms =
            sqlite3_column_type(st, 0) == SQLITE_NULL ? SLAD_NO_TIME : sqlite3_column_int64(st, 0);
    else
        r = fail(s, rc, "finding the next notification", reterr);
    sqlite3_reset(st);
    return r;
}

int store_outbox_requeue_sending(struct store *s, int64_t now_ms, size_t *ret_n,
                                 struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_REQUEUE];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, now_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "re-queueing notifications", reterr);
    }
    int r = store_run(s, st, "re-queueing notifications", reterr);
    if (r < 0)
        return r;
    if (ret_n)
        *ret_n = (size_t)sqlite3_changes(s->db);
    return 0;
}

int store_outbox_requeue(struct store *s, int64_t id, int64_t now_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = s->stmt[ST_OUTBOX_RETRY];
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    bind_int64(&b, 2, now_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(s, b.rc, "re-queueing a notification", reterr);
    }
    int r = store_run(s, st, "re-queueing a notification", reterr);
    if (r < 0)
        return r;
    if (sqlite3_changes(s->db) == 0)
        return slad_error_set(reterr, EBUSY, "notification %" PRId64 " is not dead", id);
    return 0;
}

int store_counts(struct store *s, struct store_counts *ret, struct slad_error *reterr)
{
    struct store_counts c;
    memset(&c, 0, sizeof(c));
    sqlite3_stmt *st = s->stmt[ST_COUNTS];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *what = column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        int i;
        if (!what)
            continue;
        if (strncmp(what, "ticket ", 7) == 0 && (i = ticket_status_from_name(what + 7)) >= 0)
            c.tickets[i] = n;
        else if (strncmp(what, "outbox ", 7) == 0 &&
                 (i = store_outbox_state_from_name(what + 7)) >= 0)
            c.notifications[i] = n;
        else if (strcmp(what, "breached") == 0)
            c.breached_clocks = n;
    }
    int r = rc == SQLITE_DONE ? 0 : fail(s, rc, "reading the counts", reterr);
    sqlite3_reset(st);
    if (r < 0)
        return r;
    *ret = c;
    return 0;
}
