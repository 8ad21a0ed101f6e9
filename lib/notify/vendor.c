/* vendor.c - what the vendors' requests share (vendor.h): header lines, JSON bodies, text
 * cut to a vendor's limit, phone numbers as robots want them. */
#include "vendor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonx.h"
#include "utf8.h"

int vendor_add_header(struct channel_request *r, struct slad_error *reterr, const char *fmt, ...)
{
    if (r->n_headers >= CHANNEL_MAX_HEADERS)
        return slad_error_set(reterr, EMSGSIZE, "more than %d header lines", CHANNEL_MAX_HEADERS);
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    r->headers[r->n_headers++] = line;
    return 0;
}

int vendor_take_header(struct channel_request *r, struct render_buf *b, struct slad_error *reterr)
{
    char *line;
    int e = render_buf_take(b, "a header line", &line, NULL, reterr);
    if (e < 0)
        return e;
    if (r->n_headers >= CHANNEL_MAX_HEADERS) {
        free(line);
        return slad_error_set(reterr, EMSGSIZE, "more than %d header lines", CHANNEL_MAX_HEADERS);
    }
    r->headers[r->n_headers++] = line;
    return 0;
}

int vendor_json_body(struct channel_request *r, json_t *v, const char *suffix,
                     struct slad_error *reterr)
{
    if (!v)
        return slad_error_set(reterr, ENOMEM, "out of memory building the request body");
    size_t len;
    char *s = jsonx_dump(v, &len);
    json_decref(v);
    if (!s)
        return slad_error_set(reterr, ENOMEM, "out of memory building the request body");
    size_t extra = strlen(suffix);
    if (len + extra > CHANNEL_BODY_MAX) {
        free(s);
        return slad_error_set(reterr, EMSGSIZE, "request body is longer than %d bytes",
                              CHANNEL_BODY_MAX);
    }
    if (extra) {
        char *t = realloc(s, len + extra + 1);
        if (!t) {
            free(s);
            return slad_error_set(reterr, ENOMEM, "out of memory building the request body");
        }
        s = t;
        memcpy(s + len, suffix, extra + 1);
        len += extra;
    }
    r->body = s;
    r->body_len = len;
    return 0;
}

int vendor_buf_body(struct channel_request *r, struct render_buf *b, struct slad_error *reterr)
{
    return render_buf_take(b, "the request body", &r->body, &r->body_len, reterr);
}

int vendor_copy(char **dst, const char *src, struct slad_error *reterr)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : slad_error_set(reterr, ENOMEM, "out of memory");
}

json_t *vendor_cut_string(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len <= max)
        return jsonx_string(s ? s : "");
    size_t keep = utf8_prefix(s, len, max - 3);
    char *t = malloc(keep + 4);
    if (!t)
        return NULL;
    memcpy(t, s, keep);
    memcpy(t + keep, "\xe2\x80\xa6", 4);
    json_t *v = jsonx_string(t);
    free(t);
    return v;
}

const char *vendor_local_mobile(const char *phone)
{
    if (strncmp(phone, "+86", 3) == 0)
        return phone + 3;
    return phone[0] == '+' ? phone + 1 : phone;
}

bool vendor_is_phone(const char *s)
{
    if (!s || !*s)
        return false;
    if (*s == '+')
        s++;
    size_t n = strspn(s, "0123456789");
    return n >= 3 && n <= 20 && s[n] == '\0';
}

void vendor_utc_fields(int64_t at_ms, struct tm *tm)
{
    time_t s = (time_t)(at_ms >= 0 ? at_ms / 1000 : -((-at_ms + 999) / 1000));
    if (!gmtime_r(&s, tm))
        memset(tm, 0, sizeof(*tm));
}

int vendor_header_safe(const char *s, char **ret, struct slad_error *reterr)
{
    struct render_buf b;
    render_buf_init(&b, 4096);
    render_buf_escape(&b, s ? s : "", s ? strlen(s) : 0, ESCAPE_HEADER);
    return render_buf_take(&b, "a header value", ret, NULL, reterr);
}

int vendor_json_post(const struct conf_channel *ch, struct channel_request *r, json_t *body,
                     struct slad_error *reterr)
{
    r->method = "POST";
    int e = vendor_json_body(r, body, "", reterr);
    if (!e && !r->url)
        e = vendor_copy(&r->url, ch->url, reterr);
    if (!e)
        e = vendor_add_header(r, reterr, VENDOR_CONTENT_JSON);
    if (!e)
        e = vendor_add_header(r, reterr, VENDOR_USER_AGENT);
    return e;
}

const char *vendor_recipient_name(const struct notification *n)
{
    return n->recipient ? n->recipient : "(unknown)";
}

int vendor_need_phone(const struct notification *n, struct slad_error *reterr)
{
    if (!n->to || !*n->to)
        return slad_error_set(reterr, EINVAL, "recipient '%s' has no phone number",
                              vendor_recipient_name(n));
    return 0;
}

const char *vendor_link_label(const struct notification *n)
{
    const char *lang = n->conf && n->conf->daemon.language ? n->conf->daemon.language : "zh";
    bool zh = strcmp(lang, "en") != 0;
    bool action = n->link && strstr(n->link, "/a/");
    if (action)
        return zh ? "确认或接单" : "Acknowledge or take it";
    return zh ? "查看工单" : "Open the ticket";
}

char *vendor_text_with_link(const struct notification *n, enum vendor_link_style style)
{
    const char *text = n->text ? n->text : "";
    if (!n->link || !*n->link)
        return strdup(text);
    const char *label = vendor_link_label(n);
    size_t len = strlen(text) + strlen(label) + strlen(n->link) + 16;
    char *out = malloc(len);
    if (!out)
        return NULL;
    if (style == VENDOR_LINK_SHORT)
        snprintf(out, len, "%s %s", text, n->link);
    else if (style == VENDOR_LINK_LINE)
        snprintf(out, len, "%s\n\n%s: %s", text, label, n->link);
    else
        snprintf(out, len, "%s\n\n[%s](%s)", text, label, n->link);
    return out;
}

int vendor_build_linked(vendor_build_fn *build, enum vendor_link_style style,
                        const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                        const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                        struct slad_error *reterr)
{
    if (!n->link || !*n->link || !n->text)
        return build(ch, n, now_ms, nonce, r, reterr);
    struct notification m = *n;
    char *text = vendor_text_with_link(n, style);
    if (!text)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    m.text = text;
    int e = build(ch, &m, now_ms, nonce, r, reterr);
    free(text);
    return e;
}
