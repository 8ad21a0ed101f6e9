/* fuzz-api.c - api_handle on arbitrary requests, over the real service and an in-memory
 * store, with a fixed clock and a config built by conf_load_string.
 *
 * Plans' rules are expanded under a clock that moves 10 us each time it is read: their
 * budget runs out after a fixed number of libical calls, whatever the machine.
 *
 * Input: up to 8 requests separated by a 0xff byte, each "METHOD PATH[?QUERY]\nBODY".
 * Each input runs inside one store transaction that is rolled back afterwards, with a
 * fresh agenda and service, so inputs do not depend on each other (ticket ids restart at
 * 1 and later requests of one input can act on tickets the earlier ones created).
 * Invariants: every answer has a known status and a JSON body (or the metrics text); an
 * error body is exactly {"error":{"code","message"}}; 405 carries Allow; no answer reaches
 * 1 MiB (issue 11); a request never ends or nests the daemon's transaction. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agenda.h"
#include "api.h"
#include "conf_load.h"
#include "metrics.h"
#include "service.h"
#include "store.h"

#define NOW_MS       INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define MAX_REQUESTS 8
#define ANSWER_MAX   ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static const char conf_text[] =
    "daemon = { max_body = 8192; };\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"li.si\"]; }; } );\n"
    "contacts = ( { name = \"li.si\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/dev/null\"; } );\n"
    "policies = (\n"
    "  { name = \"critical\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = (\n"
    "      { name = \"response\"; target = \"1h\";\n"
    "        stop = [\"acknowledge\", \"dispatch\", \"arrive\", \"resolve\"];\n"
    "        escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                     { at = \"+1h\"; notify = [\"supervisor\"]; repeat = \"1h\"; } ); },\n"
    "      { name = \"resolution\"; target = \"24h\"; stop = [\"resolve\"];\n"
    "        pause = [\"on_hold\"]; } );\n"
    "    followups = ( { name = \"callback\"; from = \"resolve\"; after = \"1d\";\n"
    "                    due_within = \"1d\"; } );\n"
    "    reminders = ( { before = \"2h\"; notify = [\"assignee\"]; } ); },\n"
    "  { name = \"default\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"acknowledge\"]; } ); }\n"
    ");\n";

static struct conf *conf;
static struct store *store;
static struct metrics *metrics;

/* The shared objects live for the whole run; freed at exit so that valgrind sees no
 * leak. */
static void done(void)
{
    store_close(store);
    metrics_free(metrics);
    conf_free(conf);
}

static void init(void)
{
    struct conf_errors errs = {0};
    struct slad_error err;
    if (conf_load_string(conf_text, "fuzz.conf", &conf, &errs) != 0) {
        fprintf(stderr, "fuzz-api: %s\n", errs.text ? errs.text : "no config");
        abort();
    }
    conf_errors_done(&errs);
    CHECK(store_open(":memory:", false, &store, &err) == 0);
    metrics = metrics_new();
    CHECK(metrics);
    atexit(done);
}

static int64_t counting_clock_ns(void *userdata)
{
    static int64_t now_ns;
    return now_ns += 10000;
}

static const struct budget_clock counting_clock = {counting_clock_ns, NULL};

static int reload_hook(void *userdata, char *errbuf, size_t size)
{
    return 0;
}

static void check_response(const struct api_response *resp)
{
    static const int known[] = {200, 201, 400, 404, 405, 409, 413, 500, 503};
    bool ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ok = ok || resp->status == known[i];
    CHECK(ok);
    if (resp->status == 503 && !resp->body)
        return; /* out of memory */
    CHECK(resp->body && resp->body_len == strlen(resp->body));
    CHECK(resp->body_len < ANSWER_MAX);
    CHECK(resp->content_type);
    CHECK((resp->status == 405) == (resp->allow[0] != '\0'));
    if (strcmp(resp->content_type, "application/json") != 0) {
        CHECK(resp->status == 200);
        return;
    }
    json_t *v = json_loadb(resp->body, resp->body_len, 0, NULL);
    CHECK(json_is_object(v));
    if (resp->status >= 400) {
        json_t *e = json_object_get(v, "error");
        CHECK(json_object_size(v) == 1 && json_object_size(e) == 2);
        CHECK(json_is_string(json_object_get(e, "code")));
        /* The API's last line against a huge answer is never reached. */
        CHECK(strcmp(json_string_value(json_object_get(e, "code")), "answer_too_large") != 0);
        CHECK(json_is_string(json_object_get(e, "message")));
        CHECK(!resp->wrote);
    }
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!conf)
        init();
    struct slad_error err;
    CHECK(store_begin(store, &err) == 0);
    struct agenda *agenda = agenda_new();
    struct service *svc = NULL;
    CHECK(agenda);
    CHECK(service_new(conf, store, agenda, metrics, &svc, &err) == 0);
    service_set_clock(svc, &counting_clock);
    struct api_hooks hooks = {reload_hook, NULL};
    struct api *api = api_new(svc, metrics, &hooks);
    CHECK(api);

    char *copy = malloc(size + 1);
    CHECK(copy);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *p = copy, *end = copy + size;
    for (int n = 0; n < MAX_REQUESTS && p <= end; n++) {
        char *next = memchr(p, 0xff, (size_t)(end - p));
        char *stop = next ? next : end;
        *stop = '\0';
        /* "METHOD PATH?QUERY\nBODY" */
        char *nl = memchr(p, '\n', (size_t)(stop - p));
        char *body = nl ? nl + 1 : stop;
        if (nl)
            *nl = '\0';
        char *space = strchr(p, ' ');
        const char *method = p, *path = "";
        if (space) {
            *space = '\0';
            path = space + 1;
        }
        char *query = strchr(path, '?');
        if (query)
            *query++ = '\0';
        struct api_request req = {method, path, query, body, (size_t)(stop - body)};
        struct api_response resp;
        api_handle(api, &req, NOW_MS + n * 60000, &resp);
        check_response(&resp);
        api_response_done(&resp);
        CHECK(store_in_transaction(store));
        size_t done = 0;
        CHECK(service_fire_due(svc, NOW_MS + n * 60000, 16, &done, &err) == 0);
        if (!next)
            break;
        p = next + 1;
    }
    free(copy);

    api_free(api);
    service_free(svc);
    agenda_free(agenda);
    CHECK(store_rollback(store, &err) == 0);
    CHECK(!store_in_transaction(store));
    return 0;
}
