/* test-decimal.c - decimal.c's digits, and civil_utc_format written with them: the same
 * text printf writes, for every kind of value. */
#include "civil.h"
#include "decimal.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void check_int64(int64_t v)
{
    char want[32], got[DECIMAL_INT64_MAX + 8];
    memset(got, 'x', sizeof(got));
    int n = snprintf(want, sizeof(want), "%" PRId64, v);
    assert_int_equal(decimal_int64(v, got), (size_t)n);
    assert_string_equal(got, want);
}

static void test_int64_as_printf(void **state)
{
    (void)state;
    const int64_t edges[] = {0,
                             1,
                             -1,
                             9,
                             10,
                             -10,
                             99,
                             100,
                             1000000007,
                             -999999999999,
                             INT64_MAX,
                             INT64_MIN,
                             INT64_MAX - 1,
                             INT64_MIN + 1};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_int64(edges[i]);
    for (int64_t v = 1; v > 0 && v < INT64_MAX / 3; v = v * 3 + 1) {
        check_int64(v);
        check_int64(-v);
    }
}

static void test_padded(void **state)
{
    (void)state;
    char p[8] = "abcdefg";
    decimal_padded(7, 3, p);
    assert_memory_equal(p, "007defg", 7);
    decimal_padded(2026, 4, p);
    assert_memory_equal(p, "2026efg", 7);
}

/* civil_utc_format as it was: printf's text. */
static void reference(int64_t at_ms, char *buf, size_t size)
{
    int64_t days = civil_floor_div(at_ms, CIVIL_MS_PER_DAY);
    int64_t in_day = at_ms - days * CIVIL_MS_PER_DAY;
    int64_t y;
    int m, d;
    civil_date(days, &y, &m, &d);
    int ms = (int)(in_day % 1000), s = (int)(in_day / 1000 % 60), mi = (int)(in_day / 60000 % 60),
        h = (int)(in_day / 3600000);
    if (ms)
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, s,
                 ms);
    else
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
}

static void check_time(int64_t at_ms)
{
    char want[CIVIL_UTC_MAX], got[CIVIL_UTC_MAX];
    reference(at_ms, want, sizeof(want));
    assert_ptr_equal(civil_utc_format(at_ms, got, sizeof(got)), got);
    assert_string_equal(got, want);
}

static void test_utc_format_as_printf(void **state)
{
    (void)state;
    assert_string_equal(civil_utc_format(0, (char[CIVIL_UTC_MAX]){0}, CIVIL_UTC_MAX),
                        "1970-01-01T00:00:00Z");
    char buf[CIVIL_UTC_MAX];
    assert_string_equal(civil_utc_format(INT64_C(1798761599999), buf, sizeof(buf)),
                        "2026-12-31T23:59:59.999Z");
    assert_string_equal(civil_utc_format(INT64_C(-1), buf, sizeof(buf)),
                        "1969-12-31T23:59:59.999Z");
    /* Years 0 and 9999 (the fast path's ends), before 0 and past 9999 (printf's). */
    const int64_t edges[] = {INT64_C(-62167219200000), INT64_C(-62167219200001),
                             INT64_C(253402300799999), INT64_C(253402300800000),
                             INT64_C(-62198755200000), INT64_C(951782400007)};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        check_time(edges[i]);
    for (int64_t t = INT64_C(-70000000000000); t < INT64_C(300000000000000);
         t += INT64_C(987654321987))
        check_time(t);
    for (int64_t t = INT64_C(1798675200000); t < INT64_C(1798675200000) + 90000; t += 997)
        check_time(t);
}

static void test_utc_format_truncated(void **state)
{
    (void)state;
    char buf[12];
    civil_utc_format(INT64_C(1798761599999), buf, sizeof(buf));
    assert_string_equal(buf, "2026-12-31T");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64_as_printf),
        cmocka_unit_test(test_padded),
        cmocka_unit_test(test_utc_format_as_printf),
        cmocka_unit_test(test_utc_format_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
