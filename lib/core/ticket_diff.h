/* ticket_diff.h - which fields a repeated creation would have changed.
 *
 * A creation is idempotent on (source, external_id): a repeat returns the stored ticket and
 * changes nothing. When the repeat's body says something else (an alert's new summary, a
 * corrected severity), the answer names the fields that were not applied, so that the
 * sender knows to PATCH them. */
#ifndef SLAD_TICKET_DIFF_H
#define SLAD_TICKET_DIFF_H

#include <stddef.h>

#include "ticket.h"

/* The API names ("title", "customer.name", "labels"...) of the fields that sent sets and
 * stored holds otherwise, joined by ", " into buf (cut to size, "" when none): the texts,
 * severity, grade, region, team, assignee, fault_code, appointment_at when sent has one,
 * and labels when one of sent's is missing or different in stored. reported_at is not
 * compared (a sender without one gets "now"). Returns how many differ. */
size_t ticket_diff(const struct ticket *sent, const struct ticket *stored, char *buf, size_t size);

#endif
