/* recipient.c - resolving "notify" lists (see recipient.h). */
#include "recipient.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"

struct sink {
    struct recipient *v;
    size_t n, max;
};

static struct recipient *add(struct sink *s, const char *text)
{
    if (s->n >= s->max)
        return NULL;
    struct recipient *r = &s->v[s->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->text, sizeof(r->text), "%s", text);
    return r;
}

/* The address a channel type needs for a contact: a phone for SMS, an e-mail for mail. */
static const char *address_for(const struct conf_channel *ch, const struct conf_contact *ct)
{
    switch (ch->type) {
    case CHANNEL_SMS:
    case CHANNEL_ALIYUN_SMS:
        return ct->phone;
    case CHANNEL_EMAIL:
        return ct->email;
    default:
        return NULL;
    }
}

/* One entry per `via` channel of contact name: each channel reaches the person on its own,
 * so that one dead gateway never loses an escalation. */
static void add_contact(const struct conf *conf, struct sink *s, const char *text, const char *name)
{
    const struct conf_contact *ct = conf_find_contact(conf, name);
    if (!ct || ct->via.n == 0) {
        struct recipient *r = add(s, text);
        if (!r)
            return;
        r->contact = ct;
        if (!ct)
            snprintf(r->error, sizeof(r->error), "'%s' is not a contact of the config", name);
        else
            snprintf(r->error, sizeof(r->error), "contact '%s' has no `via` channel", name);
        return;
    }
    for (size_t i = 0; i < ct->via.n; i++) {
        struct recipient *r = add(s, text);
        if (!r)
            return;
        r->contact = ct;
        r->several_channels = ct->via.n > 1;
        const struct conf_channel *ch = conf_find_channel(conf, ct->via.v[i]);
        if (!ch) {
            snprintf(r->error, sizeof(r->error),
                     "contact '%s': '%s' is not a channel of the config", name, ct->via.v[i]);
            continue;
        }
        r->channel = ch;
        r->address = address_for(ch, ct);
        bool needs_address =
            ch->type == CHANNEL_SMS || ch->type == CHANNEL_ALIYUN_SMS || ch->type == CHANNEL_EMAIL;
        if (needs_address && !r->address)
            snprintf(r->error, sizeof(r->error), "contact '%s' has no address for channel '%s'",
                     name, ch->name);
    }
}

static bool is_oncall(const char *text)
{
    return strncmp(text, RECIPIENT_ONCALL, strlen(RECIPIENT_ONCALL)) == 0;
}

/* "oncall:NAME": the contact on call in schedule NAME at the instant, as text says. */
static void add_oncall(const struct conf *conf, struct sink *s, const char *text,
                       const char *recipient, const struct recipient_oncall *oncall)
{
    const char *name = recipient + strlen(RECIPIENT_ONCALL);
    const struct schedule *sched = conf_find_schedule(conf, name);
    const char *who =
        sched ? schedule_who(sched, oncall->overrides, oncall->n_overrides, oncall->at_ms) : NULL;
    if (who) {
        add_contact(conf, s, text, who);
        return;
    }
    struct recipient *r = add(s, text);
    if (!r)
        return;
    if (!sched) {
        snprintf(r->error, sizeof(r->error), "'%s' is not a schedule of the config", name);
        return;
    }
    char at[CIVIL_UTC_MAX];
    snprintf(r->error, sizeof(r->error), "nobody is on call in schedule '%s' at %s", name,
             civil_utc_format(oncall->at_ms, at, sizeof(at)));
}

static void add_channel(const struct conf *conf, struct sink *s, const char *text, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].channel && !s->v[i].contact && strcmp(s->v[i].channel->name, name) == 0)
            return; /* a group channel gets each notification once */
    struct recipient *r = add(s, text);
    if (!r)
        return;
    r->channel = conf_find_channel(conf, name);
    if (!r->channel)
        snprintf(r->error, sizeof(r->error), "'%s' is not a channel of the config", name);
}

static void add_customer(const struct conf *conf, struct sink *s, const struct ticket *t)
{
    struct recipient *r = add(s, "customer");
    if (!r)
        return;
    if (!t->customer_phone) {
        snprintf(r->error, sizeof(r->error), "the ticket has no customer phone");
        return;
    }
    /* The first SMS channel texts the customer; a config without one (the shipped config)
     * writes the text to its first file channel, so that nothing is silently dropped. */
    const struct conf_channel *file = NULL;
    for (size_t i = 0; i < conf->n_channels; i++) {
        const struct conf_channel *ch = &conf->channels[i];
        if (ch->type == CHANNEL_SMS || ch->type == CHANNEL_ALIYUN_SMS) {
            r->channel = ch;
            r->address = t->customer_phone;
            return;
        }
        if (ch->type == CHANNEL_FILE && !file)
            file = ch;
    }
    if (file) {
        r->channel = file;
        r->address = t->customer_phone;
        return;
    }
    snprintf(r->error, sizeof(r->error), "the config has no SMS channel to reach the customer");
}

static void add_role(const struct conf *conf, struct sink *s, const struct ticket *t,
                     const char *role, const struct recipient_oncall *oncall)
{
    if (strcmp(role, "assignee") == 0) {
        if (t->assignee) {
            add_contact(conf, s, role, t->assignee);
        } else {
            struct recipient *r = add(s, role);
            if (r)
                snprintf(r->error, sizeof(r->error), "the ticket has no assignee");
        }
        return;
    }
    const struct conf_team *team = t->team ? conf_find_team(conf, t->team) : NULL;
    const struct conf_role *cr = team ? conf_team_role(team, role) : NULL;
    if (!cr || cr->contacts.n == 0) {
        struct recipient *r = add(s, role);
        if (!r)
            return;
        if (!t->team)
            snprintf(r->error, sizeof(r->error), "the ticket has no team to find its '%s'", role);
        else if (!team)
            snprintf(r->error, sizeof(r->error), "team '%s' is not in the config", t->team);
        else
            snprintf(r->error, sizeof(r->error), "team '%s' has no '%s'", t->team, role);
        return;
    }
    for (size_t i = 0; i < cr->contacts.n; i++) {
        const char *c = cr->contacts.v[i];
        if (is_oncall(c))
            add_oncall(conf, s, role, c, oncall);
        else
            add_contact(conf, s, role, c);
    }
}

void recipient_resolve(const struct conf *conf, const struct ticket *t,
                       const struct conf_strings *notify, const struct recipient_oncall *oncall,
                       struct recipient *ret, size_t max, size_t *ret_n)
{
    struct sink s = {ret, 0, max};
    for (size_t i = 0; notify && i < notify->n; i++) {
        const char *text = notify->v[i];
        if (strncmp(text, "contact:", 8) == 0)
            add_contact(conf, &s, text, text + 8);
        else if (strncmp(text, "channel:", 8) == 0)
            add_channel(conf, &s, text, text + 8);
        else if (is_oncall(text))
            add_oncall(conf, &s, text, text, oncall);
        else if (strcmp(text, "customer") == 0)
            add_customer(conf, &s, t);
        else
            add_role(conf, &s, t, text, oncall);
    }
    const struct conf_team *team = t->team ? conf_find_team(conf, t->team) : NULL;
    if (team && team->channel) {
        char text[80];
        snprintf(text, sizeof(text), "channel:%s", team->channel);
        add_channel(conf, &s, text, team->channel);
    }
    *ret_n = s.n;
}

bool recipient_needs_oncall(const struct conf *conf, const struct ticket *t,
                            const struct conf_strings *notify)
{
    const struct conf_team *team = t->team ? conf_find_team(conf, t->team) : NULL;
    for (size_t i = 0; notify && i < notify->n; i++) {
        if (is_oncall(notify->v[i]))
            return true;
        const struct conf_role *role = team ? conf_team_role(team, notify->v[i]) : NULL;
        for (size_t j = 0; role && j < role->contacts.n; j++)
            if (is_oncall(role->contacts.v[j]))
                return true;
    }
    return false;
}

int64_t recipient_reachable_at(const struct conf *conf, const struct recipient *rc,
                               const char *policy, const char *event, int64_t now_ms)
{
    const struct calendar *hours = rc->contact ? rc->contact->hours : NULL;
    if (!hours || conf_event_is_urgent(conf, policy, event))
        return now_ms;
    int64_t open = calendar_next_open(hours, now_ms);
    return open == INT64_MAX ? now_ms : open;
}
