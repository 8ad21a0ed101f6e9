/* db_pg.c - db.h on PostgreSQL through libpq, blocking (doc/POSTGRESQL.md has the design
 * of the pipelined, non-blocking use on the loop). Statements are prepared with PQprepare
 * once per connection under a name of their own, their ?N placeholders sent as $N, and run
 * with PQexecPrepared with every parameter as text (the server casts it to the column's
 * type; a parameter it cannot type from context is written CAST(?N AS BIGINT)). The whole
 * result is read at the first step; later steps walk its rows.
 *
 * A lost connection fails the call that finds it with -ENOTCONN; the next call reconnects
 * (PQreset: the same hosts and target_session_attrs, so a fail-over of the database itself
 * lands on the new primary) and prepares the statements again when they are next run. A
 * transaction open when the connection was lost is gone: every statement fails until the
 * caller's ROLLBACK, so that none of it can commit alone on the new connection. */
#include "db.h"
#include "db_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* Queued writes answered at one sync point: past this many, db_queue syncs first. */
#define DB_PG_QUEUE_MAX 1024

struct db_pg {
    struct db base;
    PGconn *conn;
    int queued; /* writes sent in pipeline mode, not answered yet */
    bool queued_in_transaction;
    const char *queued_op[DB_PG_QUEUE_MAX]; /* each one's operation, for its error */
    unsigned generation; /* grows at each reconnection: statements are prepared again */
    unsigned n_names;
    bool lost_transaction;
    int64_t changes;
    int64_t last_insert_id;
};

struct db_pg_stmt {
    struct db_stmt base;
    char name[16];
    char *pg_sql; /* with $N */
    int nparams;
    unsigned prepared_in; /* the generation it was prepared in */
    const char **values;
    char (*digits)[24]; /* the text of integer parameters */
    int bind_error;     /* the first binding's failure (-errno) */
    PGresult *res;
    int row; /* the current row, -1 before the first */
};

static struct db_pg *pg_of(struct db *db)
{
    return (struct db_pg *)db;
}

static struct db_pg_stmt *stmt_of(struct db_stmt *st)
{
    return (struct db_pg_stmt *)st;
}

static bool sqlstate_is(const char *state, const char *prefix)
{
    return state && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* A SQLSTATE as -errno: the classes slad acts on differently. */
static int code_of(const char *state)
{
    if (sqlstate_is(state, "23505"))
        return EEXIST;
    /* Class 42 (a statement the server refuses) stays EIO, as SQLite's SQLITE_ERROR. */
    if (sqlstate_is(state, "23") || sqlstate_is(state, "22"))
        return EINVAL;
    if (sqlstate_is(state, "40001") || sqlstate_is(state, "40P01") || sqlstate_is(state, "55P03"))
        return EAGAIN;
    if (sqlstate_is(state, "53100"))
        return ENOSPC;
    if (sqlstate_is(state, "53200"))
        return ENOMEM;
    if (sqlstate_is(state, "25006"))
        return EROFS;
    if (sqlstate_is(state, "08") || sqlstate_is(state, "57P"))
        return ENOTCONN;
    return EIO;
}

/* libpq's message, one line. */
static void one_line(char *msg)
{
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

static int fail(struct db_pg *d, const PGresult *res, const char *op, struct slad_error *reterr)
{
    int code;
    char detail[256];
    if (PQstatus(d->conn) == CONNECTION_BAD) {
        code = ENOTCONN;
        snprintf(detail, sizeof(detail), "connection lost (reconnecting at the next use): %s",
                 PQerrorMessage(d->conn));
    } else if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        code = code_of(PQresultErrorField(res, PG_DIAG_SQLSTATE));
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(detail, sizeof(detail), "%s", primary ? primary : PQresultErrorMessage(res));
    } else {
        code = res ? EIO : ENOMEM;
        snprintf(detail, sizeof(detail), "%s", PQerrorMessage(d->conn));
    }
    one_line(detail);
    return slad_error_set(reterr, code, "database: %s failed: %s", op, detail);
}

/* libpq prints the server's notices to stderr by default; lib/ never prints. */
static void ignore_notice(void *arg, const char *message)
{
}

/* A connection to run on: reconnect one that was lost. */
static int ready(struct db_pg *d, const char *op, struct slad_error *reterr)
{
    if (PQstatus(d->conn) == CONNECTION_OK)
        return 0;
    PQreset(d->conn);
    if (PQstatus(d->conn) != CONNECTION_OK)
        return fail(d, NULL, op, reterr);
    d->generation++;
    return 0;
}

/* After a failure: a lost connection takes its transaction with it. */
static void note_loss(struct db_pg *d, bool was_in_transaction)
{
    if (PQstatus(d->conn) == CONNECTION_BAD && was_in_transaction)
        d->lost_transaction = true;
}

static bool pg_in_transaction(struct db *db)
{
    struct db_pg *d = pg_of(db);
    if (d->lost_transaction)
        return true;
    PGTransactionStatusType t = PQtransactionStatus(d->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int refuse_lost(struct db_pg *d, const char *op, struct slad_error *reterr)
{
    return slad_error_set(reterr, ENOTCONN,
                          "database: %s failed: the transaction was lost with the connection; "
                          "roll it back",
                          op);
}

/* The answers of the queued writes: each statement's result then NULL, and the sync
 * point's PGRES_PIPELINE_SYNC last; after a failure the rest come PGRES_PIPELINE_ABORTED. */
static int pg_sync(struct db *db, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    if (d->queued == 0)
        return 0;
    bool drained = PQpipelineSync(d->conn);
    int r = drained ? 0 : fail(d, NULL, d->queued_op[0], reterr);
    for (int i = 0; drained && i < d->queued; i++) {
        PGresult *res = PQgetResult(d->conn);
        if (!res) { /* the connection is gone */
            if (r == 0)
                r = fail(d, NULL, d->queued_op[i], reterr);
            drained = false;
            break;
        }
        if (PQresultStatus(res) == PGRES_FATAL_ERROR && r == 0)
            r = fail(d, res, d->queued_op[i], reterr);
        PQclear(res);
        PQclear(PQgetResult(d->conn)); /* the NULL that ends each statement's results */
    }
    if (drained) {
        PGresult *res = PQgetResult(d->conn);
        if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && r == 0)
            r = fail(d, res, "waiting for queued writes", reterr);
        PQclear(res);
        PQexitPipelineMode(d->conn);
    }
    d->queued = 0;
    if (r < 0)
        note_loss(d, d->queued_in_transaction);
    return r;
}

static void pg_close(struct db *db)
{
    PQfinish(pg_of(db)->conn);
    free(db);
}

static int pg_open(const char *target, struct db **ret, struct slad_error *reterr)
{
    struct db_pg *d = calloc(1, sizeof(*d));
    if (!d)
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    d->conn = PQconnectdb(target);
    if (!d->conn) {
        free(d);
        return slad_error_set(reterr, ENOMEM, "database: out of memory");
    }
    if (PQstatus(d->conn) != CONNECTION_OK) {
        char detail[256];
        snprintf(detail, sizeof(detail), "%s", PQerrorMessage(d->conn));
        one_line(detail);
        pg_close(&d->base);
        /* The message, not the target: it may hold a password. */
        return slad_error_set(reterr, ECONNREFUSED,
                              "database (PostgreSQL): cannot connect: %s; check 'database' "
                              "and that the server runs",
                              detail);
    }
    PQsetNoticeProcessor(d->conn, ignore_notice, NULL);
    *ret = &d->base;
    return 0;
}

static int64_t changes_of(const PGresult *res)
{
    const char *n = PQcmdTuples((PGresult *)res);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

static bool is_rollback(const char *sql)
{
    return strncmp(sql, "ROLLBACK", 8) == 0 && strncmp(sql, "ROLLBACK TO", 11) != 0;
}

static int pg_exec(struct db *db, const char *sql, const char *op, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    int synced = pg_sync(db, reterr);
    if (synced < 0 && !is_rollback(sql))
        return synced;
    if (d->lost_transaction) {
        if (!is_rollback(sql))
            return refuse_lost(d, op, reterr);
        d->lost_transaction = false; /* the server rolled it back when the connection died */
        return ready(d, op, reterr);
    }
    int r = ready(d, op, reterr);
    if (r < 0)
        return r;
    bool was_in = pg_in_transaction(db);
    PGresult *res = PQexec(d->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (res && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
        d->changes = changes_of(res);
    } else {
        r = fail(d, res, op, reterr);
        note_loss(d, was_in);
    }
    PQclear(res);
    return r;
}

static int prepare_on_server(struct db_pg *d, struct db_pg_stmt *s, struct slad_error *reterr)
{
    PGresult *res = PQprepare(d->conn, s->name, s->pg_sql, s->nparams, NULL);
    int r = 0;
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK)
        s->prepared_in = d->generation;
    else
        r = fail(d, res, "preparing a statement", reterr);
    PQclear(res);
    return r;
}

static void pg_finalize(struct db_stmt *st)
{
    struct db_pg_stmt *s = stmt_of(st);
    PQclear(s->res);
    free(s->pg_sql);
    free(s->values);
    free(s->digits);
    free(s);
}

static struct db_stmt *pg_prepare(struct db *db, const char *sql, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    struct db_pg_stmt *s = calloc(1, sizeof(*s));
    size_t size = strlen(sql) + 1;
    if (!s || !(s->pg_sql = malloc(size))) {
        free(s);
        slad_error_set(reterr, ENOMEM, "database: out of memory preparing a statement");
        return NULL;
    }
    s->row = -1;
    int r = db_sql_to_pg(sql, s->pg_sql, size, &s->nparams);
    if (r < 0) {
        slad_error_set(reterr, -r,
                       "database: preparing a statement failed: a parameter is "
                       "not numbered (?N): %.80s",
                       sql);
        goto fail;
    }
    size_t n = s->nparams > 0 ? (size_t)s->nparams : 1;
    s->values = calloc(n, sizeof(*s->values));
    s->digits = calloc(n, sizeof(*s->digits));
    if (!s->values || !s->digits) {
        slad_error_set(reterr, ENOMEM, "database: out of memory preparing a statement");
        goto fail;
    }
    snprintf(s->name, sizeof(s->name), "s%u", d->n_names++);
    if (pg_sync(db, reterr) < 0 || ready(d, "preparing a statement", reterr) < 0 ||
        prepare_on_server(d, s, reterr) < 0)
        goto fail;
    return &s->base;
fail:
    pg_finalize(&s->base);
    return NULL;
}

/* Parameter i (from 1) of s, or NULL (kept as an error for step) when out of range. */
static bool param_ok(struct db_pg_stmt *s, int i)
{
    if (i >= 1 && i <= s->nparams)
        return true;
    if (s->bind_error == 0)
        s->bind_error = -EIO; /* SQLITE_RANGE, as store_fail_rc maps it */
    return false;
}

static void pg_bind_text(struct db_stmt *st, int i, const char *v)
{
    struct db_pg_stmt *s = stmt_of(st);
    if (param_ok(s, i))
        s->values[i - 1] = v;
}

static void pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    struct db_pg_stmt *s = stmt_of(st);
    if (!param_ok(s, i))
        return;
    snprintf(s->digits[i - 1], sizeof(s->digits[i - 1]), "%" PRId64, v);
    s->values[i - 1] = s->digits[i - 1];
}

static void pg_bind_null(struct db_stmt *st, int i)
{
    pg_bind_text(st, i, NULL);
}

/* "id" among the columns of an INSERT's rows: the id it made (db_last_insert_id). */
static void note_insert_id(struct db_pg *d, const PGresult *res)
{
    int col = PQfnumber(res, "id");
    if (col >= 0 && PQntuples(res) > 0 && !PQgetisnull(res, 0, col) &&
        strncmp(PQcmdStatus((PGresult *)res), "INSERT", 6) == 0)
        d->last_insert_id = strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* What a statement needs before it is run or queued: its bindings, a connection, its
 * preparation on it. */
static int runnable(struct db_pg *d, struct db_pg_stmt *s, const char *op,
                    struct slad_error *reterr)
{
    if (s->bind_error < 0)
        return slad_error_set(reterr, -s->bind_error,
                              "database: %s failed: a parameter out of range (1..%d)", op,
                              s->nparams);
    if (d->lost_transaction)
        return refuse_lost(d, op, reterr);
    int r = d->queued > 0 ? 0 : ready(d, op, reterr);
    if (r == 0 && s->prepared_in != d->generation)
        r = pg_sync(&d->base, reterr);
    if (r == 0 && s->prepared_in != d->generation)
        r = prepare_on_server(d, s, reterr);
    return r;
}

static int pg_queue(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(st->db);
    struct db_pg_stmt *s = stmt_of(st);
    int r = d->queued == DB_PG_QUEUE_MAX ? pg_sync(st->db, reterr) : 0;
    if (r == 0)
        r = runnable(d, s, op, reterr);
    if (r < 0)
        return r;
    if (d->queued == 0) {
        d->queued_in_transaction = pg_in_transaction(st->db);
        if (!PQenterPipelineMode(d->conn))
            return fail(d, NULL, op, reterr);
    }
    /* libpq copies the parameters into its buffer: the statement may be reset at once. */
    if (!PQsendQueryPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0)) {
        r = fail(d, NULL, op, reterr);
        if (d->queued == 0)
            PQexitPipelineMode(d->conn);
        return r;
    }
    d->queued_op[d->queued++] = op;
    return 0;
}

static int run(struct db_pg *d, struct db_pg_stmt *s, const char *op, struct slad_error *reterr)
{
    int r = pg_sync(&d->base, reterr);
    if (r == 0)
        r = runnable(d, s, op, reterr);
    if (r < 0)
        return r;
    bool was_in = pg_in_transaction(&d->base);
    s->res = PQexecPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(s->res);
    if (!s->res || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)) {
        r = fail(d, s->res, op, reterr);
        note_loss(d, was_in);
        PQclear(s->res);
        s->res = NULL;
        return r;
    }
    d->changes = changes_of(s->res);
    note_insert_id(d, s->res);
    return 0;
}

static int pg_step(struct db_stmt *st, const char *op, struct slad_error *reterr)
{
    struct db_pg_stmt *s = stmt_of(st);
    if (!s->res) {
        int r = run(pg_of(st->db), s, op, reterr);
        if (r < 0)
            return r;
    }
    if (s->row < PQntuples(s->res))
        s->row++;
    return s->row < PQntuples(s->res) ? 1 : 0;
}

static bool pg_column_is_null(struct db_stmt *st, int i)
{
    struct db_pg_stmt *s = stmt_of(st);
    return !s->res || s->row < 0 || s->row >= PQntuples(s->res) || i >= PQnfields(s->res) ||
           PQgetisnull(s->res, s->row, i);
}

static const char *pg_column_text(struct db_stmt *st, int i)
{
    struct db_pg_stmt *s = stmt_of(st);
    return pg_column_is_null(st, i) ? NULL : PQgetvalue(s->res, s->row, i);
}

static int64_t pg_column_int64(struct db_stmt *st, int i)
{
    const char *v = pg_column_text(st, i);
    if (!v)
        return 0;
    /* A comparison is a boolean in PostgreSQL, an integer in SQLite. */
    if (PQftype(stmt_of(st)->res, i) == 16 /* BOOLOID */)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static int pg_column_count(struct db_stmt *st)
{
    struct db_pg_stmt *s = stmt_of(st);
    return s->res ? PQnfields(s->res) : 0;
}

static const char *pg_column_name(struct db_stmt *st, int i)
{
    struct db_pg_stmt *s = stmt_of(st);
    return s->res && i >= 0 && i < PQnfields(s->res) ? PQfname(s->res, i) : NULL;
}

static void pg_reset(struct db_stmt *st)
{
    struct db_pg_stmt *s = stmt_of(st);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->bind_error = 0;
    for (int i = 0; i < s->nparams; i++)
        s->values[i] = NULL;
}

static int64_t pg_changes(struct db *db)
{
    return pg_of(db)->changes;
}

static int64_t pg_last_insert_id(struct db *db)
{
    return pg_of(db)->last_insert_id;
}

const struct db_driver db_pg_driver = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .queue = pg_queue,
    .sync = pg_sync,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_text = pg_column_text,
    .column_count = pg_column_count,
    .column_name = pg_column_name,
    .reset = pg_reset,
    .changes = pg_changes,
    .last_insert_id = pg_last_insert_id,
    .in_transaction = pg_in_transaction,
    .begin_sql = "BEGIN",
};
