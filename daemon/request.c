/* request.c - one HTTP request from its header to its answer: early refusals (stopping,
 * credentials (request_auth.c), Content-Length), the bounded body, the console's pages
 * (ui.c) and sign-in (request_signin.c), the api call inside the iteration's
 * transaction, and the answer held until the commit (see request.h). */
#include "request.h"
#include "request_internal.h"

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
#include "console.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pwcheck.h"
#include "reader.h"
#include "stream.h"
#include "timers.h"
#include "ui.h"

static const char json_mime[] = "application/json";

static void free_request(struct request *req)
{
    api_response_done(&req->resp);
    pwcheck_cancel(req->job);
    reader_cancel(req->read_job);
    free(req->signin_user);
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
enum MHD_Result request_send(struct request *req, int status, const char *type, char *body,
                             size_t len, bool owned, const char *allow)
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
    if (req->set_cookie[0] && status >= 200 && status < 300)
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie);
    if (req->retry_after_s > 0) {
        char secs[24];
        snprintf(secs, sizeof(secs), "%lld", (long long)req->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (req->location[0]) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, req->location);
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

enum MHD_Result request_send_error(struct request *req, int status, const char *json)
{
    log_debug("http", "'%s' refused with %d before the api: %s", req->path, status, json);
    return request_send(req, status, json_mime, (char *)json, strlen(json), false, NULL);
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
    if (resp->retry_after_s > 0) /* else keep a sign-in's own (request_signin.c) */
        req->retry_after_s = resp->retry_after_s;
    snprintf(req->location, sizeof(req->location), "%s", resp->location);
    return request_send(req, resp->status, resp->content_type, body, resp->body_len, owned,
                        resp->allow);
}

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
static const char err_stream_method[] =
    "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"'/v1/stream' takes GET, "
    "HEAD\"}}";
static const char err_stream_query[] =
    "{\"error\":{\"code\":\"unknown_parameter\",\"message\":\"'/v1/stream' takes no "
    "query parameters\"}}";
static const char err_readers_busy[] =
    "{\"error\":{\"code\":\"too_busy\",\"message\":\"too many reports are being computed; "
    "try again in a second\"}}";
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

/* GET /v1/stream: the event stream (stream.h), served here rather than by the api, which
 * answers once. */
static enum MHD_Result stream_request(struct request *req, const char *method)
{
    struct request_env *env = req->srv->env;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return request_send(req, MHD_HTTP_METHOD_NOT_ALLOWED, json_mime, (char *)err_stream_method,
                            sizeof(err_stream_method) - 1, false, "GET, HEAD");
    if (req->query && req->query[0])
        return request_send_error(req, MHD_HTTP_BAD_REQUEST, err_stream_query);
    if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        return request_send(req, MHD_HTTP_OK, "text/event-stream", (char *)"", 0, false, NULL);
    metrics_http(env->metrics, MHD_HTTP_OK, (ev_time() - req->start_s) * 1000.0);
    log_debug("http", "GET /v1/stream: an event stream opened");
    return streams_open(env->streams, req->conn);
}

/* Run the api on the complete request; the answer goes to req->resp. */
void request_run_api(struct request *req)
{
    struct request_env *env = req->srv->env;
    struct api_request areq = {
        .method = req->method,
        .path = req->path,
        .query = req->query,
        .body = req->body ? req->body : "",
        .body_len = req->body_len,
        .actor = req->has_session ? req->session.contact : NULL,
        .access = req->access,
        .session = req->has_session ? &req->session : NULL,
        .signin = req->signin_ok ? &req->signin : NULL,
        .peer = req->srv->tcp ? acceptor_conn_peer(req->admitted) : NULL,
        .prefer_minimal =
            api_prefers_minimal(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Prefer")),
    };
    api_handle(env->api, &areq, timers_now_ms(env->loop), &req->resp);
}

/* GET and HEAD (a GET without the body) write nothing. */
bool request_reads_only(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* The batch's COMMIT was refused for concurrency (w->refused): the whole batch was rolled
 * back, this request's write with it, through no fault of its own. Run it once more in the
 * next batch (the other transaction has usually ended meanwhile), as api_handle runs an
 * operation refused inside the batch again; a second refusal is the 503. Not a sign-in:
 * its password check is done and its session made from it. true: the request waits
 * again. */
static bool rerun_refused(struct request *req)
{
    struct request_env *env = req->srv->env;
    struct slad_error err;
    if (!req->waiter.refused || req->rerun || request_is_signin(req) ||
        batch_begin(env->batch, &err) < 0)
        return false;
    req->rerun = true;
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_INFO, "store",
                "'%s': the database refused the batch's commit (%s); running it again", req->path,
                batch_last_error(env->batch));
    api_response_done(&req->resp);
    request_run_api(req);
    if (req->resp.wrote)
        batch_mark_dirty(env->batch);
    batch_wait(env->batch, &req->waiter);
    return true;
}

/* The commit decided: release the held answer (503 when rolled back). */
void request_commit_done(struct batch_waiter *w, bool committed)
{
    struct request *req = (struct request *)w;
    if (!committed && !request_reads_only(req->method) && rerun_refused(req))
        return;
    if (!committed && request_reads_only(req->method)) {
        /* A read held behind another request's failed write: it wrote nothing, so answer
         * it again from what is committed (GETs need no transaction) rather than 503. */
        api_response_done(&req->resp);
        request_run_api(req);
    } else if (!committed) {
        api_response_done(&req->resp);
        char *body = db_error_body(batch_last_error(req->srv->env->batch));
        req->resp = (struct api_response){.status = MHD_HTTP_SERVICE_UNAVAILABLE,
                                          .content_type = json_mime,
                                          .body = body ? body : strdup(err_db)};
        req->resp.body_len = req->resp.body ? strlen(req->resp.body) : 0;
        req->retry_after_s = 1; /* nothing was stored: the same request again */
    }
    req->ready = true;
    MHD_resume_connection(req->conn);
}

/* The answer of a long read may leave: every commit it could show is durable. */
static void read_released(struct batch_waiter *w, bool committed)
{
    struct request *req = (struct request *)w;
    req->ready = true;
    MHD_resume_connection(req->conn);
    http_listener_kick(req->srv);
}

/* A reader thread answered (on the loop). Its snapshot may hold a commit still in the WAL
 * and not yet fsynced (batch.h): the answer waits until every commit made so far, which
 * includes all the snapshot can hold, is durable, as a read on the loop waits for a commit
 * in flight. The open transaction is not waited for: the reader cannot see it. */
static void read_done(void *userdata, struct api_response *resp)
{
    struct request *req = userdata;
    req->read_job = NULL;
    api_response_done(&req->resp);
    req->resp = *resp;
    *resp = (struct api_response){0}; /* moved */
    req->waiter.done = read_released;
    if (!batch_wait_durable(req->srv->env->batch, &req->waiter))
        read_released(&req->waiter, true);
}

/* The api handed back a long read: queue it on a reader, the connection suspended until
 * read_done; a full queue is refused at once. */
static enum MHD_Result start_read(struct request *req)
{
    struct request_env *env = req->srv->env;
    struct api_read *rd = req->resp.read;
    req->resp.read = NULL;
    if (!env->reader) { /* stopping: the readers are gone */
        api_read_free(rd);
        return request_send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_stopping);
    }
    bool busy = false;
    req->read_job = reader_submit(env->reader, rd, read_done, req, &busy);
    if (!req->read_job && busy) {
        static struct log_limit limit;
        log_limited(&limit, LOG_PRIO_WARNING, "http",
                    "'%s' refused with 503: every reader is busy and the queue is full", req->path);
        req->retry_after_s = 1;
        return request_send(req, MHD_HTTP_SERVICE_UNAVAILABLE, json_mime, (char *)err_readers_busy,
                            sizeof(err_readers_busy) - 1, false, NULL);
    }
    if (!req->read_job)
        return request_send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_memory);
    req->held = true;
    MHD_suspend_connection(req->conn);
    return MHD_YES;
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

/* The first call, on the request header: refuse early what needs no body. */
static enum MHD_Result on_header(struct request *req)
{
    struct request_env *env = req->srv->env;
    /* The limit of this request is the one in force now: a reload that lowers it while the
     * body arrives must not leave body_len past it (the room left would wrap around). */
    req->max_body = (size_t)env->conf->daemon.max_body_bytes;
    acceptor_head_done(req->admitted);
    if (env->stopping)
        return request_send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_stopping);
    /* The console's pages are public: what they show comes from the API, which asks. */
    req->ui = ui_path(req->path);
    enum MHD_Result refused;
    if (!req->ui && !request_authenticate(req, &refused))
        return refused;
    if (strcmp(req->method, MHD_HTTP_METHOD_DELETE) == 0 && strcmp(req->path, "/v1/session") == 0)
        console_cookie(req->set_cookie, sizeof(req->set_cookie), NULL, req->srv->tls);
    /* Two lengths that disagree are how requests are smuggled past a proxy. */
    struct length_headers lh = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, length_header_cb, &lh);
    if (lh.differ)
        return request_send_error(req, MHD_HTTP_BAD_REQUEST, err_content_length);
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > (unsigned long long)req->max_body)
            return request_send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, err_too_large);
        req->content_length = (size_t)n;
    }
    return MHD_YES;
}

/* Keep a chunk of body; past max_body the rest is read and dropped, then 413. */
static void on_body(struct request *req, const char *data, size_t size)
{
    size_t max = req->max_body;
    if (req->too_large || req->body_len > max || size > max - req->body_len) {
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
        req->method = method;
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
        return request_send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, err_too_large);
    enum MHD_Result taken;
    if (req->body_key && !request_body_key_ok(req, &taken))
        return taken;
    if (req->ui)
        return ui_serve(req);
    if (request_is_signin(req) && request_signin_start(req, &taken))
        return taken;
    if (strcmp(req->path, "/v1/stream") == 0)
        return stream_request(req, method);

    struct slad_error err;
    /* A GET writes nothing: it joins the batch when one is open, else it reads in
     * autocommit, without the write lock of BEGIN IMMEDIATE, so /healthz and reads go on
     * while another process (a sqlite3 shell, a migration) holds that lock. */
    int begun = request_reads_only(method) ? 0 : batch_begin(env->batch, &err);
    if (begun < 0) {
        /* A lost connection is logged once by reconnect.c, not once per request; the
         * client tries again in a second, as it is told. */
        if (begun == -ENOTCONN) {
            log_debug("store", "'%s' refused with 503: %s", req->path, err.msg);
            req->retry_after_s = 1;
        } else {
            log_err("store", "cannot start a transaction: %s", err.msg);
        }
        char *body = db_error_body(err.msg);
        if (!body)
            return request_send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_db);
        return request_send(req, MHD_HTTP_SERVICE_UNAVAILABLE, json_mime, body, strlen(body), true,
                            NULL);
    }
    request_run_api(req);
    if (req->resp.read)
        return start_read(req);
    if (!req->resp.body && req->resp.status == 0)
        return request_send_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, err_memory);
    /* A read that follows a write of the same batch may show uncommitted data: it waits
     * for the commit too, and shares its fate. */
    if (req->resp.wrote)
        batch_mark_dirty(env->batch);
    if (req->resp.wrote || batch_is_dirty(env->batch)) {
        req->held = true;
        req->waiter.done = request_commit_done;
        MHD_suspend_connection(conn);
        batch_wait(env->batch, &req->waiter);
        return MHD_YES;
    }
    return send_response(req, method);
}
