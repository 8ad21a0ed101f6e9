/* batch.c - one transaction per loop iteration, committed before the loop blocks, made
 * durable on the commit thread (see batch.h, walsync.h), or on PostgreSQL sent without
 * waiting and answered on the connection's socket (store_commit_async). */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "failpoint.h"
#include "log.h"
#include "store.h"
#include "store_wal.h"
#include "walsync.h"

/* A passive checkpoint is asked for when the WAL holds this many frames (pages) more
 * than at the last one: SQLite's own wal_autocheckpoint default (past 4,000 frames the
 * checkpoint also restarts the log: store_wal.c). */
#define BATCH_CHECKPOINT_FRAMES 1000

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
    bool fenced; /* the open transaction holds scheduler writes: fence before COMMIT */
    batch_fence_fn *fence;
    void *fence_userdata;
    struct batch_waiter *head, **tail;
    /* The commit thread, when the database is a file: wal and ws; sync_on_thread when
     * commits wait for its fdatasync (synchronous = full). */
    struct store_wal *wal;
    struct walsync *ws;
    bool sync_on_thread;
    /* Commits are numbered; those after durable are in the WAL but not yet on disk, and
     * the waiters of pending (in commit order) wait for them. */
    uint64_t committed, durable;
    struct batch_waiter *pending, **pending_tail;
    /* PostgreSQL: commits are sent without waiting; io watches the connection's socket for
     * their outcomes. An outcome is recorded as it is read (possibly inside a store call of
     * the next batch, which must not be re-entered): its waiters move to ready, and they
     * and the after hook run from a loop callback (io, prepare), in commit order. */
    bool async;
    ev_io io;
    uint64_t answered; /* commits whose outcome was read */
    struct batch_waiter *ready, **ready_tail;
    bool after_due, after_failed;
    int64_t checkpoint_at; /* WAL frames that ask for the next checkpoint */
    double progress_s;     /* ev_now of the last sync progress, or of the first commit after none */
    unsigned long commits, failures;
    struct slad_error last_err;
};

static void deliver(struct batch *b);
static void watch(struct batch *b, bool fresh);

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct batch *b = w->data;
    if (b->async)
        deliver(b); /* outcomes a read of this iteration found */
    if (b->open)
        batch_commit(b);
    if (b->async) {
        deliver(b);
        watch(b, false);
    }
}

static void idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    /* Nothing to do here: being active made the loop poll without blocking, and the
     * prepare watcher of the next iteration commits. */
    ev_idle_stop(loop, w);
}

/* Call the waiters of list, in order; each with its own outcome. */
static void release(struct batch_waiter *w)
{
    while (w) {
        struct batch_waiter *next = w->next;
        w->done(w, w->committed);
        w = next;
    }
}

/* The commit thread says: commits up to durable are on disk. */
static void on_durable(void *userdata, uint64_t durable, int err, const char *msg)
{
    struct batch *b = userdata;
    if (err > 0) {
        /* After a failed fdatasync the kernel may have dropped the pages it could not
         * write and reports the error once: a later sync would succeed over lost data.
         * Nothing waiting was answered; dying now makes the restart recover from what is
         * really on disk (as after kill -9), and clients retry (intake is idempotent). */
        log_err("store",
                "%s; the last changes may not be on disk, so slad stops without answering "
                "them; restart it (systemd does) and the database recovers to what is on disk",
                msg);
        _exit(EXIT_FAILURE);
    }
    if (err < 0)
        log_warning("store", "WAL checkpoint failed (the next one will retry): %s", msg);
    if (durable <= b->durable)
        return;
    b->durable = durable;
    b->progress_s = ev_now(b->loop);
    /* Detach first: a waiter's callback may commit or wait again. */
    struct batch_waiter *list = NULL, **list_tail = &list;
    while (b->pending && b->pending->seq <= durable) {
        struct batch_waiter *w = b->pending;
        b->pending = w->next;
        w->next = NULL;
        *list_tail = w;
        list_tail = &w->next;
    }
    if (!b->pending)
        b->pending_tail = &b->pending;
    release(list);
    if (b->after)
        b->after(b->userdata, true);
}

/* PostgreSQL: the outcome of commit number ++answered, read by the driver. Only recorded
 * here (see struct batch); deliver releases it. */
static void on_outcome(void *arg, int rc, const struct slad_error *err)
{
    struct batch *b = arg;
    uint64_t seq = ++b->answered;
    if (rc < 0) {
        b->failures++;
        b->last_err = *err;
        b->after_failed = true;
        log_err("store", "commit failed, the batch is rolled back: %s", err->msg);
    }
    b->durable = seq;
    b->progress_s = ev_now(b->loop);
    while (b->pending && b->pending->seq <= seq) {
        struct batch_waiter *w = b->pending;
        b->pending = w->next;
        w->next = NULL;
        if (rc < 0 && w->seq == seq) {
            w->committed = false; /* (a rolled-back batch's own stay false) */
            w->refused = rc == -EAGAIN;
        } else if (w->committed)
            FAILPOINT("after-commit-before-reply");
        *b->ready_tail = w;
        b->ready_tail = &w->next;
    }
    if (!b->pending)
        b->pending_tail = &b->pending;
    b->after_due = true;
}

/* Run the recorded outcomes' waiters and the after hook, from a loop callback. */
static void deliver(struct batch *b)
{
    while (b->after_due) {
        struct batch_waiter *list = b->ready;
        bool failed = b->after_failed;
        b->ready = NULL;
        b->ready_tail = &b->ready;
        b->after_due = b->after_failed = false;
        release(list);
        if (b->after)
            b->after(b->userdata, !failed);
    }
}

/* Watch the connection's socket while outcomes are awaited. fresh: after a commit was
 * sent, the socket may be a new one under the same number (a reconnection since the last
 * commit), which libev only learns from ev_io_set. */
static void watch(struct batch *b, bool fresh)
{
    int fd = store_async_socket(b->store);
    int wants = store_async_wants(b->store);
    int events =
        (wants & STORE_WANT_READ ? EV_READ : 0) | (wants & STORE_WANT_WRITE ? EV_WRITE : 0);
    if (fd < 0 || events == 0) {
        ev_io_stop(b->loop, &b->io);
        return;
    }
    if (!fresh && ev_is_active(&b->io) && b->io.fd == fd &&
        (b->io.events & (EV_READ | EV_WRITE)) == events)
        return;
    ev_io_stop(b->loop, &b->io);
    ev_io_set(&b->io, fd, events);
    ev_io_start(b->loop, &b->io);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct batch *b = w->data;
    store_async_pump(b->store);
    deliver(b);
    watch(b, false);
}

/* A write waited for the checkpoint as long as it may and fails (store_wal.c). */
static void on_checkpoint_stall(void *userdata, const char *msg)
{
    (void)userdata;
    log_err("store", "%s", msg);
}

/* The commit thread for the database's WAL; without it (an in-memory database, no thread)
 * SQLite syncs and checkpoints in the COMMIT on the loop, as store_open set it. */
static void start_thread(struct batch *b, bool sync_full)
{
    struct slad_error err;
    int r = store_wal_open(b->store, sync_full, &b->wal, &err);
    if (r < 0) {
        if (r != -ENOTSUP)
            log_warning("store", "commits stay on the loop: %s", err.msg);
        b->wal = NULL;
        return;
    }
    b->ws = walsync_new(b->loop, b->wal, on_durable, b);
    if (!b->ws) {
        log_warning("store", "commits stay on the loop: cannot start the commit thread");
        store_wal_close(b->wal);
        b->wal = NULL;
        return;
    }
    store_wal_set_stall_fn(b->wal, on_checkpoint_stall, b);
    b->sync_on_thread = sync_full;
    b->checkpoint_at = BATCH_CHECKPOINT_FRAMES;
}

struct batch *batch_new(struct ev_loop *loop, struct store *store, bool sync_full,
                        batch_after_fn *after, void *userdata)
{
    struct batch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->loop = loop;
    b->store = store;
    b->after = after;
    b->userdata = userdata;
    b->tail = &b->head;
    b->pending_tail = &b->pending;
    ev_prepare_init(&b->prepare, prepare_cb);
    b->prepare.data = b;
    ev_prepare_start(loop, &b->prepare);
    /* Do not keep ev_run alive only for this watcher. */
    ev_unref(loop);
    ev_idle_init(&b->idle, idle_cb);
    b->ready_tail = &b->ready;
    ev_io_init(&b->io, io_cb, -1, EV_READ);
    b->io.data = b;
    b->async = store_commits_async(b->store);
    if (!b->async)
        start_thread(b, sync_full);
    return b;
}

void batch_flush(struct batch *b)
{
    if (b->open)
        batch_commit(b);
    if (b->ws && b->durable < b->committed)
        walsync_wait(b->ws, b->committed); /* calls on_durable */
    if (b->async) {
        store_async_wait(b->store); /* calls on_outcome */
        deliver(b);
        watch(b, false);
    }
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    batch_flush(b);
    walsync_free(b->ws);
    /* How often the WAL had to be restarted under steady writes, and what it cost the loop
     * (store_wal.c): for the operator who wonders about a slow answer. */
    if (b->wal && store_wal_restarts(b->wal) > 0)
        log_info("store", "the WAL was restarted %lu times; the loop waited at most %.1f ms for it",
                 store_wal_restarts(b->wal), store_wal_loop_wait_max_us(b->wal) / 1000.0);
    store_wal_close(b->wal);
    ev_ref(b->loop);
    ev_prepare_stop(b->loop, &b->prepare);
    ev_idle_stop(b->loop, &b->idle);
    ev_io_stop(b->loop, &b->io);
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
    b->fenced = false;
    ev_idle_start(b->loop, &b->idle);
    return 0;
}

bool batch_is_open(const struct batch *b)
{
    return b->open;
}

bool batch_is_idle(const struct batch *b)
{
    return !b->open && b->durable == b->committed;
}

void batch_mark_dirty(struct batch *b)
{
    b->dirty = true;
}

void batch_set_fence(struct batch *b, batch_fence_fn *fence, void *userdata)
{
    b->fence = fence;
    b->fence_userdata = userdata;
}

void batch_mark_fenced(struct batch *b)
{
    b->dirty = true;
    b->fenced = true;
}

bool batch_sync_stalled(const struct batch *b, double limit_s)
{
    return b->durable < b->committed && ev_now(b->loop) - b->progress_s > limit_s;
}

bool batch_is_dirty(const struct batch *b)
{
    return (b->open && b->dirty) || b->durable < b->committed;
}

void batch_wait(struct batch *b, struct batch_waiter *w)
{
    w->next = NULL;
    if (b->open) {
        *b->tail = w;
        b->tail = &w->next;
        return;
    }
    /* Reading what a commit in flight wrote: answer once that commit is on disk. */
    w->seq = b->committed;
    w->committed = true;
    *b->pending_tail = w;
    b->pending_tail = &w->next;
}

bool batch_wait_durable(struct batch *b, struct batch_waiter *w)
{
    if (b->durable == b->committed)
        return false;
    w->next = NULL;
    w->seq = b->committed;
    w->committed = true;
    *b->pending_tail = w;
    b->pending_tail = &w->next;
    return true;
}

const char *batch_last_error(const struct batch *b)
{
    return b->last_err.msg;
}

/* Ask for a passive checkpoint each time the WAL grew by BATCH_CHECKPOINT_FRAMES (its
 * frame count falls back when the loop's writer restarts the log after one). */
static void maybe_checkpoint(struct batch *b)
{
    int64_t frames = store_wal_frames(b->wal);
    if (frames < b->checkpoint_at - BATCH_CHECKPOINT_FRAMES)
        b->checkpoint_at = BATCH_CHECKPOINT_FRAMES;
    if (frames >= b->checkpoint_at) {
        walsync_checkpoint(b->ws);
        b->checkpoint_at = frames + BATCH_CHECKPOINT_FRAMES;
    }
}

/* The COMMIT is on its way (PostgreSQL): the batch's waiters wait for its outcome
 * (on_outcome), as for the commit thread's fdatasync; the loop goes on meanwhile. */
static int commit_sent(struct batch *b)
{
    b->commits++;
    b->open = false;
    b->dirty = false;
    b->fenced = false;
    ev_idle_stop(b->loop, &b->idle);
    if (b->durable == b->committed)
        b->progress_s = ev_now(b->loop);
    uint64_t seq = ++b->committed;
    for (struct batch_waiter *i = b->head; i; i = i->next) {
        i->seq = seq;
        i->committed = true;
        i->refused = false;
    }
    if (b->head) {
        *b->pending_tail = b->head;
        b->pending_tail = b->tail;
    }
    b->head = NULL;
    b->tail = &b->head;
    watch(b, true);
    return 0;
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
    /* The check last, in the transaction: on PostgreSQL it locks the lease row until the
     * COMMIT, so a take-over waits for this transaction to end, then supersedes it. */
    int r = b->fenced && b->fence ? b->fence(b->fence_userdata, &err) : 0;
    if (r == 0 && b->async) {
        r = store_commit_async(b->store, on_outcome, b, &err);
        if (r == 0)
            return commit_sent(b);
    } else if (r == 0) {
        r = store_commit(b->store, &err);
    }
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
    bool wrote = b->dirty;
    b->open = false;
    b->dirty = false;
    b->fenced = false;
    ev_idle_stop(b->loop, &b->idle);
    /* Detach the list first: a waiter's callback may start the next batch. */
    struct batch_waiter *w = b->head;
    b->head = NULL;
    b->tail = &b->head;
    for (struct batch_waiter *i = w; i; i = i->next) {
        i->committed = r == 0;
        i->refused = r == -EAGAIN;
    }
    if (b->ws)
        maybe_checkpoint(b);
    if (r == 0 && b->sync_on_thread && (wrote || w)) {
        /* In the WAL, not yet on disk: the waiters and the after hook (timers, deliveries,
         * answers) wait for the thread's fdatasync; the loop goes on meanwhile. (A batch
         * that wrote nothing and holds no one, a timer or the pump finding nothing due,
         * needs no sync.) */
        if (b->durable == b->committed)
            b->progress_s = ev_now(b->loop);
        uint64_t seq = ++b->committed;
        for (struct batch_waiter *i = w; i; i = i->next)
            i->seq = seq;
        if (w) {
            *b->pending_tail = w;
            while (*b->pending_tail)
                b->pending_tail = &(*b->pending_tail)->next;
        }
        walsync_request(b->ws, seq);
        return 0;
    }
    if (r < 0 && b->durable < b->committed && w) {
        /* Rolled back behind commits not yet durable: a read answered again now could
         * show their data, so these answers leave after them too. */
        for (struct batch_waiter *i = w; i; i = i->next)
            i->seq = b->committed;
        *b->pending_tail = w;
        while (*b->pending_tail)
            b->pending_tail = &(*b->pending_tail)->next;
        w = NULL;
    }
    release(w);
    if (b->after)
        b->after(b->userdata, r == 0);
    return r;
}
