/* sdnotify.h - what the daemon tells systemd (Type=notify): READY, STATUS, RELOADING,
 * STOPPING, and WATCHDOG pings from a timer on the event loop, so that a wedged loop stops
 * pinging and systemd restarts it. Without $NOTIFY_SOCKET every call does nothing. */
#ifndef SLAD_SDNOTIFY_H
#define SLAD_SDNOTIFY_H

#include <ev.h>
#include <stdbool.h>

/* READY=1 with a STATUS= line (status may be NULL). */
void sdnotify_ready(const char *status);
/* STATUS=... alone. */
void sdnotify_status(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (systemd >= 253 wants it; older ones ignore it);
 * follow with sdnotify_ready. */
void sdnotify_reloading(void);
/* STOPPING=1. */
void sdnotify_stopping(void);

/* Start pinging WATCHDOG=1 at half the interval systemd asks for ($WATCHDOG_USEC, for
 * this pid); returns the interval in microseconds, or 0 when no watchdog is wanted. */
/* Whether the daemon makes progress beyond its loop (interval_s: the watchdog's period);
 * false withholds WATCHDOG=1. */
typedef bool sdnotify_healthy_fn(void *userdata, double interval_s);
unsigned long long sdnotify_watchdog_start(struct ev_loop *loop, sdnotify_healthy_fn *fn,
                                           void *userdata);
void sdnotify_watchdog_stop(struct ev_loop *loop);

#endif
