/* reload.h - swap in a new config on SIGHUP or POST /v1/reload: load and check the file
 * again; an invalid one is logged line by line and the running config stays; a valid one
 * re-chooses every open ticket's policy in the iteration's transaction and replaces the
 * old. systemd hears RELOADING=1 then READY=1 either way. */
#ifndef SLAD_RELOAD_H
#define SLAD_RELOAD_H

#include <stddef.h>

#include "log.h"

struct slad;

/* Log each line of text (a config's errors or warnings) as its own line. */
void reload_log_lines(enum log_priority prio, const char *subsystem, const char *text);

/* 0, or -EINVAL with every error in errbuf (NUL-terminated, cut to errbuf_size) when the
 * file is invalid, or the service's -errno when the swap failed. Matches api_hooks. */
int reload_run(void *slad, char *errbuf, size_t errbuf_size);

#endif
