/* api_warnings.h - the "warnings" of an answer: what was accepted but will not do what the
 * caller may think.
 *
 * A ticket or plan may name a team or assignee the config does not have (the config may
 * come later, or have a typo): it is accepted, and the answer says who will not be
 * reached. A creation repeated with a different body changes nothing, and the answer says
 * which fields were not applied. Without anything to say, the answer has no "warnings". */
#ifndef SLAD_API_WARNINGS_H
#define SLAD_API_WARNINGS_H

#include <stdint.h>

#include <jansson.h>

#include "conf.h"

/* Append to *w (an array made when NULL) one warning for team when conf has no such team
 * and one for assignee when conf has no such contact (either may be NULL). */
void warnings_people(json_t **w, const struct conf *conf, const char *team, const char *assignee);

/* Append the warning for a repeat of ticket id whose body differs in fields (a ", " list,
 * as ticket_diff makes); prefix (may be "") names the alert in a batch. Nothing when
 * fields is "". */
void warnings_repeat(json_t **w, const char *prefix, int64_t id, const char *fields);

/* answer with "warnings": w set when w holds any; takes w. answer may be NULL (out of
 * memory), which is returned. */
json_t *warnings_attach(json_t *answer, json_t *w);

#endif
