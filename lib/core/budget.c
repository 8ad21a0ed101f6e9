/* budget.c - a time allowance on the caller's clock (budget.h). */
#include "budget.h"

void budget_start(struct budget *b, const struct budget_clock *clock, int64_t allowance_ns)
{
    b->clock = clock;
    b->deadline_ns = clock ? clock->now_ns(clock->userdata) + allowance_ns : INT64_MAX;
}

bool budget_spent(const struct budget *b)
{
    return b->clock && b->clock->now_ns(b->clock->userdata) > b->deadline_ns;
}
