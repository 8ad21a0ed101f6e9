/* channel.c - one table of vendors (vendor.h), one file each, behind the interface the
 * delivery loop uses (channel.h): build an attempt's request, read its answer.
 *
 * Vendor API versions followed (doc/CHANNELS.md has a config example and the request of
 * each; the vendor's file names it too):
 *   webhook     slad's JSON body (SPEC 3), signed per Standard Webhooks v1
 *   slack       Slack incoming webhooks
 *   dingtalk    DingTalk custom robot, 加签 signing
 *   wecom       WeCom group robot
 *   feishu      Feishu/Lark custom bot v2, signed
 *   pagerduty   PagerDuty Events API v2
 *   sms         any HTTP SMS gateway from method, URL, header and body templates
 *   aliyun_sms  Alibaba Cloud SMS dysmsapi 2017-05-25 SendSms, RPC signature V1
 *   email       SMTP (RFC 5322, MIME RFC 2045, encoded-word RFC 2047)
 *   file        a JSON line (the webhook body) appended to a file */
#include "channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "vendor.h"

static const struct vendor *const vendors[] = {
    [CHANNEL_WEBHOOK] = &vendor_webhook,   [CHANNEL_SLACK] = &vendor_slack,
    [CHANNEL_DINGTALK] = &vendor_dingtalk, [CHANNEL_WECOM] = &vendor_wecom,
    [CHANNEL_FEISHU] = &vendor_feishu,     [CHANNEL_PAGERDUTY] = &vendor_pagerduty,
    [CHANNEL_SMS] = &vendor_sms,           [CHANNEL_ALIYUN_SMS] = &vendor_aliyun_sms,
    [CHANNEL_EMAIL] = &vendor_email,       [CHANNEL_FILE] = &vendor_file,
};

/* The vendor of type, or NULL for a type slad does not know. */
static const struct vendor *vendor_of(enum channel_type type)
{
    return (unsigned)type < sizeof(vendors) / sizeof(vendors[0]) ? vendors[type] : NULL;
}

enum escape channel_text_escape(const struct conf_channel *ch, const char *to)
{
    const struct vendor *v = vendor_of(ch->type);
    return v && v->text_escape ? v->text_escape(to) : ESCAPE_RAW;
}

int channel_build(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                  const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *ret,
                  struct slad_error *reterr)
{
    struct channel_request r = {.transport = CHANNEL_TRANSPORT_HTTP};
    const struct vendor *v = vendor_of(ch->type);
    int e;
    if (!n->text)
        e = slad_error_set(reterr, EINVAL, "notification has no text");
    else if (!n->ticket)
        e = slad_error_set(reterr, EINVAL, "notification has no ticket");
    else if (ch->type != CHANNEL_FILE && !ch->url)
        e = slad_error_set(reterr, EINVAL, "no url");
    else if (ch->type == CHANNEL_FILE && !ch->path)
        e = slad_error_set(reterr, EINVAL, "no path");
    else if (!v)
        e = slad_error_set(reterr, EINVAL, "unknown channel type %d", (int)ch->type);
    else {
        r.transport = v->transport;
        e = v->build(ch, n, now_ms, nonce, &r, reterr);
    }
    if (e < 0) {
        slad_error_prefix(reterr, "channel '%s': ", ch->name);
        channel_request_done(&r);
        return e;
    }
    *ret = r;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void channel_request_done(struct channel_request *r)
{
    wipe_free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        wipe_free(r->headers[i]);
    if (r->body) {
        explicit_bzero(r->body, r->body_len);
        free(r->body);
    }
    wipe_free(r->username);
    wipe_free(r->password);
    free(r->mail_from);
    for (size_t i = 0; i < r->n_rcpt; i++)
        free(r->rcpt_to[i]);
    free(r->path);
    *r = (struct channel_request){.transport = CHANNEL_TRANSPORT_HTTP};
}

void channel_classify(const struct conf_channel *ch, const struct channel_response *resp,
                      int64_t now_ms, struct channel_verdict *ret)
{
    const struct vendor *v = vendor_of(ch->type);
    if (answer_transfer(ch, v ? v->transport : CHANNEL_TRANSPORT_HTTP, resp, ret))
        return;
    if (v && v->classify && v->classify(ch, resp, ret))
        return;
    answer_status(ch, resp, now_ms, ret);
}
