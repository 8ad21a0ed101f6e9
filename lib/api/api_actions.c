/* api_actions.c - GET and POST /v1/actions/{code}: a notification's action link
 * (service_action.c). The code is the credential: the daemon serves these routes without
 * a token (13a: public on TCP), so a lookup that fails counts against the client's
 * address, and an address past ACTION_FAILURES_MAX failures in ACTION_FAILURES_WINDOW_MS
 * gets 429 before any lookup. Messages speak to the person who opened the link. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_call.h"
#include "jsonx.h"
#include "ratelimit.h"
#include "service.h"

#define ACTION_FAILURES_MAX       10
#define ACTION_FAILURES_WINDOW_MS (10LL * 60 * 1000)
#define ACTION_PEERS              256 /* addresses remembered; the least recent goes */
#define ACTION_PEER_MAX           64

struct action_peer {
    char addr[ACTION_PEER_MAX];
    struct ratelimit rl;
    int64_t seen_ms;
};

struct action_limits {
    struct action_peer peers[ACTION_PEERS];
};

void action_limits_free(struct action_limits *l)
{
    free(l);
}

/* The bucket of addr (NULL: the Unix socket, not limited), made on first use. */
static struct ratelimit *peer_bucket(struct api *api, const char *addr, int64_t now_ms)
{
    if (!addr)
        return NULL;
    if (!api->action_limits && !(api->action_limits = calloc(1, sizeof(*api->action_limits))))
        return NULL;
    struct action_peer *oldest = NULL;
    for (size_t i = 0; i < ACTION_PEERS; i++) {
        struct action_peer *p = &api->action_limits->peers[i];
        if (p->addr[0] && strncmp(p->addr, addr, ACTION_PEER_MAX - 1) == 0) {
            p->seen_ms = now_ms;
            return &p->rl;
        }
        if (!oldest || !p->addr[0] || (oldest->addr[0] && p->seen_ms < oldest->seen_ms))
            oldest = p;
    }
    snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
    ratelimit_init(&oldest->rl, ACTION_FAILURES_MAX, ACTION_FAILURES_WINDOW_MS, now_ms);
    oldest->seen_ms = now_ms;
    return &oldest->rl;
}

/* 429 when the client's address has failed too often; true when it may go on. */
static bool may_look_up(struct call *c, struct ratelimit **ret_rl)
{
    struct ratelimit *rl = peer_bucket(c->api, c->req->peer, c->now_ms);
    *ret_rl = rl;
    int64_t wait = rl ? ratelimit_wait_ms(rl, c->now_ms) : 0;
    if (wait <= 0)
        return true;
    c->resp->retry_after_s = (int)((wait + 999) / 1000);
    call_error(c, 429, "too_many_attempts",
               "too many links that do not work were tried from your address; try again in %d s",
               c->resp->retry_after_s);
    return false;
}

/* The refusal of a link that does not work: 404 unknown, 410 expired or used. */
static void link_refused(struct call *c, struct ratelimit *rl, int r, const struct slad_error *err)
{
    if (r != -ENOENT && r != -ETIMEDOUT && r != -EALREADY) {
        call_errno(c, r, err);
        return;
    }
    if (rl)
        ratelimit_take(rl, c->now_ms);
    if (r == -ENOENT)
        call_error(c, 404, "action_unknown", "%s", err->msg);
    else
        call_error(c, 410, r == -ETIMEDOUT ? "action_expired" : "action_used", "%s", err->msg);
}

static json_t *actions_of(const struct action_view *v)
{
    json_t *a = json_array();
    if (a && v->can_acknowledge)
        json_array_append_new(a, json_string("acknowledge"));
    if (a && v->can_take)
        json_array_append_new(a, json_string("take"));
    return a;
}

void route_action_get(struct call *c)
{
    struct ratelimit *rl;
    if (!may_look_up(c, &rl))
        return;
    struct action_view v;
    struct slad_error err = {""};
    int r = service_action_get(c->api->svc, c->name, c->now_ms, &v, &err);
    if (r < 0) {
        action_view_done(&v);
        link_refused(c, rl, r, &err);
        return;
    }
    json_t *out = json_object();
    bool ok = out &&
              json_object_set_new(out, "ticket",
                                  jsonx_ticket_render(&v.ticket, call_conf(c), c->now_ms)) == 0 &&
              json_object_set_new(out, "contact", jsonx_string(v.link.contact)) == 0 &&
              json_object_set_new(out, "actions", actions_of(&v)) == 0 &&
              json_object_set_new(out, "expires_at", jsonx_time(v.link.expires_ms)) == 0;
    action_view_done(&v);
    if (!ok) {
        json_decref(out);
        out = NULL;
    }
    call_json(c, 200, out);
}

void route_action_post(struct call *c)
{
    struct ratelimit *rl;
    if (!may_look_up(c, &rl))
        return;
    json_error_t jerr;
    json_t *body = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *action = json_string_value(json_object_get(body, "action"));
    if (!json_is_object(body) || !action || json_object_size(body) != 1) {
        json_decref(body);
        call_error(c, 400, "invalid_field",
                   "the body must be {\"action\":\"acknowledge\"} or {\"action\":\"take\"}");
        return;
    }
    struct ticket t;
    struct slad_error err = {""};
    int r = service_action_do(c->api->svc, c->name, action, c->now_ms, &t, &err);
    json_decref(body);
    if (r == -EINVAL) {
        call_error(c, 400, "invalid_field", "%s", err.msg);
        return;
    }
    if (r == -EBUSY) {
        call_error(c, 409, "event_not_allowed", "%s", err.msg);
        return;
    }
    if (r < 0) {
        link_refused(c, rl, r, &err);
        return;
    }
    call_json(c, 200,
              json_pack("{s:o}", "ticket", jsonx_ticket_render(&t, call_conf(c), c->now_ms)));
    ticket_done(&t);
    c->resp->wrote = true;
}
