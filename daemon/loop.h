/* loop.h - the running daemon: everything it holds, started in order (store, agenda,
 * service, sockets, HTTP, timers), then the libev loop until SIGTERM/SIGINT, then a
 * graceful stop. main.c parses the command line and loads the config; reload.c swaps
 * configs. */
#ifndef SLAD_LOOP_H
#define SLAD_LOOP_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "listen.h"

/* A graceful stop answers in-flight requests for at most this long (systemd's default
 * TimeoutStopSec is 90 s; SPEC 5 promises 5 s). */
#define LOOP_STOP_DEADLINE_S 4.0

struct slad {
    struct ev_loop *loop;
    const char *conf_path;
    struct conf *conf; /* the running config; reload swaps it */
    struct store *store;
    struct agenda *agenda;
    struct metrics *metrics;
    struct service *svc;
    struct api *api;
    struct batch *batch;
    struct http *http;
    struct timers *timers;
    struct deliver *deliver; /* the outbox's delivery (deliver.h) */
    /* Purging past `retention` (retention.h). */
    struct retention *retention;
    struct listeners listeners;
    ev_signal sighup, sigterm, sigint;
    ev_timer status_timer;
    ev_timer stop_poll, stop_deadline;
    bool stopping;
    unsigned long reloads, reload_failures;
};

/* Run the daemon on conf (taken) loaded from conf_path; returns the exit status. */
int loop_run(const char *conf_path, struct conf *conf);

/* "12 open tickets, 1 breached clock, 40 timers, 0 pending notifications" for STATUS=. */
void loop_status(struct slad *s, char *buf, size_t size);

#endif
