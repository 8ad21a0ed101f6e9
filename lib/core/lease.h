/* lease.h - one instance's part in electing the scheduler among several slad instances on
 * one PostgreSQL database (doc/POSTGRESQL.md).
 *
 * The database holds one lease row (holder, fencing, expires_at). A standby asks for it
 * every renew interval and gets it when it is free or has expired (the row's fencing
 * number then grows by one: each new holder has a larger one); the scheduler renews it
 * every renew interval. Locally the scheduler may act (fire, deliver) only until the
 * instant its last granted request was SENT plus the lease's time to live: the database
 * set the row's expiry from an instant no earlier, so the local view ends first. It
 * loses the lease when a renewal is refused or fails, or when that instant passes with no
 * renewal granted (a paused process resuming, a database that does not answer). The
 * fencing number, carried and checked by every scheduler write in the database, is what
 * stops a scheduler that has not noticed yet; this state machine is what makes it stop
 * trying. Pure: every instant is an argument (ms, one clock for the whole lease). */
#ifndef SLAD_LEASE_H
#define SLAD_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#define LEASE_RENEW_EVERY_MS 1000

enum lease_role {
    LEASE_STANDBY,
    LEASE_SCHEDULER,
};

/* What to send to the database now. */
enum lease_request {
    LEASE_REQUEST_NONE,    /* nothing yet (not due, or a request is in flight) */
    LEASE_REQUEST_ACQUIRE, /* take the row if free or expired: a new fencing number */
    LEASE_REQUEST_RENEW,   /* extend the row this holder holds under its fencing number */
};

/* What an answer or the passing of time changed. */
enum lease_event {
    LEASE_EVENT_NONE,
    LEASE_EVENT_GAINED,  /* standby -> scheduler: load the agenda, fire what fell due */
    LEASE_EVENT_RENEWED, /* still the scheduler, for longer */
    LEASE_EVENT_LOST,    /* scheduler -> standby: stop firing and delivering at once */
};

struct lease {
    int64_t ttl_ms;         /* the row's time to live: failover_timeout */
    int64_t renew_every_ms; /* how often to renew (scheduler) or ask (standby) */
    enum lease_role role;
    int64_t fencing;        /* the number held, or last held (0: never) */
    int64_t valid_until_ms; /* scheduler: acts only before this instant */
    int64_t next_request_ms;
    enum lease_request in_flight; /* sent, not answered yet */
    int64_t sent_ms;
};

/* A standby that asks at once. renew_every_ms < ttl_ms, both > 0 (the loader checks
 * failover_timeout against LEASE_RENEW_EVERY_MS). */
void lease_init(struct lease *l, int64_t ttl_ms, int64_t renew_every_ms, int64_t now_ms);

/* The request to send at now_ms, recorded as in flight; NONE when not due or one is in
 * flight. */
enum lease_request lease_poll(struct lease *l, int64_t now_ms);

/* The answer to the request in flight, at now_ms: granted (the statement returned the
 * row's fencing number) or not (refused: the row is another's; or failed: the database
 * did not answer, which counts as refused). */
enum lease_event lease_answer(struct lease *l, int64_t now_ms, bool granted, int64_t fencing);

/* The database refused this holder's fencing check at now_ms (lease_sql_check: another
 * instance took the row, or it expired there first): LOST when it was the scheduler, as
 * a refused renewal; it asks again at once. */
enum lease_event lease_fenced(struct lease *l, int64_t now_ms);

/* A graceful stop: the holder gave the row up (lease_sql_release: its expiry set to now,
 * its fencing number kept, so the next holder's is larger) at now_ms. It may not act from
 * now on and asks for nothing again. LOST when it was the scheduler. */
enum lease_event lease_release(struct lease *l, int64_t now_ms);

/* A standby learnt when the row it was refused expires (at_ms, on this lease's clock):
 * ask then rather than at the next period, so that a take-over follows the expiry at once
 * (not up to a period later). Ignored for a scheduler or with a request in flight. */
void lease_ask_at(struct lease *l, int64_t at_ms);

/* The passing of time: LOST when the scheduler's lease ran out at now_ms. */
enum lease_event lease_tick(struct lease *l, int64_t now_ms);

/* Whether the holder may fire and deliver at now_ms (false once the lease ran out, even
 * before lease_tick noticed). */
bool lease_may_act(const struct lease *l, int64_t now_ms);

/* The next instant lease_poll or lease_tick has something to do. */
int64_t lease_next_ms(const struct lease *l);

const char *lease_role_name(enum lease_role role);

#endif
