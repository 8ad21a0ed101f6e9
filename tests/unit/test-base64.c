/* test-base64.c - the size of base64 text, and what is not base64: RFC 4648's vectors,
 * misplaced padding, foreign characters, lengths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *text;
        int expect;
    } cases[] = {
        /* RFC 4648 section 10. */
        {__LINE__, "", 0},
        {__LINE__, "Zg==", 1},
        {__LINE__, "Zm8=", 2},
        {__LINE__, "Zm9v", 3},
        {__LINE__, "Zm9vYg==", 4},
        {__LINE__, "Zm9vYmE=", 5},
        {__LINE__, "Zm9vYmFy", 6},
        {__LINE__, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
        {__LINE__, "+/+/", 3},
        /* Not padded base64. */
        {__LINE__, "Zg", -EINVAL},
        {__LINE__, "Zg=", -EINVAL},
        {__LINE__, "Zm9vY", -EINVAL},
        {__LINE__, "Z===", -EINVAL},
        {__LINE__, "====", -EINVAL},
        {__LINE__, "Z=g=", -EINVAL},
        {__LINE__, "=Zm9", -EINVAL},
        {__LINE__, "Zm9v\n", -EINVAL},
        {__LINE__, "Zm 9", -EINVAL},
        {__LINE__, "Zm-_", -EINVAL}, /* base64url is another alphabet */
        {__LINE__, "not base64!!", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = base64_decoded_len(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].expect)
            fail_msg("line %d: '%s' gives %d, expected %d", cases[i].line, cases[i].text, got,
                     cases[i].expect);
    }
}

/* Only len bytes are read: a NUL inside is a character like any other. */
static void test_length_bounds(void **state)
{
    (void)state;
    assert_int_equal(base64_decoded_len("Zm9vYmFy", 4), 3);
    assert_int_equal(base64_decoded_len("Zm\0v", 4), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_length_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
