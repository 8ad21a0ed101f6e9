/* records.h - the rows the store keeps and the service hands to the API: history entries,
 * notifications (outbox rows) and their states, the filters of listings, the gauges, and
 * the callbacks listings call. Plain data: the store (store.h) reads and writes them, the
 * API renders what the service reads (service.h); neither sees the other. Tickets,
 * follow-up tasks, plans and reports have their own modules (ticket.h, followup.h,
 * plan.h, report.h).
 *
 * Times are int64_t ms since the epoch, UTC; SLAD_NO_TIME: none. */
#ifndef SLAD_RECORDS_H
#define SLAD_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "followup.h"
#include "plan.h"
#include "ticket.h"

/* History: what happened to a ticket (events, patches, clock changes, steps...). */
struct history_entry {
    int64_t id;
    int64_t ticket_id;
    int64_t at_ms;      /* when it happened or was due */
    int64_t created_ms; /* when it was recorded */
    const char *kind;   /* "event", "patch", "create", or an effect kind: "step", "clock"... */
    const char *data;   /* JSON object text, or NULL */
    bool late;          /* recorded more than a second after at_ms */
};

/* Outbox: one row per notification to deliver (SPEC 3). */
enum outbox_state { OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OUTBOX_DEAD, OUTBOX_STATE_COUNT };

/* "pending" <-> OUTBOX_PENDING...; NULL / -1 when unknown. */
const char *outbox_state_name(enum outbox_state state);
int outbox_state_from_name(const char *name);

struct outbox_row {
    int64_t id;
    int64_t ticket_id;           /* 0: none */
    const char *event;           /* "sla.breach", ... */
    const char *channel;         /* channel name, NULL until resolved */
    const char *recipient;       /* as written: the role "supervisor", "contact:li.si"... */
    const char *contact;         /* the person the recipient resolved to, or NULL */
    const char *idempotency_key; /* unique: a key is never queued twice */
    enum outbox_state state;
    int attempts;
    int64_t next_attempt_ms; /* SLAD_NO_TIME: none */
    const char *last_error;  /* NULL when none */
    const char *payload;     /* JSON object text, or NULL */
    int64_t created_ms;
    int64_t sent_ms;     /* SLAD_NO_TIME until sent */
    int64_t retried_ms;  /* the latest manual retry of a dead row; SLAD_NO_TIME: none */
    const char *address; /* where on the channel (phone, e-mail), or NULL: the channel's own */
    bool deferred;       /* held back by the contact's quiet hours */
    int64_t group_id;    /* storm grouping: the row of the message that carries this one
                            (a grouped message's row names itself); 0: none */
};

/* The event of a grouped message's row (storm grouping). */
#define OUTBOX_GROUP_EVENT "notification.group"

/* Filters of listings, in id order; NULL / -1 / 0 mean "any". */
struct ticket_filter {
    const char *status;               /* status name */
    const char *policy;               /* policy name */
    const char *team;                 /* team name */
    const char *source, *external_id; /* the ticket's origin (both indexed together) */
    int breached;   /* 1: a clock runs late now (breached, or paused past due); 0: none does;
                       -1: any */
    int missed;     /* 1: a clock stopped late (missed); -1: none did; 0: any */
    bool open_only; /* not resolved, closed or cancelled */
    const char *assignee, *region; /* equal to */
    int severity;                  /* 1..5; 0: any */
    const char *q;                 /* lower-case (ASCII) text found in the title, customer name or
                                      phone, device serial or external id, ignoring ASCII case */
    int64_t due_before_ms;         /* a running clock is due before this instant; 0: any */
    int at_risk;          /* 1: a running clock has under a quarter of its target left and is not
                             due at now_ms; -1: none has; 0: any */
    int64_t now_ms;       /* the instant at_risk is judged at */
    bool sort_due;        /* by ticket_due_key, then id (the board's order), not by id */
    int64_t after_due_ms; /* sort_due: rows after (after_due_ms, after_id) */
    int64_t after_id;     /* ids greater than this */
    size_t limit;         /* at most this many rows; 0 = no limit */
};

struct outbox_filter {
    int state;           /* enum outbox_state, or -1 for any */
    int64_t ticket_id;   /* 0: any */
    const char *event;   /* "sla.breach"...; NULL: any */
    const char *channel; /* channel name; NULL: any */
    int64_t due_ms;      /* rows with next_attempt_ms <= due_ms; SLAD_NO_TIME: any */
    int64_t after_id;    /* ids greater than this */
    size_t limit;        /* 0: no limit */
    int64_t group_id;    /* the rows of one grouped message (and its own); 0: any */
};

/* view: enum followup_view, or -1 for any; before: due before this instant (SLAD_NO_TIME:
 * any); now_ms decides pending/due/overdue. */
struct followup_filter {
    int view;
    int64_t before_ms;
    int64_t ticket_id; /* 0: any */
    int64_t plan_id;   /* 0: any */
    int64_t now_ms;
    int64_t after_id;
    size_t limit; /* 0: no limit */
};

/* The gauges of /metrics, STATUS= and /healthz. */
struct gauges {
    int64_t tickets[TICKET_STATUS_COUNT];      /* by status */
    int64_t notifications[OUTBOX_STATE_COUNT]; /* by state */
    int64_t breached_clocks;                   /* clocks now in state breached */
};

/* The console board's counts (GET /v1/summary). */
struct board_summary {
    int64_t open;               /* tickets not resolved, closed or cancelled */
    int64_t at_risk;            /* tickets with a running clock at risk (ticket_filter) */
    int64_t breached;           /* tickets with a clock running late now */
    int64_t dead_notifications; /* notifications given up on */
};

/* An action link's code as the store keeps it (by its hash). */
struct action_link {
    int64_t id;
    int64_t ticket_id;
    char *contact; /* the person the link was sent to */
    int64_t created_ms, expires_ms;
    int64_t used_ms;   /* SLAD_NO_TIME: not used yet */
    char *used_action; /* "acknowledge", "take", or NULL */
};
/* Free its strings. */
void action_link_done(struct action_link *a);

/* Listings call back with borrowed rows, valid during the call. Return 0 to go on, > 0 to
 * stop (the listing returns 0), < 0 to stop and return that error. A callback must not
 * start the same listing again. */
typedef int ticket_row_fn(void *userdata, const struct ticket *t);
typedef int history_entry_fn(void *userdata, const struct history_entry *h);
typedef int outbox_row_fn(void *userdata, const struct outbox_row *o);
typedef int followup_row_fn(void *userdata, const struct followup *f);
typedef int plan_row_fn(void *userdata, const struct plan *p);

#endif
