/* conf_check.h - `slad --check-config` and `slactl check-config`: load a config and print
 * its summary to stdout (its warnings to stderr), or every error and a count to stderr. */
#ifndef SLAD_CONF_CHECK_H
#define SLAD_CONF_CHECK_H

#include <stdbool.h>

/* prog names the program in messages; consequence ends the count line (may be "").
 * Returns whether the config is valid. */
bool conf_check_report(const char *prog, const char *path, const char *consequence);

#endif
