/* request_internal.h - one request as request.c, request_signin.c and ui.c share it.
 * Not for use outside them. */
#ifndef SLAD_REQUEST_INTERNAL_H
#define SLAD_REQUEST_INTERNAL_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "batch.h"
#include "request.h"
#include "session.h"

struct acceptor_conn;
struct pwcheck_job;
struct reader_job;

struct request {
    struct batch_waiter waiter; /* first: the waiter is the request */
    struct request_listener *srv;
    struct MHD_Connection *conn;
    struct acceptor_conn *admitted; /* the connection's admission record, or NULL */
    char *path, *query;             /* from the raw request URI */
    const char *method;             /* MHD's, valid for the request's life */
    char *body;
    size_t body_len, body_cap;
    size_t content_length; /* announced, <= max_body; 0 when absent */
    size_t max_body;       /* daemon.max_body when the headers came, kept across a reload */
    bool started, too_large, held, ready;
    bool rerun;    /* run again after its batch's COMMIT was refused (request.c) */
    bool body_key; /* a PagerDuty intake without a header: the routing_key must open it */
    bool ui;       /* a page of the console, served from the binary (ui.h) */
    struct api_response resp;
    double start_s;
    /* Credentials (request.c's on_header): what the request may do, and the console
     * session its cookie names when it has one. */
    enum api_access access;
    bool has_session;
    struct session session;
    /* A sign-in (request_signin.c): its password check, the user, the new session. */
    struct pwcheck_job *job;
    /* A long read on a reader thread (reader.h), until its answer comes back. */
    struct reader_job *read_job;
    char *signin_user;
    bool signin_known, signin_ok;
    struct session signin;
    char set_cookie[192];  /* Set-Cookie of a 2xx answer, or "" */
    int64_t retry_after_s; /* Retry-After of the answer, or 0 */
    char location[48];     /* Location of a minimal answer (Prefer: return=minimal), or "" */
};

/* Send status with body (taken when owned, else static) and count it; allow: the
 * methods of a 405, or NULL. */
enum MHD_Result request_send(struct request *req, int status, const char *type, char *body,
                             size_t len, bool owned, const char *allow);
/* A static JSON error body. */
enum MHD_Result request_send_error(struct request *req, int status, const char *json);
/* Run lib/api on the complete request into req->resp. */
void request_run_api(struct request *req);
/* The batch's waiter callback: the answer may go (resumes the connection). */
void request_commit_done(struct batch_waiter *w, bool committed);

/* GET and HEAD (a GET without the body) write nothing. */
bool request_reads_only(const char *method);

/* request_auth.c: who the request is (req->access, req->session): on TCP the bearer
 * token (full rights), an intake's own token, a session cookie, or nobody (the public
 * routes only); on the Unix socket a session cookie, else full rights. A cookie's change
 * needs its CSRF token. False after refusing it (401, 403) with *ret set. */
bool request_authenticate(struct request *req, enum MHD_Result *ret);
/* A PagerDuty intake's body: its routing_key must be the intake's token; false after
 * refusing it (401). */
bool request_body_key_ok(struct request *req, enum MHD_Result *ret);
/* POST /v1/session. */
bool request_is_signin(struct request *req);

/* POST /v1/session with a well-formed body: refuse (429, 503) or start the password
 * check with the connection suspended, and return true with *ret set; false when the
 * body is not one (the api answers its 400). */
bool request_signin_start(struct request *req, enum MHD_Result *ret);

#endif
