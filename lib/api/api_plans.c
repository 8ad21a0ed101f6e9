/* api_plans.c - POST/GET /v1/plans and GET/PATCH/DELETE /v1/plans/{id} (SPEC 2).
 *
 * A plan renders as {id, name, customer{name,phone,address}, device{model,serial}, team,
 * owner, assignee, calendar, rrule, start, until, due_within, report_within, next_at,
 * occurrences, created_at, updated_at}. Bodies are strict: an unknown field, a field slad
 * sets, a bad rrule or duration, or until before start is a 400 naming the field. POST
 * requires name, rrule, start and due_within; PATCH changes the fields it names (null
 * clears an optional one; owner and calendar go back to their defaults). DELETE answers
 * {"status":"deleted","id":ID,"cancelled_tasks":N}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "api_warnings.h"
#include "jsonx.h"
#include "plan.h"
#include "service.h"
#include "service_plan.h"

static json_t *pair_object(const char *k1, const char *v1, const char *k2, const char *v2,
                           const char *k3, const char *v3)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, k1, jsonx_string(v1));
    json_object_set_new(o, k2, jsonx_string(v2));
    if (k3)
        json_object_set_new(o, k3, jsonx_string(v3));
    return o;
}

static json_t *plan_render(const struct plan *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "name", jsonx_string(p->name));
    json_object_set_new(o, "customer",
                        pair_object("name", p->customer_name, "phone", p->customer_phone, "address",
                                    p->customer_address));
    json_object_set_new(
        o, "device", pair_object("model", p->device_model, "serial", p->device_serial, NULL, NULL));
    json_object_set_new(o, "team", jsonx_string(p->team));
    json_object_set_new(o, "owner", jsonx_string(p->owner));
    json_object_set_new(o, "assignee", jsonx_string(p->assignee));
    json_object_set_new(o, "calendar", jsonx_string(p->calendar));
    json_object_set_new(o, "rrule", jsonx_string(p->rrule));
    json_object_set_new(o, "start", jsonx_time(p->start_ms));
    json_object_set_new(o, "until", jsonx_time(p->until_ms));
    json_object_set_new(o, "due_within", jsonx_string(p->due_within));
    json_object_set_new(o, "report_within", jsonx_string(p->report_within));
    json_object_set_new(o, "next_at",
                        p->next_ms == INT64_MAX ? json_null() : jsonx_time(p->next_ms));
    json_object_set_new(o, "occurrences", json_integer(p->occurrences));
    json_object_set_new(o, "created_at", jsonx_time(p->created_ms));
    json_object_set_new(o, "updated_at", jsonx_time(p->updated_ms));
    return o;
}

/* ---- bodies ---- */

struct text_field {
    const char *name;
    size_t max;
    bool nullable;
    char **field;
};

/* The members of object v (field prefix, e.g. "customer.") among fields; null clears
 * them all. */
static int read_members(json_t *v, const char *prefix, const struct text_field *fields, size_t n,
                        const char *known, struct slad_error *reterr)
{
    if (json_is_null(v)) {
        for (size_t i = 0; i < n; i++)
            plan_set_string(fields[i].field, NULL); /* clearing never allocates */
        return 0;
    }
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL, "field '%.*s' must be an object {%s}",
                              (int)strlen(prefix) - 1, prefix, known);
    const char *key;
    json_t *m;
    json_object_foreach(v, key, m)
    {
        size_t i = 0;
        while (i < n && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == n)
            return jsonx_unknown_field(reterr, prefix, key, known);
        int r = jsonx_read_string(m, prefix, key, 0, fields[i].max, fields[i].nullable,
                                  fields[i].field, reterr);
        if (r < 0)
            return r;
    }
    return 0;
}

static int read_time_field(json_t *v, const char *name, bool nullable, int64_t *ret,
                           struct slad_error *reterr)
{
    if (json_is_null(v) && nullable) {
        *ret = SLAD_NO_TIME;
        return 0;
    }
    return jsonx_read_time(v, "", name, ret, reterr);
}

/* Apply a POST (patch false: the required fields must be there) or PATCH body to p. */
static int plan_parse(const struct api_request *req, bool patch, struct plan *p,
                      struct slad_error *reterr)
{
    static const char known[] = "name, customer, device, team, owner, assignee, calendar, rrule, "
                                "start, until, due_within, report_within";
    static const char *const read_only[] = {"id",         "next_at",    "occurrences",
                                            "created_at", "updated_at", NULL};
    const struct text_field top[] = {
        {"name", PLAN_NAME_MAX, false, &p->name},
        {"team", PLAN_LABEL_MAX, true, &p->team},
        {"owner", PLAN_LABEL_MAX, true, &p->owner},
        {"assignee", PLAN_LABEL_MAX, true, &p->assignee},
        {"calendar", PLAN_LABEL_MAX, true, &p->calendar},
        {"rrule", PLAN_RRULE_MAX, false, &p->rrule},
        {"due_within", PLAN_DURATION_MAX, false, &p->due_within},
        {"report_within", PLAN_DURATION_MAX, true, &p->report_within},
    };
    const struct text_field customer[] = {
        {"name", PLAN_LABEL_MAX, true, &p->customer_name},
        {"phone", PLAN_LABEL_MAX, true, &p->customer_phone},
        {"address", PLAN_ADDRESS_MAX, true, &p->customer_address},
    };
    const struct text_field device[] = {
        {"model", PLAN_LABEL_MAX, true, &p->device_model},
        {"serial", PLAN_LABEL_MAX, true, &p->device_serial},
    };
    json_t *root;
    int r = jsonx_load_object(req->body, req->body_len, &root, reterr);
    if (r < 0)
        return r;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t i = 0, n = sizeof(top) / sizeof(top[0]);
        while (i < n && strcmp(top[i].name, key) != 0)
            i++;
        if (i < n) {
            r = jsonx_read_string(v, "", key, top[i].nullable ? 0 : 1, top[i].max, top[i].nullable,
                                  top[i].field, reterr);
        } else if (strcmp(key, "customer") == 0) {
            r = read_members(v, "customer.", customer, 3, "name, phone, address", reterr);
        } else if (strcmp(key, "device") == 0) {
            r = read_members(v, "device.", device, 2, "model, serial", reterr);
        } else if (strcmp(key, "start") == 0) {
            r = read_time_field(v, key, false, &p->start_ms, reterr);
        } else if (strcmp(key, "until") == 0) {
            r = read_time_field(v, key, true, &p->until_ms, reterr);
        } else {
            r = jsonx_unknown_field(reterr, "", key, known);
            for (size_t k = 0; read_only[k]; k++)
                if (strcmp(read_only[k], key) == 0)
                    r = slad_error_set(reterr, EROFS, "field '%s' is set by slad", key);
        }
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r < 0 || patch)
        return r;
    const char *missing = !p->name                      ? "name"
                          : !p->rrule                   ? "rrule"
                          : p->start_ms == SLAD_NO_TIME ? "start"
                          : !p->due_within              ? "due_within"
                                                        : NULL;
    if (missing)
        return slad_error_set(reterr, ENODATA, "field '%s' is required", missing);
    return 0;
}

/* ---- handlers ---- */

/* A created or changed plan, with warnings for a team or assignee the config lacks. */
static json_t *plan_answer(struct call *c, const struct plan *p)
{
    json_t *w = NULL;
    warnings_people(&w, call_conf(c), p->team, p->assignee);
    return warnings_attach(plan_render(p), w);
}

void route_plan_create(struct call *c)
{
    struct plan p;
    plan_init(&p);
    struct slad_error err = {""};
    int r = plan_parse(c->req, false, &p, &err);
    if (r < 0)
        call_parse_error(c, r, &err);
    else if ((r = service_plan_create(c->api->svc, &p, c->now_ms, &err)) < 0)
        call_errno(c, r, &err);
    else {
        call_json(c, 201, plan_answer(c, &p));
        c->resp->wrote = true;
    }
    plan_done(&p);
}

void route_plan_get(struct call *c)
{
    struct plan p;
    struct slad_error err = {""};
    int r = service_plan_get(c->api->svc, c->id, &p, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 200, plan_render(&p));
    plan_done(&p);
}

void route_plan_patch(struct call *c)
{
    struct plan p;
    struct slad_error err = {""};
    int r = service_plan_get(c->api->svc, c->id, &p, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    r = plan_parse(c->req, true, &p, &err);
    if (r < 0)
        call_parse_error(c, r, &err);
    else if ((r = service_plan_update(c->api->svc, &p, c->now_ms, &err)) < 0)
        call_errno(c, r, &err);
    else {
        call_json(c, 200, plan_answer(c, &p));
        c->resp->wrote = true;
    }
    plan_done(&p);
}

void route_plan_delete(struct call *c)
{
    struct slad_error err = {""};
    size_t cancelled = 0;
    int r = service_plan_delete(c->api->svc, c->id, &cancelled, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "status", json_string("deleted"));
        json_object_set_new(o, "id", json_integer(c->id));
        json_object_set_new(o, "cancelled_tasks", json_integer((json_int_t)cancelled));
    }
    call_json(c, 200, o);
    c->resp->wrote = true;
}

static int plan_page_row(void *userdata, const struct plan *p)
{
    struct call_page *page = userdata;
    return call_page_full(page) ? 1 : call_page_add(page, p->id, plan_render(p));
}

void route_plan_list(struct call *c)
{
    /* Indexes as in api.c's plan_params. */
    const char *limit = c->query[0], *after = c->query[1];
    int64_t after_id = 0;
    struct call_page page;
    if (!call_page_start(c, limit, after, "plan", &page, &after_id))
        return;
    struct slad_error err = {""};
    int r = service_plan_list(c->api->svc, after_id, page.limit + 1, plan_page_row, &page, &err);
    call_page_answer(c, &page, "plans", r, &err);
}
