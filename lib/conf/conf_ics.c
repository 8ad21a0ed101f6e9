/* conf_ics.c - reading a calendar's .ics file (see conf_ics.h). */
#include "conf_ics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int conf_ics_read(const char *path, char **ret, struct slad_error *reterr)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return slad_error_set(reterr, e, "%s", strerror(e));
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    int r = buf ? 0 : -ENOMEM;
    while (r == 0) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                r = slad_error_set(reterr, EIO, "read error");
            break;
        }
        if (len == cap) {
            if (cap >= CONF_ICS_MAX_BYTES) {
                r = slad_error_set(reterr, EFBIG, "larger than %d bytes", CONF_ICS_MAX_BYTES);
                break;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                r = -ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (r < 0) {
        free(buf);
        return r == -ENOMEM ? slad_error_set(reterr, ENOMEM, "out of memory") : r;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        return slad_error_set(reterr, EINVAL, "not a text file (NUL byte)");
    }
    *ret = buf;
    return 0;
}
