/* sqlite_loop: the intake baseline, a plain C loop committing one row per transaction.
 *
 * Usage: sqlite_loop DATABASE SECONDS [full|normal]. WAL journal, synchronous FULL by
 * default (what slad's durable mode promises: every acknowledged row is on disk). Each
 * transaction inserts one row shaped like a small ticket, with a unique external_id under a
 * UNIQUE index as slad's intake has. Prints the same key=value line as intake_client, plus
 * cpu_us, the process's CPU time. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static void check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_loop: %s: %s\n", what, sqlite3_errmsg(db));
        exit(2);
    }
}

static void exec(sqlite3 *db, const char *sql)
{
    check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sqlite_loop DATABASE SECONDS [full|normal]\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    const char *sync = argc > 3 ? argv[3] : "full";
    sqlite3 *db;
    check(NULL, sqlite3_open(argv[1], &db), "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, strcmp(sync, "normal") ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(db, "CREATE TABLE IF NOT EXISTS tickets(id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
             " external_id TEXT NOT NULL, title TEXT NOT NULL, severity INTEGER NOT NULL,"
             " created_at INTEGER NOT NULL, UNIQUE(source, external_id))");

    sqlite3_stmt *begin, *insert, *commit;
    check(db, sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL), "prepare");
    check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), "prepare");
    check(db,
          sqlite3_prepare_v2(db,
                             "INSERT INTO tickets(source, external_id, title, severity, "
                             "created_at) VALUES('bench', ?, 'bench intake', 3, ?)",
                             -1, &insert, NULL),
          "prepare");

    size_t cap = 1 << 16, n = 0;
    int64_t *latencies = malloc(cap * sizeof *latencies);
    if (!latencies)
        return 2;
    int64_t cpu_start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t start = now_ns(), stop = start + (int64_t)(seconds * 1e9), t = start;
    while (t < stop) {
        char external_id[32];
        snprintf(external_id, sizeof external_id, "sl-%zu", n);
        check(db, sqlite3_step(begin), "begin");
        sqlite3_reset(begin);
        sqlite3_bind_text(insert, 1, external_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 2, t / 1000000);
        check(db, sqlite3_step(insert), "insert");
        sqlite3_reset(insert);
        check(db, sqlite3_step(commit), "commit");
        sqlite3_reset(commit);
        int64_t done = now_ns();
        if (n == cap) {
            cap *= 2;
            latencies = realloc(latencies, cap * sizeof *latencies);
            if (!latencies)
                return 2;
        }
        latencies[n++] = done - t;
        t = done;
    }
    double elapsed = (double)(t - start) / 1e9;
    double cpu_us = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / 1e3;
    qsort(latencies, n, sizeof *latencies, compare_int64);
    printf("requests=%zu errors=0 seconds=%.3f rate=%.1f p50_us=%.0f p99_us=%.0f max_us=%.0f "
           "cpu_us=%.0f\n",
           n, elapsed, (double)n / elapsed, (double)latencies[n / 2] / 1e3,
           (double)latencies[(size_t)(0.99 * (double)(n - 1))] / 1e3,
           (double)latencies[n - 1] / 1e3, cpu_us);
    sqlite3_finalize(begin);
    sqlite3_finalize(insert);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    free(latencies);
    return 0;
}
