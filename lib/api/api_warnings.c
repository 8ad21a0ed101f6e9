/* api_warnings.c - the "warnings" of an answer (api_warnings.h). */
#include "api_warnings.h"

#include <inttypes.h>
#include <string.h>

static void add(json_t **w, json_t *text)
{
    if (!text)
        return;
    if (!*w)
        *w = json_array();
    if (!*w || json_array_append_new(*w, text) < 0)
        json_decref(text);
}

void warnings_people(json_t **w, const struct conf *conf, const char *team, const char *assignee)
{
    if (!conf)
        return;
    if (team && !conf_find_team(conf, team))
        add(w, json_sprintf("team '%s' is not configured: its roles and group channel will not "
                            "be reached",
                            team));
    if (assignee && !conf_find_contact(conf, assignee))
        add(w, json_sprintf("assignee '%s' is not a configured contact: notifications for the "
                            "assignee will not reach anyone",
                            assignee));
}

void warnings_repeat(json_t **w, const char *prefix, int64_t id, const char *fields)
{
    if (!fields || !fields[0])
        return;
    add(w, json_sprintf("%sthis external_id exists as ticket #%" PRId64 "; the differing %s "
                        "%s not applied: PATCH the ticket to change them",
                        prefix, id, fields, strchr(fields, ',') ? "were" : "was"));
}

json_t *warnings_attach(json_t *answer, json_t *w)
{
    if (answer && w && json_array_size(w) > 0)
        json_object_set(answer, "warnings", w);
    json_decref(w);
    return answer;
}
