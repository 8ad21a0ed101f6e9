/* render.c - templates, built-in texts and escaping (render.h).
 *
 * Rendering walks the template once: literal text is copied (UTF-8 repaired), each known
 * {{name}} is replaced by its value escaped for where it goes. Values are never
 * re-scanned, so text from a ticket cannot smuggle placeholders or break out of a JSON
 * string, a form field, a URL or a header line. */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "calendar.h"
#include "duration.h"
#include "utf8.h"

/* ---- growing buffer ---- */

void render_buf_init(struct render_buf *b, size_t max_bytes)
{
    *b = (struct render_buf){.max_bytes = max_bytes};
}

static bool reserve(struct render_buf *b, size_t more)
{
    if (b->err)
        return false;
    if (more > b->max_bytes - b->len) {
        b->err = -EMSGSIZE;
        return false;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *data = malloc(cap);
    if (!data) {
        b->err = -ENOMEM;
        return false;
    }
    /* Copy rather than realloc so that no freed block keeps a secret. */
    if (b->data) {
        memcpy(data, b->data, b->len + 1);
        explicit_bzero(b->data, b->cap);
        free(b->data);
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void render_buf_add(struct render_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void render_buf_puts(struct render_buf *b, const char *s)
{
    render_buf_add(b, s, strlen(s));
}

void render_buf_printf(struct render_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!b->err)
            b->err = -EINVAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        render_buf_add(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int render_buf_take(struct render_buf *b, const char *what, char **ret, size_t *ret_len,
                    struct slad_error *reterr)
{
    int err = b->err;
    if (!err && !b->data)
        reserve(b, 0);
    err = b->err;
    if (err) {
        size_t max = b->max_bytes;
        render_buf_done(b);
        render_buf_init(b, max);
        if (err == -EMSGSIZE)
            return slad_error_set(reterr, EMSGSIZE, "%s is longer than %zu bytes", what, max);
        if (err == -ENOMEM)
            return slad_error_set(reterr, ENOMEM, "out of memory rendering %s", what);
        return slad_error_set(reterr, -err, "cannot render %s", what);
    }
    b->data[b->len] = '\0';
    *ret = b->data;
    if (ret_len)
        *ret_len = b->len;
    size_t max = b->max_bytes;
    render_buf_init(b, max);
    return 0;
}

void render_buf_done(struct render_buf *b)
{
    if (b->data) {
        explicit_bzero(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- escaping ---- */

static const char hex_upper[] = "0123456789ABCDEF";

/* What makes inline markup (emphasis, code, links and images, tables, strikethrough) and
 * the escape character itself: each gets a backslash in markdown. */
#define MARKDOWN_INLINE "\\`*_[]|~"

static void put_percent(struct render_buf *b, unsigned char c)
{
    char e[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
    render_buf_add(b, e, 3);
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The XML (and HTML) entity of c, or NULL when c is not one of & < > " '. */
static const char *entity_of(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&apos;";
    default:
        return NULL;
    }
}

/* One character (a valid sequence of n bytes at p) in mode esc. */
static void put_char(struct render_buf *b, const unsigned char *p, size_t n, enum escape esc)
{
    unsigned char c = p[0];
    switch (esc) {
    case ESCAPE_JSON:
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            render_buf_add(b, e, 2);
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                render_buf_add(b, "\\n", 2);
                break;
            case '\r':
                render_buf_add(b, "\\r", 2);
                break;
            case '\t':
                render_buf_add(b, "\\t", 2);
                break;
            case '\b':
                render_buf_add(b, "\\b", 2);
                break;
            case '\f':
                render_buf_add(b, "\\f", 2);
                break;
            default:
                render_buf_printf(b, "\\u%04x", c);
                break;
            }
        } else if (n == 3 && c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            /* U+2028/U+2029 are valid JSON but end lines in JavaScript. */
            render_buf_puts(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
        } else {
            render_buf_add(b, p, n);
        }
        break;
    case ESCAPE_FORM:
        for (size_t i = 0; i < n; i++) {
            unsigned char x = p[i];
            if (is_alnum(x) || x == '*' || x == '-' || x == '.' || x == '_')
                render_buf_add(b, &x, 1);
            else if (x == ' ')
                render_buf_add(b, "+", 1);
            else
                put_percent(b, x);
        }
        break;
    case ESCAPE_URL:
        for (size_t i = 0; i < n; i++) {
            unsigned char x = p[i];
            if (is_alnum(x) || x == '-' || x == '.' || x == '_' || x == '~')
                render_buf_add(b, &x, 1);
            else
                put_percent(b, x);
        }
        break;
    case ESCAPE_HEADER:
        if (c < 0x20 || c == 0x7f)
            render_buf_add(b, " ", 1);
        else
            render_buf_add(b, p, n);
        break;
    case ESCAPE_SLACK:
        if (c == '&' || c == '<' || c == '>')
            render_buf_puts(b, entity_of(c));
        else
            render_buf_add(b, p, n);
        break;
    case ESCAPE_XML:
        if (entity_of(c))
            render_buf_puts(b, entity_of(c));
        else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            render_buf_add(b, " ", 1); /* not allowed in XML 1.0 */
        else
            render_buf_add(b, p, n);
        break;
    case ESCAPE_MARKDOWN:
        if (c < 0x20 || c == 0x7f)
            render_buf_add(b, " ", 1); /* no new line, so no block of the value's own */
        else if (c == '<' || c == '>')
            render_buf_puts(b, entity_of(c)); /* no HTML tag (<font>, WeCom's <@userid>) */
        else if (n == 1 && strchr(MARKDOWN_INLINE, c)) {
            char e[2] = {'\\', (char)c};
            render_buf_add(b, e, 2);
        } else
            render_buf_add(b, p, n);
        break;
    case ESCAPE_RAW:
    default:
        render_buf_add(b, p, n);
        break;
    }
}

/* Markdown block markers at the start of a value (which may start a line of the
 * template): "# h", "- x", "+ x", "= " (a setext underline), "1. x" and "1) x" get a
 * backslash before the marker (CommonMark 2.4); '*', '>' and the rest are escaped
 * wherever they stand. Returns how many bytes of s it wrote. */
static size_t markdown_lead(struct render_buf *b, const char *s, size_t len)
{
    size_t i = 0; /* leading blanks and line breaks: all become spaces */
    while (i < len && ((unsigned char)s[i] <= ' ' || s[i] == 0x7f))
        i++;
    size_t digits = 0;
    while (i + digits < len && s[i + digits] >= '0' && s[i + digits] <= '9')
        digits++;
    if (i + digits >= len)
        return 0;
    char c = s[i + digits];
    bool marker = digits ? (c == '.' || c == ')') : (c == '#' || c == '-' || c == '+' || c == '=');
    if (!marker)
        return 0;
    for (size_t k = 0; k < i; k++)
        render_buf_add(b, " ", 1);
    render_buf_add(b, s + i, digits);
    char e[2] = {'\\', c};
    render_buf_add(b, e, 2);
    return i + digits + 1;
}

void render_buf_escape(struct render_buf *b, const char *s, size_t len, enum escape esc)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = esc == ESCAPE_MARKDOWN ? markdown_lead(b, s, len) : 0;
    while (i < len && !b->err) {
        /* Runs of plain ASCII that need no escaping are copied at once. */
        size_t run = i;
        if (esc == ESCAPE_RAW) {
            while (run < len && p[run] < 0x80)
                run++;
        }
        if (run > i) {
            render_buf_add(b, p + i, run - i);
            i = run;
            continue;
        }
        size_t n = utf8_seq((const char *)p + i, len - i);
        if (n == 0) {
            put_char(b, (const unsigned char *)"?", 1, esc);
            i++;
        } else {
            put_char(b, p + i, n, esc);
            i += n;
        }
    }
}

/* ---- values ---- */

char *render_local_time(const struct calendar *cal, int64_t at_ms, char *buf, size_t size)
{
    struct calendar_date date;
    int minute, offset_s;
    if (cal) {
        calendar_local(cal, at_ms, &date, &minute, &offset_s);
    } else {
        int64_t days = civil_floor_div(at_ms, CIVIL_MS_PER_DAY);
        int64_t year;
        civil_date(days, &year, &date.month, &date.day);
        date.year = (int)year;
        minute = (int)((at_ms - days * CIVIL_MS_PER_DAY) / CIVIL_MS_PER_MIN);
        offset_s = 0;
    }
    int off_min = (offset_s < 0 ? -offset_s : offset_s) / 60;
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d %c%02d:%02d", date.year, date.month, date.day,
             minute / 60, minute % 60, offset_s < 0 ? '-' : '+', off_min / 60, off_min % 60);
    return buf;
}

enum placeholder {
    P_TICKET_ID,
    P_TICKET_TITLE,
    P_TICKET_SEVERITY,
    P_TICKET_STATUS,
    P_TICKET_TEAM,
    P_TICKET_ASSIGNEE,
    P_TICKET_REGION,
    P_CUSTOMER_NAME,
    P_CUSTOMER_PHONE,
    P_CUSTOMER_ADDRESS,
    P_DEVICE_SERIAL,
    P_DEVICE_MODEL,
    P_FAULT_CODE,
    P_APPOINTMENT_AT,
    P_CLOCK_NAME,
    P_CLOCK_DUE_AT,
    P_CLOCK_TARGET,
    P_CLOCK_ELAPSED,
    P_STEP,
    P_EVENT,
    P_RECIPIENT,
    P_TO,
    P_TEXT,
    P_NOW,
    P_FOLLOWUP_NAME,
    P_FOLLOWUP_DUE_AT,
    P_LINK,
    P_COUNT
};

/* The same names as conf.c's placeholder table (a unit test checks the two agree). */
static const char *const placeholder_names[P_COUNT] = {
    [P_TICKET_ID] = "ticket.id",
    [P_TICKET_TITLE] = "ticket.title",
    [P_TICKET_SEVERITY] = "ticket.severity",
    [P_TICKET_STATUS] = "ticket.status",
    [P_TICKET_TEAM] = "ticket.team",
    [P_TICKET_ASSIGNEE] = "ticket.assignee",
    [P_TICKET_REGION] = "ticket.region",
    [P_CUSTOMER_NAME] = "ticket.customer.name",
    [P_CUSTOMER_PHONE] = "ticket.customer.phone",
    [P_CUSTOMER_ADDRESS] = "ticket.customer.address",
    [P_DEVICE_SERIAL] = "ticket.device.serial",
    [P_DEVICE_MODEL] = "ticket.device.model",
    [P_FAULT_CODE] = "ticket.fault_code",
    [P_APPOINTMENT_AT] = "ticket.appointment_at",
    [P_CLOCK_NAME] = "clock.name",
    [P_CLOCK_DUE_AT] = "clock.due_at",
    [P_CLOCK_TARGET] = "clock.target",
    [P_CLOCK_ELAPSED] = "clock.elapsed",
    [P_STEP] = "step",
    [P_EVENT] = "event",
    [P_RECIPIENT] = "recipient",
    [P_TO] = "to",
    [P_TEXT] = "text",
    [P_NOW] = "now",
    [P_FOLLOWUP_NAME] = "followup.name",
    [P_FOLLOWUP_DUE_AT] = "followup.due_at",
    [P_LINK] = "link",
};

static int placeholder_find(const char *name, size_t len)
{
    for (int i = 0; i < P_COUNT; i++)
        if (strlen(placeholder_names[i]) == len && memcmp(placeholder_names[i], name, len) == 0)
            return i;
    return -1;
}

#define VALUE_SCRATCH 64

/* Times are for people: in daemon.timezone when the config is known, else in the
 * notification's calendar. */
static const struct calendar *local_calendar(const struct notification *n)
{
    const struct calendar *cal = conf_local_calendar(n->conf);
    return cal ? cal : n->calendar;
}

static const char *time_value(const struct notification *n, int64_t at_ms, char *scratch)
{
    if (at_ms == SLAD_NO_TIME)
        return NULL;
    return render_local_time(local_calendar(n), at_ms, scratch, VALUE_SCRATCH);
}

static const char *duration_value(int64_t ms, char *scratch)
{
    if (ms < 0)
        return NULL;
    struct duration d = duration_ms(ms - ms % 1000); /* whole seconds read better */
    return duration_format(&d, scratch, VALUE_SCRATCH);
}

/* The value of placeholder p for n, or NULL when absent; scratch holds formatted ones. */
static const char *value_of(const struct notification *n, enum placeholder p, int64_t now_ms,
                            char *scratch)
{
    const struct ticket *t = n->ticket;
    const struct slaclock *c = n->clock;
    switch (p) {
    case P_TICKET_ID:
        if (!t)
            return NULL;
        if (!t->id && t->external_id)
            return t->external_id; /* a plan's task: "plan-3" */
        snprintf(scratch, VALUE_SCRATCH, "%" PRId64, t->id);
        return scratch;
    case P_TICKET_TITLE:
        return t ? t->title : NULL;
    case P_TICKET_SEVERITY:
        if (!t)
            return NULL;
        snprintf(scratch, VALUE_SCRATCH, "%d", t->severity);
        return scratch;
    case P_TICKET_STATUS:
        return t ? ticket_status_name(t->status) : NULL;
    case P_TICKET_TEAM:
        return t ? t->team : NULL;
    case P_TICKET_ASSIGNEE:
        return t ? t->assignee : NULL;
    case P_TICKET_REGION:
        return t ? t->region : NULL;
    case P_CUSTOMER_NAME:
        return t ? t->customer_name : NULL;
    case P_CUSTOMER_PHONE:
        return t ? t->customer_phone : NULL;
    case P_CUSTOMER_ADDRESS:
        return t ? t->customer_address : NULL;
    case P_DEVICE_SERIAL:
        return t ? t->device_serial : NULL;
    case P_DEVICE_MODEL:
        return t ? t->device_model : NULL;
    case P_FAULT_CODE:
        return t ? t->fault_code : NULL;
    case P_APPOINTMENT_AT:
        return t ? time_value(n, t->appointment_at_ms, scratch) : NULL;
    case P_CLOCK_NAME:
        return c ? c->name : NULL;
    case P_CLOCK_DUE_AT:
        return c ? time_value(n, c->due_at_ms, scratch) : NULL;
    case P_CLOCK_TARGET:
        return c ? duration_value(c->target_ms, scratch) : NULL;
    case P_CLOCK_ELAPSED:
        if (!c)
            return NULL;
        return duration_value(
            n->calendar ? slaclock_elapsed(c, n->calendar, now_ms) : c->elapsed_ms, scratch);
    case P_STEP:
        if (n->step <= 0)
            return NULL;
        snprintf(scratch, VALUE_SCRATCH, "%d", n->step);
        return scratch;
    case P_EVENT:
        return n->event;
    case P_RECIPIENT:
        return n->recipient;
    case P_TO:
        return n->to;
    case P_TEXT:
        return n->text;
    case P_NOW:
        return render_local_time(local_calendar(n), now_ms, scratch, VALUE_SCRATCH);
    case P_FOLLOWUP_NAME:
        return n->followup_name;
    case P_FOLLOWUP_DUE_AT:
        /* Only follow-up events have one: a zeroed struct must not read 1970. */
        return n->followup_name ? time_value(n, n->followup_due_at_ms, scratch) : NULL;
    case P_LINK:
        return n->link;
    case P_COUNT:
        break;
    }
    return NULL;
}

static void render_into(struct render_buf *b, const char *tmpl, const struct notification *n,
                        int64_t now_ms, enum escape esc, const char *absent)
{
    const char *p = tmpl;
    while (*p && !b->err) {
        const char *open = strstr(p, "{{");
        if (!open) {
            render_buf_escape(b, p, strlen(p), ESCAPE_RAW);
            return;
        }
        const char *close = strstr(open + 2, "}}");
        int which = close ? placeholder_find(open + 2, (size_t)(close - open - 2)) : -1;
        if (which < 0) {
            /* Not a placeholder: keep "{{" and look again after it. */
            render_buf_escape(b, p, (size_t)(open + 2 - p), ESCAPE_RAW);
            p = open + 2;
            continue;
        }
        render_buf_escape(b, p, (size_t)(open - p), ESCAPE_RAW);
        char scratch[VALUE_SCRATCH];
        const char *v = value_of(n, (enum placeholder)which, now_ms, scratch);
        if (v && *v)
            render_buf_escape(b, v, strlen(v), esc);
        else
            render_buf_puts(b, absent); /* slad's own mark, not a value */
        p = close + 2;
    }
}

void render_template_into(struct render_buf *b, const char *tmpl, const struct notification *n,
                          int64_t now_ms, enum escape esc)
{
    render_into(b, tmpl, n, now_ms, esc, "");
}

int render_template(const char *tmpl, const struct notification *n, int64_t now_ms, enum escape esc,
                    char **ret, size_t *ret_len, struct slad_error *reterr)
{
    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES);
    render_template_into(&b, tmpl, n, now_ms, esc);
    return render_buf_take(&b, "template", ret, ret_len, reterr);
}

/* ---- built-in texts ---- */

struct default_text {
    const char *event;
    const char *zh, *zh_subject;
    const char *en, *en_subject;
};

/* Each names the ticket and what is late, then who can act: the words a supervisor
 * needs on a phone screen. */
static const struct default_text defaults[] = {
    {"sla.warning",
     "【预警】工单#{{ticket.id}} {{ticket.title}}：{{clock.name}} 将于 {{clock.due_at}} 到期"
     "（已用 {{clock.elapsed}}，目标 {{clock.target}}）。级别 {{ticket.severity}}，"
     "团队 {{ticket.team}}，负责人 {{ticket.assignee}}。",
     "[slad] 预警：工单#{{ticket.id}} {{clock.name}} 即将到期",
     "[WARNING] ticket #{{ticket.id}} {{ticket.title}}: {{clock.name}} is due {{clock.due_at}} "
     "({{clock.elapsed}} of {{clock.target}} used). Severity {{ticket.severity}}, "
     "team {{ticket.team}}, assignee {{ticket.assignee}}.",
     "[slad] Warning: ticket #{{ticket.id}} {{clock.name}} due soon"},
    {"sla.breach",
     "【超时】工单#{{ticket.id}} {{ticket.title}}：{{clock.name}} 已于 {{clock.due_at}} 到期"
     "（目标 {{clock.target}}）。级别 {{ticket.severity}}，团队 {{ticket.team}}，"
     "负责人 {{ticket.assignee}}。",
     "[slad] 超时：工单#{{ticket.id}} {{clock.name}}",
     "[BREACH] ticket #{{ticket.id}} {{ticket.title}}: {{clock.name}} was due {{clock.due_at}} "
     "(target {{clock.target}}). Severity {{ticket.severity}}, team {{ticket.team}}, "
     "assignee {{ticket.assignee}}.",
     "[slad] Breach: ticket #{{ticket.id}} {{clock.name}}"},
    {"sla.escalation",
     "【升级】工单#{{ticket.id}} {{ticket.title}}：{{clock.name}} 自 {{clock.due_at}} 起超时，"
     "第 {{step}} 级升级（已用 {{clock.elapsed}}，目标 {{clock.target}}）。"
     "团队 {{ticket.team}}，负责人 {{ticket.assignee}}，状态 {{ticket.status}}。",
     "[slad] 升级：工单#{{ticket.id}} {{clock.name}}",
     "[ESCALATION] ticket #{{ticket.id}} {{ticket.title}}: {{clock.name}} overdue since "
     "{{clock.due_at}}, escalation step {{step}} ({{clock.elapsed}} of {{clock.target}}). "
     "Team {{ticket.team}}, assignee {{ticket.assignee}}, status {{ticket.status}}.",
     "[slad] Escalation: ticket #{{ticket.id}} {{clock.name}}"},
    {"followup.due",
     "【回访】工单#{{ticket.id}} {{ticket.title}}：回访“{{followup.name}}”请于 "
     "{{followup.due_at}} 前完成。客户 {{ticket.customer.name}} {{ticket.customer.phone}}。",
     "[slad] 回访待办：工单#{{ticket.id}}",
     "[FOLLOW-UP] ticket #{{ticket.id}} {{ticket.title}}: follow-up '{{followup.name}}' is due by "
     "{{followup.due_at}}. Customer {{ticket.customer.name}} {{ticket.customer.phone}}.",
     "[slad] Follow-up due: ticket #{{ticket.id}}"},
    {"followup.overdue",
     "【回访逾期】工单#{{ticket.id}} {{ticket.title}}：回访“{{followup.name}}”已于 "
     "{{followup.due_at}} 逾期未完成。客户 {{ticket.customer.name}} {{ticket.customer.phone}}，"
     "负责人 {{ticket.assignee}}。",
     "[slad] 回访逾期：工单#{{ticket.id}}",
     "[FOLLOW-UP OVERDUE] ticket #{{ticket.id}} {{ticket.title}}: follow-up '{{followup.name}}' "
     "was due {{followup.due_at}} and is not done. Customer {{ticket.customer.name}} "
     "{{ticket.customer.phone}}, assignee {{ticket.assignee}}.",
     "[slad] Follow-up overdue: ticket #{{ticket.id}}"},
    {"followup.unsatisfied",
     "【客户不满意】工单#{{ticket.id}} {{ticket.title}}：回访“{{followup.name}}”结果为不满意，"
     "请跟进。客户 {{ticket.customer.name}} {{ticket.customer.phone}}，"
     "负责人 {{ticket.assignee}}。",
     "[slad] 客户不满意：工单#{{ticket.id}}",
     "[UNSATISFIED] ticket #{{ticket.id}} {{ticket.title}}: the customer was not satisfied at "
     "follow-up '{{followup.name}}'; please follow up. Customer {{ticket.customer.name}} "
     "{{ticket.customer.phone}}, assignee {{ticket.assignee}}.",
     "[slad] Customer unsatisfied: ticket #{{ticket.id}}"},
    {"appointment.reminder",
     "【预约提醒】工单#{{ticket.id}} {{ticket.title}}：上门时间 {{ticket.appointment_at}}，"
     "地址 {{ticket.customer.address}}，客户 {{ticket.customer.name}} "
     "{{ticket.customer.phone}}，工程师 {{ticket.assignee}}。",
     "[slad] 预约提醒：工单#{{ticket.id}} {{ticket.appointment_at}}",
     "[APPOINTMENT] ticket #{{ticket.id}} {{ticket.title}}: visit at {{ticket.appointment_at}}, "
     "address {{ticket.customer.address}}, customer {{ticket.customer.name}} "
     "{{ticket.customer.phone}}, technician {{ticket.assignee}}.",
     "[slad] Appointment: ticket #{{ticket.id}} {{ticket.appointment_at}}"},
    {"ticket.repeat_fault",
     "【重复故障】设备 {{ticket.device.model}}（序列号 {{ticket.device.serial}}）故障 "
     "{{ticket.fault_code}} 再次报修：工单#{{ticket.id}} {{ticket.title}}，"
     "客户 {{ticket.customer.name}}。请评估换机。",
     "[slad] 重复故障：{{ticket.device.serial}} {{ticket.fault_code}}",
     "[REPEAT FAULT] device {{ticket.device.model}} (serial {{ticket.device.serial}}) reported "
     "again with fault {{ticket.fault_code}}: ticket #{{ticket.id}} {{ticket.title}}, customer "
     "{{ticket.customer.name}}. Consider a replacement.",
     "[slad] Repeat fault: {{ticket.device.serial}} {{ticket.fault_code}}"},
};

static const struct default_text *default_for(const char *event)
{
    for (size_t i = 0; event && i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strcmp(defaults[i].event, event) == 0)
            return &defaults[i];
    return NULL;
}

static bool is_zh(const char *lang)
{
    return lang && strcmp(lang, "zh") == 0;
}

const char *render_default_text(const char *event, const char *lang)
{
    const struct default_text *d = default_for(event);
    return d ? (is_zh(lang) ? d->zh : d->en) : NULL;
}

const char *render_default_subject(const char *event, const char *lang)
{
    const struct default_text *d = default_for(event);
    return d ? (is_zh(lang) ? d->zh_subject : d->en_subject) : NULL;
}

int render_message(const struct notification *n, const char *lang, int64_t now_ms, enum escape esc,
                   char **ret_text, char **ret_subject, struct slad_error *reterr)
{
    if (!lang)
        lang = n->conf && n->conf->daemon.language ? n->conf->daemon.language : "zh";
    const char *text = NULL, *subject = NULL;
    for (size_t i = 0; n->conf && i < n->conf->n_templates; i++) {
        const struct conf_template *t = &n->conf->templates[i];
        if (t->event && t->lang && t->text && n->event && strcmp(t->event, n->event) == 0 &&
            strcmp(t->lang, lang) == 0) {
            text = t->text;
            subject = t->subject;
            break;
        }
    }
    if (!text)
        text = render_default_text(n->event, lang);
    if (!subject)
        subject = render_default_subject(n->event, lang);
    if (!text || !subject)
        return slad_error_set(reterr, ENOENT, "no template for event '%s'",
                              n->event ? n->event : "(none)");

    struct render_buf b;
    render_buf_init(&b, RENDER_MAX_BYTES);
    char *t = NULL, *s = NULL;
    render_into(&b, text, n, now_ms, esc, "-");
    int r = render_buf_take(&b, "message text", &t, NULL, reterr);
    if (r == 0 && ret_subject) {
        /* A subject is one header line. */
        render_into(&b, subject, n, now_ms, ESCAPE_HEADER, "-");
        r = render_buf_take(&b, "message subject", &s, NULL, reterr);
    }
    render_buf_done(&b);
    if (r < 0) {
        free(t);
        return r;
    }
    *ret_text = t;
    if (ret_subject)
        *ret_subject = s;
    return 0;
}
