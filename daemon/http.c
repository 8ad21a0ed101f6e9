/* http.c - libmicrohttpd servers driven by libev, with answers held until their
 * transaction commits (see http.h). */
#include "http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "request.h"
#include "token.h"

/* Room in a connection's memory pool beyond the request header: the reply's header and
 * the read buffer for body chunks. */
#define HTTP_POOL_SLACK 8192

struct http_server {
    struct request_listener listener; /* the callbacks' cls */
    struct MHD_Daemon *mhd;
    ev_io io;       /* MHD's epoll fd */
    ev_timer timer; /* MHD_get_timeout */
    unsigned last_connections;
    bool quiesced;
};

struct http {
    struct request_env env; /* what the requests of both servers share */
    struct token *token;    /* owned; env.token borrows it */
    struct http_server servers[2];
    size_t n_servers;
};
static void logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    log_notice("http", "libmicrohttpd: %s", msg);
}

static void update_timer(struct http_server *srv)
{
    struct ev_loop *loop = srv->listener.env->loop;
    MHD_UNSIGNED_LONG_LONG ms;
    ev_timer_stop(loop, &srv->timer);
    if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES) {
        ev_timer_set(&srv->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(loop, &srv->timer);
    }
}

static unsigned connections(struct http_server *srv)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info ? info->num_connections : 0;
}

static void run_server(struct http_server *srv)
{
    MHD_run(srv->mhd);
    /* At max_connections MHD takes its listening socket out of its epoll set, and puts it
     * back only at the start of the next run: after connections closed, run once more so
     * that connections waiting in the backlog are accepted without waiting for unrelated
     * traffic. */
    unsigned n = connections(srv);
    if (n < srv->last_connections)
        MHD_run(srv->mhd);
    srv->last_connections = connections(srv);
    update_timer(srv);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    run_server(w->data);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    run_server(w->data);
}

static int server_start(struct http *h, int fd, bool tcp, struct slad_error *reterr)
{
    const struct conf_daemon *d = &h->env.conf->daemon;
    struct http_server *srv = &h->servers[h->n_servers];
    *srv = (struct http_server){.listener = {.env = &h->env, .tcp = tcp}};
    unsigned idle_s = (unsigned)((d->idle_timeout_ms + 999) / 1000);
    /* The logger must come first, or MHD reports option errors on stderr itself. */
    srv->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        request_handler, &srv->listener, MHD_OPTION_EXTERNAL_LOGGER, logger, srv,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, d->max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)d->max_header_bytes + HTTP_POOL_SLACK,
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s ? idle_s : 1u, MHD_OPTION_URI_LOG_CALLBACK,
        request_uri_cb, &srv->listener, MHD_OPTION_NOTIFY_COMPLETED, request_completed_cb,
        &srv->listener, MHD_OPTION_END);
    if (!srv->mhd)
        return slad_error_set(reterr, EIO, "libmicrohttpd could not start on the %s socket",
                              tcp ? "TCP" : "Unix");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || info->epoll_fd < 0) {
        MHD_stop_daemon(srv->mhd);
        return slad_error_set(reterr, EIO, "libmicrohttpd has no epoll fd");
    }
    ev_io_init(&srv->io, io_cb, info->epoll_fd, EV_READ);
    srv->io.data = srv;
    ev_io_start(h->env.loop, &srv->io);
    ev_timer_init(&srv->timer, timer_cb, 0., 0.);
    srv->timer.data = srv;
    h->n_servers++;
    update_timer(srv);
    log_debug("http",
              "serving the %s socket: at most %u connections, %lld-byte headers, "
              "%u s idle timeout",
              tcp ? "TCP" : "Unix", d->max_connections, (long long)d->max_header_bytes, idle_s);
    return 0;
}

int http_new(struct ev_loop *loop, struct api *api, struct batch *batch, struct metrics *metrics,
             const struct conf *conf, struct listeners *ls, struct token *tok, struct http **ret,
             struct slad_error *reterr)
{
    struct http *h = calloc(1, sizeof(*h));
    if (!h) {
        token_free(tok);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    h->env = (struct request_env){
        .loop = loop, .api = api, .batch = batch, .metrics = metrics, .conf = conf, .token = tok};
    h->token = tok;
    int r = 0;
    if (ls->unix_fd >= 0 && (r = server_start(h, ls->unix_fd, false, reterr)) == 0)
        ls->unix_fd = -1;
    if (r == 0 && ls->tcp_fd >= 0 && (r = server_start(h, ls->tcp_fd, true, reterr)) == 0)
        ls->tcp_fd = -1;
    if (r < 0) {
        http_free(h);
        return r;
    }
    *ret = h;
    return 0;
}

void http_free(struct http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_servers; i++) {
        struct http_server *srv = &h->servers[i];
        ev_io_stop(h->env.loop, &srv->io);
        ev_timer_stop(h->env.loop, &srv->timer);
        MHD_stop_daemon(srv->mhd);
    }
    token_free(h->token);
    free(h);
}

void http_set_conf(struct http *h, const struct conf *conf, struct token *tok)
{
    h->env.conf = conf;
    token_free(h->token);
    h->token = tok;
    h->env.token = tok;
}

void http_after_commit(struct http *h)
{
    /* Resumed connections are processed by MHD_run; feeding the io watchers runs it in
     * this iteration, before the loop blocks. */
    for (size_t i = 0; i < h->n_servers; i++)
        ev_feed_event(h->env.loop, &h->servers[i].io, EV_READ);
}

void http_quiesce(struct http *h)
{
    h->env.stopping = true;
    for (size_t i = 0; i < h->n_servers; i++) {
        struct http_server *srv = &h->servers[i];
        if (srv->quiesced)
            continue;
        MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        srv->quiesced = true;
    }
}

unsigned http_in_flight(const struct http *h)
{
    return h->env.in_flight;
}
