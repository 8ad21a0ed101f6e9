/* conf_load.h - loading the configuration from a libconfig file.
 *
 * conf_load reads the whole file (with @include relative to the including file's folder),
 * checks every key and reference, and either returns a complete struct conf (conf.h) or
 * reports every error it found as "FILE:LINE: message" lines, counting on past the first. */
#ifndef SLAD_CONF_LOAD_H
#define SLAD_CONF_LOAD_H

#include "conf.h"

/* Errors found while loading: one "FILE:LINE: message" per line, at most
 * CONF_MAX_ERRORS of them (then "too many errors"). */
#define CONF_MAX_ERRORS 50
struct conf_errors {
    char *text; /* NUL-terminated, owned; free with conf_errors_done */
    size_t count;
};
void conf_errors_done(struct conf_errors *errs);

/* Load and validate path. On success *ret is a new conf (free with conf_free) and 0 is
 * returned; on failure -EINVAL (or -errno when unreadable) and errs lists every error. */
int conf_load(const char *path, struct conf **ret, struct conf_errors *errs);

/* The same from a string (fuzzing, tests); name is used in messages as the file name. */
int conf_load_string(const char *text, const char *name, struct conf **ret,
                     struct conf_errors *errs);

/* A human summary for --check-config: calendars, contacts, teams, channels and every
 * policy with its match rule and clocks. Returns a malloc'd string. */
char *conf_summary(const struct conf *conf);

#endif
