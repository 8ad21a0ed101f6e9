/* test-pwcheck.c - password checks on the worker thread (daemon/pwcheck.c): results come
 * back on the loop in submission order, a wrong password or an unusable hash never
 * matches, a full queue refuses at once, a cancelled check calls nobody back, freeing
 * with checks pending neither calls them nor leaks, and the worker starts with the first
 * check. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>

#include "pwcheck.h"

/* libxcrypt's yescrypt of "right" (crypt_gensalt "$y$" + crypt). */
static const char hash_right[] =
    "$y$j9T$zZi2M9.3vFAJmRyxJPrbZ/$ahRto/pb8YxL2/vSKgf864xodDkrxzYlV0KxvZFMC57";

struct results {
    int n;
    int order[8];
    bool match[8];
};

struct probe {
    struct results *r;
    int id;
};

static void done(void *userdata, bool match)
{
    struct probe *p = userdata;
    p->r->order[p->r->n] = p->id;
    p->r->match[p->r->n] = match;
    p->r->n++;
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* The loop until n results came back (at most 20 s): pwcheck's watcher does not keep a
 * loop running by itself (the daemon's other watchers do), so a timer ticks meanwhile. */
static void run_until(struct ev_loop *loop, struct results *r, int n)
{
    ev_timer t;
    ev_timer_init(&t, tick, 0.01, 0.01);
    ev_timer_start(loop, &t);
    for (int i = 0; i < 2000 && r->n < n; i++)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &t);
}

static void test_results_in_order(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct pwcheck *p = pwcheck_new(loop, 4);
    assert_non_null(p);
    struct results r = {0};
    struct probe probes[3] = {{&r, 0}, {&r, 1}, {&r, 2}};
    bool busy;
    /* The one the hash was made from (a phrase), a wrong one, an unusable hash. */
    assert_non_null(
        pwcheck_submit(p, "not a password anyone types", hash_right, done, &probes[0], &busy));
    assert_non_null(pwcheck_submit(p, "wrong", hash_right, done, &probes[1], &busy));
    assert_non_null(pwcheck_submit(p, "wrong", "$1$not$slad", done, &probes[2], &busy));
    assert_int_equal(r.n, 0); /* never from inside submit */
    run_until(loop, &r, 3);
    assert_int_equal(r.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r.order[i], i);
    assert_true(r.match[0]);
    assert_false(r.match[1]);
    assert_false(r.match[2]);
    pwcheck_free(p);
    ev_loop_destroy(loop);
}

/* The threads of this process (/proc/self/task). */
static int threads_now(void)
{
    DIR *dir = opendir("/proc/self/task");
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n;
}

/* No worker until a check needs it: a daemon nobody signs in to starts and stops without
 * one. Freed without a check, there is nothing to join. */
static void test_worker_starts_with_the_first_check(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    int before = threads_now();
    struct pwcheck *unused = pwcheck_new(loop, 2);
    assert_non_null(unused);
    assert_int_equal(threads_now(), before);
    pwcheck_free(unused);

    struct pwcheck *p = pwcheck_new(loop, 2);
    assert_int_equal(threads_now(), before);
    struct results r = {0};
    struct probe probes[2] = {{&r, 0}, {&r, 1}};
    bool busy;
    assert_non_null(pwcheck_submit(p, "wrong", hash_right, done, &probes[0], &busy));
    assert_int_equal(threads_now(), before + 1);
    run_until(loop, &r, 1);
    assert_non_null(pwcheck_submit(p, "wrong", hash_right, done, &probes[1], &busy));
    assert_int_equal(threads_now(), before + 1); /* the same worker */
    run_until(loop, &r, 2);
    assert_int_equal(r.n, 2);
    pwcheck_free(p);
    ev_loop_destroy(loop);
}

static void test_bounded_and_cancelled(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct pwcheck *p = pwcheck_new(loop, 2);
    struct results r = {0};
    struct probe probes[3] = {{&r, 0}, {&r, 1}, {&r, 2}};
    bool busy = false;
    struct pwcheck_job *a = pwcheck_submit(p, "x", hash_right, done, &probes[0], &busy);
    assert_non_null(a);
    assert_non_null(pwcheck_submit(p, "y", hash_right, done, &probes[1], &busy));
    assert_null(pwcheck_submit(p, "z", hash_right, done, &probes[2], &busy));
    assert_true(busy);
    pwcheck_cancel(a);
    run_until(loop, &r, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.order[0], 1);
    /* Both slots are free again. */
    assert_non_null(pwcheck_submit(p, "z", hash_right, done, &probes[2], &busy));
    assert_false(busy);
    /* Freed with it pending: no call back, no leak (ASan). */
    pwcheck_free(p);
    assert_int_equal(r.n, 1);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_in_order),
        cmocka_unit_test(test_bounded_and_cancelled),
        cmocka_unit_test(test_worker_starts_with_the_first_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
