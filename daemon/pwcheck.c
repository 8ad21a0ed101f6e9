/* pwcheck.c - crypt(3) on a worker thread (see pwcheck.h). The worker only reads the
 * job's password and hash and writes its result; the callback and its data belong to
 * the loop's thread, which alone calls, cancels and frees. */
#include "pwcheck.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jobqueue.h"
#include "log.h"

struct pwcheck_job {
    struct jobqueue_link link; /* in queued, then in finished */
    char *password, *hash;
    bool match;
    pwcheck_done_fn *done; /* NULL once cancelled */
    void *userdata;
};

struct pwcheck {
    struct ev_loop *loop;
    ev_async async;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct jobqueue queued, finished;
    unsigned in_flight, queue_max; /* in_flight: submitted and not yet called back */
    bool stop;
    bool started; /* the worker runs (the loop's) */
};

static void job_free(struct pwcheck_job *job)
{
    if (job->password) {
        OPENSSL_cleanse(job->password, strlen(job->password));
        free(job->password);
    }
    free(job->hash);
    free(job);
}

/* Whether password hashes to hash: crypt_rn writes "*0" or "*1" (never equal to a hash
 * slad accepts) when the hash is unusable. */
static bool verify(const char *password, const char *hash)
{
    struct crypt_data *data = calloc(1, sizeof(*data));
    if (!data)
        return false;
    bool match = false;
    const char *out = crypt_rn(password, hash, data, (int)sizeof(*data));
    size_t n = strlen(hash);
    if (out && out[0] != '*' && strlen(out) == n)
        match = CRYPTO_memcmp(out, hash, n) == 0;
    OPENSSL_cleanse(data, sizeof(*data));
    free(data);
    return match;
}

static void *worker(void *arg)
{
    struct pwcheck *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (jobqueue_empty(&p->queued) && !p->stop)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop)
            break;
        struct pwcheck_job *job = JOBQUEUE_JOB(jobqueue_pop(&p->queued), struct pwcheck_job, link);
        pthread_mutex_unlock(&p->lock);
        job->match = verify(job->password, job->hash);
        pthread_mutex_lock(&p->lock);
        jobqueue_push(&p->finished, &job->link);
        ev_async_send(p->loop, &p->async);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct pwcheck *p = w->data;
    pthread_mutex_lock(&p->lock);
    struct jobqueue_link *list = jobqueue_take_all(&p->finished);
    pthread_mutex_unlock(&p->lock);
    while (list) { /* in submission order: one worker finishes them in turn */
        struct pwcheck_job *job = JOBQUEUE_JOB(list, struct pwcheck_job, link);
        list = list->next;
        p->in_flight--;
        if (job->done)
            job->done(job->userdata, job->match);
        job_free(job);
    }
}

struct pwcheck *pwcheck_new(struct ev_loop *loop, unsigned queue_max)
{
    struct pwcheck *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->loop = loop;
    p->queue_max = queue_max;
    jobqueue_init(&p->queued);
    jobqueue_init(&p->finished);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    ev_async_init(&p->async, async_cb);
    p->async.data = p;
    ev_async_start(loop, &p->async);
    ev_unref(loop); /* the watcher alone does not keep the loop running */
    return p;
}

/* The worker starts with the first check: a daemon nobody signs in to never starts it,
 * and its start and stop do not wait for it. */
static bool worker_started(struct pwcheck *p)
{
    if (!p->started && pthread_create(&p->thread, NULL, worker, p) != 0)
        log_err("console", "cannot start the password-checking thread (the system's limit on "
                           "threads or memory): this sign-in fails, the next one tries again");
    else
        p->started = true;
    return p->started;
}

static void free_all(struct jobqueue *q)
{
    for (struct jobqueue_link *l; (l = jobqueue_pop(q));)
        job_free(JOBQUEUE_JOB(l, struct pwcheck_job, link));
}

void pwcheck_free(struct pwcheck *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (p->started)
        pthread_join(p->thread, NULL);
    free_all(&p->queued);
    free_all(&p->finished);
    ev_ref(p->loop);
    ev_async_stop(p->loop, &p->async);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

struct pwcheck_job *pwcheck_submit(struct pwcheck *p, const char *password, const char *hash,
                                   pwcheck_done_fn *done, void *userdata, bool *ret_busy)
{
    *ret_busy = p->in_flight >= p->queue_max;
    if (*ret_busy || !worker_started(p))
        return NULL;
    struct pwcheck_job *job = calloc(1, sizeof(*job));
    if (!job)
        return NULL;
    job->password = strdup(password);
    job->hash = strdup(hash);
    if (!job->password || !job->hash) {
        job_free(job);
        return NULL;
    }
    job->done = done;
    job->userdata = userdata;
    p->in_flight++;
    pthread_mutex_lock(&p->lock);
    jobqueue_push(&p->queued, &job->link);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return job;
}

void pwcheck_cancel(struct pwcheck_job *job)
{
    if (job)
        job->done = NULL;
}
