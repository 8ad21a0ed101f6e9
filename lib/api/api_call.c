/* api_call.c - what every route handler shares (api_call.h): answers (text, JSON, errors
 * and the errno map), the running config, unsigned query numbers and pages of listings
 * under a row limit and a byte budget. The router (api.c) and the handlers (api_*.c)
 * call these; they call neither. */
#include "api_call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonx.h"
#include "plan.h"
#include "service.h"

/* Take body (malloc'd text, may be NULL after ENOMEM) as the response. */
void call_text(struct call *c, int status, const char *type, char *body, size_t len)
{
    if (body && len > API_ANSWER_MAX) {
        /* The field limits and page budgets keep every answer under the bound: this is
         * the last line, so that no answer can hold the loop or the memory again. */
        free(body);
        call_error(c, 500, "answer_too_large",
                   "the answer would hold %zu bytes, over the bound of %zu: a bug, please "
                   "report it",
                   len, API_ANSWER_MAX);
        return;
    }
    struct api_response *r = c->resp;
    free(r->body);
    r->status = body ? status : 503;
    r->content_type = type;
    r->body = body;
    r->body_len = body ? len : 0;
}

void call_error(struct call *c, int status, const char *code, const char *fmt, ...)
{
    char msg[SLAD_ERROR_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = 0;
    char *body = jsonx_error_body(code, msg, &len);
    call_text(c, status, JSON_TYPE, body, len);
    c->resp->wrote = false;
}

/* Render v (taken) with a trailing newline. */
void call_json(struct call *c, int status, json_t *v)
{
    size_t len = 0;
    char *text = v ? jsonx_dump(v, &len) : NULL;
    json_decref(v);
    if (text) {
        char *grown = realloc(text, len + 2);
        if (!grown) {
            free(text);
            text = NULL;
        } else {
            text = grown;
            text[len++] = '\n';
            text[len] = '\0';
        }
    }
    if (!text) {
        call_error(c, 503, "out_of_memory", "out of memory while rendering the answer");
        return;
    }
    call_text(c, status, JSON_TYPE, text, len);
}

/* The status and code of an errno from the service or the store. */
void call_errno(struct call *c, int r, const struct slad_error *err)
{
    static const struct {
        int r;
        int status;
        const char *code;
    } map[] = {
        {-EINVAL, 400, "invalid_field"},         {-ENOENT, 404, "not_found"},
        {-EBUSY, 409, "event_not_allowed"},      {-EEXIST, 409, "conflict"},
        {-EMSGSIZE, 413, "payload_too_large"},   {-ENOMEM, 503, "out_of_memory"},
        {-EIO, 503, "database_unavailable"},     {-EAGAIN, 503, "database_unavailable"},
        {-ENOSPC, 503, "database_unavailable"},  {-EROFS, 503, "database_unavailable"},
        {-ENOTSUP, 503, "database_unavailable"}, {-ENOTCONN, 503, "database_unavailable"},
        {-TICKET_EORDER, 409, "out_of_order"},   {-PLAN_ECOSTLY, 400, "too_costly"},
    };
    const char *msg = err && err->msg[0] ? err->msg : strerror(-r);
    if (r == -EAGAIN)
        c->conflict = true;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].r == r) {
            call_error(c, map[i].status, map[i].code, "%s", msg);
            /* The connection to the database is being made again (PostgreSQL): soon. */
            if (r == -ENOTCONN)
                c->resp->retry_after_s = 1;
            return;
        }
    call_error(c, 500, "internal", "%s", msg);
}

/* A parser's error (jsonx classes) as a 400. */
void call_parse_error(struct call *c, int r, const struct slad_error *err)
{
    if (r == -ENOMEM) {
        call_error(c, 503, "out_of_memory", "out of memory while reading the request");
        return;
    }
    call_error(c, 400, jsonx_error_code(r), "%s", err->msg);
}

/* A ticket id segment: 1..19 decimal digits, 1..INT64_MAX. */
bool call_parse_id(const char *s, size_t len, int64_t *ret)
{
    if (len == 0 || len > 19)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v == 0)
        return false;
    *ret = v;
    return true;
}

const struct conf *call_conf(struct call *c)
{
    return service_conf(c->api->svc);
}

int call_parse_uint(const char *s, int64_t max, int64_t *ret)
{
    int64_t v;
    if (!call_parse_id(s, strlen(s), &v)) {
        if (strcmp(s, "0") != 0)
            return -EINVAL;
        v = 0;
    }
    if (v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int call_page_init(struct call_page *page, size_t limit, size_t budget_bytes, size_t min_rows)
{
    *page = (struct call_page){
        .rows = json_array(), .limit = limit, .budget_bytes = budget_bytes, .min_rows = min_rows};
    return page->rows ? 0 : -ENOMEM;
}

bool call_page_start(struct call *c, const char *limit, const char *after, const char *what,
                     struct call_page *page, int64_t *ret_after_id)
{
    int64_t n = LIST_DEFAULT_LIMIT;
    if (limit && (call_parse_uint(limit, LIST_MAX_LIMIT, &n) < 0 || n < 1)) {
        call_error(c, 400, "invalid_parameter", "query parameter 'limit' must be an integer 1..%d",
                   LIST_MAX_LIMIT);
        return false;
    }
    if (after && call_parse_uint(after, INT64_MAX, ret_after_id) < 0) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'after' must be a %s id (an integer >= 0)", what);
        return false;
    }
    if (call_page_init(page, (size_t)n, API_ROWS_MAX, 1) < 0) {
        call_error(c, 503, "out_of_memory", "out of memory while listing");
        return false;
    }
    return true;
}

int call_page_full(struct call_page *page)
{
    if (json_array_size(page->rows) < page->limit)
        return 0;
    page->more = true;
    return 1;
}

int call_page_add(struct call_page *page, int64_t id, json_t *v)
{
    size_t n = json_array_size(page->rows);
    size_t size = v ? jsonx_dump_size(v) + (n > 0) : 0;
    if (size == 0) {
        json_decref(v);
        return -ENOMEM;
    }
    if (n >= page->min_rows && page->bytes + size > page->budget_bytes) {
        json_decref(v);
        page->more = true;
        return 1;
    }
    if (json_array_append_new(page->rows, v) < 0)
        return -ENOMEM;
    page->bytes += size;
    page->last_id = id;
    return 0;
}

void call_page_answer(struct call *c, struct call_page *page, const char *key, int r,
                      const struct slad_error *err)
{
    json_t *out = r == 0 ? json_object() : NULL;
    if (!out || json_object_set_new(out, key, page->rows) < 0) {
        if (!out)
            json_decref(page->rows);
        json_decref(out);
        call_errno(c, r < 0 ? r : -ENOMEM, r < 0 ? err : NULL);
        return;
    }
    json_object_set_new(out, "next", page->more ? json_integer(page->last_id) : json_null());
    call_json(c, 200, out);
}

bool call_query_time(struct call *c, const char *value, const char *name, int64_t *ret)
{
    struct slad_error err = {""};
    if (value && jsonx_time_parse(value, ret, &err) < 0) {
        call_error(c, 400, "invalid_parameter", "query parameter '%s': %s", name, err.msg);
        return false;
    }
    return true;
}
