/* vendor_sms.c - any HTTP SMS gateway from method, URL, header and body templates (Twilio
 * 2010-04-01 Messages.json, Kannel sendsms...). */
#include "vendor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sign.h"

#define CONTENT_FORM "Content-Type: application/x-www-form-urlencoded"
#define CONTENT_TEXT "Content-Type: text/plain; charset=utf-8"

static bool header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static const char *header_value(const char *line)
{
    const char *v = strchr(line, ':');
    v = v ? v + 1 : line + strlen(line);
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

static int build_sms(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                     const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *r,
                     struct slad_error *reterr)
{
    int e = vendor_need_phone(n, reterr);
    if (e < 0)
        return e;
    const char *m = ch->method ? ch->method : "POST";
    r->method = !strcmp(m, "GET") ? "GET" : !strcmp(m, "PUT") ? "PUT" : "POST";

    /* The URL is a template too (Kannel: ...sendsms?to={{to}}&text={{text}}); values are
     * percent-encoded so that they stay inside their query parameter. */
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES);
    render_template_into(&b, ch->url, n, now_ms, ESCAPE_URL);
    if ((e = render_buf_take(&b, "the gateway URL", &r->url, NULL, reterr)) < 0)
        return e;

    const char *content_type = NULL;
    bool user_agent = false, authorization = false;
    for (size_t i = 0; i < ch->headers.n; i++) {
        render_template_into(&b, ch->headers.v[i], n, now_ms, ESCAPE_HEADER);
        if ((e = vendor_take_header(r, &b, reterr)) < 0)
            return e;
        const char *line = r->headers[r->n_headers - 1];
        if (header_is(line, "Content-Type"))
            content_type = header_value(line);
        user_agent = user_agent || header_is(line, "User-Agent");
        authorization = authorization || header_is(line, "Authorization");
    }
    if (!user_agent && (e = vendor_add_header(r, reterr, VENDOR_USER_AGENT)) < 0)
        return e;
    if (ch->username && !authorization) {
        render_buf_init(&b, 4096);
        render_buf_printf(&b, "%s:%s", ch->username, ch->password ? ch->password : "");
        char *pair;
        size_t len;
        if ((e = render_buf_take(&b, "the gateway login", &pair, &len, reterr)) < 0)
            return e;
        char *b64 = malloc(SIGN_BASE64_SIZE(len));
        if (b64 && sign_base64(pair, len, b64, SIGN_BASE64_SIZE(len)) >= 0)
            e = vendor_add_header(r, reterr, "Authorization: Basic %s", b64);
        else
            e = slad_error_set(reterr, ENOMEM, "out of memory");
        explicit_bzero(pair, len);
        free(pair);
        if (b64) {
            explicit_bzero(b64, strlen(b64));
            free(b64);
        }
        if (e < 0)
            return e;
    }
    if (!strcmp(r->method, "GET"))
        return 0; /* a GET gateway takes everything in its URL */

    enum escape esc = escape_for_content_type(content_type);
    if (!content_type &&
        (e = vendor_add_header(r, reterr, ch->body ? CONTENT_TEXT : CONTENT_FORM)) < 0)
        return e;
    render_buf_init(&b, CHANNEL_BODY_MAX);
    if (ch->body) {
        render_template_into(&b, ch->body, n, now_ms, esc);
    } else if (esc == ESCAPE_JSON) {
        render_buf_puts(&b, "{\"to\":\"");
        render_buf_escape(&b, n->to, strlen(n->to), ESCAPE_JSON);
        render_buf_puts(&b, "\",\"text\":\"");
        render_buf_escape(&b, n->text, strlen(n->text), ESCAPE_JSON);
        render_buf_puts(&b, "\"}");
    } else {
        /* With neither a body template nor a JSON type: a form, as most gateways take. */
        render_buf_puts(&b, "to=");
        render_buf_escape(&b, n->to, strlen(n->to), ESCAPE_FORM);
        render_buf_puts(&b, "&text=");
        render_buf_escape(&b, n->text, strlen(n->text), ESCAPE_FORM);
    }
    return vendor_buf_body(r, &b, reterr);
}

/* The message with its link (the console's): after the text, short. */
static int build_sms_linked(const struct conf_channel *ch, const struct notification *n,
                            int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                            struct channel_request *r, struct slad_error *reterr)
{
    return vendor_build_linked(build_sms, VENDOR_LINK_SHORT, ch, n, now_ms, nonce, r, reterr);
}

const struct vendor vendor_sms = {
    .transport = CHANNEL_TRANSPORT_HTTP,
    .build = build_sms_linked,
};
