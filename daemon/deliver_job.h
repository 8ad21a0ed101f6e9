/* deliver_job.h - one attempt of one outbox row: from the row (its payload, its ticket,
 * its channel) to the request channel_build makes, and the file channel's write. Used by
 * deliver.c only. */
#ifndef SLAD_DELIVER_JOB_H
#define SLAD_DELIVER_JOB_H

#include <stdint.h>

#include "channel.h"
#include "conf.h"
#include "error.h"
#include "ratelimit.h"
#include "store.h"

struct service;

/* A row picked for delivery: copies of the row's fields (the store's strings do not live
 * past the query). */
struct deliver_row {
    int64_t id, ticket_id, next_attempt_ms;
    int64_t age_from_ms; /* max_age counts from here: queued, or retried by hand */
    int64_t group_id;    /* a grouped message names itself, a member its message; 0: none */
    int attempts;        /* including the one being made */
    char *channel, *event, *recipient, *key, *payload, *address;
};

int deliver_row_copy(struct deliver_row *r, const struct outbox_row *o);
void deliver_row_done(struct deliver_row *r);

/* Storm grouping on channel ch (group_window): when other rows wait for r's address, a
 * grouped message is queued in the loop's transaction with them and r as its members, and
 * *r becomes that message's row. 0 when r goes as it is or was replaced; -errno. */
int deliver_job_group(struct store *store, const struct conf_channel *ch, struct deliver_row *r,
                      int64_t now_ms, struct slad_error *reterr);

/* The request of row r on channel ch at now_ms: -errno when it cannot be built (the row
 * is dead, reterr says why). */
int deliver_job_build(struct service *svc, const struct conf *conf, const struct conf_channel *ch,
                      const struct deliver_row *r, int64_t now_ms, struct channel_request *ret,
                      struct slad_error *reterr);

/* Append the file channel's line: 0, or -errno with reterr. */
int deliver_job_append(const struct channel_request *req, struct slad_error *reterr);

struct batch;
struct metrics;

/* Write the outcome of row r (attempts included) in the loop's transaction: sent (at
 * now), pending again at next_ms, or dead with error; counts the attempt. 0, or -errno
 * with reterr: nothing is written, the row stays as it was (the caller tries again). */
int deliver_job_record(struct batch *batch, struct store *store, struct metrics *metrics,
                       const struct deliver_row *r, const char *channel, enum retry_outcome outcome,
                       int64_t next_ms, const char *error, int64_t now, struct slad_error *reterr);

/* A channel's delivery state: attempts in flight (concurrency) and its token bucket. */
struct deliver_chan {
    char *name;
    int in_flight;
    int reserved; /* slots promised to rows read in the current page (deliver.c) */
    struct ratelimit rl;
    int64_t rate_count, rate_window_ms; /* what rl was made for: a reload may change it */
};

/* The state of ch in v[0..*n) (added when new, while *n < max); NULL when full. */
struct deliver_chan *deliver_chan_get(struct deliver_chan *v, size_t *n, size_t max,
                                      const struct conf_channel *ch, int64_t now);

/* Random bits for retry_decide's jitter. */
uint64_t deliver_random64(void);

#endif
