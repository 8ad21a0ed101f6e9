/* ctl_client.c - slactl's HTTP call over the Unix socket (or TCP with a bearer token)
 * through libcurl, and how the daemon's answers map to exit statuses and messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "redact.h"
#include "slactl.h"

/* Answers larger than this are refused: no daemon answer is anywhere near it. */
#define ANSWER_MAX (64u * 1024 * 1024)

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

/* Why connecting to the Unix socket at path fails now (curl only says "Couldn't connect"):
 * 0 when it does not. */
static int socket_errno(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
    close(fd);
    return r;
}

static void say_unreachable(const struct ctl *ctl, const char *why)
{
    char shown[512]; /* the URL without its user info */
    int e = ctl->socket ? socket_errno(ctl->socket) : 0;
    if (e == EACCES || e == EPERM)
        fprintf(stderr,
                "slactl: permission denied on the socket '%s': slad runs, but this user may "
                "not talk to it\n"
                "slactl: join its group (`sudo usermod -aG slad \"$USER\"`, then log in again) "
                "or run slactl as root\n",
                ctl->socket);
    else if (ctl->socket)
        fprintf(stderr,
                "slactl: cannot reach slad on the socket '%s': %s\n"
                "slactl: is slad running? start it with `systemctl start slad` or `make run`, "
                "or name its socket with --socket PATH (or SLACTL_SOCKET)\n",
                ctl->socket, e ? strerror(e) : why);
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
    char auth[SLACTL_TOKEN_MAX + 32];
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
