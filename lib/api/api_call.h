/* api_call.h - what the files of the API share (api.c holds the router and the route
 * table; api_followups.c, api_plans.c, api_reports.c, api_intake.c hold more handlers): the request
 * being answered and the ways to answer it. Not for use outside the API's files. */
#ifndef SLAD_API_CALL_H
#define SLAD_API_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "conf.h"
#include "error.h"

#define JSON_TYPE "application/json"

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT     1000

/* No answer is larger (issue 11: a ticket with 1000 comments of 64 KiB answered 65 MB and
 * held the loop 2.8 s): a listing ends its page early to stay under it, a ticket shows the
 * newest history that fits, a report that does not fit is refused. */
#define API_ANSWER_MAX ((size_t)1 << 20)
/* What the rows of an answer may take: the rest is for the object around them
 * ({"tickets":[...],"next":...}, a ticket's other keys). */
#define API_ROWS_MAX (API_ANSWER_MAX - 4096)

#define QUERY_MAX_PARAMS 20
#define QUERY_VALUE_MAX  256

struct action_limits; /* api_actions.c */
void action_limits_free(struct action_limits *l);

struct api {
    struct service *svc;
    struct metrics *metrics;
    struct api_hooks hooks;
    struct action_limits *action_limits; /* failed action-link lookups per address */
};

/* One request being answered. */
struct call {
    struct api *api;
    const struct api_request *req;
    int64_t now_ms;
    int64_t id;                          /* the {id} of the path, or 0 */
    char name[QUERY_VALUE_MAX + 1];      /* the {name} of the path (decoded), or "" */
    const char *query[QUERY_MAX_PARAMS]; /* decoded values by the route's parameter index */
    char query_buf[QUERY_MAX_PARAMS][QUERY_VALUE_MAX + 1];
    struct api_response *resp;
    /* The answer is call_errno's -EAGAIN (the database refused the operation for
     * concurrency; it was rolled back to its savepoint): api_handle runs it once more. */
    bool conflict;
};

typedef void route_fn(struct call *c);

/* Handlers of the other files, routed by api.c's table. */
route_fn route_followup_list, route_followup_get, route_followup_complete;
route_fn route_plan_create, route_plan_list, route_plan_get, route_plan_patch, route_plan_delete;
route_fn route_report_sla;
route_fn route_schedule_list, route_schedule_oncall, route_schedule_ics;
route_fn route_override_create, route_override_list, route_override_delete;
route_fn route_intake;
route_fn route_session_create, route_session_get, route_session_delete;
route_fn route_action_get, route_action_post;

const struct conf *call_conf(struct call *c);

/* A positive decimal id of len bytes (no sign, no leading '+', at most 19 digits, not 0). */
bool call_parse_id(const char *s, size_t len, int64_t *ret);
/* Take body (malloc'd text, may be NULL after ENOMEM: then 503) as the answer. */
void call_text(struct call *c, int status, const char *type, char *body, size_t len);
/* {"error":{"code","message"}} with status. */
void call_error(struct call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Render v (taken) with a trailing newline. */
void call_json(struct call *c, int status, json_t *v);
/* The status and code of an errno of the service or the store (-EINVAL 400, -ENOENT 404,
 * -EBUSY/-EEXIST 409, database failures 503; -EAGAIN also marks the call to be run
 * again once, c->conflict). */
void call_errno(struct call *c, int r, const struct slad_error *err);
/* A jsonx parser's error as a 400 (503 for -ENOMEM). */
void call_parse_error(struct call *c, int r, const struct slad_error *err);
/* Query parameter name's RFC 3339 value (NULL: absent, *ret unchanged) into *ret; false
 * after answering 400. */
bool call_query_time(struct call *c, const char *value, const char *name, int64_t *ret);
/* A decimal 0..max; -EINVAL otherwise. */
int call_parse_uint(const char *s, int64_t max, int64_t *ret);

/* One page of a listing in id order ({"<key>":[...],"next":<id or null>}): the store is
 * asked for limit + 1 rows, and the row past the page says there is a next one. The page
 * also ends before a row that would take its rows past budget_bytes (serialised), once it
 * holds min_rows: a listing's page always holds one row, so that paging moves on. */
struct call_page {
    json_t *rows;
    size_t limit;
    size_t budget_bytes;
    size_t min_rows;
    size_t bytes; /* of the rows serialised, with the commas between them */
    int64_t last_id;
    bool more;
};
/* An empty page; -ENOMEM. */
int call_page_init(struct call_page *page, size_t limit, size_t budget_bytes, size_t min_rows);
/* Read the limit and after parameters (what names the listed thing: "plan") into page
 * (budget API_ROWS_MAX, one row at least) and *ret_after_id; false after answering 400
 * or 503. */
bool call_page_start(struct call *c, const char *limit, const char *after, const char *what,
                     struct call_page *page, int64_t *ret_after_id);
/* In a store callback: 1 (stop) when the page is full, else 0. */
int call_page_full(struct call_page *page);
/* Add v (taken; NULL after ENOMEM) as the row of id: 0, 1 (stop: it did not fit the
 * budget, the page has more) or -ENOMEM. */
int call_page_add(struct call_page *page, int64_t id, json_t *v);
/* Answer the page under key, or the error r of the store (rows are freed either way). */
void call_page_answer(struct call *c, struct call_page *page, const char *key, int r,
                      const struct slad_error *err);

#endif
