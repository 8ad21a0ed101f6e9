/* policy.c - policy match rules (SPEC 1 "Policy"). */
#include "policy.h"

#include <string.h>

bool policy_list_has(const struct conf_strings *list, const char *name)
{
    for (size_t i = 0; name && i < list->n; i++)
        if (strcmp(list->v[i], name) == 0)
            return true;
    return false;
}

/* An empty rule matches anything; otherwise the value must be present and listed. */
static bool rule_matches(const struct conf_strings *rule, const char *value)
{
    return rule->n == 0 || policy_list_has(rule, value);
}

bool policy_matches(const struct conf_match *m, const struct ticket *t)
{
    if (m->severities &&
        !(t->severity >= TICKET_SEVERITY_MIN && t->severity <= TICKET_SEVERITY_MAX &&
          (m->severities & (1u << t->severity))))
        return false;
    if (!rule_matches(&m->grades, t->grade) || !rule_matches(&m->regions, t->region) ||
        !rule_matches(&m->teams, t->team) || !rule_matches(&m->sources, t->source))
        return false;
    for (size_t i = 0; i < m->n_labels; i++)
        if (!rule_matches(&m->labels[i].values, ticket_label(t, m->labels[i].key)))
            return false;
    return true;
}

const struct conf_policy *policy_choose(const struct conf *conf, const struct ticket *t)
{
    for (size_t i = 0; i < conf->n_policies; i++)
        if (policy_matches(&conf->policies[i].match, t))
            return &conf->policies[i];
    return NULL;
}

const struct calendar *policy_clock_calendar(const struct conf_policy *p,
                                             const struct conf_clock *cc)
{
    return cc->calendar ? cc->calendar : p->calendar;
}
