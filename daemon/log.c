/* log.c - priority-prefixed lines on stderr (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static enum log_priority max_prio = LOG_PRIO_INFO;

void log_set_level(enum conf_log_level level)
{
    static const enum log_priority by_level[] = {
        [LOG_LEVEL_DEBUG] = LOG_PRIO_DEBUG,   [LOG_LEVEL_INFO] = LOG_PRIO_INFO,
        [LOG_LEVEL_NOTICE] = LOG_PRIO_NOTICE, [LOG_LEVEL_WARNING] = LOG_PRIO_WARNING,
        [LOG_LEVEL_ERROR] = LOG_PRIO_ERR,
    };
    if ((unsigned)level < sizeof(by_level) / sizeof(by_level[0]))
        max_prio = by_level[level];
}

bool log_enabled(enum log_priority prio)
{
    return prio <= max_prio;
}

void log_line(enum log_priority prio, const char *subsystem, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_linev(prio, subsystem, fmt, ap);
    va_end(ap);
}

/* Control characters (from user input: a title, a path, a peer's answer) become \xNN, so
 * that no line can forge another entry or a terminal escape. */
static size_t escape_controls(const char *in, size_t in_len, char *out, size_t out_size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch >= 0x20 && ch != 0x7f) {
            if (o + 1 >= out_size)
                break;
            out[o++] = (char)ch;
        } else {
            if (o + 4 >= out_size)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    return o;
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double (*clock_s)(void) = monotonic_s;

void log_set_clock(double (*now_s)(void))
{
    clock_s = now_s ? now_s : monotonic_s;
}

/* Identical notices, warnings and errors repeated within LOG_REPEAT_WINDOW_S are counted,
 * not written: one a second gets out, with the count of those held back. A few recent
 * lines are remembered so that two alternating floods are both held. Info and debug lines
 * record one event each (two identical comments on a ticket are two events): never held. */
#define LOG_REPEAT_WINDOW_S 1.0
#define LOG_RECENT          8

struct recent_line {
    uint64_t hash;
    double since_s;      /* when the last written copy went out */
    unsigned suppressed; /* identical lines held back since */
};

static struct recent_line recent[LOG_RECENT];

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* Whether the line should be written; *held is the count to append to it. */
static bool repeat_admit(const char *line, size_t len, double now, unsigned *held)
{
    uint64_t h = fnv1a(line, len);
    struct recent_line *oldest = &recent[0];
    for (size_t i = 0; i < LOG_RECENT; i++) {
        struct recent_line *r = &recent[i];
        if (r->hash == h && r->since_s > 0) {
            if (now - r->since_s < LOG_REPEAT_WINDOW_S) {
                r->suppressed++;
                return false;
            }
            *held = r->suppressed;
            r->suppressed = 0;
            r->since_s = now;
            return true;
        }
        if (r->since_s < oldest->since_s)
            oldest = r;
    }
    *held = 0;
    *oldest = (struct recent_line){.hash = h, .since_s = now};
    return true;
}

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

void log_linev(enum log_priority prio, const char *subsystem, const char *fmt, va_list ap)
{
    if (!log_enabled(prio))
        return;
    char msg[LOG_LINE_MAX];
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (m < 0)
        return;
    size_t msg_len = (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
    while (msg_len > 0 && msg[msg_len - 1] == '\n')
        msg_len--;

    char line[LOG_LINE_MAX + 64];
    int n = snprintf(line, sizeof(line), "<%d>%s: ", (int)prio, subsystem);
    if (n < 0 || (size_t)n >= LOG_LINE_MAX)
        return;
    size_t len = (size_t)n;
    len += escape_controls(msg, msg_len, line + len, LOG_LINE_MAX - len);

    unsigned held = 0;
    if (prio <= LOG_PRIO_NOTICE && !repeat_admit(line, len, clock_s(), &held))
        return;
    if (held > 0)
        len += (size_t)snprintf(line + len, sizeof(line) - len,
                                " (and %u identical lines in the last second)", held);
    line[len++] = '\n';
    write_all(line, len);
}

void log_limited(struct log_limit *limit, enum log_priority prio, const char *subsystem,
                 const char *fmt, ...)
{
    if (!log_enabled(prio))
        return;
    double now = clock_s();
    if (limit->last_s > 0 && now - limit->last_s < LOG_REPEAT_WINDOW_S) {
        limit->suppressed++;
        return;
    }
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (limit->suppressed > 0)
        log_line(prio, subsystem, "%s (and %u similar lines in the last %.0f s)", msg,
                 limit->suppressed, now - limit->last_s);
    else
        log_line(prio, subsystem, "%s", msg);
    limit->last_s = now;
    limit->suppressed = 0;
}
