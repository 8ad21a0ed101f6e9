/* fdbudget.h - the process's descriptors, split between the listeners.
 *
 * At start slad raises its soft open-file limit to the hard one, keeps a reserve for
 * what is not a client (the database and its journal files, the loop's own descriptors,
 * deliveries in flight), and gives each listener a share of the rest: max_connections
 * when the limit covers both listeners, else the Unix socket keeps up to half and TCP's
 * share is lowered (said at start), so that local operators can always connect. */
#ifndef SLAD_FDBUDGET_H
#define SLAD_FDBUDGET_H

#include <stdbool.h>

#include "conf.h"

/* Descriptors kept back for everything but clients, before deliveries are counted. */
#define FDBUDGET_BASE_RESERVE 64

struct fdbudget {
    unsigned long limit;   /* the open-file limit in force */
    unsigned long reserve; /* kept for the database, the loop and deliveries */
    unsigned unix_share;   /* connections the Unix socket may hold */
    unsigned tcp_share;    /* connections the TCP socket may hold (0 without one) */
};

/* Raise the soft limit (logging what it did), then split it for conf's listeners. */
void fdbudget_plan(const struct conf *conf, bool tcp, struct fdbudget *ret);

/* The split for a given limit, without touching the process (for tests and the plan). */
void fdbudget_split(unsigned long limit, unsigned long reserve, unsigned max_connections, bool tcp,
                    struct fdbudget *ret);

#endif
