/* conf_ics.h - reading a calendar's .ics file for the loader: core's calendar gets the
 * text, never the file. */
#ifndef SLAD_CONF_ICS_H
#define SLAD_CONF_ICS_H

#include "error.h"

/* Largest .ics file read. */
#define CONF_ICS_MAX_BYTES (16 * 1024 * 1024)

/* The text of path, malloc'd and NUL-terminated, into *ret; a file over the limit, one with
 * a NUL byte, or one that cannot be read is an error saying which. */
int conf_ics_read(const char *path, char **ret, struct slad_error *reterr);

#endif
