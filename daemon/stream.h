/* stream.h - GET /v1/stream: the console's server-sent events (text/event-stream).
 *
 * After each committed batch that changed tickets, every open stream gets one
 *   event: ticket
 *   data: {"id":42,"status":"acknowledged","updated_at":"..."}
 * per changed ticket (or one `event: reset` when the batch changed more than the service
 * lists: the reader refetches), and every STREAM_KEEPALIVE_S a `: keepalive` comment.
 * A stream's connection is suspended while it has nothing to send and resumed when it
 * has. Bounded: at most max streams (more get 503 too_many_streams), at most
 * STREAM_BUFFER_MAX bytes waiting per stream (a reader that falls behind is
 * disconnected: its socket is shut down, which ends the request), all closed when the
 * daemon stops. */
#ifndef SLAD_STREAM_H
#define SLAD_STREAM_H

#include <ev.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "service.h"

#define STREAM_KEEPALIVE_S 15.0
#define STREAM_BUFFER_MAX  (64 * 1024)

struct streams;

/* kick(kick_data) makes the HTTP servers run soon (resumed connections are served by
 * MHD_run). */
struct streams *streams_new(struct ev_loop *loop, size_t max, void (*kick)(void *),
                            void *kick_data);
/* After every stream has ended (MHD_stop_daemon frees their responses). NULL-safe. */
void streams_free(struct streams *ss);

/* The streams a config allows: a quarter of max_connections, at least 1. */
size_t streams_max_for(size_t max_connections);

/* Answer conn with a new stream: 200 and the events to come, or 503 when max are open;
 * MHD_NO when the answer could not be queued. */
enum MHD_Result streams_open(struct streams *ss, struct MHD_Connection *conn);

/* A batch committed: tell every stream about the changes (overflow: the list is
 * incomplete, they get `reset`). */
void streams_publish(struct streams *ss, const struct service_change *changes, size_t n,
                     bool overflow);

/* The daemon stops: end every stream (those with unsent data at once). */
void streams_close_all(struct streams *ss);

/* How many streams are open. */
size_t streams_open_count(const struct streams *ss);

#endif
