/* sign.h - the signatures outbound requests carry: HMAC, base64, and the schemes of the
 * Standard Webhooks specification v1, DingTalk and Feishu robots, and Alibaba Cloud's RPC
 * API (signature version 1.0).
 *
 * OpenSSL does the cryptography (one-shot HMAC(), EVP_EncodeBlock/EVP_DecodeBlock). Key
 * material copied here is wiped with explicit_bzero before it is released. Outputs go
 * into caller buffers; a buffer that is too small gives -ENOSPC. */
#ifndef SLAD_SIGN_H
#define SLAD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "render.h"

#define SIGN_SHA256_BYTES 32
#define SIGN_SHA1_BYTES   20
/* Bytes of base64 text (with padding and NUL) for n bytes of data. */
#define SIGN_BASE64_SIZE(n) ((((n) + 2) / 3) * 4 + 1)
/* Room for any signature text below ("v1," + base64 of 32 bytes, NUL included). */
#define SIGN_TEXT_MAX 64

/* HMAC of msg under key into out; 0 or -EIO when OpenSSL fails. An empty key is allowed. */
int sign_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[SIGN_SHA256_BYTES]);
int sign_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                   unsigned char out[SIGN_SHA1_BYTES]);

/* SHA-256 of data into out; 0 or -EIO. */
int sign_sha256(const void *data, size_t len, unsigned char out[SIGN_SHA256_BYTES]);

/* Standard base64 with padding into out (size >= SIGN_BASE64_SIZE(len)); returns the
 * text's length or -ENOSPC. */
int sign_base64(const void *data, size_t len, char *out, size_t size);
/* Decode padded standard base64 text[0..len) into out; *ret_len gets the byte count.
 * -EINVAL for text that is not base64 (bad characters, length not a multiple of 4,
 * misplaced padding), -ENOSPC when out is too small. */
int sign_base64_decode(const char *text, size_t len, unsigned char *out, size_t size,
                       size_t *ret_len);
/* Lower-case hex of data into out (size >= 2 * len + 1); returns buf. */
char *sign_hex(const void *data, size_t len, char *out, size_t size);

/* Standard Webhooks v1: "v1," + base64(HMAC-SHA256(key, msg_id "." timestamp_s "." body)).
 * The key is the base64-decoded part after "whsec_" when secret starts with it, else the
 * secret's bytes (webhook_key.h). -EINVAL (with a message that does not quote the secret)
 * when a whsec_ secret is not base64 of a key slad takes. */
int sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp_s,
                          const void *body, size_t body_len, char *out, size_t size,
                          struct slad_error *reterr);

/* DingTalk robot: base64(HMAC-SHA256(key = secret, msg = timestamp_ms "\n" secret)), not
 * yet URL-encoded (the URL gets timestamp=..&sign=<percent-encoded>). */
int sign_dingtalk(const char *secret, int64_t timestamp_ms, char *out, size_t size);

/* Feishu/Lark bot: base64(HMAC-SHA256(key = timestamp_s "\n" secret, msg = "")). */
int sign_feishu(const char *secret, int64_t timestamp_s, char *out, size_t size);

/* One query parameter of an Alibaba Cloud RPC call. */
struct sign_param {
    const char *name, *value;
};

/* Alibaba Cloud RPC signature V1 (HMAC-SHA1): sort params by name (byte order),
 * percent-encode names and values (RFC 3986: all but A-Z a-z 0-9 - _ . ~, so space is
 * %20, '*' %2A), join as the canonical query; StringToSign = method "&%2F&"
 * percentEncode(canonical); Signature = base64(HMAC-SHA1(access_key_secret "&",
 * StringToSign)). Appends "canonical&Signature=<percent-encoded>" to query. At most
 * SIGN_MAX_PARAMS params. */
#define SIGN_MAX_PARAMS 32
int sign_aliyun_rpc(const char *access_key_secret, const char *method,
                    const struct sign_param *params, size_t n, struct render_buf *query,
                    struct slad_error *reterr);

#endif
