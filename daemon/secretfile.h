/* secretfile.h - reading the files that hold secrets (the TCP token, the TLS private key):
 * bounded, refused when anyone but the owner and group may read them, wiped when freed. */
#ifndef SLAD_SECRETFILE_H
#define SLAD_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Read path (what names it in messages: "token_file") into a malloc'd NUL-terminated
 * buffer of at most max bytes. With private_only, a file that others may read or write
 * is refused (its mode says how to fix it). */
int secretfile_read(const char *path, const char *what, size_t max, bool private_only, char **ret,
                    size_t *ret_len, struct slad_error *reterr);

/* Wipe and free what secretfile_read returned; NULL-safe. */
void secretfile_free(char *buf, size_t len);

#endif
