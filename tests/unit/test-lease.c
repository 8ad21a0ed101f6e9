/* test-lease.c - the scheduler lease of one instance (lib/core/lease.c) on explicit
 * instants: tables of steps (poll, answer, tick, may it act) for acquiring, renewing,
 * refusals, a failed renewal, expiry with no answer, a paused holder resuming (with and
 * without a stale answer), a fencing number that does not grow, a refused fencing check, a
 * graceful stop's release; then two instances on a model of the lease row: take-over after
 * failover_timeout, and split brain (the old holder paused past its lease must not act when
 * it resumes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "lease.h"

#define TTL   10000
#define EVERY 1000

enum op { POLL, ANSWER_OK, ANSWER_NO, TICK, MAY_ACT, FENCED, RELEASE, END };

struct step {
    int64_t at;
    enum op op;
    int64_t fencing; /* ANSWER_OK: the row's number */
    int expect;      /* POLL: lease_request; ANSWER_*, TICK: lease_event; MAY_ACT: bool */
};

struct scenario {
    const char *name;
    struct step steps[16];
};

#define ACQ   LEASE_REQUEST_ACQUIRE
#define REN   LEASE_REQUEST_RENEW
#define NONE  LEASE_REQUEST_NONE
#define GAIN  LEASE_EVENT_GAINED
#define RENEW LEASE_EVENT_RENEWED
#define LOST  LEASE_EVENT_LOST
#define QUIET LEASE_EVENT_NONE

static const struct scenario scenarios[] = {
    {"acquire, renew every second, act until the last renewal's send + ttl",
     {{0, POLL, 0, ACQ},
      {5, ANSWER_OK, 1, GAIN},
      {5, MAY_ACT, 0, 1},
      {500, POLL, 0, NONE},
      {1000, POLL, 0, REN},
      {1010, ANSWER_OK, 1, RENEW},
      {10999, MAY_ACT, 0, 1},
      {10999, TICK, 0, QUIET},
      {11000, MAY_ACT, 0, 0},
      {11000, TICK, 0, LOST},
      {0, END, 0, 0}}},
    {"refused: stays standby, asks again a second later",
     {{0, POLL, 0, ACQ},
      {3, ANSWER_NO, 0, QUIET},
      {3, MAY_ACT, 0, 0},
      {999, POLL, 0, NONE},
      {1000, POLL, 0, ACQ},
      {1001, ANSWER_OK, 4, GAIN},
      {1001, MAY_ACT, 0, 1},
      {0, END, 0, 0}}},
    {"a failed renewal loses the lease at once and asks again",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {1002, ANSWER_NO, 0, LOST},
      {1002, MAY_ACT, 0, 0},
      {1002, POLL, 0, ACQ},
      {1003, ANSWER_OK, 2, GAIN},
      {0, END, 0, 0}}},
    {"a renewal granted under another fencing number is a lost lease",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {1002, ANSWER_OK, 2, LOST},
      {1002, MAY_ACT, 0, 0},
      {0, END, 0, 0}}},
    {"no answer: the lease runs out at the last granted send + ttl",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {2000, POLL, 0, NONE}, /* one in flight */
      {9999, MAY_ACT, 0, 1},
      {10000, MAY_ACT, 0, 0},
      {10000, TICK, 0, LOST},
      {10500, ANSWER_OK, 1, QUIET}, /* the late answer does not bring it back */
      {10500, MAY_ACT, 0, 0},
      {10500, POLL, 0, ACQ},
      {0, END, 0, 0}}},
    {"paused holder resuming after its lease ran out must not act",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {1001, ANSWER_OK, 1, RENEW},
      /* SIGSTOP at 1500, SIGCONT at 30000: the first question is may it act. */
      {30000, MAY_ACT, 0, 0},
      {30000, POLL, 0, ACQ},
      {30001, ANSWER_NO, 0, QUIET},
      {30001, MAY_ACT, 0, 0},
      {0, END, 0, 0}}},
    {"paused with a renewal in flight: its grant, answered after the pause, is too late",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {30000, ANSWER_OK, 1, LOST},
      {30000, MAY_ACT, 0, 0},
      {0, END, 0, 0}}},
    {"an acquisition answered after its own ttl is no tenure",
     {{0, POLL, 0, ACQ}, {10000, ANSWER_OK, 1, QUIET}, {10000, MAY_ACT, 0, 0}, {0, END, 0, 0}}},
    {"a fencing number that does not grow is never acted on",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 5, GAIN},
      {1000, POLL, 0, REN},
      {1001, ANSWER_NO, 0, LOST},
      {1001, POLL, 0, ACQ},
      {1002, ANSWER_OK, 5, QUIET},
      {1002, MAY_ACT, 0, 0},
      {2001, POLL, 0, ACQ},
      {2002, ANSWER_OK, 6, GAIN},
      {0, END, 0, 0}}},
    {"a refused fencing check loses the lease at once, a renewal in flight with it",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {1200, FENCED, 0, LOST},
      {1200, MAY_ACT, 0, 0},
      {1201, ANSWER_OK, 1, QUIET}, /* the renewal's late grant does not bring it back */
      {1201, MAY_ACT, 0, 0},
      {1201, POLL, 0, ACQ},
      {1202, ANSWER_OK, 2, GAIN},
      {1202, MAY_ACT, 0, 1},
      {0, END, 0, 0}}},
    {"a standby's refused check changes nothing",
     {{0, POLL, 0, ACQ}, {1, ANSWER_NO, 0, QUIET}, {2, FENCED, 0, QUIET}, {0, END, 0, 0}}},
    {"a graceful stop gives the lease up: no acting, no asking, a late grant ignored",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_OK, 1, GAIN},
      {1000, POLL, 0, REN},
      {1200, RELEASE, 0, LOST},
      {1200, MAY_ACT, 0, 0},
      {1201, ANSWER_OK, 1, QUIET},
      {1201, MAY_ACT, 0, 0},
      {2000, POLL, 0, NONE},
      {99000, POLL, 0, NONE},
      {99000, TICK, 0, QUIET},
      {0, END, 0, 0}}},
    {"a standby stopping asks no more",
     {{0, POLL, 0, ACQ},
      {1, ANSWER_NO, 0, QUIET},
      {2, RELEASE, 0, QUIET},
      {5000, POLL, 0, NONE},
      {0, END, 0, 0}}},
};

static void test_scenarios(void **state)
{
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const struct scenario *sc = &scenarios[i];
        struct lease l;
        lease_init(&l, TTL, EVERY, 0);
        for (const struct step *s = sc->steps; s->op != END; s++) {
            int got = 0;
            switch (s->op) {
            case POLL:
                got = lease_poll(&l, s->at);
                break;
            case ANSWER_OK:
                got = lease_answer(&l, s->at, true, s->fencing);
                break;
            case ANSWER_NO:
                got = lease_answer(&l, s->at, false, 0);
                break;
            case TICK:
                got = lease_tick(&l, s->at);
                break;
            case MAY_ACT:
                got = lease_may_act(&l, s->at);
                break;
            case FENCED:
                got = lease_fenced(&l, s->at);
                break;
            case RELEASE:
                got = lease_release(&l, s->at);
                break;
            case END:
                break;
            }
            if (got != s->expect)
                fail_msg("%s: step %zu (at %lld, op %d): got %d, want %d", sc->name,
                         (size_t)(s - sc->steps), (long long)s->at, s->op, got, s->expect);
        }
    }
}

/* The lease row as the SQL of lib/store/lease_sql.c keeps it: acquire when expired (or
 * already ours), renew when ours under the same number and not expired. */
struct row {
    int holder; /* 0: none */
    int64_t fencing, expires;
};

static void exchange(struct lease *l, struct row *row, int who, int64_t now)
{
    enum lease_request req = lease_poll(l, now);
    if (req == LEASE_REQUEST_ACQUIRE) {
        bool ok = row->expires <= now || row->holder == who;
        if (ok) {
            row->holder = who;
            row->fencing++;
            row->expires = now + TTL;
        }
        lease_answer(l, now, ok, row->fencing);
    } else if (req == LEASE_REQUEST_RENEW) {
        bool ok = row->holder == who && row->fencing == l->fencing && row->expires > now;
        if (ok)
            row->expires = now + TTL;
        lease_answer(l, now, ok, row->fencing);
    }
}

/* A is the scheduler; at `stop` it stops (kill -9, or SIGSTOP until `resume`; 0: never).
 * B runs throughout. Every 10 ms both act on the same clock. */
static void run_pair(int64_t stop, int64_t resume, int64_t *ret_b_gained, int64_t *ret_a_last)
{
    struct lease a, b;
    struct row row = {0};
    lease_init(&a, TTL, EVERY, 0);
    lease_init(&b, TTL, EVERY, 5);
    *ret_b_gained = -1;
    *ret_a_last = -1;
    for (int64_t t = 0; t <= 60000; t += 10) {
        bool a_running = t < stop || (resume > 0 && t >= resume);
        if (a_running) {
            lease_tick(&a, t);
            exchange(&a, &row, 1, t);
            if (lease_may_act(&a, t))
                *ret_a_last = t;
        }
        if (t >= 5) {
            lease_tick(&b, t);
            exchange(&b, &row, 2, t);
        }
        if (lease_may_act(&b, t) && *ret_b_gained < 0)
            *ret_b_gained = t;
        if (a_running && lease_may_act(&a, t) && lease_may_act(&b, t))
            fail_msg("both act at %lld", (long long)t);
    }
    assert_int_equal(a.fencing, 1);
    assert_int_equal(b.fencing, 2);
    assert_int_equal(row.holder, 2);
}

static void test_takeover_after_failover_timeout(void **state)
{
    int64_t gained, a_last;
    run_pair(3005, 0, &gained, &a_last);
    /* A's last renewal was sent at 3000: the row expired at 13000; B asks every second. */
    assert_true(gained >= 13000);
    assert_true(gained <= 3005 + TTL + EVERY);
    assert_true(a_last < 3005);
}

static void test_split_brain_paused_holder_does_not_act(void **state)
{
    int64_t gained, a_last;
    run_pair(3005, 20000, &gained, &a_last);
    assert_true(gained >= 13000 && gained <= 3005 + TTL + EVERY);
    /* Resumed at 20000, A never acted again (B holds fencing 2; A's asks are refused). */
    assert_true(a_last < 3005);
}

/* A refused standby that learnt the row's expiry asks at that instant, not a period
 * later; never later than its period, and never while a request is in flight. */
static void test_ask_at_the_rows_expiry(void **state)
{
    struct lease l;
    lease_init(&l, TTL, EVERY, 0);
    assert_int_equal(lease_poll(&l, 0), LEASE_REQUEST_ACQUIRE);
    lease_ask_at(&l, 300); /* in flight: ignored */
    assert_int_equal(lease_next_ms(&l), INT64_MAX);
    assert_int_equal(lease_answer(&l, 2, false, 0), LEASE_EVENT_NONE);
    assert_int_equal(lease_next_ms(&l), 1000);
    lease_ask_at(&l, 5000); /* later than the period: the period stays */
    assert_int_equal(lease_next_ms(&l), 1000);
    lease_ask_at(&l, 301);
    assert_int_equal(lease_next_ms(&l), 301);
    assert_int_equal(lease_poll(&l, 300), LEASE_REQUEST_NONE);
    assert_int_equal(lease_poll(&l, 301), LEASE_REQUEST_ACQUIRE);
    assert_int_equal(lease_answer(&l, 302, true, 1), LEASE_EVENT_GAINED);
    lease_ask_at(&l, 400); /* a scheduler renews on its period */
    assert_int_equal(lease_next_ms(&l), 1301);
}

static void test_next_and_names(void **state)
{
    struct lease l;
    lease_init(&l, TTL, EVERY, 100);
    assert_int_equal(lease_next_ms(&l), 100);
    assert_int_equal(lease_poll(&l, 100), LEASE_REQUEST_ACQUIRE);
    assert_int_equal(lease_next_ms(&l), INT64_MAX); /* waiting for the answer */
    assert_int_equal(lease_answer(&l, 110, true, 1), LEASE_EVENT_GAINED);
    assert_int_equal(lease_next_ms(&l), 1100);
    assert_string_equal(lease_role_name(l.role), "scheduler");
    assert_string_equal(lease_role_name(LEASE_STANDBY), "standby");
    /* An answer with nothing in flight changes nothing. */
    assert_int_equal(lease_answer(&l, 120, false, 0), LEASE_EVENT_NONE);
    assert_true(lease_may_act(&l, 120));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_takeover_after_failover_timeout),
        cmocka_unit_test(test_split_brain_paused_holder_does_not_act),
        cmocka_unit_test(test_ask_at_the_rows_expiry),
        cmocka_unit_test(test_next_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
