/* redact.h - keeping a channel's secrets out of what slad logs and keeps.
 *
 * redact_url makes a URL fit for a log line (the daemon's and slactl's). The secrets of a
 * channel (its secret, password, user:password, access_key_secret, routing_key, the URL's
 * user info and tokens, header values, a form body's values) are gathered in every form
 * they may come back in from a server or libcurl (as written, percent-encoded and
 * -decoded, JSON-escaped, base64 as in "Basic ...") and taken out of such text before it
 * is quoted in a reason (answer.c). */
#ifndef SLAD_REDACT_H
#define SLAD_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* url for a log line: user info, every query value and every path segment that looks
 * like a token (20+ characters, or 8+ with a digit: Slack's T.../B.../..., Feishu's
 * hook UUID, WeCom's key) become "***", the fragment is dropped. "https://oapi.dingtalk.
 * com/robot/send?access_token=***". Text that is not a URL becomes "***". Returns buf. */
char *redact_url(const char *url, char *buf, size_t size);

/* Every form in which a channel's secrets may come back, longest first. The members are
 * this module's. */
struct redact_secret {
    char *s; /* may hold NUL bytes: len counts */
    size_t len;
};
struct redact_secrets {
    struct redact_secret *v;
    size_t n, cap;
    bool failed; /* out of memory: the caller withholds the text */
};

/* Gather the secrets of ch into s; s->failed when memory ran out. */
void redact_secrets_init(struct redact_secrets *s, const struct conf_channel *ch);
/* Wipe and free. */
void redact_secrets_done(struct redact_secrets *s);

/* Copy in[0..len) to out (which may be in: the copy never grows) with every secret form
 * found, leftmost and longest first, as "***" and NUL bytes as spaces, until out holds
 * max bytes (or up to 2 more, the end of a "***"). *ret_used gets the bytes of in read.
 * Returns the bytes written; out is not terminated. */
size_t redact_copy(const struct redact_secrets *s, const char *in, size_t len, char *out,
                   size_t max, size_t *ret_used);

#endif
