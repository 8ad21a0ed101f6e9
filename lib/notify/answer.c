/* answer.c - what the answer to one attempt means (answer.h). */
#include "answer.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "redact.h"
#include "utf8.h"

#define WITHHELD "(text withheld: out of memory while removing secrets)"

/* A short single-line quotation of s[0..len) (printable; bad UTF-8 as '?'), scrubbed of
 * the channel's secrets before it is cut: a secret across the cut cannot leave its
 * start behind. Only as much is scrubbed as the quotation shows. */
void answer_quote(const struct conf_channel *ch, const char *s, size_t len, char *out, size_t size)
{
    out[0] = '\0';
    struct redact_secrets f;
    redact_secrets_init(&f, ch);
    if (f.failed) {
        redact_secrets_done(&f);
        snprintf(out, size, "%s", WITHHELD);
        return;
    }
    char clean[ANSWER_QUOTE_MAX + 8];
    size_t used;
    size_t clean_len = redact_copy(&f, s, len, clean, ANSWER_QUOTE_MAX + 1, &used);
    redact_secrets_done(&f);
    size_t keep = utf8_prefix(clean, clean_len, ANSWER_QUOTE_MAX);
    bool cut = keep < clean_len || used < len;
    struct render_buf b;
    render_buf_init(&b, ANSWER_QUOTE_MAX * 4);
    render_buf_escape(&b, clean, keep, ESCAPE_HEADER);
    explicit_bzero(clean, sizeof(clean));
    const char *t = b.data && !b.err ? b.data : "";
    /* Trim and squeeze blanks (HTML pages and JSON bodies are full of them). */
    size_t o = 0;
    bool blank = true;
    for (const char *p = t; *p && o + 4 < size; p++) {
        if (*p == ' ') {
            if (!blank)
                out[o++] = ' ';
            blank = true;
        } else {
            out[o++] = *p;
            blank = false;
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (cut && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    render_buf_done(&b);
}

void answer_verdict(struct channel_verdict *v, const struct conf_channel *ch,
                    enum retry_outcome outcome, int64_t retry_after_ms, const char *fmt, ...)
{
    v->outcome = outcome;
    v->retry_after_ms = retry_after_ms;
    /* Whole, scrubbed, then cut. */
    char whole[CHANNEL_REASON_MAX * 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(whole, sizeof(whole), fmt, ap);
    va_end(ap);
    size_t len = strlen(whole);
    if (len) {
        struct redact_secrets f;
        redact_secrets_init(&f, ch);
        size_t used;
        if (f.failed)
            len = (size_t)snprintf(whole, sizeof(whole), "%s", WITHHELD);
        else
            len = redact_copy(&f, whole, len, whole, len, &used);
        redact_secrets_done(&f);
    }
    size_t keep = utf8_prefix(whole, len, sizeof(v->reason) - 1);
    memcpy(v->reason, whole, keep);
    v->reason[keep] = '\0';
    explicit_bzero(whole, sizeof(whole));
}

json_t *answer_json(const struct channel_response *resp)
{
    if (!resp->body || !resp->body_len || resp->body_len > ANSWER_PARSE_MAX)
        return NULL;
    json_t *v = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* A string member of an answer, quoted; "" when absent. */
void answer_text(const struct conf_channel *ch, json_t *o, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    answer_quote(ch, s, strlen(s), out, size);
}

bool answer_2xx(long status)
{
    return status >= 200 && status <= 299;
}

bool answer_errcode(const struct conf_channel *ch, const struct channel_response *resp,
                    const char *vendor, long throttle_code, int64_t throttle_ms,
                    struct channel_verdict *v)
{
    if (!answer_2xx(resp->status))
        return false;
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "errcode") : NULL;
    if (!json_is_integer(code)) {
        json_decref(o);
        answer_verdict(v, ch, RETRY_DEAD, -1,
                       "%s: HTTP %ld without an errcode: is the url a %s robot?", vendor,
                       resp->status, vendor);
        return true;
    }
    json_int_t c = json_integer_value(code);
    char msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, "errmsg", msg, sizeof(msg));
    json_decref(o);
    if (c == 0) {
        answer_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    /* -1 is "system busy, try later" for both. */
    bool busy = c == -1;
    bool throttled = c == throttle_code;
    int64_t after = throttled ? throttle_ms : -1;
    answer_verdict(v, ch, busy || throttled ? RETRY_AGAIN : RETRY_DEAD, after,
                   "%s errcode %" JSON_INTEGER_FORMAT ": %s", vendor, c, msg);
    return true;
}

bool answer_transfer(const struct conf_channel *ch, enum channel_transport transport,
                     const struct channel_response *resp, struct channel_verdict *v)
{
    const char *error = resp->error && *resp->error ? resp->error : NULL;
    char quoted[ANSWER_QUOTE_MAX + 8] = "";
    if (error)
        answer_quote(ch, error, strlen(error), quoted, sizeof(quoted));
    bool smtp = transport == CHANNEL_TRANSPORT_SMTP;

    switch (resp->xfer) {
    case CHANNEL_XFER_TIMEOUT:
        answer_verdict(v, ch, RETRY_AGAIN, -1, "timed out%s%s", error ? ": " : "", quoted);
        return true;
    case CHANNEL_XFER_PERMANENT:
        answer_verdict(v, ch, RETRY_DEAD, -1, "%s", error ? quoted : "request cannot be sent");
        return true;
    case CHANNEL_XFER_NETWORK:
        if (smtp && resp->status >= 500 && resp->status <= 599) {
            /* A permanent SMTP refusal (unknown mailbox, relaying denied). */
            answer_verdict(v, ch, RETRY_DEAD, -1, "SMTP %ld%s%s", resp->status, error ? ": " : "",
                           quoted);
            return true;
        }
        if (smtp && resp->status >= 400)
            answer_verdict(v, ch, RETRY_AGAIN, -1, "SMTP %ld%s%s", resp->status, error ? ": " : "",
                           quoted);
        else
            answer_verdict(v, ch, RETRY_AGAIN, -1, "%s", error ? quoted : "connection failed");
        return true;
    case CHANNEL_XFER_OK:
        break;
    }
    if (transport != CHANNEL_TRANSPORT_HTTP) {
        answer_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    return false;
}

void answer_status(const struct conf_channel *ch, const struct channel_response *resp,
                   int64_t now_ms, struct channel_verdict *v)
{
    long status = resp->status;
    if (status <= 0) {
        answer_verdict(v, ch, RETRY_AGAIN, -1, "%s", "no HTTP status in the answer");
        return;
    }
    if (answer_2xx(status)) {
        answer_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return;
    }
    char answer[ANSWER_QUOTE_MAX + 8] = "";
    if (resp->body)
        answer_quote(ch, resp->body, resp->body_len, answer, sizeof(answer));
    const char *colon = answer[0] ? ": " : "";
    if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
        int64_t after = -1;
        if ((status == 429 || status == 503) && resp->retry_after &&
            retry_after_parse(resp->retry_after, now_ms, &after) < 0)
            after = -1;
        answer_verdict(v, ch, RETRY_AGAIN, after, "HTTP %ld%s%s", status, colon, answer);
        return;
    }
    if (status >= 300 && status <= 399) {
        answer_verdict(v, ch, RETRY_DEAD, -1, "HTTP %ld: redirects are not followed; fix the url",
                       status);
        return;
    }
    answer_verdict(v, ch, RETRY_DEAD, -1, "HTTP %ld%s%s", status, colon, answer);
}
