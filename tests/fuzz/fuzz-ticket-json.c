/* fuzz-ticket-json.c - the request body parsers of jsonx on arbitrary bytes.
 *
 * The first byte picks the parser (ticket, event, PATCH, simulate, RFC 3339 time); the
 * rest is the body. Invariants checked: every failure has a message and an API error
 * code, and renders as valid JSON; a parsed ticket renders, and its rendering without
 * slad's fields parses back to the same rendering (round trip); a parsed time formats
 * and parses back to the same instant. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define NOW_MS INT64_C(1772323200000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* CHECK() vanishes in release builds; a broken invariant must crash in every build. */
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_error(int r, const struct slad_error *err)
{
    CHECK(r < 0);
    if (r == -ENOMEM)
        return;
    CHECK(err->msg[0] != '\0');
    const char *code = jsonx_error_code(r);
    CHECK(strcmp(code, "internal") != 0);
    char *body = jsonx_error_body(code, err->msg, NULL);
    CHECK(body);
    json_t *v = json_loads(body, 0, NULL);
    CHECK(v);
    json_decref(v);
    free(body);
}

static void round_trip(const struct ticket *t)
{
    json_t *v = jsonx_ticket_render(t, NULL, NOW_MS);
    CHECK(v);
    static const char *const slad_fields[] = {"id",           "status",      "policy",
                                              "clocks",       "created_at",  "updated_at",
                                              "reopen_count", "repeat_count"};
    for (size_t i = 0; i < sizeof(slad_fields) / sizeof(slad_fields[0]); i++)
        json_object_del(v, slad_fields[i]);
    size_t len;
    char *text = jsonx_dump(v, &len);
    CHECK(text);
    struct ticket u;
    struct slad_error err = {""};
    int r = jsonx_ticket_parse(text, len, NOW_MS, &u, &err);
    CHECK(r == 0);
    json_t *w = jsonx_ticket_render(&u, NULL, NOW_MS);
    CHECK(w);
    for (size_t i = 0; i < sizeof(slad_fields) / sizeof(slad_fields[0]); i++)
        json_object_del(w, slad_fields[i]);
    CHECK(json_equal(v, w));
    json_decref(w);
    ticket_done(&u);
    free(text);
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct slad_error err = {""};
    int r;
    switch (data[0] % 5) {
    case 0: {
        struct ticket t;
        r = jsonx_ticket_parse(body, len, NOW_MS, &t, &err);
        if (r < 0) {
            check_error(r, &err);
            break;
        }
        CHECK(t.title && t.severity >= 1 && t.severity <= 5);
        CHECK(t.reported_at_ms <= NOW_MS);
        round_trip(&t);
        ticket_done(&t);
        break;
    }
    case 1: {
        struct jsonx_event e;
        r = jsonx_event_parse(body, len, NOW_MS, &e, &err);
        if (r < 0) {
            check_error(r, &err);
            break;
        }
        CHECK(e.ev.at_ms <= NOW_MS);
        CHECK(e.ev.type != TICKET_EVENT_DISPATCH || e.ev.assignee);
        CHECK(e.ev.type != TICKET_EVENT_HOLD || e.ev.reason);
        jsonx_event_done(&e);
        break;
    }
    case 2: {
        struct jsonx_patch p;
        r = jsonx_patch_parse(body, len, &p, &err);
        if (r < 0) {
            check_error(r, &err);
            break;
        }
        CHECK(!p.patch.has_severity || (p.patch.severity >= 1 && p.patch.severity <= 5));
        CHECK(p.patch.n_labels <= TICKET_MAX_LABELS);
        jsonx_patch_done(&p);
        break;
    }
    case 3: {
        struct jsonx_simulate s;
        r = jsonx_simulate_parse(body, len, NOW_MS, &s, &err);
        if (r < 0) {
            check_error(r, &err);
            break;
        }
        /* Events out of order parse: the run refuses them (ticket_event_check_order, 409),
         * as the events route does. */
        CHECK(s.until_ms >= s.ticket.reported_at_ms);
        jsonx_simulate_done(&s);
        break;
    }
    case 4: {
        char *text = malloc(len + 1);
        if (!text)
            return 0;
        memcpy(text, body, len);
        text[len] = '\0';
        int64_t ms;
        if (jsonx_time_parse(text, &ms, &err) == 0) {
            char buf[JSONX_TIME_MAX];
            int64_t back;
            CHECK(jsonx_time_parse(jsonx_time_format(ms, buf, sizeof(buf)), &back, NULL) == 0);
            CHECK(back == ms);
        } else {
            CHECK(err.msg[0]);
        }
        free(text);
        break;
    }
    }
    return 0;
}
