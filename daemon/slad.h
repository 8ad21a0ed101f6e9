/* slad.h - what the running daemon holds: one struct, built by loop.c, read by the
 * modules that act on the whole daemon (reload.c, status.c). */
#ifndef SLAD_SLAD_H
#define SLAD_SLAD_H

#include <ev.h>
#include <stdbool.h>

#include "conf.h"
#include "listen.h"

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
    struct reader *reader; /* long reads off the loop (reader.h), or NULL: on the loop */
    struct http *http;
    struct console *console; /* the console's sessions and sign-ins (console.h) */
    struct timers *timers;
    struct deliver *deliver; /* the outbox's delivery (deliver.h) */
    /* Purging past `retention` (retention.h). */
    struct retention *retention;
    /* The scheduler lease (scheduler.h). */
    struct scheduler *scheduler;
    struct reconnect *reconnect; /* PostgreSQL: the connection made again in the background */
    struct listeners listeners;
    ev_signal sighup, sigterm, sigint;
    ev_timer status_timer;
    ev_timer stop_poll, stop_deadline;
    bool stopping;
    /* The agenda was just loaded whole (during start only): a gain of the scheduler lease
     * at the start uses it; a later gain reads it again (a standby's agenda only knows
     * its own writes). */
    bool agenda_fresh;
    unsigned long reloads, reload_failures;
};

/* "12 open tickets, 1 breached clock, 40 timers, 0 pending notifications" for STATUS=. */
void slad_status(struct slad *s, char *buf, size_t size);

#endif
