/* test-record.c - the JSON texts of history rows, byte for byte: a creation, a PATCH that
 * sets, clears and removes, an event with hostile text, and effects (late, of a
 * follow-up task); absent strings and times are left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonx.h"
#include "record.h"

#define T0 INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */

static void check(const char *expect, char *got)
{
    assert_non_null(got);
    assert_string_equal(got, expect);
    free(got);
}

static void test_create(void **state)
{
    (void)state;
    struct ticket t;
    ticket_init(&t);
    t.source = "crm";
    t.reported_at_ms = T0 + 250;
    check("{\"source\":\"crm\",\"reported_at\":\"2026-03-02T08:00:00.250Z\"}", record_create(&t));
    t.external_id = "A-1";
    t.reported_at_ms = SLAD_NO_TIME;
    check("{\"source\":\"crm\",\"external_id\":\"A-1\"}", record_create(&t));
}

static void test_patch(void **state)
{
    (void)state;
    struct ticket_label labels[] = {{"zone", "b\"2"}, {"gone", NULL}};
    struct ticket_patch p = {
        .has_severity = true,
        .severity = 2,
        .has_team = true,
        .team = NULL,
        .has_assignee = true,
        .assignee = "li.si",
        .has_appointment_at = true,
        .appointment_at_ms = SLAD_NO_TIME,
        .labels = labels,
        .n_labels = 2,
    };
    check("{\"severity\":2,\"team\":null,\"assignee\":\"li.si\",\"appointment_at\":null,"
          "\"labels\":{\"zone\":\"b\\\"2\",\"gone\":null}}",
          record_patch(&p));
    struct ticket_patch moved = {.has_appointment_at = true, .appointment_at_ms = T0};
    check("{\"appointment_at\":\"2026-03-02T08:00:00Z\"}", record_patch(&moved));
    check("{}", record_patch(&(struct ticket_patch){.has_severity = false}));
}

static void test_event(void **state)
{
    (void)state;
    struct ticket_event ev = {.type = TICKET_EVENT_HOLD,
                              .at_ms = T0,
                              .by = "a\nb",
                              .note = "\",\"to\":\"closed",
                              .reason = "parts"};
    check("{\"event\":\"hold\",\"at\":\"2026-03-02T08:00:00Z\",\"from\":\"dispatched\",\"to\":"
          "\"on_hold\",\"by\":\"a\\nb\",\"note\":\"\\\",\\\"to\\\":\\\"closed\",\"reason\":"
          "\"parts\"}",
          record_event(&ev, TICKET_DISPATCHED, TICKET_ON_HOLD));
}

static void test_effect(void **state)
{
    (void)state;
    struct ticket t;
    ticket_init(&t);
    t.id = 42;
    char *notify_v[] = {"supervisor"};
    struct conf_strings notify = {notify_v, 1};
    struct effect step = {.kind = EFFECT_FOLLOWUP_STEP,
                          .at_ms = T0,
                          .step = 1,
                          .followup_id = 9,
                          .name = "回访",
                          .owner = "assignee",
                          .due_at_ms = T0,
                          .deadline_at_ms = INT64_MAX,
                          .notify = &notify};
    check("{\"at\":\"2026-03-02T08:00:00Z\",\"followup_id\":9,\"followup\":\"回访\",\"owner\":"
          "\"assignee\",\"due_at\":\"2026-03-02T08:00:00Z\",\"step\":1,\"event\":"
          "\"sla.escalation\",\"recipients\":[\"supervisor\"],\"late\":true}",
          record_effect(&t, &step, true));
    struct effect policy = {.kind = EFFECT_POLICY, .at_ms = T0, .name = "fast"};
    check("{\"at\":\"2026-03-02T08:00:00Z\",\"policy\":\"fast\"}",
          record_effect(&t, &policy, false));
}

/* Written by jsonw, not by jansson (issue 16): every kind of effect, with hostile text,
 * is the text jansson writes for it: read and written again by jansson (which keeps the
 * order of keys), it comes out byte for byte the same. */
static void test_effect_kinds_as_jansson_writes_them(void **state)
{
    (void)state;
    static const char hostile[] = "q\"\\/\x01\x1f\n\t\x7f 冰 😀 },\"x\":[";
    struct ticket t;
    ticket_init(&t);
    t.id = 7;
    t.appointment_at_ms = T0 + 1;
    t.repeat_count = 3;
    t.device_serial = (char *)hostile;
    t.fault_code = "E\"1";
    char *notify_v[] = {"supervisor", (char *)hostile};
    struct conf_strings notify = {notify_v, 2};
    for (int kind = 0; kind <= EFFECT_PLAN_STOPPED; kind++) {
        for (int late = 0; late < 2; late++) {
            struct effect e = {.kind = kind,
                               .at_ms = T0 + 250,
                               .name = hostile,
                               .owner = hostile,
                               .outcome = hostile,
                               .detail = hostile,
                               .step = 2,
                               .repeat = 1,
                               .followup_id = INT64_MAX,
                               .plan_id = -1,
                               .due_at_ms = T0,
                               .deadline_at_ms = T0 + 86400000,
                               .clock_state = SLACLOCK_BREACHED,
                               .notify = &notify};
            snprintf(e.clock, sizeof(e.clock), "%s", "c\"\\k\n冰");
            char *text = record_effect(&t, &e, late);
            assert_non_null(text);
            json_error_t err;
            json_t *o = json_loads(text, 0, &err);
            if (!o)
                fail_msg("kind %d: not JSON: %s: %s", kind, err.text, text);
            char *again = jsonx_dump(o, NULL);
            assert_non_null(again);
            if (strcmp(again, text) != 0)
                fail_msg("kind %d: jsonw %s, jansson %s", kind, text, again);
            assert_true(json_is_string(json_object_get(o, "at")));
            free(again);
            free(text);
            json_decref(o);
        }
    }
    /* Text that is not UTF-8: no record, as jansson refused it. */
    struct effect bad = {.kind = EFFECT_POLICY, .at_ms = T0, .name = "\xff"};
    assert_null(record_effect(&t, &bad, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_effect),
        cmocka_unit_test(test_effect_kinds_as_jansson_writes_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
