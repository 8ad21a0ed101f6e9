/* bare_libev.c - the baseline of the timer benchmark: a bare libev program holding the
 * same number of timers as slad holds agenda entries, measuring its own lateness in the
 * same run (tests/bench/bench_timers.py).
 *
 *   bare_libev COUNT COUNT_DUE FIRST_DUE_MS SPREAD_MS
 *
 * arms COUNT absolute ev_periodic watchers (wall-clock instants, as slad's timer is):
 * COUNT_DUE of them at FIRST_DUE_MS + i * SPREAD_MS / COUNT_DUE, the others a day later.
 * Each callback records ev_now() minus its instant, the loop's view of lateness that slad
 * records too. Once the COUNT_DUE have fired it prints one line of key=value: lateness
 * p50/p99/max in ms, how many fired early, and resident memory per timer. */
#include <ev.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_timer {
    ev_periodic w;
    double at_s;
};

static double *lags_ms;
static long n_fired, n_due;

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static void fired_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
    (void)revents;
    const struct bench_timer *t = (const struct bench_timer *)w;
    if (n_fired < n_due)
        lags_ms[n_fired++] = (ev_now(loop) - t->at_s) * 1000.0;
    if (n_fired == n_due)
        ev_break(loop, EVBREAK_ALL);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    return sorted[i < 0 ? 0 : i];
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bare_libev COUNT COUNT_DUE FIRST_DUE_MS SPREAD_MS\n");
        return 2;
    }
    long count = atol(argv[1]);
    n_due = atol(argv[2]);
    double first_s = atof(argv[3]) / 1000.0, spread_s = atof(argv[4]) / 1000.0;
    if (count <= 0 || n_due <= 0 || n_due > count) {
        fprintf(stderr, "bare_libev: need 0 < COUNT_DUE <= COUNT\n");
        return 2;
    }
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    long rss0 = rss_kb();
    struct bench_timer *timers = calloc((size_t)count, sizeof(*timers));
    lags_ms = calloc((size_t)n_due, sizeof(*lags_ms));
    if (!loop || !timers || !lags_ms) {
        fprintf(stderr, "bare_libev: out of memory\n");
        return 1;
    }
    for (long i = 0; i < count; i++) {
        struct bench_timer *t = &timers[i];
        t->at_s = i < n_due ? first_s + spread_s * (double)i / (double)n_due
                            : first_s + 86400.0 + (double)i / 1000.0;
        ev_periodic_init(&t->w, fired_cb, t->at_s, 0., 0);
        ev_periodic_start(loop, &t->w);
    }
    long rss1 = rss_kb();
    printf("bare_libev: armed %ld timers\n", count);
    fflush(stdout);
    ev_run(loop, 0);
    qsort(lags_ms, (size_t)n_fired, sizeof(*lags_ms), compare_double);
    long early = 0;
    for (long i = 0; i < n_fired; i++)
        early += lags_ms[i] < 0;
    printf("bare_libev: fired=%ld p50_ms=%.3f p99_ms=%.3f max_ms=%.3f early=%ld "
           "rss_per_timer_b=%.1f\n",
           n_fired, quantile(lags_ms, n_fired, 0.5), quantile(lags_ms, n_fired, 0.99),
           lags_ms[n_fired - 1], early, (double)(rss1 - rss0) * 1024.0 / (double)count);
    free(timers);
    free(lags_ms);
    return 0;
}
