/* request_auth.c - who a request is (see request_internal.h): the bearer token, an
 * intake's own token (or a PagerDuty routing_key in the body), the console's session
 * cookie with its CSRF token, or nobody, who reaches only the public routes on TCP. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "console.h"
#include "intake_keys.h"
#include "jsonx_intake.h"
#include "log.h"
#include "request_internal.h"
#include "timers.h"
#include "token.h"

static const char err_unauthorized[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"this listener requires the header "
    "'Authorization: Bearer <token>' with the token of token_file\"}}";
static const char err_routing_key[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"this intake requires its token: "
    "as the routing_key of the event, or in the header 'Authorization: Bearer <token>'\"}}";
static void log_unauthorized(struct request *req, const char *why)
{
    static struct log_limit limit;
    log_limited(&limit, LOG_PRIO_NOTICE, "http", "refused a TCP request from %s to '%s': %s (401)",
                acceptor_conn_peer(req->admitted), req->path, why);
}

static const char err_csrf[] =
    "{\"error\":{\"code\":\"csrf_mismatch\",\"message\":\"a request signed in by the session "
    "cookie that changes something must carry the header 'X-CSRF-Token' with the session's "
    "csrf (from POST or GET /v1/session)\"}}";

bool request_is_signin(struct request *req)
{
    return strcmp(req->method, MHD_HTTP_METHOD_POST) == 0 && strcmp(req->path, "/v1/session") == 0;
}

/* Whether the request's session cookie speaks for it: not when signing in (a new session
 * replaces it) nor on the other public routes (an action link's code speaks for itself,
 * and a signed-in person opening one must not need the CSRF token); it does on GET and
 * DELETE /v1/session, which are about the session. */
static bool cookie_counts(struct request *req, enum api_access needs)
{
    if (request_is_signin(req))
        return false;
    return needs != API_ACCESS_PUBLIC || strcmp(req->path, "/v1/session") == 0;
}

/* The session of the request's cookie, when it names a live one: the request acts as its
 * contact, with its access. */
static void find_session(struct request *req)
{
    struct request_env *env = req->srv->env;
    const char *token = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, CONSOLE_COOKIE);
    enum api_access access;
    if (token && env->console &&
        console_session(env->console, token, timers_now_ms(env->loop), &req->session, &access)) {
        req->has_session = true;
        req->access = access;
    }
}

/* See request_internal.h. On TCP the bearer token (full rights),
 * an intake's own token, a session cookie, or nobody (the public routes only); on the
 * Unix socket a session cookie, else full rights. False after refusing it. */
bool request_authenticate(struct request *req, enum MHD_Result *ret)
{
    struct request_env *env = req->srv->env;
    enum api_access needs = api_access_needed(req->method, req->path);
    const char *auth =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req->access = API_ACCESS_ADMIN;
    if (req->srv->tcp && token_check(env->token, auth))
        return true;
    if (req->srv->tcp) {
        switch (intake_keys_check(env->intake_keys, env->conf, req->path, auth)) {
        case INTAKE_ACCESS_GRANTED:
            return true;
        case INTAKE_ACCESS_BODY_KEY:
            req->body_key = true;
            return true;
        default:
            break;
        }
    }
    if (cookie_counts(req, needs))
        find_session(req);
    if (req->has_session) {
        const char *csrf =
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, CONSOLE_CSRF_HEADER);
        if (!request_reads_only(req->method) && !console_csrf_ok(&req->session, csrf)) {
            static struct log_limit limit;
            log_limited(&limit, LOG_PRIO_NOTICE, "http",
                        "refused %s '%s' of contact '%s' from %s: no or a wrong X-CSRF-Token (403)",
                        req->method, req->path, req->session.contact,
                        acceptor_conn_peer(req->admitted));
            *ret = request_send_error(req, MHD_HTTP_FORBIDDEN, err_csrf);
            return false;
        }
        return true;
    }
    if (!req->srv->tcp)
        return true;
    if (needs == API_ACCESS_PUBLIC) {
        req->access = API_ACCESS_PUBLIC;
        return true;
    }
    log_unauthorized(req, auth ? "the bearer token does not match token_file"
                               : "no Authorization header nor session cookie");
    *ret = request_send_error(req, MHD_HTTP_UNAUTHORIZED, err_unauthorized);
    return false;
}

/* A PagerDuty intake's routing_key, the body's, is its token (or the daemon's). */
bool request_body_key_ok(struct request *req, enum MHD_Result *ret)
{
    struct request_env *env = req->srv->env;
    const struct conf_intake *in = intake_keys_intake_of(env->conf, req->path);
    char *key = NULL;
    bool ok = in &&
              jsonx_pagerduty_routing_key(req->body ? req->body : "", req->body_len, &key) == 0 &&
              intake_keys_routing_key(env->intake_keys, env->token, in, key);
    free(key);
    if (!ok) {
        log_unauthorized(req, "the routing_key does not match the intake's token");
        *ret = request_send_error(req, MHD_HTTP_UNAUTHORIZED, err_routing_key);
    }
    return ok;
}
