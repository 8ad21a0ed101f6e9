/* test-accept.c - admission of connections on real sockets: the listener's share, the
 * per-address cap, the pause when descriptors run out, and the request-head deadline.
 * The HTTP server is replaced by a hand-off that records each connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept.h"

#define MAX_HANDED 64

struct server {
    struct acceptor *a;
    struct acceptor_conn *conns[MAX_HANDED];
    int fds[MAX_HANDED];
    int n;
};

static bool hand(void *userdata, int fd, const struct sockaddr *addr, socklen_t len)
{
    (void)addr;
    (void)len;
    struct server *srv = userdata;
    assert_true(srv->n < MAX_HANDED);
    srv->fds[srv->n] = fd;
    srv->conns[srv->n] = acceptor_conn_started(srv->a); /* as MHD's start notification */
    srv->n++;
    return true;
}

static void close_handed(struct server *srv, int i)
{
    acceptor_conn_closed(srv->conns[i]);
    close(srv->fds[i]);
    srv->conns[i] = NULL;
    srv->fds[i] = -1;
}

static int tcp_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(fd, 64), 0);
    socklen_t len = sizeof(in);
    getsockname(fd, (struct sockaddr *)&in, &len);
    *port = ntohs(in.sin_port);
    return fd;
}

/* A blocking client from source address src (127.0.0.x) to the listener. */
static int connect_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &from.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void spin(struct ev_loop *loop)
{
    for (int i = 0; i < 10; i++)
        ev_run(loop, EVRUN_NOWAIT);
}

static void teardown_server(struct server *srv)
{
    for (int i = 0; i < srv->n; i++)
        if (srv->conns[i])
            close_handed(srv, i);
    acceptor_free(srv->a);
}

/* At its share the listener leaves clients in the backlog; a close lets the next in. */
static void test_share(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    int port;
    int lfd = tcp_listener(&port);
    struct server srv = {0};
    struct acceptor_limits limits = {.max_connections = 2, .header_timeout_s = 60};
    srv.a = acceptor_new(loop, lfd, "TCP", &limits, hand, &srv);
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = connect_from("127.0.0.1", port);
    spin(loop);
    assert_int_equal(srv.n, 2);
    assert_int_equal(acceptor_connections(srv.a), 2);
    close_handed(&srv, 0);
    spin(loop);
    assert_int_equal(srv.n, 3);
    assert_int_equal(acceptor_connections(srv.a), 2);
    for (int i = 0; i < 3; i++)
        close(c[i]);
    teardown_server(&srv);
    ev_loop_destroy(loop);
}

/* One address over its cap gets a 503 and is closed; another address still gets in. */
static void test_per_address_cap(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    int port;
    int lfd = tcp_listener(&port);
    struct server srv = {0};
    struct acceptor_limits limits = {
        .max_connections = 10, .max_per_ip = 2, .header_timeout_s = 60};
    srv.a = acceptor_new(loop, lfd, "TCP", &limits, hand, &srv);
    int a1 = connect_from("127.0.0.1", port), a2 = connect_from("127.0.0.1", port);
    spin(loop);
    int a3 = connect_from("127.0.0.1", port);
    int b1 = connect_from("127.0.0.2", port);
    spin(loop);
    assert_int_equal(srv.n, 3);
    char buf[512] = {0};
    ssize_t n = recv(a3, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "HTTP/1.1 503 "));
    assert_non_null(strstr(buf, "\"too_many_connections\""));
    /* The body is the length the header announces. */
    const char *body = strstr(buf, "\r\n\r\n") + 4;
    assert_int_equal(strlen(body), atoi(strstr(buf, "Content-Length: ") + 16));
    close(a1);
    close(a2);
    close(a3);
    close(b1);
    teardown_server(&srv);
    ev_loop_destroy(loop);
}

/* Out of descriptors: accepting pauses (no spinning on a readable listener), resumes. */
static void test_pause_when_out_of_descriptors(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    int port;
    int lfd = tcp_listener(&port);
    struct server srv = {0};
    struct acceptor_limits limits = {.max_connections = 10, .header_timeout_s = 60};
    srv.a = acceptor_new(loop, lfd, "TCP", &limits, hand, &srv);
    int client = connect_from("127.0.0.1", port);

    struct rlimit saved;
    getrlimit(RLIMIT_NOFILE, &saved);
    int probe = dup(0);
    struct rlimit low = {.rlim_cur = (rlim_t)probe + 1, .rlim_max = saved.rlim_max};
    close(probe);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int filler = dup(0); /* takes the last descriptor */
    assert_true(filler >= 0);
    assert_int_equal(dup(0), -1);
    assert_int_equal(errno, EMFILE);

    spin(loop);
    assert_int_equal(srv.n, 0);
    assert_true(acceptor_paused(srv.a));

    close(filler);
    setrlimit(RLIMIT_NOFILE, &saved);
    ev_run(loop, EVRUN_ONCE); /* the pause timer */
    spin(loop);
    assert_false(acceptor_paused(srv.a));
    assert_int_equal(srv.n, 1);
    close(client);
    teardown_server(&srv);
    ev_loop_destroy(loop);
}

/* A connection whose head does not arrive in time is shut down; one whose head arrived
 * is left alone; a later request on it gets its own deadline. */
static void test_head_deadline(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    int port;
    int lfd = tcp_listener(&port);
    struct server srv = {0};
    struct acceptor_limits limits = {.max_connections = 10, .header_timeout_s = 0.05};
    srv.a = acceptor_new(loop, lfd, "TCP", &limits, hand, &srv);
    int slow = connect_from("127.0.0.1", port);
    int quick = connect_from("127.0.0.2", port);
    spin(loop);
    assert_int_equal(srv.n, 2);
    int quick_i =
        srv.conns[0] && strcmp(acceptor_conn_peer(srv.conns[0]), "127.0.0.2") == 0 ? 0 : 1;
    acceptor_head_done(srv.conns[quick_i]);
    ev_run(loop, EVRUN_ONCE); /* the deadline */
    char buf[16];
    /* The slow client's server side was shut down: it reads the end of the stream. */
    assert_int_equal(recv(slow, buf, sizeof(buf), 0), 0);
    fcntl(quick, F_SETFL, O_NONBLOCK);
    assert_int_equal(recv(quick, buf, sizeof(buf), 0), -1);
    assert_int_equal(errno, EAGAIN);
    /* Its next request line starts a new deadline. */
    acceptor_head_started(srv.conns[quick_i]);
    ev_run(loop, EVRUN_ONCE);
    fcntl(quick, F_SETFL, 0);
    assert_int_equal(recv(quick, buf, sizeof(buf), 0), 0);
    close(slow);
    close(quick);
    teardown_server(&srv);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_per_address_cap),
        cmocka_unit_test(test_pause_when_out_of_descriptors),
        cmocka_unit_test(test_head_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
