/* deliver.c - delivery of the outbox on the daemon's loop (see deliver.h).
 *
 * Picking work: after every commit and when the wake timer fires, the due pending rows
 * (store_outbox_due, on the (state, next_attempt_ms) index) are read, and those whose
 * channel has a free slot (concurrency) and a token (rate limit) are marked `sending`
 * with one more attempt in the loop's transaction. A request starts only once that
 * change is committed (a batch waiter): a crash can then lose the outcome of a send,
 * never the fact that it may have happened, so the row is sent again with the same key.
 *
 * Reading only what can go: rows are copied (payloads included) only for a channel with a
 * free slot, and a pass stops as soon as every channel is at its concurrency. A backlog of
 * thousands of rows behind a busy channel used to be re-read, page after page, after every
 * commit of a few outcomes: 270 deliveries a second against a receiver that took 9,000.
 *
 * Refilling in the same commit: the slots that attempts free during a loop iteration are
 * filled by a pass just before that iteration's commit (an ev_prepare watcher ahead of the
 * batch's), so that the outcomes and the next `sending` marks share one commit. A pass after
 * the outcomes' commit used to write the marks in a commit of their own: two commits and
 * two more loop iterations per delivery.
 *
 * When next: one ev_timer at the earliest next_attempt_ms of a pending row (one MIN
 * query on the index), or at the next token of a rate-limited channel. This is simpler
 * than mirroring every row in the agenda, and it is right after a rollback by
 * construction: the store is the only truth, re-read after every commit.
 *
 * Outcomes that could not be recorded: a write that failed (the database locked past its
 * wait, full) or a commit rolled back would leave the row `sending` until the next start.
 * So a finished attempt's job lives on, without its request, until the commit holding
 * its outcome is durable; when that failed it goes to the unrecorded list, and the
 * rerecord timer writes the outcome again every ERROR_WAIT_MS, as decided at the end of
 * the attempt (the row is the daemon's own, nobody else changes a `sending` row).
 *
 * Transfers: deliver_xfer.c (libcurl's multi socket API on libev). */
#include "deliver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "channel.h"
#include "deliver_job.h"
#include "deliver_xfer.h"
#include "failpoint.h"
#include "log.h"
#include "metrics.h"
#include "retry.h"
#include "service.h"
#include "store.h"
#include "timers.h"

#define PICK_MAX      64  /* rows read per page */
#define PAGES_MAX     16  /* pages read per pass: the loop stays responsive */
#define IN_FLIGHT_MAX 512 /* attempts in flight in all */
#define CHANNELS_MAX  256
#define ERROR_WAIT_MS 1000 /* after a database failure */

struct job {
    struct job *next, *prev;
    struct deliver *d;
    struct batch_waiter waiter;
    struct deliver_row row;
    struct deliver_chan *cs;
    struct channel_request req;
    struct deliver_call *call; /* in flight, or NULL */
    /* The outcome, once the attempt is over: recorded (again) until its commit is durable. */
    struct retry_decision dec;
    int64_t done_ms;
    int record_failures;
};

struct deliver {
    struct ev_loop *loop;
    struct service *svc;
    struct store *store; /* the outbox's rows: the daemon reads and writes them itself */
    struct batch *batch;
    const struct conf *const *confp;
    struct metrics *metrics;
    struct deliver_xfer *xfer;
    ev_timer wake;
    int64_t wake_ms;   /* when wake fires, while it is active */
    ev_timer drain;    /* graceful stop: bounds the wait for attempts in flight */
    ev_prepare refill; /* before the batch's commit: fill the slots freed this iteration */
    bool freed;        /* an attempt finished in this iteration */
    struct job *jobs;  /* waiting for the commit or in flight */
    size_t n_jobs;
    struct job *unrecorded; /* outcomes to write again (singly linked on next) */
    size_t n_unrecorded;
    ev_timer rerecord;
    struct deliver_chan chans[CHANNELS_MAX];
    size_t n_chans;
    bool stopped, pumping;
    deliver_gate_fn *may_act; /* NULL: always (the scheduler lease, scheduler.h) */
    void *gate_userdata;
};

static void pump(struct deliver *d);

static bool gate_open(const struct deliver *d)
{
    return !d->may_act || d->may_act(d->gate_userdata);
}

static void job_unlink(struct deliver *d, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        d->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    d->n_jobs--;
}

static void job_free(struct job *j)
{
    if (j->call)
        deliver_call_cancel(j->call);
    channel_request_done(&j->req);
    deliver_row_done(&j->row);
    free(j);
}

static void rerecord_later(struct deliver *d, struct job *j, const char *why);

/* The commit holding j's outcome is durable (done), or was rolled back: write it again. */
static void on_recorded(struct batch_waiter *w, bool committed)
{
    struct job *j = (struct job *)((char *)w - offsetof(struct job, waiter));
    if (!committed) {
        rerecord_later(j->d, j, batch_last_error(j->d->batch));
        return;
    }
    if (j->record_failures > 0)
        log_notice("deliver",
                   "notification %" PRId64 " on '%s': its outcome (%s) is recorded after %d "
                   "failed attempt%s to write it",
                   j->row.id, j->row.channel, retry_outcome_name(j->dec.outcome),
                   j->record_failures, j->record_failures == 1 ? "" : "s");
    job_free(j);
}

/* Write the outcome of the finished attempt j in the loop's transaction and keep j until
 * that commit is durable; on failure, again later. */
static void record(struct deliver *d, struct job *j)
{
    if (!gate_open(d)) {
        /* No longer the scheduler: the outcome is not this instance's to write (the
         * database's fencing check would refuse it). The row stays `sending`; the
         * scheduler sends it again with the same key, which the receiver deduplicates. */
        log_notice("deliver",
                   "notification %" PRId64 " on '%s': its outcome is not recorded, this "
                   "instance is no longer the scheduler (the scheduler sends it again with the "
                   "same key)",
                   j->row.id, j->row.channel);
        job_free(j);
        return;
    }
    struct slad_error err;
    if (deliver_job_record(d->batch, d->store, d->metrics, &j->row, j->row.channel, j->dec.outcome,
                           j->dec.next_attempt_ms, j->dec.last_error, j->done_ms, &err) < 0) {
        rerecord_later(d, j, err.msg);
        return;
    }
    j->waiter.done = on_recorded;
    batch_wait(d->batch, &j->waiter);
}

/* j's outcome is not in the database (why): the rerecord timer writes it again. */
static void rerecord_later(struct deliver *d, struct job *j, const char *why)
{
    /* Told at the first failure and every 60th after (once a minute), not every second. */
    if (j->record_failures++ % 60 == 0)
        log_err("deliver",
                "could not record the outcome (%s) of notification %" PRId64 " on '%s': %s; "
                "it stays `sending` and slad writes it again every %d ms",
                retry_outcome_name(j->dec.outcome), j->row.id, j->row.channel, why, ERROR_WAIT_MS);
    j->next = d->unrecorded;
    d->unrecorded = j;
    d->n_unrecorded++;
    if (!ev_is_active(&d->rerecord) && !d->stopped) {
        ev_timer_set(&d->rerecord, ERROR_WAIT_MS / 1000.0, 0.);
        ev_timer_start(d->loop, &d->rerecord);
    }
}

static void on_rerecord(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    struct deliver *d = w->data;
    struct job *list = d->unrecorded;
    d->unrecorded = NULL;
    d->n_unrecorded = 0;
    while (list) {
        struct job *j = list;
        list = j->next;
        j->next = NULL;
        record(d, j);
    }
}

/* The outcomes still unrecorded are given up (a stop, or the rows re-queued as the lease
 * is gained): their rows stay `sending`, sent again with the same key after the next
 * start. */
static void drop_unrecorded(struct deliver *d)
{
    if (d->n_unrecorded > 0)
        log_notice("deliver",
                   "%zu notification outcome%s not recorded: sent again with the same key after "
                   "the next start",
                   d->n_unrecorded, d->n_unrecorded == 1 ? "" : "s");
    while (d->unrecorded) {
        struct job *j = d->unrecorded;
        d->unrecorded = j->next;
        job_free(j);
    }
    d->n_unrecorded = 0;
    ev_timer_stop(d->loop, &d->rerecord);
}

/* The attempt of j is over: free its slot, classify, decide, record. */
static void finish(struct job *j, const struct channel_response *resp)
{
    struct deliver *d = j->d;
    int64_t now = timers_now_ms(d->loop);
    if (j->cs)
        j->cs->in_flight--;
    j->cs = NULL;
    job_unlink(d, j);
    if (!gate_open(d)) {
        record(d, j); /* which says why it records nothing */
        return;
    }
    const struct conf_channel *ch = conf_find_channel(*d->confp, j->row.channel);
    struct retry_decision dec;
    if (!ch) {
        dec.outcome = RETRY_DEAD;
        snprintf(dec.last_error, sizeof(dec.last_error), "channel '%s' left the config",
                 j->row.channel);
    } else {
        struct channel_verdict v;
        channel_classify(ch, resp, now, &v);
        struct retry_policy pol;
        retry_policy_init(&pol, ch);
        retry_decide(&pol, v.outcome, v.retry_after_ms, v.reason, j->row.attempts,
                     j->row.age_from_ms, now, deliver_random64(), &dec);
    }
    if (dec.outcome != RETRY_SENT)
        log_info("deliver", "notification %" PRId64 " on '%s' attempt %d: %s (%s)", j->row.id,
                 j->row.channel, j->row.attempts, retry_outcome_name(dec.outcome), dec.last_error);
    channel_request_done(&j->req); /* sent: only the outcome is left to keep */
    j->dec = dec;
    j->done_ms = now;
    record(d, j);
}

/* The transfer of j ended. */
static void on_xfer_done(void *userdata, const struct channel_response *resp)
{
    struct job *j = userdata;
    struct deliver *d = j->d;
    j->call = NULL; /* freed by deliver_xfer after this returns */
    if (resp->status >= 200 && resp->status < 300)
        FAILPOINT("after-2xx-before-record");
    finish(j, resp);
    /* One pass for all the attempts that finish in this iteration, before its commit. */
    d->freed = true;
}

static int chan_concurrency(const struct conf_channel *ch);

/* The connections the transfers may keep open: one per slot of every channel (fdbudget
 * reserves their descriptors), at most the attempts in flight in all. */
static long max_connections(const struct conf *conf)
{
    long n = 0;
    for (size_t i = 0; i < conf->n_channels; i++)
        n += chan_concurrency(&conf->channels[i]);
    return n < IN_FLIGHT_MAX ? n : IN_FLIGHT_MAX;
}

/* Start j's attempt (its row is committed as `sending`); failures finish it at once. */
static void start(struct job *j)
{
    struct deliver *d = j->d;
    int64_t now = timers_now_ms(d->loop);
    const struct conf_channel *ch = conf_find_channel(*d->confp, j->row.channel);
    struct slad_error err = {{0}};
    int rv = ch ? deliver_job_build(d->svc, *d->confp, ch, &j->row, now, &j->req, &err)
                : slad_error_set(&err, ENOENT, "channel '%s' left the config", j->row.channel);
    struct channel_response resp = {.xfer = CHANNEL_XFER_PERMANENT, .error = err.msg};
    if (rv == 0 && j->req.transport == CHANNEL_TRANSPORT_FILE) {
        rv = deliver_job_append(&j->req, &err);
        resp.xfer = rv == 0 ? CHANNEL_XFER_OK : CHANNEL_XFER_NETWORK;
        resp.error = rv == 0 ? NULL : err.msg;
        finish(j, &resp);
        return;
    }
    if (rv == 0) {
        int64_t timeout = ch->timeout_ms > 0 ? ch->timeout_ms : 10000;
        deliver_xfer_max_connections(d->xfer, max_connections(*d->confp));
        if (deliver_xfer_start(d->xfer, &j->req, timeout, on_xfer_done, j, &j->call) == 0)
            return;
        resp.xfer = CHANNEL_XFER_NETWORK;
        resp.error = "out of memory starting a transfer";
    }
    finish(j, &resp);
}

/* The `sending` mark of j is committed (start) or rolled back (the row is still pending
 * in the store: forget the job, the next pass picks the row again). */
static void on_committed(struct batch_waiter *w, bool committed)
{
    struct job *j = (struct job *)((char *)w - offsetof(struct job, waiter));
    struct deliver *d = j->d;
    /* Stopping, or no longer the scheduler: no new request. The committed row stays
     * `sending` and goes back to pending at the next start or gain of the lease; it was
     * never sent, so that is no repeat. */
    if (committed && !d->stopped && gate_open(d)) {
        start(j);
        return;
    }
    if (j->cs)
        j->cs->in_flight--;
    job_unlink(d, j);
    job_free(j);
}

static int chan_concurrency(const struct conf_channel *ch)
{
    return ch->concurrency > 0 ? ch->concurrency : 4;
}

static struct deliver_chan *chan_find(struct deliver *d, const char *name)
{
    for (size_t i = 0; i < d->n_chans; i++)
        if (strcmp(d->chans[i].name, name) == 0)
            return &d->chans[i];
    return NULL;
}

/* A channel can start an attempt at now: a free slot and a token; else *next gets its
 * next token when that is what it lacks. */
static bool chan_open(struct deliver_chan *cs, const struct conf_channel *ch, int64_t now,
                      int64_t *next)
{
    if (cs->in_flight + cs->reserved >= chan_concurrency(ch))
        return false;
    int64_t wait = ratelimit_wait_ms(&cs->rl, now);
    if (wait > 0 && now + wait < *next)
        *next = now + wait;
    return wait == 0;
}

/* No attempt can start at now: every channel of the config is at its concurrency or out
 * of tokens (*next: the earliest token), or all attempts together are at their limit.
 * A finishing attempt pumps again, and the wake timer waits for the token. */
static bool saturated(struct deliver *d, int64_t now, int64_t *next)
{
    if (d->n_jobs >= IN_FLIGHT_MAX)
        return true;
    const struct conf *conf = *d->confp;
    bool full = true;
    for (size_t i = 0; i < conf->n_channels; i++) {
        struct deliver_chan *cs = chan_find(d, conf->channels[i].name);
        if (!cs || chan_open(cs, &conf->channels[i], now, next))
            full = false;
    }
    return full;
}

struct pick {
    struct deliver *d;
    int64_t now;
    size_t reserved;          /* rows copied for a free slot, over all channels */
    size_t seen;              /* rows read, copied or not */
    int64_t last_ms, last_id; /* the last row read: where the next page starts */
    int64_t next;             /* the next token of a channel that had none */
    struct deliver_row rows[PICK_MAX];
    size_t n;
};

/* Copy the row when its channel has a slot this page has not promised yet (or when the
 * channel is unknown: pick_page records it dead). */
static int pick_row(void *userdata, const struct outbox_row *o)
{
    struct pick *p = userdata;
    struct deliver *d = p->d;
    p->seen++;
    p->last_ms = o->next_attempt_ms;
    p->last_id = o->id;
    const struct conf_channel *ch = o->channel ? conf_find_channel(*d->confp, o->channel) : NULL;
    if (ch) {
        struct deliver_chan *cs = deliver_chan_get(d->chans, &d->n_chans, CHANNELS_MAX, ch, p->now);
        if (!cs || d->n_jobs + p->reserved >= IN_FLIGHT_MAX || !chan_open(cs, ch, p->now, &p->next))
            return 0;
        cs->reserved++;
        p->reserved++;
    }
    if (deliver_row_copy(&p->rows[p->n], o) == 0)
        p->n++;
    return 0;
}

static void wake_at(struct deliver *d, int64_t at_ms, int64_t now)
{
    ev_timer_stop(d->loop, &d->wake);
    if (at_ms == SLAD_NO_TIME || at_ms == INT64_MAX || d->stopped)
        return;
    double delay = at_ms > now ? (double)(at_ms - now) / 1000.0 : 0.;
    d->wake_ms = at_ms;
    ev_timer_set(&d->wake, delay, 0.);
    ev_timer_start(d->loop, &d->wake);
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The rows of p from index from on for the address of grouped message g are its members
 * now (the store says `sending`): not picked alone. */
static void skip_members(struct pick *p, size_t from, const struct deliver_row *g)
{
    for (size_t k = from; k < p->n; k++)
        if (p->rows[k].id && !p->rows[k].group_id && same_text(p->rows[k].channel, g->channel) &&
            same_text(p->rows[k].address, g->address))
            deliver_row_done(&p->rows[k]); /* id 0: skipped */
}

/* Mark the rows of page p that can go now `sending` (each starts once that is committed);
 * *next gets the next token of a rate-limited channel. Returns how many. */
static size_t pick_page(struct deliver *d, struct pick *p, int64_t now, int64_t *next, int *rv,
                        struct slad_error *err)
{
    struct store *st = d->store;
    size_t picked = 0;
    for (size_t i = 0; *rv == 0 && i < p->n; i++) {
        struct deliver_row *r = &p->rows[i];
        if (!r->id)
            continue;
        const struct conf_channel *ch =
            r->channel ? conf_find_channel(*d->confp, r->channel) : NULL;
        if (!ch) {
            r->attempts++;
            if (deliver_job_record(d->batch, st, d->metrics, r, r->channel, RETRY_DEAD,
                                   SLAD_NO_TIME, "the channel is not in the config", now, err) < 0)
                log_err("deliver",
                        "could not record notification %" PRId64 " as dead (its channel '%s' "
                        "is not in the config; the next pass tries again): %s",
                        r->id, r->channel ? r->channel : "", err->msg);
            continue;
        }
        struct deliver_chan *cs = deliver_chan_get(d->chans, &d->n_chans, CHANNELS_MAX, ch, now);
        if (!cs || d->n_jobs >= IN_FLIGHT_MAX || cs->in_flight >= chan_concurrency(ch))
            continue; /* a finishing attempt pumps again */
        if (!ratelimit_take(&cs->rl, now)) {
            int64_t at = now + ratelimit_wait_ms(&cs->rl, now);
            *next = at < *next ? at : *next;
            continue;
        }
        struct job *j = calloc(1, sizeof(*j));
        int64_t alone = r->id;
        if (!j || batch_begin(d->batch, err) < 0 || deliver_job_group(st, ch, r, now, err) < 0) {
            free(j);
            *rv = -EIO;
            break;
        }
        if (r->id != alone) /* grouped: the rows of this page that joined go with it */
            skip_members(p, i + 1, r);
        struct outbox_row o = {.id = r->id,
                               .channel = r->channel,
                               .state = OUTBOX_SENDING,
                               .attempts = r->attempts + 1,
                               .next_attempt_ms = r->next_attempt_ms,
                               .sent_ms = SLAD_NO_TIME};
        if (store_outbox_update(st, &o, err) < 0) {
            free(j);
            *rv = -EIO;
            break;
        }
        batch_mark_fenced(d->batch);
        j->d = d;
        j->row = *r;
        j->row.attempts++;
        memset(r, 0, sizeof(*r)); /* moved */
        j->cs = cs;
        cs->in_flight++;
        j->waiter.done = on_committed;
        j->next = d->jobs;
        if (d->jobs)
            d->jobs->prev = j;
        d->jobs = j;
        d->n_jobs++;
        batch_wait(d->batch, &j->waiter);
        picked++;
    }
    return picked;
}

/* Mark what can go now `sending`, and arm the wake timer for what cannot. */
static void pump(struct deliver *d)
{
    if (d->stopped || d->pumping)
        return;
    if (!gate_open(d)) {
        ev_timer_stop(d->loop, &d->wake); /* the gain of the lease starts it again */
        return;
    }
    int64_t now = timers_now_ms(d->loop), token = INT64_MAX;
    /* A finishing attempt pumps again; the timer waits for the next token, else it stays
     * armed for what no finishing attempt would find. */
    if (saturated(d, now, &token)) {
        if (token != INT64_MAX && (!ev_is_active(&d->wake) || token < d->wake_ms))
            wake_at(d, token, now);
        return;
    }
    d->pumping = true;
    struct store *st = d->store;
    struct slad_error err;
    struct pick *p = calloc(1, sizeof(*p));
    int rv = p ? 0 : slad_error_set(&err, ENOMEM, "out of memory");
    int64_t next = INT64_MAX, after_ms = INT64_MIN, after_id = 0;
    size_t pages = 0, picked = 0;
    bool more = true, full = false;
    /* Page on: rows a busy or rate-limited channel cannot take now must not hide the
     * rows of other channels behind them; stop when no channel can take more. */
    while (rv == 0 && more && !full && pages++ < PAGES_MAX) {
        *p = (struct pick){.d = d, .now = now, .next = INT64_MAX};
        rv = store_outbox_due(st, now, after_ms, after_id, PICK_MAX, pick_row, p, &err);
        for (size_t i = 0; i < d->n_chans; i++)
            d->chans[i].reserved = 0;
        if (rv < 0)
            break;
        more = p->seen == PICK_MAX;
        after_ms = p->last_ms;
        after_id = p->last_id;
        picked += pick_page(d, p, now, &next, &rv, &err);
        next = p->next < next ? p->next : next;
        for (size_t i = 0; i < p->n; i++)
            deliver_row_done(&p->rows[i]);
        full = saturated(d, now, &next);
    }
    free(p);
    if (full) {
        /* A finishing attempt pumps again; only a rate limit's next token needs the timer,
         * and rows not due yet are found by the pass after that. */
    } else if (rv < 0) {
        log_err("deliver", "could not pick notifications (retry in %d ms): %s", ERROR_WAIT_MS,
                err.msg);
        next = now + ERROR_WAIT_MS;
    } else if (more) {
        /* More due than PAGES_MAX pages: go on next iteration if this pass got somewhere,
         * else look again a little later rather than spin. */
        int64_t at = picked ? now : now + RETRY_MIN_MS;
        next = at < next ? at : next;
    } else {
        int64_t due;
        if (store_outbox_next_due(st, &due, &err) == 0 && due != SLAD_NO_TIME && due > now &&
            due < next)
            next = due;
    }
    wake_at(d, next, now);
    d->pumping = false;
}

static void on_refill(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop, (void)revents;
    struct deliver *d = w->data;
    if (d->freed) {
        d->freed = false;
        pump(d);
    }
}

static void on_wake(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    pump(w->data);
}

void deliver_kick(struct deliver *d)
{
    if (d)
        pump(d);
}

/* The drain's time is up: abandon the attempts still in flight. Jobs waiting for a
 * commit belong to the batch's waiter list and leave at that commit (on_committed). */
static void on_drain_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    struct deliver *d = w->data;
    size_t n = 0;
    for (struct job *j = d->jobs, *next; j; j = next) {
        next = j->next;
        if (!j->call)
            continue;
        if (j->cs)
            j->cs->in_flight--;
        job_unlink(d, j);
        job_free(j);
        n++;
    }
    if (n > 0)
        log_notice("deliver",
                   "%zu notification%s still in flight after %d ms: abandoned, sent again "
                   "with the same key after the next start",
                   n, n == 1 ? "" : "s", DELIVER_DRAIN_MS);
}

void deliver_stop(struct deliver *d)
{
    if (!d || d->stopped)
        return;
    d->stopped = true;
    ev_timer_stop(d->loop, &d->wake);
    ev_timer_stop(d->loop, &d->rerecord); /* the outcomes of the drain are written once */
    if (d->n_jobs > 0) {
        log_notice("deliver", "waiting up to %d ms for %zu notification%s in flight",
                   DELIVER_DRAIN_MS, d->n_jobs, d->n_jobs == 1 ? "" : "s");
        ev_timer_set(&d->drain, DELIVER_DRAIN_MS / 1000.0, 0.);
        ev_timer_start(d->loop, &d->drain);
    }
}

size_t deliver_in_flight(const struct deliver *d)
{
    return d ? d->n_jobs : 0;
}

struct deliver *deliver_new(struct ev_loop *loop, struct service *svc, struct store *store,
                            struct batch *batch, const struct conf *const *confp,
                            struct metrics *metrics)
{
    struct deliver *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->loop = loop;
    d->svc = svc;
    d->store = store;
    d->batch = batch;
    d->confp = confp;
    d->metrics = metrics;
    d->xfer = deliver_xfer_new(loop);
    if (!d->xfer) {
        free(d);
        return NULL;
    }
    ev_timer_init(&d->wake, on_wake, 0., 0.);
    d->wake.data = d;
    ev_timer_init(&d->drain, on_drain_timeout, 0., 0.);
    d->drain.data = d;
    ev_timer_init(&d->rerecord, on_rerecord, 0., 0.);
    d->rerecord.data = d;
    /* Ahead of the batch's prepare watcher (priority 0), which commits; it does not keep
     * ev_run alive by itself. */
    ev_prepare_init(&d->refill, on_refill);
    d->refill.data = d;
    ev_set_priority(&d->refill, EV_MAXPRI);
    ev_prepare_start(loop, &d->refill);
    ev_unref(loop);
    return d;
}

int deliver_start(struct deliver *d)
{
    struct slad_error err;
    size_t n = 0;
    drop_unrecorded(d); /* their rows are re-queued here */
    int rv = batch_begin(d->batch, &err);
    if (rv == 0)
        rv = store_outbox_requeue_sending(d->store, timers_now_ms(d->loop), &n, &err);
    if (rv < 0) {
        log_err("deliver", "could not re-queue interrupted notifications: %s", err.msg);
        return rv;
    }
    if (n > 0) {
        batch_mark_fenced(d->batch);
        log_notice("deliver",
                   "%zu notification%s interrupted (by a stop, or a scheduler that lost its "
                   "lease) will be sent again with the same key",
                   n, n == 1 ? "" : "s");
    }
    /* Picking waits for the first commit (the after hook calls deliver_kick). */
    wake_at(d, timers_now_ms(d->loop), timers_now_ms(d->loop));
    return 0;
}

void deliver_set_gate(struct deliver *d, deliver_gate_fn *may_act, void *userdata)
{
    d->may_act = may_act;
    d->gate_userdata = userdata;
}

void deliver_free(struct deliver *d)
{
    if (!d)
        return;
    /* Jobs waiting for a commit are owned by the batch's waiter list: the caller commits
     * (batch_free) before this. What is left is in flight: abandoned, re-sent later. */
    while (d->jobs) {
        struct job *j = d->jobs;
        job_unlink(d, j);
        job_free(j);
    }
    drop_unrecorded(d);
    ev_timer_stop(d->loop, &d->wake);
    ev_timer_stop(d->loop, &d->drain);
    ev_ref(d->loop);
    ev_prepare_stop(d->loop, &d->refill);
    deliver_xfer_free(d->xfer);
    for (size_t i = 0; i < d->n_chans; i++)
        free(d->chans[i].name);
    free(d);
}
