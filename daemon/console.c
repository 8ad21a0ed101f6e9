/* console.c - the console's credentials in the daemon (see console.h). */
#include "console.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "batch.h"
#include "log.h"
#include "pwcheck.h"
#include "ratelimit.h"
#include "service.h"
#include "timers.h"

/* yescrypt of a phrase nobody types, at libxcrypt's default cost: an unknown user costs
 * what a known one does, so the time of the answer does not tell which names exist. */
static const char dummy_hash[] =
    "$y$j9T$zZi2M9.3vFAJmRyxJPrbZ/$ahRto/pb8YxL2/vSKgf864xodDkrxzYlV0KxvZFMC57";

struct fails {
    char address[64];
    struct ratelimit rl;
    int64_t last_ms; /* the latest failure: the oldest entry is reused first */
};

/* Ended sessions are also purged this often, when nobody signs in. */
#define PURGE_INTERVAL_S 3600.

struct console {
    struct ev_loop *loop;
    ev_timer purge;
    struct service *svc;
    struct batch *batch;
    struct pwcheck *pwcheck;
    struct fails *fails; /* CONSOLE_FAILS_ADDRESSES */
};

static void purge_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct console *con = w->data;
    struct slad_error err = {""};
    int64_t now_ms = timers_now_ms(loop);
    if (batch_begin(con->batch, &err) < 0 || service_session_purge(con->svc, now_ms, &err) < 0)
        log_warning("console", "cannot purge ended console sessions (next try in an hour): %s",
                    err.msg);
}

struct console *console_new(struct ev_loop *loop, struct service *svc, struct batch *batch)
{
    struct console *con = calloc(1, sizeof(*con));
    if (!con)
        return NULL;
    con->loop = loop;
    ev_timer_init(&con->purge, purge_cb, PURGE_INTERVAL_S, PURGE_INTERVAL_S);
    con->purge.data = con;
    ev_timer_start(loop, &con->purge);
    ev_unref(loop); /* the purge alone does not keep the loop running */
    con->svc = svc;
    con->batch = batch;
    con->fails = calloc(CONSOLE_FAILS_ADDRESSES, sizeof(*con->fails));
    con->pwcheck = pwcheck_new(loop, CONSOLE_PWCHECK_QUEUE_MAX);
    if (!con->fails || !con->pwcheck) {
        console_free(con);
        return NULL;
    }
    return con;
}

void console_free(struct console *con)
{
    if (!con)
        return;
    ev_ref(con->loop);
    ev_timer_stop(con->loop, &con->purge);
    pwcheck_free(con->pwcheck);
    free(con->fails);
    free(con);
}

struct pwcheck *console_pwcheck(struct console *con)
{
    return con->pwcheck;
}

bool console_session(struct console *con, const char *token, int64_t now_ms, struct session *ret,
                     enum api_access *ret_access)
{
    if (!session_token_wellformed(token))
        return false;
    unsigned char hash[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), hash);
    const struct conf_contact *contact;
    struct slad_error err = {""};
    int r = service_session_find(con->svc, hash, now_ms, ret, &contact, &err);
    if (r < 0) {
        if (r != -ENOENT)
            log_warning("console", "cannot read a console session: %s", err.msg);
        else
            log_debug("console", "a request's session cookie is not good: %s", err.msg);
        return false;
    }
    *ret_access = api_access_of_contact(contact->access);
    /* Idle expiry starts again; written at most once a minute, with the batch (a failure
     * costs the session a minute of idle time, nothing else). */
    if (session_needs_touch(ret, now_ms) && batch_begin(con->batch, &err) == 0 &&
        service_session_touch(con->svc, hash, now_ms, &err) == 0)
        ret->last_seen_ms = now_ms;
    return true;
}

bool console_csrf_ok(const struct session *s, const char *header)
{
    size_t n = strlen(s->csrf);
    return header && n > 0 && strlen(header) == n && CRYPTO_memcmp(header, s->csrf, n) == 0;
}

const char *console_hash_for(const struct conf *conf, const char *user, bool *ret_known)
{
    const struct conf_contact *c = user ? conf_find_contact(conf, user) : NULL;
    *ret_known = c && c->password_hash;
    return *ret_known ? c->password_hash : dummy_hash;
}

static int random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -EIO;
        got += (size_t)r;
    }
    return 0;
}

int console_session_new(const char *contact, int64_t now_ms, struct session *ret,
                        char token[SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[SESSION_RANDOM_BYTES], csrf[SESSION_RANDOM_BYTES];
    if (random_bytes(raw, sizeof(raw)) < 0 || random_bytes(csrf, sizeof(csrf)) < 0)
        return -EIO;
    *ret = (struct session){.created_ms = now_ms, .last_seen_ms = now_ms};
    snprintf(ret->contact, sizeof(ret->contact), "%s", contact);
    session_base64url(raw, sizeof(raw), token);
    session_base64url(csrf, sizeof(csrf), ret->csrf);
    SHA256((const unsigned char *)token, strlen(token), ret->token_hash);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

void console_cookie(char *buf, size_t size, const char *token, bool secure)
{
    /* Max-Age: the browser keeps it across its restarts, never past the session's end. */
    snprintf(buf, size, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", CONSOLE_COOKIE,
             token ? token : "", token ? (long long)(SESSION_MAX_MS / 1000) : 0LL,
             secure ? "; Secure" : "");
}

/* The entry of address, or NULL (create: the least recently failed one, reset). */
static struct fails *fails_of(struct console *con, const char *address, bool create, int64_t now_ms)
{
    struct fails *oldest = &con->fails[0];
    for (size_t i = 0; i < CONSOLE_FAILS_ADDRESSES; i++) {
        struct fails *f = &con->fails[i];
        if (f->address[0] && strcmp(f->address, address) == 0)
            return f;
        if (f->last_ms < oldest->last_ms || (!f->address[0] && oldest->address[0]))
            oldest = f;
    }
    if (!create)
        return NULL;
    snprintf(oldest->address, sizeof(oldest->address), "%s", address);
    ratelimit_init(&oldest->rl, CONSOLE_FAILS_BURST,
                   (int64_t)CONSOLE_FAILS_BURST * CONSOLE_FAILS_REFILL_MS, now_ms);
    return oldest;
}

int64_t console_signin_wait_ms(struct console *con, const char *address, int64_t now_ms)
{
    struct fails *f = fails_of(con, address, false, now_ms);
    return f ? ratelimit_wait_ms(&f->rl, now_ms) : 0;
}

void console_signin_failed(struct console *con, const char *address, int64_t now_ms)
{
    struct fails *f = fails_of(con, address, true, now_ms);
    ratelimit_take(&f->rl, now_ms);
    f->last_ms = now_ms;
}
