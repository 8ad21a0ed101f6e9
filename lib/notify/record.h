/* record.h - the JSON texts slad keeps in a ticket's history: what an operation or an
 * effect says, as the data of its history row (GET /v1/tickets/{id} shows them).
 *
 * Each returns a malloc'd text, or NULL when memory ran out: the caller fails the
 * operation, as a row stored without one of its fields would be a wrong record. Times
 * are RFC 3339 in UTC; absent strings and times are left out. The outbox payload
 * (payload.h) carries an effect's record too. */
#ifndef SLAD_RECORD_H
#define SLAD_RECORD_H

#include <stdbool.h>

#include "lifecycle.h"
#include "ticket.h"

/* A created ticket: {"source","external_id","reported_at"}. */
char *record_create(const struct ticket *t);

/* A PATCH: the fields it sets, null for those it clears, "labels" with null for a
 * label it removes. */
char *record_patch(const struct ticket_patch *p);

/* An applied event that moved the ticket from one status to another: {"event","at",
 * "from","to","by","note","assignee","reason"}. */
char *record_event(const struct ticket_event *ev, enum ticket_status from, enum ticket_status to);

/* What effect e on ticket t says ("at", then its kind's fields: clock, step, policy,
 * follow-up...; "event" and "recipients" when it notifies), with "late": true when it is
 * recorded late. */
char *record_effect(const struct ticket *t, const struct effect *e, bool late);

#endif
