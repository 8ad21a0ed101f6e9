/* test-retry.c - backoff bounds and cap, Retry-After (delta-seconds, the three HTTP-date
 * forms, garbage), and the decision to retry or give up by attempts and by age. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "retry.h"
#include "slaclock.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define RFC_DATE_MS (INT64_C(784111777) * 1000)

static void test_policy_from_channel(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_init(&p, NULL);
    assert_int_equal(p.max_attempts, RETRY_DEFAULT_ATTEMPTS);
    assert_int_equal(p.max_age_ms, RETRY_DEFAULT_MAX_AGE_MS);
    assert_int_equal(p.base_ms, 1000);
    assert_int_equal(p.cap_ms, 10 * M);
    assert_int_equal(p.retry_after_max_ms, H);

    struct conf_channel ch = {.name = "x", .max_attempts = 3, .max_age_ms = 2 * H};
    retry_policy_init(&p, &ch);
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.max_age_ms, 2 * H);
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_init(&p, NULL);
    static const uint64_t randoms[] = {0,          1,          999,         1000,
                                       123456789,  UINT32_MAX, UINT64_MAX,  UINT64_MAX - 1,
                                       0x5555aaaa, 42424242,   (uint64_t)-7};
    int64_t prev_ceiling = 0;
    for (int f = 1; f <= 40; f++) {
        int64_t ceiling = 1000;
        for (int i = 1; i < f && ceiling < 10 * M; i++)
            ceiling *= 2;
        if (ceiling > 10 * M)
            ceiling = 10 * M;
        assert_true(ceiling >= prev_ceiling); /* the cap never shrinks */
        prev_ceiling = ceiling;
        int64_t max_seen = 0;
        for (size_t i = 0; i < sizeof(randoms) / sizeof(randoms[0]); i++) {
            int64_t d = retry_backoff_ms(&p, f, randoms[i]);
            if (d < RETRY_MIN_MS || d > ceiling)
                fail_msg("failures %d random %" PRIu64 ": %" PRId64 " not in [%d, %" PRId64 "]", f,
                         randoms[i], d, RETRY_MIN_MS, ceiling);
            if (d > max_seen)
                max_seen = d;
        }
        /* The extremes of the random input reach the extremes of the range. */
        assert_int_equal(retry_backoff_ms(&p, f, 0), RETRY_MIN_MS);
        assert_int_equal(retry_backoff_ms(&p, f, (uint64_t)(ceiling - RETRY_MIN_MS)), ceiling);
    }
    /* The first delays: at most 1 s, 2 s, 4 s ...; from the 11th on, 10 min. */
    assert_int_equal(retry_backoff_ms(&p, 1, 900), 1000);
    assert_int_equal(retry_backoff_ms(&p, 2, 1900), 2000);
    assert_int_equal(retry_backoff_ms(&p, 3, 3900), 4000);
    assert_int_equal(retry_backoff_ms(&p, 10, 511900), 512000);
    assert_int_equal(retry_backoff_ms(&p, 11, 10 * M - 100), 10 * M);
    assert_int_equal(retry_backoff_ms(&p, 1000000, 10 * M - 100), 10 * M);
    /* failures <= 0 are treated as the first. */
    assert_true(retry_backoff_ms(&p, 0, UINT64_MAX) <= 1000);
    assert_true(retry_backoff_ms(&p, -5, UINT64_MAX) <= 1000);
}

static void test_backoff_spread(void **state)
{
    (void)state;
    /* Full jitter: a sweep of random inputs covers the range evenly. */
    struct retry_policy p;
    retry_policy_init(&p, NULL);
    int buckets[10] = {0};
    for (uint64_t r = 0; r < 100000; r++) {
        int64_t d = retry_backoff_ms(&p, 5, r * 2654435761u);
        buckets[(d - RETRY_MIN_MS) * 10 / (16000 - RETRY_MIN_MS + 1)]++;
    }
    for (int i = 0; i < 10; i++)
        if (buckets[i] < 9000 || buckets[i] > 11000)
            fail_msg("bucket %d has %d of 100000", i, buckets[i]);
}

struct after_case {
    int line;
    const char *value;
    int64_t now_ms;
    int ret;
    int64_t delay_ms;
};

static const struct after_case after_cases[] = {
    {__LINE__, "0", 0, 0, 0},
    {__LINE__, "120", 0, 0, 120 * S},
    {__LINE__, " 30 ", 0, 0, 30 * S},
    {__LINE__, "30\r\n", 0, 0, 30 * S},
    {__LINE__, "007", 0, 0, 7 * S},
    {__LINE__, "99999999999999999999999", 0, 0, INT64_C(3162240000000)},
    /* IMF-fixdate, RFC 850, asctime: the example instant of RFC 9110. */
    {__LINE__, "Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS - 90 * S, 0, 90 * S},
    {__LINE__, "Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE_MS - 90 * S, 0, 90 * S},
    {__LINE__, "Sun Nov  6 08:49:37 1994", RFC_DATE_MS - 90 * S, 0, 90 * S},
    {__LINE__, "Sun Nov 16 08:49:37 1994", RFC_DATE_MS, 0, 10 * 24 * H},
    {__LINE__, "Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS - 1, 0, 1},
    /* A date in the past: go now. */
    {__LINE__, "Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS + H, 0, 0},
    {__LINE__, "Mon, 02 Mar 2026 08:00:00 GMT", INT64_C(1772438400000) - 5 * M, 0, 5 * M},
    {__LINE__, "Thu, 29 Feb 2024 00:00:00 GMT", INT64_C(1709164800000), 0, 0},
    {__LINE__, "Monday, 02-Mar-26 08:00:00 GMT", INT64_C(1772438400000) - 5 * M, 0, 5 * M},
    /* Garbage. */
    {__LINE__, "", 0, -EINVAL, 0},
    {__LINE__, "   ", 0, -EINVAL, 0},
    {__LINE__, "-5", 0, -EINVAL, 0},
    {__LINE__, "1.5", 0, -EINVAL, 0},
    {__LINE__, "12s", 0, -EINVAL, 0},
    {__LINE__, "soon", 0, -EINVAL, 0},
    {__LINE__, "Sun, 06 Nov 1994 08:49:37 UTC", 0, -EINVAL, 0},
    {__LINE__, "Sun, 06 Nov 1994 08:49:37", 0, -EINVAL, 0},
    {__LINE__, "Sun, 6 Nov 1994 08:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "Sun, 06 Foo 1994 08:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "Sun, 31 Nov 1994 08:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "Thu, 29 Feb 2023 00:00:00 GMT", 0, -EINVAL, 0},
    {__LINE__, "Sun, 06 Nov 1994 24:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "Sun, 06 Nov 1994 08:49:37 GMT trailing", 0, -EINVAL, 0},
    {__LINE__, "Xyz, 06 Nov 1994 08:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "2026-03-02T08:00:00Z", 0, -EINVAL, 0},
    {__LINE__, "Sun Nov  6 08:49:37", 0, -EINVAL, 0},
    {__LINE__, "Sunday, 06-Nov-1994 08:49:37 GMT", 0, -EINVAL, 0},
    {__LINE__, "0123456789012345678901234567890123456789012345678901234567890123456789", 0, -EINVAL,
     0},
};

static void test_retry_after(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(after_cases) / sizeof(after_cases[0]); i++) {
        const struct after_case *c = &after_cases[i];
        int64_t delay = -42;
        int r = retry_after_parse(c->value, c->now_ms, &delay);
        if (r != c->ret)
            fail_msg("line %d: '%s' returned %d, expected %d", c->line, c->value, r, c->ret);
        if (r == 0 && delay != c->delay_ms)
            fail_msg("line %d: '%s' gave %" PRId64 " ms, expected %" PRId64, c->line, c->value,
                     delay, c->delay_ms);
        if (r < 0 && delay != -42)
            fail_msg("line %d: output written on failure", c->line);
    }
    int64_t d;
    assert_int_equal(retry_after_parse(NULL, 0, &d), -EINVAL);
}

struct decide_case {
    int line;
    enum retry_outcome outcome;
    int64_t retry_after_ms;
    const char *reason;
    int attempts;
    int64_t created_ms, now_ms;
    uint64_t random;
    enum retry_outcome want;
    int64_t next_ms; /* when AGAIN */
    const char *last_error;
};

#define T0 INT64_C(1772438400000)

static const struct decide_case decide_cases[] = {
    {__LINE__, RETRY_SENT, -1, "", 1, T0, T0, 0, RETRY_SENT, SLAD_NO_TIME, ""},
    {__LINE__, RETRY_SENT, -1, NULL, 7, T0, T0 + H, 0, RETRY_SENT, SLAD_NO_TIME, ""},
    {__LINE__, RETRY_DEAD, -1, "HTTP 404: not found", 1, T0, T0, 0, RETRY_DEAD, SLAD_NO_TIME,
     "HTTP 404: not found"},
    {__LINE__, RETRY_DEAD, -1, NULL, 1, T0, T0, 0, RETRY_DEAD, SLAD_NO_TIME, "delivery failed"},
    /* The first failure waits at most 1 s; random 900 gives exactly 1 s. */
    {__LINE__, RETRY_AGAIN, -1, "HTTP 503", 1, T0, T0, 900, RETRY_AGAIN, T0 + 1000, "HTTP 503"},
    {__LINE__, RETRY_AGAIN, -1, "HTTP 503", 1, T0, T0, 0, RETRY_AGAIN, T0 + 100, "HTTP 503"},
    {__LINE__, RETRY_AGAIN, -1, "timed out", 4, T0, T0 + M, 7900, RETRY_AGAIN, T0 + M + 8000,
     "timed out"},
    /* Retry-After is a lower bound ... */
    {__LINE__, RETRY_AGAIN, 120 * S, "HTTP 429", 1, T0, T0, 0, RETRY_AGAIN, T0 + 120 * S,
     "HTTP 429"},
    /* ... that never lowers the backoff ... */
    {__LINE__, RETRY_AGAIN, 10, "HTTP 429", 3, T0, T0, 3900, RETRY_AGAIN, T0 + 4000, "HTTP 429"},
    /* ... and is capped at 1 h. */
    {__LINE__, RETRY_AGAIN, 5 * H, "HTTP 503", 1, T0, T0, 0, RETRY_AGAIN, T0 + H, "HTTP 503"},
    /* The last attempt of 10 failed. */
    {__LINE__, RETRY_AGAIN, -1, "HTTP 502", 10, T0, T0 + H, 0, RETRY_DEAD, SLAD_NO_TIME,
     "gave up after 10 attempts: HTTP 502"},
    {__LINE__, RETRY_AGAIN, -1, "HTTP 502", 11, T0, T0 + H, 0, RETRY_DEAD, SLAD_NO_TIME,
     "gave up after 11 attempts: HTTP 502"},
    /* The next attempt would fall after max age (24 h). */
    {__LINE__, RETRY_AGAIN, -1, "connection refused", 5, T0, T0 + 24 * H - 50, 0, RETRY_DEAD,
     SLAD_NO_TIME, "gave up after 5 attempts (max age 1d): connection refused"},
    {__LINE__, RETRY_AGAIN, -1, "connection refused", 5, T0, T0 + 24 * H - 100, 0, RETRY_AGAIN,
     T0 + 24 * H, "connection refused"},
    {__LINE__, RETRY_AGAIN, 2 * H, "HTTP 429", 2, T0, T0 + 23 * H + 1, 0, RETRY_DEAD, SLAD_NO_TIME,
     "gave up after 2 attempts (max age 1d): HTTP 429"},
};

static void test_decide(void **state)
{
    (void)state;
    struct retry_policy p;
    retry_policy_init(&p, NULL);
    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
        const struct decide_case *c = &decide_cases[i];
        struct retry_decision d;
        retry_decide(&p, c->outcome, c->retry_after_ms, c->reason, c->attempts, c->created_ms,
                     c->now_ms, c->random, &d);
        if (d.outcome != c->want)
            fail_msg("line %d: outcome %s, expected %s", c->line, retry_outcome_name(d.outcome),
                     retry_outcome_name(c->want));
        if (d.next_attempt_ms != c->next_ms)
            fail_msg("line %d: next %" PRId64 ", expected %" PRId64, c->line, d.next_attempt_ms,
                     c->next_ms);
        if (strcmp(d.last_error, c->last_error) != 0)
            fail_msg("line %d: last_error '%s', expected '%s'", c->line, d.last_error,
                     c->last_error);
    }
}

static void test_decide_channel_limits(void **state)
{
    (void)state;
    struct conf_channel ch = {.name = "x", .max_attempts = 2, .max_age_ms = 0};
    struct retry_policy p;
    retry_policy_init(&p, &ch);
    p.max_age_ms = 0; /* no age limit */
    struct retry_decision d;
    retry_decide(&p, RETRY_AGAIN, -1, "HTTP 500", 1, 0, INT64_C(1) << 50, 0, &d);
    assert_int_equal(d.outcome, RETRY_AGAIN);
    retry_decide(&p, RETRY_AGAIN, -1, "HTTP 500", 2, 0, 0, 0, &d);
    assert_int_equal(d.outcome, RETRY_DEAD);
    assert_string_equal(d.last_error, "gave up after 2 attempts: HTTP 500");

    assert_string_equal(retry_outcome_name(RETRY_SENT), "sent");
    assert_string_equal(retry_outcome_name(RETRY_AGAIN), "retry");
    assert_string_equal(retry_outcome_name(RETRY_DEAD), "dead");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_from_channel),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_backoff_spread),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_decide_channel_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
