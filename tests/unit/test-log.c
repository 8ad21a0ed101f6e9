/* test-log.c - the daemon's log lines: control characters escaped, repeated lines held
 * back with a count, per-call-site limits; on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static double fake_now_s = 1000.0;

static double fake_clock(void)
{
    return fake_now_s;
}

/* stderr goes to a temporary file while a test runs; read_log returns what was written. */
static int saved_stderr = -1;
static FILE *capture;

static int setup(void **state)
{
    (void)state;
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    fake_now_s += 100.0; /* every test starts far from the last one's lines */
    log_set_clock(fake_clock);
    log_set_level(LOG_LEVEL_DEBUG);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    fclose(capture);
    log_set_clock(NULL);
    return 0;
}

static char *read_log(void)
{
    long size = lseek(fileno(capture), 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(capture), text, (size_t)size, 0), size);
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* A title or a peer's answer cannot forge a second entry or send terminal escapes. */
static void test_controls_escaped(void **state)
{
    (void)state;
    log_info("ticket", "title '%s'", "a\nb<3>forged: line\r\x1b[31mred\x07\x7f");
    char *text = read_log();
    assert_string_equal(text,
                        "<6>ticket: title 'a\\x0ab<3>forged: line\\x0d\\x1b[31mred\\x07\\x7f'\n");
    free(text);
}

/* UTF-8 text is written as is. */
static void test_utf8_kept(void **state)
{
    (void)state;
    log_notice("ticket", "'%s'", "工单已超时");
    char *text = read_log();
    assert_string_equal(text, "<5>ticket: '工单已超时'\n");
    free(text);
}

/* A flood of one warning: one line a second, the next carries the count. */
static void test_identical_lines_held(void **state)
{
    (void)state;
    for (int i = 0; i < 100000; i++)
        log_warning("http", "libmicrohttpd: %s", "Error accepting connection");
    fake_now_s += 1.0;
    log_warning("http", "libmicrohttpd: %s", "Error accepting connection");
    char *text = read_log();
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "(and 99999 identical lines in the last second)"));
    free(text);
}

/* Two alternating floods are both held; a different line still gets out at once. */
static void test_alternating_and_other_lines(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++) {
        log_err("store", "cannot start a transaction: %s", "disk full");
        log_notice("http", "closed %d connections", 3);
    }
    log_notice("http", "closed %d connections", 4);
    char *text = read_log();
    assert_int_equal(count_lines(text), 3);
    free(text);
}

/* Info lines record one event each: never held. */
static void test_info_never_held(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++)
        log_info("ticket", "#%d event '%s' applied", 5, "comment");
    char *text = read_log();
    assert_int_equal(count_lines(text), 50);
    free(text);
}

/* A call site whose lines differ (a peer's address) is held to one a second. */
static void test_limited_call_site(void **state)
{
    (void)state;
    static struct log_limit limit;
    for (int i = 0; i < 500; i++)
        log_limited(&limit, LOG_PRIO_NOTICE, "http", "refused a TCP request from 10.0.0.%d",
                    i % 250);
    fake_now_s += 2.0;
    log_limited(&limit, LOG_PRIO_NOTICE, "http", "refused a TCP request from %s", "10.9.9.9");
    char *text = read_log();
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "<5>http: refused a TCP request from 10.0.0.0\n"));
    assert_non_null(strstr(text, "from 10.9.9.9 (and 499 similar lines in the last 2 s)\n"));
    free(text);
}

/* A line over the size limit is cut, still one line. */
static void test_long_line_cut(void **state)
{
    (void)state;
    char big[10000];
    memset(big, '\x01', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info("api", "%s", big);
    char *text = read_log();
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) < 4200);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controls_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identical_lines_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alternating_and_other_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_never_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limited_call_site, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_cut, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
