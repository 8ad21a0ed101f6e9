/* api_schedules.c - on-call schedules (doc/ONCALL.md):
 *
 *   GET    /v1/schedules?at=T                     every schedule and who is on call (now)
 *   GET    /v1/schedules/{name}/oncall?at=T       {"schedule","contact","from","until"}
 *   GET    /v1/schedules/{name}/oncall?from=&to=  {"schedule","from","to","shifts":[...]}
 *   GET    /v1/schedules/{name}.ics?from=&to=&contact=   text/calendar
 *   POST   /v1/schedules/{name}/overrides {contact, from, to}   201 the override
 *   GET    /v1/schedules/{name}/overrides?limit=&after=         {"overrides":[...],"next"}
 *   DELETE /v1/schedules/{name}/overrides/{id}   {"status":"deleted","id"}
 *
 * A shift is {"contact","from","until"}: contact null when nobody is on call; from or
 * until null when the shift goes on past what slad searches (schedule.h). An override is
 * {"id","schedule","contact","from","to","created_at"}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "jsonx.h"
#include "schedule.h"
#include "service.h"

#define ICS_TYPE "text/calendar; charset=utf-8"
/* The .ics without from/to: the last week and the next eight. */
#define ICS_BEFORE_MS (7 * CIVIL_MS_PER_DAY)
#define ICS_AFTER_MS  (56 * CIVIL_MS_PER_DAY)

static json_t *bound_time(int64_t at_ms)
{
    return at_ms == INT64_MIN || at_ms == INT64_MAX ? json_null() : jsonx_time(at_ms);
}

static json_t *shift_render(const struct schedule_shift *shift)
{
    return json_pack("{s:o,s:o,s:o}", "contact", jsonx_string(shift->contact), "from",
                     bound_time(shift->from_ms), "until", bound_time(shift->until_ms));
}

static json_t *override_render(const struct schedule_override *o)
{
    return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)o->id, "schedule", o->schedule,
                     "contact", o->contact, "from", jsonx_time(o->from_ms), "to",
                     jsonx_time(o->to_ms), "created_at", jsonx_time(o->created_ms));
}

/* An error of a read with query parameters: -EINVAL is about them. */
static void read_error(struct call *c, int r, const struct slad_error *err)
{
    if (r == -EINVAL || r == -E2BIG)
        call_error(c, 400, "invalid_parameter", "%s", err->msg);
    else
        call_errno(c, r, err);
}

/* fn of service_schedule_shift_at: the shift into the object (userdata). */
static int shift_into(void *userdata, const struct schedule_shift *shift)
{
    json_t *o = userdata, *v = shift_render(shift);
    if (!v)
        return -ENOMEM;
    json_object_update(o, v);
    json_decref(v);
    return 0;
}

static int shift_append(void *userdata, const struct schedule_shift *shift)
{
    json_t *v = shift_render(shift);
    return v && json_array_append_new(userdata, v) == 0 ? 0 : -ENOMEM;
}

void route_schedule_list(struct call *c)
{
    /* Indexes as in api.c's at_params. */
    int64_t at_ms = c->now_ms;
    if (!call_query_time(c, c->query[0], "at", &at_ms))
        return;
    const struct conf *conf = call_conf(c);
    json_t *list = json_array();
    struct slad_error err = {""};
    int r = list ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && conf && i < conf->n_schedules; i++) {
        const struct schedule *s = conf->schedules[i];
        json_t *o = json_pack("{s:s,s:s,s:I}", "name", schedule_name(s), "timezone",
                              schedule_timezone(s), "layers", (json_int_t)schedule_n_layers(s));
        r = o ? service_schedule_shift_at(c->api->svc, schedule_name(s), at_ms, shift_into, o, &err)
              : -ENOMEM;
        if (o && json_array_append_new(list, o) < 0 && r == 0)
            r = -ENOMEM;
    }
    if (r < 0) {
        json_decref(list);
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 200, json_pack("{s:o}", "schedules", list));
}

void route_schedule_oncall(struct call *c)
{
    /* Indexes as in api.c's oncall_params. */
    const char *at = c->query[0], *from = c->query[1], *to = c->query[2];
    struct slad_error err = {""};
    if (at && (from || to)) {
        call_error(c, 400, "invalid_parameter",
                   "query parameter 'at' asks for one shift, 'from' and 'to' for a list: give "
                   "one or the other");
        return;
    }
    if (!from != !to) {
        call_error(c, 400, "invalid_parameter", "query parameter '%s' is needed with '%s'",
                   from ? "to" : "from", from ? "from" : "to");
        return;
    }
    int64_t at_ms = c->now_ms, from_ms = 0, to_ms = 0;
    if (!call_query_time(c, at, "at", &at_ms) || !call_query_time(c, from, "from", &from_ms) ||
        !call_query_time(c, to, "to", &to_ms))
        return;
    json_t *o = json_pack("{s:s}", "schedule", c->name);
    int r;
    if (!o) {
        r = slad_error_set(&err, ENOMEM, "out of memory");
    } else if (!from) {
        r = service_schedule_shift_at(c->api->svc, c->name, at_ms, shift_into, o, &err);
    } else {
        json_t *shifts = json_array();
        json_object_set_new(o, "from", jsonx_time(from_ms));
        json_object_set_new(o, "to", jsonx_time(to_ms));
        r = shifts && json_object_set_new(o, "shifts", shifts) == 0
                ? service_schedule_shifts(c->api->svc, c->name, from_ms, to_ms, shift_append,
                                          shifts, &err)
                : -ENOMEM;
    }
    if (r < 0) {
        json_decref(o);
        read_error(c, r, &err);
        return;
    }
    call_json(c, 200, o);
}

void route_schedule_ics(struct call *c)
{
    /* Indexes as in api.c's ics_params. */
    const char *from = c->query[0], *to = c->query[1], *contact = c->query[2];
    int64_t from_ms = c->now_ms - ICS_BEFORE_MS, to_ms = c->now_ms + ICS_AFTER_MS;
    if (!call_query_time(c, from, "from", &from_ms) || !call_query_time(c, to, "to", &to_ms))
        return;
    char *text = NULL;
    struct slad_error err = {""};
    int r =
        service_schedule_ics(c->api->svc, c->name, contact, from_ms, to_ms, c->now_ms, &text, &err);
    if (r < 0)
        read_error(c, r, &err);
    else
        call_text(c, 200, ICS_TYPE, text, strlen(text));
}

/* {contact, from, to}: all required, nothing else. */
static int override_parse(const struct api_request *req, struct schedule_override *o,
                          struct slad_error *reterr)
{
    static const char known[] = "contact, from, to";
    json_t *root = NULL;
    int r = jsonx_load_object(req->body, req->body_len, &root, reterr);
    if (r < 0)
        return r;
    const char *key;
    json_t *v;
    char *contact = NULL;
    bool have_from = false, have_to = false;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "contact") == 0) {
            r = jsonx_read_string(v, "", "contact", 1, SCHEDULE_NAME_MAX, false, &contact, reterr);
        } else if (strcmp(key, "from") == 0) {
            r = jsonx_read_time(v, "", "from", &o->from_ms, reterr);
            have_from = true;
        } else if (strcmp(key, "to") == 0) {
            r = jsonx_read_time(v, "", "to", &o->to_ms, reterr);
            have_to = true;
        } else {
            r = jsonx_unknown_field(reterr, "", key, known);
        }
        if (r < 0)
            break;
    }
    if (r == 0 && (!contact || !have_from || !have_to))
        r = slad_error_set(reterr, EINVAL, "field '%s' is required",
                           !contact     ? "contact"
                           : !have_from ? "from"
                                        : "to");
    if (r == 0)
        snprintf(o->contact, sizeof(o->contact), "%s", contact);
    free(contact);
    json_decref(root);
    return r;
}

void route_override_create(struct call *c)
{
    struct schedule_override o = {0};
    struct slad_error err = {""};
    if (strlen(c->name) > SCHEDULE_NAME_MAX) {
        call_error(c, 404, "not_found", "schedule '%.64s...' is not in the config", c->name);
        return;
    }
    memcpy(o.schedule, c->name, strlen(c->name) + 1); /* it fits: checked above */
    int r = override_parse(c->req, &o, &err);
    if (r < 0) {
        call_parse_error(c, r, &err);
        return;
    }
    r = service_override_add(c->api->svc, &o, c->now_ms, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 201, override_render(&o));
    c->resp->wrote = true;
}

static int override_page_row(void *userdata, const struct schedule_override *o)
{
    struct call_page *page = userdata;
    return call_page_full(page) ? 1 : call_page_add(page, o->id, override_render(o));
}

void route_override_list(struct call *c)
{
    /* Indexes as in api.c's plan_params. */
    const char *limit = c->query[0], *after = c->query[1];
    int64_t after_id = 0;
    struct call_page page;
    if (!call_page_start(c, limit, after, "override", &page, &after_id))
        return;
    struct slad_error err = {""};
    int r = service_override_list(c->api->svc, c->name, after_id, page.limit + 1, override_page_row,
                                  &page, &err);
    call_page_answer(c, &page, "overrides", r, &err);
}

void route_override_delete(struct call *c)
{
    struct slad_error err = {""};
    int r = service_override_delete(c->api->svc, c->name, c->id, &err);
    if (r < 0) {
        call_errno(c, r, &err);
        return;
    }
    call_json(c, 200, json_pack("{s:s,s:I}", "status", "deleted", "id", (json_int_t)c->id));
    c->resp->wrote = true;
}
