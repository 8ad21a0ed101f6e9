/* vendor_pagerduty.c - PagerDuty Events API v2 (/v2/enqueue, event_action trigger). */
#include "vendor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "sign.h"

/* Limits of the Events API, in bytes. */
#define PAGERDUTY_SUMMARY 1024
#define PAGERDUTY_KEY_MAX 255

/* PagerDuty severities from the ticket's (1 = most severe). */
static const char *pagerduty_severity(int severity)
{
    return severity <= 1   ? "critical"
           : severity == 2 ? "error"
           : severity == 3 ? "warning"
                           : "info";
}

static int build_pagerduty(const struct conf_channel *ch, const struct notification *n,
                           int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                           struct channel_request *r, struct slad_error *reterr)
{
    /* dedup_key has at most 255 characters: a longer key is replaced by its hash, which is
     * as stable across retries. */
    const char *key = n->idempotency_key ? n->idempotency_key : "";
    char hashed[80];
    if (strlen(key) > PAGERDUTY_KEY_MAX) {
        unsigned char md[SIGN_SHA256_BYTES];
        char hex[2 * SIGN_SHA256_BYTES + 1];
        if (sign_sha256(key, strlen(key), md) < 0)
            return slad_error_set(reterr, EIO, "cannot hash the idempotency key");
        snprintf(hashed, sizeof(hashed), "slad:%s", sign_hex(md, sizeof(md), hex, sizeof(hex)));
        key = hashed;
    }
    const struct ticket *t = n->ticket;
    json_t *details = json_pack(
        "{s:I,s:o,s:o,s:o,s:o,s:o}", "ticket_id", (json_int_t)t->id, "title",
        jsonx_string(t->title), "status", jsonx_string(ticket_status_name(t->status)), "clock",
        jsonx_string(n->clock ? n->clock->name : NULL), "step",
        n->step > 0 ? json_integer(n->step) : json_null(), "recipient", jsonx_string(n->recipient));
    json_t *payload =
        json_pack("{s:o,s:s,s:s,s:o,s:o}", "summary", vendor_cut_string(n->text, PAGERDUTY_SUMMARY),
                  "source", "slad", "severity", pagerduty_severity(t->severity), "timestamp",
                  jsonx_time(now_ms), "custom_details", details);
    if (payload && n->clock)
        json_object_set_new(payload, "component", jsonx_string(n->clock->name));
    if (payload && t->team)
        json_object_set_new(payload, "group", jsonx_string(t->team));
    if (payload && n->event)
        json_object_set_new(payload, "class", jsonx_string(n->event));
    json_t *body =
        json_pack("{s:o,s:s,s:o,s:o,s:s}", "routing_key",
                  jsonx_string(ch->routing_key ? ch->routing_key : ""), "event_action", "trigger",
                  "dedup_key", jsonx_string(key), "payload", payload, "client", "slad");
    if (body && n->link) {
        char text[48];
        snprintf(text, sizeof(text), "ticket #%" PRId64, t->id);
        json_t *links = json_pack("[{s:o,s:s}]", "href", jsonx_string(n->link), "text", text);
        if (!links || json_object_set_new(body, "links", links) < 0) {
            json_decref(body);
            body = NULL;
        }
    }
    return vendor_json_post(ch, r, body, reterr);
}

const struct vendor vendor_pagerduty = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_pagerduty,
};
