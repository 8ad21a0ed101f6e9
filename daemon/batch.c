/* batch.c - one transaction per loop iteration, committed before the loop blocks (see
 * batch.h). */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>

#include "failpoint.h"
#include "log.h"
#include "store.h"

struct batch {
    struct ev_loop *loop;
    struct store *store;
    batch_after_fn *after;
    void *userdata;
    ev_prepare prepare;
    /* Keeps the loop from blocking while a transaction is open: a request that arrives
     * while the loop runs callbacks after the prepare watcher (the answers being sent)
     * must not wait for the next network event to be committed. */
    ev_idle idle;
    bool open, dirty;
    struct batch_waiter *head, **tail;
    unsigned long commits, failures;
    struct slad_error last_err;
};

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct batch *b = w->data;
    if (b->open)
        batch_commit(b);
}

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    /* Nothing to do here: being active made the loop poll without blocking, and the
     * prepare watcher of the next iteration commits. */
    ev_idle_stop(loop, w);
}

struct batch *batch_new(struct ev_loop *loop, struct store *store, batch_after_fn *after,
                        void *userdata)
{
    struct batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->loop = loop;
    b->store = store;
    b->after = after;
    b->userdata = userdata;
    b->tail = &b->head;
    ev_prepare_init(&b->prepare, prepare_cb);
    b->prepare.data = b;
    ev_prepare_start(loop, &b->prepare);
    /* Do not keep ev_run alive only for this watcher. */
    ev_unref(loop);
    ev_idle_init(&b->idle, idle_cb);
    return b;
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    if (b->open)
        batch_commit(b);
    ev_ref(b->loop);
    ev_prepare_stop(b->loop, &b->prepare);
    ev_idle_stop(b->loop, &b->idle);
    free(b);
}

int batch_begin(struct batch *b, struct slad_error *reterr)
{
    if (b->open)
        return 0;
    int r = store_begin(b->store, reterr);
    if (r < 0)
        return r;
    b->open = true;
    b->dirty = false;
    ev_idle_start(b->loop, &b->idle);
    return 0;
}

bool batch_is_open(const struct batch *b)
{
    return b->open;
}

void batch_mark_dirty(struct batch *b)
{
    b->dirty = true;
}

bool batch_is_dirty(const struct batch *b)
{
    return b->open && b->dirty;
}

void batch_wait(struct batch *b, struct batch_waiter *w)
{
    w->next = NULL;
    *b->tail = w;
    b->tail = &w->next;
}

const char *batch_last_error(const struct batch *b)
{
    return b->last_err.msg;
}

int batch_commit(struct batch *b)
{
    if (!b->open)
        return 0;
    struct slad_error err;
    /* The iteration's writes are all in the transaction, none durable: what escaped
     * before the commit (an answer, a delivery) would be lost with them. */
    if (b->dirty)
        FAILPOINT("mid-batch");
    int r = store_commit(b->store, &err);
    if (r < 0) {
        b->failures++;
        b->last_err = err;
        log_err("store", "commit failed, rolling back the batch: %s", err.msg);
        struct slad_error err2;
        if (store_in_transaction(b->store) && store_rollback(b->store, &err2) < 0)
            log_err("store", "rollback failed: %s", err2.msg);
    } else {
        b->commits++;
        b->last_err.msg[0] = '\0';
        if (b->head)
            FAILPOINT("after-commit-before-reply");
    }
    b->open = false;
    b->dirty = false;
    ev_idle_stop(b->loop, &b->idle);
    /* Detach the list first: a waiter's callback may start the next batch. */
    struct batch_waiter *w = b->head;
    b->head = NULL;
    b->tail = &b->head;
    while (w) {
        struct batch_waiter *next = w->next;
        w->done(w, r == 0);
        w = next;
    }
    if (b->after)
        b->after(b->userdata, r == 0);
    return r;
}
