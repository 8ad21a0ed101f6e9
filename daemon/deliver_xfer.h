/* deliver_xfer.h - HTTP and SMTP transfers on the daemon's loop: libcurl's multi socket
 * API with one ev_io per socket and one ev_timer for curl's timeout (the hiperfifo
 * pattern). The multi handle's connection cache keeps connections alive between
 * attempts to the same host. Knows nothing of the outbox: deliver.c hands it requests
 * built by channel_build and gets back what channel_classify reads. */
#ifndef SLAD_DELIVER_XFER_H
#define SLAD_DELIVER_XFER_H

#include <ev.h>
#include <stdint.h>

#include "channel.h"

struct deliver_xfer;
struct deliver_call;

/* resp and everything it points to live only during the call. */
typedef void deliver_xfer_done_fn(void *userdata, const struct channel_response *resp);

struct deliver_xfer *deliver_xfer_new(struct ev_loop *loop);
/* Cancels what is in flight (no done calls). */
void deliver_xfer_free(struct deliver_xfer *x);

/* How many connections (in use and idle) the cache may keep open: the sum of the channels'
 * concurrency, which fdbudget reserves descriptors for. Without it curl sizes the cache by
 * the transfers in progress and closes idle connections as they finish: a new connection
 * for one attempt in 15-30 at concurrency 16. Cheap to call before every transfer. */
void deliver_xfer_max_connections(struct deliver_xfer *x, long n);

/* Start req (HTTP or SMTP; borrowed until done or cancel) with a whole-transfer timeout.
 * done is called once, later, from the loop; the call is freed after it returns. */
int deliver_xfer_start(struct deliver_xfer *x, const struct channel_request *req,
                       int64_t timeout_ms, deliver_xfer_done_fn *done, void *userdata,
                       struct deliver_call **ret);
/* Abandon c: done is not called. */
void deliver_call_cancel(struct deliver_call *c);

#endif
