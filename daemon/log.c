/* log.c - priority-prefixed lines on stderr (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

void log_linev(enum log_priority prio, const char *subsystem, const char *fmt, va_list ap)
{
    if (!log_enabled(prio))
        return;
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof(line), "<%d>%s: ", (int)prio, subsystem);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    if (m > 0)
        len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    /* A message may hold newlines (config errors, one per line): keep one entry per
     * line so that journald does not split it into lines without a priority. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' && i + 1 < len)
            line[i] = ' ';
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    const char *p = line;
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
