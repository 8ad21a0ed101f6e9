/* loop.c - start, run and stop the daemon (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agenda.h"
#include "api.h"
#include "batch.h"
#include "console.h"
#include "dbtarget.h"
#include "deliver.h"
#include "http.h"
#include "intake_keys.h"
#include "log.h"
#include "metrics.h"
#include "reader.h"
#include "reconnect.h"
#include "recur.h"
#include "reload.h"
#include "retention.h"
#include "scheduler.h"
#include "sdnotify.h"
#include "service.h"
#include "slad.h"
#include "store.h"
#include "timers.h"
#include "trail.h"
#include "token.h"

/* Reader threads for long reads (reader.h): two, so that a report and a CSV export run
 * side by side; with the loop that is three threads for the two cores slad is sized for,
 * and the loop, mostly asleep, is favoured by the scheduler when it wakes. At most this
 * many reads wait or run; the next gets 503 with Retry-After. */
#define LOOP_READERS      2
#define LOOP_READS_QUEUED 8

/* STATUS= is refreshed this often (and at start and reload). */
#define LOOP_STATUS_INTERVAL_S 30.0

/* The clock of the service's time budgets (a plan's rrule): the CPU time of the loop's
 * thread, so that a budget counts the work the loop does and a busy machine, which makes
 * the loop wait, does not make a rule look costly. */
static int64_t work_clock_ns(void *userdata)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const struct budget_clock work_clock = {work_clock_ns, NULL};

/* Clear the agenda and read it again from the store: after a rollback, entries the
 * failed batch scheduled or removed no longer match the database. */
static void rebuild_agenda(struct slad *s)
{
    struct agenda_entry e;
    while (agenda_peek(s->agenda, &e))
        agenda_remove(s->agenda, e.kind, e.id);
    struct slad_error err;
    if (service_load_agenda(s->svc, &err) < 0)
        log_err("timers", "could not reload the agenda after a rollback: %s", err.msg);
    else
        log_notice("timers", "agenda reloaded from the database: %zu entries",
                   agenda_size(s->agenda));
}

/* How far ahead the scheduler reads what falls due from the database, every renewal: more
 * than the renewal period, so that an instant is in the agenda before it comes. */
#define LOOP_DUE_AHEAD_MS (2 * LEASE_RENEW_EVERY_MS)

static bool may_act(void *userdata)
{
    return scheduler_may_act(userdata);
}

/* The scheduler lease (scheduler.h) changed hands or was renewed. */
static void on_role(void *userdata, enum lease_event ev)
{
    struct slad *s = userdata;
    if (ev == LEASE_EVENT_LOST) {
        /* Stop at once: nothing fires or is picked from now on. Attempts in flight end
         * without recording (deliver.c); the new scheduler sends them again. */
        timers_stop(s->timers);
        deliver_kick(s->deliver);
        return;
    }
    if (s->stopping)
        return;
    if (ev == LEASE_EVENT_GAINED) {
        /* A standby's agenda only knows its own writes: read it whole, as at a start
         * (what fell due while no one held the lease fires now, once, marked late). */
        if (!s->agenda_fresh)
            rebuild_agenda(s);
        /* `sending` rows: again, with their unchanged keys. */
        deliver_start(s->deliver);
        /* On PostgreSQL a standby left the purge to the scheduler. */
        retention_kick(s->retention);
    } else if (ev == LEASE_EVENT_RENEWED) {
        /* What other instances wrote: due soon, and the outbox's new rows. */
        struct slad_error err;
        if (service_agenda_due(s->svc, timers_now_ms(s->loop) + LOOP_DUE_AHEAD_MS, &err) < 0)
            log_err("timers", "could not read what falls due (next try in a second): %s", err.msg);
        deliver_kick(s->deliver);
    }
    timers_rearm(s->timers);
}

/* The database's connection is back: the scheduler's agenda, cleared by the rollback of
 * the batch the loss failed and not read again while it lasted, is read now (a lease kept
 * through a short loss is not gained again, which would read it). */
static void on_reconnected(void *userdata)
{
    struct slad *s = userdata;
    if (s->stopping)
        return;
    if (s->scheduler && scheduler_lease(s->scheduler)->role == LEASE_SCHEDULER)
        rebuild_agenda(s);
    timers_rearm(s->timers);
    deliver_kick(s->deliver);
}

static void after_commit(void *userdata, bool committed)
{
    struct slad *s = userdata;
    if (!committed && s->scheduler && scheduler_lease(s->scheduler)->role == LEASE_SCHEDULER)
        rebuild_agenda(s); /* (a standby's is read whole at its next gain) */
    if (!s->stopping)
        timers_rearm(s->timers);
    deliver_kick(s->deliver); /* new rows may be due, or a `sending` mark committed */
    /* The console's streams hear of the tickets changed since the last call. With the
     * commit thread this hook runs when a commit is durable, and the list may already hold
     * changes of the batch after it, or of one rolled back: all are published, never
     * dropped. An event only tells a reader to read the ticket again, and that read waits
     * until what it would show is durable (batch_is_dirty), so an early or void event
     * costs one read and shows nothing that is not on disk. */
    size_t n;
    bool overflow;
    const struct service_change *changes = service_changes(s->svc, &n, &overflow);
    http_publish(s->http, changes, n, overflow);
    service_changes_clear(s->svc);
    http_after_commit(s->http);
}

/* The watchdog's check beside the loop's own liveness: the commit thread's fdatasync, or
 * PostgreSQL's answer to a COMMIT, has not hung (a commit waiting longer than the
 * watchdog's period). */
static bool watchdog_healthy(void *userdata, double interval_s)
{
    struct slad *s = userdata;
    if (!batch_sync_stalled(s->batch, interval_s))
        return true;
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_ERR, "store",
                "a commit has waited over %.0f s to be durable (the WAL's fdatasync, or the "
                "PostgreSQL server's answer: the disk or the server hangs?); the watchdog is "
                "no longer fed",
                interval_s);
    return false;
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct slad *s = w->data;
    char status[256];
    slad_status(s, status, sizeof(status));
    sdnotify_status(status);
}

static void stop_status_timer(struct slad *s)
{
    if (ev_is_active(&s->status_timer)) {
        ev_ref(s->loop); /* undo the ev_unref of start() */
        ev_timer_stop(s->loop, &s->status_timer);
    }
}

static void sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct slad *s = w->data;
    if (s->stopping)
        return;
    log_notice("reload", "SIGHUP: reading '%s'", s->conf_path);
    char errbuf[256];
    reload_run(s, errbuf, sizeof(errbuf));
}

/* Stop once nothing is in flight (requests, deliveries) and the last batch is durable. */
static void stop_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct slad *s = w->data;
    if (http_in_flight(s->http) == 0 && deliver_in_flight(s->deliver) == 0 &&
        batch_is_idle(s->batch))
        ev_break(loop, EVBREAK_ALL);
}

static void stop_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct slad *s = w->data;
    log_warning("slad", "%u request(s) still unanswered after %.0f s; stopping anyway",
                http_in_flight(s->http), LOOP_STOP_DEADLINE_S);
    ev_break(loop, EVBREAK_ALL);
}

static void sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct slad *s = w->data;
    if (s->stopping)
        return;
    s->stopping = true;
    log_notice("slad", "%s: stopping (%u request(s) in flight)",
               w->signum == SIGINT ? "SIGINT" : "SIGTERM", http_in_flight(s->http));
    sdnotify_stopping();
    http_quiesce(s->http);
    timers_stop(s->timers);
    deliver_stop(s->deliver);
    retention_stop(s->retention);
    /* The lease is still renewed while the attempts in flight drain: their outcomes are
     * scheduler writes, which the fencing check would refuse once it ran out. */
    stop_status_timer(s);
    ev_timer_init(&s->stop_poll, stop_poll_cb, 0., 0.01);
    s->stop_poll.data = s;
    ev_timer_again(loop, &s->stop_poll);
    ev_timer_init(&s->stop_deadline, stop_deadline_cb, LOOP_STOP_DEADLINE_S, 0.);
    s->stop_deadline.data = s;
    ev_timer_start(loop, &s->stop_deadline);
}

static void start_signals(struct slad *s)
{
    /* A client that closes early must not kill the daemon with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    ev_signal_init(&s->sighup, sighup_cb, SIGHUP);
    ev_signal_init(&s->sigterm, sigterm_cb, SIGTERM);
    ev_signal_init(&s->sigint, sigterm_cb, SIGINT);
    s->sighup.data = s->sigterm.data = s->sigint.data = s;
    ev_signal_start(s->loop, &s->sighup);
    ev_signal_start(s->loop, &s->sigterm);
    ev_signal_start(s->loop, &s->sigint);
}

/* The reader threads (reader.h), or NULL: reports then run on the loop, as before. The
 * environment variable SLAD_READS_ON_LOOP=1 keeps them there (the benchmark's baseline). */
static struct reader *start_reader(struct slad *s)
{
    const char *on_loop = getenv("SLAD_READS_ON_LOOP");
    if (on_loop && on_loop[0] && strcmp(on_loop, "0") != 0) {
        log_notice("store", "SLAD_READS_ON_LOOP is set: reports run on the event loop");
        return NULL;
    }
    struct reader *reader = NULL;
    struct slad_error err;
    int r = reader_new(s->loop, s->store, LOOP_READERS, LOOP_READS_QUEUED, &reader, &err);
    if (r == -ENOTSUP)
        log_debug("store", "reports run on the event loop: %s", err.msg);
    else if (r < 0)
        log_warning("store", "reports run on the event loop: %s", err.msg);
    return r < 0 ? NULL : reader;
}

/* Everything up to READY=1; 0 or -errno, with the reason logged. */
static int start(struct slad *s)
{
    const struct conf_daemon *d = &s->conf->daemon;
    struct slad_error err;
    int r = store_open(d->database, d->synchronous_full, &s->store, &err);
    if (r < 0) {
        /* A PostgreSQL target is not echoed: it may hold a password. */
        log_err("store", "cannot open the database '%s': %s",
                dbtarget_is_postgres(d->database) ? "(the PostgreSQL database)" : d->database,
                err.msg);
        return r;
    }
    s->agenda = agenda_new();
    s->metrics = metrics_new();
    if (!s->agenda || !s->metrics) {
        log_err("slad", "out of memory");
        return -ENOMEM;
    }
    r = service_new(s->conf, s->store, s->agenda, s->metrics, &s->svc, &err);
    if (r == 0) {
        service_set_observer(s->svc, trail_effect, s->loop);
        service_set_clock(s->svc, &work_clock);
        recur_warm_up();
        r = service_load_agenda(s->svc, &err);
        s->agenda_fresh = r == 0;
    }
    if (r < 0) {
        log_err("service", "cannot start: %s", err.msg);
        return r;
    }
    s->batch = batch_new(s->loop, s->store, d->synchronous_full, after_commit, s);
    s->scheduler = s->batch ? scheduler_new(s->loop, s->store, s->batch, s->metrics,
                                            s->conf->daemon.failover_timeout_ms,
                                            /* renews: */ dbtarget_is_postgres(d->database))
                            : NULL;
    s->reader = start_reader(s);
    if (dbtarget_is_postgres(d->database) &&
        !(s->reconnect = reconnect_new(s->loop, s->store, on_reconnected, s))) {
        log_err("slad", "out of memory");
        return -ENOMEM;
    }
    struct api_hooks hooks = {.reload = reload_run,
                              .userdata = s,
                              .lease = s->scheduler ? scheduler_lease(s->scheduler) : NULL,
                              .offload_reads = s->reader != NULL};
    s->api = api_new(s->svc, s->metrics, &hooks);
    s->timers = timers_new(s->loop, s->svc, s->agenda, s->batch);
    s->deliver = deliver_new(s->loop, s->svc, s->store, s->batch,
                             (const struct conf *const *)&s->conf, s->metrics);
    s->retention = retention_new(s->loop, s->store, s->batch, (const struct conf *const *)&s->conf);
    if (!s->api || !s->batch || !s->scheduler || !s->timers || !s->deliver || !s->retention) {
        log_err("slad", "out of memory");
        return -ENOMEM;
    }
    /* Only the scheduler fires and delivers; the gain of the lease starts both. */
    timers_set_gate(s->timers, may_act, s->scheduler);
    deliver_set_gate(s->deliver, may_act, s->scheduler);
    /* On PostgreSQL the scheduler purges too (SQLite's one process always does). */
    if (dbtarget_is_postgres(d->database))
        retention_set_gate(s->retention, may_act, s->scheduler);
    scheduler_on_role(s->scheduler, on_role, s);
    struct token *tok = NULL;
    struct intake_keys *keys = NULL;
    if (d->tcp && ((r = token_load(d->token_file, &tok, &err)) < 0 ||
                   (r = intake_keys_load(s->conf, &keys, &err)) < 0)) {
        token_free(tok);
        log_err("http", "%s", err.msg);
        return r;
    }
    r = listeners_open(&s->listeners, d, &err);
    if (r < 0) {
        token_free(tok);
        intake_keys_free(keys);
        log_err("listen", "%s", err.msg);
        return r;
    }
    s->console = console_new(s->loop, s->svc, s->batch);
    if (!s->console) {
        token_free(tok);
        intake_keys_free(keys);
        log_err("console", "cannot start the console's sign-in: out of memory or threads");
        return -ENOMEM;
    }
    r = http_new(s->loop, s->api, s->batch, s->metrics, s->conf, &s->listeners, tok, keys,
                 s->console, &s->http, &err);
    if (r < 0) {
        log_err("http", "%s", err.msg);
        return r;
    }
    http_set_reader(s->http, s->reader);
    r = scheduler_start(s->scheduler, &err);
    if (r < 0) {
        log_err("scheduler", "cannot set up the scheduler lease: %s", err.msg);
        return r;
    }
    s->agenda_fresh = false; /* only a gain at the start finds it loaded */
    timers_rearm(s->timers); /* (deliver_start: at the gain of the lease, on_role) */
    retention_kick(s->retention);
    start_signals(s);
    ev_timer_init(&s->status_timer, status_cb, LOOP_STATUS_INTERVAL_S, LOOP_STATUS_INTERVAL_S);
    s->status_timer.data = s;
    ev_timer_start(s->loop, &s->status_timer);
    ev_unref(s->loop); /* the status timer alone does not keep the loop running */
    return 0;
}

static void stop(struct slad *s)
{
    deliver_stop(s->deliver); /* no new attempt from the last commits' hooks */
    /* The readers answer what they hold (their answers may wait for the last commit),
     * before the batch's flush and the HTTP servers' stop. */
    http_set_reader(s->http, NULL);
    reader_free(s->reader);
    s->reader = NULL;
    if (s->batch)
        batch_flush(s->batch); /* its waiters and hook run before what they use is freed */
    /* The last scheduler writes are committed: hand the lease over at once (PostgreSQL),
     * before the HTTP servers its commit's hook reaches are freed. */
    if (s->batch && s->scheduler)
        scheduler_release(s->scheduler);
    /* Stop the HTTP servers first: no callback may reach what is freed below. */
    http_free(s->http);
    s->http = NULL;
    console_free(s->console); /* no request waits for a password check any more */
    s->console = NULL;
    if (s->loop) {
        ev_signal_stop(s->loop, &s->sighup);
        ev_signal_stop(s->loop, &s->sigterm);
        ev_signal_stop(s->loop, &s->sigint);
        stop_status_timer(s);
        ev_timer_stop(s->loop, &s->stop_poll);
        ev_timer_stop(s->loop, &s->stop_deadline);
        sdnotify_watchdog_stop(s->loop);
    }
    timers_free(s->timers);
    deliver_free(s->deliver); /* after the last commit: no job waits for one */
    retention_free(s->retention);
    batch_free(s->batch);
    api_free(s->api);
    scheduler_free(s->scheduler); /* after the API, which reads its lease */
    service_free(s->svc);
    reconnect_free(s->reconnect);
    store_close(s->store);
    metrics_free(s->metrics);
    agenda_free(s->agenda);
    listeners_close(&s->listeners);
}

int loop_run(const char *conf_path, struct conf *conf)
{
    struct slad s = {.conf_path = conf_path, .conf = conf};
    s.listeners.unix_fd = s.listeners.tcp_fd = -1;
    log_set_level(conf->daemon.log_level);
    double t0 = ev_time();
    log_notice("slad", "starting version %s with '%s'", SLAD_VERSION, conf_path);
    s.loop = ev_default_loop(EVFLAG_AUTO);
    if (!s.loop) {
        log_err("slad", "cannot start the event loop");
        conf_free(conf);
        return 1;
    }
    int r = start(&s);
    if (r < 0) {
        sdnotify_status("failed to start; see the log");
        stop(&s);
        conf_free(s.conf);
        return 1;
    }
    unsigned long long wd_usec = sdnotify_watchdog_start(s.loop, watchdog_healthy, &s);
    char status[256];
    slad_status(&s, status, sizeof(status));
    sdnotify_ready(status);
    log_notice("slad", "ready in %.0f ms: %s; listening on '%s'%s%s%s%s", (ev_time() - t0) * 1e3,
               status, s.listeners.unix_path ? s.listeners.unix_path : "the socket from systemd",
               s.listeners.tcp_name[0] ? " and tcp '" : "", s.listeners.tcp_name,
               s.listeners.tcp_name[0] ? "'" : "", wd_usec ? "; watchdog on" : "");
    ev_run(s.loop, 0);
    stop(&s);
    conf_free(s.conf);
    ev_loop_destroy(s.loop);
    log_notice("slad", "stopped");
    return 0;
}
