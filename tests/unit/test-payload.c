/* test-payload.c - the outbox payload, both ways: what the service writes for each kind
 * of effect (tickets' and plan tasks' pseudo tickets) reads back equal, with hostile
 * strings too; the payload is the effect's history record and more; its text is the one
 * earlier versions wrote (rows already in a database read the same); and payloads that
 * are not what slad writes are read with each field absent, or refused as a whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "payload.h"
#include "record.h"
#include "recipient.h"
#include "slaclock.h"
#include "ticket.h"

#define T0 INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */

/* The strings of one round: ordinary ones, then hostile ones. */
struct words {
    const char *clock, *followup, *recipient, *contact, *address;
    const char *title, *team, *assignee, *customer, *phone, *street, *model, *serial;
};

static const struct words ordinary = {
    "response",         "回访",  "supervisor", "li.si",   "+8613800000001",
    "Boiler B-7 leaks", "north", "zhang.san",  "Wang Wu", "+8613800000009",
    "1 Jiefang Rd",     "B-7",   "SN-1001",
};

/* Quotes, backslashes, a forged field, control characters, escapes, placeholders,
 * markup, long and multi-byte text: each must come back as it went in, and none may add
 * or change a field. */
static const struct words hostile = {
    "resp\",\"ticket_id\":7,\"x\":\"",
    "\\\"}]}\n\r\t\x01\x1f done",
    "contact:a\\u0000b",
    "{{to}}</script><script>alert(1)</script>",
    "\"+86\" 138\\n0000\x7f",
    "\xe7\x81\xab\xe8\xad\xa6 \xf0\x9f\x94\xa5 \"title\" \\ \x08\x0c",
    "t\"eam",
    "a\nb",
    "=cmd|' /C calc'!A0",
    "%00%0d%0a",
    "\",\"severity\":1,\"title\":\"x",
    "m\\",
    "\"",
};

/* A ticket with two clocks, ticket id (0: a plan's pseudo ticket). */
static void make_ticket(struct ticket *t, int64_t id, const struct words *w)
{
    ticket_init(t);
    t->id = id;
    assert_int_equal(ticket_set_string(&t->title, w->title), 0);
    assert_int_equal(ticket_set_string(&t->source, id ? "crm" : "plan"), 0);
    assert_int_equal(ticket_set_string(&t->external_id, id ? "A-1" : "plan-3"), 0);
    assert_int_equal(ticket_set_string(&t->team, w->team), 0);
    assert_int_equal(ticket_set_string(&t->assignee, w->assignee), 0);
    assert_int_equal(ticket_set_string(&t->customer_name, w->customer), 0);
    assert_int_equal(ticket_set_string(&t->customer_phone, w->phone), 0);
    assert_int_equal(ticket_set_string(&t->customer_address, w->street), 0);
    assert_int_equal(ticket_set_string(&t->device_model, w->model), 0);
    assert_int_equal(ticket_set_string(&t->device_serial, w->serial), 0);
    assert_int_equal(ticket_set_string(&t->fault_code, "E42"), 0);
    t->severity = id ? 2 : 0; /* a plan's pseudo ticket may come without one */
    t->repeat_count = 3;
    t->appointment_at_ms = T0 + 7200 * 1000;
    t->n_clocks = 2;
    struct slaclock *c = &t->clocks[0];
    snprintf(c->name, sizeof(c->name), "%s", "other");
    c->state = SLACLOCK_RUNNING;
    c = &t->clocks[1];
    snprintf(c->name, sizeof(c->name), "%s", w->clock);
    c->state = SLACLOCK_BREACHED;
    c->target_ms = 3600 * 1000;
    c->elapsed_ms = 3700 * 1000 + 1;
    c->since_ms = T0 + 250;
    c->started_at_ms = T0 - 3600 * 1000;
    c->stopped_at_ms = SLAD_NO_TIME;
    c->due_at_ms = T0 - 100 * 1000;
    c->breached_at_ms = T0 - 99 * 1000 - 1;
    c->stop_event = -1;
}

static void check_string(int line, const char *what, const char *got, const char *expect)
{
    if (!got != !expect || (got && strcmp(got, expect) != 0))
        fail_msg("case %d: %s is '%s', expected '%s'", line, what, got ? got : "(none)",
                 expect ? expect : "(none)");
}

/* The pseudo ticket as the API reads it back. */
static void check_pseudo_ticket(int line, const struct ticket *got, const struct ticket *t)
{
    check_string(line, "title", got->title, t->title);
    check_string(line, "source", got->source, t->source);
    check_string(line, "external_id", got->external_id, t->external_id);
    check_string(line, "team", got->team, t->team);
    check_string(line, "assignee", got->assignee, t->assignee);
    check_string(line, "customer.name", got->customer_name, t->customer_name);
    check_string(line, "customer.phone", got->customer_phone, t->customer_phone);
    check_string(line, "customer.address", got->customer_address, t->customer_address);
    check_string(line, "device.model", got->device_model, t->device_model);
    check_string(line, "device.serial", got->device_serial, t->device_serial);
    if (got->severity != (t->severity ? t->severity : 5))
        fail_msg("case %d: severity %d", line, got->severity);
}

static void check_clock(int line, const struct slaclock *got, const struct slaclock *c)
{
    check_string(line, "clock name", got->name, c->name);
    if (got->state != c->state || got->target_ms != c->target_ms ||
        got->elapsed_ms != c->elapsed_ms || got->since_ms != c->since_ms ||
        got->started_at_ms != c->started_at_ms || got->due_at_ms != c->due_at_ms ||
        got->breached_at_ms != c->breached_at_ms || got->stopped_at_ms != SLAD_NO_TIME ||
        got->stop_event != -1)
        fail_msg("case %d: clock '%s' came back changed", line, c->name);
}

/* Encode effect e of t for a recipient with w's strings, decode, compare; and the
 * payload begins with e's history record. line: the case, for messages. */
static void round_trip(int line, const struct ticket *t, const struct effect *e,
                       const struct words *w)
{
    struct conf_contact contact = {.name = (char *)w->contact};
    struct recipient rc = {.contact = &contact, .address = w->address};
    snprintf(rc.text, sizeof(rc.text), "%s", w->recipient);

    char *text = payload_encode(t, e, true, &rc, NULL);
    if (!text)
        fail_msg("case %d: kind %s not encoded", line, effect_kind_name(e->kind));
    char *record = record_effect(t, e, true);
    assert_non_null(record);
    size_t rlen = strlen(record);
    if (strncmp(text, record, rlen - 1) != 0 || text[rlen - 1] != ',')
        fail_msg("case %d: payload %s does not extend its record %s", line, text, record);

    struct payload p;
    struct slad_error err = {{0}};
    if (payload_decode(text, T0, &p, &err) < 0)
        fail_msg("case %d: %s: %s", line, text, err.msg);
    bool step = e->kind == EFFECT_STEP, followup_step = e->kind == EFFECT_FOLLOWUP_STEP;
    bool numbered = step || followup_step || e->kind == EFFECT_REMINDER;
    bool task = e->kind == EFFECT_FOLLOWUP || e->kind == EFFECT_FOLLOWUP_DUE || followup_step ||
                e->kind == EFFECT_FOLLOWUP_DONE;
    if (p.ticket_id != t->id || p.step != (numbered ? e->step : 0) ||
        p.repeat != (step ? e->repeat : 0u))
        fail_msg("case %d: %s: ticket %lld step %d repeat %u", line, text, (long long)p.ticket_id,
                 p.step, p.repeat);
    check_string(line, "recipient", p.recipient, w->recipient);
    check_string(line, "contact", p.contact, w->contact);
    check_string(line, "address", p.address, w->address);
    check_string(line, "followup", p.followup, task ? e->name : NULL);
    if (p.followup_deadline_ms != (task ? e->deadline_at_ms : SLAD_NO_TIME))
        fail_msg("case %d: deadline %lld", line, (long long)p.followup_deadline_ms);
    assert_int_equal(p.has_clock, step);
    if (step)
        check_clock(line, &p.clock, &t->clocks[1]);
    assert_int_equal(p.has_ticket, t->id == 0);
    if (!t->id)
        check_pseudo_ticket(line, &p.ticket, t);
    payload_done(&p);
    free(record);
    free(text);
}

/* Every kind of effect, on a ticket and on a plan's pseudo ticket, with ordinary and
 * hostile strings. */
static void test_round_trip(void **state)
{
    (void)state;
    const struct words *rounds[] = {&ordinary, &hostile};
    for (size_t k = 0; k < 2; k++) {
        const struct words *w = rounds[k];
        char *notify_v[] = {(char *)w->recipient, "manager"};
        struct conf_strings notify = {notify_v, 2};
        struct effect effects[] = {
            {.kind = EFFECT_POLICY, .name = "fast"},
            {.kind = EFFECT_CLOCK, .clock_state = SLACLOCK_MET},
            {.kind = EFFECT_STEP, .event = "sla.breach", .step = 2, .repeat = 3, .notify = &notify},
            {.kind = EFFECT_REMINDER, .step = 1, .notify = &notify},
            {.kind = EFFECT_FOLLOWUP, .name = w->followup, .owner = w->assignee},
            {.kind = EFFECT_REPEAT_FAULT, .event = "ticket.repeat_fault", .notify = &notify},
            {.kind = EFFECT_FOLLOWUP_DUE, .event = "followup.due", .followup_id = 9},
            {.kind = EFFECT_FOLLOWUP_STEP,
             .event = "followup.overdue",
             .step = 4,
             .followup_id = 9,
             .notify = &notify},
            {.kind = EFFECT_FOLLOWUP_DONE,
             .event = "followup.unsatisfied",
             .followup_id = 9,
             .outcome = "unsatisfied",
             .notify = &notify},
        };
        for (size_t i = 0; i < sizeof(effects) / sizeof(effects[0]); i++) {
            struct effect *e = &effects[i];
            e->at_ms = T0 + 1234;
            snprintf(e->clock, sizeof(e->clock), "%s", w->clock);
            if (e->kind >= EFFECT_FOLLOWUP_DUE) {
                e->name = w->followup;
                e->owner = w->assignee;
            }
            e->due_at_ms = T0 + 86400 * 1000;
            e->deadline_at_ms = T0 + 3 * 86400 * 1000 + 5; /* milliseconds survive */
            for (int64_t id = 42; id >= 0; id -= 42) {
                struct ticket t;
                make_ticket(&t, id, w);
                round_trip((int)(1000 * k + 10 * i) + (id == 0), &t, e, w);
                ticket_done(&t);
            }
        }
    }
}

/* The text of an escalation step's payload, byte for byte as slad has always written
 * it: rows queued by an earlier version are read by this one, and the other way. */
static void test_text_is_stable(void **state)
{
    (void)state;
    struct ticket t;
    make_ticket(&t, 42, &ordinary);
    char *notify_v[] = {"supervisor"};
    struct conf_strings notify = {notify_v, 1};
    struct effect e = {
        .kind = EFFECT_STEP, .at_ms = T0, .event = "sla.breach", .step = 2, .notify = &notify};
    snprintf(e.clock, sizeof(e.clock), "%s", "response");
    struct conf_contact contact = {.name = "li.si"};
    struct recipient rc = {.text = "supervisor", .contact = &contact, .address = "+8613800000001"};
    char *text = payload_encode(&t, &e, false, &rc, NULL);
    assert_string_equal(
        text, "{\"at\":\"2026-03-02T08:00:00Z\",\"clock\":\"response\",\"step\":2,\"repeat\":0,"
              "\"event\":\"sla.breach\",\"recipients\":[\"supervisor\"],\"ticket_id\":42,"
              "\"recipient\":\"supervisor\",\"contact\":\"li.si\",\"address\":\"+8613800000001\","
              "\"clock_snapshot\":{\"name\":\"response\",\"state\":\"breached\",\"target_ms\":"
              "3600000,\"elapsed_ms\":3700001,\"since_ms\":1772438400250,\"started_at_ms\":"
              "1772434800000,\"due_at_ms\":1772438300000,\"breached_at_ms\":1772438300999}}");
    free(text);
    ticket_done(&t);
}

/* What slad does not write: each field of the wrong type is absent, a snapshot without a
 * name or a known state is no clock, a pseudo ticket that is not an object is none, one
 * the API would refuse is refused; text that is not an object is -EBADMSG. */
static void test_foreign_payloads(void **state)
{
    (void)state;
    struct payload p;
    struct slad_error err = {{0}};
    assert_int_equal(payload_decode(NULL, T0, &p, &err), 0);
    assert_int_equal(p.ticket_id, 0);
    assert_null(p.contact);
    assert_false(p.has_clock);
    assert_false(p.has_ticket);
    payload_done(&p);

    assert_int_equal(payload_decode("{\"step\":\"2\",\"reminder\":3,\"repeat\":true,"
                                    "\"contact\":7,\"address\":null,\"followup\":[],"
                                    "\"deadline_at\":\"tomorrow\",\"plan_ticket\":\"x\","
                                    "\"clock_snapshot\":{\"name\":\"r\",\"state\":\"odd\"}}",
                                    T0, &p, &err),
                     0);
    assert_int_equal(p.step, 3); /* a reminder's number where no step is */
    assert_int_equal(p.repeat, 0);
    assert_null(p.contact);
    assert_null(p.address);
    assert_null(p.followup);
    assert_true(p.followup_deadline_ms == SLAD_NO_TIME);
    assert_false(p.has_clock);
    assert_false(p.has_ticket);
    payload_done(&p);

    assert_int_equal(payload_decode("{\"clock_snapshot\":{\"name\":\"r\",\"state\":\"running\"},"
                                    "\"deadline_at\":\"2026-03-04T16:00:00.005+08:00\"}",
                                    T0, &p, &err),
                     0);
    assert_true(p.has_clock);
    assert_string_equal(p.clock.name, "r");
    assert_true(p.clock.due_at_ms == SLAD_NO_TIME && p.clock.target_ms == 0);
    assert_true(p.followup_deadline_ms == T0 + 2 * 86400 * 1000 + 5);
    payload_done(&p);

    /* A pseudo ticket the API would refuse: its error, nothing returned. */
    assert_int_equal(payload_decode("{\"plan_ticket\":{\"severity\":3}}", T0, &p, &err), -ENODATA);
    assert_non_null(strstr(err.msg, "title"));

    const char *not_objects[] = {"", "[]", "\"x\"", "{", "{\"a\":1}x", "null"};
    for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++)
        if (payload_decode(not_objects[i], T0, &p, &err) != -EBADMSG)
            fail_msg("'%s' was read", not_objects[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_text_is_stable),
        cmocka_unit_test(test_foreign_payloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
