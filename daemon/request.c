/* request.c - one HTTP request from its header to its answer: early refusals (stopping,
 * token, Content-Length), the bounded body, the api call inside the iteration's
 * transaction, and the answer held until the commit (see request.h). */
#include "request.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accept.h"
#include "access.h"
#include "api.h"
#include "batch.h"
#include "intake_keys.h"
#include "jsonx_intake.h"
#include "log.h"
#include "metrics.h"
#include "timers.h"
#include "token.h"

struct request {
    struct batch_waiter waiter; /* first: the waiter is the request */
    struct request_listener *srv;
    struct MHD_Connection *conn;
    struct acceptor_conn *admitted; /* the connection's admission record, or NULL */
    char *path, *query;             /* from the raw request URI */
    const char *method;             /* MHD's, valid for the request's life */
    char *body;
    size_t body_len, body_cap;
    size_t content_length; /* announced, <= max_body; 0 when absent */
    bool started, too_large, held, ready;
    bool body_key; /* a PagerDuty intake without a header: the routing_key must open it */
    struct api_response resp;
    double start_s;
};

static const char json_mime[] = "application/json";

static void free_request(struct request *req)
{
    api_response_done(&req->resp);
    free(req->path);
    free(req->body);
    free(req);
}

/* The raw URI split at '?': api gets the path and the undecoded query. */
void *request_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct request_listener *srv = cls;
    struct request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->path = strdup(uri);
    if (!req->path) {
        free(req);
        return NULL;
    }
    char *q = strchr(req->path, '?');
    if (q) {
        *q = '\0';
        req->query = q + 1;
    }
    req->srv = srv;
    req->conn = conn;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->admitted = info ? info->socket_context : NULL;
    acceptor_head_started(req->admitted);
    req->start_s = ev_time();
    srv->env->in_flight++;
    return req;
}

void request_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct request_listener *srv = cls;
    struct request *req = *con_cls;
    if (!req)
        return;
    srv->env->in_flight--;
    free_request(req);
    *con_cls = NULL;
}

/* Send status with body (taken when owned, else static) and count it; allow: the methods
 * of a 405, or NULL. */
static enum MHD_Result send_answer(struct request *req, int status, const char *type, char *body,
                                   size_t len, bool owned, const char *allow, const char *location)
{
    struct request_env *env = req->srv->env;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : json_mime);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (allow && allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (location && location[0]) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
        MHD_add_response_header(r, "Preference-Applied", "return=minimal");
    }
    /* A client without the token keeps no connection open, and a malformed request may
     * have left the stream out of step. */
    if (env->stopping || status == MHD_HTTP_UNAUTHORIZED || status == MHD_HTTP_BAD_REQUEST)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    double ms = (ev_time() - req->start_s) * 1000.0;
    metrics_http(env->metrics, status, ms);
    return ret;
}

static enum MHD_Result send_error(struct request *req, int status, const char *json)
{
    log_debug("http", "'%s' refused with %d before the api: %s", req->path, status, json);
    return send_answer(req, status, json_mime, (char *)json, strlen(json), false, NULL, NULL);
}

/* The api's answer: body ownership moves to MHD. */
static enum MHD_Result send_response(struct request *req, const char *method)
{
    struct api_response *resp = &req->resp;
    access_log(method, req->path, req->body, req->body_len, resp,
               (ev_time() - req->start_s) * 1000.0);
    char *body = resp->body ? resp->body : (char *)"";
    bool owned = resp->body != NULL;
    resp->body = NULL;
    return send_answer(req, resp->status, resp->content_type, body, resp->body_len, owned,
                       resp->allow, resp->location);
}

static const char err_unauthorized[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"this listener requires the header "
    "'Authorization: Bearer <token>' with the token of token_file\"}}";
static const char err_routing_key[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"this intake requires its token: "
    "as the routing_key of the event, or in the header 'Authorization: Bearer <token>'\"}}";
static const char err_content_length[] =
    "{\"error\":{\"code\":\"bad_request\",\"message\":\"header 'Content-Length' is given "
    "more than once with different values; send it once\"}}";
static const char err_too_large[] =
    "{\"error\":{\"code\":\"payload_too_large\",\"message\":\"the request body is larger than "
    "max_body\"}}";
static const char err_db[] =
    "{\"error\":{\"code\":\"database_unavailable\",\"message\":\"the database did not accept "
    "the change; nothing was stored; try again\"}}";
static const char err_stopping[] =
    "{\"error\":{\"code\":\"shutting_down\",\"message\":\"slad is stopping; try again when "
    "it is back\"}}";
static const char err_memory[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"slad ran out of memory\"}}";

/* The 503 body naming why the database refused (a full disk, a read-only file, a lock):
 * malloc'd, or NULL when out of memory. */
static char *db_error_body(const char *reason)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "the database did not accept the change (%s); nothing was stored; try again", reason);
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", "database_unavailable", "message", msg);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return body;
}

/* Run the api on the complete request; the answer goes to req->resp. */
static void run_api(struct request *req)
{
    struct request_env *env = req->srv->env;
    struct api_request areq = {
        .method = req->method,
        .path = req->path,
        .query = req->query,
        .body = req->body ? req->body : "",
        .body_len = req->body_len,
        .prefer_minimal =
            api_prefers_minimal(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Prefer")),
    };
    api_handle(env->api, &areq, timers_now_ms(env->loop), &req->resp);
}

/* GET and HEAD (a GET without the body) write nothing. */
static bool reads_only(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* The commit decided: release the held answer (503 when rolled back). */
static void commit_done(struct batch_waiter *w, bool committed)
{
    struct request *req = (struct request *)w;
    if (!committed && reads_only(req->method)) {
        /* A read held behind another request's failed write: it wrote nothing, so answer
         * it again from what is committed (GETs need no transaction) rather than 503. */
        api_response_done(&req->resp);
        run_api(req);
    } else if (!committed) {
        api_response_done(&req->resp);
        char *body = db_error_body(batch_last_error(req->srv->env->batch));
        req->resp = (struct api_response){.status = MHD_HTTP_SERVICE_UNAVAILABLE,
                                          .content_type = json_mime,
                                          .body = body ? body : strdup(err_db)};
        req->resp.body_len = req->resp.body ? strlen(req->resp.body) : 0;
    }
    req->ready = true;
    MHD_resume_connection(req->conn);
}

/* Counts the Content-Length headers and whether they disagree. */
struct length_headers {
    const char *first;
    unsigned n;
    bool differ;
};

static enum MHD_Result length_header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    struct length_headers *lh = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (lh->n++ == 0)
        lh->first = value;
    else if (strcmp(lh->first ? lh->first : "", value ? value : "") != 0)
        lh->differ = true;
    return MHD_YES;
}

static void log_unauthorized(struct request *req, const char *why)
{
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_NOTICE, "http", "refused a TCP request from %s to '%s': %s (401)",
                acceptor_conn_peer(req->admitted), req->path, why);
}

/* A TCP request without the daemon's token: an intake's URL may take its own. */
static bool tcp_authorized(struct request *req, const char *auth)
{
    struct request_env *env = req->srv->env;
    if (token_check(env->token, auth))
        return true;
    switch (intake_keys_check(env->intake_keys, env->conf, req->path, auth)) {
    case INTAKE_ACCESS_GRANTED:
        return true;
    case INTAKE_ACCESS_BODY_KEY:
        req->body_key = true;
        return true;
    default:
        log_unauthorized(req, auth ? "the bearer token does not match token_file"
                                   : "no Authorization header");
        return false;
    }
}

/* A PagerDuty intake's routing_key, the body's, is its token (or the daemon's). */
static bool body_key_ok(struct request *req)
{
    struct request_env *env = req->srv->env;
    const struct conf_intake *in = intake_keys_intake_of(env->conf, req->path);
    char *key = NULL;
    bool ok = in &&
              jsonx_pagerduty_routing_key(req->body ? req->body : "", req->body_len, &key) == 0 &&
              intake_keys_routing_key(env->intake_keys, env->token, in, key);
    free(key);
    if (!ok)
        log_unauthorized(req, "the routing_key does not match the intake's token");
    return ok;
}

/* The first call, on the request header: refuse early what needs no body. */
static enum MHD_Result on_header(struct request *req)
{
    struct request_env *env = req->srv->env;
    acceptor_head_done(req->admitted);
    if (env->stopping)
        return send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_stopping);
    if (req->srv->tcp) {
        const char *auth =
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!tcp_authorized(req, auth))
            return send_error(req, MHD_HTTP_UNAUTHORIZED, err_unauthorized);
    }
    /* Two lengths that disagree are how requests are smuggled past a proxy. */
    struct length_headers lh = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, length_header_cb, &lh);
    if (lh.differ)
        return send_error(req, MHD_HTTP_BAD_REQUEST, err_content_length);
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > (unsigned long long)env->conf->daemon.max_body_bytes)
            return send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, err_too_large);
        req->content_length = (size_t)n;
    }
    return MHD_YES;
}

/* Keep a chunk of body; past max_body the rest is read and dropped, then 413. */
static void on_body(struct request *req, const char *data, size_t size)
{
    size_t max = (size_t)req->srv->env->conf->daemon.max_body_bytes;
    if (req->too_large || size > max - req->body_len) {
        req->too_large = true;
        return;
    }
    if (req->body_len + size > req->body_cap) {
        /* The announced length at once, else doubling; never more than max_body. */
        size_t cap = req->content_length > 4096 ? req->content_length : 4096;
        if (cap < 2 * req->body_cap)
            cap = 2 * req->body_cap;
        if (cap < req->body_len + size)
            cap = req->body_len + size;
        if (cap > max)
            cap = max;
        char *nb = realloc(req->body, cap);
        if (!nb) {
            req->too_large = true;
            return;
        }
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
}

enum MHD_Result request_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    struct request_listener *srv = cls;
    struct request_env *env = srv->env;
    struct request *req = *con_cls;
    if (!req)
        return MHD_NO; /* out of memory in uri_cb: drop the connection */
    if (!req->started) {
        req->started = true;
        return on_header(req);
    }
    if (*upload_data_size > 0) {
        on_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->ready)
        return send_response(req, method);
    if (req->too_large)
        return send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, err_too_large);
    if (req->body_key && !body_key_ok(req))
        return send_error(req, MHD_HTTP_UNAUTHORIZED, err_routing_key);

    struct slad_error err;
    /* A GET writes nothing: it joins the batch when one is open, else it reads in
     * autocommit, without the write lock of BEGIN IMMEDIATE, so /healthz and reads go on
     * while another process (a sqlite3 shell, a migration) holds that lock. */
    if (!reads_only(method) && batch_begin(env->batch, &err) < 0) {
        log_err("store", "cannot start a transaction: %s", err.msg);
        char *body = db_error_body(err.msg);
        if (!body)
            return send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_db);
        return send_answer(req, MHD_HTTP_SERVICE_UNAVAILABLE, json_mime, body, strlen(body), true,
                           NULL, NULL);
    }
    req->method = method;
    run_api(req);
    if (!req->resp.body && req->resp.status == 0)
        return send_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, err_memory);
    /* A read that follows a write of the same batch may show uncommitted data: it waits
     * for the commit too, and shares its fate. */
    if (req->resp.wrote)
        batch_mark_dirty(env->batch);
    if (req->resp.wrote || batch_is_dirty(env->batch)) {
        req->held = true;
        req->waiter.done = commit_done;
        MHD_suspend_connection(conn);
        batch_wait(env->batch, &req->waiter);
        return MHD_YES;
    }
    return send_response(req, method);
}
