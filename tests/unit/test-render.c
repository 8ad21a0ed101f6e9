/* test-render.c - templates: every placeholder, local times, absent values, the built-in
 * texts of all 8 events in both languages, config overrides, the escaping modes against
 * hostile text (quotes, newlines, &, =, unicode, bad UTF-8, placeholders inside values),
 * the output limit, and the buffer and UTF-8 helpers. */
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
#include "conf_load.h"
#include "group.h"
#include "render.h"
#include "utf8.h"

#define S INT64_C(1000)
#define M (60 * S)
#define H (60 * M)
/* 2026-03-02 08:00:00 UTC = 16:00 in Shanghai. */
#define NOW INT64_C(1772438400000)

struct fixture {
    struct calendar *cal;
    struct ticket t;
    struct slaclock clock;
    struct notification n;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct calendar_spec spec = {.name = "cn", .timezone = "Asia/Shanghai"};
    for (int d = 0; d < 7; d++)
        spec.week[d] = (struct calendar_day_hours){.iv = {{0, 1440}}, .n = 1};
    struct slad_error err = {{0}};
    if (calendar_new(&spec, &f->cal, &err) < 0)
        fail_msg("calendar: %s", err.msg);

    ticket_init(&f->t);
    f->t.id = 42;
    ticket_set_string(&f->t.title, "Air conditioner not cooling");
    f->t.severity = 1;
    f->t.status = TICKET_DISPATCHED;
    ticket_set_string(&f->t.team, "north");
    ticket_set_string(&f->t.assignee, "zhang.san");
    ticket_set_string(&f->t.region, "city");
    ticket_set_string(&f->t.customer_name, "王女士");
    ticket_set_string(&f->t.customer_phone, "+8613900000000");
    ticket_set_string(&f->t.customer_address, "1 Main St");
    ticket_set_string(&f->t.device_serial, "SN123");
    ticket_set_string(&f->t.device_model, "KFR-35");
    ticket_set_string(&f->t.fault_code, "E4");
    f->t.appointment_at_ms = NOW + 2 * H;

    /* Breached half an hour ago: 1 h target, 1 h 30 min elapsed. */
    memset(&f->clock, 0, sizeof(f->clock));
    snprintf(f->clock.name, sizeof(f->clock.name), "response");
    f->clock.state = SLACLOCK_BREACHED;
    f->clock.target_ms = H;
    f->clock.elapsed_ms = H;
    f->clock.since_ms = NOW - 30 * M;
    f->clock.started_at_ms = NOW - 90 * M;
    f->clock.due_at_ms = NOW - 30 * M;
    f->clock.breached_at_ms = NOW - 30 * M;
    f->clock.stopped_at_ms = SLAD_NO_TIME;

    f->n = (struct notification){
        .event = "sla.escalation",
        .idempotency_key = "t42/response/step3/r0/manager",
        .ticket = &f->t,
        .clock = &f->clock,
        .calendar = f->cal,
        .step = 3,
        .recipient = "manager",
        .contact = "wang.wu",
        .to = "+8613800000003",
        .text = "the text",
        .followup_name = "week",
        .followup_due_at_ms = NOW + 7 * 24 * H,
        .link = "https://crm.example.com/t/42",
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

static char *render(const char *tmpl, const struct notification *n, enum escape esc)
{
    char *out = NULL;
    size_t len = 0;
    struct slad_error err = {{0}};
    if (render_template(tmpl, n, NOW, esc, &out, &len, &err) < 0)
        fail_msg("render '%s': %s", tmpl, err.msg);
    assert_int_equal(len, strlen(out));
    return out;
}

struct value_case {
    int line;
    const char *name;
    const char *value; /* with the fixture */
};

/* Every placeholder conf.c accepts, with its value. */
static const struct value_case value_cases[] = {
    {__LINE__, "ticket.id", "42"},
    {__LINE__, "ticket.title", "Air conditioner not cooling"},
    {__LINE__, "ticket.severity", "1"},
    {__LINE__, "ticket.status", "dispatched"},
    {__LINE__, "ticket.team", "north"},
    {__LINE__, "ticket.assignee", "zhang.san"},
    {__LINE__, "ticket.region", "city"},
    {__LINE__, "ticket.customer.name", "王女士"},
    {__LINE__, "ticket.customer.phone", "+8613900000000"},
    {__LINE__, "ticket.customer.address", "1 Main St"},
    {__LINE__, "ticket.device.serial", "SN123"},
    {__LINE__, "ticket.device.model", "KFR-35"},
    {__LINE__, "ticket.fault_code", "E4"},
    {__LINE__, "ticket.appointment_at", "2026-03-02 18:00 +08:00"},
    {__LINE__, "clock.name", "response"},
    {__LINE__, "clock.due_at", "2026-03-02 15:30 +08:00"},
    {__LINE__, "clock.target", "1h"},
    {__LINE__, "clock.elapsed", "1h30m"},
    {__LINE__, "step", "3"},
    {__LINE__, "event", "sla.escalation"},
    {__LINE__, "recipient", "manager"},
    {__LINE__, "to", "+8613800000003"},
    {__LINE__, "text", "the text"},
    {__LINE__, "now", "2026-03-02 16:00 +08:00"},
    {__LINE__, "followup.name", "week"},
    {__LINE__, "followup.due_at", "2026-03-09 16:00 +08:00"},
    {__LINE__, "link", "https://crm.example.com/t/42"},
};
#define N_VALUES (sizeof(value_cases) / sizeof(value_cases[0]))

static void test_every_placeholder(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < N_VALUES; i++) {
        const struct value_case *c = &value_cases[i];
        char tmpl[96], expect[160];
        snprintf(tmpl, sizeof(tmpl), "<{{%s}}>", c->name);
        snprintf(expect, sizeof(expect), "<%s>", c->value);
        char *out = render(tmpl, &f->n, ESCAPE_RAW);
        if (strcmp(out, expect) != 0)
            fail_msg("line %d: {{%s}} gave '%s', expected '%s'", c->line, c->name, out, expect);
        free(out);
    }
}

/* The loader accepts exactly these names: a template using all of them loads. */
static void test_placeholders_agree_with_conf(void **state)
{
    (void)state;
    char text[4096] = "";
    for (size_t i = 0; i < N_VALUES; i++) {
        strncat(text, "{{", sizeof(text) - strlen(text) - 1);
        strncat(text, value_cases[i].name, sizeof(text) - strlen(text) - 1);
        strncat(text, "}}", sizeof(text) - strlen(text) - 1);
    }
    char cfg[8192];
    snprintf(cfg, sizeof(cfg),
             "templates = ( { event = \"sla.breach\"; lang = \"en\"; text = \"%s\"; } );\n"
             "policies = ( { name = \"default\"; match = { }; } );\n",
             text);
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(cfg, "t.conf", &conf, &errs) != 0)
        fail_msg("conf refused a placeholder: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);
    conf_free(conf);
}

static void test_absent_values(void **state)
{
    struct fixture *f = *state;
    struct ticket bare;
    ticket_init(&bare);
    bare.id = 7;
    struct notification n = {.ticket = &bare, .event = "sla.breach"};
    char *out = render("[{{ticket.assignee}}|{{clock.name}}|{{clock.due_at}}|{{step}}|{{to}}|"
                       "{{ticket.appointment_at}}|{{followup.due_at}}|{{link}}|{{ticket.id}}]",
                       &n, ESCAPE_RAW);
    assert_string_equal(out, "[||||||||7]");
    free(out);
    /* No calendar: UTC; a paused-before-due clock has no due instant. */
    struct slaclock c = f->clock;
    c.due_at_ms = SLAD_NO_TIME;
    n.clock = &c;
    out = render("{{now}} {{clock.due_at}}. {{clock.elapsed}}", &n, ESCAPE_RAW);
    assert_string_equal(out, "2026-03-02 08:00 +00:00 . 1h");
    free(out);
    ticket_done(&bare);
}

static void test_local_time(void **state)
{
    struct fixture *f = *state;
    char buf[RENDER_TIME_MAX];
    assert_string_equal(render_local_time(NULL, 0, buf, sizeof(buf)), "1970-01-01 00:00 +00:00");
    assert_string_equal(render_local_time(NULL, -1, buf, sizeof(buf)), "1969-12-31 23:59 +00:00");
    assert_string_equal(render_local_time(NULL, INT64_C(951782400000), buf, sizeof(buf)),
                        "2000-02-29 00:00 +00:00");
    assert_string_equal(render_local_time(f->cal, NOW + 59 * S, buf, sizeof(buf)),
                        "2026-03-02 16:00 +08:00");
    assert_string_equal(render_local_time(f->cal, NOW + 8 * H, buf, sizeof(buf)),
                        "2026-03-03 00:00 +08:00");

    /* A zone west of UTC with DST: New York is -05:00 in winter and -04:00 in summer. */
    struct calendar_spec spec = {.name = "ny", .timezone = "America/New_York"};
    struct calendar *ny;
    assert_int_equal(calendar_new(&spec, &ny, NULL), 0);
    assert_string_equal(render_local_time(ny, NOW, buf, sizeof(buf)), "2026-03-02 03:00 -05:00");
    assert_string_equal(render_local_time(ny, NOW + 30 * 24 * H, buf, sizeof(buf)),
                        "2026-04-01 04:00 -04:00");
    calendar_free(ny);
    /* India is +05:30. */
    spec = (struct calendar_spec){.name = "in", .timezone = "Asia/Kolkata"};
    struct calendar *in;
    assert_int_equal(calendar_new(&spec, &in, NULL), 0);
    assert_string_equal(render_local_time(in, NOW, buf, sizeof(buf)), "2026-03-02 13:30 +05:30");
    calendar_free(in);
}

/* Times in texts are in daemon.timezone, whatever calendar the clock counts in (a 24x7
 * policy's texts used to read +00:00 in China). */
static void test_texts_in_daemon_timezone(void **state)
{
    struct fixture *f = *state;
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string("daemon = { timezone = \"America/New_York\"; };\n"
                         "policies = ( { name = \"default\"; match = { }; } );\n",
                         "t.conf", &conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    struct notification n = f->n; /* its clock counts in Shanghai */
    n.conf = conf;
    char *out = render("{{clock.due_at}} / {{now}}", &n, ESCAPE_RAW);
    assert_string_equal(out, "2026-03-02 02:30 -05:00 / 2026-03-02 03:00 -05:00");
    free(out);
    conf_free(conf);
}

struct text_case {
    int line;
    const char *tmpl, *expect;
};

/* Things that are not placeholders stay as written. */
static const struct text_case literal_cases[] = {
    {__LINE__, "", ""},
    {__LINE__, "plain", "plain"},
    {__LINE__, "{{", "{{"},
    {__LINE__, "}}", "}}"},
    {__LINE__, "{{unknown}}", "{{unknown}}"},
    {__LINE__, "{{ ticket.id }}", "{{ ticket.id }}"},
    {__LINE__, "{{ticket.id", "{{ticket.id"},
    {__LINE__, "{{{ticket.id}}}", "{{{ticket.id}}}"}, /* the loader refuses '{ticket.id' */
    {__LINE__, "{{{{ticket.id}}", "{{42"},
    {__LINE__, "{{x}}{{ticket.id}}", "{{x}}42"},
    {__LINE__, "a{{ticket.id}}b{{step}}c", "a42b3c"},
    {__LINE__, "{{TICKET.ID}}", "{{TICKET.ID}}"},
    {__LINE__, "{ {ticket.id} }", "{ {ticket.id} }"},
    {__LINE__, "bad \xff byte", "bad ? byte"},
};

static void test_literals(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(literal_cases) / sizeof(literal_cases[0]); i++) {
        const struct text_case *c = &literal_cases[i];
        char *out = render(c->tmpl, &f->n, ESCAPE_JSON);
        if (strcmp(out, c->expect) != 0)
            fail_msg("line %d: '%s' gave '%s', expected '%s'", c->line, c->tmpl, out, c->expect);
        free(out);
    }
}

/* A title built to break out of everything. */
#define HOSTILE "He said \"hi\"\\\n& a=b&c=d <x> 50% {{to}} 空调\t\x01\r\xe2\x80\xa8 \xc0\xaf"

struct escape_case {
    int line;
    enum escape esc;
    const char *expect;
};

static const struct escape_case escape_cases[] = {
    {__LINE__, ESCAPE_RAW,
     "He said \"hi\"\\\n& a=b&c=d <x> 50% {{to}} 空调\t\x01\r\xe2\x80\xa8 ??"},
    {__LINE__, ESCAPE_JSON,
     "He said \\\"hi\\\"\\\\\\n& a=b&c=d <x> 50% {{to}} 空调\\t\\u0001\\r\\u2028 ??"},
    {__LINE__, ESCAPE_FORM,
     "He+said+%22hi%22%5C%0A%26+a%3Db%26c%3Dd+%3Cx%3E+50%25+%7B%7Bto%7D%7D+%E7%A9%BA%E8%B0%83%09"
     "%01%0D%E2%80%A8+%3F%3F"},
    {__LINE__, ESCAPE_URL,
     "He%20said%20%22hi%22%5C%0A%26%20a%3Db%26c%3Dd%20%3Cx%3E%2050%25%20%7B%7Bto%7D%7D%20"
     "%E7%A9%BA%E8%B0%83%09%01%0D%E2%80%A8%20%3F%3F"},
    {__LINE__, ESCAPE_HEADER, "He said \"hi\"\\ & a=b&c=d <x> 50% {{to}} 空调   \xe2\x80\xa8 ??"},
    {__LINE__, ESCAPE_SLACK,
     "He said \"hi\"\\\n&amp; a=b&amp;c=d &lt;x&gt; 50% {{to}} 空调\t\x01\r\xe2\x80\xa8 ??"},
    {__LINE__, ESCAPE_XML,
     "He said &quot;hi&quot;\\\n&amp; a=b&amp;c=d &lt;x&gt; 50% {{to}} 空调\t \r\xe2\x80\xa8 ??"},
    {__LINE__, ESCAPE_MARKDOWN,
     "He said \"hi\"\\\\ & a=b&c=d &lt;x&gt; 50% {{to}} 空调   \xe2\x80\xa8 ??"},
};

static void test_escaping_hostile_text(void **state)
{
    struct fixture *f = *state;
    ticket_set_string(&f->t.title, HOSTILE);
    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        const struct escape_case *c = &escape_cases[i];
        char *out = render("{{ticket.title}}", &f->n, c->esc);
        if (strcmp(out, c->expect) != 0)
            fail_msg("line %d: mode %d gave '%s', expected '%s'", c->line, c->esc, out, c->expect);
        free(out);
    }
    /* In a JSON template the value stays inside its string: the result parses, and the
     * value comes back as sent (bad bytes as '?'). */
    char *out = render("{\"to\":\"{{to}}\",\"text\":\"{{ticket.title}}\"}", &f->n, ESCAPE_JSON);
    json_error_t jerr;
    json_t *v = json_loads(out, 0, &jerr);
    if (!v)
        fail_msg("not JSON: %s: %s", jerr.text, out);
    assert_int_equal(json_object_size(v), 2);
    assert_string_equal(json_string_value(json_object_get(v, "text")),
                        "He said \"hi\"\\\n& a=b&c=d <x> 50% {{to}} 空调\t\x01\r\xe2\x80\xa8 ??");
    json_decref(v);
    free(out);
    /* In a form the value is one field. */
    out = render("To={{to}}&Body={{ticket.title}}", &f->n, ESCAPE_FORM);
    size_t amps = 0;
    for (const char *p = out; *p; p++)
        amps += *p == '&';
    assert_int_equal(amps, 1);
    assert_memory_equal(out, "To=%2B8613800000003&Body=He+said", 32);
    free(out);
}

/* Markdown (DingTalk, WeCom): a value cannot add a link, an image, a tag, emphasis or a
 * block; ordinary text stays as it was. */
static void test_markdown_values(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int line;
        const char *title, *expect;
    } cases[] = {
        {__LINE__, "[x](http://evil)", "\\[x\\](http://evil)"},
        {__LINE__, "![](http://evil/i.png)", "!\\[\\](http://evil/i.png)"},
        {__LINE__, "<font color=\"warning\">red</font>",
         "&lt;font color=\"warning\"&gt;red&lt;/font&gt;"},
        {__LINE__, "<@userid> <http://evil>", "&lt;@userid&gt; &lt;http://evil&gt;"},
        {__LINE__, "# heading", "\\# heading"},
        {__LINE__, "   ## heading", "   \\## heading"},
        {__LINE__, "\n# heading", " \\# heading"},
        {__LINE__, "- item", "\\- item"},
        {__LINE__, "+ item", "\\+ item"},
        {__LINE__, "1. one", "1\\. one"},
        {__LINE__, "12) twelve", "12\\) twelve"},
        {__LINE__, "> quote", "&gt; quote"},
        {__LINE__, "===", "\\==="},
        {__LINE__, "ok\n# h\n- i\r\n> q", "ok # h - i  &gt; q"},
        {__LINE__, "**b** _i_ `c` ~~s~~ |t|",
         "\\*\\*b\\*\\* \\_i\\_ \\`c\\` \\~\\~s\\~\\~ \\|t\\|"},
        {__LINE__, "C:\\dir", "C:\\\\dir"},
        {__LINE__, "Pump #3 - 2026-03-02 16:00 (A&B)", "Pump #3 - 2026-03-02 16:00 (A&B)"},
        {__LINE__, "2026-03-02", "2026-03-02"},
        {__LINE__, "冷柜不制冷", "冷柜不制冷"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ticket_set_string(&f->t.title, cases[i].title);
        char *out = render("#### {{ticket.title}}", &f->n, ESCAPE_MARKDOWN);
        char want[256];
        snprintf(want, sizeof(want), "#### %s", cases[i].expect);
        if (strcmp(out, want) != 0)
            fail_msg("line %d: '%s' gave '%s', expected '%s'", cases[i].line, cases[i].title, out,
                     want);
        free(out);
    }
    /* The operator's markdown stays; only the values are escaped, and "-" marks an absent
     * one as it does in plain text. */
    const char *cfg =
        "templates = ( { event = \"sla.breach\"; lang = \"en\";\n"
        "  text = \"### [Late]({{link}})\\n> **{{ticket.title}}** {{followup.name}}\"; } "
        ");\npolicies = ( { name = \"default\"; match = { }; } );\n";
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(cfg, "t.conf", &conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    struct notification n = f->n;
    n.conf = conf;
    n.event = "sla.breach";
    n.link = "https://crm.example.com/t/42";
    n.followup_name = NULL;
    ticket_set_string(&f->t.title, "[x](http://evil)\n# big");
    char *text;
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_MARKDOWN, &text, NULL, NULL), 0);
    assert_string_equal(text, "### [Late](https://crm.example.com/t/42)\n"
                              "> **\\[x\\](http://evil) # big** -");
    free(text);
    conf_free(conf);
}

static const char *const events[] = {
    "sla.warning",      "sla.breach",           "sla.escalation",       "followup.due",
    "followup.overdue", "followup.unsatisfied", "appointment.reminder", "ticket.repeat_fault",
};

static void test_defaults_all_events(void **state)
{
    struct fixture *f = *state;
    static const char *const langs[] = {"zh", "en"};
    for (size_t e = 0; e < 8; e++) {
        for (size_t l = 0; l < 2; l++) {
            struct notification n = f->n;
            n.event = events[e];
            char *text = NULL, *subject = NULL;
            struct slad_error err = {{0}};
            if (render_message(&n, langs[l], NOW, ESCAPE_RAW, &text, &subject, &err) < 0)
                fail_msg("%s/%s: %s", events[e], langs[l], err.msg);
            /* Every placeholder of the built-ins is known and filled. */
            if (strstr(text, "{{") || strstr(subject, "{{"))
                fail_msg("%s/%s left a placeholder: %s | %s", events[e], langs[l], text, subject);
            if (!strstr(text, "#42") && !strstr(text, "SN123"))
                fail_msg("%s/%s does not name the ticket: %s", events[e], langs[l], text);
            if (!strstr(subject, "[slad]"))
                fail_msg("%s/%s subject: %s", events[e], langs[l], subject);
            /* Chinese texts are Chinese, English ones ASCII. */
            bool ascii_template = true;
            for (const char *p = render_default_text(events[e], langs[l]); *p; p++)
                ascii_template = ascii_template && (unsigned char)*p < 0x80;
            assert_int_equal(ascii_template, l == 1);
            assert_true(utf8_valid(text, strlen(text)));
            free(text);
            free(subject);
        }
    }
    assert_null(render_default_text("sla.unknown", "zh"));
    assert_null(render_default_subject(NULL, "en"));
    /* Any language other than zh is English. */
    assert_string_equal(render_default_text("sla.breach", "fr"),
                        render_default_text("sla.breach", "en"));
}

static void test_default_texts_exact(void **state)
{
    struct fixture *f = *state;
    struct notification n = f->n;
    n.event = "sla.breach";
    char *text, *subject;
    assert_int_equal(render_message(&n, "zh", NOW, ESCAPE_RAW, &text, &subject, NULL), 0);
    assert_string_equal(text, "【超时】工单#42 Air conditioner not cooling：response 已于 "
                              "2026-03-02 15:30 +08:00 到期（目标 1h）。级别 1，团队 north，"
                              "负责人 zhang.san。");
    assert_string_equal(subject, "[slad] 超时：工单#42 response");
    free(text);
    free(subject);
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, &subject, NULL), 0);
    assert_string_equal(text, "[BREACH] ticket #42 Air conditioner not cooling: response was due "
                              "2026-03-02 15:30 +08:00 (target 1h). Severity 1, team north, "
                              "assignee zhang.san.");
    assert_string_equal(subject, "[slad] Breach: ticket #42 response");
    free(text);
    free(subject);

    /* In a message, absent values read "-". */
    ticket_set_string(&f->t.assignee, NULL);
    ticket_set_string(&f->t.team, NULL);
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_non_null(strstr(text, "team -, assignee -."));
    free(text);

    /* A reminder and a repeat fault. */
    n.event = "appointment.reminder";
    assert_int_equal(render_message(&n, "zh", NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_string_equal(text, "【预约提醒】工单#42 Air conditioner not cooling：上门时间 "
                              "2026-03-02 18:00 +08:00，地址 1 Main St，客户 王女士 "
                              "+8613900000000，工程师 -。");
    free(text);
    n.event = "ticket.repeat_fault";
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_string_equal(text, "[REPEAT FAULT] device KFR-35 (serial SN123) reported again with "
                              "fault E4: ticket #42 Air conditioner not cooling, customer "
                              "王女士. Consider a replacement.");
    free(text);
    n.event = "followup.due";
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_string_equal(text, "[FOLLOW-UP] ticket #42 Air conditioner not cooling: follow-up "
                              "'week' is due by 2026-03-09 16:00 +08:00. Customer 王女士 "
                              "+8613900000000.");
    free(text);
}

static void test_config_templates_override(void **state)
{
    struct fixture *f = *state;
    const char *cfg = "daemon = { language = \"en\"; };\n"
                      "templates = (\n"
                      "  { event = \"sla.breach\"; lang = \"zh\"; text = \"超时 #{{ticket.id}} "
                      "{{clock.name}}\"; },\n"
                      "  { event = \"sla.breach\"; lang = \"en\"; text = \"late #{{ticket.id}}\";\n"
                      "    subject = \"Late: {{ticket.title}}\"; }\n"
                      ");\n"
                      "policies = ( { name = \"default\"; match = { }; } );\n";
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(cfg, "t.conf", &conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);

    struct notification n = f->n;
    n.conf = conf;
    n.event = "sla.breach";
    char *text, *subject;
    /* The daemon's language when none is asked for. */
    assert_int_equal(render_message(&n, NULL, NOW, ESCAPE_RAW, &text, &subject, NULL), 0);
    assert_string_equal(text, "late #42");
    assert_string_equal(subject, "Late: Air conditioner not cooling");
    free(text);
    free(subject);
    /* A template without a subject takes the built-in subject. */
    assert_int_equal(render_message(&n, "zh", NOW, ESCAPE_RAW, &text, &subject, NULL), 0);
    assert_string_equal(text, "超时 #42 response");
    assert_string_equal(subject, "[slad] 超时：工单#42 response");
    free(text);
    free(subject);
    /* Events the config has no template for use the built-ins. */
    n.event = "sla.warning";
    assert_int_equal(render_message(&n, NULL, NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_memory_equal(text, "[WARNING] ticket #42", 20);
    free(text);
    /* Without a conf the language is Chinese. */
    n.conf = NULL;
    assert_int_equal(render_message(&n, NULL, NOW, ESCAPE_RAW, &text, NULL, NULL), 0);
    assert_memory_equal(text, "【预警】", strlen("【预警】"));
    free(text);
    /* Unknown event. */
    n.event = "sla.bogus";
    struct slad_error err = {{0}};
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, NULL, &err), -ENOENT);
    assert_string_equal(err.msg, "no template for event 'sla.bogus'");
    conf_free(conf);
}

static void test_subject_is_one_line(void **state)
{
    struct fixture *f = *state;
    ticket_set_string(&f->t.title, "evil\r\nBcc: victim@example.com");
    const char *cfg = "templates = ( { event = \"sla.breach\"; lang = \"en\"; text = \"x\";\n"
                      "  subject = \"{{ticket.title}}\"; } );\n"
                      "policies = ( { name = \"default\"; match = { }; } );\n";
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(cfg, "t.conf", &conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);
    struct notification n = f->n;
    n.conf = conf;
    n.event = "sla.breach";
    char *text, *subject;
    assert_int_equal(render_message(&n, "en", NOW, ESCAPE_RAW, &text, &subject, NULL), 0);
    assert_string_equal(subject, "evil  Bcc: victim@example.com");
    free(text);
    free(subject);
    conf_free(conf);
}

static void test_values_not_rescanned(void **state)
{
    struct fixture *f = *state;
    ticket_set_string(&f->t.title, "{{ticket.customer.phone}}");
    char *out = render("{{ticket.title}}", &f->n, ESCAPE_RAW);
    assert_string_equal(out, "{{ticket.customer.phone}}");
    free(out);
    f->n.text = "{{to}}";
    out = render("{{text}}/{{to}}", &f->n, ESCAPE_RAW);
    assert_string_equal(out, "{{to}}/+8613800000003");
    free(out);
}

static void test_limit(void **state)
{
    struct fixture *f = *state;
    /* A value that would blow up under escaping: 30000 quotes become 60000 bytes in JSON,
     * 90000 in a form. */
    char *big = malloc(30001);
    memset(big, '"', 30000);
    big[30000] = '\0';
    f->n.text = big;
    char *out;
    size_t len;
    assert_int_equal(render_template("{{text}}", &f->n, NOW, ESCAPE_JSON, &out, &len, NULL), 0);
    assert_int_equal(len, 60000);
    free(out);
    struct slad_error err = {{0}};
    assert_int_equal(render_template("{{text}}", &f->n, NOW, ESCAPE_FORM, &out, &len, &err),
                     -EMSGSIZE);
    assert_string_equal(err.msg, "template is longer than 65536 bytes");
    free(big);
}

static void test_buf_and_utf8(void **state)
{
    (void)state;
    struct render_buf b;
    render_buf_init(&b, 10);
    render_buf_puts(&b, "12345");
    render_buf_printf(&b, "%d", 678);
    assert_string_equal(b.data, "12345678");
    render_buf_puts(&b, "abc"); /* 11 > 10: sticky error */
    render_buf_puts(&b, "");
    assert_int_equal(b.err, -EMSGSIZE);
    char *out = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(render_buf_take(&b, "the thing", &out, NULL, &err), -EMSGSIZE);
    assert_null(out);
    assert_string_equal(err.msg, "the thing is longer than 10 bytes");
    /* The buffer is usable again, and an empty take is "". */
    size_t len = 9;
    assert_int_equal(render_buf_take(&b, "x", &out, &len, NULL), 0);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    free(out);
    /* A long printf. */
    render_buf_init(&b, 100000);
    render_buf_printf(&b, "%0500d|", 7);
    assert_int_equal(b.len, 501);
    render_buf_done(&b);
    render_buf_done(&b); /* twice is fine */

    static const struct {
        int line;
        const char *s;
        bool valid;
    } utf8[] = {
        {__LINE__, "", true},
        {__LINE__, "abc", true},
        {__LINE__, "空调", true},
        {__LINE__, "\xf0\x9f\x98\x80", true},  /* U+1F600 */
        {__LINE__, "\xf4\x8f\xbf\xbf", true},  /* U+10FFFF */
        {__LINE__, "\xf4\x90\x80\x80", false}, /* past U+10FFFF */
        {__LINE__, "\xc0\xaf", false},         /* overlong '/' */
        {__LINE__, "\xe0\x80\xaf", false},     /* overlong */
        {__LINE__, "\xed\xa0\x80", false},     /* surrogate */
        {__LINE__, "\xe7\xa9", false},         /* cut */
        {__LINE__, "\x80", false},
        {__LINE__, "\xff", false},
    };
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
        if (utf8_valid(utf8[i].s, strlen(utf8[i].s)) != utf8[i].valid)
            fail_msg("line %d", utf8[i].line);

    const char *s = "a空调b"; /* 1 + 3 + 3 + 1 bytes */
    assert_int_equal(utf8_prefix(s, 8, 8), 8);
    assert_int_equal(utf8_prefix(s, 8, 7), 7);
    assert_int_equal(utf8_prefix(s, 8, 6), 4);
    assert_int_equal(utf8_prefix(s, 8, 3), 1);
    assert_int_equal(utf8_prefix(s, 8, 0), 0);
    assert_int_equal(utf8_prefix("\xff\xff", 2, 1), 1);
}

/* A grouped message: the count, 10 tickets with their links, "and N more"; in Chinese; a
 * hostile title escaped for markdown; a message of two shows both and nothing more. */
static void test_group_text(void **state)
{
    (void)state;
    struct group_item items[12];
    char titles[12][32];
    for (int i = 0; i < 12; i++) {
        snprintf(titles[i], sizeof(titles[i]), "disk full on db%d", i);
        items[i] = (struct group_item){.ticket_id = 100 + i,
                                       .event = "sla.breach",
                                       .title = titles[i],
                                       .link = i == 0 ? "https://t/100" : NULL};
    }
    char *text = NULL, *subject = NULL;
    struct slad_error err = {{0}};
    assert_int_equal(group_text(items, 10, 12, "en", ESCAPE_RAW, &text, &subject, &err), 0);
    assert_string_equal(subject, "12 notifications");
    assert_string_equal(text, "12 notifications:\n"
                              "- #100 sla.breach: disk full on db0 https://t/100\n"
                              "- #101 sla.breach: disk full on db1\n"
                              "- #102 sla.breach: disk full on db2\n"
                              "- #103 sla.breach: disk full on db3\n"
                              "- #104 sla.breach: disk full on db4\n"
                              "- #105 sla.breach: disk full on db5\n"
                              "- #106 sla.breach: disk full on db6\n"
                              "- #107 sla.breach: disk full on db7\n"
                              "- #108 sla.breach: disk full on db8\n"
                              "- #109 sla.breach: disk full on db9\n"
                              "and 2 more\n");
    free(text);
    free(subject);
    items[1].title = "**bold** [x](http://evil)";
    items[1].ticket_id = 0; /* a plan's task */
    assert_int_equal(group_text(items, 2, 2, "zh", ESCAPE_MARKDOWN, &text, &subject, &err), 0);
    assert_string_equal(subject, "共 2 条通知");
    assert_non_null(strstr(text, "共 2 条通知：\n- #100 sla.breach："));
    assert_null(strstr(text, "**bold**"));
    assert_null(strstr(text, "另有"));
    assert_non_null(strstr(text, "\n- sla.breach："));
    free(text);
    free(subject);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_placeholder, setup, teardown),
        cmocka_unit_test(test_placeholders_agree_with_conf),
        cmocka_unit_test_setup_teardown(test_absent_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_texts_in_daemon_timezone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_hostile_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_markdown_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_all_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_texts_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_templates_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subject_is_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_not_rescanned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test(test_buf_and_utf8),
        cmocka_unit_test(test_group_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
