/* policy.h - choosing a ticket's policy: the first whose match fits wins. */
#ifndef SLAD_POLICY_H
#define SLAD_POLICY_H

#include <stdbool.h>

#include "conf.h"
#include "ticket.h"

/* Whether every rule of match holds for t: severity in the set, grade, region, team and
 * source among the listed values, and each label among its listed values. Empty rules
 * match anything; a rule on a field the ticket lacks does not match. */
bool policy_matches(const struct conf_match *match, const struct ticket *t);

/* The first policy of conf that matches t; never NULL for a valid conf (the catch-all). */
const struct conf_policy *policy_choose(const struct conf *conf, const struct ticket *t);

/* The calendar a clock counts in: its own, else its policy's. */
const struct calendar *policy_clock_calendar(const struct conf_policy *p,
                                             const struct conf_clock *cc);

/* Whether list holds name. */
bool policy_list_has(const struct conf_strings *list, const char *name);

#endif
