/* vendor_webhook.c - the webhook channel: slad's JSON body (SPEC 3) POSTed and signed per
 * Standard Webhooks v1 (github.com/standard-webhooks, spec 1.0.0). */
#include "vendor.h"

#include <inttypes.h>
#include <stdlib.h>

#include "jsonx.h"
#include "sign.h"

json_t *vendor_webhook_body(const struct notification *n, int64_t now_ms)
{
    json_t *followup = n->followup_name
                           ? json_pack("{s:o,s:o}", "name", jsonx_string(n->followup_name),
                                       "due_at", jsonx_time(n->followup_due_at_ms))
                           : json_null();
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "version", 1, "event",
                     jsonx_string(n->event), "idempotency_key", jsonx_string(n->idempotency_key),
                     "ticket", jsonx_ticket_render(n->ticket, n->conf, now_ms), "clock",
                     n->clock ? jsonx_clock_render(n->clock, n->calendar, now_ms) : json_null(),
                     "step", n->step > 0 ? json_integer(n->step) : json_null(), "recipient",
                     jsonx_string(n->recipient), "contact", jsonx_string(n->contact), "to",
                     jsonx_string(n->to), "text", jsonx_string(n->text), "followup", followup,
                     "link", jsonx_string(n->link), "sent_at", jsonx_time(now_ms));
}

static int build_webhook(const struct conf_channel *ch, const struct notification *n,
                         int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                         struct channel_request *r, struct slad_error *reterr)
{
    int e = vendor_json_body(r, vendor_webhook_body(n, now_ms), "", reterr);
    if (e < 0)
        return e;
    /* The id is signed as it is sent: a header value cannot hold control characters. */
    char *id, *event;
    if ((e = vendor_header_safe(n->idempotency_key, &id, reterr)) < 0)
        return e;
    if ((e = vendor_header_safe(n->event, &event, reterr)) < 0) {
        free(id);
        return e;
    }
    int64_t ts = now_ms >= 0 ? now_ms / 1000 : 0;
    r->method = "POST";
    e = vendor_copy(&r->url, ch->url, reterr);
    if (!e)
        e = vendor_add_header(r, reterr, VENDOR_CONTENT_JSON);
    if (!e)
        e = vendor_add_header(r, reterr, VENDOR_USER_AGENT);
    if (!e)
        e = vendor_add_header(r, reterr, "webhook-id: %s", id);
    if (!e)
        e = vendor_add_header(r, reterr, "webhook-timestamp: %" PRId64, ts);
    if (!e && ch->secret) {
        char sig[SIGN_TEXT_MAX];
        e = sign_standard_webhook(ch->secret, id, ts, r->body, r->body_len, sig, sizeof(sig),
                                  reterr);
        if (!e)
            e = vendor_add_header(r, reterr, "webhook-signature: %s", sig);
    }
    if (!e)
        e = vendor_add_header(r, reterr, "X-Slad-Event: %s", event);
    if (!e)
        e = vendor_add_header(r, reterr, "Idempotency-Key: %s", id);
    free(id);
    free(event);
    return e;
}

const struct vendor vendor_webhook = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_webhook,
};
