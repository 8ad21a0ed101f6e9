/* slactl.c - slactl's shell: the global options, then the command (slactl_commands.c),
 * which talks to the daemon through ctl_client.c and prints with slactl_print.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "slactl.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: slactl [--socket PATH | --url URL --token-file FILE] [--json] COMMAND\n"
            "  --socket PATH      the daemon's Unix socket (default: $SLACTL_SOCKET,\n"
            "                     else %s)\n"
            "  --url URL          talk to the daemon over TCP (needs --token-file)\n"
            "  --token-file FILE  file holding the bearer token for --url\n"
            "  --json             print the daemon's JSON answer as is\n"
            "  -V, --version      print the version and exit\n\n",
            SLACTL_DEFAULT_SOCKET);
    ctl_commands_usage(out);
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slactl: cannot read the token file '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *tok = calloc(1, SLACTL_TOKEN_MAX + 1);
    size_t n = tok ? fread(tok, 1, SLACTL_TOKEN_MAX, f) : 0;
    fclose(f);
    while (tok && n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        tok[--n] = '\0';
    if (tok && n == 0) {
        fprintf(stderr, "slactl: the token file '%s' is empty\n", path);
        free(tok);
        return NULL;
    }
    return tok;
}

int main(int argc, char **argv)
{
    struct ctl ctl = {0};
    const char *token_file = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            ctl.json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return SLACTL_OK;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("slactl %s\n", SLAD_VERSION);
            return SLACTL_OK;
        } else if (strcmp(a, "--socket") == 0 && has_next) {
            ctl.socket = argv[++i];
        } else if (strcmp(a, "--url") == 0 && has_next) {
            ctl.url = argv[++i];
        } else if (strcmp(a, "--token-file") == 0 && has_next) {
            token_file = argv[++i];
        } else {
            fprintf(stderr, "slactl: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return SLACTL_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return SLACTL_USAGE;
    }
    if (ctl.url && ctl.socket) {
        fprintf(stderr, "slactl: give --socket or --url, not both\n");
        return SLACTL_USAGE;
    }
    if (ctl.url && !token_file) {
        fprintf(stderr, "slactl: --url needs --token-file FILE (the daemon's bearer token)\n");
        return SLACTL_USAGE;
    }
    if (!ctl.url && !ctl.socket) {
        const char *env = getenv("SLACTL_SOCKET");
        ctl.socket = env && *env ? env : SLACTL_DEFAULT_SOCKET;
    }
    if (token_file && !(ctl.token = read_token(token_file)))
        return SLACTL_USAGE;
    const char *no_color = getenv("NO_COLOR");
    ctl.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = ctl_command(&ctl, argc - i, argv + i);
    curl_global_cleanup();
    free(ctl.token);
    return rc;
}
