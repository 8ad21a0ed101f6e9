/* accept.c - admission of connections (see accept.h). */
#include "accept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* Connections accepted per wake-up before other watchers get their turn. */
#define ACCEPT_BATCH 64

struct acceptor_conn {
    struct acceptor *a;
    struct acceptor_conn *prev, *next;   /* every admitted connection */
    struct acceptor_conn *hprev, *hnext; /* those waiting for a request head, oldest first */
    bool waiting_head;
    double head_deadline_s; /* ev_now() time */
    int fd;
    int family;             /* AF_INET, AF_INET6, AF_UNIX */
    unsigned char addr[16]; /* the IP address, for the per-address cap */
    char peer[INET6_ADDRSTRLEN];
};

struct acceptor {
    struct ev_loop *loop;
    int fd;
    const char *name;
    struct acceptor_limits limits;
    acceptor_hand_fn *hand;
    void *userdata;
    ev_io io;
    ev_timer pause;      /* accepting resumes when it fires */
    ev_timer head_timer; /* the oldest head deadline */
    struct acceptor_conn *conns;
    struct acceptor_conn *head_first, *head_last;
    struct acceptor_conn *pending; /* being handed over */
    unsigned n_conns;
    bool paused, quiesced;
};

/* Accept while under the share, not paused and not stopping. */
static void update_watcher(struct acceptor *a)
{
    bool want = !a->quiesced && !a->paused && a->n_conns < a->limits.max_connections;
    if (want && !ev_is_active(&a->io))
        ev_io_start(a->loop, &a->io);
    else if (!want && ev_is_active(&a->io))
        ev_io_stop(a->loop, &a->io);
}

static void pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct acceptor *a = w->data;
    a->paused = false;
    update_watcher(a);
}

static void pause_accepting(struct acceptor *a, int err)
{
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_WARNING, "http",
                "cannot accept a connection on the %s socket: %s; pausing %.0f ms (raise the "
                "open-file limit, LimitNOFILE=, or lower max_connections)",
                a->name, strerror(err), ACCEPT_PAUSE_S * 1000);
    a->paused = true;
    ev_timer_set(&a->pause, ACCEPT_PAUSE_S, 0.);
    ev_timer_start(a->loop, &a->pause);
}

/* ---- head deadlines ---- */

static void head_rearm(struct acceptor *a)
{
    ev_timer_stop(a->loop, &a->head_timer);
    if (!a->head_first)
        return;
    double in = a->head_first->head_deadline_s - ev_now(a->loop);
    ev_timer_set(&a->head_timer, in > 0 ? in : 0., 0.);
    ev_timer_start(a->loop, &a->head_timer);
}

static void head_unlink(struct acceptor_conn *c)
{
    struct acceptor *a = c->a;
    if (!c->waiting_head)
        return;
    if (c->hprev)
        c->hprev->hnext = c->hnext;
    else
        a->head_first = c->hnext;
    if (c->hnext)
        c->hnext->hprev = c->hprev;
    else
        a->head_last = c->hprev;
    c->hprev = c->hnext = NULL;
    c->waiting_head = false;
}

/* Deadlines all lie header_timeout after their start: appending keeps the list in order. */
static void head_append(struct acceptor_conn *c)
{
    struct acceptor *a = c->a;
    c->waiting_head = true;
    c->head_deadline_s = ev_now(a->loop) + a->limits.header_timeout_s;
    c->hprev = a->head_last;
    c->hnext = NULL;
    if (a->head_last)
        a->head_last->hnext = c;
    else
        a->head_first = c;
    a->head_last = c;
}

static void head_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct acceptor *a = w->data;
    double now = ev_now(loop);
    unsigned n = 0;
    const char *last_peer = "";
    while (a->head_first && a->head_first->head_deadline_s <= now + 0.001) {
        struct acceptor_conn *c = a->head_first;
        head_unlink(c);
        /* The HTTP server sees the end of the stream and closes the connection. */
        shutdown(c->fd, SHUT_RDWR);
        last_peer = c->peer;
        n++;
    }
    if (n > 0) {
        static struct log_limit limit;
        log_limited(&limit, LOG_PRIO_NOTICE, "http",
                    "closed %u %s connection(s) that sent no complete request head within "
                    "%g s (header_timeout), the last from %s",
                    n, a->name, a->limits.header_timeout_s, last_peer);
    }
    head_rearm(a);
}

/* ---- admission ---- */

static void peer_of(struct acceptor_conn *c, const struct sockaddr_storage *ss)
{
    c->family = ss->ss_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        memcpy(c->addr, &in->sin_addr, 4);
        inet_ntop(AF_INET, &in->sin_addr, c->peer, sizeof(c->peer));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        memcpy(c->addr, &in6->sin6_addr, 16);
        inet_ntop(AF_INET6, &in6->sin6_addr, c->peer, sizeof(c->peer));
    } else {
        snprintf(c->peer, sizeof(c->peer), "unix");
    }
}

static unsigned count_same_address(const struct acceptor *a, const struct acceptor_conn *c)
{
    size_t len = c->family == AF_INET ? 4 : 16;
    unsigned n = 0;
    for (const struct acceptor_conn *o = a->conns; o; o = o->next)
        n += o->family == c->family && memcmp(o->addr, c->addr, len) == 0;
    return n;
}

static const char too_many_body[] =
    "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"this address has "
    "max_connections_per_ip connections open to slad; close some and try again\"}}\n";

static void refuse_over_cap(struct acceptor *a, struct acceptor_conn *c)
{
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_NOTICE, "http",
                "refused a %s connection from %s: it already has %u open "
                "(max_connections_per_ip)",
                a->name, c->peer, a->limits.max_per_ip);
    /* Best effort: the client learns why instead of seeing a bare reset. */
    char answer[512];
    int n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     sizeof(too_many_body) - 1, too_many_body);
    ssize_t w = send(c->fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    close(c->fd);
}

static void conn_link(struct acceptor_conn *c)
{
    struct acceptor *a = c->a;
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    a->n_conns++;
}

static void conn_unlink(struct acceptor_conn *c)
{
    struct acceptor *a = c->a;
    head_unlink(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    a->n_conns--;
}

static void admit(struct acceptor *a, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    struct acceptor_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        pause_accepting(a, ENOMEM);
        return;
    }
    c->a = a;
    c->fd = fd;
    peer_of(c, ss);
    if (a->limits.max_per_ip && c->family != AF_UNIX &&
        count_same_address(a, c) >= a->limits.max_per_ip) {
        refuse_over_cap(a, c);
        free(c);
        return;
    }
    conn_link(c);
    head_append(c);
    a->pending = c;
    a->hand(a->userdata, fd, (const struct sockaddr *)ss, len);
    if (a->pending == c) {
        /* The server refused it before its start notification: it closed the fd. */
        a->pending = NULL;
        conn_unlink(c);
        free(c);
    }
    if (!ev_is_active(&a->head_timer))
        head_rearm(a);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct acceptor *a = w->data;
    for (int i = 0; i < ACCEPT_BATCH && a->n_conns < a->limits.max_connections; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(a->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(a, fd, &ss, len);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            pause_accepting(a, errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM, ... */
        break;
    }
    update_watcher(a);
}

/* ---- lifetime ---- */

struct acceptor *acceptor_new(struct ev_loop *loop, int listen_fd, const char *name,
                              const struct acceptor_limits *limits, acceptor_hand_fn *hand,
                              void *userdata)
{
    struct acceptor *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    *a = (struct acceptor){.loop = loop,
                           .fd = listen_fd,
                           .name = name,
                           .limits = *limits,
                           .hand = hand,
                           .userdata = userdata};
    ev_io_init(&a->io, accept_cb, listen_fd, EV_READ);
    ev_timer_init(&a->pause, pause_cb, 0., 0.);
    ev_timer_init(&a->head_timer, head_timer_cb, 0., 0.);
    a->io.data = a->pause.data = a->head_timer.data = a;
    update_watcher(a);
    return a;
}

void acceptor_quiesce(struct acceptor *a)
{
    if (!a || a->quiesced)
        return;
    a->quiesced = true;
    update_watcher(a);
    ev_timer_stop(a->loop, &a->pause);
    close(a->fd);
    a->fd = -1;
}

void acceptor_free(struct acceptor *a)
{
    if (!a)
        return;
    acceptor_quiesce(a);
    ev_timer_stop(a->loop, &a->head_timer);
    /* Normally empty: the server closed every connection first. */
    while (a->conns) {
        struct acceptor_conn *c = a->conns;
        conn_unlink(c);
        free(c);
    }
    free(a);
}

unsigned acceptor_connections(const struct acceptor *a)
{
    return a->n_conns;
}

bool acceptor_paused(const struct acceptor *a)
{
    return a->paused;
}

struct acceptor_conn *acceptor_conn_started(struct acceptor *a)
{
    struct acceptor_conn *c = a->pending;
    a->pending = NULL;
    return c;
}

void acceptor_head_started(struct acceptor_conn *c)
{
    if (!c || c->waiting_head)
        return;
    head_append(c);
    if (c->a->head_first == c)
        head_rearm(c->a);
}

void acceptor_head_done(struct acceptor_conn *c)
{
    if (!c || !c->waiting_head)
        return;
    bool was_first = c->a->head_first == c;
    head_unlink(c);
    if (was_first)
        head_rearm(c->a);
}

void acceptor_conn_closed(struct acceptor_conn *c)
{
    if (!c)
        return;
    struct acceptor *a = c->a;
    bool was_first = a->head_first == c;
    conn_unlink(c);
    free(c);
    if (was_first)
        head_rearm(a);
    update_watcher(a);
}

const char *acceptor_conn_peer(const struct acceptor_conn *c)
{
    return c ? c->peer : "?";
}
