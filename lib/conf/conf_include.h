/* conf_include.h - the configuration's files as one text, @include lines expanded.
 *
 * Only conf.c uses it: it hands the text to libconfig and maps the lines of libconfig's
 * messages back to the file and line they came from (conf_line_map_find). */
#ifndef SLAD_CONF_INCLUDE_H
#define SLAD_CONF_INCLUDE_H

#include "conf_loader.h"

/* Path and every file it @includes (a relative name from the including file's folder), as
 * one malloc'd text; ld->line_map is filled. NULL when a file cannot be read, an @include
 * is broken, nests too deep or comes back to a file being read (each reported at the
 * @include's FILE:LINE), or memory runs out (ld->oom). */
char *conf_include_expand(struct conf_loader *ld, const char *path);

/* The file and its line that line of the expanded text came from; false when unknown. */
bool conf_line_map_find(const struct conf_loader *ld, unsigned line, const char **file,
                        unsigned *file_line);

#endif
