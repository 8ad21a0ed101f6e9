/* conf_intakes.c - the intakes section: which monitoring senders post alerts to
 * POST /v1/intake/{name}, in what format, and what their tickets get (team, the hints
 * policies match on, severities from the sender's words). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"
#include "ticket.h"

/* The sender's words when the section gives no map: Alertmanager's usual severity labels
 * and the four of PagerDuty's Events API v2. */
static const struct {
    const char *word;
    int severity;
} default_map[] = {{"critical", 1}, {"error", 2}, {"warning", 3}, {"info", 5}};

static const char *const intake_types[] = {"alertmanager", "pagerduty", NULL};

/* The name is a URL path segment that senders are configured with: ASCII only, so that it
 * needs no percent-encoding. */
static void parse_intake_name(struct conf_loader *ld, const config_setting_t *s, void *obj,
                              const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p >= 0x80) {
            char q[QUOTE_MAX];
            conf_key_error(ld, s, k,
                           "'%s': an intake's name is part of its URL (/v1/intake/NAME): use "
                           "ASCII letters, digits, '.', '_', '-'",
                           conf_quote(text, q, sizeof(q)));
            return;
        }
    conf_parse_name(ld, s, obj, k);
}

static void parse_team_ref(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    char q[QUOTE_MAX];
    if (!text)
        return;
    if (!conf_find_team(ld->conf, text))
        conf_key_error(ld, s, k, "unknown team '%s'", conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

/* labels = { env = "prod"; }: set on every ticket of the intake. */
static void parse_labels(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf_intake *in = obj;
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { env = \"prod\"; }");
        return;
    }
    size_t n = (size_t)config_setting_length(s);
    if (n > TICKET_MAX_LABELS) {
        conf_key_error(ld, s, k, "%zu labels; a ticket has at most %d", n, TICKET_MAX_LABELS);
        return;
    }
    if (!n || !(in->labels = conf_alloc_array(ld, n, sizeof(*in->labels))))
        return;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        struct conf_key as_label = {.name = config_setting_name(m)};
        const char *value = conf_string_value(ld, m, &as_label);
        if (!value)
            continue;
        struct conf_label *l = &in->labels[in->n_labels++];
        l->key = conf_strdup(ld, config_setting_name(m));
        l->value = conf_strdup(ld, value);
    }
}

/* severity_map = { critical = 1; warning = 3; }: the sender's words (compared without
 * case) to severities 1..5. */
static void parse_severity_map(struct conf_loader *ld, const config_setting_t *s, void *obj,
                               const struct conf_key *k)
{
    struct conf_intake *in = obj;
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { critical = 1; warning = 3; info = 5; }");
        return;
    }
    size_t n = (size_t)config_setting_length(s);
    if (!n) {
        conf_key_error(ld, s, k, "empty map; leave it out for the default");
        return;
    }
    if (!(in->severity_map = conf_alloc_array(ld, n, sizeof(*in->severity_map))))
        return;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        struct conf_key as_word = {
            .name = config_setting_name(m), .min = TICKET_SEVERITY_MIN, .max = TICKET_SEVERITY_MAX};
        int64_t v;
        if (!conf_integer_value(ld, m, &as_word, &v))
            continue;
        struct conf_severity_word *w = &in->severity_map[in->n_severity_map++];
        w->word = conf_strdup(ld, config_setting_name(m));
        w->severity = (int)v;
    }
}

#define I(field) .offset = offsetof(struct conf_intake, field)
static const struct conf_key intake_keys[] = {
    {"name", parse_intake_name, I(name), .required = true},
    {"type", conf_parse_enum, I(type), .required = true, .words = intake_types},
    {"team", parse_team_ref, I(team)},
    {"grade", conf_parse_string, I(grade)},
    {"region", conf_parse_string, I(region)},
    {"labels", .parse = parse_labels},
    {"severity_map", .parse = parse_severity_map},
    {"default_severity", conf_parse_int, I(default_severity), .min = TICKET_SEVERITY_MIN,
     .max = TICKET_SEVERITY_MAX},
    {"token_file", conf_parse_string, I(token_file)},
};
#undef I

static void default_severity_map(struct conf_loader *ld, struct conf_intake *in)
{
    size_t n = sizeof(default_map) / sizeof(default_map[0]);
    if (!(in->severity_map = conf_alloc_array(ld, n, sizeof(*in->severity_map))))
        return;
    for (size_t i = 0; i < n; i++) {
        in->severity_map[i].word = conf_strdup(ld, default_map[i].word);
        in->severity_map[i].severity = default_map[i].severity;
    }
    in->n_severity_map = n;
}

void conf_parse_intakes(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->intakes = conf_alloc_array(ld, (size_t)n, sizeof(*conf->intakes))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_intake *in = &conf->intakes[i];
        conf->n_intakes++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "intake", NULL);
        in->default_severity = 3;
        conf_read_group(ld, e, where, intake_keys, N_KEYS(intake_keys), in);
        conf_check_unique(ld, s, i, "intake");
        if (!in->n_severity_map && !config_setting_get_member(e, "severity_map"))
            default_severity_map(ld, in);
    }
}
