/* test-db-pg-connect.c - the PostgreSQL driver's reconnection in the background
 * (lib/store/db_pg_connect.c) on an injected clock, without a server: the back-off
 * (0.1 s doubling to 2 s), one attempt's limit from connect_timeout and the hosts, an
 * attempt abandoned at its limit (a socket that accepts and never answers), and a refused
 * one followed by the back-off. (The reconnection to a real server, its backend killed:
 * test-db.c, test_pg_reconnects_in_background.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "db_pg_connect.h"

static void test_backoff_doubles_to_two_seconds(void **state)
{
    const double want[] = {0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0};
    double b = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        b = pg_connect_next_backoff_s(b);
        assert_float_equal(b, want[i], 1e-9);
    }
}

/* The limit conn's options give (PQconnectStart only parses them here: nothing listens). */
static double limit_of(const char *conninfo)
{
    PGconn *conn = PQconnectStart(conninfo);
    assert_non_null(conn);
    double limit = pg_connect_attempt_limit_s(conn);
    PQfinish(conn);
    return limit;
}

static void test_attempt_limit(void **state)
{
    assert_float_equal(limit_of("host=/nonexistent port=1 dbname=x"), 10.0, 1e-9);
    assert_float_equal(limit_of("host=/nonexistent-a,/nonexistent-b port=1 dbname=x"), 20.0, 1e-9);
    assert_float_equal(limit_of("host=/nonexistent-a,/nonexistent-b port=1 dbname=x "
                                "connect_timeout=3"),
                       6.0, 1e-9);
    /* libpq counts less than 2 s as 2 s. */
    assert_float_equal(limit_of("host=/nonexistent port=1 dbname=x connect_timeout=1"), 2.0, 1e-9);
}

/* A Unix socket in dir that takes connections (the backlog) and never answers. */
static int silent_server(const char *dir, int port)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s/.s.PGSQL.%d", dir, port);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    return fd;
}

static void test_attempt_abandoned_at_its_limit(void **state)
{
    char dir[] = "/tmp/slad-pgconnect-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int server = silent_server(dir, 5999);
    char conninfo[256];
    snprintf(conninfo, sizeof(conninfo), "host=%s port=5999 dbname=x user=x connect_timeout=2",
             dir);
    PGconn *conn = PQconnectStart(conninfo);
    assert_non_null(conn);
    struct pg_connect c = {.dropped = true}; /* as after a loss */
    struct pg_connect_wait w;
    assert_false(pg_connect_up(&c, conn));
    assert_int_equal(pg_connect_step(&c, conn, 100.0, &w), 0);
    assert_int_equal(c.state, PG_CONNECT_POLLING);
    assert_true(w.fd >= 0);
    assert_float_equal(w.at_s, 102.0, 1e-9);
    /* The socket is ready, the server silent: still waiting, for an answer now. */
    assert_int_equal(pg_connect_step(&c, conn, 101.0, &w), 0);
    assert_int_equal(pg_connect_step(&c, conn, 101.5, &w), 0);
    assert_int_equal(c.state, PG_CONNECT_POLLING);
    assert_true(w.want_read);
    assert_float_equal(w.at_s, 102.0, 1e-9);
    /* At the limit: abandoned, the back-off begins. */
    assert_int_equal(pg_connect_step(&c, conn, 102.0, &w), 0);
    assert_int_equal(c.state, PG_CONNECT_BACKOFF);
    assert_int_equal(c.failed, 1);
    assert_non_null(strstr(c.why, "no connection within 2.0 s"));
    assert_int_equal(w.fd, -1);
    assert_float_equal(w.at_s, 102.1, 1e-9);
    assert_int_equal(pg_connect_step(&c, conn, 102.05, &w), 0);
    assert_float_equal(w.at_s, 102.1, 1e-9);
    /* The next attempt after the back-off; it fails too, the back-off doubles. */
    assert_int_equal(pg_connect_step(&c, conn, 102.1, &w), 0);
    assert_int_equal(c.state, PG_CONNECT_POLLING);
    assert_float_equal(w.at_s, 104.1, 1e-9);
    assert_int_equal(pg_connect_step(&c, conn, 104.1, &w), 0);
    assert_int_equal(c.failed, 2);
    assert_float_equal(w.at_s, 104.3, 1e-9);
    assert_false(pg_connect_up(&c, conn));
    PQfinish(conn);
    close(server);
    char path[300];
    snprintf(path, sizeof(path), "%s/.s.PGSQL.5999", dir);
    unlink(path);
    rmdir(dir);
}

/* Nothing listens: the attempt is refused at once, its reason kept, the back-off begins. */
static void test_refused_attempt_backs_off(void **state)
{
    PGconn *conn = PQconnectStart("host=/nonexistent-slad port=5999 dbname=x user=x");
    assert_non_null(conn);
    struct pg_connect c = {.dropped = true};
    struct pg_connect_wait w;
    for (int i = 0; i < 5 && c.failed == 0; i++)
        assert_int_equal(pg_connect_step(&c, conn, 50.0, &w), 0);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.state, PG_CONNECT_BACKOFF);
    assert_true(c.why[0] != '\0');
    assert_null(strchr(c.why, '\n'));
    assert_float_equal(w.at_s, 50.1, 1e-9);
    PQfinish(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_to_two_seconds),
        cmocka_unit_test(test_attempt_limit),
        cmocka_unit_test(test_attempt_abandoned_at_its_limit),
        cmocka_unit_test(test_refused_attempt_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
