/* service_agenda.c - the agenda kept in step with a database other instances write too
 * (service.h: service_agenda_due). */
#include <errno.h>

#include "service.h"
#include "service_internal.h"
#include "store_agenda_due.h"

static int due_row(void *userdata, enum agenda_kind kind, int64_t id, int64_t next_ms)
{
    struct service *svc = userdata;
    /* The database is the truth: an entry this process holds at another instant (the
     * row was changed by another instance) moves to the stored one. */
    if (agenda_when(svc->agenda, kind, id) == next_ms)
        return 0;
    return agenda_schedule(svc->agenda, kind, id, next_ms);
}

int service_agenda_due(struct service *svc, int64_t until_ms, struct slad_error *reterr)
{
    int r = store_agenda_due(svc->store, until_ms, due_row, svc, reterr);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "agenda: out of memory reading what falls due");
    return r;
}
