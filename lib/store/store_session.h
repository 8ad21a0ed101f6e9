/* store_session.h - the console's sign-in sessions (table console_sessions,
 * store_schema.c's version 10), keyed by the SHA-256 of the cookie's token. Every call
 * runs in the caller's transaction (a read in autocommit); errors as in store.h. */
#ifndef SLAD_STORE_SESSION_H
#define SLAD_STORE_SESSION_H

#include <stdint.h>

#include "error.h"
#include "session.h"
#include "store.h"

int store_session_insert(struct store *s, const struct session *sess, struct slad_error *reterr);
/* The session whose token hashes to hash into *ret; -ENOENT when there is none. */
int store_session_get(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                      struct session *ret, struct slad_error *reterr);
int store_session_touch(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                        int64_t last_seen_ms, struct slad_error *reterr);
/* No error when there is no such session (signing out twice). */
int store_session_delete(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                         struct slad_error *reterr);
/* Delete every session that has ended at now_ms (session.h's rules). */
int store_session_purge(struct store *s, int64_t now_ms, struct slad_error *reterr);

#endif
