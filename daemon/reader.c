/* reader.c - reader threads for long reads (see reader.h). Each thread owns one read-only
 * connection (store_reader.h) and takes jobs from one queue under one mutex; a finished job
 * goes on the finished list and an ev_async wakes the loop, which calls back in the order
 * the jobs finished. The threads touch only the job's read and answer and their own
 * connection; the callback, its data and cancelling belong to the loop's thread. */
#include "reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "failpoint.h"
#include "jobqueue.h"
#include "log.h"
#include "store.h"
#include "store_reader.h"

#define READER_THREADS_MAX 4

/* The readers run this much nicer than the loop (19: the lowest priority a nice value
 * gives): a report is seconds of CPU with no deadline, a step or /healthz a few ms with
 * one, and on a busy machine the loop must win the core when it wakes. Measured
 * (doc/PERFORMANCE.md "Long reads off the loop"): without it /healthz waited up to 136 ms
 * behind two readers (10k tickets); at 10 its median was 1.4-6.8x the quiet median of the
 * same run, at 19 1.1-1.2x (100k). A reader still has the second core whenever the loop
 * leaves it. */
#define READER_NICE 19

struct reader_job {
    struct jobqueue_link link; /* in queued, then in finished */
    struct api_read *rd;
    struct api_response resp; /* the answer, written by the thread that ran it */
    reader_done_fn *done;     /* NULL once cancelled */
    void *userdata;
    /* The read could not start (the thread does not log: log.c is the loop's). */
    bool failed;
    struct slad_error err;
};

struct reader;

struct reader_thread {
    struct reader *r;
    pthread_t thread;
    struct store *conn;
    bool started;
    bool running; /* a job's statements run on conn (guarded by mu) */
};

struct reader {
    struct ev_loop *loop;
    ev_async async;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    /* Guarded by mu: jobs waiting for a thread (queued), answers waiting for the loop
     * (finished). */
    struct jobqueue queued, finished;
    bool quit;
    /* The loop's. */
    unsigned in_flight, queue_max; /* submitted and not yet called back */
    unsigned n_threads;            /* connections opened */
    unsigned n_started;            /* threads started, the first n_started of threads[] */
    struct reader_thread threads[READER_THREADS_MAX];
};

static const char err_stopping[] =
    "{\"error\":{\"code\":\"shutting_down\",\"message\":\"slad is stopping; try again when "
    "it is back\"}}";

/* The answer of a read that did not run, or was cut short, because slad stops. */
static void answer_stopping(struct api_response *resp)
{
    api_response_done(resp);
    *resp = (struct api_response){.status = 503, .content_type = "application/json"};
    resp->body = strdup(err_stopping);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

/* One read in one snapshot (store_read_begin: the report's two statements see the same
 * commits). */
static void run_job(struct reader_thread *t, struct reader_job *job)
{
    FAILPOINT_HOLD("reader-run");
    if (store_read_begin(t->conn, &job->err) < 0) {
        job->failed = true;
        job->resp = (struct api_response){0};
    } else {
        api_read_run(job->rd, t->conn, &job->resp);
    }
    store_read_end(t->conn);
}

/* On Linux the nice value belongs to each thread (sched(7)): this lowers the calling
 * reader only. Failing is harmless (the reader then shares the CPU evenly). */
static void be_nicer(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno == 0)
        (void)setpriority(PRIO_PROCESS, (id_t)tid, nice_now + READER_NICE);
}

static void *run(void *arg)
{
    struct reader_thread *t = arg;
    struct reader *r = t->r;
    be_nicer();
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (jobqueue_empty(&r->queued) && !r->quit)
            pthread_cond_wait(&r->wake, &r->mu);
        if (r->quit)
            break;
        struct reader_job *job = JOBQUEUE_JOB(jobqueue_pop(&r->queued), struct reader_job, link);
        t->running = true;
        pthread_mutex_unlock(&r->mu);
        run_job(t, job);
        pthread_mutex_lock(&r->mu);
        t->running = false;
        /* Cut short by reader_free's interrupt: the answer says slad stops, not that the
         * database failed. */
        if (r->quit)
            answer_stopping(&job->resp);
        jobqueue_push(&r->finished, &job->link);
        ev_async_send(r->loop, &r->async);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void job_free(struct reader_job *job)
{
    api_read_free(job->rd);
    api_response_done(&job->resp);
    free(job);
}

/* Call back (on the loop) every job of list, in order. */
static void call_back(struct reader *r, struct jobqueue_link *list)
{
    while (list) {
        struct reader_job *job = JOBQUEUE_JOB(list, struct reader_job, link);
        list = list->next;
        r->in_flight--;
        if (job->failed)
            log_err("store", "a reader cannot start a read: %s", job->err.msg);
        if (!job->resp.status && !job->resp.body) {
            /* Out of memory on the thread, or no read transaction: like the loop's. */
            job->resp.status = 503;
            job->resp.content_type = "application/json";
            job->resp.body = strdup("{\"error\":{\"code\":\"database_unavailable\",\"message\":"
                                    "\"the report could not be read; try again\"}}");
            job->resp.body_len = job->resp.body ? strlen(job->resp.body) : 0;
        }
        if (job->done)
            job->done(job->userdata, &job->resp);
        job_free(job);
    }
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct reader *r = w->data;
    pthread_mutex_lock(&r->mu);
    struct jobqueue_link *list = jobqueue_take_all(&r->finished);
    pthread_mutex_unlock(&r->mu);
    call_back(r, list);
}

int reader_new(struct ev_loop *loop, struct store *store, unsigned threads, unsigned queue_max,
               struct reader **ret, struct slad_error *reterr)
{
    if (threads == 0 || threads > READER_THREADS_MAX || queue_max < threads)
        return slad_error_set(reterr, EINVAL, "readers: %u threads, %u queued: out of range",
                              threads, queue_max);
    struct reader *r = calloc(1, sizeof(*r));
    if (!r)
        return slad_error_set(reterr, ENOMEM, "readers: out of memory");
    r->loop = loop;
    r->queue_max = queue_max;
    jobqueue_init(&r->queued);
    jobqueue_init(&r->finished);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->wake, NULL);
    ev_async_init(&r->async, async_cb);
    r->async.data = r;
    ev_async_start(loop, &r->async);
    ev_unref(loop); /* the watcher alone does not keep the loop running */
    int e = 0;
    for (unsigned i = 0; i < threads && e == 0; i++) {
        struct reader_thread *t = &r->threads[i];
        t->r = r;
        e = store_open_reader(store, &t->conn, reterr);
        if (e == 0)
            r->n_threads++;
    }
    if (e < 0) {
        reader_free(r);
        return e;
    }
    *ret = r;
    return 0;
}

void reader_free(struct reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    struct jobqueue_link *waiting = jobqueue_take_all(&r->queued);
    /* A running statement stops at its next step; the thread then answers "stopping". */
    for (unsigned i = 0; i < r->n_threads; i++)
        if (r->threads[i].running)
            store_reader_interrupt(r->threads[i].conn);
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->mu);
    for (struct jobqueue_link *l = waiting; l; l = l->next)
        answer_stopping(&JOBQUEUE_JOB(l, struct reader_job, link)->resp);
    call_back(r, waiting);
    for (unsigned i = 0; i < r->n_threads; i++)
        if (r->threads[i].started)
            pthread_join(r->threads[i].thread, NULL);
    call_back(r, jobqueue_take_all(&r->finished)); /* the threads are gone: no lock needed */
    for (unsigned i = 0; i < r->n_threads; i++)
        store_close(r->threads[i].conn);
    ev_ref(r->loop);
    ev_async_stop(r->loop, &r->async);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The threads start as reads need them: one more when every started one may be busy. A
 * daemon that runs no report starts none, and its stop joins none: a reader runs at nice
 * 19, and on a busy machine joining one held the stop until it got a core (PERFORMANCE.md,
 * "No test slower than before"). False when no thread runs and none could start. */
static bool enough_threads(struct reader *r)
{
    if (r->in_flight < r->n_started || r->n_started == r->n_threads)
        return true;
    struct reader_thread *t = &r->threads[r->n_started];
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        log_err("store",
                "cannot start a reader thread (%u running): the system's limit on "
                "threads or memory; reports wait for the running ones",
                r->n_started);
        return r->n_started > 0;
    }
    t->started = true;
    r->n_started++;
    return true;
}

struct reader_job *reader_submit(struct reader *r, struct api_read *rd, reader_done_fn *done,
                                 void *userdata, bool *ret_busy)
{
    *ret_busy = r->in_flight >= r->queue_max;
    struct reader_job *job = *ret_busy || !enough_threads(r) ? NULL : calloc(1, sizeof(*job));
    if (!job) {
        api_read_free(rd);
        return NULL;
    }
    job->rd = rd;
    job->done = done;
    job->userdata = userdata;
    r->in_flight++;
    pthread_mutex_lock(&r->mu);
    jobqueue_push(&r->queued, &job->link);
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    return job;
}

void reader_cancel(struct reader_job *job)
{
    if (job)
        job->done = NULL;
}

unsigned reader_in_flight(const struct reader *r)
{
    return r ? r->in_flight : 0;
}
