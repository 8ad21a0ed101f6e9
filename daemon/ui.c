/* ui.c - serving the console's embedded files (see ui.h). */
#include "ui.h"

#include <string.h>

#include "log.h"
#include "metrics.h"
#include "request_internal.h"
#include "ui_files.h"

#define CSP "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

static const char err_not_found[] =
    "{\"error\":{\"code\":\"not_found\",\"message\":\"the console has no such file\"}}";
static const char err_method[] =
    "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"the console's pages take GET "
    "and HEAD\"}}";

bool ui_path(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0 ||
           strncmp(path, "/a/", 3) == 0;
}

static const struct ui_file *find(const char *name)
{
    for (unsigned i = 0; i < ui_n_files; i++)
        if (strcmp(ui_files[i].name, name) == 0)
            return &ui_files[i];
    return NULL;
}

/* The file path names: NULL when none (404). */
static const struct ui_file *file_of(const char *path)
{
    if (strncmp(path, "/a/", 3) == 0)
        return path[3] && !strchr(path + 3, '/') ? find("action.html") : NULL;
    const char *rest = path + 4; /* after "/ui/" */
    const char *last = strrchr(rest, '/');
    last = last ? last + 1 : rest;
    /* A page of the app (no extension) is index.html; a file is looked up by its name,
     * exactly: nothing outside the table can be named ("..", "//"). */
    return strchr(last, '.') ? find(rest) : find("index.html");
}

static void security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

/* Whether If-None-Match (a list, or "*") holds etag. */
static bool etag_matches(const char *header, const char *etag)
{
    if (!header)
        return false;
    if (strcmp(header, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(header, etag); p; p = strstr(p + 1, etag)) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ')
            return true;
    }
    return false;
}

static enum MHD_Result queue(struct request *req, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result ret = MHD_queue_response(req->conn, status, r);
    MHD_destroy_response(r);
    double ms = (ev_time() - req->start_s) * 1000.0;
    metrics_http(req->srv->env->metrics, (int)status, ms);
    log_debug("http", "%s '%s' %u %.1f ms (console)", req->method, req->path, status, ms);
    return ret;
}

enum MHD_Result ui_serve(struct request *req)
{
    bool get = strcmp(req->method, MHD_HTTP_METHOD_GET) == 0 ||
               strcmp(req->method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!get) {
        enum MHD_Result ret;
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen(err_method), (void *)err_method, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = queue(req, MHD_HTTP_METHOD_NOT_ALLOWED, r);
        return ret;
    }
    if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/ui") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        /* Every answer of slad names its type: one without is libmicrohttpd's own
         * refusal to refusal.c. */
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/ui/");
        security_headers(r);
        return queue(req, MHD_HTTP_FOUND, r);
    }
    const struct ui_file *f = file_of(req->path);
    if (!f)
        return request_send_error(req, MHD_HTTP_NOT_FOUND, err_not_found);
    const char *inm =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = etag_matches(inm, f->etag);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        fresh ? 0 : f->len, fresh ? (void *)"" : (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
    security_headers(r);
    return queue(req, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
}
