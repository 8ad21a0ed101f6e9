/* ui_files.h - the console's files compiled into the binary (scripts/ui-embed.py writes
 * the table from the list in ui/meson.build; daemon/ui.c serves it). */
#ifndef SLAD_UI_FILES_H
#define SLAD_UI_FILES_H

#include <stddef.h>

struct ui_file {
    const char *name;          /* relative to ui/: "index.html", "css/board.css" */
    const unsigned char *data; /* len bytes, then a NUL */
    size_t len;
    const char *content_type;
    const char *etag; /* strong, quoted: "\"3f2a...\"" */
};

extern const struct ui_file ui_files[];
extern const unsigned ui_n_files;

#endif
