/* vendor_dingtalk.c - the DingTalk custom robot (oapi.dingtalk.com/robot/send): a markdown
 * message, 加签 signing with a timestamp in ms; errcode in the 200 body. */
#include "vendor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "jsonx.h"
#include "sign.h"

/* DingTalk locks a robot for 10 minutes after 20 messages in a minute. */
#define DINGTALK_THROTTLE_MS (10 * 60 * 1000)

static int build_dingtalk(const struct conf_channel *ch, const struct notification *n,
                          int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                          struct channel_request *r, struct slad_error *reterr)
{
    if (ch->secret) {
        char sig[SIGN_TEXT_MAX];
        if (sign_dingtalk(ch->secret, now_ms, sig, sizeof(sig)) < 0)
            return slad_error_set(reterr, EIO, "cannot compute the DingTalk signature");
        struct render_buf b;
        render_buf_init(&b, RENDER_MAX_BYTES);
        render_buf_puts(&b, ch->url);
        render_buf_printf(&b, "%stimestamp=%" PRId64 "&sign=", strchr(ch->url, '?') ? "&" : "?",
                          now_ms);
        render_buf_escape(&b, sig, strlen(sig), ESCAPE_URL);
        int e = render_buf_take(&b, "the robot URL", &r->url, NULL, reterr);
        if (e < 0)
            return e;
    }
    /* A markdown message only notifies the people it @mentions in its text. */
    bool mention = vendor_is_phone(n->to);
    const char *mobile = mention ? vendor_local_mobile(n->to) : NULL;
    json_t *text;
    if (mention) {
        size_t len = strlen(n->text) + strlen(mobile) + 4;
        char *t = malloc(len);
        if (!t)
            return slad_error_set(reterr, ENOMEM, "out of memory");
        snprintf(t, len, "%s\n\n@%s", n->text, mobile);
        text = jsonx_string(t);
        free(t);
    } else {
        text = jsonx_string(n->text);
    }
    const char *title = n->subject && *n->subject ? n->subject : n->event ? n->event : "slad";
    json_t *body = json_pack("{s:s,s:{s:o,s:o}}", "msgtype", "markdown", "markdown", "title",
                             jsonx_string(title), "text", text);
    if (body && mention) {
        json_t *at = json_pack("{s:[o],s:b}", "atMobiles", jsonx_string(mobile), "isAtAll", 0);
        if (!at || json_object_set_new(body, "at", at) < 0) {
            json_decref(body);
            body = NULL;
        }
    }
    return vendor_json_post(ch, r, body, reterr);
}

/* A markdown message: values in its text are escaped as markdown (render_message). */
static enum escape text_escape(const char *to)
{
    return ESCAPE_MARKDOWN;
}

/* {"errcode":0,"errmsg":"ok"} in a 200; 130101 is "send too fast". */
static bool classify(const struct conf_channel *ch, const struct channel_response *resp,
                     struct channel_verdict *v)
{
    return answer_errcode(ch, resp, "dingtalk", 130101, DINGTALK_THROTTLE_MS, v);
}

/* The message with its link (the console's): a markdown link. */
static int build_dingtalk_linked(const struct conf_channel *ch, const struct notification *n,
                                 int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                                 struct channel_request *r, struct slad_error *reterr)
{
    return vendor_build_linked(build_dingtalk, VENDOR_LINK_MARKDOWN, ch, n, now_ms, nonce, r,
                               reterr);
}

const struct vendor vendor_dingtalk = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_dingtalk_linked,
    .classify = classify,
    .text_escape = text_escape,
};
