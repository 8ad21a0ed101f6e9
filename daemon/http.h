/* http.h - the API's HTTP/1.1 servers: libmicrohttpd in external-epoll mode on the event
 * loop (its epoll fd watched by one ev_io, its timeouts by one ev_timer), one server for
 * the Unix socket and one, bearer-token protected, for TCP.
 *
 * Each complete request runs lib/api inside the iteration's transaction (batch.h). An
 * answer that wrote (or may show what others wrote) is held, its connection suspended,
 * until the commit; a failed commit turns it into 503. Limits: max_connections, header
 * memory, idle timeout (fixed at start), max_body (follows reloads): 413 before reading a
 * body whose Content-Length is over it, or once the received body grows over it. */
#ifndef SLAD_HTTP_H
#define SLAD_HTTP_H

#include <ev.h>
#include <stdbool.h>

#include "conf.h"
#include "error.h"
#include "listen.h"

struct api;
struct batch;
struct metrics;
struct token;
struct intake_keys;
struct console;

struct http;

/* Serve ls's sockets (the fds are handed over: ls's copies are set to -1). tok and keys
 * (taken, may be NULL without TCP) authenticate the TCP server: the daemon's token
 * everywhere, the intakes' own tokens on their URLs (intake_keys.h). */
int http_new(struct ev_loop *loop, struct api *api, struct batch *batch, struct metrics *metrics,
             const struct conf *conf, struct listeners *ls, struct token *tok,
             struct intake_keys *keys, struct console *console, struct http **ret,
             struct slad_error *reterr);
/* Stops the servers (call after the last commit: no connection may be suspended). */
void http_free(struct http *h);

/* Reload: the new config's max_body applies to the next requests; tok and keys (taken)
 * replace the TCP tokens. */
void http_set_conf(struct http *h, const struct conf *conf, struct token *tok,
                   struct intake_keys *keys);

/* The batch ended: let the servers send the answers it held. */
void http_after_commit(struct http *h);
/* The same for any struct http * (a callback's userdata): resumed connections are served. */
void http_kick(void *userdata);
/* A batch committed these ticket changes: tell the event streams (stream.h). */
struct service_change;
void http_publish(struct http *h, const struct service_change *changes, size_t n, bool overflow);

/* Graceful stop: stop accepting connections; requests already received are answered,
 * later ones on open connections get 503. */
void http_quiesce(struct http *h);

/* Long reads go to reader (reader.h) from now on; NULL: none (before freeing it). NULL-safe
 * in h. */
struct reader;
void http_set_reader(struct http *h, struct reader *reader);

/* A connection of l's server was resumed outside a commit's after hook (a reader's
 * answer): serve it in this iteration. */
struct request_listener;
void http_listener_kick(struct request_listener *l);
/* Requests received and not yet answered. */
unsigned http_in_flight(const struct http *h);

#endif
