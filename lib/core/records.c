/* records.c - the names of the outbox states, freeing an action link (records.h). */
#include "records.h"

#include <stdlib.h>
#include <string.h>

static const char *const outbox_state_names[OUTBOX_STATE_COUNT] = {
    [OUTBOX_PENDING] = "pending",
    [OUTBOX_SENDING] = "sending",
    [OUTBOX_SENT] = "sent",
    [OUTBOX_DEAD] = "dead",
};

const char *outbox_state_name(enum outbox_state state)
{
    return (unsigned)state < OUTBOX_STATE_COUNT ? outbox_state_names[state] : NULL;
}

int outbox_state_from_name(const char *name)
{
    for (int i = 0; name && i < OUTBOX_STATE_COUNT; i++)
        if (strcmp(outbox_state_names[i], name) == 0)
            return i;
    return -1;
}

void action_link_done(struct action_link *a)
{
    free(a->contact);
    free(a->used_action);
    memset(a, 0, sizeof(*a));
}
