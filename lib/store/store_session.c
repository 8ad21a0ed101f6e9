/* store_session.c - the console's sessions in the console_sessions table
 * (store_session.h). */
#include "store_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

static const char sql_insert[] =
    "INSERT INTO console_sessions (token_sha256, contact, csrf, created_ms, last_seen_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_get[] = "SELECT contact, csrf, created_ms, last_seen_ms"
                              " FROM console_sessions WHERE token_sha256 = ?1";
static const char sql_touch[] =
    "UPDATE console_sessions SET last_seen_ms = ?2 WHERE token_sha256 = ?1";
static const char sql_delete[] = "DELETE FROM console_sessions WHERE token_sha256 = ?1";
/* Idle past SESSION_IDLE_MS or older than SESSION_MAX_MS (?1, ?2: the cut-offs). */
static const char sql_purge[] =
    "DELETE FROM console_sessions WHERE last_seen_ms <= ?1 OR created_ms <= ?2";

const char *const store_session_statements[] = {sql_insert, sql_get,   sql_touch,
                                                sql_delete, sql_purge, NULL};

/* The hash as lowercase hex text: a column both SQLite and PostgreSQL read as TEXT, which
 * --copy-database moves as it moves every other value. */
static void bind_hash(struct binder *b, int i, const unsigned char *hash)
{
    static const char digits[] = "0123456789abcdef";
    char hex[2 * SESSION_HASH_BYTES + 1];
    for (size_t k = 0; k < SESSION_HASH_BYTES; k++) {
        hex[2 * k] = digits[hash[k] >> 4];
        hex[2 * k + 1] = digits[hash[k] & 0xf];
    }
    hex[2 * SESSION_HASH_BYTES] = '\0';
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_text(b->st, i, hex, 2 * SESSION_HASH_BYTES, SQLITE_TRANSIENT);
}

/* Run st with its bindings (b), for op. */
static int run(struct store *s, struct binder *b, const char *op, struct slad_error *reterr)
{
    if (b->rc != SQLITE_OK) {
        sqlite3_reset(b->st);
        return store_fail(s, b->rc, op, reterr);
    }
    return store_run(s, b->st, op, reterr);
}

int store_session_insert(struct store *s, const struct session *sess, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_hash(&b, 1, sess->token_hash);
    bind_text(&b, 2, sess->contact);
    bind_text(&b, 3, sess->csrf);
    bind_int64(&b, 4, sess->created_ms);
    bind_int64(&b, 5, sess->last_seen_ms);
    return run(s, &b, "adding a console session", reterr);
}

int store_session_get(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                      struct session *ret, struct slad_error *reterr)
{
    static const char op[] = "reading a console session";
    sqlite3_stmt *st = store_prepared(s, sql_get, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_hash(&b, 1, hash);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, op, reterr);
    }
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        *ret = (struct session){.created_ms = sqlite3_column_int64(st, 2),
                                .last_seen_ms = sqlite3_column_int64(st, 3)};
        memcpy(ret->token_hash, hash, SESSION_HASH_BYTES);
        snprintf(ret->contact, sizeof(ret->contact), "%s", column_text(st, 0));
        snprintf(ret->csrf, sizeof(ret->csrf), "%s", column_text(st, 1));
    } else if (rc == SQLITE_DONE) {
        r = slad_error_set(reterr, ENOENT, "no such console session");
    } else {
        r = store_fail(s, rc, op, reterr);
    }
    sqlite3_reset(st);
    return r;
}

int store_session_touch(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                        int64_t last_seen_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_touch, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_hash(&b, 1, hash);
    bind_int64(&b, 2, last_seen_ms);
    return run(s, &b, "recording a console session's request", reterr);
}

int store_session_delete(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                         struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_hash(&b, 1, hash);
    return run(s, &b, "ending a console session", reterr);
}

int store_session_purge(struct store *s, int64_t now_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_purge, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, now_ms - SESSION_IDLE_MS);
    bind_int64(&b, 2, now_ms - SESSION_MAX_MS);
    return run(s, &b, "purging ended console sessions", reterr);
}
