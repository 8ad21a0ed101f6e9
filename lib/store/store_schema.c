/* store_schema.c - the schema of slad's database and its migrations.
 *
 * Schema (version 12). Instants are INTEGER ms since the epoch, UTC; NULL = none.
 *
 *   tickets   id INTEGER PRIMARY KEY, source, external_id (UNIQUE together: idempotent
 *             intake), title, description, severity, grade, region, team, assignee,
 *             customer_name/phone/address, device_model/serial, fault_code,
 *             labels (JSON object text until version 6), reported_at_ms,
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
 *   ticket_labels (version 6) PRIMARY KEY (ticket_id, pos), WITHOUT ROWID, key, value:
 *             a ticket's labels in their order, one b-tree range.
 *   history   id, ticket_id, at_ms (when it happened or was due), created_ms (when
 *             recorded), kind ("create", "event", "patch", or an effect kind), data
 *             (JSON object text), late (0/1). Index (ticket_id, id).
 *   outbox    id, ticket_id, event, channel, recipient, idempotency_key UNIQUE, state
 *             (pending|sending|sent|dead), attempts, next_attempt_ms, last_error, payload
 *             (JSON object text), created_ms, sent_ms. Indexes (state, next_attempt_ms)
 *             for delivery and (ticket_id, id) for a ticket's notifications.
 *             Version 7: contact (the person a role resolved to, as in the payload;
 *             NULL for channels and the customer) and retried_ms (the latest manual
 *             retry; created_ms stays the instant the notification was queued).
 *             Version 9: address, deferred (0|1), group_id; indexes outbox_grouping
 *             (the pending rows of one address on a channel) and outbox_group (the rows
 *             of one message).
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
 *   schedule_overrides (version 7) id (AUTOINCREMENT: never reused), schedule (name),
 *             contact (name), from_ms, to_ms (to_ms > from_ms), created_ms: a person
 *             put on call instead of the rota (store_schedule.c). Index
 *             schedule_overrides_end (to_ms): the overrides still running, of one
 *             schedule or of all (a step that fires).
 *   console_sessions (version 10) token_sha256 (TEXT PRIMARY KEY: the hex SHA-256 of the
 *             cookie's token, never the token), contact (name), csrf (the session's
 *             CSRF token), created_ms, last_seen_ms (written at most once a minute):
 *             the console's sign-ins (store_session.c; core's session.h for expiry).
 *             Index console_sessions_seen (last_seen_ms) for the purge.
 *   (version 11) tickets.due_ms (the earliest due of its running clocks, the board's
 *             order; index tickets_due), clocks.risk_at_ms (a running clock at risk from
 *             then; index clocks_risk), action_links: id, code_hash (hex SHA-256 of the
 *             link's code) UNIQUE, ticket_id, contact, created_ms, expires_ms, used_ms,
 *             used_action (store_action.c).
 *   (version 12) tickets_status, clocks_state and clocks_report dropped (nothing read
 *             them); clocks_late (ticket_id) WHERE breached or paused past its due, for
 *             the board; history.more_entries: the further entries of the operation that
 *             wrote the row (store_history.c), so that one operation writes one row;
 *             the outbox's CHECK on state as comparisons instead of an IN list (the same
 *             rule; OUTBOX_CHECK_AS_COMPARISONS).
 *
 * Migrations: migrations[i] brings user_version i to i + 1; store_open applies the missing
 * ones in one transaction and refuses a database newer than the table. Never edit a
 * released migration: append a new one. */
#include "migration_sql.h"
#include "store.h"
#include "store_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The outbox's CHECK on state as version 1 wrote it, and the same rule as comparisons.
 * SQLite evaluates a constant IN list of more than two values through a temporary index it
 * builds for each row written (a pager and a B-tree opened, filled and closed): 23 of the
 * 35 us of each UPDATE of an outbox row, and a delivery writes its row twice (measured,
 * PERFORMANCE.md "Notifications"). Migration 12 rewrites the one as the other in place:
 * the rule is the same, so the rows stay valid (SQLite's own procedure for a change that
 * leaves the stored content alone: writable_schema, then a new schema cookie, which
 * store_migrate sets after this migration, so that connections read the schema again).
 * In SQLite's words only: PostgreSQL's IN list costs no such index. A database that a
 * build of before left at 12 with the IN list gets these lines alone
 * (at_12_without_rewrite). */
#define OUTBOX_STATE_IN "CHECK (state IN (''pending'', ''sending'', ''sent'', ''dead''))"
#define OUTBOX_STATE_CMP                                                                           \
    "CHECK (state = ''pending'' OR state = ''sending'' OR state = ''sent'' OR state = ''dead'')"
#define OUTBOX_CHECK_AS_COMPARISONS                                                                \
    "PRAGMA writable_schema = ON;"                                                                 \
    "UPDATE sqlite_schema SET sql = replace(sql, '" OUTBOX_STATE_IN "', '" OUTBOX_STATE_CMP "')"   \
    " WHERE type = 'table' AND name = 'outbox';"                                                   \
    "PRAGMA writable_schema = OFF;"

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
    /* 6: labels in rows of their own, so that the store needs no JSON library: the JSON
     * objects of tickets.labels become rows in their order (json_each reads objects in
     * order, and its ids grow with it). Text that slad could not read either (not an
     * object, a value that is not a string) made its ticket fail to load: it is dropped,
     * and the ticket loads again. */
    "CREATE TABLE ticket_labels ("
    " ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,"
    " pos INTEGER NOT NULL,"
    " key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (ticket_id, pos)) WITHOUT ROWID;"
    "INSERT INTO ticket_labels (ticket_id, pos, key, value)"
    " SELECT t.id, row_number() OVER (PARTITION BY t.id ORDER BY j.id) - 1, j.key, j.value"
    " FROM (SELECT id, labels FROM tickets"
    "  WHERE json_valid(labels) AND json_type(labels) = 'object') AS t,"
    " json_each(t.labels) AS j WHERE j.type = 'text';"
    "ALTER TABLE tickets DROP COLUMN labels;",
    /* 7: a notification names the person it reaches (the payload held it, the API could
     * not show it), and a manual retry is recorded beside created_ms instead of over it. */
    "ALTER TABLE outbox ADD COLUMN contact TEXT;"
    "ALTER TABLE outbox ADD COLUMN retried_ms INTEGER;"
    "UPDATE outbox SET contact = json_extract(payload, '$.contact')"
    " WHERE json_valid(payload) AND json_type(payload, '$.contact') = 'text';",
    /* 8: on-call overrides. */
    "CREATE TABLE schedule_overrides ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* an id is never reused: DELETE by id */
    " schedule TEXT NOT NULL, contact TEXT NOT NULL,"
    " from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX schedule_overrides_end ON schedule_overrides (to_ms);",
    /* 9: quiet hours and storm grouping (issue 14). address: where the row goes on its
     * channel, which grouping compares; deferred: quiet hours held it back; group_id: the
     * row of the grouped message that carries it (a grouped message's row names itself).
     * outbox_grouping finds the rows waiting for one address, outbox_group a message's
     * rows. */
    "ALTER TABLE outbox ADD COLUMN address TEXT;"
    "ALTER TABLE outbox ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN group_id INTEGER;"
    "CREATE INDEX outbox_grouping ON outbox (channel, address, next_attempt_ms)"
    " WHERE state = 'pending' AND group_id IS NULL;"
    "CREATE INDEX outbox_group ON outbox (group_id, id) WHERE group_id IS NOT NULL;",
    /* 10: the console's sign-in sessions (issue 13). The token's SHA-256, not the token:
     * a copy of the database signs nobody in. console_sessions_seen finds the idle ones
     * to purge. */
    "CREATE TABLE console_sessions ("
    " token_sha256 TEXT PRIMARY KEY,"
    " contact TEXT NOT NULL, csrf TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX console_sessions_seen ON console_sessions (last_seen_ms);",
    /* 11: the console's board and action links (issue 13). tickets.due_ms: the earliest due instant
     * of its running clocks (ticket_due_key; 9223372036854775807 when none), indexed for the
     * board's order (sort=due) so that a page of 10,000 open tickets is a range of the index, not
     * a sort. clocks.risk_at_ms: when a running clock has a quarter of its target left
     * (computed by the clock on its calendar; for the clocks running now, counted back
     * from their due in wall time until they are written again), indexed for the board's
     * count. action_links: the codes of the links in notifications (store_action.c),
     * SHA-256 of the code only. */
    "ALTER TABLE tickets ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 9223372036854775807;"
    "UPDATE tickets SET due_ms = coalesce((SELECT min(c.due_at_ms) FROM clocks c"
    " WHERE c.ticket_id = tickets.id AND c.state IN ('running', 'breached')"
    " AND c.due_at_ms IS NOT NULL), 9223372036854775807);"
    "CREATE INDEX tickets_due ON tickets (due_ms);"
    "ALTER TABLE clocks ADD COLUMN risk_at_ms INTEGER;"
    "UPDATE clocks SET risk_at_ms = due_at_ms - target_ms / 4"
    " WHERE state = 'running' AND due_at_ms IS NOT NULL;"
    "CREATE INDEX clocks_risk ON clocks (risk_at_ms) WHERE state = 'running';"
    "CREATE TABLE action_links ("
    " id INTEGER PRIMARY KEY,"
    " code_hash TEXT NOT NULL UNIQUE,"
    " ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,"
    " contact TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " used_ms INTEGER, used_action TEXT);"
    "CREATE INDEX action_links_expiry ON action_links (expires_ms);",
    /* 12: fewer b-tree writes per ticket (issue 16). Indexes nothing reads go: every
     * ticket and clock write paid for them (the lists filter status and state on the
     * rows they already read, the gauges read counts, the report clocks_period). The
     * board's late clocks get a partial index that only those clocks are in.
     * history.more_entries: the entries an operation recorded after the row's own, in
     * one row (store_history.c): a ticket's creation wrote four rows. The outbox's CHECK
     * as comparisons (above). */
    MIGRATION_SQL_12 OUTBOX_CHECK_AS_COMPARISONS,
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
    return N_MIGRATIONS;
}

/* The integer a PRAGMA (user_version, schema_version) or a count answers. */
static int read_int(sqlite3 *db, const char *sql, int *ret, struct slad_error *reterr)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *ret = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    int r = rc == SQLITE_OK ? 0 : store_fail_rc(db, rc, "reading the schema version", reterr);
    sqlite3_finalize(st);
    return r;
}

static int read_user_version(sqlite3 *db, int *ret, struct slad_error *reterr)
{
    return read_int(db, "PRAGMA user_version", ret, reterr);
}

/* A migration may rewrite sqlite_schema in place (writable_schema), which leaves the schema
 * cookie alone. A new one, set through the pragma, makes this connection read the schema
 * again before its next statement (a later migration's ALTER TABLE would otherwise splice
 * its column into the text at an offset of the old one: "error in table outbox after add
 * column") and every other connection after the commit. */
static int renew_schema_cookie(sqlite3 *db, struct slad_error *reterr)
{
    int cookie = 0;
    int r = read_int(db, "PRAGMA schema_version", &cookie, reterr);
    if (r < 0)
        return r;
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA schema_version = %d", cookie + 1);
    return store_exec(db, pragma, "renewing the schema cookie", reterr);
}

/* Whether a migration rewrites sqlite_schema's text in place (writable_schema): only such a
 * one leaves the cookie as it was. The others change the schema by DDL, which renews the
 * cookie itself; a renewal after each of them too made the migrating connection read the
 * whole schema again after every migration (twelve times on a new database, on every
 * open of one that a power cut left unmigrated). */
static bool rewrites_schema_text(const char *migration)
{
    return strstr(migration, "PRAGMA writable_schema = ON") != NULL;
}

/* Whether db is at version 12 without migration 12's last lines: builds of before ran the
 * outbox's rewrite after the migration, in a transaction of its own (an open that failed
 * between the two, or a build that had the migration without the rewrite, left it out).
 * Read only at version 12: any database that goes through migration 12 now has it. */
static int at_12_without_rewrite(sqlite3 *db, int version, int *ret, struct slad_error *reterr)
{
    *ret = 0;
    if (version != 12)
        return 0;
    return read_int(db,
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                    " AND name = 'outbox' AND instr(sql, '" OUTBOX_STATE_IN "') > 0",
                    ret, reterr);
}

int store_migrate(sqlite3 *db, const char *path, struct slad_error *reterr)
{
    int version = 0, unfinished = 0;
    int r = read_user_version(db, &version, reterr);
    if (r == 0)
        r = at_12_without_rewrite(db, version, &unfinished, reterr);
    if (r < 0)
        return r;
    if (version == N_MIGRATIONS && !unfinished)
        return 0;
    if (version < 0 || version > N_MIGRATIONS)
        return slad_error_set(reterr, ENOTSUP,
                              "database '%s' has schema version %d, newer than this slad knows "
                              "(%d): it was written by a newer slad; run that version or "
                              "restore a backup",
                              path, version, N_MIGRATIONS);
    r = store_exec(db, "BEGIN IMMEDIATE", "starting the schema migration", reterr);
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
    r = at_12_without_rewrite(db, version, &unfinished, reterr); /* again, under the lock */
    if (r == 0 && unfinished)
        r = store_exec(db, OUTBOX_CHECK_AS_COMPARISONS, "finishing migration 12", reterr);
    if (r == 0 && unfinished)
        r = renew_schema_cookie(db, reterr);
    if (r < 0)
        goto fail;
    for (int v = version; v < N_MIGRATIONS; v++) {
        char op[64];
        snprintf(op, sizeof(op), "migrating the schema to version %d", v + 1);
        r = store_exec(db, migrations[v], op, reterr);
        if (r == 0 && rewrites_schema_text(migrations[v]))
            r = renew_schema_cookie(db, reterr);
        if (r < 0)
            goto fail;
    }
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", N_MIGRATIONS);
    r = store_exec(db, pragma, "setting the schema version", reterr);
    if (r < 0)
        goto fail;
    r = store_exec(db, "COMMIT", "committing the schema migration", reterr);
    if (r < 0)
        goto fail;
    return 0;
fail:
    /* A migration that failed between its writable_schema ON and OFF left it on. */
    sqlite3_exec(db, "PRAGMA writable_schema = OFF", NULL, NULL, NULL);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}
