/* api_followups.c - GET /v1/followups, GET /v1/followups/{id} and
 * POST /v1/followups/{id}/complete.
 *
 * A task renders as {id, ticket_id, plan_id, name, state, owner, due_at, deadline_at,
 * outcome, note, completed_at, completed_by, created_at}; state is read off the times
 * (pending, due, overdue) or the stored end (done, cancelled). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "followup.h"
#include "jsonx.h"
#include "service.h"

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

/* An empty text (an unset note) shows as null. */
static json_t *text_or_null(const char *s)
{
    return jsonx_string(s && s[0] ? s : NULL);
}

static json_t *followup_render(const struct followup *f, int64_t now_ms)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(f->id));
    json_object_set_new(o, "ticket_id", id_or_null(f->ticket_id));
    json_object_set_new(o, "plan_id", id_or_null(f->plan_id));
    json_object_set_new(o, "name", jsonx_string(f->name));
    json_object_set_new(o, "state", json_string(followup_view_name(followup_view(f, now_ms))));
    json_object_set_new(o, "owner", jsonx_string(f->owner));
    json_object_set_new(o, "due_at", jsonx_time(f->due_ms));
    json_object_set_new(o, "deadline_at", jsonx_time(f->deadline_ms));
    json_object_set_new(o, "outcome", text_or_null(followup_outcome_name(f->outcome)));
    json_object_set_new(o, "note", text_or_null(f->note));
    json_object_set_new(o, "completed_at", jsonx_time(f->done_ms));
    json_object_set_new(o, "completed_by", text_or_null(f->done_by));
    json_object_set_new(o, "created_at", jsonx_time(f->created_ms));
    return o;
}

struct followup_page {
    struct call_page page;
    int64_t now_ms;
};

static int followup_page_row(void *userdata, const struct followup *f)
{
    struct followup_page *p = userdata;
    return call_page_full(&p->page) ? 1
                                    : call_page_add(&p->page, f->id, followup_render(f, p->now_ms));
}

/* An id query parameter (1..INT64_MAX) into *ret; false after answering 400. */
static bool query_id(struct call *c, const char *value, const char *name, int64_t *ret)
{
    if (value && (call_parse_uint(value, INT64_MAX, ret) < 0 || *ret < 1)) {
        call_error(c, 400, "invalid_parameter", "query parameter '%s' must be an id (1, 2, ...)",
                   name);
        return false;
    }
    return true;
}

void route_followup_list(struct call *c)
{
    /* Indexes as in api.c's followup_params. */
    const char *state = c->query[0], *before = c->query[1], *ticket = c->query[2],
               *plan = c->query[3], *limit = c->query[4], *after = c->query[5];
    struct followup_filter f = {.view = -1, .before_ms = SLAD_NO_TIME, .now_ms = c->now_ms};
    if (state && (f.view = followup_view_from_name(state)) < 0) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'state' must be one of pending, due, overdue, done, "
                   "cancelled");
        return;
    }
    struct slad_error err = {""};
    if (before && jsonx_time_parse(before, &f.before_ms, &err) < 0) {
        call_error(c, 400, "invalid_parameter", "query parameter 'before': %s", err.msg);
        return;
    }
    if (!query_id(c, ticket, "ticket", &f.ticket_id) || !query_id(c, plan, "plan", &f.plan_id))
        return;
    struct followup_page p = {.now_ms = c->now_ms};
    if (!call_page_start(c, limit, after, "follow-up", &p.page, &f.after_id))
        return;
    f.limit = p.page.limit + 1;
    int r = service_followup_list(c->api->svc, &f, followup_page_row, &p, &err);
    call_page_answer(c, &p.page, "followups", r, &err);
}

void route_followup_get(struct call *c)
{
    struct followup f;
    struct slad_error err = {""};
    int r = service_followup_get(c->api->svc, c->id, &f, &err);
    if (r < 0)
        call_errno(c, r, &err);
    else
        call_json(c, 200, followup_render(&f, c->now_ms));
}

/* {"outcome": "satisfied|unsatisfied|unreachable", "note": "...", "by": "..."} */
struct completion {
    char *outcome, *note, *by;
};

static int completion_parse(const struct api_request *req, struct completion *ret,
                            struct slad_error *reterr)
{
    static const char known[] = "outcome, note, by";
    json_t *root;
    int r = jsonx_load_object(req->body, req->body_len, &root, reterr);
    if (r < 0)
        return r;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "outcome") == 0)
            r = jsonx_read_string(v, "", key, 1, 32, false, &ret->outcome, reterr);
        else if (strcmp(key, "note") == 0)
            r = jsonx_read_string(v, "", key, 0, FOLLOWUP_NOTE_MAX - 1, true, &ret->note, reterr);
        else if (strcmp(key, "by") == 0)
            r = jsonx_read_string(v, "", key, 0, FOLLOWUP_NAME_MAX - 1, true, &ret->by, reterr);
        else
            r = jsonx_unknown_field(reterr, "", key, known);
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r == 0 && !ret->outcome)
        r = slad_error_set(reterr, EINVAL,
                           "field 'outcome' is required: satisfied, unsatisfied or unreachable");
    return r;
}

void route_followup_complete(struct call *c)
{
    struct completion in = {0};
    struct slad_error err = {""};
    int r = completion_parse(c->req, &in, &err);
    if (r == 0) {
        struct followup f;
        /* A signed-in contact completes as itself. */
        const char *by = c->req->actor ? c->req->actor : in.by;
        r = service_followup_complete(c->api->svc, c->id, in.outcome, in.note, by, c->now_ms, &f,
                                      &err);
        if (r == 0) {
            call_json(c, 200, followup_render(&f, c->now_ms));
            c->resp->wrote = true;
        } else {
            call_errno(c, r, &err);
        }
    } else if (r == -ENOMEM || r == -EINVAL) {
        call_errno(c, r, &err);
    } else {
        call_parse_error(c, r, &err);
    }
    free(in.outcome);
    free(in.note);
    free(in.by);
}
