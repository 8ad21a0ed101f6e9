/* bench_populate.c - fill a slad database with open tickets through the real service layer
 * (service_ticket_create inside store_begin/store_commit, many tickets per transaction),
 * far faster than HTTP, for the timer benchmarks (tests/bench/bench_timers.py).
 *
 *   bench_populate CONF DB COUNT FIRST_DUE_MS SPREAD_MS RESPONSE_TARGET_MS
 *
 * appends COUNT tickets of team "north", severity 2, whose first escalation step (the
 * response clock's 100% step) falls due at FIRST_DUE_MS + i * SPREAD_MS / COUNT: each is
 * reported RESPONSE_TARGET_MS before its due instant, on the 24x7 calendar of CONF. SPREAD_MS
 * 0 puts every step at the same instant (a burst). The tool checks that every ticket's
 * response clock is due where it was meant to be, and prints tickets per second. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agenda.h"
#include "conf_load.h"
#include "service.h"
#include "store.h"
#include "ticket.h"

/* Tickets per transaction: large enough that commits cost nothing next to the work. */
#define POPULATE_BATCH 20000

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_i64(const char *text, int64_t *ret)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return -1;
    *ret = v;
    return 0;
}

/* Create one ticket due at due_ms; 0 or -1 with the reason printed. */
static int create_one(struct service *svc, int64_t due_ms, int64_t target_ms, int64_t now_ms)
{
    static char title[] = "bench ticket", team[] = "north";
    struct ticket in, out;
    ticket_init(&in);
    in.title = title;
    in.severity = 2;
    in.team = team;
    in.reported_at_ms = due_ms - target_ms;
    bool created = false;
    struct slad_error err;
    if (service_ticket_create(svc, &in, now_ms, &out, &created, &err) < 0) {
        fprintf(stderr, "bench_populate: create: %s\n", err.msg);
        return -1;
    }
    int r = 0;
    const struct slaclock *c = out.n_clocks > 0 ? &out.clocks[0] : NULL;
    if (!created || !c || c->due_at_ms != due_ms) {
        fprintf(stderr,
                "bench_populate: ticket %" PRId64 " is due at %" PRId64 ", not %" PRId64
                " (is RESPONSE_TARGET_MS the config's response target?)\n",
                out.id, c ? c->due_at_ms : -1, due_ms);
        r = -1;
    }
    ticket_done(&out);
    return r;
}

static int populate(struct service *svc, struct store *store, int64_t count, int64_t first_ms,
                    int64_t spread_ms, int64_t target_ms)
{
    struct slad_error err;
    for (int64_t i = 0; i < count;) {
        if (store_begin(store, &err) < 0) {
            fprintf(stderr, "bench_populate: begin: %s\n", err.msg);
            return -1;
        }
        int64_t now_ms = wall_ms();
        for (int64_t k = 0; k < POPULATE_BATCH && i < count; k++, i++) {
            int64_t due_ms = first_ms + (spread_ms * i) / count;
            if (create_one(svc, due_ms, target_ms, now_ms) < 0)
                return -1;
        }
        if (store_commit(store, &err) < 0) {
            fprintf(stderr, "bench_populate: commit: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int64_t count, first_ms, spread_ms, target_ms;
    if (argc != 7 || parse_i64(argv[3], &count) < 0 || parse_i64(argv[4], &first_ms) < 0 ||
        parse_i64(argv[5], &spread_ms) < 0 || parse_i64(argv[6], &target_ms) < 0 || count < 0 ||
        spread_ms < 0) {
        fprintf(stderr, "usage: bench_populate CONF DB COUNT FIRST_DUE_MS SPREAD_MS "
                        "RESPONSE_TARGET_MS\n");
        return 2;
    }
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load(argv[1], &conf, &errs) < 0) {
        fprintf(stderr, "bench_populate: %s", errs.text ? errs.text : "cannot load the config\n");
        conf_errors_done(&errs);
        return 1;
    }
    struct store *store = NULL;
    struct slad_error err;
    if (store_open(argv[2], false, &store, &err) < 0) {
        fprintf(stderr, "bench_populate: %s\n", err.msg);
        conf_free(conf);
        return 1;
    }
    struct agenda *agenda = agenda_new();
    struct service *svc = NULL;
    int rc = 1;
    if (!agenda || service_new(conf, store, agenda, NULL, &svc, &err) < 0) {
        fprintf(stderr, "bench_populate: cannot start the service\n");
        goto out;
    }
    double t0 = mono_s();
    if (populate(svc, store, count, first_ms, spread_ms, target_ms) < 0)
        goto out;
    double s = mono_s() - t0;
    printf("bench_populate: %" PRId64 " tickets in %.2f s = %.0f/s\n", count, s,
           s > 0 ? (double)count / s : 0.0);
    rc = 0;
out:
    service_free(svc);
    agenda_free(agenda);
    store_close(store);
    conf_free(conf);
    return rc;
}
