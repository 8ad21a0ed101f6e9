/* reconnect.c - the database's connection made again in the background (reconnect.h). */
#include "reconnect.h"

#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "store.h"

struct reconnect {
    struct ev_loop *loop;
    struct store *store;
    reconnect_up_fn *up;
    void *userdata;
    ev_prepare prepare; /* notices a loss before the loop blocks */
    ev_io io;           /* the connecting socket */
    ev_timer timer;     /* the attempt's limit, or the end of the back-off */
    bool down;
    double down_since_s;
    unsigned logged_failed; /* the attempts whose failure was logged */
};

/* Log the first failed attempt, then each time the count doubles: the operator hears
 * that it goes on without a line every two seconds. */
static void log_attempt(struct reconnect *rc, const struct store_link *link, double now_s)
{
    if (link->failed == 0 || link->failed < 2 * rc->logged_failed)
        return;
    rc->logged_failed = link->failed;
    log_warning("store",
                "still no connection to the database after %.1f s (%u attempts failed, the "
                "last: %s); retrying, at most 2 s apart; check that the server runs and that "
                "'database' reaches it",
                now_s - rc->down_since_s, link->failed,
                link->why[0] ? link->why : "no reason given");
}

/* One step of the reconnection, then wait for what it asks. */
static void drive(struct reconnect *rc)
{
    ev_io_stop(rc->loop, &rc->io);
    ev_timer_stop(rc->loop, &rc->timer);
    double now_s = ev_time();
    struct store_link link;
    int r = store_reconnect_step(rc->store, now_s, &link);
    if (r == 1 && rc->down) {
        log_notice("store",
                   "reconnected to the database after %.1f s (%u attempts failed); requests are "
                   "served again",
                   now_s - rc->down_since_s, link.failed);
    }
    if (r == 1) {
        rc->down = false;
        rc->logged_failed = 0;
        if (rc->up)
            rc->up(rc->userdata);
        return;
    }
    if (link.fd < 0 && link.at_s <= 0)
        return; /* connected, or a loss the pipeline has yet to find */
    if (!rc->down) {
        rc->down = true;
        rc->down_since_s = now_s;
        log_err("store", "lost the connection to the database: reconnecting in the background; "
                         "meanwhile requests that need it are answered 503 database_unavailable "
                         "and nothing is scheduled");
    }
    log_attempt(rc, &link, now_s);
    if (link.fd >= 0) {
        ev_io_set(&rc->io, link.fd, link.wants & STORE_WANT_READ ? EV_READ : EV_WRITE);
        ev_io_start(rc->loop, &rc->io);
    }
    if (link.at_s > 0) {
        double after = link.at_s - now_s;
        ev_timer_set(&rc->timer, (after > 0 ? after : 0) + 0.001, 0.);
        ev_timer_start(rc->loop, &rc->timer);
    }
}

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct reconnect *rc = w->data;
    if (!ev_is_active(&rc->io) && !ev_is_active(&rc->timer) && !store_connected(rc->store))
        drive(rc);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    drive(w->data);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    drive(w->data);
}

struct reconnect *reconnect_new(struct ev_loop *loop, struct store *store, reconnect_up_fn *up,
                                void *userdata)
{
    struct reconnect *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return NULL;
    rc->loop = loop;
    rc->store = store;
    rc->up = up;
    rc->userdata = userdata;
    store_reconnect_in_background(store);
    ev_prepare_init(&rc->prepare, prepare_cb);
    rc->prepare.data = rc;
    ev_prepare_start(loop, &rc->prepare);
    ev_unref(loop); /* does not keep ev_run alive */
    ev_io_init(&rc->io, io_cb, -1, EV_READ);
    rc->io.data = rc;
    ev_timer_init(&rc->timer, timer_cb, 0., 0.);
    rc->timer.data = rc;
    return rc;
}

void reconnect_free(struct reconnect *rc)
{
    if (!rc)
        return;
    ev_ref(rc->loop);
    ev_prepare_stop(rc->loop, &rc->prepare);
    ev_io_stop(rc->loop, &rc->io);
    ev_timer_stop(rc->loop, &rc->timer);
    free(rc);
}
