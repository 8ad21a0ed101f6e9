/* service_task_done.c - completing a follow-up task (service.h): the task itself
 * (service_followup.c), then what follows it: a plan's visit asks for its report task
 * (service_plan.c). Above both, so that neither calls the other. */
#include "service.h"

#include "agenda.h"
#include "service_internal.h"
#include "store.h"

int service_followup_complete(struct service *svc, int64_t id, const char *outcome,
                              const char *note, const char *by, int64_t now_ms,
                              struct followup *ret, struct slad_error *reterr)
{
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    struct followup f;
    r = service_followup_close(svc, id, outcome, note, by, now_ms, &f, reterr);
    if (r >= 0 && f.plan_id)
        r = service_plan_task_done(svc, &f, now_ms, reterr);
    if (r >= 0)
        r = store_release(svc->store, reterr);
    if (r < 0)
        return service_abort_op(svc, r);
    agenda_remove(svc->agenda, AGENDA_FOLLOWUP, id);
    *ret = f;
    return 0;
}
