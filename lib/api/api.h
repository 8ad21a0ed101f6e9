/* api.h - the HTTP API of SPEC 2 as a pure request router: method, path, query and body
 * in; status, content type and body out. The daemon owns sockets, authentication and
 * transactions; this module validates, calls the service and renders JSON. */
#ifndef SLAD_API_H
#define SLAD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct service;
struct metrics;
struct lease;
struct store;
struct api_read;

/* What the client may do (api_access.c: which route needs which). Lower is more: zero,
 * full rights, is what the bearer token and the Unix socket give and what a request
 * built without the field has (in-process callers, tests); the daemon sets the others. */
enum api_access {
    API_ACCESS_ADMIN = 0, /* everything: bearer token, Unix socket, an admin's session */
    API_ACCESS_OPERATOR,  /* + ticket events (comments too), follow-up completion, retries */
    API_ACCESS_VIEWER,    /* reads */
    API_ACCESS_PUBLIC,    /* nobody signed in: the public routes only (on TCP) */
};

struct api_request {
    const char *method; /* "GET", "HEAD" (answered as GET), "POST", "PATCH", "DELETE" */
    const char *path;   /* "/v1/tickets/42", without the query */
    const char *query;  /* "status=open&limit=10" (undecoded) or NULL */
    const char *body;   /* may contain NUL bytes; not NUL-terminated */
    size_t body_len;
    /* Who acts: a signed-in contact's name, which events and completions record as
     * `by` whatever the body says; NULL: the body's `by` (bearer token, Unix socket). */
    const char *actor;
    enum api_access access;
    /* The console session the request came with (cookie), or NULL. */
    const struct session *session;
    /* POST /v1/session: the session to open, its contact's password verified by the
     * daemon; NULL: the sign-in failed (401). */
    const struct session *signin;
    const char *peer; /* the client's address on TCP ("192.0.2.7"), NULL on the Unix socket:
                         failed action-link lookups are limited per address */
    /* The client sent `Prefer: return=minimal` (api_prefers_minimal): a create or an
     * event answers {"id":N} and a Location instead of the whole ticket. */
    bool prefer_minimal;
};

struct api_response {
    int status;               /* HTTP status code */
    const char *content_type; /* static string */
    char *body;               /* malloc'd; free with api_response_done */
    size_t body_len;
    bool wrote;        /* the request changed the store: answer only after commit */
    char allow[48];    /* 405: the methods the path takes ("GET, HEAD, PATCH") for Allow; else "" */
    int retry_after_s; /* Retry-After: 429, 503 while reconnecting to the database; else 0 */
    /* A minimal answer: the ticket's path ("/v1/tickets/42") for Location (and
     * Preference-Applied: return=minimal); else "". */
    char location[48];
    /* Not answered yet: a long read (an SLA report) for a reader thread. The daemon runs
     * api_read_run on it off the loop and answers with what that fills (status is 0
     * meanwhile); api_response_done frees it. Only when api_hooks.offload_reads. */
    struct api_read *read;
};

void api_response_done(struct api_response *resp);

/* Whether a Prefer header's value (RFC 7240; NULL when absent) asks for return=minimal:
 * one of its comma-separated preferences, any case, spaces around the tokens allowed. */
bool api_prefers_minimal(const char *prefer);

/* What the daemon does for the API: reload the config. Returns 0, or -EINVAL with the
 * reasons in reterr when the new file is invalid (the old config stays). lease: the
 * daemon's scheduler lease (lease.h), whose role and fencing number /healthz shows; NULL
 * for none. */
struct api_hooks {
    int (*reload)(void *userdata, char *errbuf, size_t errbuf_size);
    void *userdata;
    const struct lease *lease;
    /* Long reads are handed to the daemon (api_response.read) rather than computed in
     * api_handle: the daemon has a reader thread with a connection of its own. */
    bool offload_reads;
};

struct api;

struct api *api_new(struct service *svc, struct metrics *metrics, const struct api_hooks *hooks);
void api_free(struct api *api);

/* The access the route of method and path needs (API_ACCESS_PUBLIC: none): api_access.c's
 * table, which api_handle enforces (403) and the daemon reads to let a request without
 * credentials through to the public routes. */
enum api_access api_access_needed(const char *method, const char *path);
/* A contact's access of the config (enum contact_access) as the API's. */
enum api_access api_access_of_contact(int contact_access);
/* "admin", "operator", "viewer", "public". */
const char *api_access_name(enum api_access access);

/* Route and answer one request at now_ms. Always fills resp (errors are JSON
 * {"error":{"code","message"}} with 400/404/405/409/413/500/503). */
void api_handle(struct api *api, const struct api_request *req, int64_t now_ms,
                struct api_response *resp);

/* Compute the long read rd on reader (store_reader.h) and answer it into resp, as
 * api_handle would have: on any one thread at a time. It uses nothing but rd, reader and
 * resp (no service, no config, no metrics), so it may run beside the loop. rd stays the
 * caller's. */
void api_read_run(const struct api_read *rd, struct store *reader, struct api_response *resp);
void api_read_free(struct api_read *rd);

#endif
