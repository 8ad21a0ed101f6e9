/* test-ctlfmt.c - slactl's pure formatting: spans, relative deadlines ("in 1h12m",
 * "overdue 5m"), display widths (UTF-8, wide CJK, colour sequences) and table alignment,
 * cut cells and the row limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlfmt.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)
#define D (24 * H)

static const struct {
    int line;
    int64_t ms;
    const char *want;
} span_cases[] = {
    {__LINE__, 0, "0s"},
    {__LINE__, 999, "0s"},
    {__LINE__, 45 * S, "45s"},
    {__LINE__, 5 * M, "5m"},
    {__LINE__, 5 * M + 30 * S, "5m30s"},
    {__LINE__, H + 12 * M, "1h12m"},
    {__LINE__, H + 12 * M + 59 * S, "1h12m"}, /* two units only, truncated */
    {__LINE__, 2 * H, "2h"},
    {__LINE__, 2 * D + 3 * H, "2d3h"},
    {__LINE__, 2 * D + 3 * M, "2d"},
    {__LINE__, 400 * D, "400d"},
    {__LINE__, -(5 * M), "5m"},
    {__LINE__, INT64_MIN, "106751991167d7h"},
    {__LINE__, INT64_MAX, "106751991167d7h"},
};

static void test_span(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(span_cases) / sizeof(span_cases[0]); i++) {
        char buf[CTLFMT_SPAN_MAX];
        const char *got = ctlfmt_span(span_cases[i].ms, buf, sizeof(buf));
        if (strcmp(got, span_cases[i].want) != 0)
            fail_msg("line %d: got '%s', want '%s'", span_cases[i].line, got, span_cases[i].want);
    }
}

static const struct {
    int line;
    int64_t due, now;
    const char *want;
} rel_cases[] = {
    {__LINE__, 1000 * S + H + 12 * M, 1000 * S, "in 1h12m"},
    {__LINE__, 1000 * S, 1000 * S + 5 * M, "overdue 5m"},
    {__LINE__, 1000 * S, 1000 * S, "now"},
    {__LINE__, 1000 * S + 999, 1000 * S, "now"},
    {__LINE__, 1000 * S - 999, 1000 * S, "now"},
    {__LINE__, 1000 * S + S, 1000 * S, "in 1s"},
    {__LINE__, 0, 3 * D + 1, "overdue 3d"},
    {__LINE__, INT64_MAX, INT64_MIN, "in 106751991167d7h"},
    {__LINE__, INT64_MIN, INT64_MAX, "overdue 106751991167d7h"},
};

static void test_relative(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rel_cases) / sizeof(rel_cases[0]); i++) {
        char buf[CTLFMT_SPAN_MAX];
        const char *got = ctlfmt_relative(rel_cases[i].due, rel_cases[i].now, buf, sizeof(buf));
        if (strcmp(got, rel_cases[i].want) != 0)
            fail_msg("line %d: got '%s', want '%s'", rel_cases[i].line, got, rel_cases[i].want);
    }
}

static const struct {
    int line;
    const char *text;
    size_t want;
} width_cases[] = {
    {__LINE__, "", 0},         {__LINE__, "abc", 3},    {__LINE__, "\033[31mred\033[0m", 3},
    {__LINE__, "\033[1m", 0},  {__LINE__, "打印机", 6}, {__LINE__, "é", 1},
    {__LINE__, "ａ", 2},       /* full-width */
    {__LINE__, "\xff\xfe", 2}, /* bad bytes count one each */
    {__LINE__, "\xe6\x89", 2}, /* cut sequence */
};

static void test_width(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(width_cases) / sizeof(width_cases[0]); i++) {
        size_t got = ctlfmt_width(width_cases[i].text);
        if (got != width_cases[i].want)
            fail_msg("line %d: got %zu, want %zu", width_cases[i].line, got, width_cases[i].want);
    }
}

static void test_table_alignment(void **state)
{
    (void)state;
    static const char *const heads[] = {"ID", "TITLE", "STATE"};
    struct ctlfmt_table t;
    assert_int_equal(ctlfmt_table_init(&t, 3, heads), 0);
    const char *r1[] = {"1", "打印机", "\033[31mbreached\033[0m"};
    const char *r2[] = {"12", "scanner\tjam", NULL};
    assert_int_equal(ctlfmt_table_add(&t, r1), 0);
    assert_int_equal(ctlfmt_table_add(&t, r2), 0);
    char *text = ctlfmt_table_render(&t);
    assert_non_null(text);
    assert_string_equal(text, "ID  TITLE        STATE\n"
                              "1   打印机       \033[31mbreached\033[0m\n"
                              "12  scanner jam\n");
    free(text);
    ctlfmt_table_done(&t);
}

static void test_table_cut_and_limits(void **state)
{
    (void)state;
    static const char *const heads[] = {"X"};
    struct ctlfmt_table t;
    assert_int_equal(ctlfmt_table_init(&t, 0, heads), -E2BIG);
    assert_int_equal(ctlfmt_table_init(&t, CTLFMT_MAX_COLS + 1, heads), -E2BIG);
    assert_int_equal(ctlfmt_table_init(&t, 1, heads), 0);
    /* A long cell of 3-byte characters is cut on a character boundary. */
    char long_cell[3 * CTLFMT_CELL_MAX + 1] = "";
    for (size_t i = 0; i < CTLFMT_CELL_MAX; i++)
        memcpy(long_cell + 3 * i, "机", 4);
    const char *row[] = {long_cell};
    assert_int_equal(ctlfmt_table_add(&t, row), 0);
    const char *cut = t.cells[1];
    size_t len = strlen(cut);
    assert_true(len <= CTLFMT_CELL_MAX + 3);
    assert_string_equal(cut + len - 3, "...");
    assert_int_equal((len - 3) % 3, 0);
    const char *small[] = {"x"};
    for (size_t i = 1; i < CTLFMT_MAX_ROWS; i++)
        assert_int_equal(ctlfmt_table_add(&t, small), 0);
    assert_int_equal(ctlfmt_table_add(&t, small), -E2BIG);
    ctlfmt_table_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span),
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_table_alignment),
        cmocka_unit_test(test_table_cut_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
