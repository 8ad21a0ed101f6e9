/* error.c - filling struct slad_error. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int slad_error_set(struct slad_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -code;
}

void slad_error_prefix(struct slad_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[SLAD_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    /* Truncation keeps the start of the sentence, which names what failed. */
    char joined[2 * SLAD_ERROR_MAX];
    snprintf(joined, sizeof(joined), "%s%s", prefix, err->msg);
    snprintf(err->msg, sizeof(err->msg), "%.*s", SLAD_ERROR_MAX - 1, joined);
}
