/* lease.c - the scheduler lease of one instance (lease.h): when to ask, what an answer
 * means, when the lease has run out locally. */
#include "lease.h"

void lease_init(struct lease *l, int64_t ttl_ms, int64_t renew_every_ms, int64_t now_ms)
{
    *l = (struct lease){
        .ttl_ms = ttl_ms,
        .renew_every_ms = renew_every_ms,
        .role = LEASE_STANDBY,
        .next_request_ms = now_ms,
    };
}

bool lease_may_act(const struct lease *l, int64_t now_ms)
{
    return l->role == LEASE_SCHEDULER && now_ms < l->valid_until_ms;
}

static enum lease_event lose(struct lease *l, int64_t now_ms)
{
    l->role = LEASE_STANDBY;
    l->valid_until_ms = 0;
    /* Ask again at once: if nobody took the row, this instance takes it back (with a new
     * fencing number: what it wrote under the old one is refused from now on). */
    l->next_request_ms = now_ms;
    return LEASE_EVENT_LOST;
}

enum lease_event lease_fenced(struct lease *l, int64_t now_ms)
{
    if (l->role != LEASE_SCHEDULER)
        return LEASE_EVENT_NONE;
    /* A renewal in flight was sent under the refused tenure: its grant cannot stand. */
    l->in_flight = LEASE_REQUEST_NONE;
    return lose(l, now_ms);
}

enum lease_event lease_release(struct lease *l, int64_t now_ms)
{
    bool held = l->role == LEASE_SCHEDULER;
    lose(l, now_ms);
    l->in_flight = LEASE_REQUEST_NONE;
    l->next_request_ms = INT64_MAX; /* stopping: never asks again */
    return held ? LEASE_EVENT_LOST : LEASE_EVENT_NONE;
}

void lease_ask_at(struct lease *l, int64_t at_ms)
{
    if (l->role == LEASE_STANDBY && l->in_flight == LEASE_REQUEST_NONE &&
        at_ms < l->next_request_ms)
        l->next_request_ms = at_ms;
}

enum lease_event lease_tick(struct lease *l, int64_t now_ms)
{
    if (l->role == LEASE_SCHEDULER && now_ms >= l->valid_until_ms)
        return lose(l, now_ms);
    return LEASE_EVENT_NONE;
}

enum lease_request lease_poll(struct lease *l, int64_t now_ms)
{
    lease_tick(l, now_ms);
    if (l->in_flight != LEASE_REQUEST_NONE || now_ms < l->next_request_ms)
        return LEASE_REQUEST_NONE;
    l->in_flight = l->role == LEASE_SCHEDULER ? LEASE_REQUEST_RENEW : LEASE_REQUEST_ACQUIRE;
    l->sent_ms = now_ms;
    l->next_request_ms = now_ms + l->renew_every_ms;
    return l->in_flight;
}

enum lease_event lease_answer(struct lease *l, int64_t now_ms, bool granted, int64_t fencing)
{
    enum lease_request request = l->in_flight;
    l->in_flight = LEASE_REQUEST_NONE;
    if (request == LEASE_REQUEST_NONE)
        return LEASE_EVENT_NONE;
    /* The database set its expiry from an instant no earlier than the sending. */
    int64_t valid_until = l->sent_ms + l->ttl_ms;
    if (request == LEASE_REQUEST_RENEW) {
        if (l->role != LEASE_SCHEDULER) /* lost meanwhile (lease_tick): stays lost */
            return LEASE_EVENT_NONE;
        if (!granted || fencing != l->fencing || now_ms >= valid_until)
            return lose(l, now_ms);
        l->valid_until_ms = valid_until;
        return LEASE_EVENT_RENEWED;
    }
    /* A fencing number that does not grow is not a new tenure (a row restored from a
     * backup, a bug): never act on it. The answer arrived too late to act on is no
     * tenure either. */
    if (!granted || fencing <= l->fencing || now_ms >= valid_until)
        return LEASE_EVENT_NONE;
    l->role = LEASE_SCHEDULER;
    l->fencing = fencing;
    l->valid_until_ms = valid_until;
    return LEASE_EVENT_GAINED;
}

int64_t lease_next_ms(const struct lease *l)
{
    int64_t next = l->in_flight == LEASE_REQUEST_NONE ? l->next_request_ms : INT64_MAX;
    if (l->role == LEASE_SCHEDULER && l->valid_until_ms < next)
        next = l->valid_until_ms;
    return next;
}

const char *lease_role_name(enum lease_role role)
{
    return role == LEASE_SCHEDULER ? "scheduler" : "standby";
}
