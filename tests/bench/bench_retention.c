/* bench_retention.c - how long one retention batch holds the loop (daemon/retention.c),
 * on a database of old closed tickets made through the real service layer.
 *
 *   bench_retention DIR [COUNT [ROWS...]]
 *
 * fills DIR/retention.db with COUNT (default 100000) tickets reported a year ago, each
 * escalated once (its notification marked sent), commented twice, resolved and closed:
 * about 16 rows a ticket. Then, for each ROWS (default 256 1024 4096), on a fresh copy of
 * that database (synchronous = full, as the daemon's default), it purges everything in
 * batches of ROWS rows as the daemon does, each batch and its commit timed apart, and
 * prints the batches, the time per batch (median, 99th percentile, maximum) of the purge
 * (wall and this thread's CPU time: on a busy machine the wall time includes waiting for
 * the CPU) and of the commit, and the tickets purged per second of batch time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agenda.h"
#include "conf_load.h"
#include "service.h"
#include "store.h"
#include "store_internal.h"
#include "store_retention.h"

#define DAY_MS       INT64_C(86400000)
#define FILL_BATCH   10000 /* tickets per transaction while filling */
#define MAX_BATCHES  1000000
#define DEFAULT_ROWS "256 1024 4096"

static const char conf_text[] =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"tech\"]; }; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "policies = ( { name = \"plain\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\", "
    "\"resolve\"]; },\n"
    "               { name = \"resolution\"; target = \"8h\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"supervisor\"]; } ); } ); } );\n";

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of this thread: the batch's own work, without the time another process held
 * the CPU (the wall time says what the loop would wait on a busy machine). */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int die(const char *what, const struct slad_error *err)
{
    fprintf(stderr, "bench_retention: %s: %s\n", what, err ? err->msg : strerror(errno));
    return -1;
}

static int event(struct service *svc, int64_t id, enum ticket_event_type type, int64_t at_ms)
{
    struct ticket_event ev = {.type = type, .at_ms = at_ms, .by = "bench", .note = "done"};
    struct ticket out;
    struct slad_error err;
    if (service_ticket_event(svc, id, &ev, at_ms, &out, &err) < 0)
        return die(ticket_event_name(type), &err);
    ticket_done(&out);
    return 0;
}

/* One old ticket: reported, escalated at 4 h, two comments, resolved at 6 h, closed. */
static int fill_one(struct service *svc, int64_t reported_ms)
{
    static char title[] = "bench ticket", team[] = "north", assignee[] = "tech";
    struct ticket in, out;
    ticket_init(&in);
    in.title = title;
    in.team = team;
    in.assignee = assignee;
    in.severity = 3;
    in.reported_at_ms = reported_ms;
    bool created = false;
    struct slad_error err;
    if (service_ticket_create(svc, &in, reported_ms, &out, &created, &err) < 0)
        return die("create", &err);
    int64_t id = out.id;
    ticket_done(&out);
    int64_t h = 3600 * 1000;
    if (event(svc, id, TICKET_EVENT_COMMENT, reported_ms + 5 * h) < 0 ||
        event(svc, id, TICKET_EVENT_COMMENT, reported_ms + 5 * h + 1) < 0 ||
        event(svc, id, TICKET_EVENT_RESOLVE, reported_ms + 6 * h) < 0 ||
        event(svc, id, TICKET_EVENT_CLOSE, reported_ms + 7 * h) < 0)
        return -1;
    return 0;
}

static int fill(const struct conf *conf, const char *path, int64_t count, int64_t first_ms)
{
    struct store *store = NULL;
    struct slad_error err;
    if (store_open(path, false, &store, &err) < 0)
        return die("open", &err);
    struct agenda *agenda = agenda_new();
    struct service *svc = NULL;
    int r = agenda && service_new(conf, store, agenda, NULL, &svc, &err) == 0 ? 0 : -1;
    for (int64_t i = 0; r == 0 && i < count;) {
        r = store_begin(store, &err) < 0 ? die("begin", &err) : 0;
        for (int64_t k = 0; r == 0 && k < FILL_BATCH && i < count; k++, i++)
            r = fill_one(svc, first_ms + i * 1000);
        if (r == 0 && store_commit(store, &err) < 0)
            r = die("commit", &err);
    }
    /* Delivered long ago: nothing keeps the tickets (behind the store: a bench may). */
    if (r == 0 && sqlite3_exec(store_db(store), "UPDATE outbox SET state = 'sent'", NULL, NULL,
                               NULL) != SQLITE_OK)
        r = die("marking the notifications sent", NULL);
    service_free(svc);
    agenda_free(agenda);
    store_close(store);
    return r;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[1 << 16];
    size_t n;
    int r = in && out ? 0 : -1;
    while (r == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        r = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        r = -1;
    return r < 0 ? die("copy", NULL) : 0;
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorted in place: the q-quantile (nearest rank). */
static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t k = (size_t)(q * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

static int purge_all(const char *path, size_t rows, int64_t cutoff_ms)
{
    struct store *store = NULL;
    struct slad_error err;
    if (store_open(path, true, &store, &err) < 0)
        return die("open", &err);
    double *work = calloc(MAX_BATCHES, sizeof(*work)), *commit = calloc(MAX_BATCHES, sizeof(*work));
    double *cpu = calloc(MAX_BATCHES, sizeof(*cpu));
    struct store_purge_cursor cursor = STORE_PURGE_START;
    struct store_purge_counts total = {0};
    size_t n = 0;
    bool more = true;
    int r = work && commit && cpu ? 0 : -1;
    double busy = 0;
    while (r == 0 && more && n < MAX_BATCHES) {
        double t0 = mono_ms(), c0 = cpu_ms();
        if (store_begin(store, &err) < 0 ||
            store_purge_batch(store, cutoff_ms, rows, &cursor, &total, &more, &err) < 0) {
            r = die("purge", &err);
            break;
        }
        double t1 = mono_ms(), c1 = cpu_ms();
        if (store_commit(store, &err) < 0)
            r = die("commit", &err);
        double t2 = mono_ms();
        work[n] = t1 - t0;
        cpu[n] = c1 - c0;
        commit[n] = t2 - t1;
        busy += t2 - t0;
        n++;
    }
    if (r == 0) {
        double wmax = quantile(work, n, 1.0), cmax = quantile(commit, n, 1.0);
        printf("rows %5zu: %7zu batches, %" PRId64 " tickets, %" PRId64 " history, %" PRId64
               " notifications, %" PRId64 " clocks\n  purge wall ms median %.2f p99 %.2f max %.2f;"
               " purge cpu ms median %.2f p99 %.2f max %.2f;\n  commit wall ms median %.2f p99"
               " %.2f max %.2f; %.0f tickets/s of loop time\n",
               rows, n, total.tickets, total.history, total.outbox, total.clocks,
               quantile(work, n, 0.5), quantile(work, n, 0.99), wmax, quantile(cpu, n, 0.5),
               quantile(cpu, n, 0.99), quantile(cpu, n, 1.0), quantile(commit, n, 0.5),
               quantile(commit, n, 0.99), cmax, busy > 0 ? (double)total.tickets / busy * 1e3 : 0);
    }
    free(work);
    free(commit);
    free(cpu);
    store_close(store);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_retention DIR [COUNT [ROWS...]]\n");
        return 2;
    }
    int64_t count = argc > 2 ? strtoll(argv[2], NULL, 10) : 100000;
    char base[512], work[512];
    snprintf(base, sizeof(base), "%s/retention.db", argv[1]);
    snprintf(work, sizeof(work), "%s/retention-work.db", argv[1]);
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "bench.conf", &conf, &errs) < 0) {
        fprintf(stderr, "bench_retention: %s", errs.text ? errs.text : "config\n");
        return 1;
    }
    int64_t now_ms = wall_ms(), first_ms = now_ms - 365 * DAY_MS;
    remove_db(base);
    double t0 = mono_ms();
    if (fill(conf, base, count, first_ms) < 0)
        return 1;
    printf("filled %" PRId64 " old closed tickets in %.1f s\n", count, (mono_ms() - t0) / 1e3);
    char rows_default[] = DEFAULT_ROWS, *save = NULL;
    int n_rows = argc > 3 ? argc - 3 : 0;
    for (int i = 0;; i++) {
        const char *text = n_rows ? (i < n_rows ? argv[3 + i] : NULL)
                                  : strtok_r(i ? NULL : rows_default, " ", &save);
        if (!text)
            break;
        size_t rows = (size_t)strtoull(text, NULL, 10);
        remove_db(work);
        if (copy_file(base, work) < 0 || purge_all(work, rows, now_ms - 30 * DAY_MS) < 0)
            return 1;
    }
    remove_db(work);
    remove_db(base);
    conf_free(conf);
    return 0;
}
