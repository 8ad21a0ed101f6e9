/* store_session.c - the console's sessions in the console_sessions table
 * (store_session.h). On the SQL seam (store_db.h). */
#include "store_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store_db.h"
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
struct hash_hex {
    char text[2 * SESSION_HASH_BYTES + 1];
};

static const char *hash_hex(struct hash_hex *out, const unsigned char *hash)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t k = 0; k < SESSION_HASH_BYTES; k++) {
        out->text[2 * k] = digits[hash[k] >> 4];
        out->text[2 * k + 1] = digits[hash[k] & 0xf];
    }
    out->text[2 * SESSION_HASH_BYTES] = '\0';
    return out->text;
}

int store_session_insert(struct store *s, const struct session *sess, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_insert, reterr);
    if (!st)
        return -EIO;
    struct hash_hex hex;
    db_bind_text(st, 1, hash_hex(&hex, sess->token_hash));
    db_bind_text(st, 2, sess->contact);
    db_bind_text(st, 3, sess->csrf);
    db_bind_int64(st, 4, sess->created_ms);
    db_bind_int64(st, 5, sess->last_seen_ms);
    return store_db_run(s, st, "adding a console session", reterr);
}

int store_session_get(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                      struct session *ret, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_get, reterr);
    if (!st)
        return -EIO;
    struct hash_hex hex;
    db_bind_text(st, 1, hash_hex(&hex, hash));
    int r = db_step(st, "reading a console session", reterr);
    if (r == 1) {
        const char *contact = db_column_text(st, 0), *csrf = db_column_text(st, 1);
        *ret = (struct session){.created_ms = db_column_int64(st, 2),
                                .last_seen_ms = db_column_int64(st, 3)};
        memcpy(ret->token_hash, hash, SESSION_HASH_BYTES);
        snprintf(ret->contact, sizeof(ret->contact), "%s", contact ? contact : "");
        snprintf(ret->csrf, sizeof(ret->csrf), "%s", csrf ? csrf : "");
        r = 0;
    } else if (r == 0) {
        r = slad_error_set(reterr, ENOENT, "no such console session");
    }
    db_reset(st);
    return r;
}

int store_session_touch(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                        int64_t last_seen_ms, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_touch, reterr);
    if (!st)
        return -EIO;
    struct hash_hex hex;
    db_bind_text(st, 1, hash_hex(&hex, hash));
    db_bind_int64(st, 2, last_seen_ms);
    return store_db_write(s, st, "recording a console session's request", reterr);
}

int store_session_delete(struct store *s, const unsigned char hash[SESSION_HASH_BYTES],
                         struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_delete, reterr);
    if (!st)
        return -EIO;
    struct hash_hex hex;
    db_bind_text(st, 1, hash_hex(&hex, hash));
    return store_db_run(s, st, "ending a console session", reterr);
}

int store_session_purge(struct store *s, int64_t now_ms, struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_purge, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, now_ms - SESSION_IDLE_MS);
    db_bind_int64(st, 2, now_ms - SESSION_MAX_MS);
    return store_db_run(s, st, "purging ended console sessions", reterr);
}
