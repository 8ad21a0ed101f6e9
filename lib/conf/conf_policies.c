/* conf_policies.c - the config sections that hold the promises: calendars (built with
 * calendar_new), policies with their match rules, clocks, escalation ladders, follow-ups
 * and reminders, and the repeat-fault rule; recipients and role names are checked here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_ics.h"
#include "conf_loader.h"
#include "ticket.h"

/* Names that appear in messages are also what the SPEC calls them. */
static const char *const events[] = {
    "acknowledge", "dispatch", "arrive", "hold",    "resume", "resolve",
    "reopen",      "close",    "cancel", "comment", NULL,
};
static const char *const start_events[] = {
    "created", "acknowledge", "dispatch", "arrive", "hold",    "resume",
    "resolve", "reopen",      "close",    "cancel", "comment", NULL,
};
static const char *const from_events[] = {
    "create",  "acknowledge", "dispatch", "arrive", "hold",    "resume",
    "resolve", "reopen",      "close",    "cancel", "comment", NULL,
};
static const char *const statuses[] = {
    "open", "acknowledged", "dispatched", "on_site", "on_hold", "resolved", NULL,
};
static const char *const builtin_roles[] = {
    "assignee", "customer", "supervisor", "manager", "director", NULL,
};

/* ---- recipients and references ---- */

/* "customer" needs no SMS channel here: the shipped config names it with only a file channel,
 * and delivery reports an unreachable recipient at run time. */
static void check_recipient(struct conf_loader *ld, const config_setting_t *s,
                            const struct conf_key *k, const char *r)
{
    char q[QUOTE_MAX], list[LIST_MAX];
    if (strncmp(r, "contact:", 8) == 0) {
        if (!conf_find_contact(ld->conf, r + 8))
            conf_key_error(ld, s, k, "unknown contact '%s' in '%s'",
                           conf_quote(r + 8, q, sizeof(q)), r);
    } else if (strncmp(r, "channel:", 8) == 0) {
        if (!conf_find_channel(ld->conf, r + 8))
            conf_key_error(ld, s, k, "unknown channel '%s' in '%s'",
                           conf_quote(r + 8, q, sizeof(q)), r);
    } else if (strncmp(r, RECIPIENT_ONCALL, strlen(RECIPIENT_ONCALL)) == 0) {
        conf_check_oncall(ld, s, k, r);
    } else if (!conf_word_in(builtin_roles, r) && !conf_strings_has(&ld->roles, r)) {
        size_t o = strlen(conf_join_words(builtin_roles, list, sizeof(list)));
        for (size_t i = 0; i < ld->roles.n && o < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, ", %s", ld->roles.v[i]);
        conf_key_error(ld, s, k,
                       "unknown recipient '%s' (roles: %s; or contact:NAME, channel:NAME, "
                       "oncall:SCHEDULE)",
                       conf_quote(r, q, sizeof(q)), list);
    }
}

static void parse_recipients(struct conf_loader *ld, const config_setting_t *s, void *obj,
                             const struct conf_key *k)
{
    struct conf_strings *out = FIELD(obj, k, struct conf_strings);
    if (!conf_strings_value(ld, s, k, false, out))
        return;
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i])
            check_recipient(ld, conf_element(s, i), k, out->v[i]);
}

static void parse_owner(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    char q[QUOTE_MAX];
    if (strcmp(text, "customer") == 0 || strchr(text, ':') ||
        (!conf_word_in(builtin_roles, text) && !conf_strings_has(&ld->roles, text)))
        conf_key_error(ld, s, k,
                       "'%s' is not a role (assignee, supervisor, manager, director or "
                       "a role of a team)",
                       conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

void conf_parse_calendar_ref(struct conf_loader *ld, const config_setting_t *s, void *obj,
                             const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    char q[QUOTE_MAX], list[LIST_MAX];
    if (!text)
        return;
    if (strcmp(text, "24x7") != 0 && !conf_strings_has(&ld->cal_names, text)) {
        size_t o = (size_t)snprintf(list, sizeof(list), "24x7");
        for (size_t i = 0; i < ld->cal_names.n && o < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, ", %s", ld->cal_names.v[i]);
        conf_key_error(ld, s, k, "unknown calendar '%s' (known: %s)",
                       conf_quote(text, q, sizeof(q)), list);
        return;
    }
    *FIELD(obj, k, const struct calendar *) = conf_find_calendar(ld->conf, text);
}

/* ---- calendars ---- */

/* What a calendar group says, before calendar_new copies it. */
struct calendar_input {
    char *name, *timezone, *ics;
    struct calendar_day_hours week[7];
    struct calendar_date_range *holidays;
    size_t n_holidays;
    struct calendar_date *workdays;
    size_t n_workdays;
};

static void parse_day(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    struct calendar_day_hours *day = FIELD(obj, k, struct calendar_day_hours);
    struct conf_strings list = {0};
    if (!conf_strings_value(ld, s, k, false, &list))
        return;
    char q[QUOTE_MAX];
    if (list.n > CALENDAR_MAX_INTERVALS)
        conf_key_error(ld, s, k, "%zu intervals, at most %d", list.n, CALENDAR_MAX_INTERVALS);
    for (size_t i = 0; i < list.n && i < CALENDAR_MAX_INTERVALS; i++) {
        struct slad_error err;
        struct calendar_interval iv;
        if (!list.v[i])
            continue;
        if (calendar_parse_interval(list.v[i], &iv, &err) < 0)
            conf_key_error(ld, conf_element(s, i), k, "%s", err.msg);
        else if (day->n > 0 && iv.open_min < day->iv[day->n - 1].close_min)
            conf_key_error(ld, conf_element(s, i), k,
                           "'%s' overlaps or precedes the interval before it",
                           conf_quote(list.v[i], q, sizeof(q)));
        else
            day->iv[day->n++] = iv;
    }
    conf_strings_done(&list);
}

#define W(i) .offset = offsetof(struct calendar_input, week[i])
static const struct conf_key hours_keys[] = {
    {"mon", parse_day, W(0)}, {"tue", parse_day, W(1)}, {"wed", parse_day, W(2)},
    {"thu", parse_day, W(3)}, {"fri", parse_day, W(4)}, {"sat", parse_day, W(5)},
    {"sun", parse_day, W(6)},
};
#undef W

static void parse_hours(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { mon = [\"09:00-18:00\"]; }");
        return;
    }
    char where[WHERE_MAX];
    snprintf(where, sizeof(where), "hours of %s", ld->where);
    conf_read_group(ld, s, where, hours_keys, N_KEYS(hours_keys), obj);
}

static void parse_holidays(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    struct calendar_input *in = obj;
    struct conf_strings list = {0};
    if (!conf_strings_value(ld, s, k, false, &list))
        return;
    in->holidays = conf_alloc_array(ld, list.n, sizeof(*in->holidays));
    for (size_t i = 0; i < list.n && in->holidays; i++) {
        struct slad_error err;
        struct calendar_date_range r;
        if (!list.v[i])
            continue;
        if (calendar_parse_date_range(list.v[i], &r, &err) < 0)
            conf_key_error(ld, conf_element(s, i), k, "%s", err.msg);
        else
            in->holidays[in->n_holidays++] = r;
    }
    conf_strings_done(&list);
}

static int date_cmp(const struct calendar_date *a, const struct calendar_date *b)
{
    return a->year != b->year     ? a->year - b->year
           : a->month != b->month ? a->month - b->month
                                  : a->day - b->day;
}

static void parse_workdays(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    struct calendar_input *in = obj;
    struct conf_strings list = {0};
    if (!conf_strings_value(ld, s, k, false, &list))
        return;
    in->workdays = conf_alloc_array(ld, list.n, sizeof(*in->workdays));
    for (size_t i = 0; i < list.n && in->workdays; i++) {
        struct slad_error err;
        struct calendar_date d;
        if (!list.v[i])
            continue;
        if (calendar_parse_date(list.v[i], &d, &err) < 0) {
            conf_key_error(ld, conf_element(s, i), k, "%s", err.msg);
            continue;
        }
        /* Checked here as well as in calendar_new, to point at the line of the date. */
        for (size_t h = 0; h < in->n_holidays; h++)
            if (date_cmp(&d, &in->holidays[h].first) >= 0 &&
                date_cmp(&d, &in->holidays[h].last) <= 0) {
                char q[QUOTE_MAX];
                conf_key_error(ld, conf_element(s, i), k, "'%s' is also listed in holidays",
                               conf_quote(list.v[i], q, sizeof(q)));
                break;
            }
        in->workdays[in->n_workdays++] = d;
    }
    conf_strings_done(&list);
}

/* An .ics path is relative to the config's folder, like @include. */
static void parse_ics(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    struct calendar_input *in = obj;
    in->ics = text[0] == '/' || !ld->include_dir ? conf_strdup(ld, text)
                                                 : conf_join_path(ld, ld->include_dir, text);
}

#define I(field) .offset = offsetof(struct calendar_input, field)
static const struct conf_key calendar_keys[] = {
    {"name", conf_parse_name, I(name), .required = true},
    {"timezone", conf_parse_string, I(timezone), .required = true},
    {"hours", .parse = parse_hours, .required = true},
    {"holidays", .parse = parse_holidays},
    {"workdays", .parse = parse_workdays}, /* after holidays, which it checks */
    {"ics", .parse = parse_ics},
};
#undef I

void conf_parse_calendars(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n <= 0)
        return;
    struct calendar **cals =
        realloc(conf->calendars, (conf->n_calendars + (size_t)n) * sizeof(*cals));
    if (!cals) {
        ld->oom = true;
        return;
    }
    conf->calendars = cals;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!config_setting_is_group(e))
            continue;
        struct calendar_input in = {0};
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "calendar", NULL);
        size_t errors_before = ld->n_errors;
        conf_read_group(ld, e, where, calendar_keys, N_KEYS(calendar_keys), &in);
        conf_check_unique(ld, s, i, "calendar");
        bool open = false;
        for (int d = 0; d < 7; d++)
            open = open || in.week[d].n > 0;
        if (in.name && strcmp(in.name, "24x7") == 0)
            conf_report(ld, config_setting_get_member(e, "name"),
                        "calendar name '24x7' is built in and cannot be redefined");
        else if (in.name && !conf_strings_has(&ld->cal_names, in.name))
            conf_strings_add(ld, &ld->cal_names, in.name);
        if (!open && ld->n_errors == errors_before && config_setting_get_member(e, "hours"))
            conf_report(ld, config_setting_get_member(e, "hours"),
                        "hours in %s: no business hours on any day", where);
        char *ics_text = NULL;
        if (in.ics && ld->n_errors == errors_before && !ld->oom) {
            struct slad_error err;
            int r = conf_ics_read(in.ics, &ics_text, &err);
            if (r == -ENOMEM)
                ld->oom = true;
            else if (r < 0)
                conf_report(ld, e, "calendar '%s': ics '%s': %s", in.name ? in.name : "?", in.ics,
                            err.msg);
        }
        if (ld->n_errors == errors_before && !ld->oom) {
            struct calendar_spec spec = {
                .name = in.name,
                .timezone = in.timezone,
                .holidays = in.holidays,
                .n_holidays = in.n_holidays,
                .workdays = in.workdays,
                .n_workdays = in.n_workdays,
                .ics_text = ics_text,
                .ics_name = in.ics,
            };
            memcpy(spec.week, in.week, sizeof(spec.week));
            struct slad_error err;
            int r = calendar_new(&spec, &conf->calendars[conf->n_calendars], &err);
            if (r == -ENOMEM)
                ld->oom = true;
            else if (r < 0)
                conf_report(ld, e, "%s", err.msg); /* it names the calendar */
            else
                conf->n_calendars++;
        }
        free(ics_text);
        free(in.name);
        free(in.timezone);
        free(in.ics);
        free(in.holidays);
        free(in.workdays);
    }
}

/* ---- policies ---- */

static void parse_severity(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    struct conf_match *m = obj;
    bool scalar = config_setting_type(s) == CONFIG_TYPE_INT;
    if (!scalar && !conf_is_list(s)) {
        conf_type_error(ld, s, k, "an integer or an array of integers such as [1, 2]");
        return;
    }
    size_t n = scalar ? 1 : (size_t)config_setting_length(s);
    if (n == 0)
        conf_key_error(ld, s, k, "empty list (leave the key out to match any severity)");
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = scalar ? s : config_setting_get_elem(s, (unsigned)i);
        int64_t v;
        if (conf_integer_value(ld, e, k, &v))
            m->severities |= 1u << v;
    }
}

static void parse_match_strings(struct conf_loader *ld, const config_setting_t *s, void *obj,
                                const struct conf_key *k)
{
    struct conf_strings *out = FIELD(obj, k, struct conf_strings);
    if (!conf_strings_value(ld, s, k, true, out) || strcmp(k->name, "team") != 0)
        return;
    for (size_t i = 0; i < out->n; i++) {
        char q[QUOTE_MAX];
        if (out->v[i] && !conf_find_team(ld->conf, out->v[i]))
            conf_key_error(ld, conf_element(s, i), k, "unknown team '%s'",
                           conf_quote(out->v[i], q, sizeof(q)));
    }
}

/* labels = { kind = "emergency"; warranty = ["in", "unknown"]; } */
static void parse_labels(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf_match *m = obj;
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { kind = \"emergency\"; }");
        return;
    }
    size_t n = (size_t)config_setting_length(s);
    if (!n || !(m->labels = conf_alloc_array(ld, n, sizeof(*m->labels))))
        return;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_label_match *l = &m->labels[m->n_labels++];
        char name[QUOTE_MAX + 8];
        snprintf(name, sizeof(name), "labels.%s", config_setting_name(e));
        struct conf_key as_label = {.name = name, .min = 1};
        l->key = conf_strdup(ld, config_setting_name(e));
        conf_strings_value(ld, e, &as_label, true, &l->values);
    }
}

#define H(field) .offset = offsetof(struct conf_match, field)
static const struct conf_key match_keys[] = {
    {"severity", .parse = parse_severity, .min = TICKET_SEVERITY_MIN, .max = TICKET_SEVERITY_MAX},
    {"grade", parse_match_strings, H(grades), .min = 1},
    {"region", parse_match_strings, H(regions), .min = 1},
    {"team", parse_match_strings, H(teams), .min = 1},
    {"source", parse_match_strings, H(sources), .min = 1},
    {"labels", .parse = parse_labels},
};
#undef H

static void parse_match(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group such as { severity = [1]; } or { } for a catch-all");
        return;
    }
    char where[WHERE_MAX];
    snprintf(where, sizeof(where), "match of %s", ld->where);
    conf_read_group(ld, s, where, match_keys, N_KEYS(match_keys), FIELD(obj, k, struct conf_match));
}

static void parse_step_at(struct conf_loader *ld, const config_setting_t *s, void *obj,
                          const struct conf_key *k)
{
    struct duration d;
    if (!conf_duration_value(ld, s, k, &d))
        return;
    char q[QUOTE_MAX];
    if (d.unit != DURATION_PERCENT && !d.after_due)
        conf_key_error(ld, s, k,
                       "'%s' is neither a share of the target (\"75%%\") nor a time "
                       "after the due instant (\"+2h\")",
                       conf_quote(config_setting_get_string(s), q, sizeof(q)));
    else
        *FIELD(obj, k, struct duration) = d;
}

#define S(field) .offset = offsetof(struct conf_step, field)
static const struct conf_key step_keys[] = {
    {"at", parse_step_at, S(at), .required = true, .min = 0, .max = DURATION_MAX_MS,
     .forms = DURATION_ALLOW_PERCENT | DURATION_ALLOW_AFTER | DURATION_ALLOW_WORKDAYS},
    {"notify", parse_recipients, S(notify), .required = true, .min = 1},
    {"repeat", conf_parse_ms, S(repeat_ms), .min = 1000, .max = DURATION_MAX_MS},
};
#undef S

/* Steps fire in the order written, so the order must be the order in time. */
static void check_step_order(struct conf_loader *ld, const config_setting_t *e,
                             const struct conf_step *prev, const struct conf_step *step,
                             const char *where)
{
    char a[32], b[32];
    bool prev_after = prev->at.unit != DURATION_PERCENT;
    bool after = step->at.unit != DURATION_PERCENT;
    if ((prev_after && !after) ||
        (prev_after == after && prev->at.unit == step->at.unit && step->at.value <= prev->at.value))
        conf_report(ld, e, "%s: step at '%s' comes after step at '%s' (write steps in time order)",
                    where, duration_format(&step->at, a, sizeof(a)),
                    duration_format(&prev->at, b, sizeof(b)));
}

static void parse_ladder(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf_ladder *ladder = FIELD(obj, k, struct conf_ladder);
    int n = conf_group_list(ld, s, k);
    if (n <= 0 || !(ladder->steps = conf_alloc_array(ld, (size_t)n, sizeof(*ladder->steps))))
        return;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_step *step = &ladder->steps[ladder->n_steps++];
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        snprintf(where, sizeof(where), "step %d of %s", i + 1, ld->where);
        size_t errors_before = ld->n_errors;
        conf_read_group(ld, e, where, step_keys, N_KEYS(step_keys), step);
        if (i > 0 && ld->n_errors == errors_before)
            check_step_order(ld, e, &ladder->steps[i - 1], step, where);
    }
}

#define K(field) .offset = offsetof(struct conf_clock, field)
static const struct conf_key clock_keys[] = {
    {"name", conf_parse_name, K(name), .required = true},
    {"start", conf_parse_word, K(start), .words = start_events},
    {"delay", conf_parse_ms, K(delay_ms), .min = 0, .max = DURATION_MAX_MS},
    {"target", conf_parse_duration, K(target), .required = true, .min = 1000,
     .max = DURATION_MAX_MS, .forms = DURATION_ALLOW_WORKDAYS},
    {"stop", conf_parse_words, K(stop), .required = true, .min = 1, .words = events},
    {"pause", conf_parse_words, K(pause), .words = statuses},
    {"calendar", conf_parse_calendar_ref, K(calendar)},
    {"escalate", parse_ladder, K(ladder)},
};
#undef K

#define F(field) .offset = offsetof(struct conf_followup, field)
static const struct conf_key followup_keys[] = {
    {"name", conf_parse_name, F(name), .required = true},
    {"from", conf_parse_word, F(from), .required = true, .words = from_events},
    {"after", conf_parse_duration, F(after), .min = 0, .max = DURATION_MAX_MS,
     .forms = DURATION_ALLOW_WORKDAYS},
    {"due_within", conf_parse_duration, F(due_within), .required = true, .min = 1000,
     .max = DURATION_MAX_MS, .forms = DURATION_ALLOW_WORKDAYS},
    {"owner", parse_owner, F(owner)},
    {"escalate", parse_ladder, F(ladder)},
};
#undef F

#define R(field) .offset = offsetof(struct conf_reminder, field)
static const struct conf_key reminder_keys[] = {
    {"before", conf_parse_ms, R(before_ms), .required = true, .min = 1000, .max = DURATION_MAX_MS},
    {"notify", parse_recipients, R(notify), .required = true, .min = 1},
};
#undef R

/* Reads a list of groups into an array of n elements of size bytes through table. */
void conf_read_list(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                    const char *what, const struct conf_key *table, size_t n_table, void **ret,
                    size_t *ret_n, size_t size, bool named)
{
    int n = conf_group_list(ld, s, k);
    char *items;
    if (n <= 0 || !(items = conf_alloc_array(ld, (size_t)n, size)))
        return;
    *ret = items;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        (*ret_n)++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, what, ld->where);
        conf_read_group(ld, e, where, table, n_table, items + (size_t)i * size);
        if (named)
            conf_check_unique(ld, s, i, what);
    }
}

static void parse_clocks(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf_policy *p = obj;
    conf_read_list(ld, s, k, "clock", clock_keys, N_KEYS(clock_keys), (void **)&p->clocks,
                   &p->n_clocks, sizeof(*p->clocks), true);
}

static void parse_followups(struct conf_loader *ld, const config_setting_t *s, void *obj,
                            const struct conf_key *k)
{
    struct conf_policy *p = obj;
    conf_read_list(ld, s, k, "follow-up", followup_keys, N_KEYS(followup_keys),
                   (void **)&p->followups, &p->n_followups, sizeof(*p->followups), true);
    /* A task's ladder fires each step once (followup.h): its store keeps no repeat count. */
    for (size_t i = 0; i < p->n_followups; i++) {
        const struct conf_ladder *ladder = &p->followups[i].ladder;
        for (size_t j = 0; j < ladder->n_steps; j++)
            if (ladder->steps[j].repeat_ms)
                conf_report(ld, s,
                            "follow-up '%s' of %s: step %zu has 'repeat'; follow-up steps fire "
                            "once (add another step instead)",
                            p->followups[i].name ? p->followups[i].name : "?", ld->where, j + 1);
        if (ladder->n_steps > 30)
            conf_report(ld, s, "follow-up '%s' of %s: at most 30 steps",
                        p->followups[i].name ? p->followups[i].name : "?", ld->where);
    }
}

static void parse_reminders(struct conf_loader *ld, const config_setting_t *s, void *obj,
                            const struct conf_key *k)
{
    struct conf_policy *p = obj;
    conf_read_list(ld, s, k, "reminder", reminder_keys, N_KEYS(reminder_keys),
                   (void **)&p->reminders, &p->n_reminders, sizeof(*p->reminders), false);
}

/* The events that pass a contact's quiet hours under this policy ([] : none does). */
static void parse_urgent(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    conf_parse_words(ld, s, obj, k);
    ((struct conf_policy *)obj)->urgent_set = true;
}

#define Y(field) .offset = offsetof(struct conf_policy, field)
static const struct conf_key policy_keys[] = {
    {"name", conf_parse_name, Y(name), .required = true},
    {"match", parse_match, Y(match), .required = true},
    {"calendar", conf_parse_calendar_ref, Y(calendar)},
    {"clocks", .parse = parse_clocks},
    {"followups", .parse = parse_followups},
    {"reminders", .parse = parse_reminders},
    {"urgent", parse_urgent, Y(urgent), .words = conf_notification_events},
};
#undef Y

void conf_parse_policies(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf *conf = obj;
    int n = conf_group_list(ld, s, k);
    if (n < 0 ||
        (n > 0 && !(conf->policies = conf_alloc_array(ld, (size_t)n, sizeof(*conf->policies)))))
        return;
    const config_setting_t *catch_all = NULL;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        struct conf_policy *p = &conf->policies[i];
        conf->n_policies++;
        if (!config_setting_is_group(e))
            continue;
        char where[WHERE_MAX];
        conf_element_where(where, sizeof(where), e, "policy", NULL);
        conf_read_group(ld, e, where, policy_keys, N_KEYS(policy_keys), p);
        conf_check_unique(ld, s, i, "policy");
        if (!config_setting_get_member(e, "calendar"))
            p->calendar = conf->calendars ? conf->calendars[0] : NULL;
        for (size_t c = 0; c < p->n_clocks; c++)
            if (!p->clocks[c].calendar)
                p->clocks[c].calendar = p->calendar;
        for (size_t c = 0; c < p->n_clocks; c++)
            if (!p->clocks[c].start)
                p->clocks[c].start = conf_strdup(ld, "created");
        for (size_t f = 0; f < p->n_followups; f++)
            if (!p->followups[f].owner)
                p->followups[f].owner = conf_strdup(ld, "assignee");
        /* Policies are tried in order: anything after the catch-all is dead config. */
        const config_setting_t *match = config_setting_get_member(e, "match");
        if (catch_all)
            conf_report(ld, e,
                        "%s can never be chosen: the catch-all policy before it (line %u) "
                        "matches every ticket",
                        where, config_setting_source_line(catch_all));
        else if (match && config_setting_is_group(match) && config_setting_length(match) == 0)
            catch_all = e;
    }
    if (!catch_all)
        conf_report(ld, s, "policies: no catch-all policy; the last policy needs match = { }");
}

/* ---- repeat_fault and the top level ---- */

#define Q(field) .offset = offsetof(struct conf_repeat_fault, field)
static const struct conf_key repeat_fault_keys[] = {
    {"count", conf_parse_int, Q(count), .min = 2, .max = 1000},
    {"window", conf_parse_ms, Q(window_ms), .min = 1000, .max = DURATION_MAX_MS},
    {"notify", parse_recipients, Q(notify), .min = 1},
};
#undef Q

void conf_parse_repeat_fault(struct conf_loader *ld, const config_setting_t *s, void *obj,
                             const struct conf_key *k)
{
    if (!config_setting_is_group(s))
        conf_type_error(ld, s, k, "a group { ... }");
    else
        conf_read_group(ld, s, "repeat_fault", repeat_fault_keys, N_KEYS(repeat_fault_keys),
                        &((struct conf *)obj)->repeat_fault);
}
