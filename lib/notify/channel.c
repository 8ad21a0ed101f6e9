/* channel.c - per channel type request building and answer classification (channel.h).
 *
 * Vendor API versions followed (doc/CHANNELS.md has a config example and the request of
 * each):
 *   webhook     slad's JSON body (SPEC 3), signed per Standard Webhooks v1
 *               (github.com/standard-webhooks, spec 1.0.0).
 *   slack       Slack incoming webhooks ({"text"}; 200 "ok"; errors as plain-text bodies).
 *   dingtalk    DingTalk custom robot (oapi.dingtalk.com/robot/send, markdown message,
 *               加签 signing with timestamp in ms; errcode in the 200 body).
 *   wecom       WeCom group robot (qyapi.weixin.qq.com/cgi-bin/webhook/send, markdown, or
 *               text with mentioned_mobile_list; errcode in the 200 body).
 *   feishu      Feishu/Lark custom bot v2 (open-apis/bot/v2/hook, msg_type text, signing
 *               with timestamp in s; code in the body).
 *   pagerduty   PagerDuty Events API v2 (/v2/enqueue, event_action trigger).
 *   sms         any HTTP SMS gateway from method, URL, header and body templates (Twilio
 *               2010-04-01 Messages.json, Kannel sendsms...).
 *   aliyun_sms  Alibaba Cloud SMS dysmsapi 2017-05-25 SendSms, RPC signature V1.
 *   email       SMTP (the message: RFC 5322, MIME RFC 2045, encoded-word RFC 2047).
 *   file        a JSON line (the webhook body) appended to a file. */
#include "channel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "jsonx.h"
#include "sign.h"

#ifndef SLAD_VERSION
#define SLAD_VERSION "0"
#endif

#define USER_AGENT   "User-Agent: slad/" SLAD_VERSION
#define CONTENT_JSON "Content-Type: application/json; charset=utf-8"
#define CONTENT_FORM "Content-Type: application/x-www-form-urlencoded"
#define CONTENT_TEXT "Content-Type: text/plain; charset=utf-8"

/* Vendor text limits, in bytes (longer text is cut at a character with "…"). */
#define WECOM_MARKDOWN_MAX    4096
#define WECOM_TEXT_MAX        2048
#define PAGERDUTY_SUMMARY     1024
#define PAGERDUTY_KEY_MAX     255
#define MAIL_HEADER_VALUE_MAX 900
/* How long vendors say they throttle: DingTalk locks a robot for 10 minutes after 20
 * messages in a minute; WeCom counts 20 a minute; Alibaba's flow control counts minutes. */
#define DINGTALK_THROTTLE_MS (10 * 60 * 1000)
#define WECOM_THROTTLE_MS    (60 * 1000)
#define ALIYUN_THROTTLE_MS   (60 * 1000)
/* How much of an answer is read for error codes, and quoted in a reason. */
#define ANSWER_PARSE_MAX 65536
#define ANSWER_QUOTE_MAX 160

/* ---- request parts ---- */

static int add_header(struct channel_request *r, struct slad_error *reterr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_header(struct channel_request *r, struct slad_error *reterr, const char *fmt, ...)
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

static int take_header(struct channel_request *r, struct render_buf *b, struct slad_error *reterr)
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

/* v (taken) serialised as the body. */
static int set_json_body(struct channel_request *r, json_t *v, const char *suffix,
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

static int set_buf_body(struct channel_request *r, struct render_buf *b, struct slad_error *reterr)
{
    return render_buf_take(b, "the request body", &r->body, &r->body_len, reterr);
}

static int copy_string(char **dst, const char *src, struct slad_error *reterr)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : slad_error_set(reterr, ENOMEM, "out of memory");
}

/* s cut to at most max bytes at a character boundary, "…" marking a cut; a new string. */
static json_t *cut_string(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len <= max)
        return jsonx_string(s ? s : "");
    size_t keep = render_utf8_prefix(s, len, max - 3);
    char *t = malloc(keep + 4);
    if (!t)
        return NULL;
    memcpy(t, s, keep);
    memcpy(t + keep, "\xe2\x80\xa6", 4);
    json_t *v = jsonx_string(t);
    free(t);
    return v;
}

/* A mobile number as Chinese robots and Alibaba want it: no "+86", no "+". */
static const char *local_mobile(const char *phone)
{
    if (strncmp(phone, "+86", 3) == 0)
        return phone + 3;
    return phone[0] == '+' ? phone + 1 : phone;
}

static bool looks_like_phone(const char *s)
{
    if (!s || !*s)
        return false;
    if (*s == '+')
        s++;
    size_t n = strspn(s, "0123456789");
    return n >= 3 && n <= 20 && s[n] == '\0';
}

/* UTC broken down, without the process's locale or time zone. */
static void utc_fields(int64_t at_ms, struct tm *tm)
{
    time_t s = (time_t)(at_ms >= 0 ? at_ms / 1000 : -((-at_ms + 999) / 1000));
    if (!gmtime_r(&s, tm))
        memset(tm, 0, sizeof(*tm));
}

/* s (NULL: "") fit for a header value, in a new string. */
static int header_safe(const char *s, char **ret, struct slad_error *reterr)
{
    struct render_buf b;
    render_buf_init(&b, 4096);
    render_buf_escape(&b, s ? s : "", s ? strlen(s) : 0, ESCAPE_HEADER);
    return render_buf_take(&b, "a header value", ret, NULL, reterr);
}

/* ---- webhook, file ---- */

static json_t *webhook_json(const struct notification *n, int64_t now_ms)
{
    json_t *followup = n->followup_name
                           ? json_pack("{s:o,s:o}", "name", jsonx_string(n->followup_name),
                                       "due_at", jsonx_time(n->followup_due_at_ms))
                           : json_null();
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "version", 1, "event",
                     jsonx_string(n->event), "idempotency_key", jsonx_string(n->idempotency_key),
                     "ticket", jsonx_ticket_render(n->ticket, n->conf, now_ms), "clock",
                     n->clock ? jsonx_clock_render(n->clock, n->calendar, now_ms) : json_null(),
                     "step", n->step > 0 ? json_integer(n->step) : json_null(), "recipient",
                     jsonx_string(n->recipient), "contact", jsonx_string(n->contact), "to",
                     jsonx_string(n->to), "text", jsonx_string(n->text), "followup", followup,
                     "link", jsonx_string(n->link), "sent_at", jsonx_time(now_ms));
}

static int build_webhook(const struct conf_channel *ch, const struct notification *n,
                         int64_t now_ms, struct channel_request *r, struct slad_error *reterr)
{
    int e = set_json_body(r, webhook_json(n, now_ms), "", reterr);
    if (e < 0)
        return e;
    /* The id is signed as it is sent: a header value cannot hold control characters. */
    char *id, *event;
    if ((e = header_safe(n->idempotency_key, &id, reterr)) < 0)
        return e;
    if ((e = header_safe(n->event, &event, reterr)) < 0) {
        free(id);
        return e;
    }
    int64_t ts = now_ms >= 0 ? now_ms / 1000 : 0;
    r->method = "POST";
    e = copy_string(&r->url, ch->url, reterr);
    if (!e)
        e = add_header(r, reterr, CONTENT_JSON);
    if (!e)
        e = add_header(r, reterr, USER_AGENT);
    if (!e)
        e = add_header(r, reterr, "webhook-id: %s", id);
    if (!e)
        e = add_header(r, reterr, "webhook-timestamp: %" PRId64, ts);
    if (!e && ch->secret) {
        char sig[SIGN_TEXT_MAX];
        e = sign_standard_webhook(ch->secret, id, ts, r->body, r->body_len, sig, sizeof(sig),
                                  reterr);
        if (!e)
            e = add_header(r, reterr, "webhook-signature: %s", sig);
    }
    if (!e)
        e = add_header(r, reterr, "X-Slad-Event: %s", event);
    if (!e)
        e = add_header(r, reterr, "Idempotency-Key: %s", id);
    free(id);
    free(event);
    return e;
}

static int build_file(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                      struct channel_request *r, struct slad_error *reterr)
{
    r->transport = CHANNEL_TRANSPORT_FILE;
    int e = set_json_body(r, webhook_json(n, now_ms), "\n", reterr);
    return e < 0 ? e : copy_string(&r->path, ch->path, reterr);
}

/* ---- chat robots ---- */

static int json_post(const struct conf_channel *ch, struct channel_request *r, json_t *body,
                     struct slad_error *reterr)
{
    r->method = "POST";
    int e = set_json_body(r, body, "", reterr);
    if (!e && !r->url)
        e = copy_string(&r->url, ch->url, reterr);
    if (!e)
        e = add_header(r, reterr, CONTENT_JSON);
    if (!e)
        e = add_header(r, reterr, USER_AGENT);
    return e;
}

static int build_slack(const struct conf_channel *ch, const struct notification *n,
                       struct channel_request *r, struct slad_error *reterr)
{
    /* Slack reads &, < and > as markup in message text. */
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES * 2);
    render_buf_escape(&b, n->text, strlen(n->text), ESCAPE_SLACK);
    char *text;
    int e = render_buf_take(&b, "the message text", &text, NULL, reterr);
    if (e < 0)
        return e;
    json_t *body = json_pack("{s:o}", "text", jsonx_string(text));
    free(text);
    return json_post(ch, r, body, reterr);
}

static int build_dingtalk(const struct conf_channel *ch, const struct notification *n,
                          int64_t now_ms, struct channel_request *r, struct slad_error *reterr)
{
    if (ch->secret) {
        char sig[SIGN_TEXT_MAX];
        if (sign_dingtalk(ch->secret, now_ms, sig, sizeof(sig)) < 0)
            return slad_error_set(reterr, EIO, "cannot compute the DingTalk signature");
        struct render_buf b;
        render_buf_init(&b, RENDER_MAX_BYTES);
        render_buf_puts(&b, ch->url);
        render_buf_printf(&b, "%stimestamp=%" PRId64 "&sign=", strchr(ch->url, '?') ? "&" : "?",
                          now_ms);
        render_buf_escape(&b, sig, strlen(sig), ESCAPE_URL);
        int e = render_buf_take(&b, "the robot URL", &r->url, NULL, reterr);
        if (e < 0)
            return e;
    }
    /* A markdown message only notifies the people it @mentions in its text. */
    bool mention = looks_like_phone(n->to);
    const char *mobile = mention ? local_mobile(n->to) : NULL;
    json_t *text;
    if (mention) {
        size_t len = strlen(n->text) + strlen(mobile) + 4;
        char *t = malloc(len);
        if (!t)
            return slad_error_set(reterr, ENOMEM, "out of memory");
        snprintf(t, len, "%s\n\n@%s", n->text, mobile);
        text = jsonx_string(t);
        free(t);
    } else {
        text = jsonx_string(n->text);
    }
    const char *title = n->subject && *n->subject ? n->subject : n->event ? n->event : "slad";
    json_t *body = json_pack("{s:s,s:{s:o,s:o}}", "msgtype", "markdown", "markdown", "title",
                             jsonx_string(title), "text", text);
    if (body && mention) {
        json_t *at = json_pack("{s:[o],s:b}", "atMobiles", jsonx_string(mobile), "isAtAll", 0);
        if (!at || json_object_set_new(body, "at", at) < 0) {
            json_decref(body);
            body = NULL;
        }
    }
    return json_post(ch, r, body, reterr);
}

static int build_wecom(const struct conf_channel *ch, const struct notification *n,
                       struct channel_request *r, struct slad_error *reterr)
{
    json_t *body;
    if (looks_like_phone(n->to)) {
        /* Only text messages can @mention by mobile number. */
        body = json_pack("{s:s,s:{s:o,s:[o]}}", "msgtype", "text", "text", "content",
                         cut_string(n->text, WECOM_TEXT_MAX), "mentioned_mobile_list",
                         jsonx_string(local_mobile(n->to)));
    } else {
        body = json_pack("{s:s,s:{s:o}}", "msgtype", "markdown", "markdown", "content",
                         cut_string(n->text, WECOM_MARKDOWN_MAX));
    }
    return json_post(ch, r, body, reterr);
}

static int build_feishu(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                        struct channel_request *r, struct slad_error *reterr)
{
    json_t *body;
    if (ch->secret) {
        int64_t ts = now_ms >= 0 ? now_ms / 1000 : 0;
        char sig[SIGN_TEXT_MAX], tstext[24];
        if (sign_feishu(ch->secret, ts, sig, sizeof(sig)) < 0)
            return slad_error_set(reterr, EIO, "cannot compute the Feishu signature");
        snprintf(tstext, sizeof(tstext), "%" PRId64, ts);
        body = json_pack("{s:s,s:s,s:s,s:{s:o}}", "timestamp", tstext, "sign", sig, "msg_type",
                         "text", "content", "text", jsonx_string(n->text));
    } else {
        body = json_pack("{s:s,s:{s:o}}", "msg_type", "text", "content", "text",
                         jsonx_string(n->text));
    }
    return json_post(ch, r, body, reterr);
}

/* PagerDuty severities from the ticket's (1 = most severe). */
static const char *pagerduty_severity(int severity)
{
    return severity <= 1   ? "critical"
           : severity == 2 ? "error"
           : severity == 3 ? "warning"
                           : "info";
}

static int build_pagerduty(const struct conf_channel *ch, const struct notification *n,
                           int64_t now_ms, struct channel_request *r, struct slad_error *reterr)
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
        json_pack("{s:o,s:s,s:s,s:o,s:o}", "summary", cut_string(n->text, PAGERDUTY_SUMMARY),
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
    return json_post(ch, r, body, reterr);
}

/* ---- SMS ---- */

static const char *recipient_name(const struct notification *n)
{
    return n->recipient ? n->recipient : "(unknown)";
}

static int need_phone(const struct conf_channel *ch, const struct notification *n,
                      struct slad_error *reterr)
{
    if (!n->to || !*n->to)
        return slad_error_set(reterr, EINVAL, "recipient '%s' has no phone number",
                              recipient_name(n));
    return 0;
}

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
                     struct channel_request *r, struct slad_error *reterr)
{
    int e = need_phone(ch, n, reterr);
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
        if ((e = take_header(r, &b, reterr)) < 0)
            return e;
        const char *line = r->headers[r->n_headers - 1];
        if (header_is(line, "Content-Type"))
            content_type = header_value(line);
        user_agent = user_agent || header_is(line, "User-Agent");
        authorization = authorization || header_is(line, "Authorization");
    }
    if (!user_agent && (e = add_header(r, reterr, USER_AGENT)) < 0)
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
            e = add_header(r, reterr, "Authorization: Basic %s", b64);
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
    if (!content_type && (e = add_header(r, reterr, ch->body ? CONTENT_TEXT : CONTENT_FORM)) < 0)
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
    return set_buf_body(r, &b, reterr);
}

static int build_aliyun_sms(const struct conf_channel *ch, const struct notification *n,
                            int64_t now_ms, const uint8_t nonce[CHANNEL_NONCE_BYTES],
                            struct channel_request *r, struct slad_error *reterr)
{
    int e = need_phone(ch, n, reterr);
    if (e < 0)
        return e;
    /* A UUID (version 4 layout) from the attempt's random bytes. */
    uint8_t u[CHANNEL_NONCE_BYTES];
    memcpy(u, nonce, sizeof(u));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char uuid[40], hex[33];
    sign_hex(u, sizeof(u), hex, sizeof(hex));
    snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    struct tm tm;
    utc_fields(now_ms, &tm);
    char stamp[64];
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    /* The approved template takes the message as its ${text} variable. */
    json_t *tp = json_pack("{s:o}", "text", jsonx_string(n->text));
    char *param = tp ? jsonx_dump(tp, NULL) : NULL;
    json_decref(tp);
    if (!param)
        return slad_error_set(reterr, ENOMEM, "out of memory");

    const struct sign_param params[] = {
        {"AccessKeyId", ch->access_key_id ? ch->access_key_id : ""},
        {"Action", "SendSms"},
        {"Format", "JSON"},
        {"PhoneNumbers", local_mobile(n->to)},
        {"RegionId", "cn-hangzhou"},
        {"SignName", ch->sign_name ? ch->sign_name : ""},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", uuid},
        {"SignatureVersion", "1.0"},
        {"TemplateCode", ch->template_code ? ch->template_code : ""},
        {"TemplateParam", param},
        {"Timestamp", stamp},
        {"Version", "2017-05-25"},
    };
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES * 4);
    render_buf_puts(&b, ch->url);
    render_buf_puts(&b, strchr(ch->url, '?') ? "&" : "?");
    e = sign_aliyun_rpc(ch->access_key_secret ? ch->access_key_secret : "", "GET", params,
                        sizeof(params) / sizeof(params[0]), &b, reterr);
    free(param);
    if (e < 0) {
        render_buf_done(&b);
        return e;
    }
    if ((e = render_buf_take(&b, "the SMS request URL", &r->url, NULL, reterr)) < 0)
        return e;
    r->method = "GET";
    return add_header(r, reterr, USER_AGENT);
}

/* ---- e-mail ---- */

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
            size_t n = render_utf8_prefix(s + i, len - i, 36);
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
                       struct channel_request *r, struct slad_error *reterr)
{
    r->transport = CHANNEL_TRANSPORT_SMTP;
    if (!n->to || !*n->to)
        return slad_error_set(reterr, EINVAL, "recipient '%s' has no e-mail address",
                              recipient_name(n));
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
    utc_fields(now_ms, &tm);
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
    render_buf_escape(&b, key, render_utf8_prefix(key, strlen(key), MAIL_HEADER_VALUE_MAX),
                      ESCAPE_HEADER);
    render_buf_puts(&b, "\r\n\r\n");
    put_base64_body(&b, n->text);
    if ((e = render_buf_take(&b, "the e-mail message", &r->body, &r->body_len, reterr)) < 0)
        return e;
    r->rcpt_to[r->n_rcpt++] = strdup(n->to);
    if (!r->rcpt_to[0])
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if ((e = copy_string(&r->url, ch->url, reterr)) < 0 ||
        (e = copy_string(&r->mail_from, ch->from, reterr)) < 0 ||
        (e = copy_string(&r->username, ch->username, reterr)) < 0 ||
        (e = copy_string(&r->password, ch->password, reterr)) < 0)
        return e;
    r->require_tls = ch->smtp_starttls;
    return 0;
}

/* ---- build ---- */

enum escape channel_text_escape(const struct conf_channel *ch, const char *to)
{
    if (ch->type == CHANNEL_DINGTALK || (ch->type == CHANNEL_WECOM && !looks_like_phone(to)))
        return ESCAPE_MARKDOWN;
    return ESCAPE_RAW;
}

int channel_build(const struct conf_channel *ch, const struct notification *n, int64_t now_ms,
                  const uint8_t nonce[CHANNEL_NONCE_BYTES], struct channel_request *ret,
                  struct slad_error *reterr)
{
    struct channel_request r = {.transport = CHANNEL_TRANSPORT_HTTP};
    int e;
    if (!n->text)
        e = slad_error_set(reterr, EINVAL, "notification has no text");
    else if (!n->ticket)
        e = slad_error_set(reterr, EINVAL, "notification has no ticket");
    else if (ch->type != CHANNEL_FILE && !ch->url)
        e = slad_error_set(reterr, EINVAL, "no url");
    else if (ch->type == CHANNEL_FILE && !ch->path)
        e = slad_error_set(reterr, EINVAL, "no path");
    else {
        switch (ch->type) {
        case CHANNEL_WEBHOOK:
            e = build_webhook(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_SLACK:
            e = build_slack(ch, n, &r, reterr);
            break;
        case CHANNEL_DINGTALK:
            e = build_dingtalk(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_WECOM:
            e = build_wecom(ch, n, &r, reterr);
            break;
        case CHANNEL_FEISHU:
            e = build_feishu(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_PAGERDUTY:
            e = build_pagerduty(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_SMS:
            e = build_sms(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_ALIYUN_SMS:
            e = build_aliyun_sms(ch, n, now_ms, nonce, &r, reterr);
            break;
        case CHANNEL_EMAIL:
            e = build_email(ch, n, now_ms, &r, reterr);
            break;
        case CHANNEL_FILE:
            e = build_file(ch, n, now_ms, &r, reterr);
            break;
        default:
            e = slad_error_set(reterr, EINVAL, "unknown channel type %d", (int)ch->type);
            break;
        }
    }
    if (e < 0) {
        slad_error_prefix(reterr, "channel '%s': ", ch->name);
        channel_request_done(&r);
        return e;
    }
    *ret = r;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void channel_request_done(struct channel_request *r)
{
    wipe_free(r->url);
    for (size_t i = 0; i < r->n_headers; i++)
        wipe_free(r->headers[i]);
    if (r->body) {
        explicit_bzero(r->body, r->body_len);
        free(r->body);
    }
    wipe_free(r->username);
    wipe_free(r->password);
    free(r->mail_from);
    for (size_t i = 0; i < r->n_rcpt; i++)
        free(r->rcpt_to[i]);
    free(r->path);
    *r = (struct channel_request){.transport = CHANNEL_TRANSPORT_HTTP};
}

/* ---- redaction ---- */

struct out {
    char *buf;
    size_t size, len;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (!o || !o->size)
        return;
    size_t room = o->size - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static bool token_like(const char *s, size_t n)
{
    if (n >= 20)
        return true;
    if (n < 8)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

typedef void token_fn(void *userdata, const char *s, size_t n);

/* Copy the "a=1&b=2" pairs of p[0..stop) to o (may be NULL) with every value as "***",
 * and report each value. */
static void redact_pairs(const char *p, const char *stop, struct out *o, token_fn *fn,
                         void *userdata)
{
    bool first = true;
    while (p < stop) {
        size_t n = strcspn(p, "&#");
        if (p + n > stop)
            n = (size_t)(stop - p);
        if (!first)
            out_add(o, "&", 1);
        first = false;
        const char *eq = memchr(p, '=', n);
        if (eq) {
            out_add(o, p, (size_t)(eq + 1 - p));
            size_t vn = (size_t)(p + n - eq - 1);
            if (vn) {
                if (fn)
                    fn(userdata, eq + 1, vn);
                out_add(o, "***", 3);
            }
        } else if (n) {
            if (fn)
                fn(userdata, p, n);
            out_add(o, "***", 3);
        }
        p += n;
        if (p < stop && *p == '&')
            p++;
    }
}

/* Copy url to o (may be NULL) with secret-looking parts as "***", and report each. */
static void redact_scan(const char *url, struct out *o, token_fn *fn, void *userdata)
{
    const char *sep = strstr(url, "://");
    size_t scheme = sep ? strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789+.-")
                        : 0;
    if (!sep || sep == url || url + scheme != sep) {
        out_add(o, "***", 3);
        return;
    }
    out_add(o, url, (size_t)(sep + 3 - url));
    const char *p = sep + 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < p + auth; q++)
        if (*q == '@')
            at = q;
    if (at) {
        if (fn)
            fn(userdata, p, (size_t)(at - p));
        out_add(o, "***@", 4);
        out_add(o, at + 1, (size_t)(p + auth - at - 1));
    } else {
        out_add(o, p, auth);
    }
    p += auth;
    /* Path segments. */
    while (*p == '/') {
        out_add(o, "/", 1);
        p++;
        size_t n = strcspn(p, "/?#");
        if (token_like(p, n)) {
            if (fn)
                fn(userdata, p, n);
            out_add(o, "***", 3);
        } else {
            out_add(o, p, n);
        }
        p += n;
    }
    /* Query values. */
    if (*p == '?') {
        out_add(o, "?", 1);
        redact_pairs(p + 1, p + 1 + strcspn(p + 1, "#"), o, fn, userdata);
    }
}

char *channel_redact_url(const char *url, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    buf[0] = '\0';
    struct out o = {buf, size, 0};
    redact_scan(url ? url : "", &o, NULL, NULL);
    return buf;
}

/* ---- secrets in answers ---- */

/* Shorter needles would cut ordinary words out of answers. */
#define SECRET_MIN_BYTES 4
/* Header values that are not credentials: the rest of a header template may be one. */
static const char *const public_headers[] = {
    "Content-Type", "Accept",        "Accept-Charset", "Accept-Language", "Content-Language",
    "User-Agent",   "Cache-Control", "Connection",     "Expect",          NULL,
};

/* Every form in which the channel's secrets may come back, longest first. */
struct secret_form {
    char *s; /* may hold NUL bytes: len counts */
    size_t len;
};
struct secret_forms {
    struct secret_form *v;
    size_t n, cap;
    bool failed; /* out of memory: the caller withholds the text */
};

static void forms_add_one(struct secret_forms *f, const char *s, size_t len)
{
    if (len < SECRET_MIN_BYTES || f->failed)
        return;
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].len == len && memcmp(f->v[i].s, s, len) == 0)
            return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        struct secret_form *v = reallocarray(f->v, cap, sizeof(*v));
        if (!v) {
            f->failed = true;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        f->failed = true;
        return;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    f->v[f->n++] = (struct secret_form){copy, len};
}

static void forms_add_escaped(struct secret_forms *f, const char *s, size_t len, enum escape esc)
{
    struct render_buf b;
    render_buf_init(&b, 6 * len + 16); /* the longest escape: "\u0001" for one byte */
    render_buf_escape(&b, s, len, esc);
    if (b.err)
        f->failed = true;
    else if (b.data)
        forms_add_one(f, b.data, b.len);
    render_buf_done(&b);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void forms_add(struct secret_forms *f, const char *s, size_t len, bool decode);

/* s[0..len) with %XX escapes decoded (and '+' as a space when form). */
static void forms_add_decoded(struct secret_forms *f, const char *s, size_t len, bool form)
{
    char *d = malloc(len + 1);
    if (!d) {
        f->failed = true;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = s[i] == '%' && i + 2 < len ? hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[o++] = form && s[i] == '+' ? ' ' : s[i];
        }
    }
    forms_add(f, d, o, false);
    explicit_bzero(d, len + 1);
    free(d);
}

/* s[0..len) as written, percent-encoded (URL and form), JSON-escaped (some encoders
 * write "\/"), base64 with and without padding (a "Basic" credential, a header a gateway
 * echoes), and, when decode, percent-decoded (a URL's token as the server read it). */
static void forms_add(struct secret_forms *f, const char *s, size_t len, bool decode)
{
    if (len < SECRET_MIN_BYTES)
        return;
    forms_add_one(f, s, len);
    forms_add_escaped(f, s, len, ESCAPE_URL);
    forms_add_escaped(f, s, len, ESCAPE_FORM);
    forms_add_escaped(f, s, len, ESCAPE_JSON);
    if (memchr(s, '/', len)) {
        struct render_buf b;
        render_buf_init(&b, 2 * len + 16);
        for (size_t i = 0; i < len; i++)
            render_buf_add(&b, s[i] == '/' ? "\\/" : s + i, s[i] == '/' ? 2 : 1);
        if (b.err)
            f->failed = true;
        else
            forms_add_one(f, b.data, b.len);
        render_buf_done(&b);
    }
    size_t size = SIGN_BASE64_SIZE(len);
    char *b64 = malloc(size);
    int n = b64 ? sign_base64(s, len, b64, size) : -ENOMEM;
    if (n < 0) {
        f->failed = true;
    } else {
        forms_add_one(f, b64, (size_t)n);
        while (n > 0 && b64[n - 1] == '=')
            n--;
        forms_add_one(f, b64, (size_t)n);
    }
    if (b64) {
        explicit_bzero(b64, size);
        free(b64);
    }
    if (decode && (memchr(s, '%', len) || memchr(s, '+', len)))
        forms_add_decoded(f, s, len, true);
    if (decode && memchr(s, '%', len))
        forms_add_decoded(f, s, len, false);
}

/* A token of the channel's URL or form body: user info ("user:password", and the
 * password alone), path segments and query values. Placeholders are not secrets. */
static void forms_add_token(void *userdata, const char *s, size_t n)
{
    struct secret_forms *f = userdata;
    if (memmem(s, n, "{{", 2))
        return;
    forms_add(f, s, n, true);
    const char *colon = memchr(s, ':', n);
    if (colon)
        forms_add(f, colon + 1, (size_t)(s + n - colon - 1), true);
}

static bool header_public(const char *line, size_t name_len)
{
    for (size_t i = 0; public_headers[i]; i++)
        if (strlen(public_headers[i]) == name_len &&
            strncasecmp(line, public_headers[i], name_len) == 0)
            return true;
    return false;
}

/* The credential of a header template's value: the whole value, the part after an
 * auth scheme ("Bearer x", "Basic x"), and what a Basic credential decodes to; in a
 * value with placeholders, the literal words that look like tokens. */
static void forms_add_header(struct secret_forms *f, const char *line)
{
    size_t name_len = strcspn(line, ":");
    if (!line[name_len] || header_public(line, name_len))
        return;
    const char *v = line + name_len + 1;
    v += strspn(v, " \t");
    size_t len = strlen(v);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (memmem(v, len, "{{", 2)) {
        for (size_t i = 0; i < len;) {
            size_t word = strcspn(v + i, " \t{}");
            if (word > len - i)
                word = len - i;
            if (token_like(v + i, word))
                forms_add(f, v + i, word, true);
            i += word ? word : 1;
        }
        return;
    }
    forms_add(f, v, len, true);
    const char *space = memchr(v, ' ', len);
    if (!space)
        return;
    const char *cred = space + 1 + strspn(space + 1, " ");
    size_t cred_len = len - (size_t)(cred - v);
    forms_add(f, cred, cred_len, true);
    if (space - v == 5 && strncasecmp(v, "Basic", 5) == 0) {
        unsigned char *plain = malloc(cred_len + 1);
        size_t plain_len;
        if (plain && sign_base64_decode(cred, cred_len, plain, cred_len + 1, &plain_len) == 0)
            forms_add_token(f, (const char *)plain, plain_len);
        if (plain) {
            explicit_bzero(plain, cred_len + 1);
            free(plain);
        }
    }
}

static int longest_first(const void *a, const void *b)
{
    size_t la = ((const struct secret_form *)a)->len, lb = ((const struct secret_form *)b)->len;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

static void forms_build(const struct conf_channel *ch, struct secret_forms *f)
{
    const char *secrets[] = {ch->secret, ch->password, ch->routing_key, ch->access_key_secret};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (secrets[i])
            forms_add(f, secrets[i], strlen(secrets[i]), false);
    if (ch->username && ch->password) {
        /* HTTP Basic and SMTP AUTH PLAIN carry the pair. */
        char *pair = NULL;
        int n = asprintf(&pair, "%s:%s", ch->username, ch->password);
        if (n < 0)
            f->failed = true;
        else
            forms_add(f, pair, (size_t)n, false);
        if (pair) {
            explicit_bzero(pair, strlen(pair));
            free(pair);
        }
    }
    if (ch->url)
        redact_scan(ch->url, NULL, forms_add_token, f);
    for (size_t i = 0; i < ch->headers.n; i++)
        if (ch->headers.v[i])
            forms_add_header(f, ch->headers.v[i]);
    if (ch->type == CHANNEL_SMS && ch->body &&
        escape_for_content_type(escape_content_type(&ch->headers)) == ESCAPE_FORM)
        redact_pairs(ch->body, ch->body + strlen(ch->body), NULL, forms_add_token, f);
    /* Longest first, so that a secret wins over a shorter one it holds. */
    if (f->n)
        qsort(f->v, f->n, sizeof(f->v[0]), longest_first);
}

static void forms_done(struct secret_forms *f)
{
    for (size_t i = 0; i < f->n; i++) {
        explicit_bzero(f->v[i].s, f->v[i].len);
        free(f->v[i].s);
    }
    free(f->v);
    *f = (struct secret_forms){.v = NULL};
}

#define WITHHELD "(text withheld: out of memory while removing secrets)"

/* Copy in[0..len) to out (which may be in: the copy never grows) with every secret form
 * found, leftmost and longest first, as "***" and NUL bytes as spaces, until out holds
 * max bytes (or up to 2 more, the end of a "***"). *ret_used gets the bytes of in read.
 * Returns the bytes written; out is not terminated. */
static size_t scrub_copy(const struct secret_forms *f, const char *in, size_t len, char *out,
                         size_t max, size_t *ret_used)
{
    size_t i = 0, o = 0;
    while (i < len && o < max) {
        size_t hit = 0;
        for (size_t k = 0; k < f->n && !hit; k++) {
            size_t n = f->v[k].len;
            if (n <= len - i && f->v[k].s[0] == in[i] && memcmp(in + i, f->v[k].s, n) == 0)
                hit = n;
        }
        if (hit) {
            memcpy(out + o, "***", 3); /* hit >= 4: never past what is still to read */
            o += 3;
            i += hit;
        } else {
            out[o++] = in[i] ? in[i] : ' ';
            i++;
        }
    }
    *ret_used = i;
    return o;
}

/* ---- classification ---- */

/* A short single-line quotation of s[0..len) (printable; bad UTF-8 as '?'), scrubbed of
 * the channel's secrets before it is cut: a secret across the cut cannot leave its
 * start behind. Only as much is scrubbed as the quotation shows. */
static void quote_answer(const struct conf_channel *ch, const char *s, size_t len, char *out,
                         size_t size)
{
    out[0] = '\0';
    struct secret_forms f = {.v = NULL};
    forms_build(ch, &f);
    if (f.failed) {
        forms_done(&f);
        snprintf(out, size, "%s", WITHHELD);
        return;
    }
    char clean[ANSWER_QUOTE_MAX + 8];
    size_t used;
    size_t clean_len = scrub_copy(&f, s, len, clean, ANSWER_QUOTE_MAX + 1, &used);
    forms_done(&f);
    size_t keep = render_utf8_prefix(clean, clean_len, ANSWER_QUOTE_MAX);
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

static void set_verdict(struct channel_verdict *v, const struct conf_channel *ch,
                        enum retry_outcome outcome, int64_t retry_after_ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void set_verdict(struct channel_verdict *v, const struct conf_channel *ch,
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
        struct secret_forms f = {.v = NULL};
        forms_build(ch, &f);
        size_t used;
        if (f.failed)
            len = (size_t)snprintf(whole, sizeof(whole), "%s", WITHHELD);
        else
            len = scrub_copy(&f, whole, len, whole, len, &used);
        forms_done(&f);
    }
    size_t keep = render_utf8_prefix(whole, len, sizeof(v->reason) - 1);
    memcpy(v->reason, whole, keep);
    v->reason[keep] = '\0';
    explicit_bzero(whole, sizeof(whole));
}

static json_t *answer_json(const struct channel_response *resp)
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
static void answer_text(const struct conf_channel *ch, json_t *o, const char *key, char *out,
                        size_t size)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    quote_answer(ch, s, strlen(s), out, size);
}

static bool status_2xx(long status)
{
    return status >= 200 && status <= 299;
}

/* DingTalk and WeCom: {"errcode":0,"errmsg":"ok"}. Returns true when it decided. */
static bool classify_errcode(const struct conf_channel *ch, const struct channel_response *resp,
                             struct channel_verdict *v)
{
    if (!status_2xx(resp->status))
        return false;
    const char *vendor = ch->type == CHANNEL_DINGTALK ? "dingtalk" : "wecom";
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "errcode") : NULL;
    if (!json_is_integer(code)) {
        json_decref(o);
        set_verdict(v, ch, RETRY_DEAD, -1,
                    "%s: HTTP %ld without an errcode: is the url a %s robot?", vendor, resp->status,
                    vendor);
        return true;
    }
    json_int_t c = json_integer_value(code);
    char msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, "errmsg", msg, sizeof(msg));
    json_decref(o);
    if (c == 0) {
        set_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    /* -1 is "system busy, try later" for both; the rest are their rate limits. */
    bool busy = c == -1;
    bool throttled =
        (ch->type == CHANNEL_DINGTALK && c == 130101) || (ch->type == CHANNEL_WECOM && c == 45009);
    int64_t after =
        throttled ? (ch->type == CHANNEL_DINGTALK ? DINGTALK_THROTTLE_MS : WECOM_THROTTLE_MS) : -1;
    set_verdict(v, ch, busy || throttled ? RETRY_AGAIN : RETRY_DEAD, after,
                "%s errcode %" JSON_INTEGER_FORMAT ": %s", vendor, c, msg);
    return true;
}

/* Feishu: {"code":0,"msg":"success"} (older: {"StatusCode":0,...}). */
static bool classify_feishu(const struct conf_channel *ch, const struct channel_response *resp,
                            struct channel_verdict *v)
{
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "code") : NULL;
    if (!json_is_integer(code) && o)
        code = json_object_get(o, "StatusCode");
    if (!json_is_integer(code)) {
        json_decref(o);
        if (!status_2xx(resp->status))
            return false;
        set_verdict(v, ch, RETRY_DEAD, -1,
                    "feishu: HTTP %ld without a code: is the url a Feishu bot?", resp->status);
        return true;
    }
    json_int_t c = json_integer_value(code);
    char msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, json_object_get(o, "msg") ? "msg" : "StatusMessage", msg, sizeof(msg));
    json_decref(o);
    if (c == 0 && status_2xx(resp->status)) {
        set_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    if (c == 0)
        return false;
    /* 11232: frequency limited. */
    bool again = c == 11232 || resp->status == 429 || resp->status >= 500;
    set_verdict(v, ch, again ? RETRY_AGAIN : RETRY_DEAD, -1,
                "feishu code %" JSON_INTEGER_FORMAT ": %s", c, msg);
    return true;
}

/* Alibaba Cloud: {"Code":"OK",...}; errors may come with 200 or 4xx. */
static bool classify_aliyun(const struct conf_channel *ch, const struct channel_response *resp,
                            struct channel_verdict *v)
{
    json_t *o = answer_json(resp);
    json_t *code = o ? json_object_get(o, "Code") : NULL;
    if (!json_is_string(code)) {
        json_decref(o);
        if (!status_2xx(resp->status))
            return false;
        set_verdict(v, ch, RETRY_DEAD, -1, "aliyun_sms: HTTP %ld without a Code", resp->status);
        return true;
    }
    char c[80], msg[ANSWER_QUOTE_MAX + 8];
    answer_text(ch, o, "Code", c, sizeof(c));
    answer_text(ch, o, "Message", msg, sizeof(msg));
    json_decref(o);
    if (strcmp(c, "OK") == 0 && status_2xx(resp->status)) {
        set_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return true;
    }
    bool throttled =
        strcmp(c, "isv.BUSINESS_LIMIT_CONTROL") == 0 || strncmp(c, "Throttling", 10) == 0;
    bool busy = strcmp(c, "ServiceUnavailable") == 0 || strcmp(c, "InternalError") == 0 ||
                resp->status >= 500;
    set_verdict(v, ch, throttled || busy ? RETRY_AGAIN : RETRY_DEAD,
                throttled ? ALIYUN_THROTTLE_MS : -1, "aliyun_sms Code %s: %s", c, msg);
    return true;
}

void channel_classify(const struct conf_channel *ch, const struct channel_response *resp,
                      int64_t now_ms, struct channel_verdict *v)
{
    const char *error = resp->error && *resp->error ? resp->error : NULL;
    char quoted[ANSWER_QUOTE_MAX + 8] = "";
    if (error)
        quote_answer(ch, error, strlen(error), quoted, sizeof(quoted));
    bool smtp = ch->type == CHANNEL_EMAIL;

    switch (resp->xfer) {
    case CHANNEL_XFER_TIMEOUT:
        set_verdict(v, ch, RETRY_AGAIN, -1, "timed out%s%s", error ? ": " : "", quoted);
        return;
    case CHANNEL_XFER_PERMANENT:
        set_verdict(v, ch, RETRY_DEAD, -1, "%s", error ? quoted : "request cannot be sent");
        return;
    case CHANNEL_XFER_NETWORK:
        if (smtp && resp->status >= 500 && resp->status <= 599) {
            /* A permanent SMTP refusal (unknown mailbox, relaying denied). */
            set_verdict(v, ch, RETRY_DEAD, -1, "SMTP %ld%s%s", resp->status, error ? ": " : "",
                        quoted);
            return;
        }
        if (smtp && resp->status >= 400)
            set_verdict(v, ch, RETRY_AGAIN, -1, "SMTP %ld%s%s", resp->status, error ? ": " : "",
                        quoted);
        else
            set_verdict(v, ch, RETRY_AGAIN, -1, "%s", error ? quoted : "connection failed");
        return;
    case CHANNEL_XFER_OK:
        break;
    }
    if (smtp || ch->type == CHANNEL_FILE) {
        set_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return;
    }
    switch (ch->type) {
    case CHANNEL_DINGTALK:
    case CHANNEL_WECOM:
        if (classify_errcode(ch, resp, v))
            return;
        break;
    case CHANNEL_FEISHU:
        if (classify_feishu(ch, resp, v))
            return;
        break;
    case CHANNEL_ALIYUN_SMS:
        if (classify_aliyun(ch, resp, v))
            return;
        break;
    default:
        break;
    }
    long status = resp->status;
    if (status <= 0) {
        set_verdict(v, ch, RETRY_AGAIN, -1, "%s", "no HTTP status in the answer");
        return;
    }
    if (status_2xx(status)) {
        set_verdict(v, ch, RETRY_SENT, -1, "%s", "");
        return;
    }
    char answer[ANSWER_QUOTE_MAX + 8] = "";
    if (resp->body)
        quote_answer(ch, resp->body, resp->body_len, answer, sizeof(answer));
    const char *colon = answer[0] ? ": " : "";
    if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
        int64_t after = -1;
        if ((status == 429 || status == 503) && resp->retry_after &&
            retry_after_parse(resp->retry_after, now_ms, &after) < 0)
            after = -1;
        set_verdict(v, ch, RETRY_AGAIN, after, "HTTP %ld%s%s", status, colon, answer);
        return;
    }
    if (status >= 300 && status <= 399) {
        set_verdict(v, ch, RETRY_DEAD, -1, "HTTP %ld: redirects are not followed; fix the url",
                    status);
        return;
    }
    set_verdict(v, ch, RETRY_DEAD, -1, "HTTP %ld%s%s", status, colon, answer);
}
