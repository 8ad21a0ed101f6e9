/* payload.h - the payload of an outbox row: what a notification's words need besides the
 * ticket as it is at delivery. The service writes it when it queues the row
 * (payload_encode); the delivery loop reads it back (payload_decode): one codec, both
 * ways.
 *
 * The payload is a JSON object: the effect's history record (record.h), then ticket_id,
 * recipient, contact, address; for an escalation step, the clock as it was when the step
 * fired ("clock_snapshot", as the row may be delivered after the clock moved on); for a
 * plan's task, which has no ticket to read at delivery, its pseudo ticket ("plan_ticket",
 * as a POST /v1/tickets body). Rows written by earlier versions read the same. */
#ifndef SLAD_PAYLOAD_H
#define SLAD_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "lifecycle.h"
#include "recipient.h"
#include "slaclock.h"
#include "ticket.h"

/* A payload as read back; strings are NULL when absent. */
struct payload {
    int64_t ticket_id;                   /* 0: a plan's task (ticket holds it) */
    int step;                            /* step or reminder number; 0: none */
    unsigned repeat;                     /* of a step; 0 for its first firing */
    char *recipient, *contact, *address; /* as resolved when the row was queued */
    char *followup;                      /* the follow-up task's name */
    char *link;                          /* the console's link for the recipient, or NULL */
    int64_t followup_deadline_ms;        /* its deadline; SLAD_NO_TIME when none */
    bool has_clock;                      /* clock holds the step's clock */
    struct slaclock clock;               /* name, state, target, elapsed, since,
                                            started, due, breached; the rest unset */
    bool has_ticket;                     /* ticket holds a plan's pseudo ticket */
    struct ticket ticket;                /* initialised in any case */
};

/* The payload of the outbox row that tells recipient rc of effect e on ticket t (t->id 0:
 * a plan's pseudo ticket, carried along), late as its history row says, with link (the
 * console's action link or ticket page, NULL: none); a malloc'd text, or NULL when memory
 * ran out. */
char *payload_encode(const struct ticket *t, const struct effect *e, bool late,
                     const struct recipient *rc, const char *link);

/* Read text (NULL: an empty payload) into *ret. A pseudo ticket is read as a POST
 * /v1/tickets body at now_ms (its errors as jsonx_ticket_parse gives them). -EBADMSG when
 * text is not a JSON object, -ENOMEM. Fields of the wrong type count as absent; a
 * clock snapshot without a name or a known state as none. *ret is filled on success
 * only; release it with payload_done. */
int payload_decode(const char *text, int64_t now_ms, struct payload *ret,
                   struct slad_error *reterr);

void payload_done(struct payload *p);

#endif
