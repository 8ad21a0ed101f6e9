/* slactl.h - the parts of slactl shared by its files: the connection (ctl_client.c), the
 * command table (slactl_table.c, run by slactl_commands.c) and the human output
 * (slactl_print.c). slactl.c, the shell, only calls into them. */
#ifndef SLAD_SLACTL_H
#define SLAD_SLACTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define SLACTL_DEFAULT_SOCKET "/run/slad/slad.sock"
#define SLACTL_DEFAULT_CONFIG "/etc/slad/slad.conf"
/* Longest bearer token read from --token-file. */
#define SLACTL_TOKEN_MAX 4096

/* Exit statuses (SPEC 6). */
enum { SLACTL_OK = 0, SLACTL_REFUSED = 1, SLACTL_USAGE = 2 };

struct ctl {
    const char *socket; /* Unix socket, or NULL with url */
    const char *url;    /* base URL for TCP, e.g. http://127.0.0.1:8080 */
    char *token;        /* bearer token read from --token-file */
    bool json;          /* --json: print the daemon's JSON */
    bool color;         /* colour the human output */
};

/* One request: method, path with query, and an optional JSON body. Prints the outcome
 * the shared way: on a 2xx answer *ret is the parsed body (NULL when not JSON; raw
 * text in *ret_text when ret_text is given) and SLACTL_OK is returned; otherwise the
 * daemon's error goes to stderr and SLACTL_REFUSED or SLACTL_USAGE is returned. */
int ctl_call(struct ctl *ctl, const char *method, const char *path, const char *body, json_t **ret,
             char **ret_text);

/* The command table (slactl_table.c). */
#define MAX_OPTS 20
/* How an option's value goes into the request. OPT_LABEL: "KEY=VALUE" into the object
 * key names, repeatable ("KEY=": null, which removes the label). */
enum opt_type { OPT_STR, OPT_INT, OPT_FLAG, OPT_FILE, OPT_LABEL };
/* Required options are checked before any connection (unless --file gives the body). */
enum opt_need { OPT_OPTIONAL, OPT_REQUIRED };
struct opt {
    const char *name; /* without "--" */
    const char *key;  /* JSON field or query parameter */
    enum opt_type type;
    enum opt_need need;
};
enum send { SEND_NONE, SEND_BODY, SEND_QUERY, SEND_FILE_ARG };
enum show {
    SHOW_TICKET,
    SHOW_TICKET_FULL,
    SHOW_LIST,
    SHOW_SIM,
    SHOW_STATUS,
    SHOW_DONE,
    SHOW_REPORT,
    SHOW_OBJECT,
    SHOW_HISTORY
};

struct command {
    const char *words;         /* "ticket create" */
    const char *args;          /* positional arguments for the usage ("ID", "FILE") */
    const char *method, *path; /* path: "{}" is replaced by the ID */
    enum send send;
    const char *event; /* the event type of ticket ACTION commands */
    struct opt opts[MAX_OPTS];
    enum show show;
    const char *list_key; /* SHOW_LIST: the array in the answer */
    const char *cols[12]; /* SHOW_LIST / SHOW_REPORT: keys shown */
    const char *help;
};
extern const struct command ctl_commands[];
extern const size_t ctl_n_commands;

/* Run the command in argv[0..argc); returns the exit status. */
int ctl_command(struct ctl *ctl, int argc, char **argv);
void ctl_commands_usage(FILE *out);

/* The whole of path ("-": stdin) as a string; NULL after saying why. */
char *ctl_read_file(const char *path);
/* check-config [FILE]: conf_load + conf_summary, as slad --check-config; no daemon. */
int ctl_check_config(int argc, char **argv);
/* passwd: a password on stdin to its yescrypt hash (slactl_passwd.c); no daemon. */
int ctl_passwd(int argc, char **argv);
/* oncall [NAME] [--at T] | oncall NAME --from T --to T (slactl_oncall.c). */
int ctl_oncall(struct ctl *ctl, int argc, char **argv);

/* Human output. */
void ctl_print_json(const json_t *v);
void ctl_print_ticket(struct ctl *ctl, const json_t *t, bool history);
/* History entries as a table: time, kind and the other fields as key=value details. */
void ctl_print_history(const json_t *entries);
/* relative: add the "in 1h12m" / "overdue 5m" column (live tickets, not simulations). */
void ctl_print_clocks(struct ctl *ctl, const json_t *clocks, bool relative);
void ctl_print_simulation(struct ctl *ctl, const json_t *v);
void ctl_print_status(struct ctl *ctl, const json_t *v);
/* An object as "key  value" lines, times in local time. */
void ctl_print_fields(struct ctl *ctl, const json_t *v);
/* An array of objects as a table of the given keys (NULL-terminated); times shown
 * in local time. */
void ctl_print_objects(struct ctl *ctl, const json_t *array, const char *const *keys);

#endif
