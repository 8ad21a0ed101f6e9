/* failpoint.c - die at a named point when the environment asks (see failpoint.h). */
#include "failpoint.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A SLAD_FAILPOINT value: true with the name's length and the hit number (1 without
 * ":N"); false when spec is empty or N is not a positive integer. */
static bool parse(const char *spec, const char **name, unsigned long *name_len, unsigned long *nth)
{
    if (!spec || !*spec)
        return false;
    const char *colon = strchr(spec, ':');
    *name = spec;
    *name_len = colon ? (unsigned long)(colon - spec) : strlen(spec);
    *nth = 1;
    if (colon) {
        char *end;
        errno = 0;
        *nth = strtoul(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || *nth == 0)
            return false;
    }
    return *name_len > 0;
}

void failpoint_hit(const char *name)
{
    /* Read once: the daemon never changes its environment. */
    static int armed = -1;
    static const char *want;
    static unsigned long want_len, nth, hits;
    if (armed < 0)
        armed = parse(getenv("SLAD_FAILPOINT"), &want, &want_len, &nth) ? 1 : 0;
    if (!armed || strlen(name) != want_len || memcmp(name, want, want_len) != 0)
        return;
    if (++hits < nth)
        return;
    /* One write(2), no stdio buffer: the test reads it to know the point was reached. */
    static const char msg[] = "slad: failpoint reached; dying as kill -9 would\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    raise(SIGKILL);
    _exit(137);
}

void failpoint_hold(const char *name)
{
    /* Parsed at each hit (getenv is safe while nobody sets the environment): no state
     * shared between the threads that reach a point. */
    const char *spec = getenv("SLAD_FAILPOINT_HOLD");
    const char *colon = spec ? strchr(spec, ':') : NULL;
    size_t n = strlen(name);
    if (!colon || (size_t)(colon - spec) != n || memcmp(spec, name, n) != 0)
        return;
    /* One line per thread held, in PATH.held, so that the test knows who waits. */
    char held[4096];
    int len = snprintf(held, sizeof(held), "%s.held", colon + 1);
    int fd = len > 0 && (size_t)len < sizeof(held)
                 ? open(held, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
                 : -1;
    if (fd >= 0) {
        char line[128];
        int m = snprintf(line, sizeof(line), "%s\n", name);
        ssize_t w = write(fd, line, m > 0 ? (size_t)m : 0); /* one write: lines never mix */
        (void)w;
        close(fd);
    }
    const struct timespec tick = {.tv_nsec = 5 * 1000 * 1000};
    while (access(colon + 1, F_OK) == 0)
        nanosleep(&tick, NULL);
}
