/* test-api.c - the HTTP API over the real service and an in-memory store: routing (404,
 * 405 with Allow), the error shape, 400/409/413, idempotent intake (201 then 200), GET
 * with history, events, PATCH, list filters and pagination, strict query decoding,
 * /healthz, /metrics, reload hooks and /v1/simulate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agenda.h"
#include "api.h"
#include "conf.h"
#include "metrics.h"
#include "service.h"
#include "store.h"

#define T0_MS   INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define HOUR_MS INT64_C(3600000)

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
    ");\n";

struct fixture {
    struct conf *conf;
    struct store *store;
    struct agenda *agenda;
    struct metrics *metrics;
    struct service *svc;
    struct api *api;
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "test.conf", &f->conf, &errs) != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);
    struct slad_error err = {""};
    if (store_open(":memory:", false, &f->store, &err) != 0)
        fail_msg("store: %s", err.msg);
    f->agenda = agenda_new();
    f->metrics = metrics_new();
    if (service_new(f->conf, f->store, f->agenda, f->metrics, &f->svc, &err) != 0)
        fail_msg("service: %s", err.msg);
    struct api_hooks hooks = {reload_hook, f};
    f->api = api_new(f->svc, f->metrics, &hooks);
    assert_non_null(f->api);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    api_free(f->api);
    service_free(f->svc);
    metrics_free(f->metrics);
    agenda_free(f->agenda);
    store_close(f->store);
    conf_free(f->conf);
    free(f);
    return 0;
}

/* One request; the response body parsed as JSON into *ret_json when it is JSON. */
static int request(struct fixture *f, const char *method, const char *path, const char *query,
                   const char *body, int64_t now_ms, struct api_response *resp, json_t **ret_json)
{
    struct api_request req = {method, path, query, body, body ? strlen(body) : 0};
    api_handle(f->api, &req, now_ms, resp);
    assert_non_null(resp->body);
    assert_int_equal(resp->body_len, strlen(resp->body));
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
        {__LINE__, "PUT", "/v1/plans", 405, "method_not_allowed", "POST, GET"},
        {__LINE__, "POST", "/v1/plans/1", 405, "method_not_allowed", "GET, PATCH, DELETE"},
        {__LINE__, "DELETE", "/v1/notifications", 405, "method_not_allowed", "GET"},
        {__LINE__, "POST", "/v1/reports/sla", 405, "method_not_allowed", "GET"},
        {__LINE__, "GET", "v1/tickets", 404, "not_found", ""},
        {__LINE__, "GET", "", 404, "not_found", ""},
        {__LINE__, "GET",
         "/v1/tickets/1/events/and/a/very/long/path/that/is/cut/in/the/message/after/sixty/four",
         404, "not_found", ""},
        {__LINE__, "DELETE", "/v1/tickets", 405, "method_not_allowed", "POST, GET"},
        {__LINE__, "PUT", "/v1/tickets/1", 405, "method_not_allowed", "GET, PATCH"},
        {__LINE__, "GET", "/v1/tickets/1/events", 405, "method_not_allowed", "POST"},
        {__LINE__, "POST", "/healthz", 405, "method_not_allowed", "GET"},
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
    api_handle(f->api, &req, T0_MS, &resp);
    assert_int_equal(resp.status, 404);
    api_response_done(&resp);
    api_response_done(NULL);
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
        {__LINE__, "PATCH", "/v1/tickets/1", "{\"title\":\"x\"}", 400, "read_only_field",
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
    assert_int_equal(service_fire_due(f->svc, T0_MS + 90 * 60000, 100, &done, &err), 0);
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
        {__LINE__, "breached=yes", "invalid_parameter", "'breached' must be true or false"},
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

    /* Without hooks there is no reload. */
    struct api *bare = api_new(f->svc, NULL, NULL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_and_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_metrics_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
