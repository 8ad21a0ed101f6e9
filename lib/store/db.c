/* db.c - the SQL seam of db.h: which driver a target selects, the statement cache (keyed
 * by the address of the SQL text), transactions and savepoints in
 * each database's words, and ?N placeholders as PostgreSQL's $N. Everything else is
 * passed to the driver's table (db_internal.h). */
#include "db.h"
#include "db_internal.h"
#include "dbtarget.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum db_driver_kind db_kind_of(const char *target)
{
    return dbtarget_is_postgres(target) ? DB_POSTGRES : DB_SQLITE;
}

int db_open(const char *target, struct db **ret, struct slad_error *reterr)
{
    const struct db_driver *driver =
        db_kind_of(target) == DB_POSTGRES ? &db_pg_driver : &db_sqlite_driver;
    struct db *db = NULL;
    int r = driver->open(target, &db, reterr);
    if (r < 0)
        return r;
    db->driver = driver;
    *ret = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n_cached; i++)
        db->driver->finalize(db->cached[i]);
    db->driver->close(db);
}

enum db_driver_kind db_kind(const struct db *db)
{
    return db->driver == &db_pg_driver ? DB_POSTGRES : DB_SQLITE;
}

int db_exec(struct db *db, const char *sql, const char *op, struct slad_error *reterr)
{
    return db->driver->exec(db, sql, op, reterr);
}

struct db_stmt *db_prepare(struct db *db, const char *sql, struct slad_error *reterr)
{
    size_t i = 0;
    for (; i < db->n_cached; i++)
        if (db->cached_sql[i] == sql)
            return db->cached[i];
    if (i == DB_CACHED_MAX) {
        slad_error_set(reterr, ENOSPC, "database: more than %d cached statements", DB_CACHED_MAX);
        return NULL;
    }
    struct db_stmt *st = db->driver->prepare(db, sql, reterr);
    if (!st)
        return NULL;
    st->db = db;
    st->sql = sql;
    db->cached_sql[i] = sql;
    db->cached[i] = st;
    db->n_cached++;
    return st;
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
    st->db->driver->bind_text(st, i, v);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    st->db->driver->bind_int64(st, i, v);
}

void db_bind_null(struct db_stmt *st, int i)
{
    st->db->driver->bind_null(st, i);
}

void db_bind_limit(struct db_stmt *st, int i, size_t limit)
{
    if (limit > 0 && limit <= INT64_MAX)
        db_bind_int64(st, i, (int64_t)limit);
    else if (db_kind(st->db) == DB_POSTGRES)
        db_bind_null(st, i);
    else
        db_bind_int64(st, i, -1);
}

int db_step(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    return st->db->driver->step(st, op, reterr);
}

int db_queue(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    return st->db->driver->queue(st, op, reterr);
}

int db_sync(struct db *db, struct slad_error *reterr)
{
    return db->driver->sync(db, reterr);
}

bool db_column_is_null(struct db_stmt *st, int i)
{
    return st->db->driver->column_is_null(st, i);
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
    return st->db->driver->column_int64(st, i);
}

const char *db_column_text(struct db_stmt *st, int i)
{
    return st->db->driver->column_text(st, i);
}

int db_column_count(struct db_stmt *st)
{
    return st->db->driver->column_count(st);
}

const char *db_column_name(struct db_stmt *st, int i)
{
    return st->db->driver->column_name(st, i);
}

void db_reset(struct db_stmt *st)
{
    st->db->driver->reset(st);
}

int64_t db_changes(struct db *db)
{
    return db->driver->changes(db);
}

int64_t db_last_insert_id(struct db *db)
{
    return db->driver->last_insert_id(db);
}

bool db_in_transaction(struct db *db)
{
    return db->driver->in_transaction(db);
}

bool db_in_savepoint(struct db *db)
{
    return db->savepoints > 0;
}

int db_prepare_transactions(struct db *db, const char *savepoint, struct slad_error *reterr)
{
    if (!db->driver->keep)
        return 0;
    const char *const verbs[] = {"SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"};
    const char *const fixed[] = {db->driver->begin_sql, "COMMIT", "ROLLBACK"};
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof(fixed) / sizeof(fixed[0]); i++)
        r = db->driver->keep(db, fixed[i], reterr);
    for (size_t i = 0; r == 0 && savepoint && i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "%s %s", verbs[i], savepoint);
        r = db->driver->keep(db, sql, reterr);
    }
    return r;
}

int db_begin(struct db *db, struct slad_error *reterr)
{
    /* SQLite refuses a BEGIN inside a transaction; PostgreSQL only warns and goes on, which
     * would hide a caller's mistake: refused on both. */
    if (db_kind(db) == DB_POSTGRES && db_in_transaction(db))
        return slad_error_set(reterr, EIO,
                              "database: begin transaction failed: cannot start a transaction "
                              "within a transaction");
    return db_exec(db, db->driver->begin_sql, "begin transaction", reterr);
}

int db_commit(struct db *db, struct slad_error *reterr)
{
    db->savepoints = 0;
    db->savepoint_began = false;
    return db_exec(db, "COMMIT", "commit", reterr);
}

int db_commit_async(struct db *db, db_commit_done_fn *done, void *arg, struct slad_error *reterr)
{
    if (!db->driver->commit_async)
        return slad_error_set(reterr, ENOTSUP, "database: %s commits synchronously",
                              db->driver->name);
    int r = db->driver->commit_async(db, done, arg, reterr);
    if (r == 0) {
        db->savepoints = 0;
        db->savepoint_began = false;
    }
    return r;
}

int db_async_socket(struct db *db)
{
    return db->driver->async_socket ? db->driver->async_socket(db) : -1;
}

int db_async_wants(struct db *db)
{
    return db->driver->async_wants ? db->driver->async_wants(db) : 0;
}

void db_async_pump(struct db *db)
{
    if (db->driver->async_pump)
        db->driver->async_pump(db);
}

int db_async_in_flight(struct db *db)
{
    return db->driver->async_in_flight ? db->driver->async_in_flight(db) : 0;
}

void db_reconnect_in_background(struct db *db)
{
    if (db->driver->reconnect_in_background)
        db->driver->reconnect_in_background(db);
}

int db_reconnect_step(struct db *db, double now_s, struct db_link *link)
{
    if (db->driver->reconnect_step)
        return db->driver->reconnect_step(db, now_s, link);
    *link = (struct db_link){.fd = -1, .why = ""};
    return 0;
}

bool db_connected(struct db *db)
{
    return db->driver->connected ? db->driver->connected(db) : true;
}

int db_rollback(struct db *db, struct slad_error *reterr)
{
    db->savepoints = 0;
    db->savepoint_began = false;
    return db_exec(db, "ROLLBACK", "rollback", reterr);
}

/* "VERB name": the name is an identifier, never text from outside. */
static int savepoint_exec(struct db *db, const char *verb, const char *name, const char *op,
                          struct slad_error *reterr)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") != n)
        return slad_error_set(reterr, EINVAL, "database: %s: '%s' is not a savepoint name", op,
                              name);
    char sql[96];
    snprintf(sql, sizeof(sql), "%s %s", verb, name);
    return db_exec(db, sql, op, reterr);
}

/* Outside a transaction SQLite's SAVEPOINT begins one, which the release of that savepoint
 * commits; PostgreSQL refuses it ("can only be used in transaction blocks"): there the
 * savepoint begins the transaction itself, and its release commits it. */
int db_savepoint(struct db *db, const char *name, struct slad_error *reterr)
{
    bool begin = db_kind(db) == DB_POSTGRES && !db_in_transaction(db);
    if (begin) {
        int r = db_begin(db, reterr);
        if (r < 0)
            return r;
    }
    int r = savepoint_exec(db, "SAVEPOINT", name, "savepoint", reterr);
    if (r < 0) {
        if (begin) {
            struct slad_error ignored = {{0}};
            db_rollback(db, &ignored);
        }
        return r;
    }
    if (begin) {
        db->savepoints = 0;
        db->savepoint_began = true;
    }
    db->savepoints++;
    return 0;
}

int db_release(struct db *db, const char *name, struct slad_error *reterr)
{
    int r = savepoint_exec(db, "RELEASE SAVEPOINT", name, "release savepoint", reterr);
    if (r < 0 || db->savepoints == 0 || --db->savepoints > 0 || !db->savepoint_began)
        return r;
    return db_commit(db, reterr);
}

int db_rollback_to(struct db *db, const char *name, struct slad_error *reterr)
{
    /* ROLLBACK TO keeps the savepoint open (in both databases); RELEASE ends it. */
    int r = savepoint_exec(db, "ROLLBACK TO SAVEPOINT", name, "rollback to savepoint", reterr);
    return r < 0 ? r : db_release(db, name, reterr);
}

/* The end of the quoted run starting at s (on its opening quote q), past the closing one;
 * a doubled quote inside is the quote itself. */
static const char *skip_quoted(const char *s, char q)
{
    for (s++; *s; s++)
        if (*s == q) {
            if (s[1] != q)
                return s + 1;
            s++;
        }
    return s;
}

/* "INDEXED BY name " at s (a word of its own), SQLite's hint to its planner: its length, to
 * be dropped for PostgreSQL, whose planner takes no hints; 0 when s is something else. */
static size_t indexed_by_at(const char *sql, const char *s)
{
    static const char hint[] = "INDEXED BY ";
    if (strncmp(s, hint, sizeof(hint) - 1) != 0 || (s > sql && s[-1] != ' '))
        return 0;
    size_t n = sizeof(hint) - 1;
    n += strspn(s + n, "abcdefghijklmnopqrstuvwxyz_0123456789");
    return n + (s[n] == ' ');
}

int db_sql_to_pg(const char *sql, char *out, size_t size, int *ret_nparams)
{
    size_t n = strlen(sql);
    if (n + 1 > size)
        return -ENOSPC;
    int nparams = 0;
    size_t o = 0;
    const char *s = sql;
    while (*s) {
        const char *from = s;
        size_t hint;
        if (*s == '\'' || *s == '"') {
            s = skip_quoted(s, *s);
        } else if (s[0] == '-' && s[1] == '-') {
            s += strcspn(s, "\n");
        } else if (s[0] == '/' && s[1] == '*') {
            const char *end = strstr(s + 2, "*/");
            s = end ? end + 2 : s + strlen(s);
        } else if ((hint = indexed_by_at(sql, s)) > 0) {
            s += hint;
            continue;
        } else if (*s == '?') {
            int v = 0;
            for (s++; *s >= '0' && *s <= '9' && v < 100000; s++)
                v = v * 10 + (*s - '0');
            if (v == 0)
                return -EINVAL;
            if (v > nparams)
                nparams = v;
            out[o++] = '$';
            from++;
        } else {
            s++;
        }
        memcpy(out + o, from, (size_t)(s - from));
        o += (size_t)(s - from);
    }
    out[o] = '\0';
    *ret_nparams = nparams;
    return 0;
}
