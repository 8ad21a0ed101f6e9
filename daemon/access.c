/* access.c - log lines for answered requests (see access.h). The details (ticket id,
 * policy, new status) are read back from the JSON the api produced: the api stays a pure
 * router, and the log shows exactly what the client was told. */
#include "access.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "log.h"

static const char *str_field(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "?";
}

/* "/v1/tickets/42/events" -> 42 with suffix "/events"; 0 when path is not under
 * /v1/tickets/. */
static long long ticket_id_of(const char *path, const char **suffix)
{
    static const char prefix[] = "/v1/tickets/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *p = path + sizeof(prefix) - 1;
    long long id = 0;
    while (*p >= '0' && *p <= '9' && id < 1000000000000000LL)
        id = id * 10 + (*p++ - '0');
    *suffix = p;
    return id;
}

static void log_change(const char *method, const char *path, const char *body, size_t body_len,
                       const struct api_response *resp)
{
    json_t *out = json_loadb(resp->body, resp->body_len, 0, NULL);
    json_t *ticket = json_object_get(out, "ticket");
    if (!ticket)
        ticket = out;
    long long id = json_integer_value(json_object_get(ticket, "id"));
    const char *suffix = "";
    long long path_id = ticket_id_of(path, &suffix);
    if (strcmp(method, "POST") == 0 && strcmp(path, "/v1/tickets") == 0) {
        if (resp->status == 201)
            log_info("ticket", "#%lld created: policy '%s', severity %lld, status '%s'", id,
                     str_field(ticket, "policy"),
                     json_integer_value(json_object_get(ticket, "severity")),
                     str_field(ticket, "status"));
        else
            log_debug("ticket", "#%lld already exists for this source and external_id", id);
    } else if (path_id && strcmp(method, "POST") == 0 && strcmp(suffix, "/events") == 0) {
        json_t *in = json_loadb(body, body_len, 0, NULL);
        log_info("ticket", "#%lld event '%s' applied: status '%s'", path_id, str_field(in, "type"),
                 str_field(ticket, "status"));
        json_decref(in);
    } else if (path_id && strcmp(method, "PATCH") == 0 && *suffix == '\0') {
        log_info("ticket", "#%lld updated: policy '%s', status '%s'", path_id,
                 str_field(ticket, "policy"), str_field(ticket, "status"));
    } else if (strcmp(path, "/v1/reload") != 0) { /* reload logs itself */
        log_info("api", "%s '%s' answered %d", method, path, resp->status);
    }
    json_decref(out);
}

void access_log(const char *method, const char *path, const char *body, size_t body_len,
                const struct api_response *resp, double duration_ms)
{
    log_debug("http", "%s '%s' %d %.1f ms", method, path, resp->status, duration_ms);
    if (resp->status >= 500) {
        json_t *out = json_loadb(resp->body, resp->body_len, 0, NULL);
        const char *msg =
            json_string_value(json_object_get(json_object_get(out, "error"), "message"));
        log_warning("http", "%s '%s' answered %d: %s", method, path, resp->status,
                    msg ? msg : "(no message)");
        json_decref(out);
        return;
    }
    if (resp->wrote && resp->status >= 200 && resp->status < 300 && log_enabled(LOG_PRIO_INFO))
        log_change(method, path, body, body_len, resp);
}
