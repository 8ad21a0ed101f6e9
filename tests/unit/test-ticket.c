/* test-ticket.c - the status/event table of SPEC 1, cell by cell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ticket.h"
#include "ticket_diff.h"

/* Expected target status per (status, event); -1 = refused. Rows: statuses in enum order
 * open, acknowledged, dispatched, on_site, on_hold, resolved, closed, cancelled. Columns:
 * acknowledge dispatch arrive hold resume resolve reopen close cancel comment. */
#define X    (-1)
#define O    TICKET_OPEN
#define A    TICKET_ACKNOWLEDGED
#define D    TICKET_DISPATCHED
#define S    TICKET_ON_SITE
#define H    TICKET_ON_HOLD
#define R    TICKET_RESOLVED
#define C    TICKET_CLOSED
#define N    TICKET_CANCELLED
#define SAME (-2) /* comment keeps the status */
#define BACK (-3) /* resume returns to the status before the hold */
static const int table[TICKET_STATUS_COUNT][TICKET_EVENT_COUNT] = {
    /*              ack dis arr hold resume resolve reopen close cancel comment */
    [TICKET_OPEN] = {A, D, S, H, X, R, X, X, N, SAME},
    [TICKET_ACKNOWLEDGED] = {X, D, S, H, X, R, X, X, N, SAME},
    [TICKET_DISPATCHED] = {X, D, S, H, X, R, X, X, N, SAME},
    [TICKET_ON_SITE] = {X, X, X, H, X, R, X, X, N, SAME},
    [TICKET_ON_HOLD] = {X, X, X, X, BACK, R, X, X, N, SAME},
    [TICKET_RESOLVED] = {X, X, X, X, X, X, O, C, N, SAME},
    [TICKET_CLOSED] = {X, X, X, X, X, X, O, X, X, SAME},
    [TICKET_CANCELLED] = {X, X, X, X, X, X, X, X, X, SAME},
};

static void test_every_cell(void **state)
{
    (void)state;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++) {
        for (int e = 0; e < TICKET_EVENT_COUNT; e++) {
            struct slad_error err = {{0}};
            int r = ticket_event_check((enum ticket_status)s, (enum ticket_event_type)e, &err);
            int want = table[s][e];
            if (want == X) {
                if (r != -EBUSY)
                    fail_msg("%s in %s: expected refusal", ticket_event_name(e),
                             ticket_status_name(s));
                /* The message names the current status and the allowed events. */
                char quoted[64];
                snprintf(quoted, sizeof(quoted), "'%s'", ticket_status_name(s));
                assert_non_null(strstr(err.msg, quoted));
                assert_non_null(strstr(err.msg, "allowed events: "));
                assert_non_null(strstr(err.msg, "comment"));
                continue;
            }
            if (r != 0)
                fail_msg("%s in %s: refused: %s", ticket_event_name(e), ticket_status_name(s),
                         err.msg);
            int target = ticket_event_target(s, e, TICKET_DISPATCHED);
            int expected = want == SAME ? s : want == BACK ? TICKET_DISPATCHED : want;
            if (target != expected)
                fail_msg("%s in %s: got %s, want %s", ticket_event_name(e), ticket_status_name(s),
                         ticket_status_name(target), ticket_status_name(expected));
        }
    }
}

static void test_refusal_lists_allowed(void **state)
{
    (void)state;
    struct slad_error err;
    assert_int_equal(ticket_event_check(TICKET_RESOLVED, TICKET_EVENT_ARRIVE, &err), -EBUSY);
    assert_string_equal(err.msg, "event 'arrive' is not allowed: ticket is 'resolved'; "
                                 "allowed events: reopen, close, cancel, comment");
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++)
        assert_int_equal(ticket_status_from_name(ticket_status_name(s)), s);
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        assert_int_equal(ticket_event_from_name(ticket_event_name(e)), e);
    assert_int_equal(ticket_status_from_name("onsite"), -1);
    assert_int_equal(ticket_event_from_name(NULL), -1);
    assert_true(ticket_status_is_active(TICKET_ON_SITE));
    assert_false(ticket_status_is_active(TICKET_ON_HOLD));
    assert_true(ticket_status_is_open(TICKET_ON_HOLD));
    assert_false(ticket_status_is_open(TICKET_RESOLVED));
}

static void test_labels_and_copy(void **state)
{
    (void)state;
    struct ticket t, copy;
    ticket_init(&t);
    assert_int_equal(ticket_set_string(&t.title, "断网"), 0);
    assert_int_equal(ticket_set_label(&t, "kind", "emergency"), 0);
    assert_int_equal(ticket_set_label(&t, "warranty", "in"), 0);
    assert_int_equal(ticket_set_label(&t, "kind", "complaint"), 0);
    assert_string_equal(ticket_label(&t, "kind"), "complaint");
    assert_int_equal(ticket_set_label(&t, "warranty", NULL), 0);
    assert_null(ticket_label(&t, "warranty"));
    assert_int_equal(t.n_labels, 1);
    assert_int_equal(ticket_copy(&copy, &t), 0);
    assert_string_equal(copy.title, "断网");
    assert_ptr_not_equal(copy.title, t.title);
    assert_string_equal(ticket_label(&copy, "kind"), "complaint");
    for (int i = 0; t.n_labels < TICKET_MAX_LABELS; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(ticket_set_label(&t, key, "v"), 0);
    }
    assert_int_equal(ticket_set_label(&t, "one-too-many", "v"), -E2BIG);
    ticket_done(&t);
    ticket_done(&copy);
}

/* A repeat's body against the stored ticket: only what the repeat sets counts. */
static void test_diff(void **state)
{
    (void)state;
    struct ticket stored, sent;
    ticket_init(&stored);
    ticket_init(&sent);
    assert_int_equal(ticket_set_string(&stored.title, "no cooling"), 0);
    assert_int_equal(ticket_set_string(&stored.team, "north"), 0);
    assert_int_equal(ticket_set_string(&stored.customer_name, "Wang"), 0);
    assert_int_equal(ticket_set_label(&stored, "contract", "gold"), 0);
    assert_int_equal(ticket_set_label(&stored, "site", "b1"), 0);
    stored.severity = 2;
    char buf[128];

    /* Nothing set, or the same values: no difference. */
    assert_int_equal(ticket_diff(&sent, &stored, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ticket_set_string(&sent.title, "no cooling"), 0);
    assert_int_equal(ticket_set_label(&sent, "contract", "gold"), 0);
    sent.severity = 2;
    assert_int_equal(ticket_diff(&sent, &stored, buf, sizeof(buf)), 0);

    /* Each differing field by its API name, in a fixed order. */
    assert_int_equal(ticket_set_string(&sent.title, "no cooling at all"), 0);
    sent.severity = 1;
    assert_int_equal(ticket_set_string(&sent.customer_name, "Li"), 0);
    assert_int_equal(ticket_set_string(&sent.assignee, "sup"), 0); /* stored has none */
    assert_int_equal(ticket_set_label(&sent, "contract", "silver"), 0);
    sent.appointment_at_ms = 1000;
    assert_int_equal(ticket_diff(&sent, &stored, buf, sizeof(buf)), 6);
    assert_string_equal(buf, "title, severity, customer.name, assignee, appointment_at, labels");

    /* A short buffer is cut, the count stays. */
    char small[8];
    assert_int_equal(ticket_diff(&sent, &stored, small, sizeof(small)), 6);
    assert_string_equal(small, "title, ");
    ticket_done(&sent);
    ticket_done(&stored);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell),
        cmocka_unit_test(test_refusal_lists_allowed),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_labels_and_copy),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
