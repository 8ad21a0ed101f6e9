/* conf.c - the configuration as data (see conf.h): the names of channel types, freeing a
 * loaded configuration, and lookups by name. Loading it from a file is lib/conf's work. */
#include "conf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calendar.h"

const char *const contact_access_names[] = {"viewer", "operator", "admin", NULL};

static const char *const channel_type_names[] = {
    [CHANNEL_WEBHOOK] = "webhook",   [CHANNEL_SLACK] = "slack",
    [CHANNEL_DINGTALK] = "dingtalk", [CHANNEL_WECOM] = "wecom",
    [CHANNEL_FEISHU] = "feishu",     [CHANNEL_PAGERDUTY] = "pagerduty",
    [CHANNEL_SMS] = "sms",           [CHANNEL_ALIYUN_SMS] = "aliyun_sms",
    [CHANNEL_EMAIL] = "email",       [CHANNEL_FILE] = "file",
};
#define N_CHANNEL_TYPES (sizeof(channel_type_names) / sizeof(channel_type_names[0]))

const char *channel_type_name(enum channel_type type)
{
    return (unsigned)type < N_CHANNEL_TYPES ? channel_type_names[type] : NULL;
}

/* The index of name in names[0..n), -1 when absent. */
static int name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

int channel_type_from_name(const char *name)
{
    return name_index(channel_type_names, N_CHANNEL_TYPES, name);
}

static const char *const intake_type_names[] = {
    [INTAKE_ALERTMANAGER] = "alertmanager",
    [INTAKE_PAGERDUTY] = "pagerduty",
};
#define N_INTAKE_TYPES (sizeof(intake_type_names) / sizeof(intake_type_names[0]))

const char *intake_type_name(enum intake_type type)
{
    return (unsigned)type < N_INTAKE_TYPES ? intake_type_names[type] : NULL;
}

int intake_type_from_name(const char *name)
{
    return name_index(intake_type_names, N_INTAKE_TYPES, name);
}

bool conf_strings_has(const struct conf_strings *list, const char *s)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i] && strcmp(list->v[i], s) == 0)
            return true;
    return false;
}

void conf_strings_done(struct conf_strings *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

/* ---- freeing ---- */

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void ladder_done(struct conf_ladder *ladder)
{
    for (size_t i = 0; i < ladder->n_steps; i++)
        conf_strings_done(&ladder->steps[i].notify);
    free(ladder->steps);
}

static void match_done(struct conf_match *m)
{
    conf_strings_done(&m->grades);
    conf_strings_done(&m->regions);
    conf_strings_done(&m->teams);
    conf_strings_done(&m->sources);
    for (size_t i = 0; i < m->n_labels; i++) {
        free(m->labels[i].key);
        conf_strings_done(&m->labels[i].values);
    }
    free(m->labels);
}

static void policy_done(struct conf_policy *p)
{
    free(p->name);
    match_done(&p->match);
    for (size_t i = 0; i < p->n_clocks; i++) {
        struct conf_clock *c = &p->clocks[i];
        free(c->name);
        free(c->start);
        conf_strings_done(&c->stop);
        conf_strings_done(&c->pause);
        ladder_done(&c->ladder);
    }
    free(p->clocks);
    for (size_t i = 0; i < p->n_followups; i++) {
        struct conf_followup *f = &p->followups[i];
        free(f->name);
        free(f->from);
        free(f->owner);
        ladder_done(&f->ladder);
    }
    free(p->followups);
    for (size_t i = 0; i < p->n_reminders; i++)
        conf_strings_done(&p->reminders[i].notify);
    free(p->reminders);
    conf_strings_done(&p->urgent);
}

static void intake_done(struct conf_intake *in)
{
    free(in->name);
    free(in->team);
    free(in->grade);
    free(in->region);
    for (size_t i = 0; i < in->n_labels; i++) {
        free(in->labels[i].key);
        free(in->labels[i].value);
    }
    free(in->labels);
    for (size_t i = 0; i < in->n_severity_map; i++)
        free(in->severity_map[i].word);
    free(in->severity_map);
    free(in->token_file);
}

static void channel_done(struct conf_channel *c)
{
    free(c->name);
    free_secret(c->url); /* robot URLs hold their token */
    free_secret(c->secret);
    free(c->method);
    /* Header templates and bodies may hold API keys (Authorization, X-Api-Key...). */
    for (size_t i = 0; i < c->headers.n; i++)
        if (c->headers.v[i])
            explicit_bzero(c->headers.v[i], strlen(c->headers.v[i]));
    conf_strings_done(&c->headers);
    free_secret(c->body);
    free(c->username);
    free_secret(c->password);
    free(c->from);
    free(c->tls);
    free(c->path);
    free(c->access_key_id);
    free_secret(c->access_key_secret);
    free(c->sign_name);
    free(c->template_code);
    free_secret(c->routing_key);
}

void conf_free(struct conf *conf)
{
    if (!conf)
        return;
    free(conf->warnings);
    struct conf_daemon *d = &conf->daemon;
    free(d->socket);
    free(d->tcp);
    free(d->token_file);
    free(d->database);
    free(d->language);
    free(d->timezone);
    free(d->tls_cert);
    free(d->tls_key);
    free(d->public_url);
    /* Schedules borrow calendars: they go first. */
    for (size_t i = 0; i < conf->n_schedules; i++)
        schedule_free(conf->schedules[i]);
    free(conf->schedules);
    for (size_t i = 0; i < conf->n_calendars; i++)
        calendar_free(conf->calendars[i]);
    free(conf->calendars);
    for (size_t i = 0; i < conf->n_contacts; i++) {
        free(conf->contacts[i].name);
        free(conf->contacts[i].phone);
        free(conf->contacts[i].email);
        free(conf->contacts[i].password_hash);
        conf_strings_done(&conf->contacts[i].via);
    }
    free(conf->contacts);
    for (size_t i = 0; i < conf->n_teams; i++) {
        struct conf_team *t = &conf->teams[i];
        free(t->name);
        free(t->channel);
        for (size_t r = 0; r < t->n_roles; r++) {
            free(t->roles[r].name);
            conf_strings_done(&t->roles[r].contacts);
        }
        free(t->roles);
    }
    free(conf->teams);
    for (size_t i = 0; i < conf->n_channels; i++)
        channel_done(&conf->channels[i]);
    free(conf->channels);
    for (size_t i = 0; i < conf->n_templates; i++) {
        free(conf->templates[i].event);
        free(conf->templates[i].lang);
        free(conf->templates[i].text);
        free(conf->templates[i].subject);
    }
    free(conf->templates);
    for (size_t i = 0; i < conf->n_policies; i++)
        policy_done(&conf->policies[i]);
    free(conf->policies);
    conf_strings_done(&conf->repeat_fault.notify);
    for (size_t i = 0; i < conf->n_intakes; i++)
        intake_done(&conf->intakes[i]);
    free(conf->intakes);
    free(conf->path);
    free(conf);
}

/* ---- lookups ---- */

const struct calendar *conf_find_calendar(const struct conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_calendars; i++)
        if (strcmp(calendar_name(conf->calendars[i]), name) == 0)
            return conf->calendars[i];
    return NULL;
}

const struct calendar *conf_local_calendar(const struct conf *conf)
{
    return conf && conf->n_calendars ? conf->calendars[0] : NULL;
}

const struct schedule *conf_find_schedule(const struct conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_schedules; i++)
        if (strcmp(schedule_name(conf->schedules[i]), name) == 0)
            return conf->schedules[i];
    return NULL;
}

/* The sections are arrays of structs that start with their name. */
#define FIND_BY_NAME(array, n, wanted)                                                             \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            if ((array)[i_].name && strcmp((array)[i_].name, (wanted)) == 0)                       \
                return &(array)[i_];                                                               \
        return NULL;                                                                               \
    } while (0)

const struct conf_contact *conf_find_contact(const struct conf *conf, const char *name)
{
    FIND_BY_NAME(conf->contacts, conf->n_contacts, name);
}

const struct conf_team *conf_find_team(const struct conf *conf, const char *name)
{
    FIND_BY_NAME(conf->teams, conf->n_teams, name);
}

const struct conf_channel *conf_find_channel(const struct conf *conf, const char *name)
{
    FIND_BY_NAME(conf->channels, conf->n_channels, name);
}

const struct conf_policy *conf_find_policy(const struct conf *conf, const char *name)
{
    FIND_BY_NAME(conf->policies, conf->n_policies, name);
}

const struct conf_role *conf_team_role(const struct conf_team *team, const char *role)
{
    FIND_BY_NAME(team->roles, team->n_roles, role);
}

const struct conf_intake *conf_find_intake(const struct conf *conf, const char *name)
{
    FIND_BY_NAME(conf->intakes, conf->n_intakes, name);
}

bool conf_event_is_urgent(const struct conf *conf, const char *policy, const char *event)
{
    static const char *const urgent[] = {"sla.breach", "sla.escalation", "ticket.repeat_fault"};
    const struct conf_policy *p = policy ? conf_find_policy(conf, policy) : NULL;
    if (p && p->urgent_set)
        return conf_strings_has(&p->urgent, event);
    for (size_t i = 0; i < sizeof(urgent) / sizeof(urgent[0]); i++)
        if (strcmp(urgent[i], event) == 0)
            return true;
    return false;
}

int conf_intake_severity(const struct conf_intake *in, const char *word)
{
    for (size_t i = 0; word && i < in->n_severity_map; i++)
        if (strcasecmp(in->severity_map[i].word, word) == 0)
            return in->severity_map[i].severity;
    return in->default_severity;
}
