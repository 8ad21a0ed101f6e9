/* sdnotify.c - sd_notify(3) messages and the watchdog timer (see sdnotify.h). */
#include "sdnotify.h"

#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

static ev_timer watchdog;

static void send_state(const char *state)
{
    int r = sd_notify(0, state);
    if (r < 0)
        log_warning("systemd", "could not notify the service manager: error %d", -r);
}

static void send_with_status(const char *first, const char *status)
{
    char msg[1024];
    if (status)
        snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", first, *first ? "\n" : "", status);
    else
        snprintf(msg, sizeof(msg), "%s", first);
    send_state(msg);
}

void sdnotify_ready(const char *status)
{
    send_with_status("READY=1", status);
}

void sdnotify_status(const char *status)
{
    send_with_status("", status);
}

void sdnotify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char msg[128];
    uint64_t usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, usec);
    send_state(msg);
}

void sdnotify_stopping(void)
{
    send_state("STOPPING=1");
}

static sdnotify_healthy_fn *healthy;
static void *healthy_data;

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (healthy && !healthy(healthy_data, w->repeat))
        return; /* systemd's WatchdogSec kills and restarts a daemon stuck this way */
    send_state("WATCHDOG=1");
}

unsigned long long sdnotify_watchdog_start(struct ev_loop *loop, sdnotify_healthy_fn *fn,
                                           void *userdata)
{
    healthy = fn;
    healthy_data = userdata;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    /* Half the interval, as sd_watchdog_enabled(3) recommends: one late iteration of
     * the loop does not get the daemon killed, a stuck one does. */
    double interval = (double)usec / 2e6;
    ev_timer_init(&watchdog, watchdog_cb, 0., interval);
    ev_timer_again(loop, &watchdog);
    send_state("WATCHDOG=1");
    return usec;
}

void sdnotify_watchdog_stop(struct ev_loop *loop)
{
    ev_timer_stop(loop, &watchdog);
}
