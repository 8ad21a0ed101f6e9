/* db_pg.c - db.h on PostgreSQL through libpq. Statements are prepared with PQprepare
 * once per connection under a name of their own, their ?N placeholders sent as $N, and run
 * with PQexecPrepared with every parameter as text (the server casts it to the column's
 * type; a parameter it cannot type from context is written CAST(?N AS BIGINT)). The whole
 * result of a read is read at the first step; later steps walk its rows.
 *
 * Writes whose rows are not needed (db_queue) and the COMMIT of a loop iteration
 * (db_commit_async) go into the connection's pipeline without waiting; the connection is
 * non-blocking, so a loop flushes and reads it as its socket allows (db_async_pump). The
 * answers come back in the order the statements were sent, so the driver keeps a FIFO of
 * what it expects: a queued statement's result (its op names its failure), a COMMIT's, a
 * sync point's (the end of a group; after a commit's, the commit's done is called). Why
 * that order is enough:
 * - A call that needs an answer now (a read, RELEASE, a synchronous COMMIT) is sent behind
 *   what is queued, with a sync point, and reads every answer up to its own (one round
 *   trip for all): earlier commits' outcomes are dispatched (done only records them), then
 *   the pipeline is left. (A rollback, a script of several statements, a first PQprepare
 *   drain the pipeline first and run outside it, as libpq wants.) So a read after a commit
 *   in flight waits for that COMMIT: the server runs one connection's statements in order.
 * - A statement that fails makes the server skip the rest of its group
 *   (PGRES_PIPELINE_ABORTED) until the sync point, and leaves an open transaction aborted.
 *   The first failure is kept and returned by the next call that waits; the COMMIT has a
 *   group of its own, so it runs even then: on an aborted transaction it answers ROLLBACK,
 *   and the commit fails with that first failure. A COMMIT always ends the transaction.
 * - The fencing check (scheduler.h) is a read: it runs, and its answer is known, before the
 *   COMMIT is sent, in the same transaction; it keeps the lease row locked until the COMMIT
 *   is done on the server, whenever its answer comes back.
 * - BEGIN and SAVEPOINT are queued too (the next iteration's, behind a commit in flight);
 *   while the pipeline is open in_transaction follows what was sent, not libpq's status
 *   (busy).
 *
 * A lost connection fails the call that finds it with -ENOTCONN, and every commit in
 * flight (its outcome is unknown: nothing of it was acknowledged); the next call
 * reconnects (PQreset: the same hosts and target_session_attrs, so a fail-over of the
 * database itself lands on the new primary), or, once db_reconnect_in_background was
 * asked for, every call fails at once until db_reconnect_step has made it again without
 * blocking (db_pg_connect.c); the statements are prepared again when they are next run. A
 * transaction open when the connection was lost is gone: every statement fails until the caller's
 * ROLLBACK, so that none of it can commit alone on the new connection. */
#include "db.h"
#include "db_internal.h"
#include "db_pg_connect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* Queued writes answered at one sync point: past this many, db_queue syncs first. */
#define DB_PG_QUEUE_MAX 1024
/* Answers awaited at most (a ring): past it, the pipeline is drained first. */
#define DB_PG_FIFO_MAX 2048

/* What the next answer in the pipeline is. */
enum pg_expect {
    EXPECT_RESULT, /* a queued statement's result, then NULL */
    EXPECT_WAITED, /* the result of a statement whose caller waits for it, then NULL */
    EXPECT_COMMIT, /* the COMMIT's, then NULL */
    EXPECT_SYNC,   /* a sync point: PGRES_PIPELINE_SYNC */
};

struct pg_expected {
    enum pg_expect kind;
    const char *op;          /* names a failure */
    db_commit_done_fn *done; /* a commit's sync point: its outcome */
    struct db_pg_stmt *stmt; /* EXPECT_WAITED: where its rows go (NULL: only counted) */
    void *arg;
};

struct db_pg {
    struct db base;
    PGconn *conn;
    bool piped; /* in pipeline mode: the FIFO below is in use */
    struct pg_expected fifo[DB_PG_FIFO_MAX];
    unsigned head, n;   /* the ring */
    bool head_answered; /* the head's result was read, its NULL not yet */
    int unsynced;       /* statements sent since the last sync point */
    int commits;        /* commits sent, outcome not dispatched */
    bool txn;           /* while piped: a transaction is open after what was sent */
    bool want_write;    /* libpq's buffer holds what the socket did not take */
    int err_rc;         /* the first failure of queued statements, not yet returned */
    bool writes_queued; /* db_queue'd since the last wait for every answer */
    struct slad_error err;
    int commit_rc; /* the last COMMIT's outcome, until its sync point */
    struct slad_error commit_err;
    unsigned generation; /* grows at each reconnection: statements are prepared again */
    unsigned n_names;
    bool lost_transaction;
    bool background;        /* reconnect in db_reconnect_step, never in a call */
    struct pg_connect link; /* that reconnection */
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
        snprintf(detail, sizeof(detail), "connection lost (reconnecting %s): %s",
                 d->background ? "in the background" : "at the next use", PQerrorMessage(d->conn));
    } else if (res && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        /* Severity FATAL (or PANIC) ends the session whatever the SQLSTATE (25P03, an idle
         * transaction's timeout, is no connection class), and a failure without SQLSTATE
         * is libpq's own (the server closed the connection, lost synchronization): a lost
         * connection, before libpq itself says CONNECTION_BAD. */
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
        bool ends = !state || (severity &&
                               (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0));
        code = ends ? ENOTCONN : code_of(state);
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(detail, sizeof(detail), "%s%s", code == ENOTCONN ? "connection lost: " : "",
                 primary ? primary : PQresultErrorMessage(res));
    } else {
        code = res ? EIO : ENOMEM;
        snprintf(detail, sizeof(detail), "%s", PQerrorMessage(d->conn));
    }
    one_line(detail);
    if (code == ENOTCONN && d->background)
        pg_connect_drop(&d->link); /* nothing more is read on it */
    return slad_error_set(reterr, code, "database: %s failed: %s", op, detail);
}

/* libpq prints the server's notices to stderr by default; lib/ never prints. */
static void ignore_notice(void *arg, const char *message)
{
}

/* A connection made again: its statements are prepared again at their next use. */
static void connected_again(struct db_pg *d)
{
    d->generation++;
    PQsetnonblocking(d->conn, 1); /* a reset connection is blocking again */
}

/* A connection to run on: reconnect one that was lost, or, in the background, refuse
 * at once while db_reconnect_step makes it again. */
static int ready(struct db_pg *d, const char *op, struct slad_error *reterr)
{
    if (pg_connect_up(&d->link, d->conn))
        return 0;
    if (d->background)
        return slad_error_set(reterr, ENOTCONN,
                              "database: %s failed: connection lost, reconnecting in the "
                              "background%s%s; try again in a moment",
                              op, d->link.why[0] ? " (the last attempt: " : "",
                              d->link.why[0] ? d->link.why : "");
    PQreset(d->conn);
    d->link.dropped = false;
    if (PQstatus(d->conn) != CONNECTION_OK)
        return fail(d, NULL, op, reterr);
    connected_again(d);
    return 0;
}

/* Answers out of step with the FIFO: start afresh rather than read someone else's answer
 * later. */
static void start_afresh(struct db_pg *d)
{
    if (d->background) {
        pg_connect_drop(&d->link);
        return;
    }
    PQreset(d->conn);
    connected_again(d);
}

/* After a failure: a lost connection takes its transaction with it. */
static void note_loss(struct db_pg *d, bool was_in_transaction)
{
    if ((PQstatus(d->conn) == CONNECTION_BAD || d->link.dropped) && was_in_transaction)
        d->lost_transaction = true;
}

static bool pg_in_transaction(struct db *db)
{
    struct db_pg *d = pg_of(db);
    if (d->lost_transaction)
        return true;
    if (d->piped)
        return d->txn; /* libpq says "active" while answers are awaited */
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

static int64_t changes_of(const PGresult *res);
static void note_insert_id(struct db_pg *d, const PGresult *res);

static struct pg_expected *expect(struct db_pg *d, enum pg_expect kind, const char *op)
{
    struct pg_expected *e = &d->fifo[(d->head + d->n++) % DB_PG_FIFO_MAX];
    *e = (struct pg_expected){.kind = kind, .op = op};
    if (kind != EXPECT_SYNC)
        d->unsynced++;
    return e;
}

static bool fifo_has_room(const struct db_pg *d, unsigned more)
{
    return d->n + more <= DB_PG_FIFO_MAX && d->unsynced < DB_PG_QUEUE_MAX;
}

static int enter_pipeline(struct db_pg *d, const char *op, struct slad_error *reterr)
{
    if (d->piped)
        return 0;
    PGTransactionStatusType t = PQtransactionStatus(d->conn);
    if (!PQenterPipelineMode(d->conn))
        return fail(d, NULL, op, reterr);
    d->piped = true;
    d->txn = t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
    return 0;
}

/* The pipeline is over: every answer was read (or the connection is gone). */
static void leave_pipeline(struct db_pg *d)
{
    if (d->piped && PQstatus(d->conn) == CONNECTION_OK && !PQexitPipelineMode(d->conn))
        start_afresh(d); /* answers libpq still holds that the FIFO does not know of */
    d->piped = false;
    d->head = d->n = 0;
    d->head_answered = false;
    d->unsynced = 0;
    d->want_write = false;
}

/* The connection was lost with answers awaited: the failure is kept for the next call
 * that waits, every commit in flight fails (it may or may not have been done on the
 * server: nothing of it is acknowledged), and a transaction open behind them is lost. */
static void lose_pipeline(struct db_pg *d, const char *op)
{
    struct slad_error err;
    int rc;
    if (d->err_rc == -ENOTCONN) { /* the server's last word (take) */
        rc = d->err_rc;
        err = d->err;
    } else if (PQstatus(d->conn) == CONNECTION_BAD) {
        rc = fail(d, NULL, op, &err);
    } else {
        char detail[256];
        snprintf(detail, sizeof(detail), "%s", PQerrorMessage(d->conn));
        one_line(detail);
        rc = slad_error_set(&err, ENOTCONN,
                            "database: %s failed: connection lost (its answers out of step; "
                            "reconnecting)%s%s",
                            op, detail[0] ? ": " : "", detail);
    }
    if (d->err_rc == 0) {
        d->err_rc = rc;
        d->err = err;
    }
    if (d->txn)
        d->lost_transaction = true;
    struct pg_expected left[DB_PG_FIFO_MAX];
    unsigned n = 0;
    for (unsigned i = 0; i < d->n; i++) {
        struct pg_expected *e = &d->fifo[(d->head + i) % DB_PG_FIFO_MAX];
        if (e->done)
            left[n++] = *e;
    }
    d->commits = 0;
    leave_pipeline(d);
    if (d->background)
        pg_connect_drop(&d->link); /* whatever libpq says: nothing more is read on it */
    for (unsigned i = 0; i < n; i++)
        left[i].done(left[i].arg, rc, &err);
}

static int send_sync(struct db_pg *d)
{
    if (!PQpipelineSync(d->conn))
        return -1;
    expect(d, EXPECT_SYNC, "sync");
    d->unsynced = 0;
    return 0;
}

/* A COMMIT's answer: done on the server, or why not. The first failure of the
 * transaction's statements (read before it) is the cause of a COMMIT that rolled back. */
static void take_commit(struct db_pg *d, PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    if (d->err_rc < 0) {
        d->commit_rc = d->err_rc;
        d->commit_err = d->err;
    } else if (status == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0) {
        d->commit_rc = 0;
        d->commit_err.msg[0] = '\0';
    } else if (status == PGRES_FATAL_ERROR) {
        d->commit_rc = fail(d, res, "commit", &d->commit_err);
    } else {
        d->commit_rc =
            slad_error_set(&d->commit_err, EIO, "database: commit failed: the server answered %s",
                           status == PGRES_COMMAND_OK ? PQcmdStatus(res) : PQresStatus(status));
    }
    d->err_rc = 0;
}

/* The next answer (res, NULL included), matched to the head of the FIFO; false when it
 * does not match (the connection is gone). A commit's done is called at its sync point. */
static bool take(struct db_pg *d, PGresult *res)
{
    struct pg_expected *e = &d->fifo[d->head];
    if (e->kind == EXPECT_SYNC) {
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_FATAL_ERROR && d->err_rc != -ENOTCONN) {
            /* Where a sync point was awaited, the server's FATAL (terminated, shutting
             * down) is its last word: the connection is lost, whatever its SQLSTATE. */
            const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            char detail[256];
            snprintf(detail, sizeof(detail), "%s", primary ? primary : PQresultErrorMessage(res));
            one_line(detail);
            d->err_rc = slad_error_set(&d->err, ENOTCONN,
                                       "database: %s failed: connection lost: %s", e->op, detail);
        }
        PQclear(res);
        if (!res || status != PGRES_PIPELINE_SYNC)
            return false;
        struct pg_expected sync = *e;
        d->head = (d->head + 1) % DB_PG_FIFO_MAX;
        d->n--;
        if (sync.done) {
            d->commits--;
            sync.done(sync.arg, d->commit_rc, &d->commit_err);
        }
        return true;
    }
    if (d->head_answered) {
        if (res) { /* a statement with several results: wait for its NULL */
            PQclear(res);
            return true;
        }
        d->head_answered = false;
        d->head = (d->head + 1) % DB_PG_FIFO_MAX;
        d->n--;
        return true;
    }
    if (!res)
        return false;
    ExecStatusType status = PQresultStatus(res);
    if (e->kind == EXPECT_COMMIT) {
        take_commit(d, res);
    } else if (status == PGRES_FATAL_ERROR) {
        if (d->err_rc == 0)
            d->err_rc = fail(d, res, e->op, &d->err);
    } else if (e->kind == EXPECT_WAITED &&
               (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
        d->changes = changes_of(res);
        note_insert_id(d, res);
        if (e->stmt) {
            e->stmt->res = res; /* the caller's rows */
            res = NULL;
        }
    }
    /* PGRES_PIPELINE_ABORTED: skipped after the failure already kept. */
    PQclear(res);
    d->head_answered = true;
    return true;
}

/* The failure kept for the next call that waits, given to it once. */
static int take_error(struct db_pg *d, struct slad_error *reterr)
{
    int r = d->err_rc;
    if (r < 0 && reterr)
        *reterr = d->err;
    d->err_rc = 0;
    return r;
}

/* Wait for every answer in the pipeline (a sync point sent after the last statements),
 * dispatching commits' outcomes, and leave pipeline mode: 0, or the first failure of the
 * queued statements (the transaction is then aborted: roll it, or its savepoint, back). */
static int pg_sync(struct db *db, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    if (d->piped) {
        if (d->unsynced > 0 && send_sync(d) < 0) {
            lose_pipeline(d, "waiting for queued writes");
        } else {
            while (d->n > 0) {
                const char *op = d->fifo[d->head].op;
                if (!take(d, PQgetResult(d->conn)) || PQstatus(d->conn) == CONNECTION_BAD) {
                    lose_pipeline(d, op);
                    break;
                }
            }
        }
        leave_pipeline(d);
    }
    d->writes_queued = false;
    return take_error(d, reterr);
}

/* A statement whose answer the caller needs (s's, or sql without parameters), sent in the
 * pipeline behind what is queued there, with a sync point, and every answer read: one round
 * trip for all. 0 with s->res set, or the first failure among them (the statements queued
 * before it, then its own). */
static int run_piped(struct db_pg *d, struct db_pg_stmt *s, const char *sql, const char *op,
                     struct slad_error *reterr)
{
    int sent = s ? PQsendQueryPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0)
                 : PQsendQueryParams(d->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (sent)
        expect(d, EXPECT_WAITED, op)->stmt = s;
    else
        lose_pipeline(d, op);
    int r = pg_sync(&d->base, reterr);
    if (r < 0 && s) {
        PQclear(s->res);
        s->res = NULL;
    }
    return r;
}

static void pg_async_pump(struct db *db)
{
    struct db_pg *d = pg_of(db);
    if (!d->piped)
        return;
    int flushed = PQflush(d->conn);
    if (flushed < 0 || !PQconsumeInput(d->conn)) {
        lose_pipeline(d, "reading the database's answers");
        return;
    }
    d->want_write = flushed == 1;
    while (d->n > 0 && !PQisBusy(d->conn)) {
        const char *op = d->fifo[d->head].op;
        if (!take(d, PQgetResult(d->conn)) || PQstatus(d->conn) == CONNECTION_BAD) {
            lose_pipeline(d, op);
            return;
        }
    }
    if (d->n == 0)
        leave_pipeline(d);
}

static int pg_async_socket(struct db *db)
{
    struct db_pg *d = pg_of(db);
    return d->piped ? PQsocket(d->conn) : -1;
}

static int pg_async_wants(struct db *db)
{
    struct db_pg *d = pg_of(db);
    if (!d->piped)
        return 0;
    /* Answers are read only up to the last sync point: the server sends nothing after. */
    return ((unsigned)d->unsynced < d->n ? DB_WANT_READ : 0) | (d->want_write ? DB_WANT_WRITE : 0);
}

static int pg_async_in_flight(struct db *db)
{
    return pg_of(db)->commits;
}

static int pg_commit_async(struct db *db, db_commit_done_fn *done, void *arg,
                           struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    if (d->lost_transaction)
        return refuse_lost(d, "commit", reterr);
    if (!pg_in_transaction(db))
        return slad_error_set(reterr, EIO, "database: commit failed: no transaction is open");
    int r = fifo_has_room(d, 4) ? 0 : pg_sync(db, reterr);
    if (r == 0)
        r = enter_pipeline(d, "commit", reterr);
    if (r < 0)
        return r;
    /* The writes before it end their group: a failure among them aborts the transaction,
     * and the COMMIT, in a group of its own, still runs (and answers ROLLBACK). */
    if (d->unsynced > 0 && send_sync(d) < 0)
        return fail(d, NULL, "commit", reterr);
    if (!PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
        return fail(d, NULL, "commit", reterr);
    expect(d, EXPECT_COMMIT, "commit");
    if (send_sync(d) < 0)
        return fail(d, NULL, "commit", reterr);
    struct pg_expected *sync = &d->fifo[(d->head + d->n - 1) % DB_PG_FIFO_MAX];
    sync->done = done;
    sync->arg = arg;
    d->commits++;
    d->txn = false;
    d->want_write = PQflush(d->conn) == 1;
    return 0;
}

static void pg_reconnect_in_background(struct db *db)
{
    pg_of(db)->background = true;
}

static int pg_reconnect_step(struct db *db, double now_s, struct db_link *link)
{
    struct db_pg *d = pg_of(db);
    struct pg_connect_wait w = {.fd = -1};
    /* A loss in the pipeline is the pipeline's to find (its calls leave it first). */
    int r = d->piped ? 0 : pg_connect_step(&d->link, d->conn, now_s, &w);
    if (r == 1)
        connected_again(d);
    *link = (struct db_link){
        .fd = w.fd,
        .wants = w.fd < 0      ? 0
                 : w.want_read ? DB_WANT_READ
                               : DB_WANT_WRITE,
        .at_s = w.at_s,
        .failed = d->link.failed,
        .why = d->link.why,
    };
    return r;
}

static bool pg_connected(struct db *db)
{
    struct db_pg *d = pg_of(db);
    return pg_connect_up(&d->link, d->conn);
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
    /* Sending never blocks the loop (an asynchronous commit); PQexec, PQprepare and
     * PQgetResult still wait, as the synchronous calls want. */
    PQsetnonblocking(d->conn, 1);
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

/* What begins a transaction or an operation is queued, not waited for: it fails only with
 * the connection, or in a transaction already aborted, and then so does the next statement
 * its caller waits for (a read, RELEASE, COMMIT), which returns that failure. */
static bool queueable(const char *sql)
{
    return strcmp(sql, "BEGIN") == 0 || strncmp(sql, "SAVEPOINT ", 10) == 0;
}

/* A statement run in the pipeline when one is open: one statement (the extended protocol
 * takes no more) and not a rollback, which must run even after a failure in the group. */
static bool pipelinable(const char *sql)
{
    return !strchr(sql, ';') && strncmp(sql, "ROLLBACK", 8) != 0;
}

static int pg_exec(struct db *db, const char *sql, const char *op, struct slad_error *reterr)
{
    struct db_pg *d = pg_of(db);
    /* A savepoint nested in an operation that queued writes: their answers first, so that a
     * failure among them is that operation's (the nested one's ROLLBACK TO would drop it). */
    if (db->savepoints > 0 && strncmp(sql, "SAVEPOINT ", 10) == 0 &&
        (d->writes_queued || d->err_rc < 0)) {
        int r = pg_sync(db, reterr);
        if (r < 0)
            return r;
    }
    if (!d->lost_transaction && queueable(sql) && fifo_has_room(d, 2)) {
        int r = d->piped ? 0 : ready(d, op, reterr);
        if (r == 0)
            r = enter_pipeline(d, op, reterr);
        if (r < 0)
            return r;
        if (!PQsendQueryParams(d->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
            r = fail(d, NULL, op, reterr);
            lose_pipeline(d, op);
            take_error(d, NULL);
            return r;
        }
        expect(d, EXPECT_RESULT, op);
        if (strcmp(sql, "BEGIN") == 0)
            d->txn = true;
        return 0;
    }
    if (d->piped && !d->lost_transaction && pipelinable(sql) && fifo_has_room(d, 3))
        return run_piped(d, NULL, sql, op, reterr);
    /* A queued write's failure belongs to what a ROLLBACK (TO) undoes: it goes on. */
    int synced = pg_sync(db, reterr);
    if (synced < 0 && strncmp(sql, "ROLLBACK", 8) != 0)
        return synced;
    if (is_rollback(sql) && d->background && !pg_connect_up(&d->link, d->conn)) {
        d->lost_transaction = false; /* nothing is open on a connection being made again */
        return 0;
    }
    if (d->lost_transaction) {
        if (!is_rollback(sql))
            return refuse_lost(d, op, reterr);
        d->lost_transaction = false; /* the server rolled it back when the connection died */
        return d->background ? 0 : ready(d, op, reterr);
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
    if (d->background && !d->piped && !pg_connect_up(&d->link, d->conn)) {
        /* Being reconnected: prepared on the server at its first run once connected, so
         * that its caller hears -ENOTCONN from that run rather than a failed preparation. */
        s->prepared_in = d->generation - 1;
        return &s->base;
    }
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
    int r = d->piped ? 0 : ready(d, op, reterr);
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
    int r = fifo_has_room(d, 2) ? 0 : pg_sync(st->db, reterr);
    if (r == 0)
        r = runnable(d, s, op, reterr);
    if (r == 0)
        r = enter_pipeline(d, op, reterr);
    if (r < 0)
        return r;
    /* libpq copies the parameters into its buffer: the statement may be reset at once. */
    if (!PQsendQueryPrepared(d->conn, s->name, s->nparams, s->values, NULL, NULL, 0)) {
        r = fail(d, NULL, op, reterr);
        if (d->n == 0)
            leave_pipeline(d);
        return r;
    }
    expect(d, EXPECT_RESULT, op);
    d->writes_queued = true;
    return 0;
}

static int run(struct db_pg *d, struct db_pg_stmt *s, const char *op, struct slad_error *reterr)
{
    int r = d->piped && fifo_has_room(d, 3) ? 0 : pg_sync(&d->base, reterr);
    if (r == 0)
        r = runnable(d, s, op, reterr);
    if (r < 0)
        return r;
    if (d->piped) /* (runnable left it to prepare the statement on a new connection) */
        return run_piped(d, s, NULL, op, reterr);
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
    .commit_async = pg_commit_async,
    .async_socket = pg_async_socket,
    .async_wants = pg_async_wants,
    .async_pump = pg_async_pump,
    .async_in_flight = pg_async_in_flight,
    .reconnect_in_background = pg_reconnect_in_background,
    .reconnect_step = pg_reconnect_step,
    .connected = pg_connected,
};
