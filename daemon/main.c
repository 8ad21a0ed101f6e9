/* main.c - slad's command line: check a config, copy a database, or run the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_check.h"
#include "conf_load.h"
#include "copy_db.h"
#include "failpoint.h"
#include "log.h"
#include "loop.h"
#include "reload.h"

#define SLAD_DEFAULT_CONFIG "/etc/slad/slad.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: slad [--config FILE] [--check-config] [--version]\n"
            "       slad --copy-database FROM TO\n"
            "  -c, --config FILE   configuration file (default %s)\n"
            "  -t, --check-config  check the configuration, print a summary, and exit\n"
            "      --copy-database FROM TO\n"
            "                      copy every row of the database FROM into the new database\n"
            "                      TO (each an SQLite path or a PostgreSQL connection string,\n"
            "                      as 'database' in the config), then exit; stop slad first\n"
            "  -V, --version       print the version and exit\n",
            SLAD_DEFAULT_CONFIG);
}

/* Load path and print either its summary or every error; returns the exit status. */
static int check_config(const char *path)
{
    return conf_check_report("slad", path, "; nothing was started") ? 0 : 1;
}

/* slad --copy-database FROM TO: the rows per table, or why nothing was copied. */
static int copy_database(const char *from, const char *to)
{
    struct copy_db_report report;
    struct slad_error err = {{0}};
    if (copy_db(from, to, 0, &report, &err) < 0) {
        fprintf(stderr, "slad: copying the database failed: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < COPY_DB_TABLES; i++)
        printf("%-20s %lld rows\n", report.table[i], (long long)report.rows[i]);
    printf("slad: copied %lld rows in %d tables\n", (long long)report.total, COPY_DB_TABLES);
    return 0;
}

/* Load path (every error logged, exit 1 when invalid: nothing starts on a bad config)
 * and run the daemon until it is told to stop. */
static int run_daemon(const char *path)
{
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load(path, &conf, &errs) < 0) {
        reload_log_lines(LOG_PRIO_ERR, "config", errs.text);
        log_err("slad", "%zu error(s) in '%s'; nothing was started", errs.count, path);
        conf_errors_done(&errs);
        return 1;
    }
    reload_log_lines(LOG_PRIO_WARNING, "config", conf->warnings);
    return loop_run(path, conf);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},  {"check-config", no_argument, NULL, 't'},
        {"copy-database", no_argument, NULL, 'C'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {0, 0, 0, 0},
    };
    const char *config_path = SLAD_DEFAULT_CONFIG;
    int check_only = 0, copy = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:tVh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 't':
            check_only = 1;
            break;
        case 'C':
            copy = 1;
            break;
        case 'V':
            printf("slad %s%s\n", SLAD_VERSION, FAILPOINT_VERSION_SUFFIX);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (copy) {
        if (argc - optind != 2 || check_only) {
            fprintf(stderr, "slad: --copy-database takes two databases, FROM and TO, and no "
                            "other option\n");
            usage(stderr);
            return 2;
        }
        return copy_database(argv[optind], argv[optind + 1]);
    }
    /* "slad --check-config FILE" names the file as an operand too. */
    if (optind < argc)
        config_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "slad: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (check_only)
        return check_config(config_path);
    return run_daemon(config_path);
}
