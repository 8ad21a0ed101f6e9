/* test-api.c - the HTTP API over the real service and an in-memory store: routing (404,
 * 405 with Allow), the error shape, 400/409/413, idempotent intake (201 then 200), GET
 * with history, events, PATCH, list filters and pagination, strict query decoding,
 * /healthz, /metrics, reload hooks, /v1/simulate and formula cells in the report's CSV.
 *
 * How large answers grow (issue 11: a ticket with 1000 comments of 64 KiB answered 65 MB):
 * worst-case items (every field at its limit, of characters JSON escapes six-fold, history
 * rows written before the note limit) fill every listing; each route's answer must stay
 * under 1 MiB (request() checks every answer of this file) and paging must still reach
 * every row exactly once. Also the note limit, GET /v1/tickets/{id}/history and the newest
 * history and notifications shown with a ticket. An operation the database refused for
 * concurrency (-EAGAIN, injected) is run once more before its 503. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agenda.h"
#include "api.h"
#include "apifixture.h"
#include "testdb.h"
#include "lease.h"
#include "conf_load.h"
#include "db.h"
#include "followup.h"
#include "metrics.h"
#include "openapi.h"
#include "plan.h"
#include "service.h"
#include "store.h"
#include "store_db.h"
#include "store_followup.h"
#include "store_internal.h"
#include "store_plan.h"

#define T0_MS      INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define HOUR_MS    INT64_C(3600000)
#define ANSWER_MAX ((size_t)1 << 20) /* the bound of issue 11 */

static const char conf_text[] =
    "daemon = { max_body = 4096; };\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"li.si\"]; }; } );\n"
    "contacts = ( { name = \"li.si\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "policies = (\n"
    "  { name = \"critical\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = (\n"
    "      { name = \"response\"; target = \"1h\";\n"
    "        stop = [\"acknowledge\", \"dispatch\", \"arrive\", \"resolve\"];\n"
    "        escalate = ( { at = \"100%\"; notify = [\"supervisor\"]; } ); },\n"
    "      { name = \"resolution\"; target = \"24h\"; stop = [\"resolve\"];\n"
    "        pause = [\"on_hold\"]; } ); },\n"
    "  { name = \"default\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"acknowledge\"]; } ); }\n"
    ");\n"
    "intakes = ( { name = \"prom\"; type = \"alertmanager\"; team = \"north\"; },\n"
    "            { name = \"pd\"; type = \"pagerduty\"; } );\n";

struct fixture {
    struct api_fixture a;
    int reload_result;
    int reloads;
};

static int reload_hook(void *userdata, char *errbuf, size_t size)
{
    struct fixture *f = userdata;
    f->reloads++;
    if (f->reload_result < 0)
        snprintf(errbuf, size, "slad.conf:3: unknown key 'polices'");
    return f->reload_result;
}

static int setup_with(void **state, const char *text)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct api_hooks hooks = {reload_hook, f};
    api_fixture_open(&f->a, text, &hooks);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, conf_text);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    api_fixture_close(&f->a);
    free(f);
    return 0;
}

/* One request; the response body parsed as JSON into *ret_json when it is JSON. */
static int request(struct fixture *f, const char *method, const char *path, const char *query,
                   const char *body, int64_t now_ms, struct api_response *resp, json_t **ret_json)
{
    struct api_request req = {method, path, query, body, body ? strlen(body) : 0};
    api_handle(f->a.api, &req, now_ms, resp);
    assert_non_null(resp->body);
    assert_int_equal(resp->body_len, strlen(resp->body));
    if (resp->body_len >= ANSWER_MAX)
        fail_msg("%s %s?%s answered %zu bytes, not under %zu", method, path, query ? query : "",
                 resp->body_len, ANSWER_MAX);
    if (ret_json) {
        json_error_t jerr;
        *ret_json = json_loadb(resp->body, resp->body_len, 0, &jerr);
        if (!*ret_json)
            fail_msg("%s %s: not JSON (%s): %s", method, path, jerr.text, resp->body);
    }
    return resp->status;
}

/* The error body has exactly {"error":{"code","message"}}. */
static void check_error(int line, const struct api_response *resp, json_t *v, int status,
                        const char *code, const char *msg)
{
    json_t *e = json_object_get(v, "error");
    if (resp->status != status || json_object_size(v) != 1 || json_object_size(e) != 2 ||
        !json_is_string(json_object_get(e, "message")) ||
        strcmp(json_string_value(json_object_get(e, "code")), code) != 0 ||
        (msg && !strstr(json_string_value(json_object_get(e, "message")), msg)))
        fail_msg("line %d: %d %s, want %d %s '%s'", line, resp->status, resp->body, status, code,
                 msg ? msg : "");
    assert_string_equal(resp->content_type, "application/json");
    assert_false(resp->wrote);
}

static int64_t create(struct fixture *f, const char *body, int64_t now_ms, int want_status)
{
    struct api_response resp;
    json_t *v;
    int status = request(f, "POST", "/v1/tickets", NULL, body, now_ms, &resp, &v);
    if (status != want_status)
        fail_msg("create: %d %s", status, resp.body);
    assert_true(resp.wrote);
    int64_t id = json_integer_value(json_object_get(v, "id"));
    json_decref(v);
    api_response_done(&resp);
    return id;
}

static void test_routing(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int line;
        const char *method, *path;
        int status;
        const char *code, *allow;
    } cases[] = {
        {__LINE__, "GET", "/", 404, "not_found", ""},
        {__LINE__, "GET", "/v1", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets/", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets//events", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets/abc", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets/0", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets/-1", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/tickets/99999999999999999999", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/followups/1", 404, "not_found", ""},
        {__LINE__, "GET", "/v1/followups/1/complete", 405, "method_not_allowed", "POST"},
        {__LINE__, "PUT", "/v1/plans", 405, "method_not_allowed", "POST, GET, HEAD"},
        {__LINE__, "POST", "/v1/plans/1", 405, "method_not_allowed", "GET, HEAD, PATCH, DELETE"},
        {__LINE__, "DELETE", "/v1/notifications", 405, "method_not_allowed", "GET, HEAD"},
        {__LINE__, "POST", "/v1/reports/sla", 405, "method_not_allowed", "GET, HEAD"},
        {__LINE__, "GET", "v1/tickets", 404, "not_found", ""},
        {__LINE__, "GET", "", 404, "not_found", ""},
        {__LINE__, "GET",
         "/v1/tickets/1/events/and/a/very/long/path/that/is/cut/in/the/message/after/sixty/four",
         404, "not_found", ""},
        {__LINE__, "DELETE", "/v1/tickets", 405, "method_not_allowed", "POST, GET, HEAD"},
        {__LINE__, "PUT", "/v1/tickets/1", 405, "method_not_allowed", "GET, HEAD, PATCH"},
        {__LINE__, "GET", "/v1/tickets/1/events", 405, "method_not_allowed", "POST"},
        {__LINE__, "POST", "/healthz", 405, "method_not_allowed", "GET, HEAD"},
        {__LINE__, "HEAD", "/v1/tickets/1/events", 405, "method_not_allowed", "POST"},
        {__LINE__, "HEAD", "/v1/simulate", 405, "method_not_allowed", "POST"},
        {__LINE__, "HEAD", "/v1/nothing", 404, "not_found", ""},
        {__LINE__, "HEAD", "/v1/tickets/1", 404, "not_found", ""}, /* as GET */
        {__LINE__, "post", "/v1/simulate", 405, "method_not_allowed", "POST"},
        {__LINE__, "GET", "/v1/reload", 405, "method_not_allowed", "POST"},
        {__LINE__, "GET", "/v1/tickets/1", 404, "not_found", ""},            /* no such ticket */
        {__LINE__, "POST", "/v1/tickets/7/events", 400, "invalid_json", ""}, /* body first */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_response resp;
        json_t *v;
        request(f, cases[i].method, cases[i].path, NULL, NULL, T0_MS, &resp, &v);
        check_error(cases[i].line, &resp, v, cases[i].status, cases[i].code, NULL);
        if (strcmp(resp.allow, cases[i].allow) != 0)
            fail_msg("line %d: Allow '%s', want '%s'", cases[i].line, resp.allow, cases[i].allow);
        json_decref(v);
        api_response_done(&resp);
    }
    /* A NULL method and path do not crash. */
    struct api_request req = {NULL, NULL, NULL, NULL, 0};
    struct api_response resp;
    api_handle(f->a.api, &req, T0_MS, &resp);
    assert_int_equal(resp.status, 404);
    api_response_done(&resp);
    api_response_done(NULL);
}

/* HEAD takes every GET route and answers as GET does (the daemon's HTTP server sends the
 * head without the body). */
static void test_head(void **state)
{
    struct fixture *f = *state;
    create(f, "{\"title\":\"x\",\"severity\":1}", T0_MS, 201);
    static const struct {
        const char *path, *query;
    } cases[] = {
        {"/healthz", NULL},
        {"/metrics", NULL},
        {"/v1/tickets", "status=open"},
        {"/v1/tickets/1", NULL},
        {"/v1/tickets/2", NULL},
        {"/v1/tickets", "bogus=1"},
        {"/v1/reports/sla", "format=csv"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_response get, head;
        request(f, "GET", cases[i].path, cases[i].query, NULL, T0_MS, &get, NULL);
        request(f, "HEAD", cases[i].path, cases[i].query, NULL, T0_MS, &head, NULL);
        if (head.status != get.status || strcmp(head.content_type, get.content_type) != 0 ||
            strcmp(head.body, get.body) != 0 || head.wrote)
            fail_msg("HEAD %s: %d %s %s; GET: %d %s %s", cases[i].path, head.status,
                     head.content_type, head.body, get.status, get.content_type, get.body);
        assert_string_equal(head.allow, "");
        api_response_done(&get);
        api_response_done(&head);
    }
}

static void test_create_and_get(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"source\":\"crm\",\"external_id\":\"A-1\",\"title\":\"no cooling\","
                       "\"severity\":1,\"team\":\"north\",\"labels\":{\"zone\":\"east\"}}";
    struct api_response resp;
    json_t *v;
    assert_int_equal(request(f, "POST", "/v1/tickets", NULL, body, T0_MS, &resp, &v), 201);
    assert_true(resp.wrote);
    int64_t id = json_integer_value(json_object_get(v, "id"));
    assert_true(id > 0);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "open");
    assert_string_equal(json_string_value(json_object_get(v, "policy")), "critical");
    assert_string_equal(json_string_value(json_object_get(v, "reported_at")),
                        "2026-03-01T00:00:00Z");
    assert_int_equal(json_array_size(json_object_get(v, "clocks")), 2);
    json_decref(v);
    api_response_done(&resp);

    /* The same source + external_id: 200 and the same ticket, nothing duplicated. */
    assert_int_equal(request(f, "POST", "/v1/tickets", NULL, body, T0_MS + 1000, &resp, &v), 200);
    assert_int_equal(json_integer_value(json_object_get(v, "id")), id);
    json_decref(v);
    api_response_done(&resp);

    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld", (long long)id);
    assert_int_equal(request(f, "GET", path, NULL, NULL, T0_MS + 30 * 60000, &resp, &v), 200);
    assert_false(resp.wrote);
    json_t *history = json_object_get(v, "history");
    assert_true(json_is_array(history));
    assert_true(json_array_size(history) >= 1);
    json_t *first = json_array_get(history, 0);
    assert_non_null(json_object_get(first, "at"));
    assert_non_null(json_object_get(first, "kind"));
    assert_true(json_is_array(json_object_get(v, "notifications")));
    json_t *clock = json_array_get(json_object_get(v, "clocks"), 0);
    assert_int_equal(json_integer_value(json_object_get(clock, "elapsed_s")), 1800);
    json_decref(v);
    api_response_done(&resp);

    /* The query of a route that takes none is refused. */
    assert_int_equal(request(f, "GET", path, "verbose=1", NULL, T0_MS, &resp, &v), 400);
    check_error(__LINE__, &resp, v, 400, "unknown_parameter", "'verbose'; this path takes none");
    json_decref(v);
    api_response_done(&resp);
}

/* Prefer: return=minimal, as RFC 7240 writes it, among other preferences. */
static void test_prefers_minimal(void **state)
{
    (void)state;
    assert_true(api_prefers_minimal("return=minimal"));
    assert_true(api_prefers_minimal("Return=Minimal"));
    assert_true(api_prefers_minimal("respond-async, return = \"minimal\"; x=1"));
    assert_true(api_prefers_minimal("wait=5,return=minimal"));
    assert_false(api_prefers_minimal(NULL));
    assert_false(api_prefers_minimal(""));
    assert_false(api_prefers_minimal("return=representation"));
    assert_false(api_prefers_minimal("return=minimalist"));
    assert_false(api_prefers_minimal("x-return=minimal"));
    assert_false(api_prefers_minimal("foo; return=minimal")); /* a parameter, not a preference */
    assert_false(api_prefers_minimal("return=\"minimal"));
}

/* A create and an event with return=minimal answer {"id":N} and the Location. */
static void test_create_minimal(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"title\":\"no cooling\",\"severity\":1}";
    struct api_request req = {"POST", "/v1/tickets", NULL,
                              body,   strlen(body),  .prefer_minimal = true};
    struct api_response resp;
    api_handle(f->a.api, &req, T0_MS, &resp);
    assert_int_equal(resp.status, 201);
    assert_true(resp.wrote);
    assert_string_equal(resp.body, "{\"id\":1}\n");
    assert_int_equal(resp.body_len, strlen(resp.body));
    assert_string_equal(resp.location, "/v1/tickets/1");
    api_response_done(&resp);

    const char *ev = "{\"type\":\"acknowledge\"}";
    req = (struct api_request){"POST",     "/v1/tickets/1/events", NULL, ev,
                               strlen(ev), .prefer_minimal = true};
    api_handle(f->a.api, &req, T0_MS + 1000, &resp);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "{\"id\":1}\n");
    assert_string_equal(resp.location, "/v1/tickets/1");
    api_response_done(&resp);

    /* Refused: the error as always, no Location. */
    api_handle(f->a.api, &req, T0_MS + 2000, &resp);
    assert_int_equal(resp.status, 409);
    assert_string_equal(resp.location, "");
    api_response_done(&resp);

    /* A GET ignores it. */
    req = (struct api_request){"GET", "/v1/tickets/1", NULL, "", 0, .prefer_minimal = true};
    api_handle(f->a.api, &req, T0_MS + 3000, &resp);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, "\"status\":\"acknowledged\""));
    assert_string_equal(resp.location, "");
    api_response_done(&resp);
}

static void test_bad_requests(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int line;
        const char *method, *path, *body;
        int status;
        const char *code, *msg;
    } cases[] = {
        {__LINE__, "POST", "/v1/tickets", "", 400, "invalid_json", "empty"},
        {__LINE__, "POST", "/v1/tickets", "{\"title\":", 400, "invalid_json", "line 1"},
        {__LINE__, "POST", "/v1/tickets", "{\"severity\":1}", 400, "missing_field",
         "field 'title'"},
        {__LINE__, "POST", "/v1/tickets", "{\"title\":\"x\",\"severity\":9}", 400, "invalid_field",
         "field 'severity' must be an integer 1..5"},
        {__LINE__, "POST", "/v1/tickets", "{\"title\":\"x\",\"severity\":1,\"x\":1}", 400,
         "unknown_field", "'x'"},
        {__LINE__, "POST", "/v1/tickets", "{\"title\":\"x\",\"severity\":1,\"status\":\"open\"}",
         400, "read_only_field", "field 'status' is set by slad"},
        {__LINE__, "POST", "/v1/tickets",
         "{\"title\":\"x\",\"severity\":1,\"customer\":{\"phone\":1}}", 400, "invalid_field",
         "customer.phone"},
        {__LINE__, "POST", "/v1/tickets/1/events", "{\"type\":\"dispatch\"}", 400, "missing_field",
         "assignee"},
        {__LINE__, "POST", "/v1/tickets/1/events", "{\"type\":\"explode\"}", 400, "invalid_field",
         "field 'type'"},
        {__LINE__, "POST", "/v1/tickets/999/events", "{\"type\":\"comment\"}", 404, "not_found",
         NULL},
        {__LINE__, "PATCH", "/v1/tickets/999", "{\"team\":\"x\"}", 404, "not_found", NULL},
        {__LINE__, "PATCH", "/v1/tickets/1", "{\"source\":\"x\"}", 400, "read_only_field",
         "cannot be changed"},
        {__LINE__, "PATCH", "/v1/tickets/1", "[]", 400, "invalid_json", NULL},
        {__LINE__, "POST", "/v1/simulate", "{\"title\":\"x\"}", 400, "missing_field", "severity"},
    };
    create(f, "{\"title\":\"x\",\"severity\":3}", T0_MS, 201);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_response resp;
        json_t *v;
        request(f, cases[i].method, cases[i].path, NULL, cases[i].body, T0_MS, &resp, &v);
        check_error(cases[i].line, &resp, v, cases[i].status, cases[i].code, cases[i].msg);
        json_decref(v);
        api_response_done(&resp);
    }
}

static void test_too_large(void **state)
{
    struct fixture *f = *state;
    size_t n = 5000;
    char *body = malloc(n + 1);
    memset(body, ' ', n);
    memcpy(body, "{\"title\":\"x\",\"severity\":1}", 26);
    body[n] = '\0';
    struct api_response resp;
    json_t *v;
    request(f, "POST", "/v1/tickets", NULL, body, T0_MS, &resp, &v);
    check_error(__LINE__, &resp, v, 413, "payload_too_large", "limit is 4096");
    json_decref(v);
    api_response_done(&resp);
    /* At the limit it is fine. */
    body[4096] = '\0';
    request(f, "POST", "/v1/tickets", NULL, body, T0_MS, &resp, &v);
    assert_int_equal(resp.status, 201);
    json_decref(v);
    api_response_done(&resp);
    free(body);
}

static void test_events_and_patch(void **state)
{
    struct fixture *f = *state;
    int64_t id = create(f, "{\"title\":\"x\",\"severity\":1,\"team\":\"north\"}", T0_MS, 201);
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld/events", (long long)id);
    struct api_response resp;
    json_t *v;

    assert_int_equal(request(f, "POST", path, NULL, "{\"type\":\"acknowledge\",\"by\":\"ops\"}",
                             T0_MS + 10 * 60000, &resp, &v),
                     200);
    assert_true(resp.wrote);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "acknowledged");
    json_t *clock = json_array_get(json_object_get(v, "clocks"), 0);
    assert_string_equal(json_string_value(json_object_get(clock, "name")), "response");
    assert_string_equal(json_string_value(json_object_get(clock, "state")), "met");
    json_decref(v);
    api_response_done(&resp);

    /* Not allowed in this status: 409 naming the status and the allowed events. */
    request(f, "POST", path, NULL, "{\"type\":\"acknowledge\"}", T0_MS + 11 * 60000, &resp, &v);
    check_error(__LINE__, &resp, v, 409, "event_not_allowed", "acknowledged");
    json_decref(v);
    api_response_done(&resp);
    request(f, "POST", path, NULL, "{\"type\":\"resume\"}", T0_MS + 11 * 60000, &resp, &v);
    check_error(__LINE__, &resp, v, 409, "event_not_allowed", "allowed events");
    json_decref(v);
    api_response_done(&resp);

    assert_int_equal(request(f, "POST", path, NULL,
                             "{\"type\":\"hold\",\"reason\":\"parts\",\"note\":\"waiting\"}",
                             T0_MS + HOUR_MS, &resp, &v),
                     200);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "on_hold");
    json_decref(v);
    api_response_done(&resp);
    /* A resume dated before the hold: 409 naming the hold's instant. */
    request(f, "POST", path, NULL, "{\"type\":\"resume\",\"at\":\"2026-03-01T00:30:00Z\"}",
            T0_MS + HOUR_MS + 60000, &resp, &v);
    check_error(__LINE__, &resp, v, 409, "out_of_order", "at or after 2026-03-01T01:00:00Z");
    json_decref(v);
    api_response_done(&resp);

    /* PATCH: severity 1 -> 4 moves the ticket to the default policy; labels merge. */
    snprintf(path, sizeof(path), "/v1/tickets/%lld", (long long)id);
    assert_int_equal(request(f, "PATCH", path, NULL,
                             "{\"severity\":4,\"assignee\":\"li.si\",\"labels\":{\"a\":\"1\"}}",
                             T0_MS + 2 * HOUR_MS, &resp, &v),
                     200);
    assert_true(resp.wrote);
    assert_int_equal(json_integer_value(json_object_get(v, "severity")), 4);
    assert_string_equal(json_string_value(json_object_get(v, "policy")), "default");
    assert_string_equal(json_string_value(json_object_get(v, "assignee")), "li.si");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "labels"), "a")), "1");
    json_decref(v);
    api_response_done(&resp);
    assert_int_equal(request(f, "PATCH", path, NULL,
                             "{\"labels\":{\"a\":null,\"b\":\"2\"},\"assignee\":null}",
                             T0_MS + 2 * HOUR_MS, &resp, &v),
                     200);
    json_t *labels = json_object_get(v, "labels");
    assert_null(json_object_get(labels, "a"));
    assert_string_equal(json_string_value(json_object_get(labels, "b")), "2");
    assert_true(json_is_null(json_object_get(v, "assignee")));
    json_decref(v);
    api_response_done(&resp);

    /* The history shows the event, the hold and the patches. */
    assert_int_equal(request(f, "GET", path, NULL, NULL, T0_MS + 3 * HOUR_MS, &resp, &v), 200);
    json_t *history = json_object_get(v, "history");
    size_t events = 0, patches = 0;
    for (size_t i = 0; i < json_array_size(history); i++) {
        const char *kind = json_string_value(json_object_get(json_array_get(history, i), "kind"));
        events += kind && strcmp(kind, "event") == 0;
        patches += kind && strcmp(kind, "patch") == 0;
    }
    assert_int_equal(events, 2);
    assert_int_equal(patches, 2);
    json_decref(v);
    api_response_done(&resp);
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"title\":\"t%d\",\"severity\":%d%s}", i, i % 2 ? 1 : 3,
                 i < 3 ? ",\"team\":\"north\"" : "");
        ids[i] = create(f, body, T0_MS, 201);
    }
    /* Pages of 3: 3 + 3 + 1, each next the last id shown. */
    int64_t after = 0;
    size_t seen = 0;
    for (int page = 0; page < 4; page++) {
        char query[64];
        snprintf(query, sizeof(query), "limit=3&after=%lld", (long long)after);
        struct api_response resp;
        json_t *v;
        assert_int_equal(request(f, "GET", "/v1/tickets", query, NULL, T0_MS, &resp, &v), 200);
        assert_false(resp.wrote);
        json_t *tickets = json_object_get(v, "tickets");
        for (size_t i = 0; i < json_array_size(tickets); i++) {
            int64_t id = json_integer_value(json_object_get(json_array_get(tickets, i), "id"));
            assert_int_equal(id, ids[seen]);
            seen++;
        }
        json_t *next = json_object_get(v, "next");
        if (page < 2) {
            assert_int_equal(json_array_size(tickets), 3);
            assert_int_equal(json_integer_value(next), ids[seen - 1]);
            after = json_integer_value(next);
        } else {
            assert_true(json_is_null(next));
            assert_int_equal(json_array_size(tickets), 1);
            json_decref(v);
            api_response_done(&resp);
            break;
        }
        json_decref(v);
        api_response_done(&resp);
    }
    assert_int_equal(seen, 7);

    static const struct {
        int line;
        const char *query;
        size_t count;
    } filters[] = {
        {__LINE__, NULL, 7},
        {__LINE__, "", 7},
        {__LINE__, "team=north", 3},
        {__LINE__, "team=north&policy=critical", 1},
        {__LINE__, "policy=critical", 3},
        {__LINE__, "policy=default&status=open", 4},
        {__LINE__, "status=closed", 0},
        {__LINE__, "status=&policy=&team=", 7},
        {__LINE__, "team=n%6Frth", 3},
        {__LINE__, "limit=7", 7},
        {__LINE__, "limit=1000&after=0", 7},
        {__LINE__, "breached=false", 7},
        {__LINE__, "breached=true", 0},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        struct api_response resp;
        json_t *v;
        int status = request(f, "GET", "/v1/tickets", filters[i].query, NULL, T0_MS, &resp, &v);
        size_t n = json_array_size(json_object_get(v, "tickets"));
        if (status != 200 || n != filters[i].count)
            fail_msg("line %d: %d, %zu tickets, want %zu: %s", filters[i].line, status, n,
                     filters[i].count, resp.body);
        json_decref(v);
        api_response_done(&resp);
    }

    /* 90 minutes on, the severity 1 tickets' response clocks (1 h) have breached, the
     * others' (2 h) not yet. */
    size_t done = 0;
    struct slad_error err;
    assert_int_equal(service_fire_due(f->a.svc, T0_MS + 90 * 60000, 100, &done, &err), 0);
    struct api_response resp;
    json_t *v;
    request(f, "GET", "/v1/tickets", "breached=true", NULL, T0_MS + 90 * 60000, &resp, &v);
    assert_int_equal(json_array_size(json_object_get(v, "tickets")), 3);
    json_decref(v);
    api_response_done(&resp);
    /* The step at 100% of a breached ticket queued a notification to the supervisor. */
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld", (long long)ids[1]);
    request(f, "GET", path, NULL, NULL, T0_MS + 90 * 60000, &resp, &v);
    json_t *notifications = json_object_get(v, "notifications");
    assert_int_equal(json_array_size(notifications), 1);
    json_t *n0 = json_array_get(notifications, 0);
    static const char *const outbox_keys[] = {
        "id",       "ticket_id",  "event",           "channel",         "recipient",  "state",
        "attempts", "last_error", "idempotency_key", "next_attempt_at", "created_at", "sent_at"};
    for (size_t i = 0; i < sizeof(outbox_keys) / sizeof(outbox_keys[0]); i++)
        if (!json_object_get(n0, outbox_keys[i]))
            fail_msg("notification lacks '%s'", outbox_keys[i]);
    assert_int_equal(json_integer_value(json_object_get(n0, "ticket_id")), ids[1]);
    assert_string_equal(json_string_value(json_object_get(n0, "recipient")), "supervisor");
    assert_string_equal(json_string_value(json_object_get(n0, "state")), "pending");
    json_decref(v);
    api_response_done(&resp);
    request(f, "GET", "/v1/tickets", "breached=false&limit=2", NULL, T0_MS + 90 * 60000, &resp, &v);
    assert_int_equal(json_array_size(json_object_get(v, "tickets")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "next")), ids[2]);
    json_decref(v);
    api_response_done(&resp);

    static const struct {
        int line;
        const char *query, *code, *msg;
    } bad[] = {
        {__LINE__, "limit=0", "invalid_parameter", "'limit' must be an integer 1..1000"},
        {__LINE__, "limit=1001", "invalid_parameter", "'limit'"},
        {__LINE__, "limit=abc", "invalid_parameter", "'limit'"},
        {__LINE__, "limit=-1", "invalid_parameter", "'limit'"},
        {__LINE__, "after=x", "invalid_parameter", "'after'"},
        {__LINE__, "status=bogus", "invalid_parameter", "'status' must be one of"},
        {__LINE__, "breached=yes", "invalid_parameter", "'breached' must be true"},
        {__LINE__, "missed=1", "invalid_parameter", "'missed' must be true"},
        {__LINE__, "colour=red", "unknown_parameter", "unknown query parameter 'colour'"},
        {__LINE__, "status=open&status=closed", "invalid_parameter", "'status' is given twice"},
        {__LINE__, "team=%zz", "invalid_parameter", "'team' has a bad percent escape"},
        {__LINE__, "team=%4", "invalid_parameter", "bad percent escape"},
        {__LINE__, "team=a%00b", "invalid_parameter", "control character"},
        {__LINE__, "team=%ff", "invalid_parameter", "not valid UTF-8"},
        {__LINE__, "%zz=1", "invalid_parameter", "bad percent escape"},
        {__LINE__, "breached", "invalid_parameter", "'breached' needs a value"},
        {__LINE__, "status=&status=open", "invalid_parameter", "'status' is given twice"},
        {__LINE__, "limit&status=open", "invalid_parameter", "'limit' needs a value"},
        {__LINE__,
         "team="
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "x",
         "invalid_parameter", "'team' is longer than 256 bytes"},
        {__LINE__, "team=a+b&status=on+hold", "invalid_parameter", "got 'on hold'"},
        {__LINE__, "teamteamteamteamteamteamteamteamteamteamteamteamteamteamteamteamteamteamteam=1",
         "unknown_parameter", "teamteam...'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        request(f, "GET", "/v1/tickets", bad[i].query, NULL, T0_MS, &resp, &v);
        check_error(bad[i].line, &resp, v, 400, bad[i].code, bad[i].msg);
        json_decref(v);
        api_response_done(&resp);
    }
}

static void test_health_metrics_reload(void **state)
{
    struct fixture *f = *state;
    create(f, "{\"title\":\"x\",\"severity\":1}", T0_MS, 201);
    struct api_response resp;
    json_t *v;
    assert_int_equal(request(f, "GET", "/healthz", NULL, NULL, T0_MS, &resp, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(v, "open_tickets")), 1);
    assert_int_equal(json_integer_value(json_object_get(v, "timers")), 1);
    assert_null(json_object_get(v, "role")); /* no lease in these hooks */
    json_decref(v);
    api_response_done(&resp);

    assert_int_equal(request(f, "GET", "/metrics", NULL, NULL, T0_MS, &resp, NULL), 200);
    assert_string_equal(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(resp.body, "slad_tickets{status=\"open\"} 1\n"));
    assert_non_null(strstr(resp.body, "slad_timers 1\n"));
    assert_non_null(strstr(resp.body, "# TYPE slad_http_request_duration_seconds histogram\n"));
    api_response_done(&resp);

    f->reload_result = 0;
    assert_int_equal(request(f, "POST", "/v1/reload", NULL, NULL, T0_MS, &resp, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "reloaded");
    assert_int_equal(f->reloads, 1);
    json_decref(v);
    api_response_done(&resp);
    f->reload_result = -EINVAL;
    request(f, "POST", "/v1/reload", NULL, NULL, T0_MS, &resp, &v);
    check_error(__LINE__, &resp, v, 400, "invalid_config", "unknown key 'polices'");
    json_decref(v);
    api_response_done(&resp);

    /* The scheduler lease's role and fencing number, when the daemon has one. */
    struct lease lease;
    lease_init(&lease, 10000, LEASE_RENEW_EVERY_MS, T0_MS);
    assert_int_equal(lease_poll(&lease, T0_MS), LEASE_REQUEST_ACQUIRE);
    assert_int_equal(lease_answer(&lease, T0_MS, true, 7), LEASE_EVENT_GAINED);
    struct api_hooks with_lease = {.lease = &lease};
    struct api *leased = api_new(f->a.svc, f->a.metrics, &with_lease);
    struct api_request hreq = {"GET", "/healthz", NULL, NULL, 0};
    api_handle(leased, &hreq, T0_MS, &resp);
    assert_int_equal(resp.status, 200);
    json_t *h = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(h, "role")), "scheduler");
    assert_int_equal(json_integer_value(json_object_get(h, "fencing")), 7);
    json_decref(h);
    api_response_done(&resp);
    api_free(leased);

    /* Without hooks there is no reload. */
    struct api *bare = api_new(f->a.svc, NULL, NULL);
    struct api_request req = {"POST", "/v1/reload", NULL, NULL, 0};
    api_handle(bare, &req, T0_MS, &resp);
    assert_int_equal(resp.status, 503);
    api_response_done(&resp);
    struct api_request mreq = {"GET", "/metrics", NULL, NULL, 0};
    api_handle(bare, &mreq, T0_MS, &resp);
    assert_int_equal(resp.status, 200);
    api_response_done(&resp);
    api_free(bare);
    api_free(NULL);
}

/* The contract compiled in (doc/openapi.yaml as JSON): whole, and every route of the table
 * one of its paths (the integration suite compares them method by method). */
static void test_openapi(void **state)
{
    struct fixture *f = *state;
    struct api_response resp;
    json_t *v;
    assert_int_equal(request(f, "GET", "/v1/openapi.json", NULL, NULL, T0_MS, &resp, &v), 200);
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(resp.body_len, openapi_json_len);
    assert_memory_equal(resp.body, openapi_json, openapi_json_len);
    assert_int_equal(strncmp(json_string_value(json_object_get(v, "openapi")), "3.1.", 4), 0);
    json_t *paths = json_object_get(v, "paths");
    static const char *const some[] = {"/v1/tickets", "/v1/tickets/{id}/events", "/healthz",
                                       "/v1/openapi.json"};
    for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++)
        assert_non_null(json_object_get(paths, some[i]));
    json_decref(v);
    api_response_done(&resp);
}

static void test_simulate(void **state)
{
    struct fixture *f = *state;
    const char *body =
        "{\"title\":\"x\",\"severity\":1,\"team\":\"north\",\"reported_at\":"
        "\"2026-03-01T00:00:00Z\",\"until\":\"2026-03-03T00:00:00Z\","
        "\"events\":[{\"type\":\"dispatch\",\"assignee\":\"li.si\",\"at\":"
        "\"2026-03-01T02:00:00Z\"},{\"type\":\"resolve\",\"at\":\"2026-03-01T05:00:00Z\"}]}";
    struct api_response resp;
    json_t *v;
    int status = request(f, "POST", "/v1/simulate", NULL, body, T0_MS, &resp, &v);
    if (status != 200)
        fail_msg("simulate: %d %s", status, resp.body);
    assert_false(resp.wrote);
    assert_string_equal(json_string_value(json_object_get(v, "policy")), "critical");
    json_t *clocks = json_object_get(v, "clocks");
    assert_int_equal(json_array_size(clocks), 2);
    json_t *response = json_array_get(clocks, 0);
    assert_string_equal(json_string_value(json_object_get(response, "state")), "missed");
    json_t *timeline = json_object_get(v, "timeline");
    assert_true(json_is_array(timeline));
    /* The response step at 100% (01:00) notifies the supervisor. */
    bool step = false;
    for (size_t i = 0; i < json_array_size(timeline); i++) {
        json_t *e = json_array_get(timeline, i);
        const char *kind = json_string_value(json_object_get(e, "kind"));
        assert_non_null(json_object_get(e, "at"));
        assert_true(json_is_array(json_object_get(e, "recipients")));
        if (kind && strcmp(kind, "step") == 0) {
            step = true;
            assert_string_equal(json_string_value(json_object_get(e, "at")),
                                "2026-03-01T01:00:00Z");
            json_t *r = json_array_get(json_object_get(e, "recipients"), 0);
            assert_string_equal(json_string_value(json_object_get(r, "recipient")), "supervisor");
        }
    }
    assert_true(step);
    json_decref(v);
    api_response_done(&resp);

    /* Nothing was stored. */
    request(f, "GET", "/v1/tickets", NULL, NULL, T0_MS, &resp, &v);
    assert_int_equal(json_array_size(json_object_get(v, "tickets")), 0);
    json_decref(v);
    api_response_done(&resp);

    /* An event the status table refuses: 409. */
    body = "{\"title\":\"x\",\"severity\":1,\"events\":[{\"type\":\"close\",\"at\":"
           "\"2026-03-01T02:00:00Z\"}]}";
    request(f, "POST", "/v1/simulate", NULL, body, T0_MS, &resp, &v);
    check_error(__LINE__, &resp, v, 409, "event_not_allowed", "close");
    json_decref(v);
    api_response_done(&resp);

    /* Events out of order: refused as the events route refuses them. */
    body = "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2026-03-01T00:00:00Z\","
           "\"events\":[{\"type\":\"hold\",\"reason\":\"parts\",\"at\":"
           "\"2026-03-01T02:00:00Z\"},{\"type\":\"resume\",\"at\":\"2026-03-01T01:00:00Z\"}]}";
    request(f, "POST", "/v1/simulate", NULL, body, T0_MS, &resp, &v);
    check_error(__LINE__, &resp, v, 409, "out_of_order", "events[1]: at: event 'resume'");
    json_decref(v);
    api_response_done(&resp);
}

/* ---- answer sizes ---- */

#define NOTE_MAX   8192  /* an event's note, issue 11 */
#define OLD_MAX    65536 /* a note before the limit; a description still */
#define LABEL_MAX  128
#define N_CONTACTS 10

/* A config whose "noisy" policy notifies 10 contacts on 2 channels every minute, so that a
 * simulation's timeline is as large as it gets; no body limit but the default (1 MiB). */
static int setup_bounds(void **state)
{
    size_t size = 16384, len = 0;
    char *s = malloc(size);
    assert_non_null(s);
#define ADD(...) len += (size_t)snprintf(s + len, size - len, __VA_ARGS__)
    ADD("channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; },\n"
        "  { name = \"log2\"; type = \"file\"; path = \"/dev/null\"; } );\n"
        "contacts = (\n");
    for (int i = 0; i < N_CONTACTS; i++)
        ADD("  { name = \"a-contact-with-a-long-name-as-some-companies-write-them-%02d\";"
            " phone = \"+861380000%04d\"; email = \"contact%02d@example.com\";"
            " via = [\"log\", \"log2\"]; }%s\n",
            i, i, i, i + 1 < N_CONTACTS ? "," : "");
    ADD(");\nteams = ( { name = \"north\"; roles = { supervisor = [");
    for (int i = 0; i < N_CONTACTS; i++)
        ADD("%s\"a-contact-with-a-long-name-as-some-companies-write-them-%02d\"", i ? ", " : "", i);
    ADD("]; }; } );\n"
        "policies = (\n"
        "  { name = \"noisy\"; match = { grade = [\"noisy\"]; }; calendar = \"24x7\";\n"
        "    clocks = ( { name = \"response\"; target = \"1m\"; stop = [\"resolve\"];\n"
        "      escalate = ( { at = \"100%%\"; notify = [\"supervisor\"]; repeat = \"1m\"; } );"
        " } ); },\n"
        "  { name = \"critical\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
        "    clocks = ( { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\"]; },\n"
        "      { name = \"resolution\"; target = \"24h\"; stop = [\"resolve\"]; } ); },\n"
        "  { name = \"default\"; match = { }; calendar = \"24x7\";\n"
        "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"acknowledge\"]; } ); }\n"
        ");\n");
#undef ADD
    assert_true(len < size);
    int r = setup_with(state, s);
    free(s);
    return r;
}

/* n bytes of what JSON writes six-fold ("\u0001"), then tail, as a malloc'd string. */
static char *worst(size_t n, const char *tail)
{
    size_t t = strlen(tail);
    assert_true(t <= n);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 0x01, n - t);
    memcpy(s + n - t, tail, t + 1);
    return s;
}

static json_t *worst_json(size_t n, const char *tail)
{
    char *s = worst(n, tail);
    json_t *v = json_string(s);
    free(s);
    assert_non_null(v);
    return v;
}

/* A request at T0_MS that must answer status; its JSON (or NULL for text answers). */
static json_t *expect(struct fixture *f, int line, int status, const char *method, const char *path,
                      const char *query, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct api_response resp;
    int got = request(f, method, path, query, text, T0_MS, &resp, NULL);
    free(text);
    json_t *v = NULL;
    if (strcmp(resp.content_type, "application/json") == 0)
        v = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (got != status)
        fail_msg("line %d: %s %s?%s: %d %.300s, want %d", line, method, path, query ? query : "",
                 got, resp.body, status);
    api_response_done(&resp);
    return v;
}

/* 400 whose message names what. */
static void expect_400(struct fixture *f, int line, const char *method, const char *path,
                       const char *query, json_t *body, const char *what)
{
    json_t *v = expect(f, line, 400, method, path, query, body);
    const char *msg = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
    if (!msg || !strstr(msg, what))
        fail_msg("line %d: message '%s' does not name '%s'", line, msg ? msg : "", what);
    json_decref(v);
}

static int64_t create_json(struct fixture *f, json_t *body)
{
    json_t *v = expect(f, __LINE__, 201, "POST", "/v1/tickets", NULL, body);
    int64_t id = json_integer_value(json_object_get(v, "id"));
    json_decref(v);
    json_decref(body);
    return id;
}

static json_t *comment(const char *note)
{
    return json_pack("{s:s,s:s}", "type", "comment", "note", note);
}

/* Every page of a listing (path, key, extra query) with limit: the ids, each row once, in
 * increasing order, each answer under the bound. Returns how many rows. */
static size_t page_all(struct fixture *f, const char *path, const char *key, const char *extra,
                       int limit, size_t *ret_pages)
{
    int64_t after = 0, last = 0;
    size_t rows = 0, pages = 0;
    for (;;) {
        char query[256];
        snprintf(query, sizeof(query), "%s%slimit=%d&after=%lld", extra ? extra : "",
                 extra ? "&" : "", limit, (long long)after);
        json_t *v = expect(f, __LINE__, 200, "GET", path, query, NULL);
        json_t *list = json_object_get(v, key), *next = json_object_get(v, "next");
        assert_true(json_is_array(list));
        pages++;
        for (size_t i = 0; i < json_array_size(list); i++) {
            int64_t id = json_integer_value(json_object_get(json_array_get(list, i), "id"));
            if (id <= last)
                fail_msg("%s: id %lld after %lld: a row twice or out of order", path, (long long)id,
                         (long long)last);
            last = id;
            rows++;
        }
        if (json_is_null(next)) {
            json_decref(v);
            break;
        }
        /* A page that continues holds a row and names its last one. */
        assert_true(json_array_size(list) > 0);
        assert_int_equal(json_integer_value(next), last);
        after = last;
        json_decref(v);
        assert_true(pages < 100000);
    }
    if (ret_pages)
        *ret_pages = pages;
    return rows;
}

/* How many history entries ticket id has. */
static size_t history_size(struct fixture *f, int64_t id)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld/history", (long long)id);
    json_t *v = expect(f, __LINE__, 200, "GET", path, "limit=1000", NULL);
    size_t n = json_array_size(json_object_get(v, "history"));
    json_decref(v);
    return n;
}

/* ---- the note limit ---- */

static void test_note_limit(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_json(f, json_pack("{s:s,s:i}", "title", "x", "severity", 2));
    size_t before = history_size(f, id);
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld/events", (long long)id);
    char *at_limit = worst(NOTE_MAX, ""), *over = worst(NOTE_MAX + 1, ""),
         *old = worst(OLD_MAX, "");
    json_t *body = comment(at_limit);
    json_decref(expect(f, __LINE__, 200, "POST", path, NULL, body));
    json_decref(body);
    body = comment(over);
    expect_400(f, __LINE__, "POST", path, NULL, body, "'note'");
    json_decref(body);
    body = comment(old);
    expect_400(f, __LINE__, "POST", path, NULL, body, "at most 8192");
    json_decref(body);
    /* Simulated events take the same fields with the same limits. */
    body = json_pack("{s:s,s:i,s:[{s:s,s:s,s:s}]}", "title", "x", "severity", 2, "events", "type",
                     "comment", "at", "2026-03-01T00:10:00Z", "note", over);
    expect_400(f, __LINE__, "POST", "/v1/simulate", NULL, body, "'events[0].note'");
    json_decref(body);
    /* Nothing of the refused ones was kept: the one comment. */
    snprintf(path, sizeof(path), "/v1/tickets/%lld/history", (long long)id);
    json_t *v = expect(f, __LINE__, 200, "GET", path, NULL, NULL);
    json_t *h = json_object_get(v, "history");
    assert_int_equal(json_array_size(h), before + 1);
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(h, before), "note"))),
                     NOTE_MAX);
    json_decref(v);
    free(at_limit);
    free(over);
    free(old);
}

/* ---- history: the route and the newest entries shown with a ticket ---- */

static void test_history(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_json(f, json_pack("{s:s,s:i}", "title", "x", "severity", 2));
    int64_t quiet = create_json(f, json_pack("{s:s,s:i}", "title", "y", "severity", 2));
    char events[64], history[64], ticket[64];
    snprintf(events, sizeof(events), "/v1/tickets/%lld/events", (long long)id);
    snprintf(history, sizeof(history), "/v1/tickets/%lld/history", (long long)id);
    snprintf(ticket, sizeof(ticket), "/v1/tickets/%lld", (long long)id);
    size_t total = history_size(f, id) + 249;
    for (int i = 0; i < 249; i++) {
        char note[32];
        snprintf(note, sizeof(note), "comment %d", i);
        json_t *body = comment(note);
        json_decref(expect(f, __LINE__, 200, "POST", events, NULL, body));
        json_decref(body);
    }
    /* The whole history, in pages of 7 and of the default 100. */
    size_t pages;
    assert_int_equal(page_all(f, history, "history", NULL, 7, &pages), total);
    assert_int_equal(pages, (total + 6) / 7);
    json_t *all = expect(f, __LINE__, 200, "GET", history, "limit=1000", NULL);
    json_t *rows = json_object_get(all, "history");
    assert_int_equal(json_array_size(rows), total);
    assert_true(json_is_null(json_object_get(all, "next")));
    json_t *first = expect(f, __LINE__, 200, "GET", history, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(first, "history")), 100);
    assert_int_equal(json_integer_value(json_object_get(first, "next")),
                     json_integer_value(json_object_get(json_array_get(rows, 99), "id")));
    json_decref(first);

    /* The ticket shows the newest 100, oldest first, rendered as the route renders them,
     * and says there is more. */
    json_t *t = expect(f, __LINE__, 200, "GET", ticket, NULL, NULL);
    json_t *shown = json_object_get(t, "history");
    assert_int_equal(json_array_size(shown), 100);
    for (size_t i = 0; i < 100; i++)
        if (!json_equal(json_array_get(shown, i), json_array_get(rows, total - 100 + i)))
            fail_msg("entry %zu of the ticket's history is not the route's entry %zu", i,
                     total - 100 + i);
    assert_true(json_is_true(json_object_get(t, "history_more")));
    assert_true(json_is_false(json_object_get(t, "notifications_more")));
    json_decref(t);
    json_decref(all);
    snprintf(ticket, sizeof(ticket), "/v1/tickets/%lld", (long long)quiet);
    t = expect(f, __LINE__, 200, "GET", ticket, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(t, "history")), history_size(f, quiet));
    assert_true(json_is_false(json_object_get(t, "history_more")));
    json_decref(t);

    /* Bad parameters name themselves; an unknown ticket is 404. */
    expect_400(f, __LINE__, "GET", history, "limit=0", NULL, "'limit'");
    expect_400(f, __LINE__, "GET", history, "limit=1001", NULL, "'limit'");
    expect_400(f, __LINE__, "GET", history, "limit=ten", NULL, "'limit'");
    expect_400(f, __LINE__, "GET", history, "after=-1", NULL, "'after'");
    expect_400(f, __LINE__, "GET", history, "before=3", NULL, "'before'");
    json_decref(expect(f, __LINE__, 404, "GET", "/v1/tickets/999999/history", NULL, NULL));
    json_decref(expect(f, __LINE__, 405, "POST", history, NULL, NULL));
    /* After the last entry: an empty page. */
    json_t *v = expect(f, __LINE__, 200, "GET", history, "after=999999", NULL);
    assert_int_equal(json_array_size(json_object_get(v, "history")), 0);
    assert_true(json_is_null(json_object_get(v, "next")));
    json_decref(v);
}

/* ---- worst cases ---- */

/* A ticket body with every field at its limit. */
static json_t *worst_ticket(int i, int severity)
{
    char tail[32];
    snprintf(tail, sizeof(tail), "%d", i);
    json_t *labels = json_object();
    for (int k = 0; k < 32; k++) {
        char key[LABEL_MAX + 1];
        memset(key, 'k', LABEL_MAX);
        snprintf(key + LABEL_MAX - 3, 4, "%03d", k);
        json_object_set_new(labels, key, worst_json(LABEL_MAX, ""));
    }
    json_t *t = json_pack(
        "{s:o,s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:{s:o,s:o,s:o},s:{s:o,s:o},s:o,s:o}", "source",
        worst_json(LABEL_MAX, ""), "external_id", worst_json(LABEL_MAX, tail), "title",
        worst_json(512, ""), "description", worst_json(OLD_MAX, ""), "severity", severity, "grade",
        worst_json(LABEL_MAX, ""), "region", worst_json(LABEL_MAX, ""), "team",
        worst_json(LABEL_MAX, ""), "assignee", worst_json(LABEL_MAX, ""), "customer", "name",
        worst_json(LABEL_MAX, ""), "phone", worst_json(64, ""), "address", worst_json(512, ""),
        "device", "model", worst_json(LABEL_MAX, ""), "serial", worst_json(LABEL_MAX, ""),
        "fault_code", worst_json(LABEL_MAX, ""), "labels", labels);
    assert_non_null(t);
    return t;
}

static void add_notifications(struct fixture *f, int64_t ticket_id, int n)
{
    char *recipient = worst(LABEL_MAX, ""), *channel = worst(LABEL_MAX, ""),
         *error = worst(511, "");
    for (int i = 0; i < n; i++) {
        char tail[32];
        snprintf(tail, sizeof(tail), "/%d", i);
        char *key = worst(200, tail);
        struct outbox_row o = {.ticket_id = ticket_id,
                               .event = "sla.escalation",
                               .channel = channel,
                               .recipient = recipient,
                               .idempotency_key = key,
                               .state = OUTBOX_DEAD,
                               .attempts = 9,
                               .next_attempt_ms = SLAD_NO_TIME,
                               .last_error = error,
                               .payload = "{}",
                               .created_ms = T0_MS,
                               .sent_ms = SLAD_NO_TIME};
        struct slad_error err = {""};
        if (store_outbox_add(f->a.store, &o, NULL, NULL, &err) < 0)
            fail_msg("outbox: %s", err.msg);
        free(key);
    }
    free(recipient);
    free(channel);
    free(error);
}

static void add_followups(struct fixture *f, int64_t ticket_id, int n)
{
    for (int i = 0; i < n; i++) {
        struct followup fu = {.ticket_id = ticket_id,
                              .state = FOLLOWUP_DONE,
                              .outcome = FOLLOWUP_UNSATISFIED,
                              .created_ms = T0_MS,
                              .due_ms = T0_MS,
                              .deadline_ms = T0_MS + 3600000,
                              .done_ms = T0_MS};
        char tail[32];
        snprintf(tail, sizeof(tail), "%d", i);
        char *name = worst(FOLLOWUP_NAME_MAX - 1, tail), *text = worst(FOLLOWUP_NOTE_MAX - 1, "");
        memcpy(fu.name, name, FOLLOWUP_NAME_MAX);
        memcpy(fu.owner, name, FOLLOWUP_NAME_MAX);
        memcpy(fu.done_by, name, FOLLOWUP_NAME_MAX);
        memcpy(fu.note, text, FOLLOWUP_NOTE_MAX);
        free(name);
        free(text);
        struct slad_error err = {""};
        /* Completion fields are written by an update, as slad completes a task. */
        if (store_followup_insert(f->a.store, &fu, INT64_MAX, &err) < 0 ||
            store_followup_update(f->a.store, &fu, INT64_MAX, &err) < 0)
            fail_msg("follow-up: %s", err.msg);
    }
}

static void add_plans(struct fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        struct plan p;
        plan_init(&p);
        char **labels[] = {&p.customer_name, &p.customer_phone, &p.device_model, &p.device_serial,
                           &p.team,          &p.owner,          &p.assignee,     &p.calendar};
        for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++)
            *labels[k] = worst(PLAN_LABEL_MAX, "");
        p.name = worst(PLAN_NAME_MAX, "");
        p.customer_address = worst(PLAN_ADDRESS_MAX, "");
        p.rrule = worst(PLAN_RRULE_MAX, "");
        p.due_within = worst(PLAN_DURATION_MAX, "");
        p.report_within = worst(PLAN_DURATION_MAX, "");
        p.start_ms = p.created_ms = p.updated_ms = T0_MS;
        p.next_ms = INT64_MAX;
        struct slad_error err = {""};
        if (store_plan_insert(f->a.store, &p, &err) < 0)
            fail_msg("plan: %s", err.msg);
        plan_done(&p);
    }
}

/* A history row as a slad before the note limit wrote it: a comment of 64 KiB. */
static void add_old_comment(struct fixture *f, int64_t ticket_id)
{
    json_t *data = json_pack("{s:s,s:o}", "event", "comment", "note", worst_json(OLD_MAX, ""));
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    struct history_entry h = {
        .ticket_id = ticket_id, .at_ms = T0_MS, .created_ms = T0_MS, .kind = "event", .data = text};
    struct slad_error err = {""};
    if (store_history_add(f->a.store, &h, NULL, &err) < 0)
        fail_msg("history: %s", err.msg);
    free(text);
}

static void test_worst_case_answers(void **state)
{
    struct fixture *f = *state;
    /* Tickets of 400 KB each; the first with 150 comments of 48 KB (8 KiB escaped), three
     * older comments of 384 KB, and 1000 notifications and 200 follow-ups of 6-7 KB. */
    int64_t big[6];
    for (int i = 0; i < 6; i++)
        big[i] = create_json(f, worst_ticket(i, 1 + i % 2));
    size_t created = history_size(f, big[0]);
    char events[64], history[64], ticket[64];
    snprintf(events, sizeof(events), "/v1/tickets/%lld/events", (long long)big[0]);
    snprintf(history, sizeof(history), "/v1/tickets/%lld/history", (long long)big[0]);
    snprintf(ticket, sizeof(ticket), "/v1/tickets/%lld", (long long)big[0]);
    char *note = worst(NOTE_MAX, "");
    json_t *body = comment(note);
    free(note);
    for (int i = 0; i < 150; i++)
        json_decref(expect(f, __LINE__, 200, "POST", events, NULL, body));
    json_decref(body);
    for (int i = 0; i < 3; i++)
        add_old_comment(f, big[0]);
    size_t queued = page_all(f, "/v1/notifications", "notifications", NULL, 1000, NULL);
    add_notifications(f, big[0], 1000);
    add_followups(f, big[0], 200);
    add_plans(f, 120);
    /* 2200 tickets of severity 1 (two clocks), each with an assignee of its own that CSV
     * doubles: 4400 report rows by assignee, over 1 MiB in JSON and in CSV. */
    for (int i = 0; i < 2200; i++) {
        char assignee[LABEL_MAX + 1];
        memset(assignee, '"', LABEL_MAX);
        snprintf(assignee + LABEL_MAX - 8, 9, "%08d", i);
        create_json(f,
                    json_pack("{s:s,s:i,s:s}", "title", "t", "severity", 1, "assignee", assignee));
    }

    /* The ticket: under the bound (checked by request), with the newest history that fits. */
    json_t *t = expect(f, __LINE__, 200, "GET", ticket, NULL, NULL);
    assert_true(json_is_true(json_object_get(t, "history_more")));
    assert_true(json_is_true(json_object_get(t, "notifications_more")));
    json_t *shown = json_object_get(t, "history");
    assert_true(json_array_size(shown) >= 1);
    assert_true(json_array_size(json_object_get(t, "notifications")) >= 1);
    json_t *newest = json_array_get(shown, json_array_size(shown) - 1);
    assert_int_equal(strlen(json_string_value(json_object_get(newest, "note"))), OLD_MAX);
    json_decref(t);
    t = expect(f, __LINE__, 200, "GET", "/v1/tickets/2", NULL, NULL);
    json_decref(t);

    /* Every listing, paged to the end with its largest limit. */
    size_t pages;
    assert_int_equal(page_all(f, history, "history", NULL, 1000, &pages), created + 150 + 3);
    assert_true(pages > 1);
    assert_int_equal(page_all(f, "/v1/tickets", "tickets", NULL, 1000, &pages), 6 + 2200);
    assert_true(pages > 3);
    assert_int_equal(page_all(f, "/v1/notifications", "notifications", NULL, 1000, &pages),
                     queued + 1000);
    assert_true(pages > 1);
    assert_int_equal(page_all(f, "/v1/followups", "followups", NULL, 1000, &pages), 200);
    assert_true(pages > 1);
    assert_int_equal(page_all(f, "/v1/plans", "plans", NULL, 1000, &pages), 120);
    assert_true(pages > 1);

    /* Reports: too large by assignee (refused, naming what to do), fine by policy. */
    const char *too_many[] = {
        "by=assignee&from=2026-02-01T00:00:00Z&to=2026-03-02T00:00:00Z",
        "by=assignee&format=csv&from=2026-02-01T00:00:00Z&to=2026-03-02T00:00:00Z"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = expect(f, __LINE__, 400, "GET", "/v1/reports/sla", too_many[i], NULL);
        json_t *e = json_object_get(v, "error");
        assert_string_equal(json_string_value(json_object_get(e, "code")), "report_too_large");
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!strstr(msg, "has 4402 rows") || !strstr(msg, "narrow"))
            fail_msg("report_too_large says '%s'", msg);
        json_decref(v);
    }
    json_decref(expect(f, __LINE__, 200, "GET", "/v1/reports/sla",
                       "by=policy&from=2026-02-01T00:00:00Z&to=2026-03-02T00:00:00Z", NULL));
    expect(f, __LINE__, 200, "GET", "/v1/reports/sla",
           "by=policy&format=csv&from=2026-02-01T00:00:00Z&to=2026-03-02T00:00:00Z", NULL);

    /* Metrics with every table full of labels that escape. */
    for (int i = 0; i < 600; i++) {
        char a[80], b[80];
        memset(a, '"', sizeof(a));
        memset(b, '\\', sizeof(b));
        snprintf(a + 60, 20, "%d", i);
        snprintf(b + 60, 20, "%d", i);
        metrics_breach(f->a.metrics, a, b);
        metrics_escalation(f->a.metrics, a);
        metrics_attempt(f->a.metrics, a, b);
        metrics_http(f->a.metrics, i, 1.0);
        metrics_timer_lag(f->a.metrics, 1.0);
    }
    expect(f, __LINE__, 200, "GET", "/metrics", NULL, NULL);

    /* A simulation of a ladder that notifies 10 contacts every minute: truncated under
     * the bound. */
    body = json_pack("{s:s,s:i,s:s,s:s,s:s}", "title", "x", "severity", 3, "grade", "noisy", "team",
                     "north", "reported_at", "2026-03-01T00:00:00Z");
    json_t *v = expect(f, __LINE__, 200, "POST", "/v1/simulate", NULL, body);
    json_decref(body);
    assert_string_equal(json_string_value(json_object_get(v, "policy")), "noisy");
    assert_true(json_is_true(json_object_get(v, "truncated")));
    json_t *timeline = json_object_get(v, "timeline");
    assert_true(json_array_size(timeline) > 100);
    /* Each contact on both channels of its `via`. */
    assert_int_equal(json_array_size(json_object_get(json_array_get(timeline, 1), "recipients")),
                     2 * N_CONTACTS);
    json_decref(v);
}

/* Report CSV: text cells a spreadsheet would run as a formula start with ', also when
 * quoted; numbers never do. */
/* POST /v1/intake/{name}: Alertmanager's alerts answer what each did; PagerDuty's events
 * answer as PagerDuty does, refusals included; unknown intakes are 404 naming the known. */
static void test_intake(void **state)
{
    struct fixture *f = *state;
    struct api_response resp;
    json_t *v;
    const char *am = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":["
                     "{\"status\":\"firing\",\"fingerprint\":\"fa\",\"labels\":{\"alertname\":"
                     "\"DiskFull\",\"severity\":\"critical\"},\"annotations\":{}},"
                     "{\"status\":\"resolved\",\"fingerprint\":\"fb\",\"labels\":{}}]}";
    assert_int_equal(request(f, "POST", "/v1/intake/prom", NULL, am, T0_MS, &resp, &v), 200);
    assert_true(resp.wrote);
    json_t *rows = json_object_get(v, "alerts");
    assert_int_equal(json_array_size(rows), 2);
    json_t *a0 = json_array_get(rows, 0), *a1 = json_array_get(rows, 1);
    assert_string_equal(json_string_value(json_object_get(a0, "fingerprint")), "fa");
    assert_string_equal(json_string_value(json_object_get(a0, "status")), "firing");
    assert_string_equal(json_string_value(json_object_get(a0, "result")), "created");
    int64_t id = json_integer_value(json_object_get(a0, "ticket_id"));
    assert_true(id > 0);
    assert_string_equal(json_string_value(json_object_get(a1, "result")), "unchanged");
    assert_true(json_is_null(json_object_get(a1, "ticket_id")));
    json_decref(v);
    api_response_done(&resp);
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld", (long long)id);
    assert_int_equal(request(f, "GET", path, NULL, NULL, T0_MS, &resp, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "title")), "DiskFull");
    assert_string_equal(json_string_value(json_object_get(v, "source")), "prom");
    assert_string_equal(json_string_value(json_object_get(v, "team")), "north");
    assert_int_equal(json_integer_value(json_object_get(v, "severity")), 1);
    json_decref(v);
    api_response_done(&resp);
    /* Alertmanager's repeat: nothing written. */
    assert_int_equal(request(f, "POST", "/v1/intake/prom", NULL, am, T0_MS + 1000, &resp, &v), 200);
    assert_false(resp.wrote);
    a0 = json_array_get(json_object_get(v, "alerts"), 0);
    assert_string_equal(json_string_value(json_object_get(a0, "result")), "unchanged");
    assert_int_equal(json_integer_value(json_object_get(a0, "ticket_id")), id);
    json_decref(v);
    api_response_done(&resp);

    static const struct {
        int line;
        const char *method, *path, *body;
        int status;
        const char *code, *msg;
    } errors[] = {
        {__LINE__, "POST", "/v1/intake/nagios", "{}", 404, "not_found",
         "no intake named 'nagios'; the config has: prom, pd"},
        {__LINE__, "POST", "/v1/intake/a%20b", "{}", 404, "not_found",
         "no intake named 'a b'; the config has: prom, pd"},
        {__LINE__, "POST", "/v1/intake/", "{}", 404, "not_found", "no such path"},
        {__LINE__, "GET", "/v1/intake/prom", NULL, 405, "method_not_allowed", "POST"},
        {__LINE__, "POST", "/v1/intake/prom", "{\"version\":\"4\",\"alerts\":[{}]}", 400,
         "missing_field", "field 'alerts[0].status' is required"},
        {__LINE__, "POST", "/v1/intake/prom", "not json", 400, "invalid_json", NULL},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        request(f, errors[i].method, errors[i].path, NULL, errors[i].body, T0_MS, &resp, &v);
        check_error(errors[i].line, &resp, v, errors[i].status, errors[i].code, errors[i].msg);
        json_decref(v);
        api_response_done(&resp);
    }

    /* PagerDuty: 202 and its exact answer; a trigger without a key gets slad's. */
    const char *trigger = "{\"routing_key\":\"k\",\"event_action\":\"trigger\","
                          "\"dedup_key\":\"srv1/disk\",\"payload\":{\"summary\":\"Disk full\","
                          "\"source\":\"srv1\",\"severity\":\"warning\"}}";
    assert_int_equal(request(f, "POST", "/v1/intake/pd", NULL, trigger, T0_MS, &resp, NULL), 202);
    assert_string_equal(
        resp.body,
        "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"srv1/disk\"}\n");
    assert_true(resp.wrote);
    api_response_done(&resp);
    const char *ack = "{\"routing_key\":\"k\",\"event_action\":\"acknowledge\","
                      "\"dedup_key\":\"never-seen\"}";
    assert_int_equal(request(f, "POST", "/v1/intake/pd", NULL, ack, T0_MS, &resp, &v), 202);
    assert_string_equal(json_string_value(json_object_get(v, "dedup_key")), "never-seen");
    assert_false(resp.wrote);
    json_decref(v);
    api_response_done(&resp);
    const char *bare = "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{"
                       "\"summary\":\"s\",\"source\":\"h\",\"severity\":\"info\"}}";
    assert_int_equal(request(f, "POST", "/v1/intake/pd", NULL, bare, T0_MS, &resp, &v), 202);
    assert_memory_equal(json_string_value(json_object_get(v, "dedup_key")), "slad-", 5);
    json_decref(v);
    api_response_done(&resp);
    const char *bad = "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{"
                      "\"summary\":\"s\",\"source\":\"h\",\"severity\":\"fatal\"}}";
    assert_int_equal(request(f, "POST", "/v1/intake/pd", NULL, bad, T0_MS, &resp, &v), 400);
    assert_false(resp.wrote);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "invalid event");
    assert_string_equal(json_string_value(json_object_get(v, "message")),
                        "Event object is invalid");
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "errors"), 0)),
                           "payload.severity"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "code")),
                        "invalid_field");
    json_decref(v);
    api_response_done(&resp);
}

static void test_report_csv_formulas(void **state)
{
    struct fixture *f = *state;
    static const char *const assignees[] = {
        "=HYPERLINK(\\\"http://evil\\\",\\\"x\\\")",
        "+1+2",
        "-3",
        "@SUM(A1)",
        "\\tx",
        "\\rx",
        "=1,2",
        "plain-name",
    };
    char body[256];
    for (size_t i = 0; i < sizeof(assignees) / sizeof(assignees[0]); i++) {
        snprintf(body, sizeof(body), "{\"title\":\"t\",\"severity\":2,\"assignee\":\"%s\"}",
                 assignees[i]);
        create(f, body, T0_MS, 201);
    }
    struct api_response resp;
    assert_int_equal(request(f, "GET", "/v1/reports/sla",
                             "from=2026-02-28T00:00:00Z&to=2026-03-02T00:00:00Z&by=assignee"
                             "&format=csv",
                             NULL, T0_MS + HOUR_MS, &resp, NULL),
                     200);
    static const char *const want[] = {
        "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",response,1,0,0,1,,,\r\n",
        "'+1+2,response,1,0,0,1,,,\r\n",
        "'-3,response,1,0,0,1,,,\r\n",
        "'@SUM(A1),response,1,0,0,1,,,\r\n",
        "'\tx,response,1,0,0,1,,,\r\n",
        "\"'\rx\",response,1,0,0,1,,,\r\n",
        "\"'=1,2\",response,1,0,0,1,,,\r\n",
        "plain-name,response,1,0,0,1,,,\r\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(resp.body, want[i]))
            fail_msg("no row '%s' in:\n%s", want[i], resp.body);
    const char *header = "group,clock,total,met,missed,open,compliance,mean_s,p90_s\r\n";
    assert_memory_equal(resp.body, header, strlen(header));
    api_response_done(&resp);
}

/* With offload_reads the report route only validates: a good query comes back as a read
 * (status 0, no body) whose api_read_run gives byte for byte the answer computed in
 * api_handle; a bad one is answered at once, as before. */
static void test_report_off_the_loop(void **state)
{
    struct fixture *f = *state;
    create(f, "{\"title\":\"t\",\"severity\":2,\"assignee\":\"a\",\"team\":\"north\"}", T0_MS, 201);
    create(f, "{\"title\":\"u\",\"severity\":1,\"region\":\"city\"}", T0_MS, 201);
    struct api_hooks hooks = {.offload_reads = true};
    struct api *off = api_new(f->a.svc, f->a.metrics, &hooks);
    static const char *const queries[] = {
        "from=2026-02-28T00:00:00Z&to=2026-03-02T00:00:00Z",
        "from=2026-02-28&to=2026-03-02&by=team&format=csv",
        "from=2026-02-28&by=month&tz=Asia/Shanghai",
        "from=2026-02-28T00:00:00Z&by=region&format=json",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        struct api_request req = {"GET", "/v1/reports/sla", queries[i], NULL, 0};
        struct api_response inline_resp, deferred, answered;
        api_handle(f->a.api, &req, T0_MS + HOUR_MS, &inline_resp);
        api_handle(off, &req, T0_MS + HOUR_MS, &deferred);
        assert_non_null(deferred.read);
        assert_int_equal(deferred.status, 0);
        assert_null(deferred.body);
        api_read_run(deferred.read, f->a.store, &answered);
        assert_int_equal(answered.status, 200);
        assert_int_equal(answered.status, inline_resp.status);
        assert_string_equal(answered.content_type, inline_resp.content_type);
        assert_int_equal(answered.body_len, inline_resp.body_len);
        assert_memory_equal(answered.body, inline_resp.body, inline_resp.body_len);
        api_response_done(&inline_resp);
        api_response_done(&deferred); /* frees the read */
        api_response_done(&answered);
    }
    struct api_request bad = {"GET", "/v1/reports/sla", "by=colour", NULL, 0};
    struct api_response resp;
    api_handle(off, &bad, T0_MS, &resp);
    assert_int_equal(resp.status, 400);
    assert_null(resp.read);
    api_response_done(&resp);
    api_free(off);
}

/* ---- what happens next ---- */

/* Hand-checked: a ticket of team north reported at T0 (2026-03-01T00:00Z, 24x7). response
 * (2h): 50 % at 01:00 to the supervisor (li.si), 100 % at 02:00 to whoever is on call on
 * ops (anna on 1 March); resolution (30h): 80 % (24h) at 2 March 00:00 to ops (bert's day). */
static const char next_conf[] =
    "contacts = ( { name = \"anna\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"bert\"; phone = \"+8613800000002\"; via = [\"log\"]; },\n"
    "             { name = \"li.si\"; phone = \"+8613800000003\"; via = [\"sms\"]; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; },\n"
    "             { name = \"sms\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"li.si\"]; }; } );\n"
    "schedules = ( { name = \"ops\"; timezone = \"UTC\"; layers = ( {\n"
    "  start = \"2026-03-01T00:00:00Z\"; rotation = \"1d\"; contacts = [\"anna\", \"bert\"]; } ); }"
    " );\n"
    "policies = ( { name = \"p\"; match = { }; calendar = \"24x7\";\n"
    "  clocks = (\n"
    "    { name = \"response\"; target = \"2h\"; stop = [\"acknowledge\"];\n"
    "      escalate = ( { at = \"50%\"; notify = [\"supervisor\"]; },\n"
    "                   { at = \"100%\"; notify = [\"oncall:ops\"]; } ); },\n"
    "    { name = \"resolution\"; target = \"30h\"; stop = [\"resolve\"];\n"
    "      escalate = ( { at = \"80%\"; notify = [\"oncall:ops\"]; } ); } ); } );\n";

static int setup_next(void **state)
{
    return setup_with(state, next_conf);
}

static json_t *next_of(struct fixture *f, int64_t id, int64_t now_ms)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld/next", (long long)id);
    struct api_response resp;
    json_t *v;
    int status = request(f, "GET", path, NULL, NULL, now_ms, &resp, &v);
    if (status != 200)
        fail_msg("next: %d %s", status, resp.body);
    api_response_done(&resp);
    return v;
}

/* The steps of v as "clock percent event at contact/channel" lines. */
static void check_steps(int line, json_t *v, const char *const *want, size_t n)
{
    json_t *steps = json_object_get(v, "steps");
    if (json_array_size(steps) != n)
        fail_msg("line %d: %zu steps, want %zu: %s", line, json_array_size(steps), n,
                 json_dumps(v, 0));
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(steps, i);
        json_t *r = json_array_get(json_object_get(s, "recipients"), 0);
        char got[256];
        snprintf(got, sizeof(got), "%s %d %s %s %s/%s",
                 json_string_value(json_object_get(s, "clock")),
                 (int)json_integer_value(json_object_get(s, "percent")),
                 json_string_value(json_object_get(s, "event")),
                 json_string_value(json_object_get(s, "at")),
                 json_string_value(json_object_get(r, "contact")),
                 json_string_value(json_object_get(r, "channel")));
        if (strcmp(got, want[i]) != 0)
            fail_msg("line %d: step %zu is '%s', want '%s'", line, i, got, want[i]);
    }
}

static void test_next(void **state)
{
    struct fixture *f = *state;
    int64_t id = create(f, "{\"title\":\"lift\",\"severity\":2,\"team\":\"north\"}", T0_MS, 201);
    json_t *v = next_of(f, id, T0_MS + HOUR_MS / 2);
    static const char *const all[] = {
        "response 50 sla.warning 2026-03-01T01:00:00Z li.si/sms",
        "response 100 sla.breach 2026-03-01T02:00:00Z anna/log",
        "resolution 80 sla.warning 2026-03-02T00:00:00Z bert/log",
    };
    check_steps(__LINE__, v, all, 3);
    assert_int_equal(json_integer_value(json_object_get(v, "ticket")), id);
    assert_true(json_is_false(json_object_get(v, "more")));
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(
                json_object_get(json_array_get(json_object_get(v, "steps"), 0), "recipients"), 0),
            "role")),
        "supervisor");
    json_decref(v);

    /* The same instant later: the 50 % step, overdue, comes at its own instant (the daemon
     * is about to fire it). */
    v = next_of(f, id, T0_MS + HOUR_MS * 3 / 2);
    check_steps(__LINE__, v, all, 3);
    json_decref(v);

    /* An override puts bert on call at 02:00: the breach goes to him. */
    struct api_response resp;
    json_t *o;
    assert_int_equal(request(f, "POST", "/v1/schedules/ops/overrides", NULL,
                             "{\"contact\":\"bert\",\"from\":\"2026-03-01T01:30:00Z\","
                             "\"to\":\"2026-03-01T02:30:00Z\"}",
                             T0_MS + HOUR_MS / 2, &resp, &o),
                     201);
    json_decref(o);
    api_response_done(&resp);
    v = next_of(f, id, T0_MS + HOUR_MS / 2);
    static const char *const overridden[] = {
        "response 50 sla.warning 2026-03-01T01:00:00Z li.si/sms",
        "response 100 sla.breach 2026-03-01T02:00:00Z bert/log",
        "resolution 80 sla.warning 2026-03-02T00:00:00Z bert/log",
    };
    check_steps(__LINE__, v, overridden, 3);
    json_decref(v);

    /* Acknowledged: the response clock stops, only the resolution's step is ahead. */
    assert_int_equal(request(f, "POST", "/v1/tickets/1/events", NULL, "{\"type\":\"acknowledge\"}",
                             T0_MS + HOUR_MS / 2, &resp, &o),
                     200);
    json_decref(o);
    api_response_done(&resp);
    v = next_of(f, id, T0_MS + HOUR_MS);
    check_steps(__LINE__, v, overridden + 2, 1);
    json_decref(v);

    assert_int_equal(request(f, "GET", "/v1/tickets/99/next", NULL, NULL, T0_MS, &resp, &o), 404);
    json_decref(o);
    api_response_done(&resp);
}

/* ---- action links ---- */

static const char links_conf[] =
    "daemon = { public_url = \"https://sla.example.com/\"; };\n"
    "contacts = ( { name = \"li.si\"; phone = \"+8613800000003\"; via = [\"log\"]; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "teams = ( { name = \"north\"; channel = \"log\"; roles = { supervisor = [\"li.si\"]; }; } "
    ");\n"
    "policies = ( { name = \"p\"; match = { }; calendar = \"24x7\";\n"
    "  clocks = ( { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\"];\n"
    "    escalate = ( { at = \"0%\"; notify = [\"supervisor\"]; } ); } ); } );\n";

static int setup_links(void **state)
{
    return setup_with(state, links_conf);
}

struct links_seen {
    char person[128], team[128];
};

static int link_row(void *userdata, const struct outbox_row *o)
{
    struct links_seen *s = userdata;
    json_t *p = json_loads(o->payload, 0, NULL);
    const char *link = json_string_value(json_object_get(p, "link"));
    if (link)
        snprintf(o->contact ? s->person : s->team, sizeof(s->person), "%s", link);
    json_decref(p);
    return 0;
}

static int act(struct fixture *f, const char *method, const char *code, const char *body,
               int64_t now_ms, json_t **ret)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/actions/%s", code);
    struct api_response resp;
    int status = request(f, method, path, NULL, body, now_ms, &resp, ret);
    api_response_done(&resp);
    return status;
}

static const char *error_code(json_t *v)
{
    return json_string_value(json_object_get(json_object_get(v, "error"), "code"));
}

/* The step at 0 % tells li.si (an action link) and the team's channel (the ticket's
 * page); the code works for 7 days to the millisecond and once. */
static void test_action_links(void **state)
{
    struct fixture *f = *state;
    int64_t id = create(f, "{\"title\":\"lift\",\"severity\":2,\"team\":\"north\"}", T0_MS, 201);
    struct links_seen seen = {"", ""};
    struct outbox_filter of = {.state = -1, .due_ms = SLAD_NO_TIME};
    struct slad_error err = {""};
    assert_int_equal(service_notification_list(f->a.svc, &of, link_row, &seen, &err), 0);
    assert_string_equal(seen.team, "https://sla.example.com/ui/tickets/1");
    assert_int_equal(strncmp(seen.person, "https://sla.example.com/a/", 26), 0);
    const char *code = seen.person + 26;
    assert_int_equal(strlen(code), 10);
    assert_int_equal(strspn(code, "23456789abcdefghjkmnpqrstuvwxyz"), 10);

    json_t *v;
    const int64_t week = 7 * 24 * HOUR_MS;
    assert_int_equal(act(f, "GET", code, NULL, T0_MS + week - 1, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "contact")), "li.si");
    assert_string_equal(json_string_value(json_object_get(v, "expires_at")),
                        "2026-03-08T00:00:00Z");
    json_decref(v);
    assert_int_equal(act(f, "GET", code, NULL, T0_MS + week, &v), 410);
    assert_string_equal(error_code(v), "action_expired");
    json_decref(v);
    assert_int_equal(act(f, "POST", code, "{\"action\":\"ack\"}", T0_MS + HOUR_MS, &v), 400);
    json_decref(v);
    assert_int_equal(act(f, "POST", code, "{\"action\":\"acknowledge\",\"x\":1}", T0_MS, &v), 400);
    json_decref(v);
    assert_int_equal(act(f, "POST", code, "{\"action\":\"acknowledge\"}", T0_MS + HOUR_MS / 2, &v),
                     200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "ticket"), "status")),
                        "acknowledged");
    json_decref(v);
    assert_int_equal(act(f, "POST", code, "{\"action\":\"take\"}", T0_MS + HOUR_MS, &v), 410);
    assert_string_equal(error_code(v), "action_used");
    json_decref(v);
    assert_int_equal(act(f, "GET", "2345678923", NULL, T0_MS, &v), 404);
    assert_string_equal(error_code(v), "action_unknown");
    json_decref(v);
    (void)id;
}

/* ---- on-call schedules ---- */

static const char schedule_conf[] =
    "contacts = ( { name = \"anna\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"bert\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "schedules = ( { name = \"ops\"; timezone = \"UTC\"; layers = ( {\n"
    "  start = \"2026-03-01T00:00:00Z\"; rotation = \"1d\"; contacts = [\"anna\", \"bert\"]; } ); }"
    " );\n"
    "policies = ( { name = \"default\"; match = { }; } );\n";

static int setup_schedules(void **state)
{
    return setup_with(state, schedule_conf);
}

/* The routes in order: who is on call from the rota, an override that changes it, its
 * listing and deletion; every bad request a 400/404/405 that names what is wrong. */
static void test_schedules(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int line;
        const char *method, *path, *query, *body;
        int status;
        const char *want; /* in the body */
    } cases[] = {
        {__LINE__, "GET", "/v1/schedules", NULL, NULL, 200,
         "{\"schedules\":[{\"name\":\"ops\",\"timezone\":\"UTC\",\"layers\":1,\"contact\":"
         "\"anna\",\"from\":\"2026-03-01T00:00:00Z\",\"until\":\"2026-03-02T00:00:00Z\"}]}"},
        {__LINE__, "GET", "/v1/schedules", "at=2026-03-02T12:00:00Z", NULL, 200,
         "\"contact\":\"bert\""},
        {__LINE__, "GET", "/v1/schedules", "at=tomorrow", NULL, 400, "query parameter 'at'"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "at=2026-03-02T12:00:00Z", NULL, 200,
         "{\"schedule\":\"ops\",\"contact\":\"bert\",\"from\":\"2026-03-02T00:00:00Z\","
         "\"until\":\"2026-03-03T00:00:00Z\"}"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "at=2026-02-28T12:00:00Z", NULL, 200,
         "\"contact\":null"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall",
         "from=2026-03-01T12:00:00Z&to=2026-03-02T12:00:00Z", NULL, 200,
         "\"shifts\":[{\"contact\":\"anna\",\"from\":\"2026-03-01T00:00:00Z\",\"until\":"
         "\"2026-03-02T00:00:00Z\"},{\"contact\":\"bert\",\"from\":\"2026-03-02T00:00:00Z\","
         "\"until\":\"2026-03-03T00:00:00Z\"}]"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"bert\",\"from\":\"2026-03-01T10:00:00Z\",\"to\":\"2026-03-01T11:00:00Z\"}",
         201,
         "{\"id\":1,\"schedule\":\"ops\",\"contact\":\"bert\",\"from\":\"2026-03-01T10:00:00Z\","
         "\"to\":\"2026-03-01T11:00:00Z\",\"created_at\":\"2026-03-01T00:00:00Z\"}"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "at=2026-03-01T10:30:00Z", NULL, 200,
         "\"contact\":\"bert\",\"from\":\"2026-03-01T10:00:00Z\",\"until\":"
         "\"2026-03-01T11:00:00Z\""},
        {__LINE__, "GET", "/v1/schedules/ops/overrides", NULL, NULL, 200,
         "{\"overrides\":[{\"id\":1,"},
        {__LINE__, "GET", "/v1/schedules/ops.ics", "contact=bert", NULL, 200,
         "SUMMARY:On call (ops): bert"},
        {__LINE__, "DELETE", "/v1/schedules/ops/overrides/1", NULL, NULL, 200,
         "{\"status\":\"deleted\",\"id\":1}"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "at=2026-03-01T10:30:00Z", NULL, 200,
         "\"contact\":\"anna\""},
        {__LINE__, "DELETE", "/v1/schedules/ops/overrides/1", NULL, NULL, 404,
         "schedule 'ops' has no override 1"},
        {__LINE__, "GET", "/v1/schedules/nope/oncall", NULL, NULL, 404,
         "schedule 'nope' is not in the config"},
        {__LINE__, "GET", "/v1/schedules/nope.ics", NULL, NULL, 404, "not in the config"},
        {__LINE__, "GET", "/v1/schedules/.ics", NULL, NULL, 404, "no such path"},
        {__LINE__, "GET", "/v1/schedules/ops", NULL, NULL, 404, "no such path"},
        {__LINE__, "PUT", "/v1/schedules/ops/overrides", NULL, NULL, 405, "POST, GET"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"zed\",\"from\":\"2026-03-01T10:00:00Z\",\"to\":\"2026-03-01T11:00:00Z\"}",
         400, "field 'contact': 'zed' is not a contact of the config"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"bert\",\"from\":\"2026-03-01T10:00:00Z\"}", 400, "field 'to' is required"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"bert\",\"from\":\"2026-03-01T10:00:00Z\",\"to\":\"2026-03-01T09:00:00Z\"}",
         400, "field 'to': must be later than 'from'"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"bert\",\"from\":\"yesterday\",\"to\":\"2026-03-01T09:00:00Z\"}", 400,
         "from"},
        {__LINE__, "POST", "/v1/schedules/ops/overrides", NULL,
         "{\"contact\":\"bert\",\"who\":1,\"from\":\"2026-03-01T10:00:00Z\",\"to\":"
         "\"2026-03-01T11:00:00Z\"}",
         400, "unknown field 'who'"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "at=noon", NULL, 400, "query parameter 'at'"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall", "from=2026-03-01T10:00:00Z", NULL, 400,
         "query parameter 'to' is needed with 'from'"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall",
         "at=2026-03-01T10:00:00Z&to=2026-03-01T11:00:00Z", NULL, 400, "give one or the other"},
        {__LINE__, "GET", "/v1/schedules/ops/oncall",
         "from=2026-03-01T10:00:00Z&to=2027-03-01T11:00:00Z", NULL, 400, ""},
        {__LINE__, "GET", "/v1/schedules/ops.ics", "contact=zed", NULL, 400,
         "field 'contact': 'zed'"},
        {__LINE__, "GET", "/v1/schedules/ops/overrides", NULL, NULL, 200,
         "{\"overrides\":[],\"next\":null}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_response resp;
        request(f, cases[i].method, cases[i].path, cases[i].query, cases[i].body, T0_MS, &resp,
                NULL);
        if (resp.status != cases[i].status || !strstr(resp.body, cases[i].want))
            fail_msg("line %d: %d %s, want %d with %s", cases[i].line, resp.status, resp.body,
                     cases[i].status, cases[i].want);
        bool ics = strstr(cases[i].path, ".ics") && resp.status == 200;
        assert_string_equal(resp.content_type,
                            ics ? "text/calendar; charset=utf-8" : "application/json");
        assert_int_equal(resp.wrote, resp.status < 300 && strcmp(cases[i].method, "GET") != 0);
        api_response_done(&resp);
    }
}

/* A refusal for concurrency injected into the insert of a ticket: on SQLite a function
 * answering SQLITE_BUSY from a trigger, on PostgreSQL a trigger raising SQLSTATE 40P01
 * (deadlock detected), both -EAGAIN from the store, the first `refusals` times. */
static int refusals_left, refuse_calls;

static void sqlite_refuse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    refuse_calls++;
    if (refusals_left > 0) {
        refusals_left--;
        sqlite3_result_error(ctx, "injected: database is locked", -1);
        sqlite3_result_error_code(ctx, SQLITE_BUSY);
        return;
    }
    sqlite3_result_null(ctx);
}

static void refuse_install(struct fixture *f)
{
    struct db *db = store_dbh(f->a.store);
    if (!testdb_on_postgres()) {
        assert_int_equal(sqlite3_create_function(store_db(f->a.store), "slad_test_refuse", 0,
                                                 SQLITE_UTF8, NULL, sqlite_refuse, NULL, NULL),
                         SQLITE_OK);
        testdb_exec(db, "CREATE TEMP TRIGGER slad_test_refuse BEFORE INSERT ON tickets"
                        " BEGIN SELECT slad_test_refuse(); END");
        return;
    }
    testdb_exec(db, "CREATE TABLE slad_test_refusals (n BIGINT NOT NULL)");
    testdb_exec(db, "INSERT INTO slad_test_refusals VALUES (0)");
    /* A sequence counts the calls: it is not rolled back with the refused operation. */
    testdb_exec(db, "CREATE SEQUENCE slad_test_calls");
    testdb_exec(db, "CREATE FUNCTION slad_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $f$"
                    " BEGIN"
                    " IF nextval('slad_test_calls') <= (SELECT n FROM slad_test_refusals) THEN"
                    " RAISE EXCEPTION 'injected: deadlock detected' USING ERRCODE = '40P01';"
                    " END IF; RETURN NEW; END $f$");
    testdb_exec(db, "CREATE TRIGGER slad_test_refuse BEFORE INSERT ON tickets"
                    " FOR EACH ROW EXECUTE FUNCTION slad_test_refuse()");
}

/* Refuse the next n inserts (counted from now). */
static void refuse_next(struct fixture *f, int n)
{
    refusals_left = n;
    refuse_calls = 0;
    if (!testdb_on_postgres())
        return;
    struct db *db = store_dbh(f->a.store);
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE slad_test_refusals SET n = %d", n);
    testdb_exec(db, sql);
    testdb_exec(db, "SELECT setval('slad_test_calls', 1, false)");
}

static int refuse_calls_made(struct fixture *f)
{
    if (!testdb_on_postgres())
        return refuse_calls;
    return (int)testdb_value(store_dbh(f->a.store),
                             "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                             " FROM slad_test_calls");
}

static int64_t tickets_stored(struct fixture *f)
{
    return testdb_value(store_dbh(f->a.store), "SELECT count(*) FROM tickets");
}

/* An operation the database refused for concurrency (-EAGAIN) runs once more before the
 * answer: refused once, it succeeds (one ticket, 201); refused twice, the answer is 503
 * database_unavailable after exactly two tries and nothing is stored. */
static void test_conflict_retried_once(void **state)
{
    struct fixture *f = *state;
    refuse_install(f);
    const char *body = "{\"source\":\"crm\",\"external_id\":\"R-1\",\"title\":\"no cooling\","
                       "\"severity\":2,\"team\":\"north\"}";
    refuse_next(f, 1);
    create(f, body, T0_MS, 201);
    assert_int_equal(refuse_calls_made(f), 2);
    assert_int_equal(tickets_stored(f), 1);

    refuse_next(f, 2);
    body = "{\"source\":\"crm\",\"external_id\":\"R-2\",\"title\":\"no cooling\","
           "\"severity\":2,\"team\":\"north\"}";
    struct api_response resp;
    json_t *v;
    assert_int_equal(request(f, "POST", "/v1/tickets", NULL, body, T0_MS, &resp, &v), 503);
    check_error(__LINE__, &resp, v, 503, "database_unavailable", "injected");
    json_decref(v);
    api_response_done(&resp);
    assert_int_equal(refuse_calls_made(f), 2);
    assert_int_equal(tickets_stored(f), 1);

    /* The client's retry, with nothing refused, goes through in one try. */
    refuse_next(f, 0);
    create(f, body, T0_MS, 201);
    assert_int_equal(refuse_calls_made(f), 1);
    assert_int_equal(tickets_stored(f), 2);
}

/* PostgreSQL, the connection lost and being made again in the background: a read answers
 * 503 database_unavailable with Retry-After 1 at once (not 500), and reads again once the
 * connection is back. */
static void test_connection_lost_answers_503(void **state)
{
    struct fixture *f = *state;
    if (!testdb_on_postgres())
        return; /* SQLite's file is never lost */
    const char *body = "{\"source\":\"crm\",\"external_id\":\"L-1\",\"title\":\"no cooling\","
                       "\"severity\":2,\"team\":\"north\"}";
    create(f, body, T0_MS, 201);
    struct db *db = store_dbh(f->a.store);
    db_reconnect_in_background(db);
    int64_t pid = testdb_value(db, "SELECT pg_backend_pid()");
    struct db *other = testdb_open();
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int", (long long)pid);
    assert_int_equal(testdb_value(other, sql), 1);
    db_close(other);
    const char *paths[] = {"/v1/tickets", "/v1/tickets/1", "/healthz"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct api_response resp;
        json_t *v;
        assert_int_equal(request(f, "GET", paths[i], NULL, NULL, T0_MS, &resp, &v), 503);
        check_error(__LINE__, &resp, v, 503, "database_unavailable", "connection lost");
        assert_int_equal(resp.retry_after_s, 1);
        json_decref(v);
        api_response_done(&resp);
    }
    struct store_link link;
    for (int i = 0; i < 1000 && store_reconnect_step(f->a.store, (double)i, &link) != 1; i++)
        usleep(10 * 1000); /* the server's answer; the step's own clock is injected */
    assert_true(store_connected(f->a.store));
    struct api_response resp;
    json_t *v;
    assert_int_equal(request(f, "GET", "/v1/tickets/1", NULL, NULL, T0_MS, &resp, &v), 200);
    assert_int_equal(resp.retry_after_s, 0);
    json_decref(v);
    api_response_done(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schedules, setup_schedules, teardown),
        cmocka_unit_test_setup_teardown(test_next, setup_next, teardown),
        cmocka_unit_test_setup_teardown(test_action_links, setup_links, teardown),
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
        cmocka_unit_test(test_prefers_minimal),
        cmocka_unit_test_setup_teardown(test_create_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_and_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_metrics_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_limit, setup_bounds, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup_bounds, teardown),
        cmocka_unit_test_setup_teardown(test_worst_case_answers, setup_bounds, teardown),
        cmocka_unit_test_setup_teardown(test_report_csv_formulas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_off_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_retried_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_lost_answers_503, setup, teardown),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
