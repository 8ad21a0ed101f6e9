/* slactl_commands.c - the generic runner of slactl's command table (slactl_table.c): match
 * the words, parse the options into a JSON body or a query, make the request and show
 * the answer as a table or, with --json, as the daemon sent it. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "conf_check.h"
#include "slactl.h"

/* Request bodies from a file: far above any max_body a daemon would accept. */
#define CTL_FILE_MAX (8u * 1024 * 1024)

/* The whole of path ("-": stdin), at most CTL_FILE_MAX bytes; NULL with a message. */
char *ctl_read_file(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slactl: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(CTL_FILE_MAX + 1);
    size_t n = data ? fread(data, 1, CTL_FILE_MAX + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (data && n > CTL_FILE_MAX) {
        fprintf(stderr, "slactl: '%s' is over %u bytes\n", path, CTL_FILE_MAX);
        free(data);
        return NULL;
    }
    if (data)
        data[n] = '\0';
    return data;
}

int ctl_check_config(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "slactl: check-config takes at most one FILE\n");
        return SLACTL_USAGE;
    }
    const char *path = argc == 1 ? argv[0] : SLACTL_DEFAULT_CONFIG;
    return conf_check_report("slactl", path, "") ? SLACTL_OK : SLACTL_REFUSED;
}

#define REQUEST_PATH_MAX 4096

/* One command: its words and help, then its options wrapped to fit 80 columns; the
 * required ones unbracketed. */
static void command_usage(FILE *out, const struct command *cmd)
{
    char head[64];
    snprintf(head, sizeof(head), "%s %s", cmd->words, cmd->args ? cmd->args : "");
    fprintf(out, "  %-24s %s\n", head, cmd->help);
    char line[128] = "";
    size_t len = 0;
    for (size_t k = 0; k < MAX_OPTS && cmd->opts[k].name; k++) {
        const struct opt *o = &cmd->opts[k];
        bool required = o->need == OPT_REQUIRED;
        char one[64];
        snprintf(one, sizeof(one), " %s--%s%s%s", required ? "" : "[", o->name,
                 o->type == OPT_FLAG    ? ""
                 : o->type == OPT_FILE  ? " FILE"
                 : o->type == OPT_LABEL ? " KEY=VALUE"
                                        : " X",
                 required ? "" : "]");
        if (len + strlen(one) > 52) {
            fprintf(out, "  %-24s%s\n", "", line);
            len = 0;
        }
        int n = snprintf(line + len, sizeof(line) - len, "%s", one);
        if (n > 0 && (size_t)n < sizeof(line) - len)
            len += (size_t)n;
    }
    if (len)
        fprintf(out, "  %-24s%s\n", "", line);
}

void ctl_commands_usage(FILE *out)
{
    fprintf(out, "Commands:\n");
    for (size_t i = 0; i < ctl_n_commands; i++)
        command_usage(out, &ctl_commands[i]);
}

/* slactl COMMAND --help: that command alone; the global options are in slactl --help. */
static void command_help(FILE *out, const struct command *cmd)
{
    fprintf(out, "Usage: slactl [GLOBAL OPTIONS] %s%s%s [OPTIONS]\n", cmd->words,
            cmd->args ? " " : "", cmd->args ? cmd->args : "");
    command_usage(out, cmd);
    fprintf(out, "(global options and every command: slactl --help; see slactl(1))\n");
}

/* Match argv against a command's words; the number of words used, or 0. */
static size_t match_words(const char *words, int argc, char **argv)
{
    size_t used = 0;
    const char *w = words;
    while (*w) {
        size_t len = strcspn(w, " ");
        if ((int)used >= argc || strlen(argv[used]) != len || strncmp(argv[used], w, len) != 0)
            return 0;
        used++;
        w += len;
        while (*w == ' ')
            w++;
    }
    return used;
}

static const struct opt *find_opt(const struct command *cmd, const char *name, size_t len)
{
    for (size_t k = 0; k < MAX_OPTS && cmd->opts[k].name; k++)
        if (strlen(cmd->opts[k].name) == len && strncmp(cmd->opts[k].name, name, len) == 0)
            return &cmd->opts[k];
    return NULL;
}

static bool is_id(const char *s)
{
    if (!*s || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static bool is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Append "&key=value" (escaped) to the query. */
static int query_add(char *q, size_t size, const char *key, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        return -ENOMEM;
    size_t len = strlen(q);
    int n = snprintf(q + len, size - len, "%c%s=%s", len ? '&' : '?', key, esc);
    curl_free(esc);
    return n > 0 && (size_t)n < size - len ? 0 : -E2BIG;
}

__attribute__((format(printf, 2, 3))) static int usage_error(const struct command *cmd,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "slactl: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nUsage: slactl %s%s%s [OPTIONS] (see slactl --help)\n", cmd->words,
            cmd->args ? " " : "", cmd->args ? cmd->args : "");
    return SLACTL_USAGE;
}

/* --label KEY=VALUE into body's object key ("KEY=": null, which removes the label). */
static int label_add(const struct command *cmd, json_t *body, const char *key, const char *val)
{
    const char *eq = strchr(val, '=');
    if (!eq || eq == val)
        return usage_error(cmd, "'%s' is not KEY=VALUE (KEY= removes the label)", val);
    char *name = strndup(val, (size_t)(eq - val));
    json_t *v = eq[1] ? json_string(eq + 1) : json_null();
    json_t *labels = json_object_get(body, key);
    if (!labels) {
        labels = json_object();
        json_object_set_new(body, key, labels);
    }
    int rc = SLACTL_OK;
    if (!name || !v || !labels)
        rc = usage_error(cmd, "'%s' is not valid UTF-8", val);
    else
        json_object_set_new(labels, name, json_incref(v));
    json_decref(v);
    free(name);
    return rc;
}

/* Where the next page of a listing starts. */
static void print_next(const json_t *v)
{
    json_t *next = json_object_get(v, "next");
    if (json_is_integer(next))
        printf("more: --after %lld\n", (long long)json_integer_value(next));
}

/* The answer's "warnings" (accepted, but someone will not be reached, or a repeat's fields
 * were not applied) go to stderr, so that a script reading stdout still gets the answer;
 * the exit status stays 0. Taken out of v for the table, kept in --json's output. */
static void print_warnings(const struct ctl *ctl, json_t *v)
{
    json_t *w = json_object_get(v, "warnings");
    size_t i;
    json_t *one;
    json_array_foreach(w, i, one) if (json_is_string(one))
        fprintf(stderr, "slactl: warning: %s\n", json_string_value(one));
    if (w && !ctl->json)
        json_object_del(v, "warnings");
}

static void show(struct ctl *ctl, const struct command *cmd, json_t *v, const char *text)
{
    if (json_is_object(v))
        print_warnings(ctl, v);
    if (ctl->json || !v) {
        if (v)
            ctl_print_json(v);
        else if (text)
            fputs(text, stdout);
        return;
    }
    switch (cmd->show) {
    case SHOW_TICKET:
    case SHOW_TICKET_FULL:
        ctl_print_ticket(ctl, v, cmd->show == SHOW_TICKET_FULL);
        break;
    case SHOW_LIST:
    case SHOW_REPORT: {
        json_t *rows = json_object_get(v, cmd->list_key);
        ctl_print_objects(ctl, json_is_array(rows) ? rows : v, cmd->cols);
        print_next(v);
        json_t *f = json_object_get(v, "followups");
        if (cmd->show == SHOW_REPORT && f) {
            printf("\nfollow-ups:\n");
            ctl_print_fields(ctl, f);
        }
        break;
    }
    case SHOW_HISTORY:
        ctl_print_history(json_object_get(v, cmd->list_key));
        print_next(v);
        break;
    case SHOW_SIM:
        ctl_print_simulation(ctl, v);
        break;
    case SHOW_STATUS:
        ctl_print_status(ctl, v);
        break;
    case SHOW_OBJECT:
        if (json_is_object(v))
            ctl_print_fields(ctl, v);
        else
            ctl_print_json(v);
        break;
    case SHOW_DONE:
        if (json_is_string(json_object_get(v, "status")))
            printf("slad: %s\n", json_string_value(json_object_get(v, "status")));
        else
            ctl_print_json(v);
        break;
    }
}

static int run(struct ctl *ctl, const struct command *cmd, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL};
    size_t n_pos = 0;
    size_t want_pos = cmd->args ? 1 : 0;
    json_t *body = json_object();
    char query[REQUEST_PATH_MAX] = "";
    char *file_body = NULL;
    int rc = SLACTL_USAGE;
    bool seen[MAX_OPTS] = {false};
    const char *body_opt = NULL, *file_opt = NULL; /* to refuse --file with --title */
    if (!body)
        return SLACTL_USAGE;
    if (cmd->event)
        json_object_set_new(body, "type", json_string(cmd->event));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0 || strcmp(a, "-") == 0) {
            if (n_pos >= want_pos) {
                rc = usage_error(cmd, "unexpected argument '%s'", a);
                goto out;
            }
            pos[n_pos++] = a;
            continue;
        }
        if (strcmp(a, "--json") == 0) { /* a global option, also taken after the command */
            ctl->json = true;
            continue;
        }
        if (is_help(a)) {
            command_help(stdout, cmd);
            rc = SLACTL_OK;
            goto out;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const struct opt *o = find_opt(cmd, a + 2, nlen);
        if (!o) {
            rc = usage_error(cmd, "unknown option '%s'", a);
            goto out;
        }
        seen[o - cmd->opts] = true;
        const char *val = "true";
        if (o->type != OPT_FLAG) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                rc = usage_error(cmd, "option '%s' needs a value", a);
                goto out;
            }
        }
        if (o->type == OPT_FILE)
            file_opt = a;
        else if (cmd->send == SEND_BODY)
            body_opt = a;
        if (file_opt && body_opt) {
            rc = usage_error(cmd, "'%s' gives the whole body: put the fields of '%s' in the file",
                             file_opt, body_opt);
            goto out;
        }
        if (o->type == OPT_FILE) {
            free(file_body);
            if (!(file_body = ctl_read_file(val)))
                goto out;
            continue;
        }
        if (cmd->send == SEND_QUERY) {
            if (query_add(query, sizeof(query), o->key, val) < 0) {
                rc = usage_error(cmd, "the options are too long");
                goto out;
            }
            continue;
        }
        json_t *jv;
        if (o->type == OPT_INT) {
            char *end;
            errno = 0;
            long long n = strtoll(val, &end, 10);
            if (errno || !*val || *end) {
                rc = usage_error(cmd, "'%s' is not a whole number", val);
                goto out;
            }
            jv = json_integer(n);
        } else if (o->type == OPT_LABEL) {
            rc = label_add(cmd, body, o->key, val);
            if (rc != SLACTL_OK)
                goto out;
            continue;
        } else {
            jv = json_string(val);
            if (!jv) {
                rc = usage_error(cmd, "'%s' is not valid UTF-8", val);
                goto out;
            }
        }
        /* "customer.name" goes into a nested object. */
        const char *dot = strchr(o->key, '.');
        json_t *into = body;
        if (dot) {
            char parent[32];
            snprintf(parent, sizeof(parent), "%.*s", (int)(dot - o->key), o->key);
            into = json_object_get(body, parent);
            if (!into) {
                into = json_object();
                json_object_set_new(body, parent, into);
            }
        }
        json_object_set_new(into, dot ? dot + 1 : o->key, jv);
    }
    if (n_pos < want_pos) {
        rc = usage_error(cmd, "missing %s", cmd->args);
        goto out;
    }
    for (size_t k = 0; k < MAX_OPTS && cmd->opts[k].name && !file_body; k++)
        if (cmd->opts[k].need == OPT_REQUIRED && !seen[k]) {
            rc = usage_error(cmd, "missing --%s (required)", cmd->opts[k].name);
            goto out;
        }
    if (strstr(cmd->path, "{}") && !is_id(pos[0])) {
        rc = usage_error(cmd, "'%s' is not a ticket or object id (a positive number)", pos[0]);
        goto out;
    }
    char path[REQUEST_PATH_MAX * 2];
    const char *hole = strstr(cmd->path, "{}");
    if (hole)
        snprintf(path, sizeof(path), "%.*s%s%s%s", (int)(hole - cmd->path), cmd->path, pos[0],
                 hole + 2, query);
    else
        snprintf(path, sizeof(path), "%s%s", cmd->path, query);
    if (cmd->send == SEND_FILE_ARG && !(file_body = ctl_read_file(pos[0])))
        goto out;
    char *dumped = NULL;
    if (cmd->send == SEND_BODY && !file_body)
        dumped = json_dumps(body, JSON_COMPACT);
    const char *send = file_body ? file_body : dumped;
    json_t *answer = NULL;
    char *text = NULL;
    rc = ctl_call(ctl, cmd->method, path, send, &answer, &text);
    if (rc == SLACTL_OK)
        show(ctl, cmd, answer, text);
    json_decref(answer);
    free(text);
    free(dumped);
out:
    json_decref(body);
    free(file_body);
    return rc;
}

/* slactl WORD --help for a group ("ticket", "plan"): the commands it starts. */
static int group_help(const char *word)
{
    size_t len = strlen(word), n = 0;
    for (size_t i = 0; i < ctl_n_commands; i++) {
        const char *w = ctl_commands[i].words;
        if (strncmp(w, word, len) == 0 && (w[len] == ' ' || w[len] == '\0')) {
            if (n++ == 0)
                printf("Usage: slactl [GLOBAL OPTIONS] %s ... [OPTIONS]\n", word);
            command_usage(stdout, &ctl_commands[i]);
        }
    }
    return n ? SLACTL_OK : -1;
}

int ctl_command(struct ctl *ctl, int argc, char **argv)
{
    if (strcmp(argv[0], "check-config") == 0) {
        for (int i = 1; i < argc; i++)
            if (is_help(argv[i])) {
                command_help(stdout, &ctl_commands[ctl_n_commands - 1]);
                return SLACTL_OK;
            }
        return ctl_check_config(argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "oncall") == 0)
        return ctl_oncall(ctl, argc - 1, argv + 1);
    const struct command *best = NULL;
    size_t best_used = 0;
    for (size_t i = 0; i < ctl_n_commands; i++) {
        size_t used = match_words(ctl_commands[i].words, argc, argv);
        if (used > best_used) {
            best = &ctl_commands[i];
            best_used = used;
        }
    }
    if (!best && argc == 2 && is_help(argv[1]) && group_help(argv[0]) == SLACTL_OK)
        return SLACTL_OK;
    if (!best) {
        fprintf(stderr, "slactl: unknown command '%s%s%s'\n\n", argv[0], argc > 1 ? " " : "",
                argc > 1 ? argv[1] : "");
        ctl_commands_usage(stderr);
        return SLACTL_USAGE;
    }
    return run(ctl, best, argc - (int)best_used, argv + best_used);
}
