/* budget.h - a time allowance for work whose cost depends on its input (expanding a
 * recurrence rule), so that no request or timer keeps the event loop busy for long.
 *
 * lib/ reads no clock of its own: the caller gives one. The daemon's counts the CPU time
 * of its thread (the work the loop does, not the time the system lets it wait); tests
 * give a fake one that advances as it is read, so that a budget runs out at a known
 * point. */
#ifndef SLAD_BUDGET_H
#define SLAD_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

/* A monotonic clock in nanoseconds. */
struct budget_clock {
    int64_t (*now_ns)(void *userdata);
    void *userdata;
};

struct budget {
    const struct budget_clock *clock; /* NULL: no limit */
    int64_t deadline_ns;
};

/* A budget of allowance_ns from now on clock (NULL: unlimited). */
void budget_start(struct budget *b, const struct budget_clock *clock, int64_t allowance_ns);

/* Whether the allowance is used up (reads the clock). */
bool budget_spent(const struct budget *b);

#endif
