/* session.h - the console's sign-in sessions as data: how long one lives, what its
 * cookie token and CSRF token look like, whether a stored one is still good at an
 * instant. The daemon draws the random bytes and hashes the token; the store keeps the
 * token's SHA-256, never the token (a copy of the database signs nobody in).
 *
 * A session ends SESSION_IDLE_MS after its last request (a shift left overnight) or
 * SESSION_MAX_MS after sign-in (a stolen cookie does not live for ever), whichever
 * comes first. The last request is written back at most every SESSION_TOUCH_MS, so that
 * reading the board does not write the database on every request. */
#ifndef SLAD_SESSION_H
#define SLAD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_IDLE_MS  (12LL * 3600 * 1000)     /* 12 hours without a request */
#define SESSION_MAX_MS   (7LL * 24 * 3600 * 1000) /* 7 days after sign-in */
#define SESSION_TOUCH_MS (60LL * 1000)            /* last_seen is written at most this often */

#define SESSION_RANDOM_BYTES 32 /* of the cookie's token and of the CSRF token */
#define SESSION_HASH_BYTES   32 /* SHA-256 of the cookie's token */
/* base64url of SESSION_RANDOM_BYTES, without padding: 43 characters. */
#define SESSION_TOKEN_LEN 43
#define SESSION_NAME_MAX  128 /* a contact's name, as the config allows */

struct session {
    unsigned char token_hash[SESSION_HASH_BYTES];
    char contact[SESSION_NAME_MAX];
    char csrf[SESSION_TOKEN_LEN + 1];
    int64_t created_ms, last_seen_ms;
};

/* When s ends: the earlier of idle and absolute expiry. */
int64_t session_expires_ms(const struct session *s);
/* Whether s is still good at now_ms. */
bool session_live(const struct session *s, int64_t now_ms);
/* Whether a request at now_ms should write last_seen back. */
bool session_needs_touch(const struct session *s, int64_t now_ms);

/* bytes[0..n) as base64url without padding (RFC 4648 section 5) into out, which holds
 * (4 * n + 2) / 3 + 1 bytes. */
void session_base64url(const unsigned char *bytes, size_t n, char *out);
/* Whether text has the form of a token this daemon hands out: SESSION_TOKEN_LEN
 * characters of the base64url alphabet. Anything else is not looked up. */
bool session_token_wellformed(const char *text);

#endif
