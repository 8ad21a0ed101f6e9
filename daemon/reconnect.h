/* reconnect.h - the database's connection made again in the background (PostgreSQL;
 * doc/POSTGRESQL.md "Reconnection"): the loop never blocks on it. Before the loop blocks,
 * a lost connection is noticed (an ev_prepare); then the connecting socket (an ev_io) and
 * the attempt's limit or the back-off (an ev_timer) drive store_reconnect_step. Meanwhile
 * every store call fails at once with -ENOTCONN, which requests answer with 503
 * database_unavailable and Retry-After. The loss and the return are logged once each. */
#ifndef SLAD_RECONNECT_H
#define SLAD_RECONNECT_H

#include <ev.h>

struct store;
struct reconnect;

/* Called on the loop when the connection is back (statements are prepared again at their
 * next use): what was read while it was lost (the agenda) may be read again. */
typedef void reconnect_up_fn(void *userdata);

/* Asks store to reconnect in the background and watches it; NULL when out of memory. */
struct reconnect *reconnect_new(struct ev_loop *loop, struct store *store, reconnect_up_fn *up,
                                void *userdata);
void reconnect_free(struct reconnect *rc);

#endif
