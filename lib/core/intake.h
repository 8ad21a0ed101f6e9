/* intake.h - alerts from monitoring as tickets (POST /v1/intake/{name}): what one alert
 * or event of a sender says (Alertmanager's webhook, PagerDuty's Events API v2), the
 * ticket it becomes under its intake (conf.h), and what it does to the ticket it names.
 *
 * Pure: reading the senders' JSON is lib/json's (jsonx_intake.h), finding the ticket and
 * applying the event the service's (service_intake.c). */
#ifndef SLAD_INTAKE_H
#define SLAD_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "ticket.h"

/* What the sender says about its alert. */
enum intake_action {
    INTAKE_TRIGGER,     /* firing (Alertmanager), trigger (PagerDuty) */
    INTAKE_ACKNOWLEDGE, /* acknowledge (PagerDuty) */
    INTAKE_RESOLVE,     /* resolved (Alertmanager), resolve (PagerDuty) */
};

/* Limits of what a ticket takes from an alert (those of the API's ticket fields): a
 * longer title or label value is cut at a UTF-8 boundary, a longer label key dropped. */
#define INTAKE_TITLE_MAX 512
#define INTAKE_LABEL_MAX 128
#define INTAKE_KEY_MAX   255 /* PagerDuty's dedup_key */

/* One alert or event; strings are owned (NULL when absent). */
struct intake_alert {
    enum intake_action action;
    char *key;         /* Alertmanager's fingerprint, PagerDuty's dedup_key: the ticket's
                          external_id; NULL (a trigger without dedup_key): a new ticket */
    char *title;       /* annotations.summary, payload.summary */
    char *description; /* annotations.description, payload.custom_details */
    char *severity;    /* the sender's word ("critical"), or NULL */
    struct ticket_label *labels;
    size_t n_labels;
    int64_t started_ms; /* when it began (startsAt, payload.timestamp); SLAD_NO_TIME */
    int64_t ended_ms;   /* when it ended (a resolved alert's endsAt); SLAD_NO_TIME */
};

void intake_alert_init(struct intake_alert *a);
void intake_alert_done(struct intake_alert *a);

/* What an alert does to the ticket it names. */
enum intake_outcome {
    INTAKE_CREATED,      /* no ticket yet: one is created */
    INTAKE_REOPENED,     /* firing again after the ticket was resolved or closed */
    INTAKE_ACKNOWLEDGED, /* an open ticket is acknowledged */
    INTAKE_RESOLVED,     /* an active or held ticket is resolved */
    INTAKE_UNCHANGED,    /* a repeat, or nothing to do (no such ticket, already done) */
    INTAKE_OUTCOME_COUNT
};

/* "created", "reopened", "acknowledged", "resolved", "unchanged". */
const char *intake_outcome_name(enum intake_outcome o);

/* The outcome of action on the ticket with status (exists false: there is none). A
 * trigger creates, reopens a resolved or closed ticket, and leaves any other (a repeat
 * notification changes nothing; a cancelled ticket stays cancelled); acknowledge moves
 * only an open ticket; resolve an active or held one. */
enum intake_outcome intake_decide(enum intake_action action, bool exists,
                                  enum ticket_status status);

/* The ticket a (a trigger) becomes under intake in at now_ms, into *ret (initialised
 * here, on success only; ticket_done it): source = the intake's name, external_id = the
 * key, title = the alert's title, else its label alertname, else "alert KEY"; severity
 * through the intake's map; the intake's team, grade and region; the alert's labels
 * (as many as fit beside the intake's), then the intake's; reported_at = started_ms, or
 * now when absent or in the future. -ENOMEM. */
int intake_ticket(const struct conf_intake *in, const struct intake_alert *a, int64_t now_ms,
                  struct ticket *ret, struct slad_error *reterr);

/* The instant a resolve of a ticket whose latest event was at last_ms happens, for an
 * alert that ended at ended_ms (SLAD_NO_TIME or later than now_ms: now), but never
 * before last_ms: events apply in time order. */
int64_t intake_resolve_at(int64_t ended_ms, int64_t last_ms, int64_t now_ms);

#endif
