/* ratelimit.c - the token bucket of ratelimit.h. */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, int64_t count, int64_t window_ms, int64_t now_ms)
{
    if (count <= 0 || window_ms <= 0)
        count = 0, window_ms = 1;
    /* Bound the product: a limit looser than a million per millisecond is no limit. */
    if (count > 1000000000)
        count = 0;
    if (window_ms > INT64_C(1) << 40)
        window_ms = INT64_C(1) << 40;
    rl->count = count;
    rl->window_ms = window_ms;
    rl->units = count * window_ms;
    rl->last_ms = now_ms;
}

static void refill(struct ratelimit *rl, int64_t now_ms)
{
    int64_t full = rl->count * rl->window_ms;
    if (now_ms > rl->last_ms) {
        int64_t elapsed = now_ms - rl->last_ms;
        /* Past a whole window the bucket is full whatever it held: no overflow. */
        if (elapsed >= rl->window_ms)
            rl->units = full;
        else
            rl->units += elapsed * rl->count;
        if (rl->units > full)
            rl->units = full;
    }
    rl->last_ms = now_ms; /* backwards: nothing gained, restart from here */
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
    if (rl->count == 0)
        return true;
    refill(rl, now_ms);
    if (rl->units < rl->window_ms)
        return false;
    rl->units -= rl->window_ms;
    return true;
}

int64_t ratelimit_wait_ms(struct ratelimit *rl, int64_t now_ms)
{
    if (rl->count == 0)
        return 0;
    refill(rl, now_ms);
    if (rl->units >= rl->window_ms)
        return 0;
    return (rl->window_ms - rl->units + rl->count - 1) / rl->count;
}
