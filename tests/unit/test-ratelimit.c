/* test-ratelimit.c - the token bucket: bursts, refill, waits, no limit, clock steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ratelimit.h"

#define T0 INT64_C(1772438400000)

/* A script of takes against a bucket of 20 a minute. */
static void test_robot_limit(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 20, 60000, T0);
    /* A burst of 20, then refused. */
    for (int i = 0; i < 20; i++)
        assert_true(ratelimit_take(&rl, T0));
    assert_false(ratelimit_take(&rl, T0));
    assert_int_equal(ratelimit_wait_ms(&rl, T0), 3000);
    assert_int_equal(ratelimit_wait_ms(&rl, T0 + 1000), 2000);
    assert_false(ratelimit_take(&rl, T0 + 2999));
    assert_true(ratelimit_take(&rl, T0 + 3000));
    assert_false(ratelimit_take(&rl, T0 + 3000));
    /* An hour later the bucket is full again, never more. */
    int n = 0;
    while (ratelimit_take(&rl, T0 + 3600000))
        n++;
    assert_int_equal(n, 20);
}

static void test_table(void **state)
{
    (void)state;
    static const struct {
        int line;
        int64_t count, window_ms;
        int takes_at_t0; /* how many succeed at once (capped at 1000) */
        int64_t wait_after;
    } cases[] = {
        {__LINE__, 0, 60000, 1000, 0}, /* unlimited */
        {__LINE__, 5, 0, 1000, 0},     /* no window: unlimited */
        {__LINE__, 1, 1000, 1, 1000},  /* one a second */
        {__LINE__, 3, 1000, 3, 334},   /* rounding up, never early */
        {__LINE__, 7, 100, 7, 15},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ratelimit rl;
        ratelimit_init(&rl, cases[i].count, cases[i].window_ms, T0);
        int n = 0;
        while (n < 1000 && ratelimit_take(&rl, T0))
            n++;
        if (n != cases[i].takes_at_t0)
            fail_msg("line %d: %d takes, want %d", cases[i].line, n, cases[i].takes_at_t0);
        int64_t w = ratelimit_wait_ms(&rl, T0);
        if (w != cases[i].wait_after)
            fail_msg("line %d: wait %lld, want %lld", cases[i].line, (long long)w,
                     (long long)cases[i].wait_after);
        /* After the wait a token is there. */
        if (cases[i].count > 0 && cases[i].window_ms > 0 && !ratelimit_take(&rl, T0 + w))
            fail_msg("line %d: no token after the wait", cases[i].line);
    }
}

static void test_clock_backwards(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1, 1000, T0);
    assert_true(ratelimit_take(&rl, T0));
    /* A step back gains nothing; time counts again from there. */
    assert_false(ratelimit_take(&rl, T0 - 5000));
    assert_false(ratelimit_take(&rl, T0 - 4001));
    assert_true(ratelimit_take(&rl, T0 - 4000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_robot_limit),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_clock_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
