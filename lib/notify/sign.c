/* sign.c - HMAC, base64 and the vendor signature schemes (sign.h).
 *
 * Vectors the unit tests check: Standard Webhooks (SPEC 3), DingTalk and Feishu
 * (reference/ecosystem.md 4.1), and Alibaba Cloud's two published RPC V1 examples
 * (DescribeRegions with "testsecret", and the SMS documentation's SendSms with
 * "testSecret"). */
#include "sign.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <pthread.h>

#include "base64.h"
#include "webhook_key.h"

/* Room for the decoded key: base64 decodes in whole groups of 3 bytes. */
#define WEBHOOK_KEY_BUF ((WEBHOOK_KEY_MAX_BYTES + 2) / 3 * 3)

/* HMAC() looks the MAC and the digest up by name in OpenSSL's provider tables on every
 * call (EVP_Q_mac): 70 % of a webhook's signing, 3.8 % of a delivery's CPU. A context with
 * the digest set is made once per digest, and each signature starts from a copy of it. */
struct hmac_template {
    pthread_once_t once;
    const char *digest;
    EVP_MAC_CTX *ctx; /* NULL when it could not be made: HMAC() then */
};

static struct hmac_template hmac_sha256_template = {PTHREAD_ONCE_INIT, "SHA256", NULL};
static struct hmac_template hmac_sha1_template = {PTHREAD_ONCE_INIT, "SHA1", NULL};

static void template_make(struct hmac_template *t)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context keeps its own reference */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)t->digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    t->ctx = ctx;
}

static void template_sha256(void)
{
    template_make(&hmac_sha256_template);
}

static void template_sha1(void)
{
    template_make(&hmac_sha1_template);
}

/* The HMAC of msg from a copy of t's context; 1 when it could not (then HMAC() is used). */
static int hmac_from_template(const struct hmac_template *t, const void *key, size_t key_len,
                              const void *msg, size_t msg_len, unsigned char *out,
                              unsigned expect_len)
{
    /* An empty key is HMAC()'s to handle: EVP_MAC_init takes no key of length 0. */
    if (!t->ctx || key_len == 0)
        return 1;
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(t->ctx);
    size_t len = 0;
    int ok = c && EVP_MAC_init(c, key, key_len, NULL) &&
             EVP_MAC_update(c, msg_len ? msg : (const void *)"", msg_len) &&
             EVP_MAC_final(c, out, &len, expect_len);
    EVP_MAC_CTX_free(c);
    return ok && len == expect_len ? 0 : -EIO;
}

static int hmac(const EVP_MD *md, const void *key, size_t key_len, const void *msg, size_t msg_len,
                unsigned char *out, unsigned expect_len)
{
    static const unsigned char empty[1];
    if (key_len > INT_MAX)
        return -EINVAL;
    unsigned len = 0;
    /* OpenSSL wants non-NULL pointers even for empty keys and messages. */
    if (!HMAC(md, key_len ? key : empty, (int)key_len, msg_len ? msg : empty, msg_len, out, &len) ||
        len != expect_len)
        return -EIO;
    return 0;
}

int sign_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[SIGN_SHA256_BYTES])
{
    pthread_once(&hmac_sha256_template.once, template_sha256);
    int r = hmac_from_template(&hmac_sha256_template, key, key_len, msg, msg_len, out,
                               SIGN_SHA256_BYTES);
    return r <= 0 ? r : hmac(EVP_sha256(), key, key_len, msg, msg_len, out, SIGN_SHA256_BYTES);
}

int sign_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                   unsigned char out[SIGN_SHA1_BYTES])
{
    pthread_once(&hmac_sha1_template.once, template_sha1);
    int r =
        hmac_from_template(&hmac_sha1_template, key, key_len, msg, msg_len, out, SIGN_SHA1_BYTES);
    return r <= 0 ? r : hmac(EVP_sha1(), key, key_len, msg, msg_len, out, SIGN_SHA1_BYTES);
}

int sign_sha256(const void *data, size_t len, unsigned char out[SIGN_SHA256_BYTES])
{
    unsigned n = 0;
    if (!EVP_Digest(len ? data : "", len, out, &n, EVP_sha256(), NULL) || n != SIGN_SHA256_BYTES)
        return -EIO;
    return 0;
}

int sign_base64(const void *data, size_t len, char *out, size_t size)
{
    if (len > (size_t)INT_MAX / 2 || size < SIGN_BASE64_SIZE(len))
        return -ENOSPC;
    return EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

int sign_base64_decode(const char *text, size_t len, unsigned char *out, size_t size,
                       size_t *ret_len)
{
    /* EVP_DecodeBlock skips blanks and does not report padding, so check the text first. */
    int bytes = base64_decoded_len(text, len);
    if (bytes < 0)
        return bytes;
    /* EVP_DecodeBlock writes whole groups of 3 bytes. */
    if (size < len / 4 * 3)
        return -ENOSPC;
    if (len == 0) {
        *ret_len = 0;
        return 0;
    }
    if (EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) < 0)
        return -EINVAL;
    *ret_len = (size_t)bytes;
    return 0;
}

char *sign_hex(const void *data, size_t len, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t i = 0;
    for (; i < len && 2 * i + 2 < size; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    if (size)
        out[2 * i < size ? 2 * i : size - 1] = '\0';
    return out;
}

/* base64 of an HMAC-SHA256 into out, with prefix. */
static int put_b64(const char *prefix, const unsigned char *mac, size_t mac_len, char *out,
                   size_t size)
{
    size_t plen = strlen(prefix);
    if (size < plen + SIGN_BASE64_SIZE(mac_len))
        return -ENOSPC;
    memcpy(out, prefix, plen);
    int n = sign_base64(mac, mac_len, out + plen, size - plen);
    return n < 0 ? n : (int)plen + n;
}

/* The HMAC key of a Standard Webhooks secret (webhook_key.h): *key points at secret or into
 * key_buf. */
static int webhook_key(const char *secret, unsigned char key_buf[WEBHOOK_KEY_BUF], const void **key,
                       size_t *key_len, struct slad_error *reterr)
{
    int n = webhook_key_bytes(secret, reterr);
    if (n < 0)
        return n;
    const char *b64 = webhook_key_base64(secret);
    *key = b64 ? (const void *)key_buf : (const void *)secret;
    *key_len = (size_t)n;
    if (b64 && sign_base64_decode(b64, strlen(b64), key_buf, WEBHOOK_KEY_BUF, key_len) < 0) {
        explicit_bzero(key_buf, WEBHOOK_KEY_BUF);
        return slad_error_set(reterr, EIO, "cannot decode the webhook key");
    }
    return 0;
}

int sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp_s,
                          const void *body, size_t body_len, char *out, size_t size,
                          struct slad_error *reterr)
{
    unsigned char key_buf[WEBHOOK_KEY_BUF];
    const void *key;
    size_t key_len;
    int r = webhook_key(secret, key_buf, &key, &key_len, reterr);
    if (r < 0)
        return r;
    struct render_buf msg;
    render_buf_init(&msg, (size_t)16 << 20);
    render_buf_printf(&msg, "%s.%" PRId64 ".", msg_id, timestamp_s);
    render_buf_add(&msg, body, body_len);
    unsigned char mac[SIGN_SHA256_BYTES];
    r = msg.err ? msg.err : sign_hmac_sha256(key, key_len, msg.data, msg.len, mac);
    render_buf_done(&msg);
    explicit_bzero(key_buf, sizeof(key_buf));
    if (r < 0)
        return slad_error_set(reterr, -r, "cannot compute the webhook signature");
    r = put_b64("v1,", mac, sizeof(mac), out, size);
    if (r < 0)
        return slad_error_set(reterr, -r, "no room for the webhook signature");
    return 0;
}

int sign_dingtalk(const char *secret, int64_t timestamp_ms, char *out, size_t size)
{
    struct render_buf msg;
    render_buf_init(&msg, 4096 + strlen(secret));
    render_buf_printf(&msg, "%" PRId64 "\n%s", timestamp_ms, secret);
    unsigned char mac[SIGN_SHA256_BYTES];
    int r = msg.err ? msg.err : sign_hmac_sha256(secret, strlen(secret), msg.data, msg.len, mac);
    render_buf_done(&msg);
    return r < 0 ? r : put_b64("", mac, sizeof(mac), out, size) < 0 ? -ENOSPC : 0;
}

int sign_feishu(const char *secret, int64_t timestamp_s, char *out, size_t size)
{
    struct render_buf key;
    render_buf_init(&key, 4096 + strlen(secret));
    render_buf_printf(&key, "%" PRId64 "\n%s", timestamp_s, secret);
    unsigned char mac[SIGN_SHA256_BYTES];
    int r = key.err ? key.err : sign_hmac_sha256(key.data, key.len, "", 0, mac);
    render_buf_done(&key);
    return r < 0 ? r : put_b64("", mac, sizeof(mac), out, size) < 0 ? -ENOSPC : 0;
}

static int param_cmp(const void *a, const void *b)
{
    const struct sign_param *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int sign_aliyun_rpc(const char *access_key_secret, const char *method,
                    const struct sign_param *params, size_t n, struct render_buf *query,
                    struct slad_error *reterr)
{
    if (n > SIGN_MAX_PARAMS)
        return slad_error_set(reterr, E2BIG, "too many parameters to sign (%zu)", n);
    struct sign_param sorted[SIGN_MAX_PARAMS];
    memcpy(sorted, params, n * sizeof(*params));
    qsort(sorted, n, sizeof(*sorted), param_cmp);

    struct render_buf canon;
    render_buf_init(&canon, RENDER_MAX_BYTES);
    for (size_t i = 0; i < n; i++) {
        if (i)
            render_buf_add(&canon, "&", 1);
        render_buf_escape(&canon, sorted[i].name, strlen(sorted[i].name), ESCAPE_URL);
        render_buf_add(&canon, "=", 1);
        render_buf_escape(&canon, sorted[i].value, strlen(sorted[i].value), ESCAPE_URL);
    }
    struct render_buf sts, key;
    render_buf_init(&sts, 3 * RENDER_MAX_BYTES + 64);
    render_buf_init(&key, 4096 + strlen(access_key_secret));
    render_buf_puts(&sts, method);
    render_buf_puts(&sts, "&%2F&");
    if (canon.data)
        render_buf_escape(&sts, canon.data, canon.len, ESCAPE_URL);
    render_buf_printf(&key, "%s&", access_key_secret);

    unsigned char mac[SIGN_SHA1_BYTES];
    char b64[SIGN_BASE64_SIZE(SIGN_SHA1_BYTES)];
    int r = canon.err ? canon.err : sts.err ? sts.err : key.err;
    if (!r)
        r = sign_hmac_sha1(key.data, key.len, sts.data, sts.len, mac);
    if (!r)
        r = sign_base64(mac, sizeof(mac), b64, sizeof(b64)) < 0 ? -ENOSPC : 0;
    if (!r) {
        render_buf_add(query, canon.data, canon.len);
        render_buf_puts(query, "&Signature=");
        render_buf_escape(query, b64, strlen(b64), ESCAPE_URL);
        r = query->err;
    }
    render_buf_done(&canon);
    render_buf_done(&sts);
    render_buf_done(&key);
    if (r < 0)
        return slad_error_set(reterr, -r, "cannot sign the Alibaba Cloud request");
    return 0;
}
