/* records.c - the names of the outbox states (records.h). */
#include "records.h"

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
