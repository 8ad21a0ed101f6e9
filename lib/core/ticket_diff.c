/* ticket_diff.c - the fields a repeated creation did not apply (ticket_diff.h). */
#include "ticket_diff.h"

#include <stdio.h>
#include <string.h>

/* A field sent sets (non-NULL) that stored has otherwise. */
static bool text_differs(const char *sent, const char *stored)
{
    return sent && (!stored || strcmp(sent, stored) != 0);
}

static void name_add(char *buf, size_t size, size_t *len, size_t *n, const char *name)
{
    if (*len < size) {
        int w = snprintf(buf + *len, size - *len, "%s%s", *n ? ", " : "", name);
        *len += w > 0 ? (size_t)w : 0;
    }
    ++*n;
}

size_t ticket_diff(const struct ticket *sent, const struct ticket *stored, char *buf, size_t size)
{
    size_t len = 0, n = 0;
    if (size)
        buf[0] = '\0';
    for (int k = 0; k < TICKET_TEXT_COUNT; k++) {
        /* ticket_text_field only picks a field: neither ticket is changed. */
        const char *s = *ticket_text_field((struct ticket *)sent, (enum ticket_text)k);
        const char *d = *ticket_text_field((struct ticket *)stored, (enum ticket_text)k);
        if (text_differs(s, d))
            name_add(buf, size, &len, &n, ticket_text_name((enum ticket_text)k));
        if (k == TICKET_TEXT_DESCRIPTION && sent->severity && sent->severity != stored->severity)
            name_add(buf, size, &len, &n, "severity");
    }
    const struct {
        const char *name, *sent, *stored;
    } more[] = {
        {"grade", sent->grade, stored->grade},
        {"region", sent->region, stored->region},
        {"team", sent->team, stored->team},
        {"assignee", sent->assignee, stored->assignee},
        {"fault_code", sent->fault_code, stored->fault_code},
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        if (text_differs(more[i].sent, more[i].stored))
            name_add(buf, size, &len, &n, more[i].name);
    if (sent->appointment_at_ms != SLAD_NO_TIME &&
        sent->appointment_at_ms != stored->appointment_at_ms)
        name_add(buf, size, &len, &n, "appointment_at");
    for (size_t i = 0; i < sent->n_labels; i++) {
        const char *v = ticket_label(stored, sent->labels[i].key);
        if (!v || strcmp(v, sent->labels[i].value) != 0) {
            name_add(buf, size, &len, &n, "labels");
            break;
        }
    }
    if (size && len >= size)
        buf[size - 1] = '\0';
    return n;
}
