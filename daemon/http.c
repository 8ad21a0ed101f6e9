/* http.c - libmicrohttpd servers driven by libev, with answers held until their
 * transaction commits (see http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "api.h"
#include "fdbudget.h"
#include "intake_keys.h"
#include "log.h"
#include "request.h"
#include "secretfile.h"
#include "stream.h"
#include "token.h"

/* Room in a connection's memory pool beyond the request header: the reply's header and
 * the read buffer for body chunks. */
#define HTTP_POOL_SLACK 8192

/* Largest PEM file read for tls_cert and tls_key (a chain of a few certificates). */
#define HTTP_PEM_MAX_BYTES (256 * 1024)

struct http_server {
    struct request_listener listener; /* the callbacks' cls */
    struct MHD_Daemon *mhd;
    struct acceptor *acceptor; /* accepts for MHD (accept.h) */
    ev_io io;                  /* MHD's epoll fd */
    ev_timer timer;            /* MHD_get_timeout */
};

struct http {
    struct request_env env;   /* what the requests of both servers share */
    struct token *token;      /* owned; env.token borrows it */
    struct intake_keys *keys; /* owned; env.intake_keys borrows it */
    struct http_server servers[2];
    size_t n_servers;
    char *tls_cert, *tls_key; /* PEM text MHD reads at start; the key is wiped at free */
    size_t tls_cert_len, tls_key_len;
};
/* libmicrohttpd's format strings are its own. */
__attribute__((format(printf, 2, 0))) static void logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    /* refusal.c answered the refusal itself and declined the library's, which says so. */
    if (strstr(msg, "(failed to queue error response)"))
        return;
    /* On every answer the library sets TCP_NODELAY and TCP_CORK; on a Unix socket that
     * fails as unsupported, and the failure is followed by "Failed to push the data ...
     * Client may experience some delay", which is false there (a Unix socket holds nothing
     * back). Both said nothing an operator can act on, three lines per answer. Filtered
     * here because the library cannot be told: MHD_add_connection leaves "is it IP?"
     * unknown, and its probe (0.9.75, still upstream) takes EINVAL, ENOPROTOOPT or
     * ENOTSOCK for "not IP", not the EOPNOTSUPP Linux gives for a Unix socket. */
    static bool unsupported_option;
    if (strstr(msg, " option to ") && strstr(msg, strerror(EOPNOTSUPP))) {
        unsupported_option = true;
        return;
    }
    if (unsupported_option && strncmp(msg, "Failed to push the data", 23) == 0) {
        unsupported_option = false;
        return;
    }
    unsupported_option = false;
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

static void run_server(struct http_server *srv)
{
    MHD_run(srv->mhd);
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

/* The acceptor's hand-off: MHD takes the fd (and closes it if it refuses). */
static bool hand_to_mhd(void *userdata, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct http_server *srv = userdata;
    bool ok = MHD_add_connection(srv->mhd, fd, addr, len) == MHD_YES;
    run_server(srv); /* the new connection may already have its request waiting */
    return ok;
}

/* MHD_OPTION_NOTIFY_CONNECTION: the acceptor's record becomes the socket context. */
static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = acceptor_conn_started(srv->acceptor);
    } else {
        acceptor_conn_closed(*socket_context);
        *socket_context = NULL;
    }
}

/* Whether the TCP socket listens on a loopback address only. */
static bool bound_to_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return false;
    if (ss.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* tls_cert and tls_key into memory (MHD reads them at start); the key must be private. */
static int load_tls(struct http *h, const struct conf_daemon *d, struct slad_error *reterr)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return slad_error_set(reterr, ENOTSUP,
                              "this libmicrohttpd was built without TLS; remove tls_cert and "
                              "tls_key or install a build with GnuTLS");
    int r = secretfile_read(d->tls_cert, "tls_cert", HTTP_PEM_MAX_BYTES, false, &h->tls_cert,
                            &h->tls_cert_len, reterr);
    if (r == 0)
        r = secretfile_read(d->tls_key, "tls_key", HTTP_PEM_MAX_BYTES, true, &h->tls_key,
                            &h->tls_key_len, reterr);
    return r;
}

static int server_start(struct http *h, int fd, bool tcp, unsigned share, struct slad_error *reterr)
{
    const struct conf_daemon *d = &h->env.conf->daemon;
    struct http_server *srv = &h->servers[h->n_servers];
    bool tls = tcp && h->tls_cert;
    *srv = (struct http_server){.listener = {.env = &h->env, .tcp = tcp, .tls = tls}};
    unsigned idle_s = (unsigned)((d->idle_timeout_ms + 999) / 1000);
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     MHD_USE_NO_LISTEN_SOCKET | (tls ? MHD_USE_TLS : 0);
    /* The logger must come first, or MHD reports option errors on stderr itself. The TLS
     * options come last: MHD_OPTION_END where there is no TLS ends the list early. */
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, request_handler, &srv->listener, MHD_OPTION_EXTERNAL_LOGGER, logger,
        srv, MHD_OPTION_CONNECTION_LIMIT, share, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)d->max_header_bytes + HTTP_POOL_SLACK, MHD_OPTION_CONNECTION_TIMEOUT,
        idle_s ? idle_s : 1u, MHD_OPTION_URI_LOG_CALLBACK, request_uri_cb, &srv->listener,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed_cb, &srv->listener,
        MHD_OPTION_NOTIFY_CONNECTION, connection_cb, srv,
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert, MHD_OPTION_HTTPS_MEM_KEY,
        h->tls_key, MHD_OPTION_END);
    if (!srv->mhd) {
        close(fd);
        return slad_error_set(
            reterr, EIO, "libmicrohttpd could not start on the %s socket%s", tcp ? "TCP" : "Unix",
            tls ? " (are tls_cert and tls_key a PEM certificate and its key?)" : "");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct acceptor_limits limits = {
        .max_connections = share,
        .max_per_ip = tcp ? d->max_connections_per_ip : 0,
        .header_timeout_s = (double)d->header_timeout_ms / 1000.0,
    };
    if (!info || info->epoll_fd < 0 ||
        !(srv->acceptor =
              acceptor_new(h->env.loop, fd, tcp ? "TCP" : "Unix", &limits, hand_to_mhd, srv))) {
        MHD_stop_daemon(srv->mhd);
        close(fd);
        return slad_error_set(reterr, EIO, "cannot serve the %s socket: out of memory",
                              tcp ? "TCP" : "Unix");
    }
    ev_io_init(&srv->io, io_cb, info->epoll_fd, EV_READ);
    srv->io.data = srv;
    ev_io_start(h->env.loop, &srv->io);
    ev_timer_init(&srv->timer, timer_cb, 0., 0.);
    srv->timer.data = srv;
    h->n_servers++;
    update_timer(srv);
    if (tcp && !tls && !bound_to_loopback(fd))
        log_warning("http", "the TCP listener is reachable from other hosts without TLS: the "
                            "bearer token and tickets cross the network in clear; set tls_cert "
                            "and tls_key, or bind tcp to 127.0.0.1");
    log_debug("http",
              "serving the %s socket%s: at most %u connections (%u per address), %lld-byte "
              "headers within %.0f s, %u s idle timeout",
              tcp ? "TCP" : "Unix", tls ? " with TLS" : "", share, limits.max_per_ip,
              (long long)d->max_header_bytes, limits.header_timeout_s, idle_s);
    return 0;
}

int http_new(struct ev_loop *loop, struct api *api, struct batch *batch, struct metrics *metrics,
             const struct conf *conf, struct listeners *ls, struct token *tok,
             struct intake_keys *keys, struct console *console, struct http **ret,
             struct slad_error *reterr)
{
    struct http *h = calloc(1, sizeof(*h));
    if (!h) {
        token_free(tok);
        intake_keys_free(keys);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    h->env = (struct request_env){.loop = loop,
                                  .api = api,
                                  .batch = batch,
                                  .metrics = metrics,
                                  .conf = conf,
                                  .token = tok,
                                  .intake_keys = keys,
                                  .console = console};
    h->token = tok;
    h->keys = keys;
    h->env.streams = streams_new(loop, streams_max_for(conf->daemon.max_connections), http_kick, h);
    if (!h->env.streams) {
        http_free(h);
        return slad_error_set(reterr, ENOMEM, "out of memory");
    }
    struct fdbudget budget;
    fdbudget_plan(conf, ls->tcp_fd >= 0, &budget);
    int r = 0;
    if (ls->tcp_fd >= 0 && conf->daemon.tls_cert)
        r = load_tls(h, &conf->daemon, reterr);
    /* server_start takes the fd whatever happens. */
    if (r == 0 && ls->unix_fd >= 0) {
        int fd = ls->unix_fd;
        ls->unix_fd = -1;
        r = server_start(h, fd, false, budget.unix_share, reterr);
    }
    if (r == 0 && ls->tcp_fd >= 0) {
        int fd = ls->tcp_fd;
        ls->tcp_fd = -1;
        r = server_start(h, fd, true, budget.tcp_share, reterr);
    }
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
    /* No connection may be suspended when MHD stops: streams are resumed and ended. */
    streams_close_all(h->env.streams);
    for (size_t i = 0; i < h->n_servers; i++) {
        struct http_server *srv = &h->servers[i];
        ev_io_stop(h->env.loop, &srv->io);
        ev_timer_stop(h->env.loop, &srv->timer);
        MHD_run(srv->mhd);
        MHD_stop_daemon(srv->mhd); /* closes every connection, each through the acceptor */
        acceptor_free(srv->acceptor);
    }
    streams_free(h->env.streams);
    token_free(h->token);
    intake_keys_free(h->keys);
    secretfile_free(h->tls_cert, h->tls_cert_len);
    secretfile_free(h->tls_key, h->tls_key_len);
    free(h);
}

void http_set_conf(struct http *h, const struct conf *conf, struct token *tok,
                   struct intake_keys *keys)
{
    h->env.conf = conf;
    token_free(h->token);
    h->token = tok;
    h->env.token = tok;
    intake_keys_free(h->keys);
    h->keys = keys;
    h->env.intake_keys = keys;
}

void http_kick(void *userdata)
{
    http_after_commit(userdata);
}

void http_publish(struct http *h, const struct service_change *changes, size_t n, bool overflow)
{
    if (!h)
        return; /* a commit before the servers exist: nobody listens yet */
    streams_publish(h->env.streams, changes, n, overflow);
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
    for (size_t i = 0; i < h->n_servers; i++)
        acceptor_quiesce(h->servers[i].acceptor);
    streams_close_all(h->env.streams); /* they would hold the stop until their readers left */
}

void http_set_reader(struct http *h, struct reader *reader)
{
    if (h)
        h->env.reader = reader;
}

void http_listener_kick(struct request_listener *l)
{
    struct http_server *srv = (struct http_server *)l; /* the listener is its first member */
    ev_feed_event(l->env->loop, &srv->io, EV_READ);
}

unsigned http_in_flight(const struct http *h)
{
    return h->env.in_flight;
}
