/* service_plan_rules.c - what a plan's tasks run under (service_internal.h): the calendar
 * of the plan and the pseudo ticket their notices go through. Read by the follow-up tasks
 * and the plans alike; it calls neither. */
#include <errno.h>
#include <stdio.h>

#include "service_internal.h"
#include "store_plan.h"

/* The calendar of plan p under conf: its own when the config still has it, else the
 * catch-all policy's (the last policy), else 24x7. */
const struct calendar *service_plan_calendar(const struct conf *conf, const struct plan *p)
{
    const struct calendar *cal = p->calendar ? conf_find_calendar(conf, p->calendar) : NULL;
    if (!cal && conf->n_policies)
        cal = conf->policies[conf->n_policies - 1].calendar;
    return cal ? cal : conf->calendars[0];
}

int service_plan_context(struct service *svc, int64_t plan_id, struct ticket *t,
                         const struct calendar **ret_cal, struct slad_error *reterr)
{
    ticket_init(t);
    *ret_cal = NULL;
    struct plan p;
    int r = store_plan_load(svc->store, plan_id, &p, reterr);
    if (r < 0)
        return r;
    /* Messages name the plan where a ticket's would say its number: "#plan-3". */
    char ref[32];
    snprintf(ref, sizeof(ref), "plan-%lld", (long long)plan_id);
    if (ticket_set_string(&t->source, "plan") < 0 || ticket_set_string(&t->external_id, ref) < 0)
        r = slad_error_set(reterr, ENOMEM, "out of memory reading plan %lld", (long long)plan_id);
    t->severity = 3;
    t->reported_at_ms = p.created_ms;
    t->created_at_ms = p.created_ms;
    t->updated_at_ms = p.updated_ms;
    if (r < 0 || ticket_set_string(&t->title, p.name) < 0 ||
        ticket_set_string(&t->team, p.team) < 0 ||
        ticket_set_string(&t->assignee, p.assignee) < 0 ||
        ticket_set_string(&t->customer_name, p.customer_name) < 0 ||
        ticket_set_string(&t->customer_phone, p.customer_phone) < 0 ||
        ticket_set_string(&t->customer_address, p.customer_address) < 0 ||
        ticket_set_string(&t->device_model, p.device_model) < 0 ||
        ticket_set_string(&t->device_serial, p.device_serial) < 0)
        r = slad_error_set(reterr, ENOMEM, "out of memory reading plan %lld", (long long)plan_id);
    else
        *ret_cal = service_plan_calendar(svc->conf, &p);
    plan_done(&p);
    return r;
}
