/* db_pg_connect.h - the PostgreSQL driver's reconnection in the background (db_pg.c,
 * doc/POSTGRESQL.md "Reconnection"): a lost connection is made again with libpq's
 * PQresetStart and PQresetPoll (the same hosts and target_session_attrs), never blocking.
 * The caller drives it: at each call it says what to wait for next (the socket, for
 * reading or writing, and an instant to call again at the latest), and the clock is the
 * caller's (now_s), so that the limits are tested without waiting for them.
 *
 * An attempt is abandoned past its limit: libpq's connect_timeout times the number of
 * hosts, or PG_CONNECT_HOST_LIMIT_S per host when connect_timeout is not set (libpq
 * enforces connect_timeout only when it blocks). Between failed attempts the back-off
 * starts at PG_CONNECT_BACKOFF_MIN_S and doubles up to PG_CONNECT_BACKOFF_MAX_S. */
#ifndef SLAD_DB_PG_CONNECT_H
#define SLAD_DB_PG_CONNECT_H

#include <stdbool.h>

#include <libpq-fe.h>

#define PG_CONNECT_HOST_LIMIT_S  10.0
#define PG_CONNECT_BACKOFF_MIN_S 0.1
#define PG_CONNECT_BACKOFF_MAX_S 2.0

enum pg_connect_state {
    PG_CONNECT_IDLE,    /* no attempt under way: connected, or the loss not yet seen */
    PG_CONNECT_POLLING, /* an attempt under way: PQresetPoll when the socket is ready */
    PG_CONNECT_BACKOFF, /* the last attempt failed: the next starts at retry_at_s */
};

struct pg_connect {
    enum pg_connect_state state;
    bool dropped;                     /* the connection must be made again though libpq says OK */
    PostgresPollingStatusType polled; /* what the last PQresetPoll waits for */
    double limit_s;                   /* the attempt under way's limit */
    double deadline_s;                /* ... at which it is abandoned */
    double retry_at_s;                /* the end of the back-off */
    double backoff_s;                 /* the next back-off */
    unsigned failed;                  /* attempts failed since the loss */
    char why[256];                    /* the last failure, one line; "" */
};

/* What the caller waits for before the next pg_connect_step: fd (-1: none) readable
 * (want_read) or writable, and at_s at the latest. */
struct pg_connect_wait {
    int fd;
    bool want_read;
    double at_s;
};

/* Whether conn can be used: connected, no attempt under way, not dropped. */
bool pg_connect_up(const struct pg_connect *c, PGconn *conn);

/* Mark conn to be made again (its answers out of step with the driver's): it is not used
 * from now on, and the next step starts an attempt. */
void pg_connect_drop(struct pg_connect *c);

/* Drive the reconnection at now_s: 1 conn is connected again (the caller redoes its
 * per-connection set-up), 0 not yet (wait as *w says), or 0 with nothing to wait for when
 * conn needs no reconnection (w->fd -1, w->at_s 0: call again after the next loss). */
int pg_connect_step(struct pg_connect *c, PGconn *conn, double now_s, struct pg_connect_wait *w);

/* One attempt's limit for conn's options (connect_timeout, host), in seconds. */
double pg_connect_attempt_limit_s(PGconn *conn);

/* The back-off after prev_s (0: the first): 0.1 s, doubling, at most 2 s. */
double pg_connect_next_backoff_s(double prev_s);

#endif
