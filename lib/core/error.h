/* error.h - the error detail a person reads when a lib/ call fails.
 *
 * Functions return 0 or a negative errno; the last argument, a struct slad_error *,
 * is filled only on failure with a sentence that names what was wrong and quotes the
 * offending text. NULL may be passed when the caller does not want the detail. */
#ifndef SLAD_ERROR_H
#define SLAD_ERROR_H

#include <stddef.h>

#define SLAD_ERROR_MAX 512

struct slad_error {
    char msg[SLAD_ERROR_MAX];
};

/* Fill err (if not NULL) with a printf-style message; returns -code for use in
 * "return slad_error_set(err, EINVAL, ...)" (code is a positive errno). */
int slad_error_set(struct slad_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message, e.g. with "calendar 'cn-office': ". */
void slad_error_prefix(struct slad_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
