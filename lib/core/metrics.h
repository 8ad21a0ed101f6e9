/* metrics.h - the counters and histograms of /metrics (SPEC 2), rendered in the
 * Prometheus text format 0.0.4 with the gauges the caller read (tickets by status,
 * notifications by state, breached clocks: records.h). Counted by the service and the
 * daemon, rendered for the API; it depends on neither. */
#ifndef SLAD_METRICS_H
#define SLAD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

struct metrics;

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

/* The scheduler lease (lease.h): this instance's role and its fencing number, shown as
 * slad_scheduler and slad_lease_fencing from the first call on. */
void metrics_lease(struct metrics *m, bool scheduler, int64_t fencing);

/* The whole exposition; timers = agenda size. gauges may be NULL (not read: the families
 * are shown without samples). Returns a malloc'd string. */
char *metrics_render(const struct metrics *m, const struct gauges *gauges, size_t timers);

#endif
