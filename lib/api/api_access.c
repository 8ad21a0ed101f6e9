/* api_access.c - which route needs which access (api.h's enum api_access): the one
 * table of the console's rights, enforced by api_handle (403 forbidden) and read by the
 * daemon, which lets a TCP request without credentials reach only the public routes.
 *
 * A route not listed needs viewer access to read (GET, HEAD) and admin access to change
 * anything: a new route is safe until someone lists it here. */
#include "api.h"

#include <stdbool.h>
#include <string.h>

static const struct access_rule {
    const char *method;  /* "GET" also covers HEAD */
    const char *pattern; /* "{...}" matches one non-empty segment */
    enum api_access needs;
} rules[] = {
    /* Signing in and out, and asking who is signed in, need no credentials. */
    {"POST", "/v1/session", API_ACCESS_PUBLIC},
    {"GET", "/v1/session", API_ACCESS_PUBLIC},
    {"DELETE", "/v1/session", API_ACCESS_PUBLIC},
    /* An action link's code is its own credential (the handler checks it). */
    {"GET", "/v1/actions/{code}", API_ACCESS_PUBLIC},
    {"POST", "/v1/actions/{code}", API_ACCESS_PUBLIC},
    /* Operators act on tickets (events, comments are events too), complete follow-ups and
     * retry notifications. */
    {"POST", "/v1/tickets/{id}/events", API_ACCESS_OPERATOR},
    {"POST", "/v1/followups/{id}/complete", API_ACCESS_OPERATOR},
    {"POST", "/v1/notifications/{id}/retry", API_ACCESS_OPERATOR},
    {"POST", "/v1/notifications/retry", API_ACCESS_OPERATOR},
    /* What only admins do, listed for the reader (unlisted changes need admin anyway). */
    {"POST", "/v1/tickets", API_ACCESS_ADMIN},
    {"PATCH", "/v1/tickets/{id}", API_ACCESS_ADMIN},
    {"POST", "/v1/reload", API_ACCESS_ADMIN},
    /* A simulation changes nothing: a read with a body. */
    {"POST", "/v1/simulate", API_ACCESS_VIEWER},
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

/* Segment by segment; "{...}" takes any non-empty segment. */
static bool matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (slen == 0)
                return false;
        } else if (plen != slen || memcmp(pattern, path, plen) != 0) {
            return false;
        }
        pattern += plen;
        path += slen;
        if (*pattern != *path)
            return false;
        if (*pattern == '/') {
            pattern++;
            path++;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static bool reads_only(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

enum api_access api_access_needed(const char *method, const char *path)
{
    if (!method || !path)
        return API_ACCESS_ADMIN;
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (size_t i = 0; i < N_RULES; i++)
        if (strcmp(rules[i].method, wanted) == 0 && matches(rules[i].pattern, path))
            return rules[i].needs;
    return reads_only(method) ? API_ACCESS_VIEWER : API_ACCESS_ADMIN;
}

const char *api_access_name(enum api_access access)
{
    switch (access) {
    case API_ACCESS_ADMIN:
        return "admin";
    case API_ACCESS_OPERATOR:
        return "operator";
    case API_ACCESS_VIEWER:
        return "viewer";
    default:
        return "public";
    }
}
