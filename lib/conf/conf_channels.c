/* conf_channels.c - the config sections that say who is reached and how: channels (with
 * the keys each type needs, the provider limits it defaults to, and the rules that keep
 * secrets and values in their place: signing key sizes, an escapable body type, STARTTLS
 * with a login, no secret quoted in a message), contacts, teams and message templates,
 * whose {{placeholders}} are checked against what render.c fills. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "conf_loader.h"
#include "escape.h"
#include "passhash.h"
#include "webhook_key.h"
#include "retry.h"

/* The shortest signing key slad accepts: 128 bits, as a guess must not forge signatures. */
#define SIGNING_KEY_MIN_BYTES 16

const char *const conf_notification_events[] = {
    "sla.warning",          "sla.breach",          "sla.escalation",
    "followup.due",         "followup.overdue",    "followup.unsatisfied",
    "appointment.reminder", "ticket.repeat_fault", NULL,
};
static const char *const http_methods[] = {"POST", "PUT", "GET", NULL};
static const char *const tls_modes[] = {"starttls", "none", NULL};

/* What templates, SMS bodies and headers may use as {{name}}; render.c fills them. */
static const char *const placeholders[] = {
    "ticket.id",
    "ticket.title",
    "ticket.severity",
    "ticket.status",
    "ticket.team",
    "ticket.assignee",
    "ticket.region",
    "ticket.customer.name",
    "ticket.customer.phone",
    "ticket.customer.address",
    "ticket.device.serial",
    "ticket.device.model",
    "ticket.fault_code",
    "ticket.appointment_at",
    "clock.name",
    "clock.due_at",
    "clock.target",
    "clock.elapsed",
    "step",
    "event",
    "recipient",
    "to",
    "text",
    "now",
    "followup.name",
    "followup.due_at",
    "link",
    NULL,
};

static void check_placeholders(struct conf_loader *ld, const config_setting_t *s,
                               const struct conf_key *k, const char *text)
{
    char q[QUOTE_MAX], list[LIST_MAX * 2];
    for (const char *p = text; (p = strstr(p, "{{"));) {
        const char *end = strstr(p + 2, "}}");
        if (!end) {
            /* Only the name: what follows may be a key written into a body or header. */
            size_t name = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz._");
            snprintf(q, sizeof(q), "{{%.*s", (int)(name < 40 ? name : 40), p + 2);
            conf_key_error(ld, s, k, "unterminated placeholder '%s' (write {{name}})", q);
            return;
        }
        char name[QUOTE_MAX];
        size_t len = (size_t)(end - p - 2);
        snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1),
                 p + 2);
        if (len >= sizeof(name) || !conf_word_in(placeholders, name))
            conf_key_error(ld, s, k, "unknown placeholder '{{%s}}' (known: %s)",
                           conf_quote(name, q, sizeof(q)),
                           conf_join_words(placeholders, list, sizeof(list)));
        p = end + 2;
    }
}

static void parse_template_text(struct conf_loader *ld, const config_setting_t *s, void *obj,
                                const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    check_placeholders(ld, s, k, text);
    conf_set_string(ld, FIELD(obj, k, char *), text);
}

static void parse_channel_ref(struct conf_loader *ld, const config_setting_t *s, void *obj,
                              const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    char q[QUOTE_MAX];
    if (!text)
        return;
    if (!conf_find_channel(ld->conf, text))
        conf_key_error(ld, s, k, "unknown channel '%s'", conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

/* ---- channels ---- */

/* Per type: the keys it needs, the further keys it takes, URL schemes, defaults. */
static const struct channel_kind {
    const char *name;
    const char *needs, *takes;
    const char *schemes;
    const char *default_url;
    int rate_count; /* provider limits: DingTalk and WeCom robots take 20 messages a minute */
    int64_t rate_window_ms;
} channel_kinds[] = {
    [CHANNEL_WEBHOOK] = {"webhook", "url", "secret", .schemes = "http https"},
    [CHANNEL_SLACK] = {"slack", "url", "", .schemes = "http https", .rate_count = 1,
                       .rate_window_ms = 1000},
    [CHANNEL_DINGTALK] = {"dingtalk", "url", "secret", .schemes = "http https", .rate_count = 20,
                          .rate_window_ms = 60000},
    [CHANNEL_WECOM] = {"wecom", "url", "", .schemes = "http https", .rate_count = 20,
                       .rate_window_ms = 60000},
    [CHANNEL_FEISHU] = {"feishu", "url", "secret", .schemes = "http https", .rate_count = 100,
                        .rate_window_ms = 60000},
    [CHANNEL_PAGERDUTY] = {"pagerduty", "routing_key", "url", .schemes = "http https",
                           .default_url = "https://events.pagerduty.com/v2/enqueue"},
    [CHANNEL_SMS] = {"sms", "url", "method headers body username password",
                     .schemes = "http https"},
    [CHANNEL_ALIYUN_SMS] = {"aliyun_sms",
                            "access_key_id access_key_secret sign_name "
                            "template_code",
                            "url", .schemes = "http https",
                            .default_url = "https://dysmsapi.aliyuncs.com/"},
    [CHANNEL_EMAIL] = {"email", "url from", "username password tls", .schemes = "smtp smtps"},
    [CHANNEL_FILE] = {"file", "path", "", .schemes = ""},
};
#define N_CHANNEL_KINDS (sizeof(channel_kinds) / sizeof(channel_kinds[0]))
static const char *const channel_common_keys = "name type timeout max_attempts max_age "
                                               "concurrency rate group_window";

static void parse_channel_type(struct conf_loader *ld, const config_setting_t *s, void *obj,
                               const struct conf_key *k)
{
    const char *names[N_CHANNEL_KINDS + 1];
    for (size_t i = 0; i < N_CHANNEL_KINDS; i++)
        names[i] = channel_kinds[i].name;
    names[N_CHANNEL_KINDS] = NULL;
    int index = -1;
    struct conf_key as_enum = *k;
    as_enum.offset = 0;
    as_enum.words = names;
    conf_parse_enum(ld, s, &index, &as_enum);
    if (index >= 0)
        *FIELD(obj, k, enum channel_type) = (enum channel_type)index;
}

/* "20/s", "20/m", "100/h". */
static void parse_rate(struct conf_loader *ld, const config_setting_t *s, void *obj,
                       const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    struct conf_channel *c = obj;
    char *end;
    long count = strtol(text, &end, 10);
    int64_t window = !strcmp(end, "/s")   ? 1000
                     : !strcmp(end, "/m") ? 60000
                     : !strcmp(end, "/h") ? 3600000
                                          : 0;
    char q[QUOTE_MAX];
    if (text[0] < '0' || text[0] > '9' || count < 1 || count > 1000000 || !window) {
        conf_key_error(ld, s, k, "'%s' is not a rate such as \"20/s\", \"20/m\" or \"100/h\"",
                       conf_quote(text, q, sizeof(q)));
        return;
    }
    c->rate_count = (int)count;
    c->rate_window_ms = window;
}

static void parse_headers(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    struct conf_strings *out = FIELD(obj, k, struct conf_strings);
    if (!conf_strings_value(ld, s, k, false, out))
        return;
    for (size_t i = 0; i < out->n; i++) {
        const char *h = out->v[i];
        if (!h)
            continue;
        size_t name_len = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_");
        char q[QUOTE_MAX];
        /* Quote the name only: the value of an Authorization line is a secret. */
        snprintf(q, sizeof(q), "%.*s", (int)(name_len < 60 ? name_len : 60), h);
        if (name_len == 0 || h[name_len] != ':')
            conf_key_error(ld, conf_element(s, i), k,
                           "'%s...' is not a header line \"Name: value\" (a colon must follow "
                           "the name)",
                           q);
        else if (strstr(h, "{{") && strncasecmp(h, "Content-Type:", 13) == 0)
            conf_key_error(ld, conf_element(s, i), k,
                           "the Content-Type line cannot hold placeholders: it says how the "
                           "body's placeholders are escaped");
        else
            check_placeholders(ld, conf_element(s, i), k, h);
    }
}

static void parse_email(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    const char *at = strchr(text, '@');
    char q[QUOTE_MAX];
    if (!at || at == text || !at[1] || strchr(at + 1, '@') || strpbrk(text, " \t<>,;"))
        conf_key_error(ld, s, k, "'%s' is not an e-mail address", conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

#define C(field) .offset = offsetof(struct conf_channel, field)
static const struct conf_key channel_keys[] = {
    {"name", conf_parse_name, C(name), .required = true},
    {"type", parse_channel_type, C(type), .required = true},
    {"url", conf_parse_string, C(url), .secret = true}, /* robots carry their token in the URL */
    {"secret", conf_parse_string, C(secret), .secret = true},
    {"timeout", conf_parse_ms, C(timeout_ms), .min = 100, .max = 600000},
    {"max_attempts", conf_parse_int, C(max_attempts), .min = 1, .max = 1000},
    {"max_age", conf_parse_ms, C(max_age_ms), .min = 1000, .max = DURATION_MAX_MS},
    {"concurrency", conf_parse_int, C(concurrency), .min = 1, .max = 1024},
    {"rate", .parse = parse_rate},
    {"method", conf_parse_word, C(method), .words = http_methods},
    {"headers", parse_headers, C(headers), .secret = true}, /* Authorization, X-Api-Key */
    {"body", parse_template_text, C(body), .secret = true},
    {"username", conf_parse_string, C(username)},
    {"password", conf_parse_string, C(password), .secret = true},
    {"from", parse_email, C(from)},
    {"path", conf_parse_string, C(path)},
    {"access_key_id", conf_parse_string, C(access_key_id)},
    {"access_key_secret", conf_parse_string, C(access_key_secret), .secret = true},
    {"sign_name", conf_parse_string, C(sign_name)},
    {"template_code", conf_parse_string, C(template_code)},
    {"routing_key", conf_parse_string, C(routing_key), .secret = true},
    {"tls", conf_parse_word, C(tls), .words = tls_modes},
    {"group_window", conf_parse_ms, C(group_window_ms), .min = 1000, .max = CIVIL_MS_PER_HOUR},
};
#undef C

/* "scheme://host...": the scheme is one of schemes and the host is not empty. */
static bool url_ok(const char *url, const char *schemes)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url || (size_t)(sep - url) >= 16 || strpbrk(url, " \t\r\n"))
        return false;
    char scheme[16];
    snprintf(scheme, sizeof(scheme), "%.*s", (int)(sep - url), url);
    return conf_word_in_list(schemes, scheme) && sep[3] && sep[3] != '/';
}

/* Whether the key of channel_keys named key was in the group (present: conf_read_group's). */
static bool given(uint64_t present, const char *key)
{
    for (size_t i = 0; i < N_KEYS(channel_keys); i++)
        if (strcmp(channel_keys[i].name, key) == 0)
            return present & (UINT64_C(1) << i);
    return false;
}

/* A value put into a body is escaped by the body's type (JSON string, form field, XML
 * text), so a customer's phone field cannot add keys to the gateway's request: a body with
 * placeholders needs a type slad can escape for. */
static void check_sms_body(struct conf_loader *ld, const config_setting_t *e,
                           const struct conf_channel *c, const char *where)
{
    if (!c->body || !strstr(c->body, "{{") || (c->method && strcmp(c->method, "GET") == 0))
        return;
    const config_setting_t *body = config_setting_get_member(e, "body");
    const char *type = escape_content_type(&c->headers);
    char q[QUOTE_MAX];
    if (!type)
        conf_report(ld, body,
                    "body in %s: a body with placeholders needs a Content-Type header that says "
                    "how to escape them: add headers = [\"Content-Type: application/json\"] (or "
                    "application/x-www-form-urlencoded, or application/xml)",
                    where);
    else if (escape_for_content_type(type) == ESCAPE_RAW)
        conf_report(ld, body,
                    "body in %s: placeholders cannot be escaped for Content-Type '%s': use "
                    "application/json, application/x-www-form-urlencoded or an XML type, or a "
                    "body without placeholders",
                    where, conf_quote(type, q, sizeof(q)));
}

/* On smtp:// the login (AUTH PLAIN) and the message go in clear text unless STARTTLS is
 * required: it is, by default, when there is a login. */
static void check_email_tls(struct conf_loader *ld, const config_setting_t *e,
                            struct conf_channel *c, const char *where)
{
    const config_setting_t *tls = config_setting_get_member(e, "tls");
    bool login = c->username || c->password;
    if (c->url && strncmp(c->url, "smtps://", 8) == 0) {
        if (tls)
            conf_report(ld, tls,
                        "tls in %s: does not apply to an smtps:// url, which is TLS from the "
                        "first byte: remove it",
                        where);
        return;
    }
    c->smtp_starttls = c->tls ? strcmp(c->tls, "starttls") == 0 : login;
    if (c->tls && !c->smtp_starttls && login)
        conf_warn(ld, tls,
                  "tls in %s: \"none\": the SMTP login, password and every message travel in "
                  "clear text; use smtps:// or tls = \"starttls\"",
                  where);
}

/* A short signing key makes signatures guessable; a vendor's secret shorter than any it
 * issues is a truncated paste. */
static void check_signing_secret(struct conf_loader *ld, const config_setting_t *e,
                                 const struct conf_channel *c, const char *where)
{
    const config_setting_t *s = config_setting_get_member(e, "secret");
    if (c->type == CHANNEL_WEBHOOK) {
        struct slad_error err = {{0}};
        int n = webhook_key_bytes(c->secret, &err);
        if (n < 0)
            conf_report(ld, s, "secret in %s: %s", where, err.msg);
        else if (n < SIGNING_KEY_MIN_BYTES)
            conf_report(ld, s,
                        "secret in %s: the signing key is %d bytes, at least %d are needed or "
                        "signatures can be forged (write \"whsec_\" and the base64 of 24 to 64 "
                        "random bytes: echo whsec_$(openssl rand -base64 32))",
                        where, n, SIGNING_KEY_MIN_BYTES);
        return;
    }
    size_t len = strlen(c->secret);
    if (len < SIGNING_KEY_MIN_BYTES)
        conf_report(ld, s,
                    "secret in %s: %zu characters is shorter than any signing secret %s issues "
                    "(at least %d): paste the whole secret from the robot's security settings",
                    where, len, c->type == CHANNEL_DINGTALK ? "DingTalk" : "Feishu",
                    SIGNING_KEY_MIN_BYTES);
}

static void check_channel(struct conf_loader *ld, const config_setting_t *e, struct conf_channel *c,
                          uint64_t present, const char *where)
{
    const struct channel_kind *kind = &channel_kinds[c->type];
    for (size_t i = 0; i < N_KEYS(channel_keys); i++) {
        const char *key = channel_keys[i].name;
        bool is_given = present & (UINT64_C(1) << i);
        if (is_given && !conf_word_in_list(channel_common_keys, key) &&
            !conf_word_in_list(kind->needs, key) && !conf_word_in_list(kind->takes, key))
            conf_report(ld, config_setting_get_member(e, key),
                        "%s in %s: does not apply to type '%s' (it takes: %s%s%s)", key, where,
                        kind->name, kind->needs, *kind->takes ? " " : "", kind->takes);
        if (!is_given && conf_word_in_list(kind->needs, key))
            conf_report(ld, e, "missing key '%s' in %s (type '%s' needs: %s)", key, where,
                        kind->name, kind->needs);
    }
    char q[QUOTE_MAX];
    if (c->url && !url_ok(c->url, kind->schemes)) {
        /* Quote the scheme and host only: the path and query may hold a token, the user
         * info a password. */
        const char *sep = strstr(c->url, "://");
        const char *host = sep ? sep + 3 : c->url;
        size_t auth = sep ? strcspn(host, "/?#") : 0;
        const char *at = memrchr(host, '@', auth);
        const char *shown = at ? at + 1 : host;
        size_t shown_len = auth - (size_t)(shown - host);
        char head[QUOTE_MAX];
        snprintf(head, sizeof(head), "%.*s%s%.*s", sep ? (int)(host - c->url) : 0, c->url,
                 at ? "***@" : "", (int)(shown_len < 50 ? shown_len : 50), shown);
        conf_report(ld, config_setting_get_member(e, "url"),
                    "url in %s: '%s...' is not a URL with a host and scheme %s", where,
                    conf_quote(head, q, sizeof(q)), kind->schemes);
    }
    if (!c->url && kind->default_url)
        c->url = conf_strdup(ld, kind->default_url);
    if (c->type == CHANNEL_SMS && !c->method)
        c->method = conf_strdup(ld, "POST");
    if (c->type == CHANNEL_SMS)
        check_sms_body(ld, e, c, where);
    if (c->type == CHANNEL_EMAIL)
        check_email_tls(ld, e, c, where);
    if (c->secret)
        check_signing_secret(ld, e, c, where);
    if (!given(present, "rate")) {
        c->rate_count = kind->rate_count;
        c->rate_window_ms = kind->rate_window_ms;
    }
    /* Relative output files live next to the database, not in the daemon's cwd ("/"). */
    if (c->path && c->path[0] != '/') {
        char *dir = conf_folder_of(ld, ld->conf->daemon.database);
        char *full = dir ? conf_join_path(ld, dir, c->path) : NULL;
        free(dir);
        if (full) {
            free(c->path);
            c->path = full;
        }
    }
}

void conf_parse_channels(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->channels = conf_alloc_array(ld, (size_t)n, sizeof(*conf->channels))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_channel *c = &conf->channels[i];
        conf->n_channels++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "channel", NULL);
        c->type = CHANNEL_WEBHOOK;
        c->timeout_ms = 10000;
        c->max_attempts = 10;
        c->max_age_ms = RETRY_DEFAULT_MAX_AGE_MS;
        c->concurrency = 4;
        uint64_t present = conf_read_group(ld, e, where, channel_keys, N_KEYS(channel_keys), c);
        conf_check_unique(ld, s, i, "channel");
        /* The keys a type needs mean nothing without a valid type (already reported). */
        const char *type;
        if (config_setting_lookup_string(e, "type", &type) && channel_type_from_name(type) >= 0)
            check_channel(ld, e, c, present, where);
    }
}

/* ---- contacts ---- */

static void parse_phone(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    size_t digits = strspn(text + 1, "0123456789");
    char q[QUOTE_MAX];
    if (text[0] != '+' || text[1 + digits] || digits < 6 || digits > 15)
        conf_key_error(ld, s, k, "'%s' is not an E.164 number such as \"+8613800000001\"",
                       conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

static void parse_via(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    struct conf_contact *c = obj;
    if (!conf_strings_value(ld, s, k, false, &c->via))
        return;
    for (size_t i = 0; i < c->via.n; i++) {
        const struct conf_channel *ch =
            c->via.v[i] ? conf_find_channel(ld->conf, c->via.v[i]) : NULL;
        char q[QUOTE_MAX];
        if (c->via.v[i] && !ch)
            conf_key_error(ld, conf_element(s, i), k, "unknown channel '%s'",
                           conf_quote(c->via.v[i], q, sizeof(q)));
        else if (ch && (ch->type == CHANNEL_SMS || ch->type == CHANNEL_ALIYUN_SMS) && !c->phone)
            conf_key_error(ld, conf_element(s, i), k,
                           "channel '%s' sends SMS, but the contact has no phone", ch->name);
        else if (ch && ch->type == CHANNEL_EMAIL && !c->email)
            conf_key_error(ld, conf_element(s, i), k,
                           "channel '%s' sends e-mail, but the contact has no email", ch->name);
    }
}

/* A crypt(3) hash libxcrypt verifies (passhash.h); never quoted in a message. */
static void parse_password_hash(struct conf_loader *ld, const config_setting_t *s, void *obj,
                                const struct conf_key *k)
{
    const struct conf_contact *c = obj;
    const char *text = conf_string_value(ld, s, k);
    const char *why;
    if (!text)
        return;
    if (!passhash_valid(text, &why))
        conf_key_error(ld, s, k, "the password hash of contact '%s' %s", c->name ? c->name : "?",
                       why);
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

#define P(field) .offset = offsetof(struct conf_contact, field)
static const struct conf_key contact_keys[] = {
    {"name", conf_parse_name, P(name), .required = true},
    {"phone", parse_phone, P(phone)},
    {"email", parse_email, P(email)},
    {"via", .parse = parse_via}, /* after phone and email, which it checks */
    {"hours", conf_parse_calendar_ref, P(hours)},
    {"password_hash", parse_password_hash, P(password_hash), .secret = true}, /* after name */
    {"access", conf_parse_enum, P(access), .words = contact_access_names},
};
#undef P

void conf_parse_contacts(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->contacts = conf_alloc_array(ld, (size_t)n, sizeof(*conf->contacts))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        conf->n_contacts++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "contact", NULL);
        conf_read_group(ld, e, where, contact_keys, N_KEYS(contact_keys), &conf->contacts[i]);
        conf_check_unique(ld, s, i, "contact");
    }
}

/* ---- teams ---- */

/* roles = { supervisor = ["li.si"]; ... }: role names are the team's own. */
static void parse_roles(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    struct conf_team *t = obj;
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { supervisor = [\"li.si\"]; }");
        return;
    }
    size_t n = (size_t)config_setting_length(s);
    if (!n || !(t->roles = conf_alloc_array(ld, n, sizeof(*t->roles))))
        return;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        struct conf_role *role = &t->roles[t->n_roles++];
        const char *name = config_setting_name(m);
        struct conf_key as_role = {.name = name, .min = 1};
        role->name = conf_strdup(ld, name);
        if (!strcmp(name, "assignee") || !strcmp(name, "customer"))
            conf_key_error(ld, m, &as_role, "'%s' is given by the ticket, not by a team", name);
        else if (!conf_strings_has(&ld->roles, name))
            conf_strings_add(ld, &ld->roles, name);
        if (!conf_strings_value(ld, m, &as_role, false, &role->contacts))
            continue;
        for (size_t j = 0; j < role->contacts.n; j++) {
            const char *c = role->contacts.v[j];
            char q[QUOTE_MAX];
            if (c && strncmp(c, RECIPIENT_ONCALL, strlen(RECIPIENT_ONCALL)) == 0)
                conf_check_oncall(ld, conf_element(m, j), &as_role, c);
            else if (c && !conf_find_contact(ld->conf, c))
                conf_key_error(ld, conf_element(m, j), &as_role, "unknown contact '%s'",
                               conf_quote(c, q, sizeof(q)));
        }
    }
}

#define T(field) .offset = offsetof(struct conf_team, field)
static const struct conf_key team_keys[] = {
    {"name", conf_parse_name, T(name), .required = true},
    {"channel", parse_channel_ref, T(channel)},
    {"roles", .parse = parse_roles},
};
#undef T

void conf_parse_teams(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->teams = conf_alloc_array(ld, (size_t)n, sizeof(*conf->teams))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        conf->n_teams++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "team", NULL);
        conf_read_group(ld, e, where, team_keys, N_KEYS(team_keys), &conf->teams[i]);
        conf_check_unique(ld, s, i, "team");
    }
}

/* ---- templates ---- */

#define M(field) .offset = offsetof(struct conf_template, field)
static const struct conf_key template_keys[] = {
    {"event", conf_parse_word, M(event), .required = true, .words = conf_notification_events},
    {"lang", conf_parse_word, M(lang), .required = true, .words = conf_languages},
    {"text", parse_template_text, M(text), .required = true},
    {"subject", parse_template_text, M(subject)},
};
#undef M

void conf_parse_templates(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->templates = conf_alloc_array(ld, (size_t)n, sizeof(*conf->templates))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_template *t = &conf->templates[i];
        conf->n_templates++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        snprintf(where, sizeof(where), "template #%d", i + 1);
        conf_read_group(ld, e, where, template_keys, N_KEYS(template_keys), t);
        for (int j = 0; j < i && t->event && t->lang; j++) {
            const struct conf_template *o = &conf->templates[j];
            if (o->event && o->lang && !strcmp(o->event, t->event) && !strcmp(o->lang, t->lang)) {
                conf_report(ld, e,
                            "duplicate template for event '%s' in language '%s' (first at "
                            "line %u)",
                            t->event, t->lang,
                            config_setting_source_line(config_setting_get_elem(s, (unsigned)j)));
                break;
            }
        }
    }
}
