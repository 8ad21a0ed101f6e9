/* vendor_wecom.c - the WeCom group robot (qyapi.weixin.qq.com/cgi-bin/webhook/send):
 * markdown, or text with mentioned_mobile_list; errcode in the 200 body. */
#include "vendor.h"

#include "answer.h"
#include "jsonx.h"

/* Text limits, in bytes (longer text is cut at a character with "…"). */
#define WECOM_MARKDOWN_MAX 4096
#define WECOM_TEXT_MAX     2048
/* WeCom counts 20 messages a minute. */
#define WECOM_THROTTLE_MS (60 * 1000)

static int build_wecom(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                       const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                       struct slad_error *reterr)
{
    json_t *body;
    if (vendor_is_phone(n->to)) {
        /* Only text messages can @mention by mobile number. */
        body = json_pack("{s:s,s:{s:o,s:[o]}}", "msgtype", "text", "text", "content",
                         vendor_cut_string(n->text, WECOM_TEXT_MAX), "mentioned_mobile_list",
                         jsonx_string(vendor_local_mobile(n->to)));
    } else {
        body = json_pack("{s:s,s:{s:o}}", "msgtype", "markdown", "markdown", "content",
                         vendor_cut_string(n->text, WECOM_MARKDOWN_MAX));
    }
    return vendor_json_post(ch, r, body, reterr);
}

/* Markdown, unless the message @mentions a mobile number, which only a text message can. */
static enum escape text_escape(const char *to)
{
    return vendor_is_phone(to) ? ESCAPE_RAW : ESCAPE_MARKDOWN;
}

/* {"errcode":0,"errmsg":"ok"} in a 200; 45009 is the rate limit. */
static bool classify(const struct conf_channel *ch, const struct channel_response *resp,
                     struct channel_verdict *v)
{
    return answer_errcode(ch, resp, "wecom", 45009, WECOM_THROTTLE_MS, v);
}

/* The message with its link (the console's): a markdown link, or a line in a text message. */
static int build_wecom_linked(const struct conf_channel *ch, const struct notification *n,
                              int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                              struct channel_request *r, struct slad_error *reterr)
{
    return vendor_build_linked(build_wecom,
                               (vendor_is_phone(n->to) ? VENDOR_LINK_LINE : VENDOR_LINK_MARKDOWN),
                               ch, n, now_ms, nonce, r, reterr);
}

const struct vendor vendor_wecom = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_wecom_linked,
    .classify = classify,
    .text_escape = text_escape,
};
