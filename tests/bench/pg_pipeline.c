/* pg_pipeline.c - statements per second on PostgreSQL over its Unix socket: one round trip
 * per statement (what db_pg.c does today) beside libpq's pipeline mode (what the backend
 * on the loop is to do: a loop iteration's writes sent at once, one round trip and one
 * commit; doc/POSTGRESQL.md). Run under scripts/with-postgres.sh (meson test
 * bench-pg-pipeline, suite bench), which gives SLAD_TEST_PG.
 *
 *   round trip      SELECT 1, one at a time: the socket's round trip
 *   autocommit      INSERT, one at a time, each its own transaction (a commit, an fsync)
 *   sync batch      BEGIN, BATCH INSERTs, COMMIT, each waiting for its answer
 *   pipelined batch the same statements sent in one pipeline, answers read after
 *
 *   db.h step       the same batches through lib/store's driver, db_step each
 *   db.h queue      the same through db_queue (one pipeline per batch, synced at COMMIT)
 *
 * BENCH_BATCH (default 100) statements per batch, BENCH_STATEMENTS (default 5000) in all. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(PGconn *conn, const char *what)
{
    fprintf(stderr, "pg_pipeline: %s: %s", what, PQerrorMessage(conn));
    exit(1);
}

static void expect(PGconn *conn, PGresult *res, ExecStatusType want, const char *what)
{
    if (!res || PQresultStatus(res) != want) {
        fprintf(stderr, "pg_pipeline: %s: %s\n", what,
                res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        exit(1);
    }
    PQclear(res);
}

static void exec_ok(PGconn *conn, const char *sql)
{
    expect(conn, PQexec(conn, sql), PGRES_COMMAND_OK, sql);
}

static int counter;

static void insert_sync(PGconn *conn)
{
    char n[24];
    snprintf(n, sizeof(n), "%d", counter++);
    const char *values[] = {"bench", n};
    expect(conn, PQexecPrepared(conn, "ins", 2, values, NULL, NULL, 0), PGRES_COMMAND_OK, "insert");
}

static void insert_send(PGconn *conn)
{
    char n[24];
    snprintf(n, sizeof(n), "%d", counter++);
    const char *values[] = {"bench", n};
    if (!PQsendQueryPrepared(conn, "ins", 2, values, NULL, NULL, 0))
        die(conn, "sending an insert");
}

static void report(const char *mode, int statements, int commits, double seconds)
{
    printf("%-16s %6d statements %5d commits %8.3f s %9.0f statements/s %8.1f us each\n", mode,
           statements, commits, seconds, statements / seconds, seconds * 1e6 / statements);
}

/* One pipeline: BEGIN, batch inserts, COMMIT, a sync point; then every answer. */
static void pipelined_batch(PGconn *conn, int batch)
{
    if (!PQenterPipelineMode(conn))
        die(conn, "entering pipeline mode");
    if (!PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
        die(conn, "sending BEGIN");
    for (int i = 0; i < batch; i++)
        insert_send(conn);
    if (!PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
        die(conn, "sending COMMIT");
    if (!PQpipelineSync(conn))
        die(conn, "sync");
    /* Each statement's result, then NULL; the sync's PGRES_PIPELINE_SYNC last. */
    for (int i = 0; i < batch + 2; i++) {
        expect(conn, PQgetResult(conn), PGRES_COMMAND_OK, "a pipelined statement");
        if (PQgetResult(conn) != NULL)
            die(conn, "more than one result for a statement");
    }
    expect(conn, PQgetResult(conn), PGRES_PIPELINE_SYNC, "the sync point");
    if (!PQexitPipelineMode(conn))
        die(conn, "leaving pipeline mode");
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* The batches through db.h: each write stepped (queue false) or queued. */
static double driver_batches(const char *target, int batches, int batch, bool queue)
{
    static const char sql_ins[] = "INSERT INTO bench (k, n) VALUES (?1, ?2)";
    struct db *db = NULL;
    struct slad_error err;
    if (db_open(target, &db, &err) < 0) {
        fprintf(stderr, "pg_pipeline: %s\n", err.msg);
        exit(1);
    }
    struct db_stmt *st = db_prepare(db, sql_ins, &err);
    double t0 = now_s();
    for (int b = 0; st && b < batches; b++) {
        int r = db_begin(db, &err);
        for (int i = 0; r >= 0 && i < batch; i++) {
            db_bind_text(st, 1, "bench");
            db_bind_int64(st, 2, counter++);
            r = queue ? db_queue(st, "insert", &err) : db_step(st, "insert", &err);
            db_reset(st);
        }
        if (r >= 0)
            r = db_commit(db, &err);
        if (r < 0)
            st = NULL;
    }
    double seconds = now_s() - t0;
    if (!st) {
        fprintf(stderr, "pg_pipeline: %s\n", err.msg);
        exit(1);
    }
    db_close(db);
    return seconds;
}

int main(void)
{
    const char *target = getenv("SLAD_TEST_PG");
    if (!target) {
        fprintf(stderr, "pg_pipeline: SLAD_TEST_PG is not set: run under "
                        "scripts/with-postgres.sh\n");
        return 1;
    }
    int batch = env_int("BENCH_BATCH", 100);
    int total = env_int("BENCH_STATEMENTS", 5000);
    int batches = total / batch;
    PGconn *conn = PQconnectdb(target);
    if (PQstatus(conn) != CONNECTION_OK)
        die(conn, "connecting");
    exec_ok(conn, "SET client_min_messages = warning");
    exec_ok(conn, "DROP TABLE IF EXISTS bench");
    exec_ok(conn, "CREATE TABLE bench (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                  " k TEXT NOT NULL, n BIGINT NOT NULL)");
    expect(conn, PQprepare(conn, "ins", "INSERT INTO bench (k, n) VALUES ($1, $2)", 2, NULL),
           PGRES_COMMAND_OK, "prepare");
    expect(conn, PQprepare(conn, "one", "SELECT 1", 0, NULL), PGRES_COMMAND_OK, "prepare");
    printf("PostgreSQL %d over %s; batch %d, %d statements\n", PQserverVersion(conn), PQhost(conn),
           batch, batches * batch);

    double t0 = now_s();
    for (int i = 0; i < total; i++)
        expect(conn, PQexecPrepared(conn, "one", 0, NULL, NULL, NULL, 0), PGRES_TUPLES_OK, "one");
    report("round trip", total, 0, now_s() - t0);

    int autocommits = total / 10 > 0 ? total / 10 : 1;
    t0 = now_s();
    for (int i = 0; i < autocommits; i++)
        insert_sync(conn);
    report("autocommit", autocommits, autocommits, now_s() - t0);

    t0 = now_s();
    for (int b = 0; b < batches; b++) {
        exec_ok(conn, "BEGIN");
        for (int i = 0; i < batch; i++)
            insert_sync(conn);
        exec_ok(conn, "COMMIT");
    }
    double sync_s = now_s() - t0;
    report("sync batch", batches * batch, batches, sync_s);

    t0 = now_s();
    for (int b = 0; b < batches; b++)
        pipelined_batch(conn, batch);
    double pipe_s = now_s() - t0;
    report("pipelined batch", batches * batch, batches, pipe_s);
    printf("pipelined / sync: %.1f times the statements per second\n", sync_s / pipe_s);

    double step_s = driver_batches(target, batches, batch, false);
    report("db.h step", batches * batch, batches, step_s);
    double queue_s = driver_batches(target, batches, batch, true);
    report("db.h queue", batches * batch, batches, queue_s);
    printf("db.h queue / step: %.1f times the statements per second\n", step_s / queue_s);

    PGresult *res = PQexec(conn, "SELECT count(*) FROM bench");
    if (PQresultStatus(res) != PGRES_TUPLES_OK ||
        atoi(PQgetvalue(res, 0, 0)) != autocommits + 4 * batches * batch) {
        fprintf(stderr, "pg_pipeline: rows missing\n");
        return 1;
    }
    PQclear(res);
    PQfinish(conn);
    return 0;
}
