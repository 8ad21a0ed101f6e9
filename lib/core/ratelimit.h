/* ratelimit.h - a token bucket: at most count sends per window, in bursts of up to count
 * (a robot that allows 20 messages a minute may get 20 at once, then one every 3 s).
 *
 * Integer arithmetic, exact: the bucket holds tokens in units of 1/window_ms token and
 * gains count units per millisecond, so that no rounding drifts over a long run. Time is
 * an argument (lib/ never reads the clock); a clock that steps backwards adds nothing. */
#ifndef SLAD_RATELIMIT_H
#define SLAD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    int64_t count;     /* sends per window; 0: unlimited */
    int64_t window_ms; /* > 0 when count > 0 */
    int64_t units;     /* tokens * window_ms, at most count * window_ms */
    int64_t last_ms;   /* when units was brought up to date */
};

/* A full bucket at now_ms; count <= 0 or window_ms <= 0 means no limit. */
void ratelimit_init(struct ratelimit *rl, int64_t count, int64_t window_ms, int64_t now_ms);

/* Take one token at now_ms: true when allowed (and counted), false when over the limit. */
bool ratelimit_take(struct ratelimit *rl, int64_t now_ms);

/* How long from now_ms until a token is there: 0 when one is there now. */
int64_t ratelimit_wait_ms(struct ratelimit *rl, int64_t now_ms);

#endif
