/* timers.c - the agenda's head as one absolute ev_periodic (see timers.h). */
#include "timers.h"

#include <math.h>
#include <stdlib.h>

#include "agenda.h"
#include "batch.h"
#include "log.h"
#include "service.h"

/* After a failure (database unavailable), retry this much later instead of spinning. */
#define TIMERS_RETRY_MS 1000

struct timers {
    struct ev_loop *loop;
    struct service *svc;
    struct agenda *agenda;
    struct batch *batch;
    ev_periodic periodic;
    int64_t armed_ms; /* instant the periodic is armed at; INT64_MAX: stopped */
    int64_t retry_after_ms;
    struct timers_stats stats;
    timers_gate_fn *may_act; /* NULL: always */
    void *gate_userdata;
};

static bool gate_open(const struct timers *t)
{
    return !t->may_act || t->may_act(t->gate_userdata);
}

int64_t timers_now_ms(struct ev_loop *loop)
{
    /* Round rather than truncate: ev_now() >= at_ms / 1e3 must give now_ms >= at_ms. */
    return (int64_t)llround(ev_now(loop) * 1000.0);
}

static void arm_at(struct timers *t, int64_t at_ms)
{
    if (at_ms == t->armed_ms && ev_is_active(&t->periodic))
        return;
    ev_periodic_stop(t->loop, &t->periodic);
    t->armed_ms = at_ms;
    if (at_ms == INT64_MAX)
        return;
    /* Absolute mode: offset = the instant, no interval, no reschedule callback. */
    ev_periodic_set(&t->periodic, (double)at_ms / 1000.0, 0., 0);
    ev_periodic_start(t->loop, &t->periodic);
}

void timers_rearm(struct timers *t)
{
    struct agenda_entry head;
    int64_t at = agenda_peek(t->agenda, &head) && gate_open(t) ? head.at_ms : INT64_MAX;
    if (at != INT64_MAX && at < t->retry_after_ms)
        at = t->retry_after_ms;
    arm_at(t, at);
}

void timers_stop(struct timers *t)
{
    arm_at(t, INT64_MAX);
}

static void periodic_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
    struct timers *t = w->data;
    int64_t now_ms = timers_now_ms(loop);
    t->armed_ms = INT64_MAX;
    struct agenda_entry head;
    if (!agenda_peek(t->agenda, &head) || head.at_ms > now_ms || !gate_open(t)) {
        timers_rearm(t); /* a closed gate stops it: the gain re-arms */
        return;
    }
    struct slad_error err;
    int r = batch_begin(t->batch, &err);
    size_t done = 0;
    double start = ev_time();
    while (r == 0 && done < TIMERS_BATCH) {
        size_t n = 0;
        r = service_fire_due(t->svc, now_ms, TIMERS_CHUNK, &n, &err);
        done += n;
        if (n < TIMERS_CHUNK || (ev_time() - start) * 1000.0 >= TIMERS_BUDGET_MS)
            break;
    }
    if (r < 0) {
        /* Entries handled before the failure are in the transaction: commit them. */
        if (batch_is_open(t->batch))
            batch_mark_fenced(t->batch);
        log_err("timers", "could not act on what is due (will retry in %d ms): %s", TIMERS_RETRY_MS,
                err.msg);
        t->retry_after_ms = now_ms + TIMERS_RETRY_MS;
        arm_at(t, t->retry_after_ms);
        return;
    }
    t->retry_after_ms = 0;
    if (done > 0) {
        batch_mark_fenced(t->batch); /* scheduler writes: the commit checks the lease */
        /* The service records each entry's lateness (history "late", and
         * slad_timer_lag_seconds); this is the loop's view of the earliest, for the log. */
        double lag_ms = (double)(now_ms - head.at_ms);
        t->stats.fired += done;
        t->stats.last_lag_ms = lag_ms;
        if (lag_ms > t->stats.max_lag_ms)
            t->stats.max_lag_ms = lag_ms;
        /* One line per batch: each entry's own lateness is in its history row. */
        if (lag_ms >= 1000.0)
            log_notice("timers",
                       "%zu due entr%s handled late, the earliest %.1f s after its "
                       "instant",
                       done, done == 1 ? "y" : "ies", lag_ms / 1000.0);
        else
            log_info("timers", "%zu due entr%s handled, the earliest %.0f ms after its instant",
                     done, done == 1 ? "y" : "ies", lag_ms);
    }
    /* More due (a burst): the head is in the past, so the periodic fires again in the
     * next iteration, after the loop has polled the sockets and committed this batch. */
    timers_rearm(t);
}

struct timers *timers_new(struct ev_loop *loop, struct service *svc, struct agenda *agenda,
                          struct batch *batch)
{
    struct timers *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = loop;
    t->svc = svc;
    t->agenda = agenda;
    t->batch = batch;
    t->armed_ms = INT64_MAX;
    ev_periodic_init(&t->periodic, periodic_cb, 0., 0., 0);
    t->periodic.data = t;
    return t;
}

void timers_set_gate(struct timers *t, timers_gate_fn *may_act, void *userdata)
{
    t->may_act = may_act;
    t->gate_userdata = userdata;
}

void timers_free(struct timers *t)
{
    if (!t)
        return;
    ev_periodic_stop(t->loop, &t->periodic);
    free(t);
}

void timers_stats(const struct timers *t, struct timers_stats *ret)
{
    *ret = t->stats;
}
