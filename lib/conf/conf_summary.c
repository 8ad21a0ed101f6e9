/* conf_summary.c - what `slad --check-config` prints about a valid config: its sections and
 * every policy with its match rule, clocks, ladders, follow-ups and reminders. */
#include <stdlib.h>
#include <string.h>

#include "conf_loader.h"
#include "followup.h"

static void add_strings(struct conf_text *t, const char *sep, const struct conf_strings *list)
{
    for (size_t i = 0; i < list->n; i++)
        conf_text_add(t, "%s%s", i ? sep : "", list->v[i]);
}

static void add_match(struct conf_text *t, const struct conf_match *m)
{
    static const char *const names[] = {"grade", "region", "team", "source"};
    const struct conf_strings *lists[] = {&m->grades, &m->regions, &m->teams, &m->sources};
    bool any = true;
    if (m->severities) {
        conf_text_add(t, " severity=");
        for (int s = 1, first = 1; s <= 5; s++)
            if (m->severities & (1u << s)) {
                conf_text_add(t, "%s%d", first ? "" : ",", s);
                first = 0;
            }
        any = false;
    }
    for (size_t i = 0; i < 4; i++)
        if (lists[i]->n) {
            conf_text_add(t, " %s=", names[i]);
            add_strings(t, ",", lists[i]);
            any = false;
        }
    for (size_t i = 0; i < m->n_labels; i++) {
        conf_text_add(t, " labels.%s=", m->labels[i].key);
        add_strings(t, ",", &m->labels[i].values);
        any = false;
    }
    if (any)
        conf_text_add(t, " any ticket (catch-all)");
}

static void add_ladder(struct conf_text *t, const struct conf_ladder *ladder)
{
    if (!ladder->n_steps)
        conf_text_add(t, "no escalation");
    else
        conf_text_add(t, "%zu step%s", ladder->n_steps, ladder->n_steps == 1 ? "" : "s");
    for (size_t i = 0; i < ladder->n_steps; i++) {
        char at[32], every[32];
        struct duration repeat = duration_ms(ladder->steps[i].repeat_ms);
        conf_text_add(t, "%s%s ", i ? ", " : ": ",
                      duration_format(&ladder->steps[i].at, at, sizeof(at)));
        add_strings(t, "+", &ladder->steps[i].notify);
        if (ladder->steps[i].repeat_ms)
            conf_text_add(t, " every %s", duration_format(&repeat, every, sizeof(every)));
    }
}

static void add_policy(struct conf_text *t, const struct conf_policy *p)
{
    char a[32], b[32];
    conf_text_add(t, "policy %s (calendar %s) match", p->name, calendar_name(p->calendar));
    add_match(t, &p->match);
    conf_text_add(t, "\n");
    for (size_t i = 0; i < p->n_clocks; i++) {
        const struct conf_clock *c = &p->clocks[i];
        conf_text_add(t, "  clock %s %s (", c->name, duration_format(&c->target, a, sizeof(a)));
        if (strcmp(c->start, "created") != 0 || c->delay_ms) {
            struct duration delay = duration_ms(c->delay_ms);
            conf_text_add(t, "start: %s +%s; ", c->start, duration_format(&delay, b, sizeof(b)));
        }
        conf_text_add(t, "stop: ");
        add_strings(t, ",", &c->stop);
        if (c->pause.n) {
            conf_text_add(t, "; pause: ");
            add_strings(t, ",", &c->pause);
        }
        if (c->calendar != p->calendar)
            conf_text_add(t, "; calendar %s", calendar_name(c->calendar));
        conf_text_add(t, "; ");
        add_ladder(t, &c->ladder);
        conf_text_add(t, ")\n");
    }
    for (size_t i = 0; i < p->n_followups; i++) {
        const struct conf_followup *f = &p->followups[i];
        conf_text_add(t, "  follow-up %s %s after %s, due within %s, owner %s (", f->name,
                      duration_format(&f->after, a, sizeof(a)), f->from,
                      duration_format(&f->due_within, b, sizeof(b)), f->owner);
        /* A follow-up without steps escalates by the default ladder (followup.h). */
        if (!f->ladder.n_steps)
            conf_text_add(t, "default ladder, ");
        add_ladder(t, f->ladder.n_steps ? &f->ladder : followup_default_ladder());
        conf_text_add(t, ")\n");
    }
    for (size_t i = 0; i < p->n_reminders; i++) {
        struct duration before = duration_ms(p->reminders[i].before_ms);
        conf_text_add(t, "  reminder %s before the appointment to ",
                      duration_format(&before, a, sizeof(a)));
        add_strings(t, ",", &p->reminders[i].notify);
        conf_text_add(t, "\n");
    }
}

char *conf_summary(const struct conf *conf)
{
    struct conf_text t = {0};
    char a[32];
    conf_text_add(&t, "config %s: OK\n", conf->path);
    conf_text_add(&t, "calendars (%zu):", conf->n_calendars);
    for (size_t i = 0; i < conf->n_calendars; i++)
        conf_text_add(&t, " %s (%s)", calendar_name(conf->calendars[i]),
                      calendar_timezone(conf->calendars[i]));
    if (conf->n_schedules)
        conf_text_add(&t, "\nschedules (%zu):", conf->n_schedules);
    for (size_t i = 0; i < conf->n_schedules; i++)
        conf_text_add(&t, " %s (%s, %zu layer%s)", schedule_name(conf->schedules[i]),
                      schedule_timezone(conf->schedules[i]), schedule_n_layers(conf->schedules[i]),
                      schedule_n_layers(conf->schedules[i]) == 1 ? "" : "s");
    conf_text_add(&t, "\ncontacts (%zu):", conf->n_contacts);
    for (size_t i = 0; i < conf->n_contacts; i++) {
        const struct conf_contact *c = &conf->contacts[i];
        conf_text_add(&t, " %s", c->name);
        /* That a password is set, never the hash. */
        if (c->password_hash)
            conf_text_add(&t, " (%s, password set)", contact_access_names[c->access]);
    }
    conf_text_add(&t, "\nteams (%zu):", conf->n_teams);
    for (size_t i = 0; i < conf->n_teams; i++)
        conf_text_add(&t, " %s", conf->teams[i].name);
    conf_text_add(&t, "\nchannels (%zu):", conf->n_channels);
    for (size_t i = 0; i < conf->n_channels; i++) {
        const struct conf_channel *ch = &conf->channels[i];
        struct duration group = duration_ms(ch->group_window_ms);
        conf_text_add(&t, " %s (%s", ch->name, channel_type_name(ch->type));
        if (ch->group_window_ms)
            conf_text_add(&t, ", grouped within %s", duration_format(&group, a, sizeof(a)));
        conf_text_add(&t, ")");
    }
    conf_text_add(&t, "\ntemplates (%zu), policies (%zu)\n", conf->n_templates, conf->n_policies);
    for (size_t i = 0; i < conf->n_policies; i++)
        add_policy(&t, &conf->policies[i]);
    struct duration window = duration_ms(conf->repeat_fault.window_ms);
    conf_text_add(&t, "repeat_fault: %d tickets for one serial and fault code within %s notify ",
                  conf->repeat_fault.count, duration_format(&window, a, sizeof(a)));
    add_strings(&t, ",", &conf->repeat_fault.notify);
    struct duration retention = duration_ms(conf->daemon.retention_ms);
    if (conf->daemon.retention_ms)
        conf_text_add(&t,
                      "\nretention: closed and cancelled tickets purged %s after their last "
                      "event\n",
                      duration_format(&retention, a, sizeof(a)));
    else
        conf_text_add(&t, "\nretention: off (nothing is purged)\n");
    if (conf->daemon.public_url)
        conf_text_add(&t, "links: notifications link to %s (action links to people)\n",
                      conf->daemon.public_url);
    else
        conf_text_add(&t, "links: none (daemon.public_url is not set)\n");
    for (size_t i = 0; i < conf->n_intakes; i++) {
        const struct conf_intake *in = &conf->intakes[i];
        conf_text_add(&t, "intake %s (%s) at /v1/intake/%s: tickets of team %s, %s token\n",
                      in->name, intake_type_name(in->type), in->name, in->team ? in->team : "-",
                      in->token_file ? "its own" : "the daemon's");
    }
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
