/* slactl.c - slactl's shell: global options, the HTTP call over the Unix socket (or TCP
 * with a bearer token) through libcurl, and how answers map to exit statuses. The
 * commands are in slactl_commands.c, the tables in slactl_print.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "redact.h"
#include "conf_check.h"
#include "conf.h"
#include "slactl.h"

/* Answers larger than this are refused: no daemon answer is anywhere near it. */
#define ANSWER_MAX (64u * 1024 * 1024)
#define TOKEN_MAX  4096
/* Request bodies from a file: far above any max_body a daemon would accept. */
#define FILE_MAX (8u * 1024 * 1024)

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: slactl [--socket PATH | --url URL --token-file FILE] [--json] COMMAND\n"
            "  --socket PATH      the daemon's Unix socket (default: $SLACTL_SOCKET,\n"
            "                     else %s)\n"
            "  --url URL          talk to the daemon over TCP (needs --token-file)\n"
            "  --token-file FILE  file holding the bearer token for --url\n"
            "  --json             print the daemon's JSON answer as is\n\n",
            SLACTL_DEFAULT_SOCKET);
    ctl_commands_usage(out);
}

struct buf {
    char *data;
    size_t len;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
    struct buf *b = userdata;
    size_t add = size * n;
    if (b->len + add > ANSWER_MAX) {
        b->too_big = true;
        return 0;
    }
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, ptr, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static void say_unreachable(const struct ctl *ctl, const char *why)
{
    char shown[512]; /* the URL without its user info */
    if (ctl->socket)
        fprintf(stderr,
                "slactl: cannot reach slad on the socket '%s': %s\n"
                "slactl: is slad running? start it with `systemctl start slad` or `make run`, "
                "or name its socket with --socket PATH (or SLACTL_SOCKET)\n",
                ctl->socket, why);
    else
        fprintf(stderr,
                "slactl: cannot reach slad at '%s': %s\n"
                "slactl: is slad running? start it with `systemctl start slad` or `make run`\n",
                redact_url(ctl->url, shown, sizeof(shown)), why);
}

/* The daemon's error message for a refused request, with what to do for a missing route. */
static void say_refused(const char *path, long status, const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    json_t *err = json_object_get(v, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (msg)
        fprintf(stderr, "slactl: %s (%s, HTTP %ld)\n", msg, code ? code : "error", status);
    else
        fprintf(stderr, "slactl: the daemon answered HTTP %ld\n", status);
    if (status == 404 && code && strcmp(code, "not_found") == 0 && strstr(msg, "no such path"))
        fprintf(stderr, "slactl: this daemon does not offer '%.*s' (yet): upgrade slad\n",
                (int)strcspn(path, "?"), path);
    json_decref(v);
}

int ctl_call(struct ctl *ctl, const char *method, const char *path, const char *body, json_t **ret,
             char **ret_text)
{
    if (ret)
        *ret = NULL;
    if (ret_text)
        *ret_text = NULL;
    CURL *curl = curl_easy_init();
    if (!curl) {
        fprintf(stderr, "slactl: libcurl could not start\n");
        return SLACTL_USAGE;
    }
    char url[4096];
    const char *base = ctl->socket ? "http://localhost" : ctl->url;
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    snprintf(url, sizeof(url), "%.*s%s", (int)blen, base, path);
    struct curl_slist *hdrs = NULL;
    char auth[TOKEN_MAX + 32];
    if (ctl->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctl->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    struct buf b = {0};
    if (ctl->socket)
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, ctl->socket);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    int rc;
    if (cr != CURLE_OK) {
        if (b.too_big)
            fprintf(stderr, "slactl: the answer is over %u bytes; refused\n", ANSWER_MAX);
        else
            say_unreachable(ctl, curl_easy_strerror(cr));
        rc = SLACTL_USAGE;
    } else if (status == 401) {
        fprintf(stderr, "slactl: the daemon refused the token (HTTP 401): check --token-file\n");
        rc = SLACTL_USAGE;
    } else if (status < 200 || status > 299) {
        say_refused(path, status, b.data);
        json_t *v = ctl->json && b.data ? json_loads(b.data, 0, NULL) : NULL;
        if (v)
            ctl_print_json(v);
        else if (ctl->json && b.data)
            fprintf(stdout, "%s\n", b.data);
        json_decref(v);
        rc = SLACTL_REFUSED;
    } else {
        if (ret && b.data)
            *ret = json_loads(b.data, 0, NULL);
        if (ret_text) {
            *ret_text = b.data;
            b.data = NULL;
        }
        rc = SLACTL_OK;
    }
    free(b.data);
    return rc;
}

/* The whole of path ("-": stdin), at most FILE_MAX bytes; NULL with a message. */
char *ctl_read_file(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slactl: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(FILE_MAX + 1);
    size_t n = data ? fread(data, 1, FILE_MAX + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (data && n > FILE_MAX) {
        fprintf(stderr, "slactl: '%s' is over %u bytes\n", path, FILE_MAX);
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

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slactl: cannot read the token file '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *tok = calloc(1, TOKEN_MAX + 1);
    size_t n = tok ? fread(tok, 1, TOKEN_MAX, f) : 0;
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
