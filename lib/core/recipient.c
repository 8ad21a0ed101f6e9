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

static void add_contact(const struct conf *conf, struct sink *s, const char *text, const char *name)
{
    struct recipient *r = add(s, text);
    if (!r)
        return;
    r->contact = conf_find_contact(conf, name);
    if (!r->contact) {
        snprintf(r->error, sizeof(r->error), "'%s' is not a contact of the config", name);
        return;
    }
    /* The first `via` channel that has an address for this contact reaches it. */
    for (size_t i = 0; i < r->contact->via.n; i++) {
        const struct conf_channel *ch = conf_find_channel(conf, r->contact->via.v[i]);
        if (!ch)
            continue;
        const char *address = address_for(ch, r->contact);
        bool needs_address =
            ch->type == CHANNEL_SMS || ch->type == CHANNEL_ALIYUN_SMS || ch->type == CHANNEL_EMAIL;
        if (needs_address && !address)
            continue;
        r->channel = ch;
        r->address = address;
        return;
    }
    snprintf(r->error, sizeof(r->error), "contact '%s' has no `via` channel with an address for it",
             name);
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
                     const char *role)
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
    for (size_t i = 0; i < cr->contacts.n; i++)
        add_contact(conf, s, role, cr->contacts.v[i]);
}

void recipient_resolve(const struct conf *conf, const struct ticket *t,
                       const struct conf_strings *notify, struct recipient *ret, size_t max,
                       size_t *ret_n)
{
    struct sink s = {ret, 0, max};
    for (size_t i = 0; notify && i < notify->n; i++) {
        const char *text = notify->v[i];
        if (strncmp(text, "contact:", 8) == 0)
            add_contact(conf, &s, text, text + 8);
        else if (strncmp(text, "channel:", 8) == 0)
            add_channel(conf, &s, text, text + 8);
        else if (strcmp(text, "customer") == 0)
            add_customer(conf, &s, t);
        else
            add_role(conf, &s, t, text);
    }
    const struct conf_team *team = t->team ? conf_find_team(conf, t->team) : NULL;
    if (team && team->channel) {
        char text[80];
        snprintf(text, sizeof(text), "channel:%s", team->channel);
        add_channel(conf, &s, text, team->channel);
    }
    *ret_n = s.n;
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
