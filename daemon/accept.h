/* accept.h - admission of connections: slad accepts on its listening sockets itself and
 * hands each connection to libmicrohttpd (MHD_USE_NO_LISTEN_SOCKET + MHD_add_connection),
 * so that it, not the HTTP library, decides who gets a descriptor:
 *
 * - a share of descriptors per listener: at the share, the listening socket is left alone
 *   (clients wait in the kernel's backlog) until a connection closes; the Unix socket keeps
 *   its own share, so TCP clients can never take the descriptors local operators need;
 * - out of descriptors (EMFILE/ENFILE) or memory, accepting pauses for a moment instead of
 *   spinning on a socket that stays readable;
 * - a per-address cap on TCP: the connection over it gets a short 503 and is closed;
 * - a total deadline for each request head (header_timeout): from the accept for the first
 *   request, from its request line for later ones on a keep-alive connection; a client
 *   that sends its head too slowly (slowloris) is disconnected.
 *
 * Log lines about refused clients are rate-limited (log.h). */
#ifndef SLAD_ACCEPT_H
#define SLAD_ACCEPT_H

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

/* How long accepting pauses when the process is out of descriptors or memory. */
#define ACCEPT_PAUSE_S 0.1

struct acceptor;
struct acceptor_conn;

struct acceptor_limits {
    unsigned max_connections; /* this listener's share of descriptors */
    unsigned max_per_ip;      /* 0: no per-address cap (the Unix socket) */
    double header_timeout_s;  /* for each request head */
};

/* Give the accepted fd (non-blocking, close-on-exec) to the HTTP server; it takes the fd
 * whatever it returns. Returns false when the server refused it. While it runs, the
 * server's connection-start notification must call acceptor_conn_started. */
typedef bool acceptor_hand_fn(void *userdata, int fd, const struct sockaddr *addr,
                              socklen_t addr_len);

/* Watch listen_fd (taken: closed by acceptor_quiesce or acceptor_free). name ("TCP",
 * "Unix") is for log lines. NULL when out of memory. */
struct acceptor *acceptor_new(struct ev_loop *loop, int listen_fd, const char *name,
                              const struct acceptor_limits *limits, acceptor_hand_fn *hand,
                              void *userdata);
/* Call after the HTTP server closed every connection (each through acceptor_conn_closed).
 * NULL-safe. */
void acceptor_free(struct acceptor *a);

/* Stop accepting and close the listening socket (graceful stop). */
void acceptor_quiesce(struct acceptor *a);

/* Connections currently admitted. */
unsigned acceptor_connections(const struct acceptor *a);
/* Whether accepting pauses after running out of descriptors or memory. */
bool acceptor_paused(const struct acceptor *a);

/* The connection being handed over, for the HTTP server's start notification (store it as
 * the connection's context); NULL when the connection did not come from a hand-off. */
struct acceptor_conn *acceptor_conn_started(struct acceptor *a);
/* The request line of a new request arrived: its head deadline starts (the first request's
 * started at the accept). */
void acceptor_head_started(struct acceptor_conn *c);
/* The whole request head arrived: no deadline until the next request line. */
void acceptor_head_done(struct acceptor_conn *c);
/* The connection closed: frees c; NULL-safe. */
void acceptor_conn_closed(struct acceptor_conn *c);

/* The peer's address as text ("192.0.2.1", "unix"), for log lines. */
const char *acceptor_conn_peer(const struct acceptor_conn *c);

#endif
