/* service_notification.c - notifications as an operation (service.h): a dead one retried,
 * and the retry recorded in its ticket's history, in one savepoint. */
#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "service_internal.h"
#include "store.h"

/* The history kind of a retry (next to "event", "patch" and the effect kinds). */
#define RETRY_KIND "notification_retry"

struct retry_row {
    enum outbox_state state;
    int64_t ticket_id;
};

static int retry_row_read(void *userdata, const struct outbox_row *o)
{
    struct retry_row *rr = userdata;
    rr->state = o->state;
    rr->ticket_id = o->ticket_id;
    return 0;
}

/* The retry of notification id in the history of ticket_id; its data is the row's id
 * alone (a number: JSON text without a JSON library). */
static int record_retry(struct service *svc, int64_t ticket_id, int64_t id, int64_t now_ms,
                        struct slad_error *reterr)
{
    char data[48];
    snprintf(data, sizeof(data), "{\"notification_id\":%" PRId64 "}", id);
    struct history_entry h = {
        .ticket_id = ticket_id,
        .at_ms = now_ms,
        .created_ms = now_ms,
        .kind = RETRY_KIND,
        .data = data,
    };
    return store_history_add(svc->store, &h, NULL, reterr);
}

int service_notification_retry(struct service *svc, int64_t id, int64_t now_ms,
                               struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct retry_row rr = {OUTBOX_PENDING, 0};
    r = store_outbox_get(svc->store, id, retry_row_read, &rr, reterr);
    if (r == 0 && rr.state != OUTBOX_DEAD)
        r = slad_error_set(reterr, EBUSY,
                           "notification %" PRId64 " is %s; only a dead one is retried", id,
                           outbox_state_name(rr.state));
    if (r == 0)
        r = store_outbox_requeue(svc->store, id, now_ms, reterr);
    if (r == 0 && rr.ticket_id) /* a plan's task has no ticket, hence no history */
        r = record_retry(svc, rr.ticket_id, id, now_ms, reterr);
    if (r == 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}
