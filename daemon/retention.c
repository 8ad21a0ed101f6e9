/* retention.c - purging past retention in small batches on the loop (retention.h). */
#include "retention.h"

#include <stdbool.h>
#include <stdlib.h>

#include "batch.h"
#include "log.h"
#include "store.h"
#include "store_retention.h"
#include "timers.h"

/* Rows deleted or looked at per batch: the start, and the bounds of the adjustment.
 * tests/bench/bench_retention.c (100k old tickets of 16 rows) measured a batch's CPU time
 * at 1.5 ms median, 2.7 ms p99 for 256 rows and 2.7 / 5.5 ms for 512 (plus the commit's
 * fsync, which the group commit pays anyway): at most 512 keeps a batch under 10 ms. */
#define ROWS_START 256
#define ROWS_MIN   16
#define ROWS_MAX   512

struct retention {
    struct ev_loop *loop;
    struct store *store;
    struct batch *batch;
    const struct conf *const *conf;
    ev_timer timer;
    retention_gate_fn *may_purge; /* NULL: always */
    void *gate_userdata;
    size_t rows; /* per batch */
    bool in_pass;
    struct store_purge_cursor cursor;
    struct store_purge_counts pass; /* what this pass did so far */
    unsigned batches;
    double longest_ms;
};

static void arm(struct retention *r, double after_s)
{
    ev_timer_stop(r->loop, &r->timer);
    ev_timer_set(&r->timer, after_s, 0.);
    ev_timer_start(r->loop, &r->timer);
}

static void pass_end(struct retention *r, int64_t keep_ms)
{
    const struct store_purge_counts *c = &r->pass;
    char keep[32];
    struct duration d = duration_ms(keep_ms);
    if (c->tickets || c->kept)
        log_notice("retention",
                   "purged %lld closed or cancelled tickets older than %s (%lld history rows, "
                   "%lld notifications, %lld follow-ups, %lld clocks) in %u batches, the "
                   "longest %.1f ms; kept %lld for an open or recent follow-up or an undelivered "
                   "notification",
                   (long long)c->tickets, duration_format(&d, keep, sizeof(keep)),
                   (long long)c->history, (long long)c->outbox, (long long)c->followups,
                   (long long)c->clocks, r->batches, r->longest_ms, (long long)c->kept);
    else
        log_debug("retention", "nothing to purge (%u batch%s, %.1f ms)", r->batches,
                  r->batches == 1 ? "" : "es", r->longest_ms);
    r->in_pass = false;
}

/* Fewer rows when a batch took too long, more when it was quick. */
static void adjust(struct retention *r, double ms, bool full)
{
    if (ms > RETENTION_BUDGET_MS && r->rows > ROWS_MIN)
        r->rows /= 2;
    else if (full && ms < RETENTION_BUDGET_MS / 4 && r->rows < ROWS_MAX)
        r->rows *= 2;
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct retention *r = w->data;
    int64_t keep_ms = (*r->conf)->daemon.retention_ms;
    if (keep_ms == 0) {
        r->in_pass = false; /* turned off by a reload */
        return;
    }
    if (r->may_purge && !r->may_purge(r->gate_userdata)) {
        /* A standby: the scheduler purges; this instance's gain of the lease kicks a pass. */
        log_debug("retention", "not the scheduler: the purge is left to it");
        r->in_pass = false;
        return;
    }
    if (!r->in_pass) {
        r->in_pass = true;
        r->cursor = STORE_PURGE_START;
        r->pass = (struct store_purge_counts){0};
        r->batches = 0;
        r->longest_ms = 0;
    }
    struct store_purge_cursor was = r->cursor;
    struct store_purge_counts c = {0};
    struct slad_error err;
    bool more = false;
    double start = ev_time();
    int rv = batch_begin(r->batch, &err);
    if (rv == 0)
        rv = store_savepoint(r->store, &err);
    if (rv == 0) {
        int64_t cutoff_ms = timers_now_ms(loop) - keep_ms;
        rv = store_purge_batch(r->store, cutoff_ms, r->rows, &r->cursor, &c, &more, &err);
        if (rv == 0)
            rv = store_release(r->store, &err);
        if (rv < 0)
            store_rollback_to(r->store, NULL);
    }
    double ms = (ev_time() - start) * 1000.0;
    if (rv < 0) {
        r->cursor = was;
        log_err("retention", "could not purge (will retry in %.0f s): %s", RETENTION_RETRY_S,
                err.msg);
        arm(r, RETENTION_RETRY_S);
        return;
    }
    int64_t deleted = c.tickets + c.clocks + c.history + c.followups + c.outbox;
    if (deleted)
        batch_mark_dirty(r->batch);
    r->pass.tickets += c.tickets;
    r->pass.clocks += c.clocks;
    r->pass.history += c.history;
    r->pass.followups += c.followups;
    r->pass.outbox += c.outbox;
    r->pass.kept += c.kept;
    r->batches++;
    if (ms > r->longest_ms)
        r->longest_ms = ms;
    adjust(r, ms, more);
    if (more) {
        arm(r, RETENTION_NEXT_S);
        return;
    }
    pass_end(r, keep_ms);
    arm(r, RETENTION_PASS_S);
}

struct retention *retention_new(struct ev_loop *loop, struct store *store, struct batch *batch,
                                const struct conf *const *conf)
{
    struct retention *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->loop = loop;
    r->store = store;
    r->batch = batch;
    r->conf = conf;
    r->rows = ROWS_START;
    ev_timer_init(&r->timer, timer_cb, 0., 0.);
    ev_set_priority(&r->timer, EV_MINPRI); /* requests and escalations first */
    r->timer.data = r;
    return r;
}

void retention_free(struct retention *r)
{
    if (!r)
        return;
    ev_timer_stop(r->loop, &r->timer);
    free(r);
}

void retention_set_gate(struct retention *r, retention_gate_fn *may_purge, void *userdata)
{
    r->may_purge = may_purge;
    r->gate_userdata = userdata;
}

void retention_kick(struct retention *r)
{
    int64_t keep_ms = (*r->conf)->daemon.retention_ms;
    /* The cutoff may have moved back: a new pass from the oldest ticket. */
    if (r->in_pass)
        pass_end(r, keep_ms);
    if (keep_ms)
        arm(r, RETENTION_KICK_S);
}

void retention_stop(struct retention *r)
{
    ev_timer_stop(r->loop, &r->timer);
}
