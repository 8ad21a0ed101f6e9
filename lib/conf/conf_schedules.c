/* conf_schedules.c - the `schedules` section: on-call schedules built with schedule_new
 * (schedule.h) from their layers, and the check of "oncall:SCHEDULE" where a recipient or
 * a team's role names one. Read after contacts and calendars, which layers name, and
 * before teams and policies, which name schedules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"

/* What a layer group says, before schedule_new copies it. */
struct layer_input {
    int64_t start_ms;
    int rotation_min;
    int handoff_min; /* -1 until given */
    struct conf_strings contacts;
    const struct calendar *calendar;
};

struct schedule_input {
    char *name, *timezone;
    struct layer_input *layers;
    size_t n_layers;
};

static void parse_start(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    const char *why;
    char q[QUOTE_MAX];
    if (civil_time_parse(text, FIELD(obj, k, int64_t), &why) < 0)
        conf_key_error(ld, s, k, "'%s' is not an RFC 3339 time (%s)",
                       conf_quote(text, q, sizeof(q)), why);
}

static void parse_rotation(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    struct slad_error err;
    if (text && schedule_parse_rotation(text, FIELD(obj, k, int), &err) < 0)
        conf_key_error(ld, s, k, "%s", err.msg);
}

static void parse_handoff(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    struct slad_error err;
    if (text && calendar_parse_time(text, FIELD(obj, k, int), &err) < 0)
        conf_key_error(ld, s, k, "%s", err.msg);
}

static void parse_layer_contacts(struct conf_loader *ld, const config_setting_t *s, void *obj,
                                 const struct conf_key *k)
{
    struct conf_strings *out = FIELD(obj, k, struct conf_strings);
    if (!conf_strings_value(ld, s, k, false, out))
        return;
    char q[QUOTE_MAX];
    if (out->n > SCHEDULE_MAX_CONTACTS)
        conf_key_error(ld, s, k, "%zu contacts, at most %d", out->n, SCHEDULE_MAX_CONTACTS);
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i] && !conf_find_contact(ld->conf, out->v[i]))
            conf_key_error(ld, conf_element(s, i), k, "unknown contact '%s'",
                           conf_quote(out->v[i], q, sizeof(q)));
}

#define L(field) .offset = offsetof(struct layer_input, field)
static const struct conf_key layer_keys[] = {
    {"start", parse_start, L(start_ms), .required = true},
    {"rotation", parse_rotation, L(rotation_min), .required = true},
    {"handoff", parse_handoff, L(handoff_min)},
    {"contacts", parse_layer_contacts, L(contacts), .required = true, .min = 1},
    {"calendar", conf_parse_calendar_ref, L(calendar)},
};
#undef L

static void parse_layers(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct schedule_input *in = obj;
    conf_read_list(ld, s, k, "layer", layer_keys, N_KEYS(layer_keys), (void **)&in->layers,
                   &in->n_layers, sizeof(*in->layers), false);
    /* Without a hand-off, a layer hands off at its start's time of day. */
    for (size_t i = 0; i < in->n_layers; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!config_setting_get_member(e, "handoff"))
            in->layers[i].handoff_min = -1;
    }
    if (in->n_layers > SCHEDULE_MAX_LAYERS)
        conf_key_error(ld, s, k, "%zu layers, at most %d", in->n_layers, SCHEDULE_MAX_LAYERS);
    else if (conf_is_list(s) && config_setting_length(s) == 0)
        conf_key_error(ld, s, k, "a schedule needs a layer");
}

#define C(field) .offset = offsetof(struct schedule_input, field)
static const struct conf_key schedule_keys[] = {
    {"name", conf_parse_name, C(name), .required = true},
    {"timezone", conf_parse_string, C(timezone), .required = true},
    {"layers", .parse = parse_layers, .required = true},
};
#undef C

static void input_done(struct schedule_input *in)
{
    for (size_t i = 0; i < in->n_layers; i++)
        conf_strings_done(&in->layers[i].contacts);
    free(in->layers);
    free(in->name);
    free(in->timezone);
}

/* Build the schedule the input describes into conf (errors reported at e). */
static void build(struct conf_loader *ld, const config_setting_t *e, struct schedule_input *in)
{
    struct schedule_layer_spec *layers = conf_alloc_array(ld, in->n_layers, sizeof(*layers));
    if (!layers)
        return;
    for (size_t i = 0; i < in->n_layers; i++)
        layers[i] = (struct schedule_layer_spec){
            .start_ms = in->layers[i].start_ms,
            .rotation_min = in->layers[i].rotation_min,
            .handoff_min = in->layers[i].handoff_min,
            .contacts = (const char *const *)in->layers[i].contacts.v,
            .n_contacts = in->layers[i].contacts.n,
            .calendar = in->layers[i].calendar,
        };
    struct schedule_spec spec = {in->name, in->timezone, layers, in->n_layers};
    struct conf *conf = ld->conf;
    struct slad_error err;
    int r = schedule_new(&spec, &conf->schedules[conf->n_schedules], &err);
    if (r == -ENOMEM)
        ld->oom = true;
    else if (r < 0)
        conf_report(ld, e, "%s", err.msg); /* it names the schedule */
    else
        conf->n_schedules++;
    free(layers);
}

void conf_parse_schedules(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(conf->schedules = conf_alloc_array(ld, (size_t)n, sizeof(*conf->schedules))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!config_setting_is_group(e))
            continue;
        struct schedule_input in = {0};
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "schedule", NULL);
        size_t errors_before = ld->n_errors;
        conf_read_group(ld, e, where, schedule_keys, N_KEYS(schedule_keys), &in);
        conf_check_unique(ld, s, i, "schedule");
        /* Known even when it fails to build: its users get no second error. */
        if (in.name && !conf_strings_has(&ld->schedule_names, in.name))
            conf_strings_add(ld, &ld->schedule_names, in.name);
        if (ld->n_errors == errors_before && !ld->oom)
            build(ld, e, &in);
        input_done(&in);
    }
}

void conf_check_oncall(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                       const char *recipient)
{
    const char *name = recipient + strlen(RECIPIENT_ONCALL);
    if (conf_strings_has(&ld->schedule_names, name))
        return;
    char q[QUOTE_MAX], list[LIST_MAX] = "none";
    size_t o = 0;
    for (size_t i = 0; i < ld->schedule_names.n && o < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                              ld->schedule_names.v[i]);
    conf_key_error(ld, s, k, "unknown schedule '%s' in '%s' (schedules: %s)",
                   conf_quote(name, q, sizeof(q)), recipient, list);
}
