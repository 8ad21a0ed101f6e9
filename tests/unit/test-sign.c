/* test-sign.c - HMAC, base64 and every signing vector we have: Standard Webhooks (SPEC 3),
 * GitHub-style and Stripe-style HMACs, DingTalk and Feishu (reference/ecosystem.md 4.1),
 * and Alibaba Cloud's two published RPC V1 examples. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sign.h"

static void hex_of(const unsigned char *mac, size_t n, char *out, size_t size)
{
    sign_hex(mac, n, out, size);
}

static void test_hmac_vectors(void **state)
{
    (void)state;
    unsigned char mac[SIGN_SHA256_BYTES];
    char hex[2 * SIGN_SHA256_BYTES + 1];

    /* RFC 4231 test case 2. */
    assert_int_equal(sign_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
    hex_of(mac, sizeof(mac), hex, sizeof(hex));
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* GitHub's X-Hub-Signature-256 example (ecosystem.md 4.1). */
    const char *gh_secret = "It's a Secret to Everybody";
    assert_int_equal(sign_hmac_sha256(gh_secret, strlen(gh_secret), "Hello, World!", 13, mac), 0);
    hex_of(mac, sizeof(mac), hex, sizeof(hex));
    assert_string_equal(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");

    /* Stripe-style t.body (ecosystem.md 4.1). */
    const char *stripe = "1700000000.{\"ticket\":\"T-1\",\"level\":2}";
    assert_int_equal(sign_hmac_sha256("whsec_test", 10, stripe, strlen(stripe), mac), 0);
    hex_of(mac, sizeof(mac), hex, sizeof(hex));
    assert_string_equal(hex, "57bd59c9ffd6f9f9ba806cce7f125505046e4e6a0aa162ab21e13469753aa3e1");

    /* RFC 2202 HMAC-SHA1 test case 2. */
    unsigned char mac1[SIGN_SHA1_BYTES];
    char hex1[2 * SIGN_SHA1_BYTES + 1];
    assert_int_equal(sign_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, mac1), 0);
    hex_of(mac1, sizeof(mac1), hex1, sizeof(hex1));
    assert_string_equal(hex1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");

    /* Empty key and empty message are allowed (Feishu signs ""). */
    assert_int_equal(sign_hmac_sha256("", 0, "", 0, mac), 0);
    hex_of(mac, sizeof(mac), hex, sizeof(hex));
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

    /* SHA-256 of "abc" (FIPS 180-2). */
    assert_int_equal(sign_sha256("abc", 3, mac), 0);
    hex_of(mac, sizeof(mac), hex, sizeof(hex));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

struct b64_case {
    int line;
    const char *data, *text;
};

/* RFC 4648 section 10. */
static const struct b64_case b64_cases[] = {
    {__LINE__, "", ""},
    {__LINE__, "f", "Zg=="},
    {__LINE__, "fo", "Zm8="},
    {__LINE__, "foo", "Zm9v"},
    {__LINE__, "foob", "Zm9vYg=="},
    {__LINE__, "fooba", "Zm9vYmE="},
    {__LINE__, "foobar", "Zm9vYmFy"},
};

static void test_base64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        const struct b64_case *c = &b64_cases[i];
        char text[32];
        int n = sign_base64(c->data, strlen(c->data), text, sizeof(text));
        if (n != (int)strlen(c->text) || strcmp(text, c->text) != 0)
            fail_msg("line %d: base64 '%s' gave '%s'", c->line, c->data, text);
        unsigned char back[32];
        size_t len = 99;
        if (sign_base64_decode(c->text, strlen(c->text), back, sizeof(back), &len) != 0 ||
            len != strlen(c->data) || memcmp(back, c->data, len) != 0)
            fail_msg("line %d: decoding '%s' failed", c->line, c->text);
    }
    /* Too small an output buffer. */
    char small[4];
    assert_int_equal(sign_base64("foo", 3, small, sizeof(small)), -ENOSPC);
    unsigned char out[2];
    size_t len;
    assert_int_equal(sign_base64_decode("Zm9v", 4, out, sizeof(out), &len), -ENOSPC);
}

static void test_base64_decode_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zm9", "Zm9v!", "Zm 9v", "Zm9v\n", "Z===", "=Zm9", "Zm=v", "Zm9v====", "Zg=a", "***=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[32];
        size_t len;
        if (sign_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &len) != -EINVAL)
            fail_msg("'%s' should be refused", bad[i]);
    }
}

static void test_standard_webhooks_vector(void **state)
{
    (void)state;
    char sig[SIGN_TEXT_MAX];
    struct slad_error err = {{0}};
    const char *body = "{\"test\": 2432232314}";
    assert_int_equal(sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                           strlen(body), sig, sizeof(sig), &err),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

    /* A secret without the prefix is used as bytes: HMAC(key="change-me", id.ts.body). */
    assert_int_equal(sign_standard_webhook("change-me", "t1/response/step1/r0/supervisor",
                                           1772438400, "{}", 2, sig, sizeof(sig), &err),
                     0);
    unsigned char mac[SIGN_SHA256_BYTES];
    const char *msg = "t1/response/step1/r0/supervisor.1772438400.{}";
    sign_hmac_sha256("change-me", 9, msg, strlen(msg), mac);
    char expect[SIGN_TEXT_MAX] = "v1,";
    sign_base64(mac, sizeof(mac), expect + 3, sizeof(expect) - 3);
    assert_string_equal(sig, expect);

    /* A whsec_ secret that is not base64: refused, and the message does not quote it. */
    assert_int_equal(
        sign_standard_webhook("whsec_not*base64!", "id", 1, "", 0, sig, sizeof(sig), &err),
        -EINVAL);
    assert_null(strstr(err.msg, "not*base64"));
    assert_non_null(strstr(err.msg, "whsec_"));

    /* No room. */
    char tiny[10];
    assert_int_equal(sign_standard_webhook("k", "id", 1, "", 0, tiny, sizeof(tiny), &err), -ENOSPC);
}

static void test_dingtalk_feishu_vectors(void **state)
{
    (void)state;
    char sig[SIGN_TEXT_MAX];
    assert_int_equal(sign_dingtalk("SEC0123456789abcdef", INT64_C(1700000000000), sig, sizeof(sig)),
                     0);
    assert_string_equal(sig, "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=");
    /* As it goes into the URL. */
    struct render_buf b;
    render_buf_init(&b, 256);
    render_buf_escape(&b, sig, strlen(sig), ESCAPE_URL);
    assert_string_equal(b.data, "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D");
    render_buf_done(&b);

    assert_int_equal(sign_feishu("feishu-secret", 1700000000, sig, sizeof(sig)), 0);
    assert_string_equal(sig, "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=");

    char tiny[8];
    assert_int_equal(sign_dingtalk("s", 1, tiny, sizeof(tiny)), -ENOSPC);
    assert_int_equal(sign_feishu("s", 1, tiny, sizeof(tiny)), -ENOSPC);
}

static void test_aliyun_rpc_vectors(void **state)
{
    (void)state;
    struct slad_error err = {{0}};
    struct render_buf q;

    /* Alibaba Cloud's "RPC signature" documentation example (ECS DescribeRegions). The
     * parameters are given unsorted on purpose. */
    const struct sign_param ecs[] = {
        {"Timestamp", "2016-02-23T12:46:24Z"},
        {"Format", "XML"},
        {"AccessKeyId", "testid"},
        {"Action", "DescribeRegions"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
        {"Version", "2014-05-26"},
        {"SignatureVersion", "1.0"},
    };
    render_buf_init(&q, 4096);
    assert_int_equal(sign_aliyun_rpc("testsecret", "GET", ecs, 8, &q, &err), 0);
    assert_string_equal(q.data, "AccessKeyId=testid&Action=DescribeRegions&Format=XML"
                                "&SignatureMethod=HMAC-SHA1"
                                "&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
                                "&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z"
                                "&Version=2014-05-26"
                                "&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D");
    render_buf_done(&q);

    /* The SMS documentation's SendSms example (secret "testSecret"): UTF-8 SignName and a
     * JSON TemplateParam. */
    const struct sign_param sms[] = {
        {"AccessKeyId", "testId"},
        {"Action", "SendSms"},
        {"Format", "XML"},
        {"OutId", "123"},
        {"PhoneNumbers", "15300000001"},
        {"RegionId", "cn-hangzhou"},
        {"SignName", "阿里云短信测试专用"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"},
        {"SignatureVersion", "1.0"},
        {"TemplateCode", "SMS_71390007"},
        {"TemplateParam", "{\"customer\":\"test\"}"},
        {"Timestamp", "2017-07-12T02:42:19Z"},
        {"Version", "2017-05-25"},
    };
    render_buf_init(&q, 4096);
    assert_int_equal(sign_aliyun_rpc("testSecret", "GET", sms, 14, &q, &err), 0);
    const char *sig = strstr(q.data, "&Signature=");
    assert_non_null(sig);
    assert_string_equal(sig, "&Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D");
    assert_non_null(strstr(q.data, "&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1"
                                   "%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&"));
    assert_non_null(strstr(q.data, "&TemplateParam=%7B%22customer%22%3A%22test%22%7D&"));
    render_buf_done(&q);

    /* Aliyun's percent-encoding: space %20, '*' %2A, '~' kept. */
    const struct sign_param odd[] = {{"A", "a b*c~d"}};
    render_buf_init(&q, 4096);
    assert_int_equal(sign_aliyun_rpc("k", "GET", odd, 1, &q, &err), 0);
    assert_memory_equal(q.data, "A=a%20b%2Ac~d&Signature=", 24);
    render_buf_done(&q);

    /* Too many parameters. */
    struct sign_param many[SIGN_MAX_PARAMS + 1];
    for (size_t i = 0; i < SIGN_MAX_PARAMS + 1; i++)
        many[i] = (struct sign_param){"n", "v"};
    render_buf_init(&q, 4096);
    assert_int_equal(sign_aliyun_rpc("k", "GET", many, SIGN_MAX_PARAMS + 1, &q, &err), -E2BIG);
    render_buf_done(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_vectors),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_base64_decode_refuses),
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_dingtalk_feishu_vectors),
        cmocka_unit_test(test_aliyun_rpc_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
