/* loop.h - running the daemon: everything it holds (slad.h) started in order (store,
 * agenda, service, sockets, HTTP, timers), then the libev loop until SIGTERM/SIGINT, then
 * a graceful stop. main.c parses the command line and loads the config; reload.c swaps
 * configs. */
#ifndef SLAD_LOOP_H
#define SLAD_LOOP_H

#include "conf.h"

/* A graceful stop answers in-flight requests for at most this long (systemd's default
 * TimeoutStopSec is 90 s; SPEC 5 promises 5 s). */
#define LOOP_STOP_DEADLINE_S 4.0

/* Run the daemon on conf (taken) loaded from conf_path; returns the exit status. */
int loop_run(const char *conf_path, struct conf *conf);

#endif
