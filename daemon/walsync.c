/* walsync.c - the commit thread (see walsync.h), and beside it the checkpoint thread: a
 * passive checkpoint copies up to a thousand pages and syncs the database file (tens to
 * hundreds of ms on a loaded disk), and answers must not wait behind it (past a few
 * thousand frames it also restarts the log, which the loop waits for: store_wal.c). One mutex
 * guards the few numbers the loop and the threads share; each thread sleeps on its condition
 * variable and wakes the loop with an ev_async, which coalesces: one wake-up may report
 * many commits. */
#include "walsync.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "failpoint.h"
#include "store_wal.h"

struct walsync {
    struct ev_loop *loop;
    struct store_wal *wal;
    walsync_done_fn *done;
    void *userdata;
    ev_async async;
    pthread_t thread, ckpt_thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* the commit thread: a request, quit */
    pthread_cond_t ckpt_wake; /* the checkpoint thread: a checkpoint, quit */
    pthread_cond_t synced;    /* walsync_wait: a sync ended */
    /* Guarded by mu. */
    uint64_t requested, durable;
    bool checkpoint, quit;
    bool ckpt_started; /* set once, by the loop, before anything else reads it */
    int err;
    struct slad_error err_msg;
    struct slad_error ckpt_err; /* the last failed checkpoint, reported once by the loop */
    bool ckpt_failed;
};

static void *run(void *arg)
{
    struct walsync *ws = arg;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        if (ws->requested > ws->durable && !ws->err) {
            /* Every commit up to target is in the WAL: one fdatasync serves them all,
             * and those the loop makes meanwhile wait for the next one. */
            uint64_t target = ws->requested;
            pthread_mutex_unlock(&ws->mu);
            struct slad_error err;
            FAILPOINT("sync-on-thread");
            FAILPOINT_HOLD("sync-on-thread");
            int r = store_wal_sync(ws->wal, &err);
            pthread_mutex_lock(&ws->mu);
            if (r < 0) {
                ws->err = -r;
                ws->err_msg = err;
            } else {
                ws->durable = target;
            }
            pthread_cond_broadcast(&ws->synced);
            ev_async_send(ws->loop, &ws->async);
            continue;
        }
        if (ws->quit)
            break;
        pthread_cond_wait(&ws->wake, &ws->mu);
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

static void *run_checkpoints(void *arg)
{
    struct walsync *ws = arg;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        if (ws->checkpoint) {
            ws->checkpoint = false;
            pthread_mutex_unlock(&ws->mu);
            struct slad_error err;
            int r = store_wal_checkpoint(ws->wal, &err);
            pthread_mutex_lock(&ws->mu);
            if (r < 0) {
                ws->ckpt_err = err;
                ws->ckpt_failed = true;
                ev_async_send(ws->loop, &ws->async);
            }
            continue;
        }
        if (ws->quit)
            break;
        pthread_cond_wait(&ws->ckpt_wake, &ws->mu);
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

/* Report under the lock what the thread did; the callback runs unlocked. */
static void report(struct walsync *ws)
{
    pthread_mutex_lock(&ws->mu);
    uint64_t durable = ws->durable;
    int err = ws->err;
    struct slad_error msg = ws->err ? ws->err_msg : ws->ckpt_err;
    if (!err && ws->ckpt_failed) {
        ws->ckpt_failed = false;
        err = -1; /* not fatal: the next checkpoint may do */
    }
    pthread_mutex_unlock(&ws->mu);
    ws->done(ws->userdata, durable, err, msg.msg);
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    report(w->data);
}

struct walsync *walsync_new(struct ev_loop *loop, struct store_wal *wal, walsync_done_fn *done,
                            void *userdata)
{
    struct walsync *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->loop = loop;
    ws->wal = wal;
    ws->done = done;
    ws->userdata = userdata;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->wake, NULL);
    pthread_cond_init(&ws->ckpt_wake, NULL);
    pthread_cond_init(&ws->synced, NULL);
    ev_async_init(&ws->async, async_cb);
    ws->async.data = ws;
    ev_async_start(loop, &ws->async);
    ev_unref(loop); /* like the batch's prepare watcher: it alone keeps no loop running */
    if (pthread_create(&ws->thread, NULL, run, ws) != 0) {
        ev_ref(loop);
        ev_async_stop(loop, &ws->async);
        pthread_cond_destroy(&ws->synced);
        pthread_cond_destroy(&ws->ckpt_wake);
        pthread_cond_destroy(&ws->wake);
        pthread_mutex_destroy(&ws->mu);
        free(ws);
        return NULL;
    }
    if (pthread_create(&ws->ckpt_thread, NULL, run_checkpoints, ws) != 0) {
        walsync_free(ws);
        return NULL;
    }
    ws->ckpt_started = true;
    return ws;
}

void walsync_request(struct walsync *ws, uint64_t seq)
{
    pthread_mutex_lock(&ws->mu);
    if (seq > ws->requested)
        ws->requested = seq;
    pthread_cond_signal(&ws->wake);
    pthread_mutex_unlock(&ws->mu);
}

void walsync_checkpoint(struct walsync *ws)
{
    pthread_mutex_lock(&ws->mu);
    ws->checkpoint = true;
    pthread_cond_signal(&ws->ckpt_wake);
    pthread_mutex_unlock(&ws->mu);
}

void walsync_wait(struct walsync *ws, uint64_t seq)
{
    pthread_mutex_lock(&ws->mu);
    if (seq > ws->requested) {
        ws->requested = seq;
        pthread_cond_signal(&ws->wake);
    }
    while (ws->durable < seq && !ws->err)
        pthread_cond_wait(&ws->synced, &ws->mu);
    pthread_mutex_unlock(&ws->mu);
    report(ws);
}

void walsync_free(struct walsync *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    ws->quit = true;
    pthread_cond_signal(&ws->wake);
    pthread_cond_signal(&ws->ckpt_wake);
    pthread_mutex_unlock(&ws->mu);
    pthread_join(ws->thread, NULL);
    if (ws->ckpt_started)
        pthread_join(ws->ckpt_thread, NULL);
    ev_ref(ws->loop);
    ev_async_stop(ws->loop, &ws->async);
    pthread_cond_destroy(&ws->synced);
    pthread_cond_destroy(&ws->ckpt_wake);
    pthread_cond_destroy(&ws->wake);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}
