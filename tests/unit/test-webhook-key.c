/* test-webhook-key.c - the key of a Standard Webhooks secret: the decoded base64 after
 * whsec_, else the secret's bytes; refusals that do not quote the secret; and the same
 * key the signer uses (the SPEC vector signs with it). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sign.h"
#include "webhook_key.h"

static void test_key_bytes(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *secret;
        int expect;
    } cases[] = {
        {__LINE__, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24}, /* SPEC 3 */
        {__LINE__, "whsec_MfKQ9r8GKYqrTwjUPD8I", 15},
        {__LINE__, "whsec_", 0},
        {__LINE__, "change-me", 9},
        {__LINE__, "fifteen-bytes!!", 15},
        {__LINE__, "", 0},
        {__LINE__, "WHSEC_Zm9v", 10}, /* the prefix is lower case: a plain secret */
        {__LINE__, "xwhsec_Zm9v", 11},
        {__LINE__, "whsec_not base64!", -EINVAL},
        {__LINE__, "whsec_Zm9vY", -EINVAL},
        {__LINE__, "whsec_Zg=", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slad_error err = {{0}};
        int got = webhook_key_bytes(cases[i].secret, &err);
        if (got != cases[i].expect)
            fail_msg("line %d: '%s' gives %d, expected %d", cases[i].line, cases[i].secret, got,
                     cases[i].expect);
        if (got < 0 && (!strstr(err.msg, "whsec_") || strstr(err.msg, cases[i].secret + 6)))
            fail_msg("line %d: message '%s'", cases[i].line, err.msg);
    }
    assert_string_equal(webhook_key_base64("whsec_Zm9v"), "Zm9v");
    assert_null(webhook_key_base64("Zm9v"));
}

/* The largest key: WEBHOOK_KEY_MAX_BYTES taken, one byte more refused, by the loader's
 * rule and the signer alike. */
static void test_key_limit(void **state)
{
    (void)state;
    for (int bytes = WEBHOOK_KEY_MAX_BYTES - 3; bytes <= WEBHOOK_KEY_MAX_BYTES + 3; bytes++) {
        unsigned char key[WEBHOOK_KEY_MAX_BYTES + 3];
        memset(key, 0xa5, sizeof(key));
        char secret[6 + SIGN_BASE64_SIZE(sizeof(key))] = "whsec_";
        assert_true(sign_base64(key, (size_t)bytes, secret + 6, sizeof(secret) - 6) > 0);
        struct slad_error err = {{0}};
        int expect = bytes <= WEBHOOK_KEY_MAX_BYTES ? bytes : -EINVAL;
        assert_int_equal(webhook_key_bytes(secret, &err), expect);
        char sig[SIGN_TEXT_MAX];
        int signed_ok = sign_standard_webhook(secret, "id", 1, "{}", 2, sig, sizeof(sig), &err);
        assert_int_equal(signed_ok, expect < 0 ? -EINVAL : 0);
        if (expect < 0)
            assert_non_null(strstr(err.msg, "at most 255 bytes"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_bytes),
        cmocka_unit_test(test_key_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
