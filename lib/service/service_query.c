/* service_query.c - the reads of the API (service.h): listings, history, notifications,
 * reports and gauges, from the store, in the caller's transaction (the daemon's batch), so
 * that a read sees the writes of the same batch. Nothing here writes. */
#include "service.h"

#include "service_internal.h"
#include "store.h"

int service_gauges(struct service *svc, struct gauges *ret, struct slad_error *reterr)
{
    return store_gauges(svc->store, ret, reterr);
}
