/* vendor_email.c - e-mail over SMTP: the envelope and the message (RFC 5322, MIME RFC
 * 2045, encoded-words RFC 2047); a completed transaction is delivered, a 5xx reply dead. */
#include "vendor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sign.h"
#include "utf8.h"

#define MAIL_HEADER_VALUE_MAX 900

static const char *const wday_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* A plain addr-spec: printable ASCII (no SMTPUTF8), one '@', at most 254 bytes (RFC 5321
 * paths are 256 with the angle brackets), nothing that would end or split a header. */
static bool email_address_ok(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>,;\"()[]\\", *p))
            return false;
    return true;
}

/* Subject: plain when it is short printable ASCII, else RFC 2047 B encoded-words of at
 * most 36 bytes each (60 characters, so that every line stays under 76), split between
 * characters, one per folded line. */
static void put_subject(struct render_buf *b, const char *subject)
{
    struct render_buf clean;
    render_buf_init(&clean, RENDER_MAX_BYTES);
    render_buf_escape(&clean, subject, strlen(subject), ESCAPE_HEADER);
    const char *s = clean.data ? clean.data : "";
    size_t len = clean.err ? 0 : clean.len;
    bool plain = len <= 66 && !strstr(s, "=?");
    for (size_t i = 0; plain && i < len; i++)
        plain = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
    render_buf_puts(b, "Subject: ");
    if (plain) {
        render_buf_add(b, s, len);
    } else {
        for (size_t i = 0; i < len;) {
            size_t n = utf8_prefix(s + i, len - i, 36);
            char b64[SIGN_BASE64_SIZE(36)];
            sign_base64(s + i, n, b64, sizeof(b64));
            render_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", b64);
            i += n;
        }
    }
    render_buf_puts(b, "\r\n");
    render_buf_done(&clean);
}

/* The text with CRLF line ends (RFC 2045 canonical form), base64 in 76-character lines. */
static void put_base64_body(struct render_buf *b, const char *text)
{
    struct render_buf crlf;
    render_buf_init(&crlf, CHANNEL_BODY_MAX);
    for (const char *p = text; *p; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            render_buf_add(&crlf, "\r", 1);
        render_buf_add(&crlf, p, 1);
    }
    if (crlf.err) {
        b->err = b->err ? b->err : crlf.err;
        render_buf_done(&crlf);
        return;
    }
    for (size_t i = 0; i < crlf.len; i += 57) {
        size_t n = crlf.len - i < 57 ? crlf.len - i : 57;
        char line[SIGN_BASE64_SIZE(57)];
        sign_base64(crlf.data + i, n, line, sizeof(line));
        render_buf_puts(b, line);
        render_buf_puts(b, "\r\n");
    }
    render_buf_done(&crlf);
}

static int build_email(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                       const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                       struct slad_error *reterr)
{
    if (!n->to || !*n->to)
        return slad_error_set(reterr, EINVAL, "recipient '%s' has no e-mail address",
                              vendor_recipient_name(n));
    if (!email_address_ok(n->to))
        return slad_error_set(reterr, EINVAL, "'%s' is not an e-mail address", n->to);
    if (!email_address_ok(ch->from))
        return slad_error_set(reterr, EINVAL, "no valid 'from' address");
    /* The same notification to the same address always has the same Message-ID, so mail
     * systems can drop a repeat. */
    struct render_buf b;
    render_buf_init(&b, CHANNEL_BODY_MAX);
    render_buf_printf(&b, "%s\n%s", n->idempotency_key ? n->idempotency_key : "", n->to);
    unsigned char md[SIGN_SHA256_BYTES];
    int e = b.err ? b.err : sign_sha256(b.data, b.len, md);
    render_buf_done(&b);
    if (e < 0)
        return slad_error_set(reterr, -e, "cannot build the Message-ID");
    char hex[33];
    sign_hex(md, 16, hex, sizeof(hex));

    struct tm tm;
    vendor_utc_fields(now_ms, &tm);
    render_buf_init(&b, CHANNEL_BODY_MAX);
    render_buf_printf(&b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
                      wday_names[tm.tm_wday % 7], tm.tm_mday, month_names[tm.tm_mon % 12],
                      tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    render_buf_printf(&b, "From: slad <%s>\r\n", ch->from);
    render_buf_printf(&b, "To: <%s>\r\n", n->to);
    const char *subject = n->subject && *n->subject ? n->subject : n->event ? n->event : "slad";
    put_subject(&b, subject);
    render_buf_printf(&b, "Message-ID: <%s@%s>\r\n", hex, strchr(ch->from, '@') + 1);
    render_buf_puts(&b, "MIME-Version: 1.0\r\n");
    render_buf_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n");
    render_buf_puts(&b, "Content-Transfer-Encoding: base64\r\n");
    render_buf_puts(&b, "X-Slad-Event: ");
    render_buf_escape(&b, n->event ? n->event : "", n->event ? strlen(n->event) : 0, ESCAPE_HEADER);
    render_buf_puts(&b, "\r\nX-Slad-Idempotency-Key: ");
    /* SMTP lines end at 998 bytes; the header is for people, the Message-ID dedups. */
    const char *key = n->idempotency_key ? n->idempotency_key : "";
    render_buf_escape(&b, key, utf8_prefix(key, strlen(key), MAIL_HEADER_VALUE_MAX), ESCAPE_HEADER);
    render_buf_puts(&b, "\r\n\r\n");
    put_base64_body(&b, n->text);
    if ((e = render_buf_take(&b, "the e-mail message", &r->body, &r->body_len, reterr)) < 0)
        return e;
    r->rcpt_to[r->n_rcpt++] = strdup(n->to);
    if (!r->rcpt_to[0])
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if ((e = vendor_copy(&r->url, ch->url, reterr)) < 0 ||
        (e = vendor_copy(&r->mail_from, ch->from, reterr)) < 0 ||
        (e = vendor_copy(&r->username, ch->username, reterr)) < 0 ||
        (e = vendor_copy(&r->password, ch->password, reterr)) < 0)
        return e;
    r->require_tls = ch->smtp_starttls;
    return 0;
}

/* The message with its link (the console's): a last paragraph. */
static int build_email_linked(const struct conf_channel *ch, const struct notification *n,
                              int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                              struct channel_request *r, struct slad_error *reterr)
{
    return vendor_build_linked(build_email, VENDOR_LINK_LINE, ch, n, now_ms, nonce, r, reterr);
}

const struct vendor vendor_email = {
    .transport = CHANNEL_TRANSPORT_SMTP,
    .build = build_email_linked,
};
