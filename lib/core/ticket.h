/* ticket.h - a service ticket, its statuses and the events that move it.
 *
 * The status/event table of SPEC 1 lives here as data, and ticket_event_check() is the
 * one function that says whether an event is allowed. A struct ticket owns its strings. */
#ifndef SLAD_TICKET_H
#define SLAD_TICKET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "civil.h"
#include "error.h"
#include "slaclock.h"

enum ticket_status {
    TICKET_OPEN,
    TICKET_ACKNOWLEDGED,
    TICKET_DISPATCHED,
    TICKET_ON_SITE,
    TICKET_ON_HOLD,
    TICKET_RESOLVED,
    TICKET_CLOSED,
    TICKET_CANCELLED,
    TICKET_STATUS_COUNT
};

enum ticket_event_type {
    TICKET_EVENT_ACKNOWLEDGE,
    TICKET_EVENT_DISPATCH,
    TICKET_EVENT_ARRIVE,
    TICKET_EVENT_HOLD,
    TICKET_EVENT_RESUME,
    TICKET_EVENT_RESOLVE,
    TICKET_EVENT_REOPEN,
    TICKET_EVENT_CLOSE,
    TICKET_EVENT_CANCEL,
    TICKET_EVENT_COMMENT,
    TICKET_EVENT_COUNT
};

/* Names as in the API ("on_site", "acknowledge"); from_name returns -1 when unknown. */
const char *ticket_status_name(enum ticket_status status);
int ticket_status_from_name(const char *name);
const char *ticket_event_name(enum ticket_event_type type);
int ticket_event_from_name(const char *name);

/* open, acknowledged, dispatched, on_site. */
bool ticket_status_is_active(enum ticket_status status);
/* Not resolved, closed or cancelled: the ticket's clocks may still run. */
bool ticket_status_is_open(enum ticket_status status);

/* Whether type may happen in status; on refusal -EBUSY and a message naming the current
 * status and the allowed events, e.g. "ticket is 'closed'; allowed events: comment". */
int ticket_event_check(enum ticket_status status, enum ticket_event_type type,
                       struct slad_error *reterr);

/* The errno of an event dated before the ticket's last event (the API's 409
 * out_of_order); nothing else in slad returns it. */
#define TICKET_EORDER ETIME

struct ticket;

/* The instant of t's latest event: the last instant any event happened, or reported_at
 * when that is later (or no event happened yet). */
int64_t ticket_last_event_ms(const struct ticket *t);
/* The earliest due instant of the ticket's counting (running or breached) clocks, the
 * board's order; INT64_MAX when none counts. */
int64_t ticket_due_key(const struct ticket *t);

/* Whether an event dated at_ms may follow t's events. Events are applied in time order:
 * one dated before the last (a resume before its hold, a stop before the start) would
 * count the time in between twice or stop a clock before it ran. An equal instant is
 * fine (events at one instant apply in the order they arrive). On refusal
 * -TICKET_EORDER and a message naming the last event's instant in RFC 3339 and what to
 * send instead. Both the daemon and the simulator apply events through lifecycle_event,
 * which calls this. */
int ticket_event_check_order(const struct ticket *t, enum ticket_event_type type, int64_t at_ms,
                             struct slad_error *reterr);

/* The status after type in status (type allowed); resume returns held_from. */
enum ticket_status ticket_event_target(enum ticket_status status, enum ticket_event_type type,
                                       enum ticket_status held_from);

struct ticket_label {
    char *key, *value;
};

/* A ticket's severity: 1 (most severe, critical/一级) .. 5. */
#define TICKET_SEVERITY_MIN 1
#define TICKET_SEVERITY_MAX 5
/* How far ahead of now a posted instant (reported_at, an event's at) may lie: the callers'
 * clocks are not ours. */
#define TICKET_FUTURE_SKEW_MS (5 * CIVIL_MS_PER_MIN)

#define TICKET_MAX_LABELS 32
#define TICKET_MAX_CLOCKS 16

struct ticket {
    int64_t id; /* 0 until stored */
    char *source, *external_id;
    char *title, *description;
    int severity; /* 1..5 */
    char *grade, *region, *team, *assignee;
    char *customer_name, *customer_phone, *customer_address;
    char *device_model, *device_serial;
    char *fault_code;
    struct ticket_label *labels;
    size_t n_labels;
    int64_t reported_at_ms;
    int64_t appointment_at_ms; /* SLAD_NO_TIME when none */
    int64_t created_at_ms, updated_at_ms;
    enum ticket_status status;
    enum ticket_status held_from; /* status before the current hold */
    char *policy;                 /* name of the chosen policy */
    int reopen_count;
    int repeat_count; /* tickets sharing device serial and fault code in the window */
    /* Last instant each event happened (SLAD_NO_TIME if never): lets a clock added by a
     * policy change start where its start event already happened. */
    int64_t event_last_ms[TICKET_EVENT_COUNT];
    struct slaclock clocks[TICKET_MAX_CLOCKS];
    size_t n_clocks;
    uint32_t reminders_fired; /* bit i: reminder i of the policy fired for this appointment */
};

/* A zeroed ticket with every time unset. */
void ticket_init(struct ticket *t);
/* Free the strings and labels; t may be reused after ticket_init. */
void ticket_done(struct ticket *t);
/* Deep copy. */
int ticket_copy(struct ticket *dst, const struct ticket *src);

/* Label value or NULL. */
const char *ticket_label(const struct ticket *t, const char *key);
/* Replace a string field with a copy of value (NULL clears); -ENOMEM on failure. */
int ticket_set_string(char **field, const char *value);
/* Set, replace or (value NULL) remove a label. */
int ticket_set_label(struct ticket *t, const char *key, const char *value);

/* The clock named name, or NULL. */
struct slaclock *ticket_clock(struct ticket *t, const char *name);

/* Texts set at creation that a PATCH may correct (a typo, the customer's new phone): no
 * policy matches on them, so correcting one recomputes nothing. */
enum ticket_text {
    TICKET_TEXT_TITLE,
    TICKET_TEXT_DESCRIPTION,
    TICKET_TEXT_CUSTOMER_NAME,
    TICKET_TEXT_CUSTOMER_PHONE,
    TICKET_TEXT_CUSTOMER_ADDRESS,
    TICKET_TEXT_DEVICE_MODEL,
    TICKET_TEXT_DEVICE_SERIAL,
    TICKET_TEXT_COUNT
};
/* Its name in the API: "title", "customer.name"... */
const char *ticket_text_name(enum ticket_text k);
/* The field of t that holds text k. */
char **ticket_text_field(struct ticket *t, enum ticket_text k);

/* The fields a PATCH may change; has_* says which are present. A label with a NULL
 * value is removed. */
struct ticket_patch {
    bool has_severity, has_grade, has_region, has_team, has_assignee, has_appointment_at;
    int severity;
    const char *grade, *region, *team, *assignee; /* NULL clears */
    int64_t appointment_at_ms;                    /* SLAD_NO_TIME clears */
    const struct ticket_label *labels;
    size_t n_labels;
    bool has_text[TICKET_TEXT_COUNT];
    const char *text[TICKET_TEXT_COUNT]; /* NULL clears (never the title) */
};

#endif
