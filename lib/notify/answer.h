/* answer.h - what the answer to one attempt means (channel_classify): the rules every
 * channel shares, and what vendors that answer their own way read it with (vendor.h).
 *
 * Shared rules (SPEC 3): a transfer that timed out or failed on the network retries (an
 * SMTP 5xx reply is dead), one that can never work is dead; a completed SMTP or file
 * transfer is sent; an HTTP 2xx is sent, 408, 429 and 5xx retry (Retry-After honoured on
 * 429 and 503), a redirect and any other status are dead. Every text quoted in a reason
 * is scrubbed of the channel's secrets (redact.h) before it is cut. Not for use outside
 * lib/notify. */
#ifndef SLAD_ANSWER_H
#define SLAD_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "channel.h"

/* How much of an answer is read for error codes, and quoted in a reason. */
#define ANSWER_PARSE_MAX 65536
#define ANSWER_QUOTE_MAX 160

/* The verdict on an attempt whose transfer did not complete (resp->xfer is not
 * CHANNEL_XFER_OK), or that completed on a transport other than HTTP: true when it decided
 * *v. */
bool answer_transfer(const struct conf_channel *ch, enum channel_transport transport,
                     const struct channel_response *resp, struct channel_verdict *v);

/* The verdict on a completed HTTP exchange by its status (and Retry-After at now_ms). */
void answer_status(const struct conf_channel *ch, const struct channel_response *resp,
                   int64_t now_ms, struct channel_verdict *v);

/* Set *v: outcome, the wait the server asked for (-1: none), and the reason formatted,
 * scrubbed of ch's secrets and cut to CHANNEL_REASON_MAX at a character. */
void answer_verdict(struct channel_verdict *v, const struct conf_channel *ch,
                    enum retry_outcome outcome, int64_t retry_after_ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A short single-line quotation of s[0..len) into out (printable; bad UTF-8 as '?';
 * "..." when cut), scrubbed of ch's secrets before it is cut. */
void answer_quote(const struct conf_channel *ch, const char *s, size_t len, char *out, size_t size);

/* The answer's body as a JSON object (at most ANSWER_PARSE_MAX bytes), or NULL. */
json_t *answer_json(const struct channel_response *resp);

/* A string member of an answer object, quoted (answer_quote); "" when absent. */
void answer_text(const struct conf_channel *ch, json_t *o, const char *key, char *out, size_t size);

bool answer_2xx(long status);

/* The robots that answer {"errcode":0,"errmsg":"ok"} in a 200 (DingTalk, WeCom), named
 * vendor in reasons: 0 is sent, -1 ("system busy") retries, throttle_code retries after
 * throttle_ms, any other code is dead, a 2xx without an errcode is dead (the url is not
 * such a robot). True when it decided (not for a status other than 2xx). */
bool answer_errcode(const struct conf_channel *ch, const struct channel_response *resp,
                    const char *vendor, long throttle_code, int64_t throttle_ms,
                    struct channel_verdict *v);

#endif
