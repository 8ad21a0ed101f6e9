/* deliver_job.c - one attempt's request (see deliver_job.h): the row's payload (payload.h)
 * tells the step, contact, address and the clock as it was when the row was queued; the
 * ticket is read as it is now; render.c writes the words and channel.c the request. */
#include "deliver_job.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "batch.h"
#include "group.h"
#include "log.h"
#include "metrics.h"
#include "payload.h"
#include "render.h"
#include "service.h"
#include "slaclock.h"
#include "ticket.h"

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int deliver_row_copy(struct deliver_row *r, const struct outbox_row *o)
{
    memset(r, 0, sizeof(*r));
    r->id = o->id;
    r->ticket_id = o->ticket_id;
    /* A manual retry gives the row a whole new age budget (max_age). */
    r->age_from_ms = o->retried_ms != SLAD_NO_TIME ? o->retried_ms : o->created_ms;
    r->next_attempt_ms = o->next_attempt_ms;
    r->attempts = o->attempts;
    r->channel = dup_or_null(o->channel);
    r->event = dup_or_null(o->event);
    r->recipient = dup_or_null(o->recipient);
    r->key = dup_or_null(o->idempotency_key);
    r->payload = dup_or_null(o->payload);
    r->address = dup_or_null(o->address);
    r->group_id = o->group_id;
    if ((o->channel && !r->channel) || (o->event && !r->event) || (o->recipient && !r->recipient) ||
        (o->idempotency_key && !r->key) || (o->payload && !r->payload) ||
        (o->address && !r->address)) {
        deliver_row_done(r);
        return -ENOMEM;
    }
    return 0;
}

void deliver_row_done(struct deliver_row *r)
{
    free(r->channel);
    free(r->event);
    free(r->recipient);
    free(r->key);
    free(r->payload);
    free(r->address);
    memset(r, 0, sizeof(*r));
}

/* The ticket the message speaks of: as it is now, or, for a plan's task (no ticket), the
 * plan's pseudo ticket the payload carries (taken from it). */
static int ticket_of(struct service *svc, const struct deliver_row *r, struct payload *p,
                     struct ticket *t, struct slad_error *reterr)
{
    if (r->ticket_id)
        return service_ticket_get(svc, r->ticket_id, t, reterr);
    if (!p->has_ticket)
        return slad_error_set(reterr, EINVAL, "notification %lld names no ticket",
                              (long long)r->id);
    *t = p->ticket;
    ticket_init(&p->ticket);
    p->has_ticket = false;
    return 0;
}

/* channel_build with a fresh nonce. */
static int build_request(const struct conf_channel *ch, const struct notification *n,
                         int64_t now_ms, struct channel_request *ret, struct slad_error *reterr)
{
    uint8_t nonce[CHANNEL_NONCE_BYTES];
    if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        return slad_error_set(reterr, EIO, "no random bytes for the request");
    return channel_build(ch, n, now_ms, nonce, ret, reterr);
}

/* A grouped message's members, as group_text shows them: the first GROUP_SHOWN with their
 * tickets (as they are now), and how many in all. */
struct group_members {
    struct service *svc;
    int64_t group_id;
    struct group_item items[GROUP_SHOWN];
    struct ticket tickets[GROUP_SHOWN];
    char *events[GROUP_SHOWN];
    char *links[GROUP_SHOWN]; /* each member's console link (its payload's), or NULL */
    size_t n, total;
    int err;
};

static int add_group_member(void *userdata, const struct outbox_row *o)
{
    struct group_members *m = userdata;
    if (o->id == m->group_id)
        return 0;
    if (m->n < GROUP_SHOWN) {
        struct ticket *t = &m->tickets[m->n];
        struct slad_error err;
        /* A member whose ticket is gone (retention) still counts, without a title. */
        if (o->ticket_id && service_ticket_get(m->svc, o->ticket_id, t, &err) == -ENOMEM)
            return m->err = -ENOMEM;
        m->events[m->n] = dup_or_null(o->event);
        struct payload p;
        if (payload_decode(o->payload, 0, &p, &err) == 0) {
            m->links[m->n] = p.link; /* taken */
            p.link = NULL;
            payload_done(&p);
        }
        m->items[m->n] = (struct group_item){.ticket_id = o->ticket_id,
                                             .event = m->events[m->n],
                                             .title = t->title,
                                             .link = m->links[m->n]};
        m->n++;
    }
    m->total++;
    return 0;
}

/* The request of grouped message r: its members' words in the first member's
 * notification (a vendor needs a ticket; the webhook's body carries it). */
static int build_group(struct service *svc, const struct conf *conf, const struct conf_channel *ch,
                       const struct deliver_row *r, int64_t now_ms, struct channel_request *ret,
                       struct slad_error *reterr)
{
    struct group_members *m = calloc(1, sizeof(*m));
    if (!m)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    m->svc = svc;
    m->group_id = r->id;
    for (size_t i = 0; i < GROUP_SHOWN; i++)
        ticket_init(&m->tickets[i]);
    struct outbox_filter f = {.state = -1, .due_ms = SLAD_NO_TIME, .group_id = r->id};
    int rv = service_notification_list(svc, &f, add_group_member, m, reterr);
    if (rv == 0 && m->err)
        rv = slad_error_set(reterr, -m->err, "out of memory");
    if (rv == 0 && m->n == 0)
        rv =
            slad_error_set(reterr, ENOENT, "grouped message %lld has no members", (long long)r->id);
    char *text = NULL, *subject = NULL;
    if (rv == 0) {
        const char *lang = conf->daemon.language ? conf->daemon.language : "zh";
        rv = group_text(m->items, m->n, m->total, lang, channel_text_escape(ch, r->address), &text,
                        &subject, reterr);
    }
    if (rv == 0) {
        struct notification n = {
            .conf = conf,
            .event = r->event,
            .idempotency_key = r->key,
            .ticket = &m->tickets[0],
            .recipient = r->recipient,
            .to = r->address,
            .text = text,
            .subject = subject,
        };
        rv = build_request(ch, &n, now_ms, ret, reterr);
    }
    free(text);
    free(subject);
    for (size_t i = 0; i < GROUP_SHOWN; i++) {
        ticket_done(&m->tickets[i]);
        free(m->events[i]);
        free(m->links[i]);
    }
    free(m);
    return rv;
}

int deliver_job_build(struct service *svc, const struct conf *conf, const struct conf_channel *ch,
                      const struct deliver_row *r, int64_t now_ms, struct channel_request *ret,
                      struct slad_error *reterr)
{
    if (r->group_id == r->id)
        return build_group(svc, conf, ch, r, now_ms, ret, reterr);
    struct payload p;
    int rv = payload_decode(r->payload, now_ms, &p, reterr);
    if (rv == -EBADMSG)
        return slad_error_set(reterr, EINVAL, "notification %lld has a malformed payload",
                              (long long)r->id);
    if (rv < 0)
        return rv;
    struct ticket t;
    ticket_init(&t);
    rv = ticket_of(svc, r, &p, &t, reterr);
    if (rv < 0) {
        payload_done(&p);
        ticket_done(&t);
        return rv;
    }
    const struct conf_policy *pol = t.policy ? conf_find_policy(conf, t.policy) : NULL;
    struct notification n = {
        .conf = conf,
        .event = r->event,
        .idempotency_key = r->key,
        .ticket = &t,
        .clock = p.has_clock ? &p.clock : NULL,
        .calendar = pol ? pol->calendar : NULL,
        .step = p.step,
        .repeat = p.repeat,
        .recipient = r->recipient,
        .contact = p.contact,
        .to = p.address,
        .followup_name = p.followup,
        /* {{followup.due_at}} is the instant the task must be done by: its deadline. */
        .followup_due_at_ms = p.followup ? p.followup_deadline_ms : SLAD_NO_TIME,
        .link = p.link,
    };
    char *text = NULL, *subject = NULL;
    rv = render_message(&n, NULL, now_ms, channel_text_escape(ch, n.to), &text, &subject, reterr);
    if (rv == 0) {
        n.text = text;
        n.subject = subject;
        rv = build_request(ch, &n, now_ms, ret, reterr);
    }
    free(text);
    free(subject);
    ticket_done(&t);
    payload_done(&p);
    return rv;
}

/* The most members one message carries (the rest form the next); its key's room. */
#define GROUP_MAX     1000
#define GROUP_KEY_MAX 320

int deliver_job_group(struct store *store, const struct conf_channel *ch, struct deliver_row *r,
                      int64_t now_ms, struct slad_error *reterr)
{
    if (ch->group_window_ms <= 0 || r->group_id)
        return 0;
    /* Unique: a row leads one group at most, as it stays in it. */
    char key[GROUP_KEY_MAX];
    int n = snprintf(key, sizeof(key), "group/%s/%lld", ch->name, (long long)r->id);
    if (n < 0 || (size_t)n >= sizeof(key))
        return slad_error_set(reterr, EINVAL, "the channel name '%s' is too long", ch->name);
    struct outbox_row g = {
        .event = OUTBOX_GROUP_EVENT,
        .channel = ch->name,
        .recipient = r->recipient,
        .idempotency_key = key,
        .state = OUTBOX_PENDING,
        .next_attempt_ms = now_ms,
        .created_ms = now_ms,
        .sent_ms = SLAD_NO_TIME,
        .address = r->address,
    };
    /* Every row waiting for the address joins, also those whose window is still open. */
    int64_t id = 0;
    size_t members = 0;
    int rv = store_outbox_group(store, &g, now_ms + ch->group_window_ms, GROUP_MAX, &id, &members,
                                reterr);
    if (rv < 0 || id == 0)
        return rv;
    struct deliver_row grouped;
    g.id = g.group_id = id;
    if (deliver_row_copy(&grouped, &g) < 0)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    deliver_row_done(r);
    *r = grouped;
    log_info("deliver", "%zu notifications to one address on '%s' go as one message, %lld", members,
             ch->name, (long long)id);
    return 0;
}

int deliver_job_append(const struct channel_request *req, struct slad_error *reterr)
{
    /* One write of a small line with O_APPEND: lines of concurrent writers do not mix. */
    int fd = open(req->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return slad_error_set(reterr, errno, "cannot open '%s': %s", req->path, strerror(errno));
    ssize_t n = write(fd, req->body, req->body_len);
    int e = n < 0 ? errno : (size_t)n != req->body_len ? EIO : 0;
    if (close(fd) < 0 && !e)
        e = errno;
    if (e)
        return slad_error_set(reterr, e, "cannot append to '%s': %s", req->path, strerror(e));
    return 0;
}

uint64_t deliver_random64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint64_t)rand();
    return v;
}

/* Write the outcome of row r in the loop's transaction. */
int deliver_job_record(struct batch *batch, struct store *store, struct metrics *metrics,
                       const struct deliver_row *r, const char *channel, enum retry_outcome outcome,
                       int64_t next_ms, const char *error, int64_t now, struct slad_error *reterr)
{
    struct outbox_row o = {
        .id = r->id,
        .channel = channel,
        .attempts = r->attempts,
        .state = outcome == RETRY_SENT    ? OUTBOX_SENT
                 : outcome == RETRY_AGAIN ? OUTBOX_PENDING
                                          : OUTBOX_DEAD,
        .next_attempt_ms = outcome == RETRY_AGAIN ? next_ms : SLAD_NO_TIME,
        .last_error = outcome == RETRY_SENT ? NULL : error,
        .sent_ms = outcome == RETRY_SENT ? now : SLAD_NO_TIME,
    };
    int rv = batch_begin(batch, reterr);
    /* A grouped message's members follow it once it is sent or dead (first: should that
     * fail, the message stays `sending` and its outcome is recorded again). */
    if (rv == 0 && r->group_id == r->id && outcome != RETRY_AGAIN)
        rv = store_outbox_settle_group(store, &o, reterr);
    if (rv == 0)
        rv = store_outbox_update(store, &o, reterr);
    if (rv < 0)
        return rv;
    batch_mark_fenced(batch);
    if (metrics && r->channel)
        metrics_attempt(metrics, r->channel, retry_outcome_name(outcome));
    return 0;
}

struct deliver_chan *deliver_chan_get(struct deliver_chan *v, size_t *n, size_t max,
                                      const struct conf_channel *ch, int64_t now)
{
    struct deliver_chan *cs = NULL;
    for (size_t i = 0; i < *n && !cs; i++)
        if (strcmp(v[i].name, ch->name) == 0)
            cs = &v[i];
    if (!cs) {
        if (*n == max)
            return NULL;
        char *name = strdup(ch->name);
        if (!name)
            return NULL;
        cs = &v[(*n)++];
        memset(cs, 0, sizeof(*cs));
        cs->name = name;
        cs->rate_count = -1;
    }
    /* A reload may change the limit: start a fresh bucket then. */
    if (cs->rate_count != ch->rate_count || cs->rate_window_ms != ch->rate_window_ms) {
        cs->rate_count = ch->rate_count;
        cs->rate_window_ms = ch->rate_window_ms;
        ratelimit_init(&cs->rl, ch->rate_count, ch->rate_window_ms, now);
    }
    return cs;
}
