/* service_query.c - the reads of the API (service.h): listings, history, notifications,
 * reports, gauges and the health check, from the store, in the caller's transaction (the
 * daemon's batch), so that a read sees the writes of the same batch. Nothing here
 * writes. */
#include "service.h"

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "simulate.h"
#include "service_internal.h"
#include "store.h"
#include "store_followup.h"
#include "store_plan.h"

int service_check(struct service *svc, struct slad_error *reterr)
{
    return store_check(svc->store, reterr);
}

int service_gauges(struct service *svc, struct gauges *ret, struct slad_error *reterr)
{
    return store_gauges(svc->store, ret, reterr);
}

int service_board_summary(struct service *svc, int64_t now_ms, struct board_summary *ret,
                          struct slad_error *reterr)
{
    return store_board_summary(svc->store, now_ms, ret, reterr);
}

int service_ticket_next(struct service *svc, int64_t id, int64_t now_ms, int64_t horizon_ms,
                        size_t max, struct timeline *ret, struct slad_error *reterr)
{
    struct ticket t;
    memset(ret, 0, sizeof(*ret)); /* timeline_done is safe on every path */
    int r = store_ticket_load(svc->store, id, &t, reterr);
    if (r < 0)
        return r;
    /* Every schedule's overrides over the walk: a step resolves "oncall:" at its instant. */
    struct schedule_override *ov = NULL;
    size_t n_ov = 0;
    r = service_overrides_load(svc, NULL, now_ms, horizon_ms, &ov, &n_ov, reterr);
    if (r >= 0)
        r = simulate_next(svc->conf, &t, now_ms, horizon_ms, max, ov, n_ov, ret, reterr);
    ret->overrides = NULL; /* freed here */
    ret->n_overrides = 0;
    free(ov);
    ticket_done(&t);
    return r;
}

int service_ticket_list(struct service *svc, const struct ticket_filter *f, ticket_row_fn *fn,
                        void *userdata, struct slad_error *reterr)
{
    return store_ticket_list(svc->store, f, fn, userdata, reterr);
}

int service_history_list(struct service *svc, int64_t ticket_id, int64_t after_id, size_t limit,
                         history_entry_fn *fn, void *userdata, struct slad_error *reterr)
{
    return store_history_list(svc->store, ticket_id, after_id, limit, fn, userdata, reterr);
}

int service_history_newest(struct service *svc, int64_t ticket_id, size_t limit,
                           history_entry_fn *fn, void *userdata, struct slad_error *reterr)
{
    return store_history_latest(svc->store, ticket_id, limit, fn, userdata, reterr);
}

int service_notification_list(struct service *svc, const struct outbox_filter *f, outbox_row_fn *fn,
                              void *userdata, struct slad_error *reterr)
{
    return store_outbox_list(svc->store, f, fn, userdata, reterr);
}

int service_notification_newest(struct service *svc, int64_t ticket_id, size_t limit,
                                outbox_row_fn *fn, void *userdata, struct slad_error *reterr)
{
    return store_outbox_latest(svc->store, ticket_id, limit, fn, userdata, reterr);
}

int service_notification_get(struct service *svc, int64_t id, outbox_row_fn *fn, void *userdata,
                             struct slad_error *reterr)
{
    return store_outbox_get(svc->store, id, fn, userdata, reterr);
}

int service_followup_get(struct service *svc, int64_t id, struct followup *ret,
                         struct slad_error *reterr)
{
    return store_followup_load(svc->store, id, ret, reterr);
}

int service_followup_list(struct service *svc, const struct followup_filter *f, followup_row_fn *fn,
                          void *userdata, struct slad_error *reterr)
{
    return store_followup_list(svc->store, f, fn, userdata, reterr);
}

int service_plan_list(struct service *svc, int64_t after_id, size_t limit, plan_row_fn *fn,
                      void *userdata, struct slad_error *reterr)
{
    return store_plan_list(svc->store, after_id, limit, fn, userdata, reterr);
}

int service_report_sla(struct service *svc, const struct report_query *q, struct report *ret,
                       struct slad_error *reterr)
{
    return store_report_sla(svc->store, q, ret, reterr);
}

int service_report_sla_on(struct store *reader, const struct report_query *q, struct report *ret,
                          struct slad_error *reterr)
{
    return store_report_sla(reader, q, ret, reterr);
}
