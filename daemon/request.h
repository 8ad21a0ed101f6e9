/* request.h - one HTTP request, as libmicrohttpd's callbacks see it (http.c installs
 * them on each server).
 *
 * Early refusals on the header: 503 while stopping, 401 without the bearer token or a
 * console session cookie on the TCP server outside the public routes (an intake's URL
 * also takes the intake's own token, and a PagerDuty intake a routing_key in the body,
 * checked once the body is in: intake_keys.h), 403 for a session's change without its
 * X-CSRF-Token (request_auth.c; doc/CONSOLE.md), 413 when
 * Content-Length is over max_body. The body is kept up to max_body
 * (past it the rest is read and dropped, then 413). The complete request runs lib/api in
 * the iteration's transaction (a GET outside one when none is open); an answer that
 * wrote, or that follows a write of the same batch, is held (connection suspended) until
 * the commit, and becomes 503 if the commit fails (a GET is then answered again).
 * GET /v1/stream is not the api's: it becomes an event stream (stream.h). A long read
 * the api hands back (an SLA report) goes to a reader thread with the connection
 * suspended, and its answer leaves once every commit it may show is durable (reader.h);
 * 503 with Retry-After when the readers' queue is full. */
#ifndef SLAD_REQUEST_H
#define SLAD_REQUEST_H

#include <ev.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "conf.h"

struct api;
struct batch;
struct metrics;
struct token;
struct intake_keys;
struct console;
struct reader;

/* What the requests of every server share; owned by http.c. */
struct request_env {
    struct ev_loop *loop;
    struct api *api;
    struct batch *batch;
    struct metrics *metrics;
    const struct conf *conf;               /* max_body follows reloads */
    const struct token *token;             /* the TCP server's; NULL refuses everything there */
    const struct intake_keys *intake_keys; /* the intakes' own tokens (intake_keys.h) */
    struct console *console;               /* sessions and sign-ins (console.h) */
    struct streams *streams;               /* GET /v1/stream (stream.h) */
    struct reader *reader;                 /* long reads off the loop (reader.h), or NULL */
    unsigned in_flight;                    /* requests received and not yet completed */
    bool stopping;                         /* new requests get 503 */
};

/* The cls of the callbacks: one per server. */
struct request_listener {
    struct request_env *env;
    bool tcp; /* requires the bearer token */
    bool tls; /* speaks TLS: cookies get Secure */
};

/* MHD_OPTION_URI_LOG_CALLBACK: creates the request from the raw URI (path and undecoded
 * query). */
void *request_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn);
/* MHD_OPTION_NOTIFY_COMPLETED: frees it. */
void request_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe);
/* The access handler. */
enum MHD_Result request_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls);

#endif
