/* vendor_feishu.c - the Feishu/Lark custom bot v2 (open-apis/bot/v2/hook): msg_type text
 * (interactive, a card with a button, when the message has a link), signing with a
 * timestamp in s; code in the body. */
#include "vendor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "answer.h"
#include "jsonx.h"
#include "sign.h"

/* A message with a link is a card: the text, then a button that opens the link. */
static json_t *card_body(const struct notification *n)
{
    return json_pack("{s:s,s:{s:{s:b},s:[{s:s,s:{s:s,s:o}},{s:s,s:[{s:s,s:{s:s,s:s},s:s,s:o}]}]}}",
                     "msg_type", "interactive", "card", "config", "wide_screen_mode", 1, "elements",
                     "tag", "div", "text", "tag", "plain_text", "content", jsonx_string(n->text),
                     "tag", "action", "actions", "tag", "button", "text", "tag", "plain_text",
                     "content", vendor_link_label(n), "type", "primary", "url",
                     jsonx_string(n->link));
}

static int build_feishu(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                        const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                        struct slad_error *reterr)
{
    json_t *body = n->link && *n->link ? card_body(n)
                                       : json_pack("{s:s,s:{s:o}}", "msg_type", "text", "content",
                                                   "text", jsonx_string(n->text));
    if (body && ch->secret) {
        int64_t ts = now_ms >= 0 ? now_ms / 1000 : 0;
        char sig[SIGN_TEXT_MAX], tstext[24];
        if (sign_feishu(ch->secret, ts, sig, sizeof(sig)) < 0) {
            json_decref(body);
            return slad_error_set(reterr, EIO, "cannot compute the Feishu signature");
        }
        snprintf(tstext, sizeof(tstext), "%" PRId64, ts);
        /* timestamp and sign first, as Feishu's documentation writes them. */
        json_t *signed_body = json_pack("{s:s,s:s}", "timestamp", tstext, "sign", sig);
        if (!signed_body || json_object_update(signed_body, body) < 0) {
            json_decref(signed_body);
            signed_body = NULL;
        }
        json_decref(body);
        body = signed_body;
    }
    return vendor_json_post(ch, r, body, reterr);
}

/* Feishu: {"code":0,"msg":"success"} (older: {"StatusCode":0,...}). */
static bool classify(const struct conf_channel *ch, const struct channel_response *resp,
                     struct channel_verdict *v)
{
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "code") : NULL;
    if (!json_is_integer(code) && o)
        code = json_object_get(o, "StatusCode");
    if (!json_is_integer(code)) {
        json_decref(o);
        if (!answer_2xx(resp->status))
            return false;
        answer_verdict(v, ch, RETRY_DEAD, -1,
                       "feishu: HTTP %ld without a code: is the url a Feishu bot?", resp->status);
        return true;
    }
    json_int_t c = json_integer_value(code);
    char msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, json_object_get(o, "msg") ? "msg" : "StatusMessage", msg, sizeof(msg));
    json_decref(o);
    if (c == 0 && answer_2xx(resp->status)) {
        answer_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    if (c == 0)
        return false;
    /* 11232: frequency limited. */
    bool again = c == 11232 || resp->status == 429 || resp->status >= 500;
    answer_verdict(v, ch, again ? RETRY_AGAIN : RETRY_DEAD, -1,
                   "feishu code %" JSON_INTEGER_FORMAT ": %s", c, msg);
    return true;
}

const struct vendor vendor_feishu = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_feishu,
    .classify = classify,
};
