/* test-duration.c - duration_parse and duration_format: every form, every error, the
 * limits, and the round trip text -> struct -> canonical text -> the same struct. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)

#define ALL   (DURATION_ALLOW_WORKDAYS | DURATION_ALLOW_PERCENT | DURATION_ALLOW_AFTER)
#define PLAIN DURATION_ALLOW_PLAIN

struct ok_case {
    int line;
    const char *text;
    unsigned allowed;
    enum duration_unit unit;
    bool after;
    int64_t value;
    const char *canonical; /* duration_format of the result */
};

static const struct ok_case ok_cases[] = {
    {__LINE__, "90s", PLAIN, DURATION_MS, false, 90 * S, "1m30s"},
    {__LINE__, "30m", PLAIN, DURATION_MS, false, 30 * M, "30m"},
    {__LINE__, "2h", PLAIN, DURATION_MS, false, 2 * H, "2h"},
    {__LINE__, "1h30m", PLAIN, DURATION_MS, false, 90 * M, "1h30m"},
    {__LINE__, "90m", PLAIN, DURATION_MS, false, 90 * M, "1h30m"},
    {__LINE__, "3d", PLAIN, DURATION_MS, false, 3 * D, "3d"},
    {__LINE__, "72h", PLAIN, DURATION_MS, false, 3 * D, "3d"},
    {__LINE__, "0s", PLAIN, DURATION_MS, false, 0, "0s"},
    {__LINE__, "0m", PLAIN, DURATION_MS, false, 0, "0s"},
    {__LINE__, "0d0h", PLAIN, DURATION_MS, false, 0, "0s"},
    {__LINE__, "1d2h30m15s", PLAIN, DURATION_MS, false, D + 2 * H + 30 * M + 15 * S, "1d2h30m15s"},
    {__LINE__, "1d15s", PLAIN, DURATION_MS, false, D + 15 * S, "1d15s"},
    {__LINE__, "500ms", PLAIN, DURATION_MS, false, 500, "500ms"},
    {__LINE__, "1s500ms", PLAIN, DURATION_MS, false, 1500, "1s500ms"},
    {__LINE__, "1500ms", PLAIN, DURATION_MS, false, 1500, "1s500ms"},
    {__LINE__, "1m1ms", PLAIN, DURATION_MS, false, M + 1, "1m1ms"},
    {__LINE__, "1d23h59m59s999ms", PLAIN, DURATION_MS, false, 2 * D - 1, "1d23h59m59s999ms"},
    {__LINE__, "007m", PLAIN, DURATION_MS, false, 7 * M, "7m"},
    {__LINE__, "365d", PLAIN, DURATION_MS, false, 365 * D, "365d"},
    /* The limit itself, written three ways. */
    {__LINE__, "36600d", PLAIN, DURATION_MS, false, DURATION_MAX_MS, "36600d"},
    {__LINE__, "878400h", PLAIN, DURATION_MS, false, DURATION_MAX_MS, "36600d"},
    {__LINE__, "3162240000000ms", PLAIN, DURATION_MS, false, DURATION_MAX_MS, "36600d"},
    {__LINE__, "36599d23h59m59s999ms", PLAIN, DURATION_MS, false, DURATION_MAX_MS - 1,
     "36599d23h59m59s999ms"},
    /* Working days. */
    {__LINE__, "3wd", DURATION_ALLOW_WORKDAYS, DURATION_WORKDAYS, false, 3, "3wd"},
    {__LINE__, "1wd", ALL, DURATION_WORKDAYS, false, 1, "1wd"},
    {__LINE__, "0wd", ALL, DURATION_WORKDAYS, false, 0, "0wd"},
    {__LINE__, "36600wd", ALL, DURATION_WORKDAYS, false, 36600, "36600wd"},
    /* Percentages. */
    {__LINE__, "75%", DURATION_ALLOW_PERCENT, DURATION_PERCENT, false, 75, "75%"},
    {__LINE__, "0%", ALL, DURATION_PERCENT, false, 0, "0%"},
    {__LINE__, "50%", ALL, DURATION_PERCENT, false, 50, "50%"},
    {__LINE__, "100%", ALL, DURATION_PERCENT, false, 100, "100%"},
    {__LINE__, "150%", ALL, DURATION_PERCENT, false, 150, "150%"},
    {__LINE__, "1000%", ALL, DURATION_PERCENT, false, 1000, "1000%"},
    /* After due. */
    {__LINE__, "+2h", DURATION_ALLOW_AFTER, DURATION_MS, true, 2 * H, "+2h"},
    {__LINE__, "+4h", ALL, DURATION_MS, true, 4 * H, "+4h"},
    {__LINE__, "+0s", ALL, DURATION_MS, true, 0, "+0s"},
    {__LINE__, "+1h30m", ALL, DURATION_MS, true, 90 * M, "+1h30m"},
    {__LINE__, "+1wd", DURATION_ALLOW_AFTER | DURATION_ALLOW_WORKDAYS, DURATION_WORKDAYS, true, 1,
     "+1wd"},
    {__LINE__, "+36600d", ALL, DURATION_MS, true, DURATION_MAX_MS, "+36600d"},
};

struct err_case {
    int line;
    const char *text;
    unsigned allowed;
    int err;         /* the negative errno */
    const char *msg; /* the whole message when exact, else a part of it */
    bool exact;
};

static const struct err_case err_cases[] = {
    {__LINE__, "", ALL, -EINVAL, "duration '': empty", false},
    {__LINE__, "h", ALL, -EINVAL, "duration 'h': expected a number before 'h'", true},
    {__LINE__, "ms", ALL, -EINVAL, "expected a number before 'ms'", false},
    {__LINE__, "wd", ALL, -EINVAL, "expected a number before 'wd'", false},
    {__LINE__, "%", ALL, -EINVAL, "duration '%': expected a number before '%'", true},
    {__LINE__, "2", ALL, -EINVAL, "duration '2': missing unit after '2'", false},
    {__LINE__, "0", ALL, -EINVAL, "missing unit after '0'", false},
    {__LINE__, "2h30", ALL, -EINVAL, "missing unit after '30'", false},
    {__LINE__, "2d3", ALL, -EINVAL, "missing unit after '3'", false},
    {__LINE__, "30x", ALL, -EINVAL,
     "duration '30x': unknown unit 'x' (use s, m, h, d, wd, or % / + where allowed)", true},
    {__LINE__, "2x", ALL, -EINVAL, "unknown unit 'x'", false},
    {__LINE__, "2H", ALL, -EINVAL, "unknown unit 'H'", false},
    {__LINE__, "2hm", ALL, -EINVAL, "unknown unit 'hm'", false},
    {__LINE__, "2y", ALL, -EINVAL, "unknown unit 'y'", false},
    {__LINE__, "2w", ALL, -EINVAL, "unknown unit 'w'", false},
    {__LINE__, "2h ", ALL, -EINVAL, "duration '2h ': unexpected ' '", true},
    {__LINE__, "2 h", ALL, -EINVAL, "duration '2 h': unexpected ' ' after '2'", true},
    {__LINE__, "2\xe5\xb0\x8f\xe6\x97\xb6", ALL, -EINVAL, "unknown unit '\xe5\xb0\x8f\xe6\x97\xb6'",
     false}, /* 2小时 */
    {__LINE__, "2h\t", ALL, -EINVAL, "unexpected '\t'", false},
    {__LINE__, " 2h", ALL, -EINVAL, "unexpected ' '", false},
    {__LINE__, "75%%", ALL, -EINVAL, "'%' cannot be combined with other units", false},
    {__LINE__, "30m2h", ALL, -EINVAL,
     "duration '30m2h': unit 'h' after 'm' (write units from the largest to the smallest: "
     "d, h, m, s, ms)",
     true},
    {__LINE__, "1m1h", ALL, -EINVAL, "unit 'h' after 'm'", false},
    {__LINE__, "1s1d", ALL, -EINVAL, "unit 'd' after 's'", false},
    {__LINE__, "1ms1s", ALL, -EINVAL, "unit 's' after 'ms'", false},
    {__LINE__, "2h2h", ALL, -EINVAL, "duration '2h2h': unit 'h' repeated", true},
    {__LINE__, "1s1s", ALL, -EINVAL, "unit 's' repeated", false},
    {__LINE__, "1h1m1m", ALL, -EINVAL, "unit 'm' repeated", false},
    {__LINE__, "-1h", ALL, -EINVAL, "duration '-1h': negative durations are not allowed", true},
    {__LINE__, "-0s", ALL, -EINVAL, "negative", false},
    {__LINE__, "2h-1m", ALL, -EINVAL, "unexpected '-'", false},
    {__LINE__, "1.5h", ALL, -EINVAL, "unexpected '.' (use whole numbers", false},
    {__LINE__, "1,5h", ALL, -EINVAL, "unexpected ','", false},
    {__LINE__, ".5h", ALL, -EINVAL, "unexpected '.' (use whole numbers", false},
    /* Limits and overflow. */
    {__LINE__, "36601d", ALL, -ERANGE, "duration '36601d': too large", false},
    {__LINE__, "36600d1ms", ALL, -ERANGE, "too large", false},
    {__LINE__, "878401h", ALL, -ERANGE, "too large", false},
    {__LINE__, "3162240000001ms", ALL, -ERANGE, "too large", false},
    {__LINE__, "9223372036854775807ms", ALL, -ERANGE, "too large", false},
    {__LINE__, "9223372036854775808s", ALL, -ERANGE, "too large", false},
    {__LINE__, "99999999999999999999999999999999h", ALL, -ERANGE, "too large", false},
    {__LINE__, "36000d36000d", ALL, -EINVAL, "repeated", false},
    {__LINE__, "36000d14401h", ALL, -ERANGE, "too large", false},
    {__LINE__, "36601wd", ALL, -ERANGE, "too large", false},
    {__LINE__, "99999999999999999999wd", ALL, -ERANGE, "too large", false},
    {__LINE__, "1001%", ALL, -ERANGE, "duration '1001%': percentage over 1000%", true},
    {__LINE__, "99999999999999999999%", ALL, -ERANGE, "percentage over 1000%", false},
    /* Forms that do not mix. */
    {__LINE__, "+75%", ALL, -EINVAL, "duration '+75%': '+' cannot be combined with a percentage",
     true},
    {__LINE__, "75%2h", ALL, -EINVAL, "'%' cannot be combined with other units", false},
    {__LINE__, "2h75%", ALL, -EINVAL, "'%' cannot be combined with other units", false},
    {__LINE__, "1wd2h", ALL, -EINVAL, "'wd' cannot be combined with other units", false},
    {__LINE__, "2h1wd", ALL, -EINVAL, "'wd' cannot be combined with other units", false},
    {__LINE__, "1wd1wd", ALL, -EINVAL, "'wd' cannot be combined", false},
    {__LINE__, "3wdx", ALL, -EINVAL, "unknown unit 'wdx'", false},
    {__LINE__, "+", ALL, -EINVAL, "duration '+': expected a number after '+'", true},
    {__LINE__, "++2h", ALL, -EINVAL, "unexpected '+'", false},
    {__LINE__, "2h+", ALL, -EINVAL, "unexpected '+'", false},
    /* Forms the caller does not allow. */
    {__LINE__, "3wd", PLAIN, -EINVAL, "duration '3wd': working days (wd) are not allowed here",
     true},
    {__LINE__, "3wd", DURATION_ALLOW_PERCENT | DURATION_ALLOW_AFTER, -EINVAL,
     "working days (wd) are not allowed here", false},
    {__LINE__, "75%", PLAIN, -EINVAL, "duration '75%': percentages are not allowed here", true},
    {__LINE__, "75%", DURATION_ALLOW_WORKDAYS | DURATION_ALLOW_AFTER, -EINVAL,
     "percentages are not allowed here", false},
    {__LINE__, "+2h", PLAIN, -EINVAL,
     "duration '+2h': '+' (after the due time) is not allowed here", true},
    {__LINE__, "+2h", DURATION_ALLOW_WORKDAYS | DURATION_ALLOW_PERCENT, -EINVAL,
     "'+' (after the due time) is not allowed here", false},
    {__LINE__, "+1wd", DURATION_ALLOW_AFTER, -EINVAL, "working days (wd) are not allowed here",
     false},
    {__LINE__, "+1wd", DURATION_ALLOW_WORKDAYS, -EINVAL, "'+' (after the due time) is not allowed",
     false},
};

static void test_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const struct ok_case *c = &ok_cases[i];
        struct duration d;
        struct slad_error err = {{0}};
        int r = duration_parse(c->text, c->allowed, &d, &err);
        if (r != 0)
            fail_msg("line %d: '%s': unexpected error %d: %s", c->line, c->text, r, err.msg);
        if (d.unit != c->unit || d.after_due != c->after || d.value != c->value)
            fail_msg("line %d: '%s': got unit %d after %d value %" PRId64
                     ", want unit %d after %d value %" PRId64,
                     c->line, c->text, d.unit, d.after_due, d.value, c->unit, c->after, c->value);
        char buf[64];
        duration_format(&d, buf, sizeof(buf));
        if (strcmp(buf, c->canonical) != 0)
            fail_msg("line %d: '%s': formatted as '%s', want '%s'", c->line, c->text, buf,
                     c->canonical);
        /* Round trip: the canonical text parses to the same struct. */
        struct duration again;
        r = duration_parse(buf, c->allowed, &again, &err);
        if (r != 0 || again.unit != d.unit || again.after_due != d.after_due ||
            again.value != d.value)
            fail_msg("line %d: '%s' -> '%s' does not parse back the same (%d)", c->line, c->text,
                     buf, r);
        /* NULL error detail is allowed. */
        if (duration_parse(c->text, c->allowed, &again, NULL) != 0)
            fail_msg("line %d: '%s': fails with reterr NULL", c->line, c->text);
    }
}

static void test_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        /* ret_* is written only on success: the sentinel must survive. */
        struct duration d = {.unit = DURATION_PERCENT, .after_due = true, .value = 4242};
        struct slad_error err = {{0}};
        int r = duration_parse(c->text, c->allowed, &d, &err);
        if (r != c->err)
            fail_msg("line %d: '%s': returned %d, want %d (%s)", c->line, c->text, r, c->err,
                     err.msg);
        if (c->exact ? strcmp(err.msg, c->msg) != 0 : !strstr(err.msg, c->msg))
            fail_msg("line %d: '%s': message '%s', want %s'%s'", c->line, c->text, err.msg,
                     c->exact ? "" : "it to contain ", c->msg);
        /* Every message quotes the text. */
        char quoted[128];
        snprintf(quoted, sizeof(quoted), "duration '%s'", c->text);
        if (!strstr(err.msg, quoted))
            fail_msg("line %d: message '%s' does not quote the text", c->line, err.msg);
        if (d.unit != DURATION_PERCENT || !d.after_due || d.value != 4242)
            fail_msg("line %d: '%s': the result was written on failure", c->line, c->text);
        if (duration_parse(c->text, c->allowed, &d, NULL) != c->err)
            fail_msg("line %d: '%s': different result with reterr NULL", c->line, c->text);
    }
    struct duration d;
    struct slad_error err;
    assert_int_equal(duration_parse(NULL, ALL, &d, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "missing"));
}

static void test_format(void **state)
{
    (void)state;
    static const struct {
        int line;
        struct duration d;
        const char *text;
    } cases[] = {
        {__LINE__, {DURATION_MS, false, 0}, "0s"},
        {__LINE__, {DURATION_MS, true, 0}, "+0s"},
        {__LINE__, {DURATION_MS, false, 1}, "1ms"},
        {__LINE__, {DURATION_MS, false, D + 1}, "1d1ms"},
        {__LINE__, {DURATION_MS, false, H + S}, "1h1s"},
        {__LINE__, {DURATION_MS, true, 2 * H}, "+2h"},
        {__LINE__, {DURATION_MS, false, DURATION_MAX_MS}, "36600d"},
        {__LINE__, {DURATION_WORKDAYS, false, 3}, "3wd"},
        {__LINE__, {DURATION_WORKDAYS, true, 1}, "+1wd"},
        {__LINE__, {DURATION_PERCENT, false, 75}, "75%"},
        /* Not produced by the parser; printed honestly, and refused when read back. */
        {__LINE__, {DURATION_MS, false, -5}, "-5ms"},
        {__LINE__, {DURATION_MS, false, INT64_MIN}, "-106751991167d7h12m55s808ms"},
        {__LINE__, {DURATION_MS, false, INT64_MAX}, "106751991167d7h12m55s807ms"},
        {__LINE__, {DURATION_PERCENT, false, -1}, "-1%"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        char *r = duration_format(&cases[i].d, buf, sizeof(buf));
        if (r != buf || strcmp(buf, cases[i].text) != 0)
            fail_msg("line %d: formatted '%s', want '%s'", cases[i].line, buf, cases[i].text);
    }

    /* A short buffer truncates and still ends in NUL; size 0 writes nothing. */
    struct duration d = {DURATION_MS, false, 90 * M};
    char small[4] = "xyz";
    duration_format(&d, small, sizeof(small));
    assert_string_equal(small, "1h3");
    char one[1] = {'x'};
    duration_format(&d, one, sizeof(one));
    assert_int_equal(one[0], '\0');
    char none[1] = {'x'};
    duration_format(&d, none, 0);
    assert_int_equal(none[0], 'x');
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* splitmix64: deterministic, so a failure replays. */
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Every representable duration formats to a text that parses back to itself. */
static void test_round_trip_random(void **state)
{
    (void)state;
    rng_state = 20260308;
    for (int i = 0; i < 100000; i++) {
        struct duration d = {.after_due = rng() & 1};
        switch (rng() % 4) {
        case 0:
            d.unit = DURATION_MS;
            d.value = (int64_t)(rng() % (uint64_t)(DURATION_MAX_MS + 1));
            break;
        case 1:
            /* Round values, which print with fewer units. */
            d.unit = DURATION_MS;
            d.value = (int64_t)(rng() % 36601) * (rng() & 1 ? D : H) % (DURATION_MAX_MS + 1);
            break;
        case 2:
            d.unit = DURATION_WORKDAYS;
            d.value = (int64_t)(rng() % 36601);
            break;
        default:
            d.unit = DURATION_PERCENT;
            d.after_due = false;
            d.value = (int64_t)(rng() % 1001);
            break;
        }
        char buf[64];
        duration_format(&d, buf, sizeof(buf));
        struct duration back;
        struct slad_error err = {{0}};
        int r = duration_parse(buf, ALL, &back, &err);
        if (r != 0 || back.unit != d.unit || back.after_due != d.after_due || back.value != d.value)
            fail_msg("iteration %d: %d/%d/%" PRId64 " -> '%s' -> %d (%s)", i, d.unit, d.after_due,
                     d.value, buf, r, err.msg);
    }
}

static void test_helper(void **state)
{
    (void)state;
    struct duration d = duration_ms(1500);
    assert_int_equal(d.unit, DURATION_MS);
    assert_false(d.after_due);
    assert_int_equal(d.value, 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format),   cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
