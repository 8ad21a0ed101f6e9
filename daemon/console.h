/* console.h - the console's credentials in the daemon: the session a request's cookie
 * names (looked up by the token's SHA-256, its idle expiry pushed back at most once a
 * minute), the CSRF check, new sessions' random tokens and the Set-Cookie text, the
 * per-address limit on failed sign-ins, and the password checks' worker (pwcheck.h).
 * The routes themselves are lib/api's (api_session.c); request_signin.c runs a sign-in.
 * Ended sessions are purged at each sign-in and every hour.
 *
 * Failed sign-ins: CONSOLE_FAILS_BURST from one address, then one more per
 * CONSOLE_FAILS_REFILL_MS; more get 429 with Retry-After. Successful sign-ins cost
 * nothing. Addresses are kept in a table of CONSOLE_FAILS_ADDRESSES (the least recently
 * failed is forgotten first). */
#ifndef SLAD_CONSOLE_H
#define SLAD_CONSOLE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "conf.h"
#include "session.h"

#define CONSOLE_FAILS_BURST       5
#define CONSOLE_FAILS_REFILL_MS   (60 * 1000)
#define CONSOLE_FAILS_ADDRESSES   1024
#define CONSOLE_PWCHECK_QUEUE_MAX 16 /* sign-ins waiting for their password check */
#define CONSOLE_COOKIE            "slad_session"
#define CONSOLE_CSRF_HEADER       "X-CSRF-Token"

struct batch;
struct service;
struct pwcheck;
struct console;

struct console *console_new(struct ev_loop *loop, struct service *svc, struct batch *batch);
void console_free(struct console *con);

struct pwcheck *console_pwcheck(struct console *con);

/* The live session of the cookie's token at now_ms into *ret, its contact's access into
 * *ret_access; false when there is none (unknown, ended, contact gone). */
bool console_session(struct console *con, const char *token, int64_t now_ms, struct session *ret,
                     enum api_access *ret_access);
/* Whether header (X-CSRF-Token, may be NULL) is the session's CSRF token. */
bool console_csrf_ok(const struct session *s, const char *header);

/* The hash to check a sign-in of user against: the contact's password_hash, or (unknown
 * user, no password) a dummy hash that takes the same time and never matches; *ret_known
 * says which. */
const char *console_hash_for(const struct conf *conf, const char *user, bool *ret_known);

/* A new session of contact at now_ms (random token and CSRF token); the token for the
 * cookie into token. -EIO when the system has no randomness to give. */
int console_session_new(const char *contact, int64_t now_ms, struct session *ret,
                        char token[SESSION_TOKEN_LEN + 1]);
/* "slad_session=TOKEN; Path=/; Max-Age=...; HttpOnly; SameSite=Strict[; Secure]" into
 * buf; token NULL: the cookie that clears it. */
void console_cookie(char *buf, size_t size, const char *token, bool secure);

/* How long address must wait before its next sign-in attempt (0: it may try now). */
int64_t console_signin_wait_ms(struct console *con, const char *address, int64_t now_ms);
/* Count a failed sign-in of address. */
void console_signin_failed(struct console *con, const char *address, int64_t now_ms);

#endif
