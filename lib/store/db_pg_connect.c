/* db_pg_connect.c - reconnection in the background for the PostgreSQL driver
 * (db_pg_connect.h): PQresetStart, then PQresetPoll each time the socket is ready, under
 * a limit per attempt and a back-off between attempts. */
#include "db_pg_connect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pg_connect_up(const struct pg_connect *c, PGconn *conn)
{
    return c->state == PG_CONNECT_IDLE && !c->dropped && PQstatus(conn) == CONNECTION_OK;
}

void pg_connect_drop(struct pg_connect *c)
{
    if (c->state == PG_CONNECT_IDLE)
        c->dropped = true;
}

double pg_connect_next_backoff_s(double prev_s)
{
    if (prev_s < PG_CONNECT_BACKOFF_MIN_S)
        return PG_CONNECT_BACKOFF_MIN_S;
    return prev_s * 2 > PG_CONNECT_BACKOFF_MAX_S ? PG_CONNECT_BACKOFF_MAX_S : prev_s * 2;
}

static const char *option(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0)
            return o->val && o->val[0] ? o->val : NULL;
    return NULL;
}

double pg_connect_attempt_limit_s(PGconn *conn)
{
    PQconninfoOption *opts = PQconninfo(conn);
    const char *hosts = option(opts, "host");
    if (!hosts)
        hosts = option(opts, "hostaddr");
    int n = 1;
    for (const char *p = hosts; p && *p; p++)
        n += *p == ',';
    const char *timeout = option(opts, "connect_timeout");
    double per_host = timeout ? atof(timeout) : 0;
    PQconninfoFree(opts);
    /* libpq: 0 (or unset) waits for ever, and less than 2 s counts as 2. */
    if (per_host <= 0)
        per_host = PG_CONNECT_HOST_LIMIT_S;
    else if (per_host < 2)
        per_host = 2;
    return per_host * n;
}

/* The attempt failed: why (one line), and the back-off before the next. */
static void failed(struct pg_connect *c, double now_s, const char *why)
{
    snprintf(c->why, sizeof(c->why), "%s", why);
    size_t n = strlen(c->why);
    while (n > 0 && (c->why[n - 1] == '\n' || c->why[n - 1] == ' '))
        c->why[--n] = '\0';
    for (char *p = c->why; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    c->failed++;
    c->backoff_s = pg_connect_next_backoff_s(c->backoff_s);
    c->retry_at_s = now_s + c->backoff_s;
    c->state = PG_CONNECT_BACKOFF;
}

static void start(struct pg_connect *c, PGconn *conn, double now_s)
{
    c->dropped = false;
    if (!PQresetStart(conn)) {
        failed(c, now_s, PQerrorMessage(conn));
        return;
    }
    c->state = PG_CONNECT_POLLING;
    c->polled = PGRES_POLLING_WRITING; /* libpq: wait for the socket to be writable first */
    c->limit_s = pg_connect_attempt_limit_s(conn);
    c->deadline_s = now_s + c->limit_s;
}

/* Start an attempt: true when it waits for the socket (*w), false when it failed at once
 * (the back-off began). */
static bool attempt(struct pg_connect *c, PGconn *conn, double now_s, struct pg_connect_wait *w)
{
    start(c, conn, now_s);
    if (c->state != PG_CONNECT_POLLING)
        return false;
    w->fd = PQsocket(conn);
    w->at_s = c->deadline_s;
    return true;
}

int pg_connect_step(struct pg_connect *c, PGconn *conn, double now_s, struct pg_connect_wait *w)
{
    *w = (struct pg_connect_wait){.fd = -1};
    for (;;) {
        switch (c->state) {
        case PG_CONNECT_IDLE:
            if (pg_connect_up(c, conn))
                return 0;
            c->failed = 0; /* a new loss */
            c->backoff_s = 0;
            c->why[0] = '\0';
            if (attempt(c, conn, now_s, w))
                return 0;
            break;
        case PG_CONNECT_BACKOFF:
            if (now_s < c->retry_at_s) {
                w->at_s = c->retry_at_s;
                return 0;
            }
            if (attempt(c, conn, now_s, w)) /* whatever libpq says of the abandoned one */
                return 0;
            break;
        case PG_CONNECT_POLLING:
            if (now_s >= c->deadline_s) {
                char why[128];
                snprintf(why, sizeof(why),
                         "no connection within %.1f s (connect_timeout for each host)", c->limit_s);
                failed(c, now_s, why);
                break;
            }
            c->polled = PQresetPoll(conn);
            if (c->polled == PGRES_POLLING_OK) {
                c->state = PG_CONNECT_IDLE; /* (failed and why kept: the caller reports them) */
                return 1;
            }
            if (c->polled == PGRES_POLLING_FAILED) {
                failed(c, now_s, PQerrorMessage(conn));
                break;
            }
            w->fd = PQsocket(conn);
            w->want_read = c->polled == PGRES_POLLING_READING;
            w->at_s = c->deadline_s;
            return 0;
        }
    }
}
