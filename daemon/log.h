/* log.h - the daemon's log: one line per state change on stderr, with the sd-daemon
 * priority prefix ("<3>") that journald turns into the entry's priority.
 *
 * Lines read "subsystem: message"; user strings are quoted '...'; secrets never appear.
 * Only the daemon logs (lib/ returns errors and effects), so this is the one place that
 * knows the format. */
#ifndef SLAD_LOG_H
#define SLAD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "conf.h"

/* syslog priorities, as sd-daemon(3) numbers them. */
enum log_priority {
    LOG_PRIO_ERR = 3,
    LOG_PRIO_WARNING = 4,
    LOG_PRIO_NOTICE = 5,
    LOG_PRIO_INFO = 6,
    LOG_PRIO_DEBUG = 7,
};

/* Lines less important than level are dropped; the default (before the config is read)
 * is info. Reload calls it again. */
void log_set_level(enum conf_log_level level);

/* Whether a line of priority would be written (to skip building costly messages). */
bool log_enabled(enum log_priority prio);

/* Write "<prio>subsystem: message\n" in one write(2) so concurrent writers (the
 * sanitizers, a wrapper script) never interleave inside a line. Lines are cut at 4 KiB.
 * Control characters in the message (newlines, escapes from user input) are written as
 * \xNN. A notice, warning or error identical to one written less than a second ago is
 * held back and counted; the next copy to go out says how many were held. */
void log_line(enum log_priority prio, const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void log_linev(enum log_priority prio, const char *subsystem, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* One call site's rate limit: its lines differ (a peer's address), so identical-line
 * counting would not hold a flood back. Zero-initialised, static at the call site. */
struct log_limit {
    double last_s;       /* monotonic time of the last line written */
    unsigned suppressed; /* lines dropped since */
};

/* At most one line a second from this call site; the next one written carries the count
 * of those dropped. */
void log_limited(struct log_limit *limit, enum log_priority prio, const char *subsystem,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The monotonic clock (seconds) that times repeats; tests set their own, NULL restores. */
void log_set_clock(double (*now_s)(void));

#define log_err(sub, ...)     log_line(LOG_PRIO_ERR, sub, __VA_ARGS__)
#define log_warning(sub, ...) log_line(LOG_PRIO_WARNING, sub, __VA_ARGS__)
#define log_notice(sub, ...)  log_line(LOG_PRIO_NOTICE, sub, __VA_ARGS__)
#define log_info(sub, ...)    log_line(LOG_PRIO_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...)   log_line(LOG_PRIO_DEBUG, sub, __VA_ARGS__)

#endif
