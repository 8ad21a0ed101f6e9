/* vendor_slack.c - Slack incoming webhooks: {"text"} (with blocks: the text and a button,
 * when the message has a link); 200 "ok", errors as plain-text
 * bodies (read by their HTTP status). */
#include "vendor.h"

#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

static int build_slack(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                       const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                       struct slad_error *reterr)
{
    /* Slack reads &, < and > as markup in message text. */
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES * 2);
    render_buf_escape(&b, n->text, strlen(n->text), ESCAPE_SLACK);
    char *text;
    int e = render_buf_take(&b, "the message text", &text, NULL, reterr);
    if (e < 0)
        return e;
    json_t *body;
    if (n->link && *n->link) {
        /* The text (also the notification's fallback), and a button that opens the link. */
        body = json_pack("{s:o,s:[{s:s,s:{s:s,s:o}},{s:s,s:[{s:s,s:{s:s,s:s},s:o}]}]}", "text",
                         jsonx_string(text), "blocks", "type", "section", "text", "type", "mrkdwn",
                         "text", jsonx_string(text), "type", "actions", "elements", "type",
                         "button", "text", "type", "plain_text", "text", vendor_link_label(n),
                         "url", jsonx_string(n->link));
    } else {
        body = json_pack("{s:o}", "text", jsonx_string(text));
    }
    free(text);
    return vendor_json_post(ch, r, body, reterr);
}

const struct vendor vendor_slack = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_slack,
};
