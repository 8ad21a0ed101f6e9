/* test-store.c - the store on ":memory:" and on temporary files, and (meson test
 * store-postgres, SLAD_TEST_DB=postgres under scripts/with-postgres.sh) on a PostgreSQL
 * database emptied before each case: migrations and the schema version, refusing a newer
 * database, a ticket with every field and its clocks
 * written and read back, the (source, external_id) key, list filters and pagination,
 * history, outbox idempotency keys, the agenda index, the repeat-fault window,
 * transactions and savepoints, counts, and the mapping of SQLite errors. The cases about
 * SQLite's own files (PRAGMAs, read-only URIs, the WAL) are skipped on PostgreSQL, saying
 * so; test-store-pg.c covers store_open's own work there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_internal.h"
#include "store_reader.h"
#include "store_wal.h"
#include "store_retention.h"
#include "store_schedule.h"
#include "testdb.h"
#include "ticket.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

/* A temporary directory per test run, removed at the end. */
static char tmpdir[64];

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void remove_db(const char *path)
{
    char p[256];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

/* True (and says why) when a case is about SQLite's own files: skipped on PostgreSQL. */
static bool sqlite_only(const char *why)
{
    if (!testdb_on_postgres())
        return false;
    printf("on PostgreSQL: %s\n", why);
    skip();
    return true;
}

/* A fresh store: ":memory:" on SQLite, an emptied database on PostgreSQL. */
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

/* A ticket with every field set, distinct per n. */
static void make_ticket(struct ticket *t, int n)
{
    char buf[64];
    ticket_init(t);
#define SET(field, fmt)                                                                            \
    do {                                                                                           \
        snprintf(buf, sizeof(buf), fmt, n);                                                        \
        assert_int_equal(ticket_set_string(&t->field, buf), 0);                                    \
    } while (0)
    assert_int_equal(ticket_set_string(&t->source, "crm"), 0);
    SET(external_id, "ext-%d");
    SET(title, "冰箱不制冷 %d");
    SET(description, "line one\nline two '%d'");
    assert_int_equal(ticket_set_string(&t->grade, "A"), 0);
    assert_int_equal(ticket_set_string(&t->region, "city"), 0);
    assert_int_equal(ticket_set_string(&t->team, "north"), 0);
    assert_int_equal(ticket_set_string(&t->assignee, "zhang.san"), 0);
    SET(customer_name, "王五 %d");
    SET(customer_phone, "+861380000%04d");
    SET(customer_address, "1 Road %d");
    SET(device_model, "RF-%d");
    SET(device_serial, "SN%d");
    SET(fault_code, "E%d");
    assert_int_equal(ticket_set_string(&t->policy, "critical-city"), 0);
#undef SET
    t->severity = 1 + n % 5;
    assert_int_equal(ticket_set_label(t, "channel", "hotline"), 0);
    assert_int_equal(ticket_set_label(t, "vip", "是"), 0);
    t->reported_at_ms = T0 + n * 1000;
    t->appointment_at_ms = T0 + 7200000;
    t->created_at_ms = T0 + n * 1000 + 5;
    t->updated_at_ms = T0 + n * 1000 + 6;
    t->status = TICKET_ON_HOLD;
    t->held_from = TICKET_DISPATCHED;
    t->reopen_count = 2;
    t->repeat_count = 3;
    t->event_last_ms[TICKET_EVENT_DISPATCH] = T0 + 60000;
    t->event_last_ms[TICKET_EVENT_HOLD] = T0 + 120000;
    t->event_last_ms[TICKET_EVENT_COMMENT] = T0 - 1; /* any value, even before T0 */
    t->reminders_fired = 0x5;
    t->n_clocks = 2;
    struct slaclock *c = &t->clocks[0];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "response");
    c->state = SLACLOCK_MET;
    c->target_ms = 3600000;
    c->elapsed_ms = 60000;
    c->since_ms = T0;
    c->started_at_ms = T0;
    c->stopped_at_ms = T0 + 60000;
    c->breached_at_ms = SLAD_NO_TIME;
    c->due_at_ms = T0 + 3600000;
    c->paused_breached = false;
    c->stop_event = TICKET_EVENT_DISPATCH;
    c->fired[0] = 1;
    c = &t->clocks[1];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "resolution");
    c->state = SLACLOCK_PAUSED;
    c->target_ms = 86400000;
    c->elapsed_ms = 90000000;
    c->since_ms = SLAD_NO_TIME;
    c->started_at_ms = T0;
    c->stopped_at_ms = SLAD_NO_TIME;
    c->breached_at_ms = T0 + 86400000;
    c->due_at_ms = T0 + 86400000;
    c->paused_breached = true;
    c->stop_event = -1;
    c->fired[0] = 3;
    c->fired[1] = 0;
    c->fired[2] = 65535;
    c->fired[SLACLOCK_MAX_STEPS - 1] = 7;
}

#define assert_str_eq_or_null(a, b, line)                                                          \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if ((a_ == NULL) != (b_ == NULL) || (a_ && strcmp(a_, b_) != 0))                           \
            fail_msg("line %d: %s: '%s' != '%s'", line, #a, a_ ? a_ : "(null)",                    \
                     b_ ? b_ : "(null)");                                                          \
    } while (0)

#define assert_i64_eq(a, b, line)                                                                  \
    do {                                                                                           \
        int64_t a_ = (a), b_ = (b);                                                                \
        if (a_ != b_)                                                                              \
            fail_msg("line %d: %s: %" PRId64 " != %" PRId64, line, #a, a_, b_);                    \
    } while (0)

static void ticket_equal(const struct ticket *a, const struct ticket *b, int line)
{
    assert_i64_eq(a->id, b->id, line);
    assert_str_eq_or_null(a->source, b->source, line);
    assert_str_eq_or_null(a->external_id, b->external_id, line);
    assert_str_eq_or_null(a->title, b->title, line);
    assert_str_eq_or_null(a->description, b->description, line);
    assert_i64_eq(a->severity, b->severity, line);
    assert_str_eq_or_null(a->grade, b->grade, line);
    assert_str_eq_or_null(a->region, b->region, line);
    assert_str_eq_or_null(a->team, b->team, line);
    assert_str_eq_or_null(a->assignee, b->assignee, line);
    assert_str_eq_or_null(a->customer_name, b->customer_name, line);
    assert_str_eq_or_null(a->customer_phone, b->customer_phone, line);
    assert_str_eq_or_null(a->customer_address, b->customer_address, line);
    assert_str_eq_or_null(a->device_model, b->device_model, line);
    assert_str_eq_or_null(a->device_serial, b->device_serial, line);
    assert_str_eq_or_null(a->fault_code, b->fault_code, line);
    assert_str_eq_or_null(a->policy, b->policy, line);
    assert_i64_eq((int64_t)a->n_labels, (int64_t)b->n_labels, line);
    for (size_t i = 0; i < a->n_labels; i++)
        assert_str_eq_or_null(ticket_label(b, a->labels[i].key), a->labels[i].value, line);
    assert_i64_eq(a->reported_at_ms, b->reported_at_ms, line);
    assert_i64_eq(a->appointment_at_ms, b->appointment_at_ms, line);
    assert_i64_eq(a->created_at_ms, b->created_at_ms, line);
    assert_i64_eq(a->updated_at_ms, b->updated_at_ms, line);
    assert_i64_eq(a->status, b->status, line);
    assert_i64_eq(a->held_from, b->held_from, line);
    assert_i64_eq(a->reopen_count, b->reopen_count, line);
    assert_i64_eq(a->repeat_count, b->repeat_count, line);
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        assert_i64_eq(a->event_last_ms[e], b->event_last_ms[e], line);
    assert_i64_eq(a->reminders_fired, b->reminders_fired, line);
    assert_i64_eq((int64_t)a->n_clocks, (int64_t)b->n_clocks, line);
    for (size_t i = 0; i < a->n_clocks; i++) {
        const struct slaclock *x = &a->clocks[i], *y = &b->clocks[i];
        assert_str_eq_or_null(x->name, y->name, line);
        assert_i64_eq(x->state, y->state, line);
        assert_i64_eq(x->target_ms, y->target_ms, line);
        assert_i64_eq(x->elapsed_ms, y->elapsed_ms, line);
        assert_i64_eq(x->since_ms, y->since_ms, line);
        assert_i64_eq(x->started_at_ms, y->started_at_ms, line);
        assert_i64_eq(x->stopped_at_ms, y->stopped_at_ms, line);
        assert_i64_eq(x->breached_at_ms, y->breached_at_ms, line);
        assert_i64_eq(x->due_at_ms, y->due_at_ms, line);
        assert_i64_eq(x->paused_breached, y->paused_breached, line);
        assert_i64_eq(x->stop_event, y->stop_event, line);
        for (int k = 0; k < SLACLOCK_MAX_STEPS; k++)
            assert_i64_eq(x->fired[k], y->fired[k], line);
    }
}

static int64_t insert(struct store *s, struct ticket *t, int64_t next_ms, int line)
{
    struct slad_error err = {{0}};
    int r = store_ticket_insert(s, t, next_ms, &err);
    if (r < 0)
        fail_msg("line %d: insert: %d %s", line, r, err.msg);
    assert_true(t->id > 0);
    return t->id;
}

/* PRAGMA user_version and the table names of a database file, read behind the store. */
static int file_user_version(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void file_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void test_migrations(void **state)
{
    (void)state;
    if (sqlite_only("migrations of a SQLite file (PRAGMA user_version, sqlite_schema, WAL); "
                    "test-store-pg covers PostgreSQL's"))
        return;
    char path[128];
    tmp_path(path, sizeof(path), "migrate.db");
    remove_db(path);
    assert_true(store_schema_version() >= 1);

    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, false, &s, &err), 0);
    store_close(s);
    assert_int_equal(file_user_version(path), store_schema_version());

    /* Every table and index of the schema comment exists; WAL mode sticks to the file. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    static const char *const objects[] = {
        "tickets",
        "clocks",
        "history",
        "outbox",
        "tickets_next",
        "tickets_repeat",
        "clocks_late",
        "clocks_period",
        "outbox_due",
        "history_ticket",
        "tickets_retention",
        "ticket_labels",
        "schedule_overrides",
        "schedule_overrides_end",
    };
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        sqlite3_stmt *st;
        assert_int_equal(
            sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE name = ?1", -1, &st, NULL),
            SQLITE_OK);
        sqlite3_bind_text(st, 1, objects[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            fail_msg("schema object '%s' missing", objects[i]);
        sqlite3_finalize(st);
    }
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* Opening again migrates nothing and keeps the data. */
    assert_int_equal(store_open(path, true, &s, &err), 0);
    struct ticket t;
    make_ticket(&t, 1);
    insert(s, &t, INT64_MAX, __LINE__);
    ticket_done(&t);
    store_close(s);
    assert_int_equal(store_open(path, true, &s, &err), 0);
    struct ticket u;
    assert_int_equal(store_ticket_load(s, 1, &u, &err), 0);
    ticket_done(&u);
    store_close(s);
    remove_db(path);
}

/* The outbox's CREATE TABLE text in the file at path, malloc'd. */
static char *file_outbox_sql(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE name = 'outbox'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *sql = strdup((const char *)sqlite3_column_text(st, 0));
    assert_non_null(sql);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return sql;
}

static const char outbox_state_cmp[] =
    "CHECK (state = 'pending' OR state = 'sending' OR state = 'sent' OR state = 'dead')";
static const char outbox_state_in[] = "CHECK (state IN ('pending', 'sending', 'sent', 'dead'))";

/* The outbox's rule on state holds on a database file (a state it does not know is
 * refused, a row's state changes), its row k1 is there, and the file is sound. */
static void assert_outbox_rule_holds(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO outbox (event, recipient, idempotency_key,"
                                  " state, created_ms) VALUES ('e', 'r', 'k2', 'lost', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE outbox SET state = 'sent' WHERE idempotency_key = 'k1'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static const char outbox_row_k1[] =
    "INSERT INTO outbox (event, recipient, idempotency_key, state, created_ms)"
    " VALUES ('e', 'r', 'k1', 'pending', 1);";

/* Migration 12 writes the outbox's CHECK on state as comparisons (SQLite builds a
 * temporary index for an IN list on every row written), in the migration's transaction:
 * a database at 12 has it. The connection that migrated reads the schema again (its
 * ALTER TABLE splices at the offsets of the text it parsed), as any other does. */
static void test_migration_12_outbox_check(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's sqlite_schema; PostgreSQL's CHECK keeps its IN list"))
        return;
    char path[128];
    tmp_path(path, sizeof(path), "check.db");
    remove_db(path);
    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, false, &s, &err), 0);
    char *msg = NULL;
    if (sqlite3_exec(s->db, "ALTER TABLE outbox ADD COLUMN probe TEXT", NULL, NULL, &msg) !=
        SQLITE_OK)
        fail_msg("the migrating connection kept the outbox's old text: %s", msg);
    store_close(s);
    assert_int_equal(file_user_version(path), store_schema_version());
    char *sql = file_outbox_sql(path);
    assert_null(strstr(sql, "state IN"));
    assert_non_null(strstr(sql, outbox_state_cmp));
    assert_non_null(strstr(sql, "probe TEXT)"));
    free(sql);
    file_exec(path, outbox_row_k1);
    assert_outbox_rule_holds(path);
    remove_db(path);
}

static int64_t file_count(const char *path, const char *sql);

/* PRAGMA schema_version of the file at path: it changes with any change of the schema. */
static int file_schema_cookie(const char *path)
{
    return (int)file_count(path, "PRAGMA schema_version");
}

/* Puts the outbox's CHECK back as the IN list of before migration 12's rewrite. */
static const char outbox_check_as_in_list[] =
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (state = ''pending'' OR"
    " state = ''sending'' OR state = ''sent'' OR state = ''dead'')',"
    " 'CHECK (state IN (''pending'', ''sending'', ''sent'', ''dead''))')"
    " WHERE name = 'outbox';"
    "PRAGMA writable_schema = OFF;"
    "PRAGMA schema_version = 1000;";

/* Databases already at 12 end with the outbox's CHECK as comparisons: one with it (this
 * slad's, or a build's of before that rewrote it after the migration) opens without a
 * write to its schema; one without it (a build that had migration 12 without the rewrite,
 * or an open that failed between the two transactions of before) gets migration 12's
 * last lines alone. Their rows stay, and the rule holds on both. */
static void test_outbox_check_at_version_12(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's sqlite_schema"))
        return;
    for (int with_rewrite = 0; with_rewrite <= 1; with_rewrite++) {
        char path[128];
        tmp_path(path, sizeof(path), with_rewrite ? "at12-cmp.db" : "at12-in.db");
        remove_db(path);
        struct store *s = NULL;
        struct slad_error err = {{0}};
        assert_int_equal(store_open(path, false, &s, &err), 0);
        store_close(s);
        file_exec(path, outbox_row_k1);
        if (!with_rewrite)
            file_exec(path, outbox_check_as_in_list);
        char *before = file_outbox_sql(path);
        assert_non_null(strstr(before, with_rewrite ? outbox_state_cmp : outbox_state_in));
        int cookie = file_schema_cookie(path);
        assert_int_equal(store_open(path, false, &s, &err), 0);
        /* The connection that finished it reads the schema again. */
        char *msg = NULL;
        if (sqlite3_exec(s->db, "ALTER TABLE outbox ADD COLUMN probe TEXT", NULL, NULL, &msg) !=
            SQLITE_OK)
            fail_msg("the opening connection kept the outbox's old text: %s", msg);
        store_close(s);
        assert_int_equal(file_user_version(path), store_schema_version());
        char *after = file_outbox_sql(path);
        assert_null(strstr(after, "state IN"));
        assert_non_null(strstr(after, outbox_state_cmp));
        if (with_rewrite)
            assert_int_equal(file_schema_cookie(path), cookie + 1); /* the probe's ALTER only */
        free(before);
        free(after);
        assert_outbox_rule_holds(path);
        remove_db(path);
    }
}

/* The text of the data file name (SLAD_TEST_DATA), malloc'd. */
static char *read_data(const char *name)
{
    const char *dir = getenv("SLAD_TEST_DATA");
    assert_non_null(dir);
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    assert_true(n > 0 && n < (1 << 16) - 1);
    fclose(f);
    return text;
}

static int64_t file_count(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* An upgrade: a database written with schema version 1 (session 1's slad) opens with every
 * migration applied in one go, its rows intact, the report columns filled, the gauges'
 * counters right, and the new tables usable. */
static void test_upgrade_from_version_1(void **state)
{
    (void)state;
    if (sqlite_only("upgrades a version-1 SQLite file"))
        return;
    char path[128];
    tmp_path(path, sizeof(path), "v1.db");
    remove_db(path);
    char *sql = read_data("schema-v1.sql");
    file_exec(path, sql);
    free(sql);
    file_exec(path, "UPDATE outbox SET payload = '{\"recipient\":\"supervisor\","
                    "\"contact\":\"li.si\"}'");
    assert_int_equal(file_user_version(path), 1);

    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, true, &s, &err), 0);
    struct ticket t;
    assert_int_equal(store_ticket_load(s, 1, &t, &err), 0);
    assert_string_equal(t.title, "pump");
    assert_int_equal(t.n_clocks, 2);
    assert_int_equal(t.clocks[0].state, SLACLOCK_BREACHED);
    /* Version 6: labels move from JSON text into rows, in their order, escapes decoded. */
    static const char *const labels[][2] = {
        {"zone", "east"}, {"vip", "say \"gold\"\nnow"}, {"区域", "华北"}, {"note", ""}};
    assert_int_equal(t.n_labels, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(t.labels[i].key, labels[i][0]);
        assert_string_equal(t.labels[i].value, labels[i][1]);
    }
    ticket_done(&t);
    assert_int_equal(store_ticket_load(s, 2, &t, &err), 0);
    assert_int_equal(t.n_labels, 1);
    assert_string_equal(ticket_label(&t, "café"), "x");
    ticket_done(&t);
    struct gauges c;
    assert_int_equal(store_gauges(s, &c, &err), 0);
    assert_int_equal(c.tickets[TICKET_OPEN], 1);
    assert_int_equal(c.tickets[TICKET_RESOLVED], 1);
    assert_int_equal(c.tickets[TICKET_CLOSED], 1);
    assert_int_equal(c.breached_clocks, 1);
    /* Version 5: a closed ticket of before counts its age from its last recorded change
     * (never earlier than its last event), and retention finds it by that. */
    struct store_purge_cursor cursor = STORE_PURGE_START;
    struct store_purge_counts purged = {0};
    bool more = true;
    assert_int_equal(store_purge_batch(s, 1772439600000, 100, &cursor, &purged, &more, &err), 0);
    assert_int_equal(purged.tickets, 0); /* not older than the cutoff */
    cursor = STORE_PURGE_START;
    assert_int_equal(store_purge_batch(s, 1772439600001, 100, &cursor, &purged, &more, &err), 0);
    assert_int_equal(purged.tickets, 1);
    assert_false(more);
    assert_int_equal(store_ticket_load(s, 3, &t, &err), -ENOENT);
    assert_int_equal(c.notifications[OUTBOX_PENDING], 1);
    store_close(s);
    assert_int_equal(file_user_version(path), store_schema_version());
    assert_int_equal(file_count(path, "SELECT count(*) FROM clocks WHERE reported_at_ms IS NULL"
                                      " OR team IS NULL"),
                     0);
    assert_int_equal(file_count(path, "SELECT count(*) FROM followups"), 0);
    assert_int_equal(file_count(path, "SELECT count(*) FROM plans"), 0);
    assert_int_equal(file_count(path, "SELECT count(*) FROM tickets WHERE last_event_ms IS NULL"),
                     2); /* the open and the resolved ticket: set at their next write */
    assert_int_equal(file_count(path, "SELECT n FROM counts WHERE what = 'ticket closed'"), 0);
    assert_int_equal(file_count(path, "SELECT count(*) FROM ticket_labels"), 5);
    assert_int_equal(file_count(path, "SELECT count(*) FROM schedule_overrides"), 0);
    /* Version 9: quiet hours and grouping; the rows of before are neither. */
    assert_int_equal(file_count(path, "SELECT count(*) FROM outbox WHERE deferred = 0 AND"
                                      " address IS NULL AND group_id IS NULL"),
                     file_count(path, "SELECT count(*) FROM outbox"));
    assert_int_equal(file_count(path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                      " ('outbox_grouping', 'outbox_group')"),
                     2);
    assert_int_equal(
        file_count(path, "SELECT count(*) FROM pragma_table_info('tickets') WHERE name = 'labels'"),
        0);
    /* Version 12: the outbox's CHECK on state as comparisons. */
    char *outbox_sql = file_outbox_sql(path);
    assert_non_null(strstr(outbox_sql, outbox_state_cmp));
    free(outbox_sql);
    /* Version 7: a notification names its contact (read from the payload it kept); no
     * retry happened yet. */
    assert_int_equal(file_count(path, "SELECT count(*) FROM outbox WHERE contact = 'li.si'"
                                      " AND retried_ms IS NULL"),
                     1);
    remove_db(path);
}

/* Counts the statements that set the schema cookie (a trace callback). */
static int count_cookie_renewals(unsigned type, void *ctx, void *stmt, void *sql)
{
    (void)type;
    (void)stmt;
    if (strncmp(sql, "PRAGMA schema_version =", strlen("PRAGMA schema_version =")) == 0)
        (*(int *)ctx)++;
    return 0;
}

/* How many times store_migrate renews the schema cookie on the file at path. */
static int cookie_renewals_of_migrate(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int renewals = 0;
    assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_cookie_renewals, &renewals),
                     SQLITE_OK);
    struct slad_error err = {{0}};
    if (store_migrate(db, path, &err) < 0)
        fail_msg("store_migrate: %s", err.msg);
    sqlite3_close(db);
    assert_int_equal(file_user_version(path), store_schema_version());
    return renewals;
}

/* A renewed cookie makes every connection read the whole schema again: store_migrate
 * renews it only after a migration that rewrites the schema's text in place (12), never on
 * an up-to-date database, and once for a database at 12 that lacks the rewrite. */
static void test_schema_cookie_renewed_only_by_rewrite(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's schema cookie"))
        return;
    char path[128];
    tmp_path(path, sizeof(path), "cookie.db");
    remove_db(path);
    assert_int_equal(cookie_renewals_of_migrate(path), 1); /* new: 1 to 12, 12 rewrites */
    assert_int_equal(cookie_renewals_of_migrate(path), 0); /* up to date */
    file_exec(path, outbox_check_as_in_list);
    assert_int_equal(cookie_renewals_of_migrate(path), 1); /* at 12 without the rewrite */
    assert_int_equal(cookie_renewals_of_migrate(path), 0);
    remove_db(path);

    tmp_path(path, sizeof(path), "cookie-v1.db");
    remove_db(path);
    char *sql = read_data("schema-v1.sql");
    file_exec(path, sql);
    free(sql);
    assert_int_equal(cookie_renewals_of_migrate(path), 1); /* 2 to 12: only 12 rewrites */
    remove_db(path);
}

/* Labels that slad could not read (not a JSON object of strings) made their ticket fail to
 * load; the upgrade to version 6 drops them and keeps the rest of the ticket. */
static void test_upgrade_drops_unreadable_labels(void **state)
{
    (void)state;
    if (sqlite_only("upgrades a version-1 SQLite file"))
        return;
    char path[128];
    tmp_path(path, sizeof(path), "v1-bad-labels.db");
    remove_db(path);
    char *sql = read_data("schema-v1.sql");
    file_exec(path, sql);
    free(sql);
    file_exec(path, "UPDATE tickets SET labels = '{\"zone\":' WHERE id = 1;"
                    "UPDATE tickets SET labels = '[\"a\"]' WHERE id = 2;"
                    "UPDATE tickets SET labels = '{\"n\":1,\"k\":\"v\"}' WHERE id = 3;");
    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, true, &s, &err), 0);
    struct ticket t;
    for (int64_t id = 1; id <= 2; id++) {
        if (store_ticket_load(s, id, &t, &err) < 0)
            fail_msg("ticket %d: %s", (int)id, err.msg);
        assert_int_equal(t.n_labels, 0);
        ticket_done(&t);
    }
    assert_int_equal(store_ticket_load(s, 3, &t, &err), 0);
    assert_int_equal(t.n_labels, 1); /* the string one */
    assert_string_equal(ticket_label(&t, "k"), "v");
    ticket_done(&t);
    store_close(s);
    remove_db(path);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    if (sqlite_only("PRAGMA user_version; test-store-pg covers a newer PostgreSQL schema"))
        return;
    char path[128], sql[64];
    tmp_path(path, sizeof(path), "newer.db");
    remove_db(path);
    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, true, &s, &err), 0);
    store_close(s);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version() + 1);
    file_exec(path, sql);
    s = NULL;
    assert_int_equal(store_open(path, true, &s, &err), -ENOTSUP);
    assert_null(s);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "newer"));
    /* Nothing was changed by the refusal. */
    assert_int_equal(file_user_version(path), store_schema_version() + 1);
    remove_db(path);
}

static void test_ticket_round_trip(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    struct ticket t, u;
    make_ticket(&t, 7);
    int64_t id = insert(s, &t, T0 + 1000, __LINE__);
    assert_int_equal(store_ticket_load(s, id, &u, &err), 0);
    ticket_equal(&t, &u, __LINE__);
    ticket_done(&u);

    /* A ticket with nothing optional: NULLs and unset times come back as such. */
    struct ticket bare, bare2;
    ticket_init(&bare);
    assert_int_equal(ticket_set_string(&bare.title, "bare"), 0);
    bare.severity = 3;
    bare.reported_at_ms = T0;
    bare.created_at_ms = T0;
    bare.updated_at_ms = T0;
    insert(s, &bare, INT64_MAX, __LINE__);
    assert_int_equal(store_ticket_load(s, bare.id, &bare2, &err), 0);
    ticket_equal(&bare, &bare2, __LINE__);
    ticket_done(&bare2);
    ticket_done(&bare);

    /* Update: fields change, a clock goes away, labels shrink. */
    assert_int_equal(ticket_set_string(&t.assignee, NULL), 0);
    assert_int_equal(ticket_set_label(&t, "vip", NULL), 0);
    t.status = TICKET_RESOLVED;
    t.clocks[0] = t.clocks[1];
    t.n_clocks = 1;
    t.clocks[0].fired[SLACLOCK_MAX_STEPS - 1] = 0;
    t.event_last_ms[TICKET_EVENT_COMMENT] = SLAD_NO_TIME;
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), 0);
    assert_int_equal(store_ticket_load(s, id, &u, &err), 0);
    ticket_equal(&t, &u, __LINE__);
    ticket_done(&u);

    /* Unknown ids. */
    assert_int_equal(store_ticket_load(s, 999, &u, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "999"));
    t.id = 999;
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), -ENOENT);
    /* An id already set is a caller bug. */
    assert_int_equal(store_ticket_insert(s, &t, INT64_MAX, &err), -EINVAL);
    ticket_done(&t);
    store_close(s);
}

/* Rows the store's connection changed since it opened (triggers' included). */
static int64_t total_changes(struct store *s)
{
    return sqlite3_total_changes64(store_db(s));
}

/* Updates the ticket, then checks it loads as it is and that the update changed `rows`
 * rows: the ticket's, and only the clocks that changed (issue 16: a clock whose values are
 * the same is not written again). */
static void update_changes(struct store *s, struct ticket *t, int64_t rows, int line)
{
    struct slad_error err = {{0}};
    int64_t before = total_changes(s);
    if (store_ticket_update(s, t, INT64_MAX, &err) < 0)
        fail_msg("line %d: store_ticket_update: %s", line, err.msg);
    if (total_changes(s) - before != rows)
        fail_msg("line %d: %lld rows changed, expected %lld", line,
                 (long long)(total_changes(s) - before), (long long)rows);
    struct ticket u;
    assert_int_equal(store_ticket_load(s, t->id, &u, &err), 0);
    ticket_equal(t, &u, line);
    ticket_done(&u);
}

static void test_clocks_written_in_place(void **state)
{
    (void)state;
    if (sqlite_only("counts the rows SQLite changed (sqlite3_total_changes)"))
        return;
    struct store *s = open_mem();
    struct ticket t;
    make_ticket(&t, 1);
    assert_int_equal(ticket_set_label(&t, "channel", NULL), 0);
    assert_int_equal(ticket_set_label(&t, "vip", NULL), 0);
    insert(s, &t, INT64_MAX, __LINE__);
    update_changes(s, &t, 1, __LINE__); /* nothing changed but the ticket row */
    t.clocks[1].elapsed_ms += 1000;     /* one clock of two */
    update_changes(s, &t, 2, __LINE__);
    t.clocks[0].state = SLACLOCK_BREACHED; /* the breached counter's trigger too */
    t.clocks[0].breached_at_ms = T0 + 5;
    update_changes(s, &t, 3, __LINE__);
    struct slaclock c0 = t.clocks[0]; /* reordered: both rows move */
    t.clocks[0] = t.clocks[1];
    t.clocks[1] = c0;
    update_changes(s, &t, 3, __LINE__);
    t.n_clocks = 0; /* a policy that has none: both go (and the counter) */
    update_changes(s, &t, 4, __LINE__);
    t.n_clocks = 2; /* back: inserted */
    update_changes(s, &t, 4, __LINE__);
    /* Renamed (the breached one): one goes and one comes, each with the counter. */
    snprintf(t.clocks[1].name, sizeof(t.clocks[1].name), "onsite");
    update_changes(s, &t, 5, __LINE__);
    ticket_done(&t);
    store_close(s);
}

/* The shape store_ticket_update wrote with since the last call, read off two TEMP
 * triggers: "full" rewrote the intake key (source in SET), "state" the status and the
 * due instant, "clock" neither (SQLite only). */
static const char *update_shape(struct store *s)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT CASE WHEN 'full' IN shapes THEN 'full'"
                                        " WHEN 'state' IN shapes THEN 'state' ELSE 'clock' END",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *what = (const char *)sqlite3_column_text(st, 0);
    static const char *const names[] = {"clock", "full", "state"};
    const char *ret = NULL;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(what, names[i]) == 0)
            ret = names[i];
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM temp.shapes", NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(ret);
    return ret;
}

/* Updates t, checks that it loads as it is, and on SQLite that the update took the
 * expected shape (NULL: on PostgreSQL, not checked). */
static void update_as(struct store *s, struct ticket *t, int64_t next_ms, const char *shape,
                      int line)
{
    struct slad_error err = {{0}};
    if (store_ticket_update(s, t, next_ms, &err) < 0)
        fail_msg("line %d: store_ticket_update: %s", line, err.msg);
    struct ticket u;
    assert_int_equal(store_ticket_load(s, t->id, &u, &err), 0);
    ticket_equal(t, &u, line);
    ticket_done(&u);
    const char *got = testdb_on_postgres() ? shape : update_shape(s);
    if (strcmp(got, shape) != 0)
        fail_msg("line %d: expected the '%s' shape, not '%s'", line, shape, got);
}

/* Issue 16: a ticket's update writes the intake key, the status and the due instant only
 * when they changed (the narrow UPDATE shapes), and any change still lands; labels are
 * written in place. */
static void test_ticket_update_shapes(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    struct ticket t, other;
    make_ticket(&t, 1);
    make_ticket(&other, 2);
    insert(s, &t, INT64_MAX, __LINE__);
    insert(s, &other, INT64_MAX, __LINE__);
    if (!testdb_on_postgres()) {
        /* Labels in place: one changed, one dropped, one added: one row each. */
        update_changes(s, &t, 1, __LINE__);
        assert_int_equal(ticket_set_label(&t, "vip", "否"), 0);
        update_changes(s, &t, 2, __LINE__);
        assert_int_equal(ticket_set_label(&t, "channel", NULL), 0); /* "vip" moves up */
        update_changes(s, &t, 3, __LINE__);
        assert_int_equal(ticket_set_label(&t, "zone", "east"), 0);
        update_changes(s, &t, 2, __LINE__);
        assert_int_equal(sqlite3_exec(store_db(s),
                                      "CREATE TEMP TABLE shapes (what TEXT);"
                                      "CREATE TEMP TRIGGER shape_full AFTER UPDATE OF source"
                                      " ON main.tickets BEGIN"
                                      " INSERT INTO shapes VALUES ('full'); END;"
                                      "CREATE TEMP TRIGGER shape_state AFTER UPDATE OF due_ms"
                                      " ON main.tickets BEGIN"
                                      " INSERT INTO shapes VALUES ('state'); END;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    }
    /* A step: the clock's fired count, a reminder, the next instant. */
    t.clocks[0].fired[1] = 1;
    t.reminders_fired = 3;
    update_as(s, &t, T0 + 60000, "clock", __LINE__);
    update_as(s, &t, INT64_MAX, "clock", __LINE__);
    /* A clock starts running (again): the ticket has a due instant now. */
    t.clocks[0].state = SLACLOCK_RUNNING;
    update_as(s, &t, INT64_MAX, "state", __LINE__);
    /* It breaches: the due key stays (breached clocks count), the clock's state changes. */
    t.clocks[0].state = SLACLOCK_BREACHED;
    t.clocks[0].breached_at_ms = T0 + 5;
    update_as(s, &t, INT64_MAX, "clock", __LINE__);
    /* A paused clock's due moves: not the ticket's due instant. */
    t.clocks[1].due_at_ms += 60000;
    update_as(s, &t, INT64_MAX, "clock", __LINE__);
    /* An event: status and last event. */
    t.status = TICKET_ACKNOWLEDGED;
    t.event_last_ms[TICKET_EVENT_ACKNOWLEDGE] = T0 + 9000;
    t.updated_at_ms = T0 + 9000;
    update_as(s, &t, INT64_MAX, "state", __LINE__);
    /* A counting clock's due moves: the board's order. */
    t.clocks[0].due_at_ms += 3600000;
    update_as(s, &t, INT64_MAX, "state", __LINE__);
    /* The repeat-fault columns and the intake key: the full shape. */
    assert_int_equal(ticket_set_string(&t.device_serial, "SN-NEW"), 0);
    update_as(s, &t, INT64_MAX, "full", __LINE__);
    int64_t n = 0;
    assert_int_equal(store_repeat_count(s, "SN-NEW", "E1", T0, T0 + 86400000, &n, &err), 0);
    assert_int_equal(n, 1);
    t.reported_at_ms += 1;
    update_as(s, &t, INT64_MAX, "full", __LINE__);
    assert_int_equal(ticket_set_string(&t.external_id, "ext-moved"), 0);
    update_as(s, &t, INT64_MAX, "full", __LINE__);
    int64_t found = 0;
    assert_int_equal(store_ticket_find(s, "crm", "ext-moved", &found, &err), 0);
    assert_int_equal(found, t.id);
    assert_int_equal(store_ticket_find(s, "crm", "ext-1", &found, &err), -ENOENT);
    assert_int_equal(ticket_set_string(&t.source, NULL), 0); /* NULL compares as a value */
    update_as(s, &t, INT64_MAX, "full", __LINE__);
    update_as(s, &t, INT64_MAX, "clock", __LINE__);
    /* Closed: status and the retention index's last event. */
    t.status = TICKET_CLOSED;
    t.event_last_ms[TICKET_EVENT_CLOSE] = T0 + 20000;
    update_as(s, &t, INT64_MAX, "state", __LINE__);
    /* Another ticket's key is refused, and the row stays as it was. */
    assert_int_equal(ticket_set_string(&t.source, "crm"), 0);
    assert_int_equal(ticket_set_string(&t.external_id, "ext-2"), 0);
    assert_true(store_ticket_update(s, &t, INT64_MAX, &err) < 0);
    assert_int_equal(store_ticket_find(s, "crm", "ext-2", &found, &err), 0);
    assert_int_equal(found, other.id);
    /* A ticket that is not there: no shape matches. */
    t.id = other.id + 100;
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), -ENOENT);
    ticket_done(&t);
    ticket_done(&other);
    store_close(s);
}

static void test_unique_source_external_id(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    struct ticket a, b;
    make_ticket(&a, 1);
    make_ticket(&b, 1);
    int64_t id = insert(s, &a, INT64_MAX, __LINE__);
    assert_int_equal(store_ticket_insert(s, &b, INT64_MAX, &err), -EEXIST);
    assert_int_equal(b.id, 0);
    assert_non_null(strstr(err.msg, "'ext-1'"));

    int64_t found = 0;
    assert_int_equal(store_ticket_find(s, "crm", "ext-1", &found, &err), 0);
    assert_int_equal(found, id);
    found = -1;
    assert_int_equal(store_ticket_find(s, "other", "ext-1", &found, &err), -ENOENT);
    assert_int_equal(found, -1); /* ret_ untouched on failure */

    /* The same external_id from another source, and tickets without one, are distinct. */
    assert_int_equal(ticket_set_string(&b.source, "iot"), 0);
    insert(s, &b, INT64_MAX, __LINE__);
    for (int i = 0; i < 2; i++) {
        struct ticket c;
        make_ticket(&c, 1);
        assert_int_equal(ticket_set_string(&c.external_id, NULL), 0);
        insert(s, &c, INT64_MAX, __LINE__);
        ticket_done(&c);
    }
    ticket_done(&a);
    ticket_done(&b);
    store_close(s);
}

struct id_list {
    int64_t ids[64];
    size_t n;
    size_t stop_after; /* 0: never */
};

static int collect_ticket(void *userdata, const struct ticket *t)
{
    struct id_list *l = userdata;
    l->ids[l->n++] = t->id;
    /* Clocks come with listed tickets. */
    assert_true(t->n_clocks >= 1);
    return l->stop_after && l->n >= l->stop_after ? 1 : 0;
}

static void ids_equal(const struct id_list *l, const int64_t *want, size_t n, int line)
{
    char got[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < l->n && len < sizeof(got); i++)
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%" PRId64 " ", l->ids[i]);
    if (l->n != n)
        fail_msg("line %d: %zu ids (%s), want %zu", line, l->n, got, n);
    for (size_t i = 0; i < n; i++)
        if (l->ids[i] != want[i])
            fail_msg("line %d: ids %s, want #%zu = %" PRId64, line, got, i, want[i]);
}

static void test_list_filters(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    /* ids 1..6: status, policy, team, and the second clock's state. */
    static const struct {
        enum ticket_status status;
        const char *policy, *team;
        enum slaclock_state clock;
        bool paused_breached;
    } rows[] = {
        {TICKET_OPEN, "p1", "north", SLACLOCK_RUNNING, false},
        {TICKET_OPEN, "p2", "south", SLACLOCK_BREACHED, false},
        {TICKET_RESOLVED, "p1", "north", SLACLOCK_MISSED, false},
        {TICKET_ON_HOLD, "p1", "south", SLACLOCK_PAUSED, true},
        {TICKET_CLOSED, "p2", "north", SLACLOCK_MET, false},
        {TICKET_ACKNOWLEDGED, "p1", "north", SLACLOCK_RUNNING, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ticket t;
        make_ticket(&t, (int)i);
        t.status = rows[i].status;
        assert_int_equal(ticket_set_string(&t.policy, rows[i].policy), 0);
        assert_int_equal(ticket_set_string(&t.team, rows[i].team), 0);
        t.clocks[1].state = rows[i].clock;
        t.clocks[1].paused_breached = rows[i].paused_breached;
        insert(s, &t, INT64_MAX, __LINE__);
        ticket_done(&t);
    }
    static const struct {
        int line;
        struct ticket_filter f;
        int64_t want[8];
        size_t n;
    } cases[] = {
        {__LINE__, {.breached = -1}, {1, 2, 3, 4, 5, 6}, 6},
        {__LINE__, {.status = "open", .breached = -1}, {1, 2}, 2},
        {__LINE__, {.status = "on_hold", .breached = -1}, {4}, 1},
        {__LINE__, {.policy = "p2", .breached = -1}, {2, 5}, 2},
        {__LINE__, {.team = "north", .breached = -1}, {1, 3, 5, 6}, 4},
        /* breached: running late now (2, and 4 paused past due); missed: stopped late (3). */
        {__LINE__, {.breached = 1}, {2, 4}, 2},
        {__LINE__, {.breached = 0}, {1, 3, 5, 6}, 4},
        {__LINE__, {.breached = -1, .missed = 1}, {3}, 1},
        {__LINE__, {.breached = -1, .missed = -1}, {1, 2, 4, 5, 6}, 5},
        {__LINE__, {.breached = 1, .missed = -1}, {2, 4}, 2},
        {__LINE__, {.open_only = true, .breached = -1}, {1, 2, 4, 6}, 4},
        {__LINE__, {.policy = "p1", .team = "north", .breached = -1}, {1, 3, 6}, 3},
        {__LINE__, {.policy = "p1", .open_only = true, .breached = 1}, {4}, 1},
        {__LINE__, {.status = "cancelled", .breached = -1}, {0}, 0},
        /* Pagination: after and limit, in id order. */
        {__LINE__, {.breached = -1, .limit = 2}, {1, 2}, 2},
        {__LINE__, {.breached = -1, .limit = 2, .after_id = 2}, {3, 4}, 2},
        {__LINE__, {.breached = -1, .limit = 2, .after_id = 4}, {5, 6}, 2},
        {__LINE__, {.breached = -1, .limit = 2, .after_id = 6}, {0}, 0},
        {__LINE__, {.team = "north", .breached = -1, .limit = 2, .after_id = 1}, {3, 5}, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct id_list l = {.n = 0};
        int r = store_ticket_list(s, &cases[i].f, collect_ticket, &l, &err);
        if (r < 0)
            fail_msg("line %d: %s", cases[i].line, err.msg);
        ids_equal(&l, cases[i].want, cases[i].n, cases[i].line);
    }
    /* A callback stops the walk with > 0 (success) or < 0 (that error). */
    struct id_list l = {.stop_after = 3};
    struct ticket_filter all = {.breached = -1};
    assert_int_equal(store_ticket_list(s, &all, collect_ticket, &l, &err), 0);
    int64_t want[] = {1, 2, 3};
    ids_equal(&l, want, 3, __LINE__);
    store_close(s);
}

struct history_list {
    struct history_entry rows[8];
    char kinds[8][16], data[8][64];
    size_t n;
};

static int collect_history(void *userdata, const struct history_entry *h)
{
    struct history_list *l = userdata;
    l->rows[l->n] = *h;
    snprintf(l->kinds[l->n], sizeof(l->kinds[0]), "%s", h->kind);
    snprintf(l->data[l->n], sizeof(l->data[0]), "%s", h->data ? h->data : "(null)");
    l->n++;
    return 0;
}

/* Overrides: stored with an id, listed by schedule and overlap, deleted only under their
 * own schedule. */
struct override_list {
    struct schedule_override v[8];
    size_t n;
};

static int collect_override(void *userdata, const struct schedule_override *o)
{
    struct override_list *l = userdata;
    if (l->n >= 8)
        return -E2BIG;
    l->v[l->n++] = *o;
    return 0;
}

static void test_overrides(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    static const struct {
        const char *schedule, *contact;
        int64_t from_ms, to_ms;
    } adds[] = {{"ops", "anna", 1000, 2000}, {"ops", "bert", 1500, 3000}, {"db", "carl", 0, 5000}};
    for (size_t i = 0; i < 3; i++) {
        struct schedule_override o = {
            .from_ms = adds[i].from_ms, .to_ms = adds[i].to_ms, .created_ms = 42};
        snprintf(o.schedule, sizeof(o.schedule), "%s", adds[i].schedule);
        snprintf(o.contact, sizeof(o.contact), "%s", adds[i].contact);
        assert_int_equal(store_override_insert(s, &o, &err), 0);
        assert_int_equal(o.id, (int64_t)i + 1);
    }
    static const struct {
        const char *schedule;
        int64_t from_ms, to_ms, after_id;
        size_t limit;
        const char *contacts; /* in order */
    } lists[] = {
        {"ops", INT64_MIN, INT64_MAX, 0, 0, "anna,bert,"},
        {NULL, INT64_MIN, INT64_MAX, 0, 0, "anna,bert,carl,"},
        {"ops", 2000, 2001, 0, 0, "bert,"}, /* [from, to): anna's ends at 2000 */
        {"ops", 0, 1000, 0, 0, ""},
        {"ops", 1999, 2000, 0, 0, "anna,bert,"},
        {NULL, 0, 10000, 0, 2, "anna,bert,"},
        {NULL, 0, 10000, 1, 0, "bert,carl,"}, /* the next page */
        {"none", INT64_MIN, INT64_MAX, 0, 0, ""},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct override_list l = {.n = 0};
        assert_int_equal(store_override_list(s, lists[i].schedule, lists[i].from_ms, lists[i].to_ms,
                                             lists[i].after_id, lists[i].limit, collect_override,
                                             &l, &err),
                         0);
        char got[64] = "";
        for (size_t j = 0; j < l.n; j++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s,", l.v[j].contact);
        if (strcmp(got, lists[i].contacts) != 0)
            fail_msg("list %zu: got '%s', expected '%s'", i, got, lists[i].contacts);
    }
    struct override_list l = {.n = 0};
    assert_int_equal(
        store_override_list(s, "db", INT64_MIN, INT64_MAX, 0, 0, collect_override, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].schedule, "db");
    assert_int_equal(l.v[0].from_ms, 0);
    assert_int_equal(l.v[0].to_ms, 5000);
    assert_int_equal(l.v[0].created_ms, 42);
    assert_int_equal(store_override_delete(s, "db", 1, &err), -ENOENT); /* ops's */
    assert_non_null(strstr(err.msg, "schedule 'db' has no override 1"));
    assert_int_equal(store_override_delete(s, "ops", 1, &err), 0);
    assert_int_equal(store_override_delete(s, "ops", 1, &err), -ENOENT);
    l.n = 0;
    assert_int_equal(
        store_override_list(s, "ops", INT64_MIN, INT64_MAX, 0, 0, collect_override, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].contact, "bert");
    store_close(s);
}

/* A store in memory holding tickets a and b. */
static struct store *open_two_tickets(struct ticket *a, struct ticket *b)
{
    struct store *s = open_mem();
    make_ticket(a, 1);
    make_ticket(b, 2);
    insert(s, a, INT64_MAX, __LINE__);
    insert(s, b, INT64_MAX, __LINE__);
    return s;
}

static void test_history(void **state)
{
    (void)state;
    struct ticket a, b;
    struct store *s = open_two_tickets(&a, &b);
    struct slad_error err = {{0}};
    static const struct {
        int which;
        const char *kind, *data;
        bool late;
    } adds[] = {
        {0, "create", NULL, false},
        {0, "step", "{\"clock\":\"response\",\"step\":1}", true},
        {1, "event", "{\"event\":\"acknowledge\"}", false},
        {0, "event", "{\"event\":\"resolve\"}", false},
    };
    int64_t ids[4];
    for (size_t i = 0; i < 4; i++) {
        struct history_entry h = {
            .ticket_id = adds[i].which ? b.id : a.id,
            .at_ms = T0 + (int64_t)i,
            .created_ms = T0 + 10 + (int64_t)i,
            .kind = adds[i].kind,
            .data = adds[i].data,
            .late = adds[i].late,
        };
        assert_int_equal(store_history_add(s, &h, &ids[i], &err), 0);
    }
    struct history_list l = {.n = 0};
    assert_int_equal(store_history_list(s, a.id, 0, 0, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.kinds[0], "create");
    assert_string_equal(l.data[0], "(null)");
    assert_string_equal(l.kinds[1], "step");
    assert_string_equal(l.data[1], adds[1].data);
    assert_true(l.rows[1].late);
    assert_false(l.rows[2].late);
    assert_int_equal(l.rows[1].at_ms, T0 + 1);
    assert_int_equal(l.rows[1].created_ms, T0 + 11);
    assert_int_equal(l.rows[2].id, ids[3]);
    /* Paging. */
    l.n = 0;
    assert_int_equal(store_history_list(s, a.id, ids[0], 1, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].id, ids[1]);
    /* A row for an unknown ticket breaks the foreign key. */
    struct history_entry bad = {.ticket_id = 999, .at_ms = T0, .created_ms = T0, .kind = "x"};
    assert_int_equal(store_history_add(s, &bad, NULL, &err), -EINVAL);
    assert_non_null(strcasestr(err.msg, "foreign key")); /* either database's words */
    ticket_done(&a);
    ticket_done(&b);
    store_close(s);
}

/* The integer the one-row answer of sql on the store's connection starts with. */
static int64_t query_int(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The number of rows of the table history. */
static int64_t history_rows(struct store *s)
{
    return query_int(s, "SELECT count(*) FROM history");
}

static int add_entry(struct store *s, int64_t ticket_id, int64_t at_ms, const char *kind,
                     const char *data, bool late)
{
    struct slad_error err = {{0}};
    struct history_entry h = {.ticket_id = ticket_id,
                              .at_ms = at_ms,
                              .created_ms = at_ms + 5,
                              .kind = kind,
                              .data = data,
                              .late = late};
    return store_history_add(s, &h, NULL, &err);
}

/* Schema 12: the entries one operation records for a ticket are one row, and read back as
 * they were written, each with its own id, in pages that may start inside a row. */
static void test_history_one_row_per_operation(void **state)
{
    (void)state;
    if (sqlite_only("PostgreSQL writes one entry per history row (several writers)"))
        return;
    struct ticket a, b;
    struct store *s = open_two_tickets(&a, &b);
    struct slad_error err = {{0}};
    /* Text the encoding must carry as it is: separators, digits, a newline. */
    static const char tricky[] = "{\"note\":\"12 34:5\\n-:\"}\n7:x";
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(add_entry(s, a.id, T0, "create", "{\"source\":\"crm\"}", false), 0);
    assert_int_equal(add_entry(s, a.id, -T0, "policy", NULL, true), 0);
    assert_int_equal(add_entry(s, a.id, T0 + 2, "clock", tricky, false), 0);
    assert_int_equal(add_entry(s, b.id, T0 + 3, "create", NULL, false), 0);
    assert_int_equal(store_release(s, &err), 0);
    /* An operation rolled back leaves nothing, and an inner savepoint's rollback does not
     * drop what the outer operation recorded before it. */
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(add_entry(s, a.id, T0 + 4, "event", "{\"event\":\"x\"}", false), 0);
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(add_entry(s, a.id, T0 + 5, "patch", "{}", false), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(add_entry(s, a.id, T0 + 6, "event", "{}", false), 0);
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_int_equal(add_entry(s, a.id, T0 + 7, "event", "{\"event\":\"y\"}", false), 0);
    assert_int_equal(store_release(s, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    /* a: one row for its creation, one before the inner savepoint, one after it; b: one. */
    assert_int_equal(history_rows(s), 4);

    struct history_list l = {.n = 0};
    assert_int_equal(store_history_list(s, a.id, 0, 0, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 5);
    static const char *const kinds[] = {"create", "policy", "clock", "patch", "event"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(l.kinds[i], kinds[i]);
    assert_string_equal(l.data[0], "{\"source\":\"crm\"}");
    assert_string_equal(l.data[1], "(null)");
    assert_string_equal(l.data[2], tricky);
    assert_string_equal(l.data[4], "{\"event\":\"y\"}");
    assert_int_equal(l.rows[1].at_ms, -T0);
    assert_true(l.rows[1].late);
    assert_false(l.rows[2].late);
    assert_int_equal(l.rows[2].at_ms, T0 + 2);
    assert_int_equal(l.rows[2].created_ms, T0 + 7);
    assert_int_equal(l.rows[2].ticket_id, a.id);
    /* The ids the entries would have had as rows of their own: a's creation 1..3, b's 4. */
    int64_t first = l.rows[0].id;
    assert_int_equal(l.rows[1].id, first + 1);
    assert_int_equal(l.rows[2].id, first + 2);
    assert_int_equal(l.rows[3].id, first + 4);
    assert_int_equal(l.rows[4].id, first + 5);
    struct history_list lb = {.n = 0};
    assert_int_equal(store_history_list(s, b.id, 0, 0, collect_history, &lb, &err), 0);
    assert_int_equal(lb.n, 1);
    assert_int_equal(lb.rows[0].id, first + 3);

    /* A page starting inside a row, and one ending inside it. */
    l.n = 0;
    assert_int_equal(store_history_list(s, a.id, first, 1, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].id, first + 1);
    l.n = 0;
    assert_int_equal(store_history_list(s, a.id, first + 1, 2, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.kinds[0], "clock");
    assert_string_equal(l.kinds[1], "patch");
    /* The newest, newest first, across rows. */
    l.n = 0;
    assert_int_equal(store_history_latest(s, a.id, 3, collect_history, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.kinds[0], "event");
    assert_string_equal(l.kinds[1], "patch");
    assert_string_equal(l.kinds[2], "clock");
    assert_int_equal(l.rows[2].id, first + 2);

    /* Outside a transaction an entry is written at once (its own row). */
    assert_int_equal(add_entry(s, b.id, T0 + 8, "event", NULL, false), 0);
    assert_int_equal(history_rows(s), 5);
    /* A reader sees what the running operation recorded. */
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_int_equal(add_entry(s, b.id, T0 + 9, "event", NULL, false), 0);
    assert_int_equal(add_entry(s, b.id, T0 + 10, "event", "{}", false), 0);
    lb.n = 0;
    assert_int_equal(store_history_latest(s, b.id, 0, collect_history, &lb, &err), 0);
    assert_int_equal(lb.n, 4);
    assert_int_equal(store_release(s, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);

    /* Damaged text is an error that names the row, never a crash or a wrong entry. */
    static const char *const damaged[] = {
        "garbage",
        "1 2 0 5:clock",
        "1 2 0 99:clock-:\n",
        "1 2 3 5:clock-:\n",
        "1 2 0 5:clock9:{}\n",
        "1 2 0 5:clock-:",
        "99999999999999999999 2 0 1:x-:\n",
    };
    for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(store_db(s),
                                            "UPDATE history SET more_entries = ?1"
                                            " WHERE id = (SELECT min(id) FROM history)",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, damaged[i], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        l.n = 0;
        err.msg[0] = '\0';
        assert_int_equal(store_history_list(s, a.id, 0, 0, collect_history, &l, &err), -EIO);
        assert_non_null(strstr(err.msg, "damaged"));
    }
    ticket_done(&a);
    ticket_done(&b);
    store_close(s);
}

struct outbox_list {
    int64_t ids[16];
    char keys[16][64];
    enum outbox_state states[16];
    int attempts[16];
    char channel[16][16], error[16][32];
    int64_t next[16], sent[16], ticket[16];
    size_t n;
};

static int collect_outbox(void *userdata, const struct outbox_row *o)
{
    struct outbox_list *l = userdata;
    size_t i = l->n++;
    l->ids[i] = o->id;
    snprintf(l->keys[i], sizeof(l->keys[0]), "%s", o->idempotency_key);
    l->states[i] = o->state;
    l->attempts[i] = o->attempts;
    snprintf(l->channel[i], sizeof(l->channel[0]), "%s", o->channel ? o->channel : "(null)");
    snprintf(l->error[i], sizeof(l->error[0]), "%s", o->last_error ? o->last_error : "(null)");
    l->next[i] = o->next_attempt_ms;
    l->sent[i] = o->sent_ms;
    l->ticket[i] = o->ticket_id;
    return 0;
}

static void test_outbox(void **state)
{
    (void)state;
    struct ticket a, b;
    struct store *s = open_two_tickets(&a, &b);
    struct slad_error err = {{0}};
    static const struct {
        int which;
        const char *key;
        bool added;
    } adds[] = {
        {0, "t1/response/step1/r0/assignee", true},  {0, "t1/response/step2/r0/supervisor", true},
        {0, "t1/response/step1/r0/assignee", false}, /* the same key again: ignored */
        {1, "t2/response/step1/r0/assignee", true},  {1, "t1/response/step2/r0/supervisor", false},
    };
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++) {
        struct outbox_row o = {
            .ticket_id = adds[i].which ? b.id : a.id,
            .event = "sla.warning",
            .recipient = "assignee",
            .idempotency_key = adds[i].key,
            .state = OUTBOX_PENDING,
            .next_attempt_ms = T0,
            .payload = "{}",
            .created_ms = T0,
            .sent_ms = SLAD_NO_TIME,
        };
        int64_t id = -1;
        bool added = !adds[i].added;
        assert_int_equal(store_outbox_add(s, &o, &id, &added, &err), 0);
        if (added != adds[i].added)
            fail_msg("add #%zu '%s': added %d", i, adds[i].key, added);
        assert_true(added ? id > 0 : id == 0);
    }
    struct outbox_list l = {.n = 0};
    struct outbox_filter any = {.state = -1, .due_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_list(s, &any, collect_outbox, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], adds[0].key);
    assert_string_equal(l.keys[1], adds[1].key);
    assert_string_equal(l.keys[2], adds[3].key);
    assert_string_equal(l.channel[0], "(null)");
    assert_int_equal(l.sent[0], SLAD_NO_TIME);

    /* Delivery moves a row on; filters by state, ticket and due instant. */
    struct outbox_row o = {.id = l.ids[1],
                           .state = OUTBOX_DEAD,
                           .channel = "sms",
                           .attempts = 3,
                           .next_attempt_ms = SLAD_NO_TIME,
                           .last_error = "HTTP 400",
                           .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    o.id = l.ids[2];
    o.state = OUTBOX_SENT;
    o.attempts = 1;
    o.last_error = NULL;
    o.sent_ms = T0 + 5;
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    o.id = 999;
    assert_int_equal(store_outbox_update(s, &o, &err), -ENOENT);
    int64_t first = l.ids[0], second = l.ids[1];

    static const struct {
        int line;
        struct outbox_filter f;
        size_t n;
        int64_t first_ticket;
    } cases[] = {
        {__LINE__, {.state = OUTBOX_PENDING, .due_ms = SLAD_NO_TIME}, 1, 1},
        {__LINE__, {.state = OUTBOX_DEAD, .due_ms = SLAD_NO_TIME}, 1, 1},
        {__LINE__, {.state = OUTBOX_SENT, .due_ms = SLAD_NO_TIME}, 1, 2},
        {__LINE__, {.state = -1, .ticket_id = 1, .due_ms = SLAD_NO_TIME}, 2, 1},
        {__LINE__, {.state = -1, .ticket_id = 2, .due_ms = SLAD_NO_TIME}, 1, 2},
        {__LINE__, {.state = OUTBOX_PENDING, .due_ms = T0}, 1, 1},
        {__LINE__, {.state = OUTBOX_PENDING, .due_ms = T0 - 1}, 0, 0},
        {__LINE__, {.state = -1, .due_ms = SLAD_NO_TIME, .limit = 1, .after_id = 1}, 1, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        l.n = 0;
        assert_int_equal(store_outbox_list(s, &cases[i].f, collect_outbox, &l, &err), 0);
        if (l.n != cases[i].n || (l.n && l.ticket[0] != cases[i].first_ticket))
            fail_msg("line %d: %zu rows", cases[i].line, l.n);
    }
    l.n = 0;
    assert_int_equal(store_outbox_get(s, second, collect_outbox, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.states[0], OUTBOX_DEAD);
    assert_int_equal(l.attempts[0], 3);
    assert_string_equal(l.channel[0], "sms");
    assert_string_equal(l.error[0], "HTTP 400");
    assert_int_equal(l.next[0], SLAD_NO_TIME);
    l.n = 0;
    assert_int_equal(store_outbox_get(s, first, collect_outbox, &l, &err), 0);
    assert_int_equal(l.states[0], OUTBOX_PENDING);
    assert_int_equal(store_outbox_get(s, 999, collect_outbox, &l, &err), -ENOENT);

    /* Names. */
    for (int i = 0; i < OUTBOX_STATE_COUNT; i++)
        assert_int_equal(outbox_state_from_name(outbox_state_name(i)), i);
    assert_int_equal(outbox_state_from_name("bogus"), -1);
    assert_null(outbox_state_name(OUTBOX_STATE_COUNT));

    struct gauges c;
    assert_int_equal(store_gauges(s, &c, &err), 0);
    assert_int_equal(c.notifications[OUTBOX_PENDING], 1);
    assert_int_equal(c.notifications[OUTBOX_SENT], 1);
    assert_int_equal(c.notifications[OUTBOX_DEAD], 1);
    assert_int_equal(c.notifications[OUTBOX_SENDING], 0);
    ticket_done(&a);
    ticket_done(&b);
    store_close(s);
}

struct agenda_rows {
    int64_t id[16], at[16];
    size_t n;
};

/* One row of the grouping test: its state and group. */
struct group_view {
    enum outbox_state state;
    int64_t group_id, sent_ms;
};

static int view_row(void *userdata, const struct outbox_row *o)
{
    struct group_view *v = userdata;
    *v = (struct group_view){o->state, o->group_id, o->sent_ms};
    return 0;
}

static void row_is(struct store *s, int64_t id, enum outbox_state state, int64_t group_id, int line)
{
    struct slad_error err = {{0}};
    struct group_view v;
    assert_int_equal(store_outbox_get(s, id, view_row, &v, &err), 0);
    if (v.state != state || v.group_id != group_id)
        fail_msg("line %d: row %" PRId64 " is %s in group %" PRId64 ", want %s in %" PRId64, line,
                 id, outbox_state_name(v.state), v.group_id, outbox_state_name(state), group_id);
}

static int64_t add_row(struct store *s, const char *key, const char *channel, const char *address,
                       int64_t due_ms)
{
    struct slad_error err = {{0}};
    struct outbox_row o = {.event = "sla.breach",
                           .channel = channel,
                           .recipient = "channel:robot",
                           .idempotency_key = key,
                           .state = OUTBOX_PENDING,
                           .next_attempt_ms = due_ms,
                           .created_ms = T0,
                           .sent_ms = SLAD_NO_TIME,
                           .address = address};
    int64_t id = 0;
    assert_int_equal(store_outbox_add(s, &o, &id, NULL, &err), 0);
    return id;
}

/* Storm grouping: the rows waiting for one address on one channel by the instant become
 * the members of a message row; others stay; a crash's re-queue leaves the members with
 * their message; the message's outcome is theirs; a retry takes them back, or lets one go
 * alone. */
static void test_outbox_grouping(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    int64_t r1 = add_row(s, "a", "robot", NULL, T0);
    int64_t r2 = add_row(s, "b", "robot", NULL, T0 + 1000);
    int64_t late = add_row(s, "c", "robot", NULL, T0 + 10000);
    int64_t other = add_row(s, "d", "robot", "+8613800000001", T0);
    int64_t sms = add_row(s, "e", "sms", NULL, T0);
    struct outbox_row g = {.event = OUTBOX_GROUP_EVENT,
                           .channel = "robot",
                           .recipient = "channel:robot",
                           .idempotency_key = "group/robot/1",
                           .state = OUTBOX_PENDING,
                           .next_attempt_ms = T0,
                           .created_ms = T0,
                           .sent_ms = SLAD_NO_TIME};
    int64_t gid = 0;
    size_t n = 0;
    assert_int_equal(store_outbox_group(s, &g, T0 + 2000, 1000, &gid, &n, &err), 0);
    assert_true(gid > sms);
    assert_int_equal(n, 2);
    row_is(s, gid, OUTBOX_PENDING, gid, __LINE__);
    row_is(s, r1, OUTBOX_SENDING, gid, __LINE__);
    row_is(s, r2, OUTBOX_SENDING, gid, __LINE__);
    row_is(s, late, OUTBOX_PENDING, 0, __LINE__);
    row_is(s, other, OUTBOX_PENDING, 0, __LINE__);
    row_is(s, sms, OUTBOX_PENDING, 0, __LINE__);
    struct outbox_list l = {.n = 0};
    struct outbox_filter members = {.state = -1, .due_ms = SLAD_NO_TIME, .group_id = gid};
    assert_int_equal(store_outbox_list(s, &members, collect_outbox, &l, &err), 0);
    assert_int_equal(l.n, 3);

    /* Alone for its address: nothing changes. */
    g.idempotency_key = "group/robot/4";
    g.address = "+8613800000001";
    int64_t none = -1;
    assert_int_equal(store_outbox_group(s, &g, T0 + 2000, 1000, &none, &n, &err), 0);
    assert_int_equal(none, 0);
    row_is(s, other, OUTBOX_PENDING, 0, __LINE__);

    /* A crash while the message is out: it goes again, its members wait with it. */
    struct outbox_row o = {.id = gid,
                           .channel = "robot",
                           .state = OUTBOX_SENDING,
                           .attempts = 1,
                           .next_attempt_ms = T0,
                           .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    size_t requeued = 0;
    assert_int_equal(store_outbox_requeue_sending(s, T0 + 5000, &requeued, &err), 0);
    assert_int_equal(requeued, 1);
    row_is(s, gid, OUTBOX_PENDING, gid, __LINE__);
    row_is(s, r1, OUTBOX_SENDING, gid, __LINE__);

    /* Dead, then retried: the members come back; then sent: so are they. */
    o.state = OUTBOX_DEAD;
    o.next_attempt_ms = SLAD_NO_TIME;
    o.last_error = "HTTP 400";
    assert_int_equal(store_outbox_settle_group(s, &o, &err), 0);
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    row_is(s, r2, OUTBOX_DEAD, gid, __LINE__);
    assert_int_equal(store_outbox_requeue(s, gid, T0 + 6000, &err), 0);
    row_is(s, gid, OUTBOX_PENDING, gid, __LINE__);
    row_is(s, r1, OUTBOX_SENDING, gid, __LINE__);
    row_is(s, r2, OUTBOX_SENDING, gid, __LINE__);
    o.state = OUTBOX_SENT;
    o.last_error = NULL;
    o.sent_ms = T0 + 7000;
    assert_int_equal(store_outbox_settle_group(s, &o, &err), 0);
    row_is(s, r1, OUTBOX_SENT, gid, __LINE__);
    struct group_view v;
    assert_int_equal(store_outbox_get(s, r2, view_row, &v, &err), 0);
    assert_int_equal(v.sent_ms, T0 + 7000);

    /* A dead member retried leaves its group and goes alone. */
    o = (struct outbox_row){.id = r1,
                            .channel = "robot",
                            .state = OUTBOX_DEAD,
                            .next_attempt_ms = SLAD_NO_TIME,
                            .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_update(s, &o, &err), 0);
    assert_int_equal(store_outbox_requeue(s, r1, T0 + 8000, &err), 0);
    row_is(s, r1, OUTBOX_PENDING, 0, __LINE__);
    row_is(s, r2, OUTBOX_SENT, gid, __LINE__);
    store_close(s);
}

static int collect_agenda(void *userdata, int64_t id, int64_t next_ms)
{
    struct agenda_rows *a = userdata;
    a->id[a->n] = id;
    a->at[a->n] = next_ms;
    a->n++;
    return 0;
}

static void test_agenda_load(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    /* next_ms per ticket 1..5; none (INT64_MAX / SLAD_NO_TIME) is not in the index. */
    static const int64_t next[] = {T0 + 30, INT64_MAX, T0 + 10, SLAD_NO_TIME, T0 + 20};
    for (size_t i = 0; i < 5; i++) {
        struct ticket t;
        make_ticket(&t, (int)i);
        insert(s, &t, next[i], __LINE__);
        ticket_done(&t);
    }
    struct agenda_rows a = {.n = 0};
    assert_int_equal(store_agenda_load(s, collect_agenda, &a, &err), 0);
    assert_int_equal(a.n, 3);
    static const int64_t want_id[] = {3, 5, 1}, want_at[] = {T0 + 10, T0 + 20, T0 + 30};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(a.id[i], want_id[i]);
        assert_int_equal(a.at[i], want_at[i]);
    }
    /* An update moves the instant; INT64_MAX takes the ticket out. */
    struct ticket t;
    assert_int_equal(store_ticket_load(s, 1, &t, &err), 0);
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), 0);
    ticket_done(&t);
    assert_int_equal(store_ticket_load(s, 2, &t, &err), 0);
    assert_int_equal(store_ticket_update(s, &t, T0 + 5, &err), 0);
    ticket_done(&t);
    a.n = 0;
    assert_int_equal(store_agenda_load(s, collect_agenda, &a, &err), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.id[0], 2);
    assert_int_equal(a.id[2], 5);
    store_close(s);
}

static void test_repeat_count(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    static const struct {
        const char *serial, *fault;
        int64_t reported_ms;
    } rows[] = {
        {"SN1", "E1", T0},       {"SN1", "E1", T0 + 100}, {"SN1", "E1", T0 + 200},
        {"SN1", "E2", T0 + 100}, {"SN2", "E1", T0 + 100}, {NULL, "E1", T0 + 100},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ticket t;
        make_ticket(&t, (int)i);
        assert_int_equal(ticket_set_string(&t.device_serial, rows[i].serial), 0);
        assert_int_equal(ticket_set_string(&t.fault_code, rows[i].fault), 0);
        t.reported_at_ms = rows[i].reported_ms;
        insert(s, &t, INT64_MAX, __LINE__);
        ticket_done(&t);
    }
    static const struct {
        int line;
        const char *serial, *fault;
        int64_t from, to, want;
    } cases[] = {
        {__LINE__, "SN1", "E1", T0, T0 + 200, 3}, {__LINE__, "SN1", "E1", T0 + 1, T0 + 200, 2},
        {__LINE__, "SN1", "E1", T0, T0 + 199, 2}, {__LINE__, "SN1", "E1", T0 + 100, T0 + 100, 1},
        {__LINE__, "SN1", "E2", T0, T0 + 200, 1}, {__LINE__, "SN2", "E1", 0, INT64_MAX, 1},
        {__LINE__, "SN3", "E1", 0, INT64_MAX, 0}, {__LINE__, "SN1", "E1", T0 + 201, INT64_MAX, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t n = -1;
        assert_int_equal(store_repeat_count(s, cases[i].serial, cases[i].fault, cases[i].from,
                                            cases[i].to, &n, &err),
                         0);
        if (n != cases[i].want)
            fail_msg("line %d: %" PRId64 " tickets, want %" PRId64, cases[i].line, n,
                     cases[i].want);
    }
    store_close(s);
}

/* How many rows the three tables hold, through the public listings. */
static size_t count_everything(struct store *s)
{
    struct slad_error err = {{0}};
    struct id_list l = {.n = 0};
    struct ticket_filter all = {.breached = -1};
    assert_int_equal(store_ticket_list(s, &all, collect_ticket, &l, &err), 0);
    size_t n = l.n;
    struct outbox_list o = {.n = 0};
    struct outbox_filter any = {.state = -1, .due_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_list(s, &any, collect_outbox, &o, &err), 0);
    n += o.n;
    for (size_t i = 0; i < l.n; i++) {
        struct history_list h = {.n = 0};
        assert_int_equal(store_history_list(s, l.ids[i], 0, 8, collect_history, &h, &err), 0);
        n += h.n;
    }
    return n;
}

/* Insert a ticket with one history and one outbox row. */
static void write_three(struct store *s, int n)
{
    struct slad_error err = {{0}};
    struct ticket t;
    make_ticket(&t, n);
    insert(s, &t, T0, __LINE__);
    struct history_entry h = {.ticket_id = t.id, .at_ms = T0, .created_ms = T0, .kind = "k"};
    assert_int_equal(store_history_add(s, &h, NULL, &err), 0);
    char key[32];
    snprintf(key, sizeof(key), "key-%d", n);
    struct outbox_row o = {.ticket_id = t.id,
                           .event = "e",
                           .recipient = "r",
                           .idempotency_key = key,
                           .created_ms = T0,
                           .next_attempt_ms = T0,
                           .sent_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_add(s, &o, NULL, NULL, &err), 0);
    ticket_done(&t);
}

static void test_transactions_and_savepoints(void **state)
{
    (void)state;
    /* A file (or the PostgreSQL database): it is opened again below. */
    char path[128];
    if (testdb_on_postgres()) {
        testdb_empty();
        snprintf(path, sizeof(path), "%s", testdb_target());
    } else {
        tmp_path(path, sizeof(path), "txn.db");
        remove_db(path);
    }
    struct store *s = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(store_open(path, true, &s, &err), 0);
    assert_false(store_in_transaction(s));

    /* A savepoint alone is its own transaction: rolled back, nothing stays. */
    assert_int_equal(store_savepoint(s, &err), 0);
    assert_true(store_in_transaction(s));
    write_three(s, 1);
    assert_int_equal(count_everything(s), 3);
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_false(store_in_transaction(s));
    assert_int_equal(count_everything(s), 0);

    /* Savepoints inside a group transaction: a failed one leaves nothing, the others
     * commit together. */
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    write_three(s, 2);
    assert_int_equal(store_release(s, &err), 0);
    assert_int_equal(store_savepoint(s, &err), 0);
    write_three(s, 3);
    assert_int_equal(store_rollback_to(s, &err), 0);
    assert_true(store_in_transaction(s));
    assert_int_equal(store_savepoint(s, &err), 0);
    write_three(s, 4);
    assert_int_equal(store_release(s, &err), 0);
    /* BEGIN inside a transaction is an error, and the transaction survives it. */
    assert_int_equal(store_begin(s, &err), -EIO);
    assert_non_null(strstr(err.msg, "begin"));
    assert_true(store_in_transaction(s));
    assert_int_equal(store_commit(s, &err), 0);
    assert_false(store_in_transaction(s));
    store_close(s);

    assert_int_equal(store_open(path, true, &s, &err), 0);
    assert_int_equal(count_everything(s), 6);
    /* The two committed tickets, in id order. */
    struct ticket_filter all = {.breached = -1};
    struct id_list l = {.n = 0};
    assert_int_equal(store_ticket_list(s, &all, collect_ticket, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_true(l.ids[0] < l.ids[1]);

    /* A rolled-back group transaction leaves nothing. */
    assert_int_equal(store_begin(s, &err), 0);
    write_three(s, 5);
    assert_int_equal(store_rollback(s, &err), 0);
    assert_int_equal(count_everything(s), 6);

    /* Closing with an open transaction rolls it back. */
    assert_int_equal(store_begin(s, &err), 0);
    write_three(s, 6);
    store_close(s);
    assert_int_equal(store_open(path, true, &s, &err), 0);
    assert_int_equal(count_everything(s), 6);
    assert_int_equal(store_check(s, &err), 0);
    store_close(s);
    if (!testdb_on_postgres())
        remove_db(path);
}

static void test_counts(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct slad_error err = {{0}};
    struct gauges c;
    assert_int_equal(store_gauges(s, &c, &err), 0);
    for (int i = 0; i < TICKET_STATUS_COUNT; i++)
        assert_int_equal(c.tickets[i], 0);
    assert_int_equal(c.breached_clocks, 0);
    static const enum ticket_status statuses[] = {TICKET_OPEN, TICKET_OPEN, TICKET_CLOSED,
                                                  TICKET_ON_SITE};
    for (size_t i = 0; i < 4; i++) {
        struct ticket t;
        make_ticket(&t, (int)i);
        t.status = statuses[i];
        t.clocks[0].state = i < 2 ? SLACLOCK_BREACHED : SLACLOCK_MET;
        insert(s, &t, INT64_MAX, __LINE__);
        ticket_done(&t);
    }
    assert_int_equal(store_gauges(s, &c, &err), 0);
    assert_int_equal(c.tickets[TICKET_OPEN], 2);
    assert_int_equal(c.tickets[TICKET_CLOSED], 1);
    assert_int_equal(c.tickets[TICKET_ON_SITE], 1);
    assert_int_equal(c.tickets[TICKET_RESOLVED], 0);
    assert_int_equal(c.breached_clocks, 2);
    /* The counters follow every write: ticket 1 resolved (its breached clock met), ticket
     * 4's clock breached; a write that changes nothing counted changes no count. */
    struct ticket t;
    assert_int_equal(store_ticket_load(s, 1, &t, &err), 0);
    t.status = TICKET_RESOLVED;
    t.clocks[0].state = SLACLOCK_MET;
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), 0);
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), 0);
    ticket_done(&t);
    assert_int_equal(store_ticket_load(s, 4, &t, &err), 0);
    t.clocks[0].state = SLACLOCK_BREACHED;
    assert_int_equal(store_ticket_update(s, &t, INT64_MAX, &err), 0);
    ticket_done(&t);
    assert_int_equal(store_gauges(s, &c, &err), 0);
    assert_int_equal(c.tickets[TICKET_OPEN], 1);
    assert_int_equal(c.tickets[TICKET_RESOLVED], 1);
    assert_int_equal(c.tickets[TICKET_ON_SITE], 1);
    assert_int_equal(c.tickets[TICKET_CLOSED], 1);
    assert_int_equal(c.breached_clocks, 2);
    store_close(s);
}

static void test_errors(void **state)
{
    (void)state;
    if (sqlite_only("SQLite file paths, read-only URIs and non-database files"))
        return;
    struct slad_error err = {{0}};
    struct store *s = NULL;

    /* A folder that does not exist: the message names the file. */
    int r = store_open("/nonexistent-slad-dir/x.db", true, &s, &err);
    assert_true(r < 0);
    assert_null(s);
    assert_non_null(strstr(err.msg, "'/nonexistent-slad-dir/x.db'"));

    /* A database opened read-only (tests may run as root, for whom file modes do not
     * count, so read-only comes from the URI): writes fail with -EROFS and say so. */
    char path[128], uri[192];
    tmp_path(path, sizeof(path), "ro.db");
    remove_db(path);
    assert_int_equal(store_open(path, true, &s, &err), 0);
    store_close(s);
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    s = NULL;
    r = store_open(uri, true, &s, &err);
    if (r < 0)
        fail_msg("open read-only: %s", err.msg);
    assert_int_equal(store_check(s, &err), 0);
    struct ticket t;
    make_ticket(&t, 1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(store_ticket_insert(s, &t, INT64_MAX, &err), -EROFS);
    assert_non_null(strstr(err.msg, "inserting a ticket"));
    assert_non_null(strstr(err.msg, "readonly"));
    assert_int_equal(t.id, 0);
    ticket_done(&t);
    store_close(s);

    /* A fresh read-only file cannot even take the schema. */
    char fresh[128];
    tmp_path(fresh, sizeof(fresh), "fresh-ro.db");
    remove_db(fresh);
    FILE *f = fopen(fresh, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", fresh);
    r = store_open(uri, true, &s, &err);
    assert_int_equal(r, -EROFS);
    assert_non_null(strstr(err.msg, fresh));

    /* Not a database at all. */
    f = fopen(fresh, "w");
    assert_non_null(f);
    fputs("this is not an SQLite database, not even close, but long enough to be read..", f);
    for (int i = 0; i < 100; i++)
        fputs("................................................................", f);
    fclose(f);
    r = store_open(fresh, true, &s, &err);
    assert_int_equal(r, -EIO);
    assert_non_null(strstr(err.msg, "not a database"));
    remove_db(fresh);
    remove_db(path);
}

/* PRAGMA synchronous of the store's own connection: 1 NORMAL, 2 FULL. */
static int synchronous_of(struct store *s)
{
    return (int)query_int(s, "PRAGMA synchronous");
}

/* One ticket in its own transaction, as one batch of the daemon. */
static void commit_one(struct store *s, int n)
{
    struct slad_error err = {{0}};
    struct ticket t;
    make_ticket(&t, n);
    assert_int_equal(store_begin(s, &err), 0);
    insert(s, &t, INT64_MAX, __LINE__);
    assert_int_equal(store_commit(s, &err), 0);
    ticket_done(&t);
}

/* The checkpoint thread of test_wal_bounded: checkpoints whenever the writer's WAL grew
 * by a thousand frames, as daemon/batch.c asks for them. */
struct ckpt_runner {
    struct store_wal *w;
    atomic_long frames; /* the writer's WAL frames after its last commit */
    atomic_bool stop;
    int failures;
};

static void *ckpt_run(void *arg)
{
    struct ckpt_runner *c = arg;
    long at = 1000;
    while (!atomic_load(&c->stop)) {
        long frames = atomic_load(&c->frames);
        if (frames < at - 1000)
            at = 1000;
        if (frames < at) {
            usleep(200);
            continue;
        }
        struct slad_error err;
        if (store_wal_checkpoint(c->w, &err) < 0)
            c->failures++;
        at = frames + 1000;
    }
    return NULL;
}

/* Under steady writes the WAL stays bounded: PASSIVE checkpoints alone never let the
 * writer restart it (past 32 MB after some 700 commits here, unbounded), the RESTART past
 * 4,000 frames does, the cap of 6,000 frames holds a writer faster than the checkpoints,
 * the writer waits for them without a failed commit, and the restarted file is
 * overwritten, not cut back. */
static void test_wal_bounded(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's WAL and its checkpoints"))
        return;
    struct slad_error err = {{0}};
    char path[128], wal[160];
    tmp_path(path, sizeof(path), "walbound.db");
    snprintf(wal, sizeof(wal), "%s-wal", path);
    remove_db(path);
    struct store *s = NULL;
    assert_int_equal(store_open(path, true, &s, &err), 0);
    struct ckpt_runner c = {0};
    assert_int_equal(store_wal_open(s, true, &c.w, &err), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ckpt_run, &c), 0);

    const off_t bound = 32 << 20; /* 6,000 frames of 4 KiB and their headers: 24.7 MB */
    off_t wal_max = 0, wal_last = 0;
    int shrank = 0; /* samples smaller than the one before: the file was cut back */
    int64_t commit_max_us = 0;
    int n = 0;
    while (n < 4000 && wal_max < bound) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        commit_one(s, ++n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (us > commit_max_us)
            commit_max_us = us;
        atomic_store(&c.frames, (long)store_wal_frames(c.w));
        struct stat st;
        if (n % 20 == 0 && stat(wal, &st) == 0) {
            if (st.st_size > wal_max)
                wal_max = st.st_size;
            if (st.st_size < wal_last)
                shrank++;
            wal_last = st.st_size;
        }
    }
    atomic_store(&c.stop, true);
    pthread_join(th, NULL);
    printf("# %d commits: WAL at most %lld bytes, cut back %d times, %lu restarts, the writer "
           "waited at most %lld us for one (slowest commit %lld us)\n",
           n, (long long)wal_max, shrank, store_wal_restarts(c.w),
           (long long)store_wal_loop_wait_max_us(c.w), (long long)commit_max_us);
    assert_int_equal(c.failures, 0);
    assert_true(wal_max < bound);
    /* Restarted, never cut back under the bound: the file is overwritten in place, and
     * the syncs after a restart write no new size (store_wal.c). */
    assert_int_equal(shrank, 0);
    assert_true(store_wal_restarts(c.w) > 0);
    store_wal_close(c.w);
    store_close(s);
    remove_db(path);
}

/* A checkpoint slowed down (a large database on a busy disk) as test_wal_busy_* need it,
 * on an injected clock: its RESTART holds the writer lock while it waits for a reader the
 * test keeps open, and the checkpoint's thread sees time stand still (so it never gives
 * up) until the loop's time reaches release_at_us; each reading by the loop's thread (its
 * busy handler polling) moves the loop's time on by 10 ms. */
struct slow_ckpt {
    struct store_wal *w;
    pthread_t loop;
    atomic_llong loop_us;
    int64_t release_at_us; /* 0: only the test ends the checkpoint */
    atomic_bool released;
    atomic_int ckpt_reads; /* readings by the checkpoint's thread */
    int rc;
    int stalls;
    char stall[512];
    char path[128];
    struct store *s;
    sqlite3 *reader;
    pthread_t th;
};

static int64_t slow_clock(void *userdata)
{
    struct slow_ckpt *c = userdata;
    if (pthread_equal(pthread_self(), c->loop)) {
        int64_t t = atomic_fetch_add(&c->loop_us, 10000) + 10000;
        if (c->release_at_us && t >= c->release_at_us)
            atomic_store(&c->released, true);
        return t;
    }
    atomic_fetch_add(&c->ckpt_reads, 1);
    return atomic_load(&c->released) ? INT64_C(1) << 50 : 0;
}

static void slow_stall(void *userdata, const char *msg)
{
    struct slow_ckpt *c = userdata;
    c->stalls++;
    snprintf(c->stall, sizeof(c->stall), "%s", msg);
}

static void *slow_ckpt_run(void *arg)
{
    struct slow_ckpt *c = arg;
    struct slad_error err;
    c->rc = store_wal_checkpoint(c->w, &err);
    return NULL;
}

/* Open the store name, fill its WAL past the restart threshold, keep a reader on it, and
 * start the checkpoint; return once its RESTART holds the writer lock and waits for the
 * reader. */
static void slow_ckpt_start(struct slow_ckpt *c, const char *name)
{
    struct slad_error err = {{0}};
    tmp_path(c->path, sizeof(c->path), name);
    remove_db(c->path);
    assert_int_equal(store_open(c->path, true, &c->s, &err), 0);
    assert_int_equal(store_wal_open(c->s, true, &c->w, &err), 0);
    c->loop = pthread_self();
    store_wal_set_clock(c->w, slow_clock, c);
    store_wal_set_stall_fn(c->w, slow_stall, c);
    assert_int_equal(sqlite3_exec(store_db(c->s),
                                  "CREATE TABLE filler(b);"
                                  "INSERT INTO filler VALUES (randomblob(20000000))",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(store_wal_frames(c->w) >= 4000);
    assert_int_equal(sqlite3_open(c->path, &c->reader), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(c->reader, "BEGIN; SELECT count(*) FROM filler", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pthread_create(&c->th, NULL, slow_ckpt_run, c), 0);
    /* The first reading sets the restart's deadline; the next ones are its busy handler,
     * the writer lock taken (the loop holds nothing that it could wait for). */
    for (int i = 0; atomic_load(&c->ckpt_reads) < 2; i++) {
        assert_true(i < 600000); /* a minute: the PASSIVE part syncs 20 MB first */
        usleep(100);
    }
}

/* End the checkpoint and the reader; the store stays open. */
static void slow_ckpt_end(struct slow_ckpt *c)
{
    atomic_store(&c->released, true);
    pthread_join(c->th, NULL);
    assert_int_equal(c->rc, 0); /* the restart found the reader busy: the next one will do */
    assert_int_equal(sqlite3_exec(c->reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(c->reader);
    store_wal_close(c->w);
}

static void slow_ckpt_close(struct slow_ckpt *c)
{
    store_close(c->s);
    remove_db(c->path);
}

/* A write of the loop waits for our checkpoint as long as it runs: 5 s here, where it
 * used to fail after 2 s with "database is locked" (a 503, an outcome not recorded). */
static void test_wal_busy_waits_for_checkpoint(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's WAL and its checkpoints"))
        return;
    struct slad_error err = {{0}};
    struct slow_ckpt c = {.release_at_us = 5 * 1000000};
    slow_ckpt_start(&c, "walbusy.db");
    int r = store_begin(c.s, &err);
    if (r < 0)
        fail_msg("the write gave up after %.1f s of the checkpoint: %s",
                 (double)atomic_load(&c.loop_us) / 1e6, err.msg);
    assert_true(store_wal_loop_wait_max_us(c.w) > 4 * 1000000); /* from its first poll */
    assert_int_equal(c.stalls, 0);
    assert_int_equal(store_rollback(c.s, &err), 0);
    slow_ckpt_end(&c);
    slow_ckpt_close(&c);
}

/* ... but not forever: past 20 s the write fails, and the operator is told what and why. */
static void test_wal_busy_bounded(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's WAL and its checkpoints"))
        return;
    struct slad_error err = {{0}};
    struct slow_ckpt c = {0};
    slow_ckpt_start(&c, "walbusy-bound.db");
    assert_int_equal(store_begin(c.s, &err), -EAGAIN);
    assert_non_null(strstr(err.msg, "locked"));
    assert_int_equal(c.stalls, 1);
    assert_non_null(strstr(c.stall, "waited 20.0 s for the WAL checkpoint"));
    assert_non_null(strstr(c.stall, "walbusy-bound.db-wal"));
    assert_non_null(strstr(c.stall, "disk is too slow"));
    slow_ckpt_end(&c);
    /* The checkpoint over, writes go on. */
    assert_int_equal(store_begin(c.s, &err), 0);
    assert_int_equal(store_rollback(c.s, &err), 0);
    slow_ckpt_close(&c);
}

/* The commit thread's part of the store (store_wal.h): the connection stops syncing the WAL
 * and checkpointing by itself, the WAL grows past SQLite's 1000-page automatic checkpoint,
 * store_wal_sync and store_wal_checkpoint work, the log restarts after a checkpoint, and
 * closing gives the connection its own sync and checkpoints back. */
static void test_wal_handoff(void **state)
{
    (void)state;
    if (sqlite_only("SQLite's WAL and its commit thread"))
        return;
    struct slad_error err = {{0}};
    struct store *mem = open_mem();
    struct store_wal *w = NULL;
    assert_int_equal(store_wal_open(mem, true, &w, &err), -ENOTSUP);
    assert_null(w);
    assert_int_equal(synchronous_of(mem), 2);
    store_close(mem);

    char path[128];
    tmp_path(path, sizeof(path), "wal.db");
    remove_db(path);
    struct store *s = NULL;
    assert_int_equal(store_open(path, true, &s, &err), 0);
    assert_int_equal(synchronous_of(s), 2);
    assert_int_equal(store_wal_open(s, true, &w, &err), 0);
    assert_int_equal(synchronous_of(s), 1);
    assert_non_null(strstr(store_wal_path(w), "wal.db-wal"));

    int n = 0;
    while (store_wal_frames(w) <= 1200) {
        commit_one(s, ++n);
        assert_true(n < 2000);
    }
    assert_int_equal(store_wal_sync(w, &err), 0);
    int64_t before = store_wal_frames(w);
    assert_int_equal(store_wal_checkpoint(w, &err), 0);
    /* Everything was copied: the next writer starts the log again from its head. */
    commit_one(s, ++n);
    assert_true(store_wal_frames(w) < before / 10);
    assert_int_equal(store_wal_sync(w, &err), 0);

    store_wal_close(w);
    assert_int_equal(synchronous_of(s), 2);
    commit_one(s, ++n);
    store_close(s);

    /* Every committed ticket is in the file. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM tickets", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), n);
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_db(path);
}

static int setup(void **state)
{
    (void)state;
    if (testdb_init() < 0)
        return -1;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/slad-test-store-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    testdb_cleanup();
    return rmdir(tmpdir);
}

/* A reader's connection (store_reader.h): none for an in-memory database; on a file it
 * reads what the writer committed, one snapshot per read transaction (a commit made
 * meanwhile shows only in the next one), and cannot write. */
static void test_reader(void **state)
{
    (void)state;
    struct slad_error err = {{0}};
    struct store *mem = open_mem(), *r = NULL;
    assert_int_equal(store_open_reader(mem, &r, &err), -ENOTSUP);
    assert_null(r);
    store_close(mem);

    char path[128];
    tmp_path(path, sizeof(path), "reader.db");
    remove_db(path);
    struct store *s = NULL;
    assert_int_equal(store_open(path, true, &s, &err), 0);
    commit_one(s, 1);
    assert_int_equal(store_open_reader(s, &r, &err), 0);
    struct ticket t;
    assert_int_equal(store_read_begin(r, &err), 0);
    assert_int_equal(store_ticket_load(r, 1, &t, &err), 0);
    ticket_done(&t);
    commit_one(s, 2); /* after the snapshot: not in it */
    assert_int_equal(store_ticket_load(r, 2, &t, &err), -ENOENT);
    store_read_end(r);
    assert_int_equal(store_read_begin(r, &err), 0);
    assert_int_equal(store_ticket_load(r, 2, &t, &err), 0);
    ticket_done(&t);
    store_read_end(r);
    store_reader_interrupt(r); /* nothing running: harmless */

    struct ticket u;
    make_ticket(&u, 3);
    assert_true(store_ticket_insert(r, &u, INT64_MAX, &err) < 0);
    ticket_done(&u);
    store_close(r);
    store_close(s);
    remove_db(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_migration_12_outbox_check),
        cmocka_unit_test(test_outbox_check_at_version_12),
        cmocka_unit_test(test_upgrade_from_version_1),
        cmocka_unit_test(test_schema_cookie_renewed_only_by_rewrite),
        cmocka_unit_test(test_upgrade_drops_unreadable_labels),
        cmocka_unit_test(test_newer_schema_refused),
        cmocka_unit_test(test_ticket_round_trip),
        cmocka_unit_test(test_unique_source_external_id),
        cmocka_unit_test(test_clocks_written_in_place),
        cmocka_unit_test(test_ticket_update_shapes),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_history_one_row_per_operation),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_outbox),
        cmocka_unit_test(test_outbox_grouping),
        cmocka_unit_test(test_agenda_load),
        cmocka_unit_test(test_repeat_count),
        cmocka_unit_test(test_transactions_and_savepoints),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_wal_handoff),
        cmocka_unit_test(test_wal_bounded),
        cmocka_unit_test(test_wal_busy_waits_for_checkpoint),
        cmocka_unit_test(test_wal_busy_bounded),
        cmocka_unit_test(test_reader),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
