/* conf_check.c - printing a config check for both programs (see conf_check.h). */
#include "conf_check.h"

#include <stdio.h>
#include <stdlib.h>

#include "conf_load.h"

bool conf_check_report(const char *prog, const char *path, const char *consequence)
{
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load(path, &conf, &errs) < 0) {
        if (errs.text)
            fputs(errs.text, stderr);
        else
            fprintf(stderr, "%s: the configuration could not be loaded\n", prog);
        fprintf(stderr, "%s: %zu error(s) in '%s'%s\n", prog, errs.count, path, consequence);
        conf_errors_done(&errs);
        return false;
    }
    if (conf->warnings)
        fputs(conf->warnings, stderr);
    char *summary = conf_summary(conf);
    fputs(summary ? summary : "", stdout);
    free(summary);
    conf_free(conf);
    return true;
}
