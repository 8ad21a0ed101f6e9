/* request_signin.c - POST /v1/session in the daemon: the per-address limit on failures,
 * the password check on the worker thread (pwcheck.h) with the connection suspended,
 * then lib/api opens the session (api_session.c) in the iteration's transaction and the
 * answer carries the cookie. Failures are logged with the address and the user name,
 * never the password; a success at info. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "console.h"
#include "jsonx_session.h"
#include "log.h"
#include "pwcheck.h"
#include "request_internal.h"
#include "timers.h"

static const char err_busy[] =
    "{\"error\":{\"code\":\"too_busy\",\"message\":\"too many sign-ins are being checked at "
    "once; try again in a second\"}}";
static const char err_db[] =
    "{\"error\":{\"code\":\"database_unavailable\",\"message\":\"the database did not accept "
    "the change; nothing was stored; try again\"}}";

/* A user name for a log line: at most 64 bytes, control characters as '?'. */
static void loggable(const char *user, char out[72])
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)user; *p && n < 64; p++)
        out[n++] = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
    out[n] = '\0';
}

/* The password was checked: open the session, or answer 401, in the batch. */
static void signin_checked(void *userdata, bool match)
{
    struct request *req = userdata;
    struct request_env *env = req->srv->env;
    req->job = NULL;
    int64_t now_ms = timers_now_ms(env->loop);
    const char *peer = acceptor_conn_peer(req->admitted);
    char user[72];
    loggable(req->signin_user, user);
    if (match && req->signin_known) {
        char token[SESSION_TOKEN_LEN + 1];
        if (console_session_new(req->signin_user, now_ms, &req->signin, token) == 0) {
            req->signin_ok = true;
            console_cookie(req->set_cookie, sizeof(req->set_cookie), token, req->srv->tls);
            log_info("console", "contact '%s' signed in from %s", user, peer);
        } else {
            log_err("console", "cannot open a session for '%s': the system gave no random bytes",
                    user);
        }
        OPENSSL_cleanse(token, sizeof(token));
    } else {
        /* Every failure is logged: the single worker bounds them to a few dozen a second. */
        console_signin_failed(env->console, peer, now_ms);
        log_notice("console", "failed sign-in from %s as '%s': %s", peer, user,
                   req->signin_known ? "wrong password"
                                     : "no contact of that name has a password_hash");
    }
    struct slad_error err;
    if (batch_begin(env->batch, &err) < 0) {
        log_err("store", "cannot start a transaction: %s", err.msg);
        req->set_cookie[0] = '\0';
        req->resp = (struct api_response){.status = MHD_HTTP_SERVICE_UNAVAILABLE,
                                          .content_type = "application/json",
                                          .body = strdup(err_db)};
        req->resp.body_len = req->resp.body ? strlen(req->resp.body) : 0;
        req->ready = true;
        MHD_resume_connection(req->conn);
        return;
    }
    /* The answer waits for the commit (a 200 means the session is on disk); a 401 waits
     * with the batch too, which resumes the connection for both. */
    request_run_api(req);
    if (req->resp.wrote)
        batch_mark_dirty(env->batch);
    req->waiter.done = request_commit_done;
    batch_wait(env->batch, &req->waiter);
}

bool request_signin_start(struct request *req, enum MHD_Result *ret)
{
    struct request_env *env = req->srv->env;
    char *user = NULL, *password = NULL;
    struct slad_error err = {""};
    if (!env->console ||
        jsonx_signin_parse(req->body ? req->body : "", req->body_len, &user, &password, &err) < 0)
        return false;
    const char *peer = acceptor_conn_peer(req->admitted);
    int64_t now_ms = timers_now_ms(env->loop);
    int64_t wait_ms = console_signin_wait_ms(env->console, peer, now_ms);
    if (wait_ms > 0) {
        static struct log_limit limit;
        char name[72];
        loggable(user, name);
        log_limited(&limit, LOG_PRIO_NOTICE, "console",
                    "refused a sign-in from %s as '%s': too many failed sign-ins from that "
                    "address (429)",
                    peer, name);
        jsonx_signin_wipe(password);
        free(user);
        req->retry_after_s = (wait_ms + 999) / 1000;
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"error\":{\"code\":\"too_many_attempts\",\"message\":\"too many failed "
                 "sign-ins from this address; try again in %lld s\"}}",
                 (long long)req->retry_after_s);
        char *copy = strdup(body);
        *ret = copy ? request_send(req, 429, "application/json", copy, strlen(copy), true, NULL)
                    : MHD_NO;
        return true;
    }
    bool busy = false;
    const char *hash = console_hash_for(env->conf, user, &req->signin_known);
    req->job =
        pwcheck_submit(console_pwcheck(env->console), password, hash, signin_checked, req, &busy);
    jsonx_signin_wipe(password);
    if (!req->job) {
        free(user);
        req->retry_after_s = 1;
        *ret = busy ? request_send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, err_busy) : MHD_NO;
        return true;
    }
    req->signin_user = user;
    req->held = true;
    MHD_suspend_connection(req->conn);
    *ret = MHD_YES;
    return true;
}
