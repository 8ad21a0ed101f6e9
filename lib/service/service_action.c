/* service_action.c - acting from a notification's link (issue 13): the code of
 * public_url/a/CODE (service_links.c) names a ticket and a contact; opening it shows the
 * ticket and what that contact may do now, and its first successful action (acknowledge,
 * or take: dispatch to the contact) uses it up. The event's `by` is the contact. */
#include "service.h"

#include <errno.h>
#include <string.h>

#include "service_internal.h"
#include "store.h"

/* Whether text can be a code at all: anything else is refused without a lookup. */
static bool code_shaped(const char *text)
{
    if (!text || strlen(text) != ACTION_CODE_LEN)
        return false;
    for (const char *p = text; *p; p++)
        if (!strchr(ACTION_CODE_ALPHABET, *p))
            return false;
    return true;
}

void action_view_done(struct action_view *v)
{
    action_link_done(&v->link);
    ticket_done(&v->ticket);
}

int service_action_get(struct service *svc, const char *code, int64_t now_ms,
                       struct action_view *ret, struct slad_error *reterr)
{
    memset(ret, 0, sizeof(*ret));
    ticket_init(&ret->ticket);
    char hex[ACTION_HASH_HEX];
    if (!code_shaped(code) || service_code_hash(code, hex) < 0)
        return slad_error_set(reterr, ENOENT, "this link is not one slad sent");
    int r = store_action_find(svc->store, hex, &ret->link, reterr);
    if (r == -ENOENT)
        return slad_error_set(reterr, ENOENT, "this link is not one slad sent");
    if (r < 0)
        return r;
    if (ret->link.used_ms != SLAD_NO_TIME)
        return slad_error_set(reterr, EALREADY,
                              "this link was already used (to %s the ticket); it works once",
                              ret->link.used_action ? ret->link.used_action : "act on");
    if (now_ms >= ret->link.expires_ms)
        return slad_error_set(reterr, ETIMEDOUT,
                              "this link expired: links work for 7 days after the notification");
    struct ticket t;
    r = store_ticket_load(svc->store, ret->link.ticket_id, &t, reterr);
    if (r == -ENOENT)
        return slad_error_set(reterr, ENOENT, "the ticket of this link no longer exists");
    if (r < 0)
        return r;
    ticket_done(&ret->ticket);
    ret->ticket = t;
    ret->can_acknowledge = ticket_event_check(t.status, TICKET_EVENT_ACKNOWLEDGE, NULL) == 0;
    ret->can_take = ticket_event_check(t.status, TICKET_EVENT_DISPATCH, NULL) == 0;
    return 0;
}

int service_action_do(struct service *svc, const char *code, const char *action, int64_t now_ms,
                      struct ticket *ret, struct slad_error *reterr)
{
    bool take = strcmp(action, "take") == 0;
    if (!take && strcmp(action, "acknowledge") != 0)
        return slad_error_set(reterr, EINVAL,
                              "field 'action' must be acknowledge or take; got '%.32s'", action);
    struct action_view v;
    int r = service_action_get(svc, code, now_ms, &v, reterr);
    if (r < 0) {
        action_view_done(&v);
        return r;
    }
    r = store_savepoint(svc->store, reterr);
    if (r < 0) {
        action_view_done(&v);
        return r;
    }
    struct ticket_event ev = {
        .type = take ? TICKET_EVENT_DISPATCH : TICKET_EVENT_ACKNOWLEDGE,
        .at_ms = now_ms,
        .by = v.link.contact,
        .assignee = take ? v.link.contact : NULL,
    };
    r = service_ticket_event(svc, v.link.ticket_id, &ev, now_ms, ret, reterr);
    if (r >= 0) {
        r = store_action_use(svc->store, v.link.id, action, now_ms, reterr);
        if (r < 0)
            ticket_done(ret);
    }
    if (r < 0)
        service_abort_op(svc, r);
    else
        r = store_release(svc->store, reterr);
    action_view_done(&v);
    return r;
}
