/* trail.h - one log line per state change of a ticket (clock started, breached, stopped;
 * step fired; reminder; follow-up), fed by the service's observer. */
#ifndef SLAD_DAEMON_TRAIL_H
#define SLAD_DAEMON_TRAIL_H

#include "service.h"

/* A service_observer_fn; userdata is the struct ev_loop * whose ev_now() dates lateness. */
void trail_effect(void *userdata, const struct ticket *t, const struct effect *e);

#endif
