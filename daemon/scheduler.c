/* scheduler.c - the scheduler lease on the loop (scheduler.h). */
#include "scheduler.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_lease.h"
#include "timers.h"

/* The holder of an SQLite database's lease: whichever process has it open. */
#define SCHEDULER_SQLITE_HOLDER "sqlite"
/* ... which holds it until another start takes it over: it never renews, so its lease
 * must not run out under it (a century, in ms). */
#define SCHEDULER_SQLITE_TTL_MS (100LL * 366 * 86400 * 1000)

struct scheduler {
    struct ev_loop *loop;
    struct store *store;
    struct batch *batch;
    struct metrics *metrics;
    struct lease lease;
    char holder[256]; /* host:pid:start-instant on PostgreSQL, unique per process */
    scheduler_role_fn *on_role;
    void *role_userdata;
    ev_timer timer;
    bool renews; /* false: one holder by construction, the lease is taken once */
    bool stopped;
    char last_failure[SLAD_ERROR_MAX]; /* logged once while it repeats; "" after a success */
};

/* The request lease_poll decided, in the iteration's transaction (a savepoint of its own,
 * so that a failure leaves the rest of the batch alone): 1 granted, 0 refused, -errno.
 * A refused acquisition sets *ret_wait_ms to the time the row has left (else -1). */
static int send_request(struct scheduler *sc, enum lease_request req, int64_t now_ms,
                        int64_t *ret_fencing, int64_t *ret_wait_ms, struct slad_error *err)
{
    *ret_wait_ms = -1;
    int r = batch_begin(sc->batch, err);
    if (r == 0)
        r = store_savepoint(sc->store, err);
    if (r < 0)
        return r;
    r = store_lease_now(sc->store, now_ms, &now_ms, err);
    if (r < 0) {
        store_rollback_to(sc->store, NULL);
        return r;
    }
    if (req == LEASE_REQUEST_ACQUIRE) {
        r = store_lease_acquire(sc->store, sc->holder, now_ms, sc->lease.ttl_ms, ret_fencing, err);
        int64_t fencing, expires_ms;
        if (r == 0 && store_lease_read(sc->store, &fencing, &expires_ms, err) == 0)
            *ret_wait_ms = expires_ms > now_ms ? expires_ms - now_ms : 0;
    } else {
        *ret_fencing = sc->lease.fencing;
        r = store_lease_renew(sc->store, sc->holder, sc->lease.fencing, now_ms, sc->lease.ttl_ms,
                              err);
    }
    if (r >= 0 && store_release(sc->store, err) < 0)
        r = -EIO;
    if (r < 0) {
        store_rollback_to(sc->store, NULL);
        return r;
    }
    batch_mark_dirty(sc->batch);
    return r;
}

static void report(struct scheduler *sc, enum lease_event ev, const char *why)
{
    const struct lease *l = &sc->lease;
    if (ev == LEASE_EVENT_GAINED)
        log_notice("scheduler", "this instance is the scheduler (fencing number %lld)",
                   (long long)l->fencing);
    else if (ev == LEASE_EVENT_LOST)
        log_warning("scheduler",
                    "lost the scheduler lease (fencing number %lld): on standby, asking again%s%s",
                    (long long)l->fencing, why[0] ? ": " : "", why);
    metrics_lease(sc->metrics, l->role == LEASE_SCHEDULER, l->fencing);
    if (sc->on_role && ev != LEASE_EVENT_NONE)
        sc->on_role(sc->role_userdata, ev);
}

static void arm(struct scheduler *sc, int64_t now_ms)
{
    int64_t next = lease_next_ms(&sc->lease);
    double after = next <= now_ms ? 0. : (double)(next - now_ms) / 1000.0;
    ev_timer_stop(sc->loop, &sc->timer);
    ev_timer_set(&sc->timer, after, 0.);
    ev_timer_start(sc->loop, &sc->timer);
}

static void run(struct scheduler *sc)
{
    int64_t now_ms = timers_now_ms(sc->loop);
    report(sc, lease_tick(&sc->lease, now_ms), "its time ran out before a renewal");
    enum lease_request req = lease_poll(&sc->lease, now_ms);
    if (req != LEASE_REQUEST_NONE) {
        struct slad_error err = {""};
        int64_t fencing = 0, wait_ms;
        int r = send_request(sc, req, now_ms, &fencing, &wait_ms, &err);
        /* Once per failure, not every second while the database keeps failing. */
        if (r < 0 && strcmp(err.msg, sc->last_failure) != 0) {
            log_warning("scheduler", "could not %s the scheduler lease (retrying every second): %s",
                        req == LEASE_REQUEST_ACQUIRE ? "ask for" : "renew", err.msg);
            snprintf(sc->last_failure, sizeof(sc->last_failure), "%s", err.msg);
        } else if (r < 0) {
            log_debug("scheduler", "the scheduler lease still fails: %s", err.msg);
        } else {
            sc->last_failure[0] = '\0';
        }
        enum lease_event ev = lease_answer(&sc->lease, now_ms, r == 1, fencing);
        /* Ask again the moment the holder's row expires, not up to a second later. */
        if (wait_ms >= 0)
            lease_ask_at(&sc->lease, now_ms + wait_ms + 1);
        report(sc, ev, r < 0 ? err.msg : "another instance holds it");
    }
    /* On SQLite the file's write lock already makes this process the only scheduler:
     * renewing would cost a commit and an fsync every second of an idle daemon. */
    if (!sc->stopped && (sc->renews || sc->lease.role != LEASE_SCHEDULER))
        arm(sc, now_ms);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    run(w->data);
}

/* The batch's fencing check (batch_set_fence): the transaction holds scheduler writes. */
static int fence(void *userdata, struct slad_error *reterr)
{
    struct scheduler *sc = userdata;
    int64_t now_ms = timers_now_ms(sc->loop);
    if (!lease_may_act(&sc->lease, now_ms)) {
        report(sc, lease_tick(&sc->lease, now_ms), "its time ran out before a renewal");
        if (!sc->stopped)
            arm(sc, now_ms);
        return slad_error_set(reterr, ESTALE,
                              "scheduler writes made while this instance is not the scheduler "
                              "(fencing number %lld): not made",
                              (long long)sc->lease.fencing);
    }
    int64_t db_now_ms;
    int r = store_lease_now(sc->store, now_ms, &db_now_ms, reterr);
    if (r == 0)
        r = store_lease_check(sc->store, sc->holder, sc->lease.fencing, db_now_ms, reterr);
    if (r == -ESTALE) {
        /* Another instance holds the row now (or it expired there first): what this one
         * prepared under its number is rolled back, and it stops at once. */
        log_err("scheduler",
                "the database refused this instance's scheduler writes (fencing number %lld is "
                "no longer the lease's): rolled back; another instance is the scheduler",
                (long long)sc->lease.fencing);
        report(sc, lease_fenced(&sc->lease, now_ms), "the fencing check was refused");
        if (!sc->stopped)
            arm(sc, now_ms);
    }
    return r;
}

struct scheduler *scheduler_new(struct ev_loop *loop, struct store *store, struct batch *batch,
                                struct metrics *metrics, int64_t ttl_ms, bool renews)
{
    struct scheduler *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    sc->loop = loop;
    sc->store = store;
    sc->batch = batch;
    sc->metrics = metrics;
    sc->renews = renews;
    int64_t now_ms = timers_now_ms(loop);
    if (renews) {
        /* Unique per process: a restarted instance (same host, maybe the same pid) is a
         * new holder, never the continuation of its predecessor's tenure. */
        char host[128];
        if (gethostname(host, sizeof(host)) < 0)
            snprintf(host, sizeof(host), "unknown");
        host[sizeof(host) - 1] = '\0';
        snprintf(sc->holder, sizeof(sc->holder), "%s:%ld:%lld", host, (long)getpid(),
                 (long long)now_ms);
    } else {
        snprintf(sc->holder, sizeof(sc->holder), "%s", SCHEDULER_SQLITE_HOLDER);
        ttl_ms = SCHEDULER_SQLITE_TTL_MS;
    }
    lease_init(&sc->lease, ttl_ms, LEASE_RENEW_EVERY_MS, now_ms);
    /* On SQLite no other process writes the file while this one does: a check per batch
     * would be a statement (and, with the server's clock, a round trip) for nothing. */
    if (renews)
        batch_set_fence(batch, fence, sc);
    ev_timer_init(&sc->timer, timer_cb, 0., 0.);
    sc->timer.data = sc;
    return sc;
}

int scheduler_start(struct scheduler *sc, struct slad_error *reterr)
{
    int r = batch_begin(sc->batch, reterr);
    if (r == 0)
        r = store_lease_setup(sc->store, reterr);
    if (r < 0)
        return r;
    batch_mark_dirty(sc->batch);
    /* The loop's cached now is from before the start's work (opening the store, loading
     * the agenda: seconds at a million tickets): a tenure counted from it would end early. */
    ev_now_update(sc->loop);
    run(sc);
    return 0;
}

void scheduler_stop(struct scheduler *sc)
{
    sc->stopped = true;
    ev_timer_stop(sc->loop, &sc->timer);
}

void scheduler_release(struct scheduler *sc)
{
    scheduler_stop(sc);
    if (!sc->renews || sc->lease.role != LEASE_SCHEDULER)
        return;
    int64_t fencing = sc->lease.fencing;
    int64_t now_ms = timers_now_ms(sc->loop);
    struct slad_error err = {""};
    int r = batch_begin(sc->batch, &err);
    if (r == 0)
        r = store_lease_now(sc->store, now_ms, &now_ms, &err);
    if (r == 0)
        r = store_lease_release(sc->store, sc->holder, fencing, now_ms, &err);
    if (r >= 0) {
        batch_mark_dirty(sc->batch);
        if (batch_commit(sc->batch) < 0) {
            r = -EIO;
            snprintf(err.msg, sizeof(err.msg), "%s", batch_last_error(sc->batch));
        }
    }
    lease_release(&sc->lease, timers_now_ms(sc->loop));
    metrics_lease(sc->metrics, false, fencing);
    if (r == 1)
        log_notice("scheduler",
                   "released the scheduler lease (fencing number %lld): a standby takes over at "
                   "its next ask",
                   (long long)fencing);
    else if (r == 0)
        log_notice("scheduler",
                   "stopping without the scheduler lease (fencing number %lld is no longer the "
                   "lease's): nothing to release",
                   (long long)fencing);
    else
        log_warning("scheduler",
                    "could not release the scheduler lease (fencing number %lld): a standby "
                    "takes over when it expires, within failover_timeout: %s",
                    (long long)fencing, err.msg);
}

void scheduler_free(struct scheduler *sc)
{
    if (!sc)
        return;
    scheduler_stop(sc);
    free(sc);
}

const struct lease *scheduler_lease(const struct scheduler *sc)
{
    return &sc->lease;
}

void scheduler_on_role(struct scheduler *sc, scheduler_role_fn *fn, void *userdata)
{
    sc->on_role = fn;
    sc->role_userdata = userdata;
}

bool scheduler_may_act(const struct scheduler *sc)
{
    return lease_may_act(&sc->lease, timers_now_ms(sc->loop));
}

const char *scheduler_holder(const struct scheduler *sc)
{
    return sc->holder;
}
