/* channel.h - what one delivery attempt sends, and what its answer means.
 *
 * channel_build turns (channel, notification, now, nonce) into a complete request: an
 * HTTP method, URL, header lines and body for the HTTP channels, an SMTP envelope and
 * RFC 5322 message for e-mail, a JSON line and a path for the file channel. It does no
 * I/O: the daemon's delivery loop (libcurl) sends it as is, byte for byte.
 * channel_classify reads what came back (status, body, Retry-After, transport error) and
 * says sent, retry (with the delay a server asked for) or dead, with a reason for a
 * person; retry_decide (retry.h) then schedules or gives up.
 *
 * Each channel type is one vendor (vendor.h, vendor_<type>.c); the answer rules they
 * share are answer.c's.
 *
 * Secrets: a request holds signing keys' results, tokens in URLs, Authorization headers
 * and SMTP passwords. Never log a request; log redact_url(url) (redact.h). Reasons and
 * error messages from this module never contain a secret or a token-bearing URL: text a
 * server or libcurl sent back is scrubbed of every secret of the channel (redact.h)
 * before it is cut to length. */
#ifndef SLAD_CHANNEL_H
#define SLAD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "render.h"
#include "retry.h"

#define CHANNEL_MAX_HEADERS 32
#define CHANNEL_MAX_RCPT    4
#define CHANNEL_BODY_MAX    (1024 * 1024) /* largest request body or e-mail message */
#define CHANNEL_NONCE_BYTES 16            /* random input of one attempt */
#define CHANNEL_REASON_MAX  256

enum channel_transport {
    CHANNEL_TRANSPORT_HTTP, /* method, url, headers, body */
    CHANNEL_TRANSPORT_SMTP, /* url (smtp[s]://host[:port]), username/password, mail_from,
                               rcpt_to, body = the message with CRLF line ends */
    CHANNEL_TRANSPORT_FILE, /* path, body = one JSON line ending in "\n" to append */
};

struct channel_request {
    enum channel_transport transport;
    const char *method;                 /* HTTP: "POST", "PUT" or "GET" (static); else NULL */
    char *url;                          /* may hold a token: log only redact_url() of it */
    char *headers[CHANNEL_MAX_HEADERS]; /* "Name: value" lines, as curl_slist_append wants */
    size_t n_headers;
    char *body; /* NUL-terminated (body_len excludes the NUL); NULL for a GET */
    size_t body_len;
    char *username, *password; /* SMTP login, or NULL (HTTP basic auth is a header) */
    bool require_tls;          /* SMTP: STARTTLS or no transaction (the channel's tls) */
    char *mail_from;
    char *rcpt_to[CHANNEL_MAX_RCPT];
    size_t n_rcpt;
    char *path; /* file channel */
};

/* How the values in the message text of n are escaped for ch (render_message): MARKDOWN
 * where the message goes out as markdown (DingTalk; WeCom unless it @mentions a mobile
 * number, which only a text message can), so that a ticket's title or a customer's name
 * cannot add links, images, tags or headings to it; RAW everywhere else (each channel
 * escapes the whole text for its format). */
enum escape channel_text_escape(const struct conf_channel *ch, const char *to);

/* Build attempt's request for notification n on channel ch at now_ms. nonce is fresh
 * random bytes (Alibaba's SignatureNonce); everything else is a function of the inputs,
 * so retries differ only in time-dependent parts (timestamps, signatures). n->text must
 * be set (render_message). Errors, which no retry can fix (the notification is dead):
 * -EINVAL (no address for an SMS or e-mail recipient, an address that is not one, a
 * missing text), -EMSGSIZE (body over CHANNEL_BODY_MAX, too many headers), -ENOMEM. *ret
 * is filled on success only; free it with channel_request_done. */
int channel_build(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                  const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *ret,
                  struct slad_error *reterr);

/* Wipe and free; r may be reused. */
void channel_request_done(struct channel_request *r);

/* How the transfer of one attempt ended, as the daemon maps libcurl's result. */
enum channel_xfer {
    CHANNEL_XFER_OK,        /* the exchange completed: status and body hold the answer */
    CHANNEL_XFER_TIMEOUT,   /* no full answer within the channel's timeout */
    CHANNEL_XFER_NETWORK,   /* DNS, connect, TLS, reset, refused by SMTP, disk full...:
                               may heal (status holds an SMTP reply code when there was one) */
    CHANNEL_XFER_PERMANENT, /* cannot work however often tried: malformed URL,
                               unsupported protocol, file not writable */
};

struct channel_response {
    enum channel_xfer xfer;
    const char *error; /* transport error text (curl's error buffer), or NULL */
    long status;       /* HTTP status or SMTP reply code; 0 when none */
    const char *body;  /* response body (need not be NUL-terminated), or NULL */
    size_t body_len;
    const char *retry_after; /* the Retry-After header's value, or NULL */
};

struct channel_verdict {
    enum retry_outcome outcome;
    int64_t retry_after_ms;          /* the wait the server asked for, else -1 */
    char reason[CHANNEL_REASON_MAX]; /* "" when sent: "HTTP 503: ...", "dingtalk errcode
                                        130101: send too fast..." */
};

/* Classify one finished attempt on ch (SPEC 3): 2xx sent (but vendors that report errors
 * in a 200 body are read: DingTalk and WeCom errcode, Feishu code, Alibaba Code); 408,
 * 429, 5xx, timeouts and network errors retry (Retry-After honoured on 429 and 503);
 * other statuses dead; vendor rate-limit codes retry, other vendor codes are dead. */
void channel_classify(const struct conf_channel *ch, const struct channel_response *resp,
                      int64_t now_ms, struct channel_verdict *ret);

#endif
