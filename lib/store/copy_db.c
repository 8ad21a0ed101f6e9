/* copy_db.c - every row of slad's tables from one database to another through db.h
 * (copy_db.h): SQLite to PostgreSQL to move an installation to several instances, and back.
 *
 * Both sides must be at this slad's schema version: the source is only read (a source
 * behind it is to be migrated by starting this slad on it first), the target gets the
 * schema when it has none (store_open for SQLite, schema_pg_create for PostgreSQL) and
 * must hold no row. The source is read in one snapshot; the target is written in one
 * transaction, its inserts queued (one round trip per 1,024 rows on PostgreSQL), so a
 * failure leaves it as it was. The source is read in pages of COPY_DB_PAGE_ROWS rows by
 * key, so that a PostgreSQL source is never held whole in memory. Rows keep their ids; columns are
 * matched by name (the two dialects' schemas have the same columns: test-schema-pg.c). The triggers
 * of the target count the rows as they arrive; the gauges' counters are then replaced by the
 * source's, row for row. PostgreSQL's identity columns continue after the largest id copied. Not
 * copied: the scheduler's lease (PostgreSQL's leases table belongs to its instances). */
#include "copy_db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "schema_pg.h"
#include "store.h"

/* Rows per page read from the source: a PostgreSQL statement's whole result is held in
 * memory (db_pg.c reads it at the first step), so the tables are read in pages, each
 * after the last key of the one before (keyset paging: an index range each). */
#define COPY_DB_PAGE_ROWS 10000

struct table {
    const char *name;
    const char *first; /* ?1 rows, from the start */
    const char *next;  /* ?1 rows after the key (?2, ?3) */
    const char *probe; /* a row, if any: the target must have none */
    const char *key[2];
    bool key_is_int[2];
};

#define PROBE(name) "SELECT 1 FROM " name " LIMIT 1"
#define TABLE1(name, k, is_int)                                                                    \
    {                                                                                              \
        name, "SELECT * FROM " name " ORDER BY " k " LIMIT ?1",                                    \
            "SELECT * FROM " name " WHERE " k " > ?2 ORDER BY " k " LIMIT ?1", PROBE(name),        \
            {k, NULL},                                                                             \
        {                                                                                          \
            is_int, false                                                                          \
        }                                                                                          \
    }
#define TABLE2(name, k1, k2, is_int)                                                               \
    {                                                                                              \
        name, "SELECT * FROM " name " ORDER BY " k1 ", " k2 " LIMIT ?1",                           \
            "SELECT * FROM " name " WHERE (" k1 ", " k2 ") > (?2, ?3) ORDER BY " k1 ", " k2        \
            " LIMIT ?1",                                                                           \
            PROBE(name), {k1, k2},                                                                 \
        {                                                                                          \
            true, is_int                                                                           \
        }                                                                                          \
    }

/* Parents before children (the foreign keys are checked at each insert); counts last, as
 * it replaces what the triggers counted. */
static const struct table tables[COPY_DB_TABLES] = {
    TABLE1("tickets", "id", true),
    TABLE2("clocks", "ticket_id", "name", false),
    TABLE2("ticket_labels", "ticket_id", "pos", true),
    TABLE1("history", "id", true),
    TABLE1("plans", "id", true),
    TABLE1("followups", "id", true),
    TABLE1("outbox", "id", true),
    TABLE1("schedule_overrides", "id", true),
    TABLE1("counts", "what", false),
};

/* PostgreSQL's identities after ids were inserted: the next is the largest + 1 (setval is
 * strict: an empty table's NULL leaves its sequence alone). */
static const char sql_pg_identities[] =
    "SELECT setval(pg_get_serial_sequence('tickets', 'id'), max(id)) FROM tickets;"
    "SELECT setval(pg_get_serial_sequence('history', 'id'), max(id)) FROM history;"
    "SELECT setval(pg_get_serial_sequence('plans', 'id'), max(id)) FROM plans;"
    "SELECT setval(pg_get_serial_sequence('followups', 'id'), max(id)) FROM followups;"
    "SELECT setval(pg_get_serial_sequence('outbox', 'id'), max(id)) FROM outbox;"
    "SELECT setval(pg_get_serial_sequence('schedule_overrides', 'id'), max(id))"
    " FROM schedule_overrides;";

static const char sql_user_version[] = "PRAGMA user_version";

/* One side of the copy: its setting, its role in messages, its connection. */
struct side {
    const char *role; /* "FROM", "TO" */
    const char *target;
    enum db_driver_kind kind;
    struct db *db;
    char label[160]; /* "FROM (SQLite 'path')"; never a PostgreSQL connection string */
};

static void side_init(struct side *s, const char *role, const char *target)
{
    s->role = role;
    s->target = target;
    s->kind = db_kind_of(target);
    s->db = NULL;
    if (s->kind == DB_POSTGRES)
        snprintf(s->label, sizeof(s->label), "%s (PostgreSQL)", role);
    else
        snprintf(s->label, sizeof(s->label), "%s (SQLite '%.120s')", role, target);
}

static int side_open(struct side *s, struct slad_error *reterr)
{
    int r = db_open(s->target, &s->db, reterr);
    if (r < 0 && reterr) {
        char msg[SLAD_ERROR_MAX];
        /* cut at the end when it must be (the return value, used, says so) */
        if (snprintf(msg, sizeof(msg), "%s: %s", s->label, reterr->msg) >= 0)
            memcpy(reterr->msg, msg, sizeof(msg));
    }
    return r;
}

/* The schema version of an SQLite database (0: none yet). */
static int sqlite_version(struct side *s, int *ret, struct slad_error *reterr)
{
    struct db_stmt *st = db_prepare(s->db, sql_user_version, reterr);
    int r = st ? db_step(st, "reading the schema version", reterr) : -EIO;
    if (r == 1)
        *ret = (int)db_column_int64(st, 0);
    if (st)
        db_reset(st);
    return r < 0 ? r : 0;
}

/* The side's schema version, 0 when it has no slad schema. */
static int version_of(struct side *s, int *ret, struct slad_error *reterr)
{
    if (s->kind == DB_SQLITE)
        return sqlite_version(s, ret, reterr);
    int r = schema_pg_version(s->db, ret, reterr);
    if (r == -ENOENT) {
        *ret = 0;
        return 0;
    }
    return r;
}

static int refuse_version(const struct side *s, int version, struct slad_error *reterr)
{
    int mine = store_schema_version();
    if (version > mine)
        return slad_error_set(reterr, ENOTSUP,
                              "%s has schema version %d, newer than this slad's (%d): copy "
                              "with the slad that wrote it",
                              s->label, version, mine);
    return slad_error_set(reterr, ENOTSUP,
                          "%s has schema version %d, this slad copies version %d: start this "
                          "slad on it once (it migrates the schema), stop it, and copy again",
                          s->label, version, mine);
}

static int open_source(struct side *s, struct slad_error *reterr)
{
    struct stat sb;
    /* db_open would create a missing SQLite file. */
    if (s->kind == DB_SQLITE && strncmp(s->target, "file:", 5) != 0 && stat(s->target, &sb) < 0)
        return slad_error_set(reterr, errno, "%s: %s", s->label, strerror(errno));
    int version = 0;
    int r = side_open(s, reterr);
    if (r == 0)
        r = version_of(s, &version, reterr);
    if (r < 0)
        return r;
    if (version == 0)
        return slad_error_set(reterr, ENOENT, "%s has no slad schema: nothing to copy", s->label);
    return version == store_schema_version() ? 0 : refuse_version(s, version, reterr);
}

/* An SQLite target gets its schema through store_open (a new file private, 0600), after
 * its version was checked: store_open would migrate an older one. */
static int prepare_sqlite_target(struct side *s, struct slad_error *reterr)
{
    struct stat sb;
    if (strncmp(s->target, "file:", 5) == 0 || stat(s->target, &sb) == 0) {
        int version = 0;
        int r = side_open(s, reterr);
        if (r == 0)
            r = sqlite_version(s, &version, reterr);
        db_close(s->db);
        s->db = NULL;
        if (r < 0)
            return r;
        if (version != 0 && version != store_schema_version())
            return refuse_version(s, version, reterr);
    }
    struct store *store = NULL;
    int r = store_open(s->target, true, &store, reterr);
    store_close(store);
    return r < 0 ? r : side_open(s, reterr);
}

static int open_target(struct side *s, struct slad_error *reterr)
{
    if (s->kind == DB_SQLITE)
        return prepare_sqlite_target(s, reterr);
    int version = 0;
    int r = side_open(s, reterr);
    if (r == 0)
        r = version_of(s, &version, reterr);
    if (r == 0 && version == 0)
        r = schema_pg_create(s->db, reterr);
    else if (r == 0 && version != store_schema_version())
        r = refuse_version(s, version, reterr);
    return r;
}

/* Any row in the target (the counters excepted: a new schema has some) refuses the copy. */
static int check_empty(struct side *s, struct slad_error *reterr)
{
    for (size_t i = 0; i < COPY_DB_TABLES; i++) {
        if (strcmp(tables[i].name, "counts") == 0)
            continue;
        struct db_stmt *st = db_prepare(s->db, tables[i].probe, reterr);
        int r = st ? db_step(st, "checking that the target is empty", reterr) : -EIO;
        if (st)
            db_reset(st);
        if (r < 0)
            return r;
        if (r == 1)
            return slad_error_set(reterr, EEXIST,
                                  "%s already holds rows (table %s): copy into a new, empty "
                                  "database; nothing was copied",
                                  s->label, tables[i].name);
    }
    return 0;
}

/* "INSERT INTO name ("c1", "c2") VALUES (?1, ?2)" for the columns of st, into a new
 * string (kept until the target is closed: its address keys the statement cache). */
static char *insert_sql(const char *name, struct db_stmt *st)
{
    char *sql = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&sql, &size);
    if (!f)
        return NULL;
    int n = db_column_count(st);
    fprintf(f, "INSERT INTO %s (", name);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", \"" : "\"", f);
        for (const char *c = db_column_name(st, i); c && *c; c++)
            fputs(*c == '"' ? "\"\"" : (char[]){*c, '\0'}, f);
        fputc('"', f);
    }
    fputs(") VALUES (", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s?%d", i ? ", " : "", i + 1);
    fputc(')', f);
    if (fclose(f) != 0) {
        free(sql);
        return NULL;
    }
    return sql;
}

/* The last row's key, kept for the next page (a text column's text, at most
 * COPY_DB_KEY_MAX bytes: slad's keys are names). */
#define COPY_DB_KEY_MAX 512

struct page_key {
    int column[2]; /* the key's columns in the rows; -1: none */
    char text[2][COPY_DB_KEY_MAX];
};

static int find_key_columns(const struct table *t, struct db_stmt *st, struct page_key *k,
                            struct slad_error *reterr)
{
    for (int j = 0; j < 2; j++) {
        k->column[j] = -1;
        for (int i = 0; t->key[j] && i < db_column_count(st); i++)
            if (strcmp(db_column_name(st, i), t->key[j]) == 0)
                k->column[j] = i;
        if (t->key[j] && k->column[j] < 0)
            return slad_error_set(reterr, EIO, "copying table %s: no column %s", t->name,
                                  t->key[j]);
    }
    return 0;
}

static int keep_key(const struct table *t, struct db_stmt *st, struct page_key *k,
                    struct slad_error *reterr)
{
    for (int j = 0; j < 2 && k->column[j] >= 0; j++) {
        const char *v = db_column_text(st, k->column[j]);
        if (!v || strlen(v) >= COPY_DB_KEY_MAX)
            return slad_error_set(reterr, EINVAL,
                                  "copying table %s: a row's %s is %s: it cannot be paged by",
                                  t->name, t->key[j], v ? "too long" : "NULL");
        memcpy(k->text[j], v, strlen(v) + 1);
    }
    return 0;
}

static void bind_key(const struct table *t, struct db_stmt *st, const struct page_key *k)
{
    for (int j = 0; j < 2 && t->key[j]; j++) {
        if (t->key_is_int[j])
            db_bind_int64(st, j + 2, strtoll(k->text[j], NULL, 10));
        else
            db_bind_text(st, j + 2, k->text[j]);
    }
}

/* One page of table t (after *k unless first) into dst: *ret_n rows, *k the last key. */
static int copy_page(struct side *src, struct side *dst, const struct table *t, bool first,
                     size_t page_rows, struct page_key *k, char **insert, int64_t *ret_n,
                     struct slad_error *reterr)
{
    char op[96];
    snprintf(op, sizeof(op), "copying table %s", t->name);
    struct db_stmt *st = db_prepare(src->db, first ? t->first : t->next, reterr);
    if (!st)
        return -EIO;
    db_bind_limit(st, 1, page_rows);
    if (!first)
        bind_key(t, st, k);
    struct db_stmt *ins = NULL;
    int64_t n = 0;
    int r;
    while ((r = db_step(st, op, reterr)) == 1) {
        if (!*insert) {
            r = find_key_columns(t, st, k, reterr);
            if (r < 0)
                break;
            *insert = insert_sql(t->name, st);
            if (!*insert) {
                r = slad_error_set(reterr, ENOMEM, "%s: out of memory", op);
                break;
            }
        }
        if (!ins && !(ins = db_prepare(dst->db, *insert, reterr))) {
            r = -EIO;
            break;
        }
        int cols = db_column_count(st);
        for (int i = 0; i < cols; i++)
            db_bind_text(ins, i + 1, db_column_text(st, i));
        r = db_queue(ins, op, reterr);
        db_reset(ins);
        if (r == 0)
            r = keep_key(t, st, k, reterr);
        if (r < 0)
            break;
        n++;
    }
    db_reset(st);
    *ret_n = n;
    return r < 0 ? r : 0;
}

/* Every row of table t from src to dst, page by page; *insert is the insert statement's
 * text (kept until the target is closed: its address keys the statement cache). */
static int copy_table(struct side *src, struct side *dst, const struct table *t, size_t page_rows,
                      char **insert, int64_t *ret_rows, struct slad_error *reterr)
{
    struct page_key k = {{-1, -1}, {"", ""}};
    int64_t n = 0;
    int r = 0;
    *ret_rows = 0;
    for (bool first = true; r == 0; first = false) {
        r = copy_page(src, dst, t, first, page_rows, &k, insert, &n, reterr);
        *ret_rows += n;
        if (n < (int64_t)page_rows)
            break;
    }
    return r;
}

static int copy_rows(struct side *src, struct side *dst, size_t page_rows, char **sqls,
                     struct copy_db_report *report, struct slad_error *reterr)
{
    int r = db_exec(src->db,
                    src->kind == DB_POSTGRES ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                             : "BEGIN",
                    "starting to read the source", reterr);
    if (r < 0)
        return r;
    r = db_begin(dst->db, reterr);
    for (size_t i = 0; r == 0 && i < COPY_DB_TABLES; i++) {
        report->table[i] = tables[i].name;
        if (strcmp(tables[i].name, "counts") == 0)
            r = db_exec(dst->db, "DELETE FROM counts", "replacing the counters", reterr);
        if (r == 0)
            r = copy_table(src, dst, &tables[i], page_rows, &sqls[i], &report->rows[i], reterr);
        report->total += report->rows[i];
    }
    if (r == 0)
        r = db_sync(dst->db, reterr);
    if (r == 0 && dst->kind == DB_POSTGRES)
        r = db_exec(dst->db, sql_pg_identities, "continuing the ids after the copied", reterr);
    if (r == 0)
        r = db_commit(dst->db, reterr);
    if (r < 0 && db_in_transaction(dst->db))
        db_rollback(dst->db, NULL);
    db_rollback(src->db, NULL); /* read only */
    return r;
}

int copy_db(const char *from, const char *to, size_t page_rows, struct copy_db_report *ret,
            struct slad_error *reterr)
{
    if (page_rows == 0)
        page_rows = COPY_DB_PAGE_ROWS;
    *ret = (struct copy_db_report){0};
    if (strcmp(from, to) == 0)
        return slad_error_set(reterr, EINVAL, "FROM and TO are the same database");
    struct side src, dst;
    side_init(&src, "FROM", from);
    side_init(&dst, "TO", to);
    char *sqls[COPY_DB_TABLES] = {0};
    int r = open_source(&src, reterr);
    if (r == 0)
        r = open_target(&dst, reterr);
    if (r == 0)
        r = check_empty(&dst, reterr);
    if (r == 0)
        r = copy_rows(&src, &dst, page_rows, sqls, ret, reterr);
    db_close(src.db);
    db_close(dst.db);
    for (size_t i = 0; i < COPY_DB_TABLES; i++)
        free(sqls[i]);
    return r;
}
