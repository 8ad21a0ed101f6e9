/* vendor.h - one channel type's operations, as curl's protocol handlers: how its request
 * is built and, where the vendor reports errors its own way, what its answer means.
 * channel.c keeps the table (one entry per enum channel_type); each vendor is one file,
 * vendor_<type>.c, that exports its entry. doc/CHANNELS.md shows each vendor's request.
 *
 * The rest of this header is what the vendors' requests share (vendor.c). Not for use
 * outside lib/notify. */
#ifndef SLAD_VENDOR_H
#define SLAD_VENDOR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "channel.h"
#include "render.h"

#ifndef SLAD_VERSION
#define SLAD_VERSION "0"
#endif

#define VENDOR_USER_AGENT   "User-Agent: slad/" SLAD_VERSION
#define VENDOR_CONTENT_JSON "Content-Type: application/json; charset=utf-8"

struct vendor {
    enum channel_transport transport; /* set in the request before build runs */
    /* Fill r (zeroed but for its transport) with the request of n on ch at now_ms; nonce
     * is the attempt's random bytes. 0, or -errno with reterr (channel_build's errors;
     * channel_build prefixes the channel's name and frees what r holds). */
    int (*build)(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                 const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                 struct slad_error *reterr);
    /* Read an answer that completed (CHANNEL_XFER_OK) where the vendor says more than its
     * status: true when it decided *v, false to leave it to the status (answer.h). NULL:
     * the status alone decides. */
    bool (*classify)(const struct conf_channel *ch, const struct channel_response *resp,
                     struct channel_verdict *v);
    /* The escape of values in the message text to address to (channel_text_escape); NULL:
     * ESCAPE_RAW. */
    enum escape (*text_escape)(const char *to);
};

extern const struct vendor vendor_webhook, vendor_slack, vendor_dingtalk, vendor_wecom,
    vendor_feishu, vendor_pagerduty, vendor_sms, vendor_aliyun_sms, vendor_email, vendor_file;

/* ---- request parts (vendor.c) ---- */

/* Append a header line; -EMSGSIZE past CHANNEL_MAX_HEADERS, -ENOMEM. */
int vendor_add_header(struct channel_request *r, struct slad_error *reterr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append the text of b as a header line (b is emptied). */
int vendor_take_header(struct channel_request *r, struct render_buf *b, struct slad_error *reterr);
/* v (taken; NULL: out of memory) serialised, then suffix, as the body; -EMSGSIZE past
 * CHANNEL_BODY_MAX. */
int vendor_json_body(struct channel_request *r, json_t *v, const char *suffix,
                     struct slad_error *reterr);
/* The text of b as the body (b is emptied). */
int vendor_buf_body(struct channel_request *r, struct render_buf *b, struct slad_error *reterr);
/* A POST of body (taken) as JSON to the channel's url (unless r has one already), with
 * the Content-Type and User-Agent lines. */
int vendor_json_post(const struct conf_channel *ch, struct channel_request *r, json_t *body,
                     struct slad_error *reterr);
/* *dst = a copy of src; nothing for NULL. */
int vendor_copy(char **dst, const char *src, struct slad_error *reterr);
/* s fit for a header value (control characters as spaces), in a new string. */
int vendor_header_safe(const char *s, char **ret, struct slad_error *reterr);
/* s (NULL: "") as a JSON string cut to at most max bytes at a character boundary, "…"
 * marking a cut; NULL when out of memory. */
json_t *vendor_cut_string(const char *s, size_t max);

/* A mobile number as Chinese robots and Alibaba want it: no "+86", no "+". */
const char *vendor_local_mobile(const char *phone);
/* Whether s is a phone number: an optional '+' and 3 to 20 digits. */
bool vendor_is_phone(const char *s);
/* The recipient as written, for messages. */
const char *vendor_recipient_name(const struct notification *n);
/* -EINVAL unless n has an address (a phone number for the SMS channels). */
int vendor_need_phone(const struct notification *n, struct slad_error *reterr);
/* at_ms as UTC broken down, without the process's locale or time zone. */
void vendor_utc_fields(int64_t at_ms, struct tm *tm);

/* How a message's text carries its link (the console's action link, render.h's link). */
enum vendor_link_style {
    VENDOR_LINK_SHORT,    /* SMS: " URL" after the text */
    VENDOR_LINK_LINE,     /* plain text: a paragraph "LABEL: URL" */
    VENDOR_LINK_MARKDOWN, /* a paragraph "[LABEL](URL)" */
};
/* n->text with n->link after it in style (a copy of the text when n has no link);
 * malloc'd, NULL when out of memory. */
char *vendor_text_with_link(const struct notification *n, enum vendor_link_style style);
/* build(ch, n', ...) where n' is n with its link in its text (vendor_text_with_link). */
typedef int vendor_build_fn(const struct conf_channel *ch, const struct notification *n,
                            int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                            struct channel_request *r, struct slad_error *reterr);
int vendor_build_linked(vendor_build_fn *build, enum vendor_link_style style,
                        const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                        const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                        struct slad_error *reterr);
/* The words of n's link in the daemon's language: "确认或接单" / "Acknowledge or take it" for
 * an action link (/a/CODE), "查看工单" / "Open the ticket" for the console's page. */
const char *vendor_link_label(const struct notification *n);

/* The webhook body of SPEC 3 for n at now_ms (vendor_webhook.c), which the file channel
 * writes too; NULL when out of memory. */
json_t *vendor_webhook_body(const struct notification *n, int64_t now_ms);

#endif
