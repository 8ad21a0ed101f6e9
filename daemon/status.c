/* status.c - the daemon's one-line status for systemd's STATUS= (see slad.h). */
#include <stdio.h>

#include "service.h"
#include "slad.h"

void slad_status(struct slad *s, char *buf, size_t size)
{
    struct service_counts c = {0};
    if (!s->svc || service_counts(s->svc, &c) < 0) {
        snprintf(buf, size, "running; counts unavailable");
        return;
    }
    snprintf(buf, size,
             "%lld open tickets, %lld breached clocks, %zu timers, %lld pending "
             "notifications",
             (long long)c.open_tickets, (long long)c.breached_clocks, c.timers,
             (long long)c.pending_notifications);
}
