/* fuzz-render.c - libFuzzer target for templates, escaping and the requests built from
 * them.
 *
 * Input: a first byte that picks an escaping mode and an event, then NUL-separated
 * fields: template, ticket title, message text, address. Whatever they hold:
 *   - rendering never crashes, stays within RENDER_MAX_BYTES and yields valid UTF-8;
 *   - a value rendered alone in HEADER mode has no control characters;
 *   - a value inside "..." in JSON mode parses back (jansson) to its RAW rendering;
 *   - a value in FORM or URL mode has only unreserved characters and escapes, and
 *     percent-decodes back to its RAW rendering;
 *   - a value in MARKDOWN mode is one line without '<' or '>' whose markup characters
 *     are all escaped;
 *   - the built-in message of the event renders, and SMS (JSON and form) and e-mail
 *     requests built from the fields are well formed (JSON parses; mail lines end in CRLF
 *     and stay under 998 bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "channel.h"
#include "render.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = {
    "sla.warning",      "sla.breach",           "sla.escalation",       "followup.due",
    "followup.overdue", "followup.unsatisfied", "appointment.reminder", "ticket.repeat_fault",
};

static char *render_or_abort(const char *tmpl, const struct notification *n, enum escape e)
{
    char *out = NULL;
    size_t len = 0;
    int r = render_template(tmpl, n, 1772438400000, e, &out, &len, NULL);
    if (r < 0)
        return NULL; /* too long: allowed */
    if (len > RENDER_MAX_BYTES || strlen(out) != len || !utf8_valid(out, len))
        abort();
    return out;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode s (form: '+' is a space) in place; aborts on a malformed escape. */
static void percent_decode(char *s, int form)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (hi < 0 || lo < 0)
                abort();
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else if (*p == '+' && form) {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static void check_value_modes(const struct notification *n)
{
    char *raw = render_or_abort("{{ticket.title}}", n, ESCAPE_RAW);
    if (!raw)
        return;
    char *h = render_or_abort("{{ticket.title}}", n, ESCAPE_HEADER);
    for (const unsigned char *p = (const unsigned char *)h; h && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
    free(h);

    char *j = render_or_abort("\"{{ticket.title}}\"", n, ESCAPE_JSON);
    if (j) {
        json_t *v = json_loads(j, JSON_DECODE_ANY, NULL);
        if (!v || !json_is_string(v) || strcmp(json_string_value(v), raw) != 0)
            abort();
        json_decref(v);
        free(j);
    }
    for (int form = 0; form <= 1; form++) {
        char *u = render_or_abort("{{ticket.title}}", n, form ? ESCAPE_FORM : ESCAPE_URL);
        if (!u)
            continue;
        for (const char *p = u; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~*%+",
                        *p))
                abort();
        percent_decode(u, form);
        if (strcmp(u, raw) != 0)
            abort();
        free(u);
    }
    /* Markdown: one line, no tag, every markup character escaped. */
    char *md = render_or_abort("{{ticket.title}}", n, ESCAPE_MARKDOWN);
    for (const char *p = md; md && *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
            abort();
        if (*p == '\\' && p[1])
            p++; /* an escape and what it escapes */
        else if (strchr("\\`*_[]|~", *p))
            abort();
    }
    free(md);
    free(raw);
}

static void check_requests(const struct notification *n)
{
    static const uint8_t nonce[CHANNEL_NONCE_BYTES] = {1};
    char *json_headers[] = {"Content-Type: application/json"};
    struct conf_channel sms = {
        .name = "sms",
        .type = CHANNEL_SMS,
        .url = "http://127.0.0.1:9001/send?to={{to}}",
        .method = "POST",
        .headers = {json_headers, 1},
        .body = "{\"to\":\"{{to}}\",\"text\":\"{{text}}\",\"title\":\"{{ticket.title}}\"}",
    };
    struct channel_request r;
    if (channel_build(&sms, n, 1772438400000, nonce, &r, NULL) == 0) {
        json_t *v = json_loadb(r.body, r.body_len, 0, NULL);
        if (!v)
            abort();
        json_decref(v);
        if (strpbrk(r.url, " \r\n\"<>"))
            abort();
        channel_request_done(&r);
    }
    struct conf_channel mail = {.name = "mail",
                                .type = CHANNEL_EMAIL,
                                .url = "smtp://127.0.0.1:25",
                                .from = "slad@example.com"};
    if (channel_build(&mail, n, 1772438400000, nonce, &r, NULL) == 0) {
        const char *p = r.body;
        while (*p) {
            const char *eol = strstr(p, "\r\n");
            if (!eol || eol - p > 998 || memchr(p, '\n', (size_t)(eol - p)) ||
                memchr(p, '\r', (size_t)(eol - p))) {
                fprintf(stderr, "bad mail line: %.*s\n", (int)(eol ? eol - p : 80), p);
                abort();
            }
            p = eol + 2;
        }
        channel_request_done(&r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    /* Fields separated by NUL bytes; missing ones are empty. */
    const char *field[4] = {"", "", "", ""};
    const char *p = copy, *end = copy + size - 1;
    for (int i = 0; i < 4 && p <= end; i++) {
        field[i] = p;
        p += strlen(p) + 1;
    }
    enum escape esc = (enum escape)(data[0] % 8);
    const char *event = events[(data[0] >> 3) % 8];

    struct ticket t;
    ticket_init(&t);
    t.id = 42;
    t.title = (char *)field[1];
    t.customer_name = (char *)field[2];
    struct slaclock c;
    memset(&c, 0, sizeof(c));
    snprintf(c.name, sizeof(c.name), "response");
    c.state = SLACLOCK_MET;
    c.due_at_ms = 1772438400000;
    c.target_ms = 3600000;
    struct notification n = {
        .event = event,
        .idempotency_key = field[1],
        .ticket = &t,
        .clock = &c,
        .step = 1,
        .recipient = "supervisor",
        .to = field[3],
        .text = field[2],
        .subject = field[1],
        .followup_name = field[2],
        .followup_due_at_ms = 0,
    };

    free(render_or_abort(field[0], &n, esc));
    check_value_modes(&n);

    char *text = NULL, *subject = NULL;
    if (render_message(&n, (data[0] & 0x40) ? "zh" : "en", 1772438400000,
                       (data[0] & 0x80) ? ESCAPE_MARKDOWN : ESCAPE_RAW, &text, &subject,
                       NULL) == 0) {
        if (!utf8_valid(text, strlen(text)) || strchr(subject, '\n'))
            abort();
        free(text);
        free(subject);
    }
    check_requests(&n);
    free(copy);
    return 0;
}
