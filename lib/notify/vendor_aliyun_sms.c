/* vendor_aliyun_sms.c - Alibaba Cloud SMS, dysmsapi 2017-05-25 SendSms with the RPC
 * signature V1; Code in the answer, with a 200 or a 4xx. */
#include "vendor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "jsonx.h"
#include "sign.h"

/* Alibaba's flow control counts minutes. */
#define ALIYUN_THROTTLE_MS (60 * 1000)

static int build_aliyun_sms(const struct conf_channel *ch, const struct notification *n,
                            int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                            struct channel_request *r, struct slad_error *reterr)
{
    int e = vendor_need_phone(n, reterr);
    if (e < 0)
        return e;
    /* A UUID (version 4 layout) from the attempt's random bytes. */
    uint8_t u[CHANNEL_NONCE_BYTES];
    memcpy(u, nonce, sizeof(u));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char uuid[40], hex[33];
    sign_hex(u, sizeof(u), hex, sizeof(hex));
    snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    struct tm tm;
    vendor_utc_fields(now_ms, &tm);
    char stamp[64];
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    /* The approved template takes the message as its ${text} variable. */
    json_t *tp = json_pack("{s:o}", "text", jsonx_string(n->text));
    char *param = tp ? jsonx_dump(tp, NULL) : NULL;
    json_decref(tp);
    if (!param)
        return slad_error_set(reterr, ENOMEM, "out of memory");

    const struct sign_param params[] = {
        {"AccessKeyId", ch->access_key_id ? ch->access_key_id : ""},
        {"Action", "SendSms"},
        {"Format", "JSON"},
        {"PhoneNumbers", vendor_local_mobile(n->to)},
        {"RegionId", "cn-hangzhou"},
        {"SignName", ch->sign_name ? ch->sign_name : ""},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", uuid},
        {"SignatureVersion", "1.0"},
        {"TemplateCode", ch->template_code ? ch->template_code : ""},
        {"TemplateParam", param},
        {"Timestamp", stamp},
        {"Version", "2017-05-25"},
    };
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES * 4);
    render_buf_puts(&b, ch->url);
    render_buf_puts(&b, strchr(ch->url, '?') ? "&" : "?");
    e = sign_aliyun_rpc(ch->access_key_secret ? ch->access_key_secret : "", "GET", params,
                        sizeof(params) / sizeof(params[0]), &b, reterr);
    free(param);
    if (e < 0) {
        render_buf_done(&b);
        return e;
    }
    if ((e = render_buf_take(&b, "the SMS request URL", &r->url, NULL, reterr)) < 0)
        return e;
    r->method = "GET";
    return vendor_add_header(r, reterr, VENDOR_USER_AGENT);
}

/* Alibaba Cloud: {"Code":"OK",...}; errors may come with 200 or 4xx. */
static bool classify(const struct conf_channel *ch, const struct channel_response *resp,
                     struct channel_verdict *v)
{
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "Code") : NULL;
    if (!json_is_string(code)) {
        json_decref(o);
        if (!answer_2xx(resp->status))
            return false;
        answer_verdict(v, ch, RETRY_DEAD, -1, "aliyun_sms: HTTP %ld without a Code", resp->status);
        return true;
    }
    char c[80], msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, "Code", c, sizeof(c));
    answer_text(ch, o, "Message", msg, sizeof(msg));
    json_decref(o);
    if (strcmp(c, "OK") == 0 && answer_2xx(resp->status)) {
        answer_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    bool throttled =
        strcmp(c, "isv.BUSINESS_LIMIT_CONTROL") == 0 || strncmp(c, "Throttling", 10) == 0;
    bool busy = strcmp(c, "ServiceUnavailable") == 0 || strcmp(c, "InternalError") == 0 ||
                resp->status >= 500;
    answer_verdict(v, ch, throttled || busy ? RETRY_AGAIN : RETRY_DEAD,
                   throttled ? ALIYUN_THROTTLE_MS : -1, "aliyun_sms Code %s: %s", c, msg);
    return true;
}

/* The message with its link (the console's): after the text, short. */
static int build_aliyun_sms_linked(const struct conf_channel *ch, const struct notification *n,
                                   int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                                   struct channel_request *r, struct slad_error *reterr)
{
    return vendor_build_linked(build_aliyun_sms, VENDOR_LINK_SHORT, ch, n, now_ms, nonce, r,
                               reterr);
}

const struct vendor vendor_aliyun_sms = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_aliyun_sms_linked,
    .classify = classify,
};
