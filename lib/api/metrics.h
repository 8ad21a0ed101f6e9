/* metrics.h - the counters and histograms of /metrics (SPEC 2), rendered in the
 * Prometheus text format 0.0.4. Gauges that the store knows (tickets by status,
 * notifications by state) are read from it at render time. */
#ifndef SLAD_METRICS_H
#define SLAD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct store;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* One HTTP request answered with code after duration_ms. */
void metrics_http(struct metrics *m, int code, double duration_ms);
/* One agenda entry fired lag_ms after its instant. */
void metrics_timer_lag(struct metrics *m, double lag_ms);
/* A clock of policy breached; an escalation step of event fired. */
void metrics_breach(struct metrics *m, const char *policy, const char *clock);
void metrics_escalation(struct metrics *m, const char *event);
/* A delivery attempt on channel ended with result ("sent", "retry", "dead"). */
void metrics_attempt(struct metrics *m, const char *channel, const char *result);

/* The whole exposition; timers = agenda size. store may be NULL (no gauges from it).
 * Returns a malloc'd string. */
char *metrics_render(const struct metrics *m, struct store *store, size_t timers);

#endif
