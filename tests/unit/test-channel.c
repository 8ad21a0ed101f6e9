/* test-channel.c - the exact bytes of every channel type's request for one fixed
 * notification at a fixed instant with fixed random bytes (signatures recomputed
 * independently with Python's hmac when these were written), the variants (no secret, no
 * mention, long texts, long keys, non-ASCII subjects, header injection), refusals, the
 * classification table (status x body -> outcome), and URL redaction. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "calendar.h"
#include "channel.h"
#include "redact.h"
#include "sign.h"
#include "utf8.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)
/* 2026-03-02 08:00:00 UTC (16:00 in Shanghai). */
#define NOW INT64_C(1772438400000)

#define UA "User-Agent: slad/" SLAD_VERSION

static const uint8_t nonce[CHANNEL_NONCE_BYTES] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                   8, 9, 10, 11, 12, 13, 14, 15};

struct fixture {
    struct calendar *cal;
    struct ticket t;
    struct notification n;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct calendar_spec spec = {.name = "cn", .timezone = "Asia/Shanghai"};
    for (int d = 0; d < 7; d++)
        spec.week[d] = (struct calendar_day_hours){.iv = {{0, 1440}}, .n = 1};
    if (calendar_new(&spec, &f->cal, NULL) < 0)
        fail_msg("calendar");
    struct ticket *t = &f->t;
    ticket_init(t);
    t->id = 42;
    ticket_set_string(&t->title, "Air conditioner not cooling");
    t->severity = 1;
    t->status = TICKET_DISPATCHED;
    ticket_set_string(&t->source, "crm");
    ticket_set_string(&t->external_id, "C-1001");
    ticket_set_string(&t->team, "north");
    ticket_set_string(&t->assignee, "zhang.san");
    ticket_set_string(&t->region, "city");
    ticket_set_string(&t->policy, "critical-city");
    t->reported_at_ms = t->created_at_ms = NOW - 2 * H;
    t->updated_at_ms = NOW - H;
    struct slaclock *c = &t->clocks[0];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "response");
    c->state = SLACLOCK_BREACHED;
    c->target_ms = H;
    c->elapsed_ms = H;
    c->since_ms = NOW - 30 * M;
    c->started_at_ms = NOW - 90 * M;
    c->due_at_ms = c->breached_at_ms = NOW - 30 * M;
    c->stopped_at_ms = SLAD_NO_TIME;
    c->stop_event = -1;
    t->n_clocks = 1;
    f->n = (struct notification){
        .event = "sla.breach",
        .idempotency_key = "t42/response/step2/r0/supervisor",
        .ticket = t,
        .clock = c,
        .calendar = f->cal,
        .step = 2,
        .recipient = "supervisor",
        .contact = "li.si",
        .to = "+8613800000002",
        .text = "ticket #42 \"AC\" <late> & 超时\nline 2",
        .subject = "[slad] Breach: ticket #42 response",
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ticket_done(&f->t);
    calendar_free(f->cal);
    free(f);
    return 0;
}

static char *twilio_headers[] = {"Content-Type: application/x-www-form-urlencoded"};
static char *json_headers[] = {"Content-Type: application/json",
                               "X-Ticket: {{ticket.id}} {{ticket.title}}"};

static const struct conf_channel ch_webhook = {
    .name = "hook",
    .type = CHANNEL_WEBHOOK,
    .url = "http://127.0.0.1:9000/hook",
    .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
};
static const struct conf_channel ch_slack = {
    .name = "slack",
    .type = CHANNEL_SLACK,
    .url = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
};
static const struct conf_channel ch_dingtalk = {
    .name = "ding",
    .type = CHANNEL_DINGTALK,
    .url = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123456",
    .secret = "SEC0123456789abcdef",
};
static const struct conf_channel ch_wecom = {
    .name = "wecom",
    .type = CHANNEL_WECOM,
    .url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
};
static const struct conf_channel ch_feishu = {
    .name = "feishu",
    .type = CHANNEL_FEISHU,
    .url = "https://open.feishu.cn/open-apis/bot/v2/hook/0f2ea4c1-0000-4000-8000-000000000000",
    .secret = "feishu-secret",
};
static const struct conf_channel ch_pagerduty = {
    .name = "pd",
    .type = CHANNEL_PAGERDUTY,
    .url = "https://events.pagerduty.com/v2/enqueue",
    .routing_key = "R0123456789abcdef0123456789abcde",
};
static const struct conf_channel ch_twilio = {
    .name = "twilio",
    .type = CHANNEL_SMS,
    .url = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json",
    .method = "POST",
    .headers = {twilio_headers, 1},
    .body = "To={{to}}&From=%2B15005550006&Body={{text}}",
    .username = "AC123",
    .password = "authtoken",
};
static const struct conf_channel ch_kannel = {
    .name = "kannel",
    .type = CHANNEL_SMS,
    .url = "http://127.0.0.1:13013/cgi-bin/sendsms?username=slad&password=pw&to={{to}}"
           "&text={{text}}&charset=UTF-8&coding=2",
    .method = "GET",
};
static const struct conf_channel ch_sms_json = {
    .name = "sms",
    .type = CHANNEL_SMS,
    .url = "http://127.0.0.1:9001/send",
    .method = "POST",
    .headers = {json_headers, 2},
    .body = "{\"to\":\"{{to}}\",\"text\":\"{{text}}\"}",
};
static const struct conf_channel ch_sms_plain = {
    .name = "sms-plain",
    .type = CHANNEL_SMS,
    .url = "http://127.0.0.1:9001/send",
    .method = "POST",
};
static const struct conf_channel ch_aliyun = {
    .name = "ali",
    .type = CHANNEL_ALIYUN_SMS,
    .url = "https://dysmsapi.aliyuncs.com/",
    .access_key_id = "testId",
    .access_key_secret = "testSecret",
    .sign_name = "阿里云短信测试专用",
    .template_code = "SMS_71390007",
};
static const struct conf_channel ch_email = {
    .name = "mail",
    .type = CHANNEL_EMAIL,
    .url = "smtp://127.0.0.1:25",
    .from = "slad@example.com",
    .username = "slad",
    .password = "mailpw",
};
static const struct conf_channel ch_file = {
    .name = "log",
    .type = CHANNEL_FILE,
    .path = "/var/lib/slad/notifications.jsonl",
};

/* The webhook (and file) body for the fixture at NOW. */
#define WEBHOOK_BODY_HEAD                                                                          \
    "{\"version\":1,\"event\":\"sla.breach\",\"idempotency_key\":"                                 \
    "\"t42/response/step2/r0/supervisor\",\"ticket\":{\"id\":42,\"source\":\"crm\","               \
    "\"external_id\":\"C-1001\",\"title\":\"Air conditioner not cooling\",\"description\":null,"   \
    "\"severity\":1,\"grade\":null,\"region\":\"city\",\"team\":\"north\",\"assignee\":"           \
    "\"zhang.san\",\"customer\":{\"name\":null,\"phone\":null,\"address\":null},\"device\":"       \
    "{\"model\":null,\"serial\":null},\"fault_code\":null,\"reported_at\":"                        \
    "\"2026-03-02T06:00:00Z\",\"appointment_at\":null,\"labels\":{},\"status\":\"dispatched\","    \
    "\"policy\":\"critical-city\",\"clocks\":[{\"name\":\"response\",\"state\":\"breached\","      \
    "\"target_s\":3600,\"elapsed_s\":3600,\"due_at\":\"2026-03-02T07:30:00Z\",\"started_at\":"     \
    "\"2026-03-02T06:30:00Z\",\"stopped_at\":null,\"breached_at\":\"2026-03-02T07:30:00Z\"}],"     \
    "\"created_at\":\"2026-03-02T06:00:00Z\",\"updated_at\":\"2026-03-02T07:00:00Z\","             \
    "\"reopen_count\":0,\"repeat_count\":0},\"clock\":{\"name\":\"response\",\"state\":"           \
    "\"breached\",\"target_s\":3600,\"elapsed_s\":5400,\"due_at\":\"2026-03-02T07:30:00Z\","       \
    "\"started_at\":\"2026-03-02T06:30:00Z\",\"stopped_at\":null,\"breached_at\":"                 \
    "\"2026-03-02T07:30:00Z\"},\"step\":2,\"recipient\":\"supervisor\",\"contact\":\"li.si\","     \
    "\"to\":"
#define WEBHOOK_BODY_TAIL                                                                          \
    ",\"text\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\","                                \
    "\"followup\":null,\"link\":null,"                                                             \
    "\"sent_at\":\"2026-03-02T08:00:00Z\"}"

struct expect {
    int line;
    const struct conf_channel *ch;
    const char *to; /* NULL: the fixture's */
    enum channel_transport transport;
    const char *method, *url;
    const char *headers[8];
    const char *body;
};

static const struct expect expects[] = {
    {__LINE__,
     &ch_webhook,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "http://127.0.0.1:9000/hook",
     {"Content-Type: application/json; charset=utf-8", UA,
      "webhook-id: t42/response/step2/r0/supervisor", "webhook-timestamp: 1772438400",
      "webhook-signature: v1,M05r9lbejsBuUCmSyzZRYz0MYDlDBvr7SOmBuu/tL2I=",
      "X-Slad-Event: sla.breach", "Idempotency-Key: t42/response/step2/r0/supervisor"},
     WEBHOOK_BODY_HEAD "\"+8613800000002\"" WEBHOOK_BODY_TAIL},
    {__LINE__,
     &ch_slack,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"text\":\"ticket #42 \\\"AC\\\" &lt;late&gt; &amp; 超时\\nline 2\"}"},
    {__LINE__,
     &ch_dingtalk,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123456&timestamp=1772438400000"
     "&sign=Mi4bc6clnwpltQ%2FAXbAjl1yYPYwOGGKt3QyVZogrKdI%3D",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\"[slad] Breach: ticket #42 response\","
     "\"text\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\\n\\n@13800000002\"},\"at\":"
     "{\"atMobiles\":[\"13800000002\"],\"isAtAll\":false}}"},
    {__LINE__,
     &ch_wecom,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"msgtype\":\"text\",\"text\":{\"content\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\","
     "\"mentioned_mobile_list\":[\"13800000002\"]}}"},
    {__LINE__,
     &ch_wecom,
     "",
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":\"ticket #42 \\\"AC\\\" <late> & "
     "超时\\nline 2\"}}"},
    {__LINE__,
     &ch_feishu,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://open.feishu.cn/open-apis/bot/v2/hook/0f2ea4c1-0000-4000-8000-000000000000",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"timestamp\":\"1772438400\",\"sign\":\"URXajBn991G8duFe25nI4QObsUPWdNdfDE2wDGfegMU=\","
     "\"msg_type\":\"text\",\"content\":{\"text\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline "
     "2\"}}"},
    {__LINE__,
     &ch_pagerduty,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://events.pagerduty.com/v2/enqueue",
     {"Content-Type: application/json; charset=utf-8", UA},
     "{\"routing_key\":\"R0123456789abcdef0123456789abcde\",\"event_action\":\"trigger\","
     "\"dedup_key\":\"t42/response/step2/r0/supervisor\",\"payload\":{\"summary\":\"ticket #42 "
     "\\\"AC\\\" <late> & 超时\\nline 2\",\"source\":\"slad\",\"severity\":\"critical\","
     "\"timestamp\":\"2026-03-02T08:00:00Z\",\"custom_details\":{\"ticket_id\":42,\"title\":"
     "\"Air conditioner not cooling\",\"status\":\"dispatched\",\"clock\":\"response\",\"step\":2,"
     "\"recipient\":\"supervisor\"},\"component\":\"response\",\"group\":\"north\",\"class\":"
     "\"sla.breach\"},\"client\":\"slad\"}"},
    {__LINE__,
     &ch_twilio,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json",
     {"Content-Type: application/x-www-form-urlencoded", UA,
      "Authorization: Basic QUMxMjM6YXV0aHRva2Vu"},
     "To=%2B8613800000002&From=%2B15005550006&Body=ticket+%2342+%22AC%22+%3Clate%3E+%26+"
     "%E8%B6%85%E6%97%B6%0Aline+2"},
    {__LINE__,
     &ch_kannel,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "GET",
     "http://127.0.0.1:13013/cgi-bin/sendsms?username=slad&password=pw&to=%2B8613800000002"
     "&text=ticket%20%2342%20%22AC%22%20%3Clate%3E%20%26%20%E8%B6%85%E6%97%B6%0Aline%202"
     "&charset=UTF-8&coding=2",
     {UA},
     NULL},
    {__LINE__,
     &ch_sms_json,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "http://127.0.0.1:9001/send",
     {"Content-Type: application/json", "X-Ticket: 42 Air conditioner not cooling", UA},
     "{\"to\":\"+8613800000002\",\"text\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\"}"},
    {__LINE__,
     &ch_sms_plain,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "POST",
     "http://127.0.0.1:9001/send",
     {UA, "Content-Type: application/x-www-form-urlencoded"},
     "to=%2B8613800000002&text=ticket+%2342+%22AC%22+%3Clate%3E+%26+%E8%B6%85%E6%97%B6%0A"
     "line+2"},
    {__LINE__,
     &ch_aliyun,
     NULL,
     CHANNEL_TRANSPORT_HTTP,
     "GET",
     "https://dysmsapi.aliyuncs.com/?AccessKeyId=testId&Action=SendSms&Format=JSON"
     "&PhoneNumbers=13800000002&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91"
     "%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1"
     "&SignatureNonce=00010203-0405-4607-8809-0a0b0c0d0e0f&SignatureVersion=1.0"
     "&TemplateCode=SMS_71390007&TemplateParam=%7B%22text%22%3A%22ticket%20%2342%20%5C%22AC"
     "%5C%22%20%3Clate%3E%20%26%20%E8%B6%85%E6%97%B6%5Cnline%202%22%7D"
     "&Timestamp=2026-03-02T08%3A00%3A00Z&Version=2017-05-25"
     "&Signature=zFBLY1nqvQKVkqMMJZvzl6bt2aM%3D",
     {UA},
     NULL},
    {__LINE__,
     &ch_email,
     "li.si@example.com",
     CHANNEL_TRANSPORT_SMTP,
     NULL,
     "smtp://127.0.0.1:25",
     {NULL},
     "Date: Mon, 02 Mar 2026 08:00:00 +0000\r\n"
     "From: slad <slad@example.com>\r\n"
     "To: <li.si@example.com>\r\n"
     "Subject: [slad] Breach: ticket #42 response\r\n"
     "Message-ID: <7e5f5c05689a6cd557b650605191fedc@example.com>\r\n"
     "MIME-Version: 1.0\r\n"
     "Content-Type: text/plain; charset=utf-8\r\n"
     "Content-Transfer-Encoding: base64\r\n"
     "X-Slad-Event: sla.breach\r\n"
     "X-Slad-Idempotency-Key: t42/response/step2/r0/supervisor\r\n"
     "\r\n"
     "dGlja2V0ICM0MiAiQUMiIDxsYXRlPiAmIOi2heaXtg0KbGluZSAy\r\n"},
    {__LINE__,
     &ch_file,
     NULL,
     CHANNEL_TRANSPORT_FILE,
     NULL,
     NULL,
     {NULL},
     WEBHOOK_BODY_HEAD "\"+8613800000002\"" WEBHOOK_BODY_TAIL "\n"},
};

static void check_request(const struct expect *x, const struct channel_request *r)
{
    if (r->transport != x->transport)
        fail_msg("line %d: transport %d", x->line, r->transport);
    if ((r->method == NULL) != (x->method == NULL) ||
        (x->method && strcmp(r->method, x->method) != 0))
        fail_msg("line %d: method %s", x->line, r->method ? r->method : "NULL");
    if ((r->url == NULL) != (x->url == NULL) || (x->url && strcmp(r->url, x->url) != 0))
        fail_msg("line %d: url\n  got  %s\n  want %s", x->line, r->url ? r->url : "NULL",
                 x->url ? x->url : "NULL");
    size_t n = 0;
    while (n < 8 && x->headers[n])
        n++;
    if (r->n_headers != n)
        fail_msg("line %d: %zu headers, expected %zu", x->line, r->n_headers, n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(r->headers[i], x->headers[i]) != 0)
            fail_msg("line %d: header %zu\n  got  %s\n  want %s", x->line, i, r->headers[i],
                     x->headers[i]);
    if ((r->body == NULL) != (x->body == NULL))
        fail_msg("line %d: body %s", x->line, r->body ? r->body : "NULL");
    if (x->body && (r->body_len != strlen(x->body) || strcmp(r->body, x->body) != 0))
        fail_msg("line %d: body\n  got  %s\n  want %s", x->line, r->body, x->body);
}

static void test_exact_requests(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        const struct expect *x = &expects[i];
        struct notification n = f->n;
        if (x->to)
            n.to = x->to;
        struct channel_request r;
        struct slad_error err = {{0}};
        if (channel_build(x->ch, &n, NOW, nonce, &r, &err) < 0)
            fail_msg("line %d: %s", x->line, err.msg);
        check_request(x, &r);
        channel_request_done(&r);
        /* Building is a function of its inputs. */
        if (channel_build(x->ch, &n, NOW, nonce, &r, &err) < 0)
            fail_msg("line %d: %s", x->line, err.msg);
        check_request(x, &r);
        channel_request_done(&r);
    }
}

static void test_email_envelope(void **state)
{
    struct fixture *f = *state;
    struct notification n = f->n;
    n.to = "li.si@example.com";
    struct channel_request r;
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.mail_from, "slad@example.com");
    assert_int_equal(r.n_rcpt, 1);
    assert_string_equal(r.rcpt_to[0], "li.si@example.com");
    assert_string_equal(r.username, "slad");
    assert_string_equal(r.password, "mailpw");
    assert_null(r.path);
    channel_request_done(&r);
    assert_null(r.url);
    assert_int_equal(r.n_headers, 0);

    /* The file channel. */
    assert_int_equal(channel_build(&ch_file, &n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.path, "/var/lib/slad/notifications.jsonl");
    assert_int_equal(r.body[r.body_len - 1], '\n');
    assert_null(memchr(r.body, '\n', r.body_len - 1));
    channel_request_done(&r);
}

/* A retry a second later differs only in its time-dependent parts. */
static void test_retry_differs_in_time_only(void **state)
{
    struct fixture *f = *state;
    struct channel_request a, b;
    assert_int_equal(channel_build(&ch_webhook, &f->n, NOW, nonce, &a, NULL), 0);
    assert_int_equal(channel_build(&ch_webhook, &f->n, NOW + 1500, nonce, &b, NULL), 0);
    assert_string_equal(a.headers[2], b.headers[2]); /* webhook-id */
    assert_string_equal(b.headers[3], "webhook-timestamp: 1772438401");
    assert_string_not_equal(a.headers[4], b.headers[4]);
    assert_non_null(strstr(b.body, "\"sent_at\":\"2026-03-02T08:00:01.500Z\""));
    /* The signature verifies over what is sent: id.timestamp.body. */
    char sig[SIGN_TEXT_MAX];
    assert_int_equal(sign_standard_webhook(ch_webhook.secret, "t42/response/step2/r0/supervisor",
                                           1772438401, b.body, b.body_len, sig, sizeof(sig), NULL),
                     0);
    assert_string_equal(b.headers[4] + strlen("webhook-signature: "), sig);
    channel_request_done(&a);
    channel_request_done(&b);
}

static void test_signing_vectors_in_requests(void **state)
{
    struct fixture *f = *state;
    struct channel_request r;
    /* ecosystem.md 4.1 vectors, as sent. */
    assert_int_equal(channel_build(&ch_dingtalk, &f->n, INT64_C(1700000000000), nonce, &r, NULL),
                     0);
    assert_string_equal(r.url, "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123456"
                               "&timestamp=1700000000000"
                               "&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D");
    channel_request_done(&r);
    assert_int_equal(channel_build(&ch_feishu, &f->n, INT64_C(1700000000000), nonce, &r, NULL), 0);
    assert_memory_equal(r.body,
                        "{\"timestamp\":\"1700000000\","
                        "\"sign\":\"OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=\",",
                        74);
    channel_request_done(&r);

    /* Without secrets: no signature, URLs as configured. */
    struct conf_channel ding = ch_dingtalk, feishu = ch_feishu, hook = ch_webhook;
    ding.secret = feishu.secret = hook.secret = NULL;
    ding.url = "https://oapi.dingtalk.com/robot/send"; /* no query yet: '?' */
    assert_int_equal(channel_build(&ding, &f->n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.url, "https://oapi.dingtalk.com/robot/send");
    channel_request_done(&r);
    ding.secret = "SEC0123456789abcdef";
    assert_int_equal(channel_build(&ding, &f->n, NOW, nonce, &r, NULL), 0);
    assert_memory_equal(r.url, "https://oapi.dingtalk.com/robot/send?timestamp=", 47);
    channel_request_done(&r);
    assert_int_equal(channel_build(&feishu, &f->n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.body, "{\"msg_type\":\"text\",\"content\":{\"text\":\"ticket #42 "
                                "\\\"AC\\\" <late> & 超时\\nline 2\"}}");
    channel_request_done(&r);
    assert_int_equal(channel_build(&hook, &f->n, NOW, nonce, &r, NULL), 0);
    assert_int_equal(r.n_headers, 6);
    for (size_t i = 0; i < r.n_headers; i++)
        assert_null(strstr(r.headers[i], "webhook-signature"));
    channel_request_done(&r);
}

static void test_variants(void **state)
{
    struct fixture *f = *state;
    struct channel_request r;
    struct notification n = f->n;

    /* DingTalk without a phone: no mention; without a subject the title is the event. */
    n.to = NULL;
    n.subject = NULL;
    assert_int_equal(channel_build(&ch_dingtalk, &n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.body, "{\"msgtype\":\"markdown\",\"markdown\":{\"title\":\"sla.breach\","
                                "\"text\":\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\"}}");
    channel_request_done(&r);

    /* WeCom cuts a long markdown text at a character, within 4096 bytes. */
    char *big = malloc(5001);
    for (int i = 0; i < 5000; i += 3)
        memcpy(big + i, "超", i + 3 <= 5000 ? 3 : (size_t)(5000 - i));
    big[4998] = 'x', big[4999] = 'y', big[5000] = '\0';
    n.text = big;
    assert_int_equal(channel_build(&ch_wecom, &n, NOW, nonce, &r, NULL), 0);
    json_t *v = json_loadb(r.body, r.body_len, 0, NULL);
    assert_non_null(v);
    const char *content =
        json_string_value(json_object_get(json_object_get(v, "markdown"), "content"));
    assert_true(strlen(content) <= 4096);
    assert_true(strlen(content) >= 4090);
    assert_string_equal(content + strlen(content) - 3, "…");
    assert_true(utf8_valid(content, strlen(content)));
    json_decref(v);
    channel_request_done(&r);

    /* PagerDuty: a summary over 1024 bytes is cut; a key over 255 is hashed; severities;
     * links. */
    f->t.severity = 4;
    char longkey[300];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    n.idempotency_key = longkey;
    n.link = "https://crm.example.com/t/42";
    assert_int_equal(channel_build(&ch_pagerduty, &n, NOW, nonce, &r, NULL), 0);
    v = json_loadb(r.body, r.body_len, 0, NULL);
    assert_non_null(v);
    const char *dedup = json_string_value(json_object_get(v, "dedup_key"));
    assert_int_equal(strlen(dedup), 5 + 64);
    assert_memory_equal(dedup, "slad:", 5);
    json_t *payload = json_object_get(v, "payload");
    assert_true(strlen(json_string_value(json_object_get(payload, "summary"))) <= 1024);
    assert_string_equal(json_string_value(json_object_get(payload, "severity")), "info");
    json_t *link = json_array_get(json_object_get(v, "links"), 0);
    assert_string_equal(json_string_value(json_object_get(link, "href")),
                        "https://crm.example.com/t/42");
    assert_string_equal(json_string_value(json_object_get(link, "text")), "ticket #42");
    json_decref(v);
    channel_request_done(&r);
    static const struct {
        int severity;
        const char *name;
    } sev[] = {{1, "critical"}, {2, "error"}, {3, "warning"}, {5, "info"}};
    n.text = "short";
    for (size_t i = 0; i < 4; i++) {
        f->t.severity = sev[i].severity;
        assert_int_equal(channel_build(&ch_pagerduty, &n, NOW, nonce, &r, NULL), 0);
        char want[64];
        snprintf(want, sizeof(want), "\"severity\":\"%s\"", sev[i].name);
        assert_non_null(strstr(r.body, want));
        channel_request_done(&r);
    }
    free(big);

    /* A follow-up event carries its follow-up in the webhook body. */
    n = f->n;
    n.event = "followup.due";
    n.clock = NULL;
    n.step = 0;
    n.followup_name = "week";
    n.followup_due_at_ms = NOW + 7 * 24 * H;
    assert_int_equal(channel_build(&ch_webhook, &n, NOW, nonce, &r, NULL), 0);
    assert_non_null(strstr(r.body, "\"clock\":null,\"step\":null,"));
    assert_non_null(strstr(r.body, "\"followup\":{\"name\":\"week\",\"due_at\":"
                                   "\"2026-03-09T08:00:00Z\"},"));
    assert_string_equal(r.headers[5], "X-Slad-Event: followup.due");
    channel_request_done(&r);

    /* A gateway's own User-Agent and Authorization win. */
    char *own[] = {"User-Agent: gw/1", "Authorization: Bearer {{ticket.id}}",
                   "Content-Type: text/plain"};
    struct conf_channel gw = ch_twilio;
    gw.headers = (struct conf_strings){own, 3};
    gw.body = "{{text}}";
    assert_int_equal(channel_build(&gw, &f->n, NOW, nonce, &r, NULL), 0);
    assert_int_equal(r.n_headers, 3);
    assert_string_equal(r.headers[1], "Authorization: Bearer 42");
    assert_string_equal(r.body, "ticket #42 \"AC\" <late> & 超时\nline 2");
    channel_request_done(&r);
    /* A body template without a Content-Type is sent as text. */
    gw.headers = (struct conf_strings){NULL, 0};
    gw.username = NULL;
    gw.method = "PUT";
    assert_int_equal(channel_build(&gw, &f->n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.headers[0], UA);
    assert_string_equal(r.headers[1], "Content-Type: text/plain; charset=utf-8");
    channel_request_done(&r);
    /* Without a body template, a JSON gateway gets {"to","text"}. */
    char *jh[] = {"Content-Type: application/json"};
    gw.headers = (struct conf_strings){jh, 1};
    gw.body = NULL;
    assert_int_equal(channel_build(&gw, &f->n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.body, "{\"to\":\"+8613800000002\",\"text\":\"ticket #42 \\\"AC\\\" "
                                "<late> & 超时\\nline 2\"}");
    channel_request_done(&r);
    /* Aliyun: an international number loses only its '+'. */
    n = f->n;
    n.to = "+85260000000";
    assert_int_equal(channel_build(&ch_aliyun, &n, NOW, nonce, &r, NULL), 0);
    assert_non_null(strstr(r.url, "&PhoneNumbers=85260000000&"));
    channel_request_done(&r);
}

static void test_header_injection(void **state)
{
    struct fixture *f = *state;
    struct notification n = f->n;
    n.idempotency_key = "t42/x\r\nX-Evil: 1";
    n.event = "sla.breach\r\nX-Evil: 2";
    ticket_set_string(&f->t.title, "a\r\nX-Evil: 3");
    struct channel_request r;
    assert_int_equal(channel_build(&ch_webhook, &n, NOW, nonce, &r, NULL), 0);
    for (size_t i = 0; i < r.n_headers; i++)
        if (strpbrk(r.headers[i], "\r\n"))
            fail_msg("header %zu has a line break: %s", i, r.headers[i]);
    assert_string_equal(r.headers[2], "webhook-id: t42/x  X-Evil: 1");
    channel_request_done(&r);
    assert_int_equal(channel_build(&ch_sms_json, &n, NOW, nonce, &r, NULL), 0);
    assert_string_equal(r.headers[1], "X-Ticket: 42 a  X-Evil: 3");
    channel_request_done(&r);
    /* E-mail: headers stay headers. */
    n.to = "li.si@example.com";
    n.subject = "s\r\nBcc: x@example.com";
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    assert_null(strstr(r.body, "\r\nBcc:"));
    assert_null(strstr(r.body, "\r\nX-Evil:"));
    assert_non_null(strstr(r.body, "X-Slad-Idempotency-Key: t42/x  X-Evil: 1\r\n"));
    channel_request_done(&r);
}

/* Decode the encoded-words of a Subject header back to text. */
static void decode_subject(const char *msg, char *out, size_t size)
{
    const char *p = strstr(msg, "Subject: ") + 9;
    const char *end = strstr(p, "\r\nMessage-ID:");
    size_t o = 0;
    while (p < end) {
        const char *w = strstr(p, "=?UTF-8?B?");
        if (!w || w >= end)
            break;
        w += 10;
        const char *close = strstr(w, "?=");
        unsigned char buf[64];
        size_t len;
        assert_int_equal(sign_base64_decode(w, (size_t)(close - w), buf, sizeof(buf), &len), 0);
        assert_true(o + len < size);
        memcpy(out + o, buf, len);
        o += len;
        p = close + 2;
    }
    out[o] = '\0';
}

static void test_email_subject_encoding(void **state)
{
    struct fixture *f = *state;
    struct notification n = f->n;
    n.to = "li.si@example.com";
    n.subject = "[slad] 超时：工单#42 response";
    struct channel_request r;
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    assert_non_null(strstr(r.body, "\r\nSubject: =?UTF-8?B?W3NsYWRdIOi2heaXtu+8muW3peWNlSM0MiBy"
                                   "ZXNwb25zZQ==?=\r\n"));
    channel_request_done(&r);

    /* A long Chinese subject: several encoded-words, folded, each line under 76 characters,
     * split between characters, decoding to the subject. */
    const char *longs = "【升级】工单#42 空调不制冷：response 自 2026-03-02 15:30 +08:00 起超时，"
                        "第 3 级升级，团队 north，负责人 zhang.san";
    n.subject = longs;
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    char back[512];
    decode_subject(r.body, back, sizeof(back));
    assert_string_equal(back, longs);
    const char *p = r.body;
    size_t lines = 0;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        assert_true(eol - p <= 76);
        p = eol + 2;
        lines++;
    }
    assert_true(lines > 14);
    channel_request_done(&r);

    /* An ASCII subject that looks like an encoded-word is encoded. */
    n.subject = "=?UTF-8?B?eA==?=";
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    decode_subject(r.body, back, sizeof(back));
    assert_string_equal(back, "=?UTF-8?B?eA==?=");
    channel_request_done(&r);

    /* Long body lines are wrapped at 76; LF becomes CRLF before encoding. */
    char text[400];
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    text[100] = '\n';
    n.text = text;
    n.subject = NULL;
    assert_int_equal(channel_build(&ch_email, &n, NOW, nonce, &r, NULL), 0);
    assert_non_null(strstr(r.body, "\r\nSubject: sla.breach\r\n"));
    const char *body = strstr(r.body, "\r\n\r\n") + 4;
    char joined[1024] = "";
    for (const char *q = body; *q;) {
        const char *eol = strstr(q, "\r\n");
        assert_true(eol - q <= 76);
        strncat(joined, q, (size_t)(eol - q));
        q = eol + 2;
    }
    unsigned char decoded[1024];
    size_t len;
    assert_int_equal(sign_base64_decode(joined, strlen(joined), decoded, sizeof(decoded), &len), 0);
    assert_int_equal(len, 400);
    assert_memory_equal(decoded + 99, "a\r\na", 4);
    channel_request_done(&r);
}

struct refusal {
    int line;
    const struct conf_channel *ch;
    const char *to;
    const char *text;
    int ret;
    const char *msg;
};

static const struct conf_channel ch_bad_from = {
    .name = "mail2", .type = CHANNEL_EMAIL, .url = "smtp://127.0.0.1:25", .from = NULL};
static const struct conf_channel ch_no_url = {.name = "nourl", .type = CHANNEL_WEBHOOK};
static const struct conf_channel ch_no_path = {.name = "nopath", .type = CHANNEL_FILE};
static const struct conf_channel ch_bad_type = {
    .name = "bad", .type = (enum channel_type)99, .url = "http://x/"};

static const struct refusal refusals[] = {
    {__LINE__, &ch_twilio, "", "x", -EINVAL,
     "channel 'twilio': recipient 'supervisor' has no phone number"},
    {__LINE__, &ch_aliyun, NULL, "x", -EINVAL,
     "channel 'ali': recipient 'supervisor' has no phone number"},
    {__LINE__, &ch_email, NULL, "x", -EINVAL,
     "channel 'mail': recipient 'supervisor' has no e-mail address"},
    {__LINE__, &ch_email, "li si@example.com", "x", -EINVAL,
     "channel 'mail': 'li si@example.com' is not an e-mail address"},
    {__LINE__, &ch_email, "<x@example.com>", "x", -EINVAL,
     "channel 'mail': '<x@example.com>' is not an e-mail address"},
    {__LINE__, &ch_email, "x@y@example.com", "x", -EINVAL,
     "channel 'mail': 'x@y@example.com' is not an e-mail address"},
    {__LINE__, &ch_email, "nobody", "x", -EINVAL,
     "channel 'mail': 'nobody' is not an e-mail address"},
    {__LINE__, &ch_bad_from, "a@example.com", "x", -EINVAL,
     "channel 'mail2': no valid 'from' address"},
    {__LINE__, &ch_webhook, NULL, NULL, -EINVAL, "channel 'hook': notification has no text"},
    {__LINE__, &ch_no_url, NULL, "x", -EINVAL, "channel 'nourl': no url"},
    {__LINE__, &ch_no_path, NULL, "x", -EINVAL, "channel 'nopath': no path"},
    {__LINE__, &ch_bad_type, NULL, "x", -EINVAL, "channel 'bad': unknown channel type 99"},
};

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const struct refusal *c = &refusals[i];
        struct notification n = f->n;
        n.to = c->to;
        n.text = c->text;
        struct channel_request r = {.url = (char *)"untouched"};
        struct slad_error err = {{0}};
        int ret = channel_build(c->ch, &n, NOW, nonce, &r, &err);
        if (ret != c->ret || strcmp(err.msg, c->msg) != 0)
            fail_msg("line %d: %d '%s'", c->line, ret, err.msg);
        if (strcmp(r.url, "untouched") != 0)
            fail_msg("line %d: output written on failure", c->line);
    }
    /* Too many header lines. */
    char *many[CHANNEL_MAX_HEADERS + 1];
    for (size_t i = 0; i <= CHANNEL_MAX_HEADERS; i++)
        many[i] = "X-A: b";
    struct conf_channel gw = ch_sms_plain;
    gw.headers = (struct conf_strings){many, CHANNEL_MAX_HEADERS + 1};
    struct slad_error err = {{0}};
    struct channel_request r;
    assert_int_equal(channel_build(&gw, &f->n, NOW, nonce, &r, &err), -EMSGSIZE);
    assert_string_equal(err.msg, "channel 'sms-plain': more than 32 header lines");
    /* A body over the limit. */
    char *big = malloc(CHANNEL_BODY_MAX / 2 + 2);
    memset(big, '&', CHANNEL_BODY_MAX / 2 + 1);
    big[CHANNEL_BODY_MAX / 2 + 1] = '\0';
    struct notification n = f->n;
    n.text = big;
    assert_int_equal(channel_build(&ch_sms_plain, &n, NOW, nonce, &r, &err), -EMSGSIZE);
    assert_string_equal(err.msg, "channel 'sms-plain': the request body is longer than 1048576 "
                                 "bytes");
    free(big);
}

#define X50 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

struct verdict_case {
    int line;
    const struct conf_channel *ch;
    enum channel_xfer xfer;
    long status;
    const char *body;
    const char *retry_after;
    const char *error;
    enum retry_outcome outcome;
    int64_t retry_after_ms;
    const char *reason;
};

static const struct conf_channel ch_wecom_token = {
    .name = "wecom",
    .type = CHANNEL_WECOM,
    .url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-bbbb-cccc",
};

static const struct verdict_case verdicts[] = {
    /* Plain HTTP: webhook, slack, pagerduty, sms. */
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 200, "", NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 204, NULL, NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_slack, CHANNEL_XFER_OK, 200, "ok", NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_pagerduty, CHANNEL_XFER_OK, 202, "{\"status\":\"success\"}", NULL, NULL,
     RETRY_SENT, -1, ""},
    {__LINE__, &ch_twilio, CHANNEL_XFER_OK, 201, "{}", NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_kannel, CHANNEL_XFER_OK, 202, "0: Accepted for delivery", NULL, NULL, RETRY_SENT,
     -1, ""},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 408, NULL, NULL, NULL, RETRY_AGAIN, -1, "HTTP 408"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 429, "slow down", "120", NULL, RETRY_AGAIN, 120 * S,
     "HTTP 429: slow down"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 429, NULL, "Mon, 02 Mar 2026 08:05:00 GMT", NULL,
     RETRY_AGAIN, 5 * M, "HTTP 429"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 429, NULL, "later", NULL, RETRY_AGAIN, -1, "HTTP 429"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 503, NULL, "30", NULL, RETRY_AGAIN, 30 * S,
     "HTTP 503"},
    /* Retry-After only counts on 429 and 503. */
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 500, NULL, "30", NULL, RETRY_AGAIN, -1, "HTTP 500"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 599, NULL, NULL, NULL, RETRY_AGAIN, -1, "HTTP 599"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 502,
     "<html>\n  <body>\n   Bad   gateway\n  </body>\n</html>\n", NULL, NULL, RETRY_AGAIN, -1,
     "HTTP 502: <html> <body> Bad gateway </body> </html>"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 400, "bad", NULL, NULL, RETRY_DEAD, -1,
     "HTTP 400: bad"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 401, NULL, NULL, NULL, RETRY_DEAD, -1, "HTTP 401"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 404, NULL, NULL, NULL, RETRY_DEAD, -1, "HTTP 404"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 410, NULL, NULL, NULL, RETRY_DEAD, -1, "HTTP 410"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 413, NULL, NULL, NULL, RETRY_DEAD, -1, "HTTP 413"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 301, NULL, NULL, NULL, RETRY_DEAD, -1,
     "HTTP 301: redirects are not followed; fix the url"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 100, NULL, NULL, NULL, RETRY_DEAD, -1, "HTTP 100"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 0, NULL, NULL, NULL, RETRY_AGAIN, -1,
     "no HTTP status in the answer"},
    {__LINE__, &ch_slack, CHANNEL_XFER_OK, 403, "invalid_token", NULL, NULL, RETRY_DEAD, -1,
     "HTTP 403: invalid_token"},
    {__LINE__, &ch_pagerduty, CHANNEL_XFER_OK, 400, "{\"status\":\"invalid event\"}", NULL, NULL,
     RETRY_DEAD, -1, "HTTP 400: {\"status\":\"invalid event\"}"},
    /* A long answer is cut, with bad bytes shown as '?'. */
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 500,
     "\xff\x01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "yyyyyyyyyyyyyy",
     NULL, NULL, RETRY_AGAIN, -1,
     "HTTP 500: ? " X50 X50 X50 "xxxxxxxx..."}, /* 160 bytes: "\xff\x01" + 158 x */
    /* Transport. */
    {__LINE__, &ch_webhook, CHANNEL_XFER_TIMEOUT, 0, NULL, NULL,
     "Operation timed out after 5000 milliseconds with 0 bytes received", RETRY_AGAIN, -1,
     "timed out: Operation timed out after 5000 milliseconds with 0 bytes received"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_TIMEOUT, 0, NULL, NULL, NULL, RETRY_AGAIN, -1,
     "timed out"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_NETWORK, 0, NULL, NULL,
     "Failed to connect to 127.0.0.1 port 9000: Connection refused", RETRY_AGAIN, -1,
     "Failed to connect to 127.0.0.1 port 9000: Connection refused"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_NETWORK, 0, NULL, NULL, NULL, RETRY_AGAIN, -1,
     "connection failed"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_PERMANENT, 0, NULL, NULL,
     "Protocol \"gopher\" not supported", RETRY_DEAD, -1, "Protocol \"gopher\" not supported"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_PERMANENT, 0, NULL, NULL, NULL, RETRY_DEAD, -1,
     "request cannot be sent"},
    /* SMTP. */
    {__LINE__, &ch_email, CHANNEL_XFER_OK, 250, NULL, NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_email, CHANNEL_XFER_NETWORK, 550, NULL, NULL, "RCPT failed: 550", RETRY_DEAD, -1,
     "SMTP 550: RCPT failed: 550"},
    {__LINE__, &ch_email, CHANNEL_XFER_NETWORK, 451, NULL, NULL, "RCPT failed: 451", RETRY_AGAIN,
     -1, "SMTP 451: RCPT failed: 451"},
    {__LINE__, &ch_email, CHANNEL_XFER_NETWORK, 0, NULL, NULL, "Couldn't connect to server",
     RETRY_AGAIN, -1, "Couldn't connect to server"},
    {__LINE__, &ch_file, CHANNEL_XFER_OK, 0, NULL, NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_file, CHANNEL_XFER_NETWORK, 0, NULL, NULL, "No space left on device",
     RETRY_AGAIN, -1, "No space left on device"},
    {__LINE__, &ch_file, CHANNEL_XFER_PERMANENT, 0, NULL, NULL, "Permission denied", RETRY_DEAD, -1,
     "Permission denied"},
    /* DingTalk: errcode in a 200 body. */
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", NULL, NULL,
     RETRY_SENT, -1, ""},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200,
     "{\"errcode\":130101,\"errmsg\":\"send too fast, exceed 20 times per minute\"}", NULL, NULL,
     RETRY_AGAIN, 10 * M, "dingtalk errcode 130101: send too fast, exceed 20 times per minute"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200, "{\"errcode\":-1,\"errmsg\":\"系统繁忙\"}", NULL,
     NULL, RETRY_AGAIN, -1, "dingtalk errcode -1: 系统繁忙"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200,
     "{\"errcode\":310000,\"errmsg\":\"sign not match\"}", NULL, NULL, RETRY_DEAD, -1,
     "dingtalk errcode 310000: sign not match"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200,
     "{\"errcode\":300001,\"errmsg\":\"token TOKEN123456 is not exist\"}", NULL, NULL, RETRY_DEAD,
     -1, "dingtalk errcode 300001: token *** is not exist"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200, "<html>captive portal</html>", NULL, NULL,
     RETRY_DEAD, -1, "dingtalk: HTTP 200 without an errcode: is the url a dingtalk robot?"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 200, "{\"errcode\":\"0\"}", NULL, NULL, RETRY_DEAD,
     -1, "dingtalk: HTTP 200 without an errcode: is the url a dingtalk robot?"},
    {__LINE__, &ch_dingtalk, CHANNEL_XFER_OK, 502, "bad gateway", NULL, NULL, RETRY_AGAIN, -1,
     "HTTP 502: bad gateway"},
    /* WeCom. */
    {__LINE__, &ch_wecom, CHANNEL_XFER_OK, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", NULL, NULL,
     RETRY_SENT, -1, ""},
    {__LINE__, &ch_wecom, CHANNEL_XFER_OK, 200,
     "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", NULL, NULL, RETRY_AGAIN, M,
     "wecom errcode 45009: api freq out of limit"},
    {__LINE__, &ch_wecom, CHANNEL_XFER_OK, 200, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", NULL,
     NULL, RETRY_AGAIN, -1, "wecom errcode -1: system busy"},
    {__LINE__, &ch_wecom_token, CHANNEL_XFER_OK, 200,
     "{\"errcode\":93000,\"errmsg\":\"invalid webhook url, key 693a91f6-7aaa-bbbb-cccc\"}", NULL,
     NULL, RETRY_DEAD, -1, "wecom errcode 93000: invalid webhook url, key ***"},
    /* Feishu. */
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 200, "{\"code\":0,\"msg\":\"success\",\"data\":{}}",
     NULL, NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 200,
     "{\"Extra\":null,\"StatusCode\":0,\"StatusMessage\":\"success\"}", NULL, NULL, RETRY_SENT, -1,
     ""},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 200,
     "{\"code\":19021,\"msg\":\"sign match fail or timestamp is not within one hour\"}", NULL, NULL,
     RETRY_DEAD, -1, "feishu code 19021: sign match fail or timestamp is not within one hour"},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 200, "{\"code\":11232,\"msg\":\"frequency limited\"}",
     NULL, NULL, RETRY_AGAIN, -1, "feishu code 11232: frequency limited"},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 400, "{\"code\":9499,\"msg\":\"Bad Request\"}", NULL,
     NULL, RETRY_DEAD, -1, "feishu code 9499: Bad Request"},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 200, "", NULL, NULL, RETRY_DEAD, -1,
     "feishu: HTTP 200 without a code: is the url a Feishu bot?"},
    {__LINE__, &ch_feishu, CHANNEL_XFER_OK, 503, "", NULL, NULL, RETRY_AGAIN, -1, "HTTP 503"},
    /* Alibaba Cloud. */
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 200,
     "{\"Message\":\"OK\",\"RequestId\":\"F655A8D5\",\"Code\":\"OK\",\"BizId\":\"9002\"}", NULL,
     NULL, RETRY_SENT, -1, ""},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 200,
     "{\"Message\":\"触发分钟级流控Permits:1\",\"Code\":\"isv.BUSINESS_LIMIT_CONTROL\"}", NULL,
     NULL, RETRY_AGAIN, M, "aliyun_sms Code isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1"},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 200,
     "{\"Message\":\"invalid mobile number\",\"Code\":\"isv.MOBILE_NUMBER_ILLEGAL\"}", NULL, NULL,
     RETRY_DEAD, -1, "aliyun_sms Code isv.MOBILE_NUMBER_ILLEGAL: invalid mobile number"},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 400,
     "{\"Message\":\"Specified signature is not matched with our calculation. testSecret\","
     "\"Code\":\"SignatureDoesNotMatch\"}",
     NULL, NULL, RETRY_DEAD, -1,
     "aliyun_sms Code SignatureDoesNotMatch: Specified signature is not matched with our "
     "calculation. ***"},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 400,
     "{\"Message\":\"Request was denied due to user flow control.\",\"Code\":\"Throttling.User\"}",
     NULL, NULL, RETRY_AGAIN, M,
     "aliyun_sms Code Throttling.User: Request was denied due to user flow control."},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 503,
     "{\"Message\":\"The request has failed due to a temporary failure of the server.\","
     "\"Code\":\"ServiceUnavailable\"}",
     NULL, NULL, RETRY_AGAIN, -1,
     "aliyun_sms Code ServiceUnavailable: The request has failed due to a temporary failure of "
     "the server."},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 200, "not json", NULL, NULL, RETRY_DEAD, -1,
     "aliyun_sms: HTTP 200 without a Code"},
    {__LINE__, &ch_aliyun, CHANNEL_XFER_OK, 404, "not found", NULL, NULL, RETRY_DEAD, -1,
     "HTTP 404: not found"},
    /* Secrets a server or libcurl echoes are scrubbed. */
    {__LINE__, &ch_slack, CHANNEL_XFER_OK, 404,
     "no_service for /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", NULL, NULL,
     RETRY_DEAD, -1, "HTTP 404: no_service for /services/***/***/***"},
    {__LINE__, &ch_twilio, CHANNEL_XFER_OK, 401, "{\"message\":\"bad token authtoken\"}", NULL,
     NULL, RETRY_DEAD, -1, "HTTP 401: {\"message\":\"bad token ***\"}"},
    {__LINE__, &ch_webhook, CHANNEL_XFER_OK, 401,
     "secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rejected", NULL, NULL, RETRY_DEAD, -1,
     "HTTP 401: secret *** rejected"},
    {__LINE__, &ch_pagerduty, CHANNEL_XFER_NETWORK, 0, NULL, NULL,
     "routing key R0123456789abcdef0123456789abcde", RETRY_AGAIN, -1, "routing key ***"},
};

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
        const struct verdict_case *c = &verdicts[i];
        struct channel_response resp = {
            .xfer = c->xfer,
            .error = c->error,
            .status = c->status,
            .body = c->body,
            .body_len = c->body ? strlen(c->body) : 0,
            .retry_after = c->retry_after,
        };
        struct channel_verdict v;
        memset(&v, 0x55, sizeof(v));
        channel_classify(c->ch, &resp, NOW, &v);
        if (v.outcome != c->outcome)
            fail_msg("line %d: %s, expected %s (%s)", c->line, retry_outcome_name(v.outcome),
                     retry_outcome_name(c->outcome), v.reason);
        if (v.retry_after_ms != c->retry_after_ms)
            fail_msg("line %d: retry_after %" PRId64 ", expected %" PRId64, c->line,
                     v.retry_after_ms, c->retry_after_ms);
        if (strcmp(v.reason, c->reason) != 0)
            fail_msg("line %d: reason\n  got  '%s'\n  want '%s'", c->line, v.reason, c->reason);
    }
}

static void test_classify_body_not_terminated(void **state)
{
    (void)state;
    /* The body is (pointer, length), not a C string. */
    const char buf[] = "{\"errcode\":0}GARBAGE";
    struct channel_response resp = {
        .xfer = CHANNEL_XFER_OK, .status = 200, .body = buf, .body_len = 13};
    struct channel_verdict v;
    channel_classify(&ch_dingtalk, &resp, NOW, &v);
    assert_int_equal(v.outcome, RETRY_SENT);
    resp.body_len = sizeof(buf) - 1;
    channel_classify(&ch_dingtalk, &resp, NOW, &v);
    assert_int_equal(v.outcome, RETRY_DEAD);
}

struct redact_case {
    int line;
    const char *url, *expect;
};

static const struct redact_case redacts[] = {
    {__LINE__, "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123",
     "https://oapi.dingtalk.com/robot/send?access_token=***"},
    {__LINE__,
     "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=x%2By",
     "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=***&sign=***"},
    {__LINE__, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"},
    {__LINE__, "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     "https://hooks.slack.com/services/***/***/***"},
    {__LINE__, "https://open.feishu.cn/open-apis/bot/v2/hook/0f2ea4c1-0000-4000-8000-000000000000",
     "https://open.feishu.cn/open-apis/bot/v2/hook/***"},
    {__LINE__, "https://api.twilio.com/2010-04-01/Accounts/AC0123456789/Messages.json",
     "https://api.twilio.com/***/Accounts/***/Messages.json"},
    {__LINE__,
     "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/"
     "invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=SIGNATURE",
     "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
     "?api-version=***&sp=***&sv=***&sig=***"},
    {__LINE__, "smtp://user:password@mail.example.com:587", "smtp://***@mail.example.com:587"},
    {__LINE__, "http://127.0.0.1:9000/hook", "http://127.0.0.1:9000/hook"},
    {__LINE__, "http://127.0.0.1:9000/hook#frag", "http://127.0.0.1:9000/hook"},
    {__LINE__, "http://h/?flag&x=&y=1", "http://h/?***&x=&y=***"},
    {__LINE__, "http://h", "http://h"},
    {__LINE__, "http://h?", "http://h?"},
    {__LINE__, "not a url", "***"},
    {__LINE__, "://nohost", "***"},
    {__LINE__, "ht tp://x/y", "***"},
    {__LINE__, "", "***"},
};

static void test_redact(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(redacts) / sizeof(redacts[0]); i++) {
        char buf[256];
        redact_url(redacts[i].url, buf, sizeof(buf));
        if (strcmp(buf, redacts[i].expect) != 0)
            fail_msg("line %d: '%s' gave '%s'", redacts[i].line, redacts[i].url, buf);
    }
    /* Small buffers cut, always terminated. */
    char small[12];
    redact_url("https://hooks.slack.com/services/T0/B0/X", small, sizeof(small));
    assert_string_equal(small, "https://hoo");
    assert_null(redact_url("x", NULL, 0));
    char one[1] = {'z'};
    redact_url("http://h", one, 1);
    assert_int_equal(one[0], '\0');
    redact_url(NULL, small, sizeof(small));
    assert_string_equal(small, "***");
}

/* ---- what a gateway echoes back ---- */

/* One channel with every kind of secret; the scrub reads them whatever the type. */
static char *echo_headers[] = {"Content-Type: application/json", "X-Api-Key: k3yQwErTy7788zz",
                               "Authorization: Bearer b34rerTokenQQ99",
                               "X-Sig: t0kenPart{{ticket.id}}", "Accept: text/plain"};
static const struct conf_channel ch_echo = {
    .name = "echo",
    .type = CHANNEL_SMS,
    .url = "http://gwUser:gw%2Fpa55word@127.0.0.1:9/send/AcctZZ1234567/x?api_token=qT0k3nVALUE99"
           "&to={{to}}",
    .headers = {echo_headers, 5},
    .username = "basicUser",
    .password = "Pa55w0rd!xyz",
    .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    .routing_key = "R0uting0123456789",
    .access_key_secret = "aliyunAccessSecret0123",
};

/* Each secret of ch_echo in the forms a gateway may echo it in. */
static const char *const echo_forms[] = {
    "k3yQwErTy7788zz",
    "b34rerTokenQQ99",
    "Bearer b34rerTokenQQ99",
    "t0kenPart",
    "gwUser:gw%2Fpa55word",
    "gw%2Fpa55word",
    "gw/pa55word",
    "Z3dVc2VyOmd3L3BhNTV3b3Jk", /* base64 "gwUser:gw/pa55word": curl's Basic of the URL */
    "AcctZZ1234567",
    "qT0k3nVALUE99",
    "Pa55w0rd!xyz",
    "Pa55w0rd%21xyz",
    "YmFzaWNVc2VyOlBhNTV3MHJkIXh5eg==", /* base64 "basicUser:Pa55w0rd!xyz": Basic */
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "R0uting0123456789",
    "aliyunAccessSecret0123",
    "YWxpeXVuQWNjZXNzU2VjcmV0MDEyMw==", /* base64 of the access key secret */
};

/* No piece of 5 or more bytes of any secret form is in text. */
static void assert_no_secret(int line, size_t pad, const char *text)
{
    for (size_t i = 0; i < sizeof(echo_forms) / sizeof(echo_forms[0]); i++) {
        const char *s = echo_forms[i];
        size_t len = strlen(s);
        for (size_t a = 0; a + 5 <= len; a++)
            if (memmem(text, strlen(text), s + a, 5))
                fail_msg("line %d, pad %zu: '%.5s' of '%s' in '%s'", line, pad, s + a, s, text);
    }
}

/* A gateway that echoes the request (headers, the URL, a JSON error with the key) in its
 * error answer: whatever stands where the quotation is cut, nothing of a secret is
 * quoted, not even the start of one. */
static void test_scrub_echo_at_every_cut(void **state)
{
    (void)state;
    static const char *const echoes[] = {
        "Authorization: Basic YmFzaWNVc2VyOlBhNTV3MHJkIXh5eg==",
        "Authorization: Basic Z3dVc2VyOmd3L3BhNTV3b3Jk",
        "Authorization: Bearer b34rerTokenQQ99",
        "X-Api-Key: k3yQwErTy7788zz",
        "X-Sig: t0kenPart42",
        "GET /send/AcctZZ1234567/x?api_token=qT0k3nVALUE99&to=%2B86138",
        "{\"password\":\"Pa55w0rd!xyz\",\"user\":\"gwUser:gw/pa55word\"}",
        "pw=Pa55w0rd%21xyz&url=http://gwUser:gw%2Fpa55word@h/",
        "signing whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "key R0uting0123456789 aliyunAccessSecret0123 YWxpeXVuQWNjZXNzU2VjcmV0MDEyMw==",
    };
    char body[1024];
    for (size_t e = 0; e < sizeof(echoes) / sizeof(echoes[0]); e++) {
        for (size_t pad = 100; pad <= 170; pad++) {
            memset(body, '.', pad);
            snprintf(body + pad, sizeof(body) - pad, "%s ...", echoes[e]);
            for (int vendor = 0; vendor < 2; vendor++) {
                /* A plain error page, and a DingTalk-style errmsg quoted from JSON. */
                json_t *o = json_pack("{s:i,s:s}", "errcode", 310000, "errmsg", body);
                char *json = json_dumps(o, JSON_COMPACT);
                json_decref(o);
                struct conf_channel ch = ch_echo;
                ch.type = vendor ? CHANNEL_DINGTALK : CHANNEL_SMS;
                struct channel_response resp = {
                    .xfer = CHANNEL_XFER_OK,
                    .status = vendor ? 200 : 500,
                    .body = vendor ? json : body,
                    .body_len = strlen(vendor ? json : body),
                };
                struct channel_verdict v;
                channel_classify(&ch, &resp, NOW, &v);
                assert_no_secret(__LINE__, pad, v.reason);
                if (!strstr(v.reason, vendor ? "errcode 310000: ..." : "HTTP 500: ..."))
                    fail_msg("pad %zu: %s", pad, v.reason);
                /* The same text as libcurl's error. */
                struct channel_response net = {.xfer = CHANNEL_XFER_NETWORK, .error = body};
                channel_classify(&ch, &net, NOW, &v);
                assert_no_secret(__LINE__, pad, v.reason);
                free(json);
            }
        }
    }
    /* What is not a secret stays readable. */
    const char *plain = "{\"error\":\"invalid number +8613800000002\"}";
    struct channel_response resp = {
        .xfer = CHANNEL_XFER_OK, .status = 400, .body = plain, .body_len = strlen(plain)};
    struct channel_verdict v;
    channel_classify(&ch_echo, &resp, NOW, &v);
    assert_string_equal(v.reason, "HTTP 400: {\"error\":\"invalid number +8613800000002\"}");
}

/* Whether text holds what not right after a backslash. */
static bool unescaped(const char *text, const char *what)
{
    for (const char *p = text; (p = strstr(p, what)); p++)
        if (p == text || p[-1] != '\\')
            return true;
    return false;
}

/* DingTalk and WeCom markdown: a hostile title stays text; WeCom's text message (an
 * @mention by mobile) and the other channels get the title as written. */
static void test_markdown_title(void **state)
{
    struct fixture *f = *state;
    ticket_set_string(&f->t.title, "[x](http://evil) ![](http://evil/i.png) <font color=\"info\">"
                                   "ok</font>\n# Paid\n- [ ] item\n1. step");
    struct {
        int line;
        const struct conf_channel *ch;
        const char *to, *member;
        enum escape esc;
    } cases[] = {
        {__LINE__, &ch_dingtalk, "+8613800000002", "markdown", ESCAPE_MARKDOWN},
        {__LINE__, &ch_dingtalk, NULL, "markdown", ESCAPE_MARKDOWN},
        {__LINE__, &ch_wecom, "", "markdown", ESCAPE_MARKDOWN},
        {__LINE__, &ch_wecom, "+8613800000002", "text", ESCAPE_RAW},
        {__LINE__, &ch_feishu, NULL, NULL, ESCAPE_RAW},
        {__LINE__, &ch_slack, NULL, NULL, ESCAPE_RAW},
        {__LINE__, &ch_sms_json, "+8613800000002", NULL, ESCAPE_RAW},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct notification n = f->n;
        n.to = cases[i].to;
        enum escape esc = channel_text_escape(cases[i].ch, n.to);
        if (esc != cases[i].esc)
            fail_msg("line %d: escape %d", cases[i].line, esc);
        if (!cases[i].member)
            continue;
        char *text = NULL;
        struct slad_error err = {{0}};
        if (render_message(&n, "en", NOW, esc, &text, NULL, &err) < 0)
            fail_msg("line %d: %s", cases[i].line, err.msg);
        n.text = text;
        struct channel_request r;
        if (channel_build(cases[i].ch, &n, NOW, nonce, &r, &err) < 0)
            fail_msg("line %d: %s", cases[i].line, err.msg);
        json_t *body = json_loadb(r.body, r.body_len, 0, NULL);
        json_t *m = json_object_get(body, cases[i].member);
        const char *sent =
            json_string_value(json_object_get(m, cases[i].ch == &ch_dingtalk ? "text" : "content"));
        if (!sent)
            fail_msg("line %d: no text in %s", cases[i].line, r.body);
        if (esc == ESCAPE_MARKDOWN) {
            /* One line of text: no link, image, tag or block from the title. */
            if (unescaped(sent, "](") || strstr(sent, "<font") || strstr(sent, "\n#") ||
                strstr(sent, "\n-") || strstr(sent, "\n1.") ||
                !strstr(sent, "\\[x\\](http://evil)"))
                fail_msg("line %d: markup got through: %s", cases[i].line, sent);
        } else if (!strstr(sent, "[x](http://evil) ![](http://evil/i.png) <font")) {
            fail_msg("line %d: plain text changed: %s", cases[i].line, sent);
        }
        json_decref(body);
        channel_request_done(&r);
        free(text);
    }
}

/* The base64 lines of an e-mail body decoded (test only: no padding checks). */
static char *base64_lines(const char *s)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = calloc(1, strlen(s) + 1);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s; s++) {
        const char *p = strchr(abc, *s);
        if (!p || !*s)
            continue;
        acc = acc << 6 | (unsigned)(p - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)(acc >> bits & 0xff);
        }
    }
    return out;
}

/* The console's link (issue 13) in every channel's message: a markdown link, a card or
 * block button, a paragraph, after the SMS text, the webhook's and PagerDuty's field. */
static void test_links(void **state)
{
    struct fixture *f = *state;
    static const char link[] = "https://sla.example.com/a/7kq2mwx9ad";
    static const char page[] = "https://sla.example.com/ui/tickets/42";
    struct {
        int line;
        const struct conf_channel *ch;
        const char *to, *url;
        const char *want; /* in the body (or the URL when the body is NULL) */
    } cases[] = {
        {__LINE__, &ch_dingtalk, "", link,
         "\\n\\n[确认或接单](https://sla.example.com/a/7kq2mwx9ad)\""},
        {__LINE__, &ch_dingtalk, "+8613800000002", link,
         "[确认或接单](https://sla.example.com/a/7kq2mwx9ad)\\n\\n@13800000002\""},
        {__LINE__, &ch_dingtalk, "", page, "[查看工单](https://sla.example.com/ui/tickets/42)"},
        {__LINE__, &ch_wecom, "", page,
         "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":\"ticket #42 \\\"AC\\\" <late> & "
         "超时\\nline 2\\n\\n[查看工单](https://sla.example.com/ui/tickets/42)\"}}"},
        {__LINE__, &ch_wecom, "+8613800000002", link,
         "line 2\\n\\n确认或接单: https://sla.example.com/a/7kq2mwx9ad\""},
        {__LINE__, &ch_feishu, NULL, page,
         "\"msg_type\":\"interactive\",\"card\":{\"config\":{\"wide_screen_mode\":true},"
         "\"elements\":[{\"tag\":\"div\",\"text\":{\"tag\":\"plain_text\",\"content\":"
         "\"ticket #42 \\\"AC\\\" <late> & 超时\\nline 2\"}},{\"tag\":\"action\",\"actions\":"
         "[{\"tag\":\"button\",\"text\":{\"tag\":\"plain_text\",\"content\":\"查看工单\"},"
         "\"type\":\"primary\",\"url\":\"https://sla.example.com/ui/tickets/42\"}]}]}}"},
        {__LINE__, &ch_slack, NULL, link,
         "{\"type\":\"actions\",\"elements\":[{\"type\":\"button\",\"text\":{\"type\":"
         "\"plain_text\",\"text\":\"确认或接单\"},\"url\":\"https://sla.example.com/a/"
         "7kq2mwx9ad\"}]}]}"},
        {__LINE__, &ch_kannel, NULL, link,
         "%0Aline%202%20https%3A%2F%2Fsla.example.com%2Fa%2F7kq2mwx9ad&charset"},
        {__LINE__, &ch_sms_plain, NULL, link,
         "line+2+https%3A%2F%2Fsla.example.com%2Fa%2F7kq2mwx9ad"},
        {__LINE__, &ch_aliyun, NULL, link,
         "line%202%20https%3A%2F%2Fsla.example.com%2Fa%2F7kq2mwx9ad%22%7D"},
        {__LINE__, &ch_webhook, NULL, link, "\"link\":\"https://sla.example.com/a/7kq2mwx9ad\""},
        {__LINE__, &ch_pagerduty, NULL, link,
         "\"links\":[{\"href\":\"https://sla.example.com/a/7kq2mwx9ad\""},
        {__LINE__, &ch_email, "li.si@example.com", link,
         "line 2\r\n\r\n确认或接单: https://sla.example.com/a/7kq2mwx9ad"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct notification n = f->n;
        if (cases[i].to)
            n.to = cases[i].to[0] ? cases[i].to : NULL;
        n.link = cases[i].url;
        struct channel_request r;
        struct slad_error err = {{0}};
        if (channel_build(cases[i].ch, &n, NOW, nonce, &r, &err) < 0)
            fail_msg("line %d: %s", cases[i].line, err.msg);
        char *got = r.body ? strdup(r.body) : strdup(r.url);
        if (cases[i].ch == &ch_email) {
            free(got);
            got = base64_lines(strstr(r.body, "\r\n\r\n") + 4);
        }
        if (!strstr(got, cases[i].want))
            fail_msg("line %d: no '%s' in\n%s", cases[i].line, cases[i].want, got);
        free(got);
        channel_request_done(&r);
        /* Without a link the message is as it was. */
        n.link = NULL;
        if (channel_build(cases[i].ch, &n, NOW, nonce, &r, &err) < 0)
            fail_msg("line %d: %s", cases[i].line, err.msg);
        const char *plain = r.body ? r.body : r.url;
        if (strstr(plain, "sla.example.com") && cases[i].ch != &ch_email)
            fail_msg("line %d: a link without one: %s", cases[i].line, plain);
        channel_request_done(&r);
    }
}

/* An e-mail channel that requires STARTTLS says so in its request. */
static void test_email_requires_tls(void **state)
{
    struct fixture *f = *state;
    struct conf_channel ch = ch_email;
    struct notification n = f->n;
    n.to = "li.si@example.com";
    for (int starttls = 0; starttls <= 1; starttls++) {
        ch.smtp_starttls = starttls;
        struct channel_request r;
        assert_int_equal(channel_build(&ch, &n, NOW, nonce, &r, NULL), 0);
        assert_int_equal(r.require_tls, starttls);
        channel_request_done(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exact_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_differs_in_time_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signing_vectors_in_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_injection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_subject_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_classify_body_not_terminated),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_scrub_echo_at_every_cut),
        cmocka_unit_test_setup_teardown(test_markdown_title, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_requires_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
