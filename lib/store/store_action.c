/* store_action.c - the codes of action links (store.h, schema version 10): a code stands
 * for (ticket, contact) until it expires or is used; only its hash is stored, so that a
 * copy of the database holds no usable link. */
#include "store.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char sql_action_add[] =
    "INSERT INTO action_links (code_hash, ticket_id, contact, created_ms, expires_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_action_find[] =
    "SELECT id, ticket_id, contact, created_ms, expires_ms, used_ms, used_action"
    " FROM action_links WHERE code_hash = ?1";
static const char sql_action_use[] =
    "UPDATE action_links SET used_ms = ?2, used_action = ?3 WHERE id = ?1 AND used_ms IS NULL";
static const char sql_action_purge[] = "DELETE FROM action_links WHERE expires_ms < ?1";

const char *const store_action_statements[] = {sql_action_add, sql_action_find, sql_action_use,
                                               sql_action_purge, NULL};

int store_action_add(struct store *s, const char *code_hash, int64_t ticket_id, const char *contact,
                     int64_t created_ms, int64_t expires_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_action_add, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, code_hash);
    bind_int64(&b, 2, ticket_id);
    bind_text(&b, 3, contact);
    bind_int64(&b, 4, created_ms);
    bind_int64(&b, 5, expires_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "storing an action link", reterr);
    }
    return store_run(s, st, "storing an action link", reterr);
}

static int dup_column(sqlite3_stmt *st, int i, char **ret)
{
    const char *v = column_text(st, i);
    *ret = v ? strdup(v) : NULL;
    return v && !*ret ? -ENOMEM : 0;
}

int store_action_find(struct store *s, const char *code_hash, struct action_link *ret,
                      struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_action_find, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_text(&b, 1, code_hash);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "finding an action link", reterr);
    }
    struct action_link a;
    memset(&a, 0, sizeof(a));
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW) {
        a.id = sqlite3_column_int64(st, 0);
        a.ticket_id = sqlite3_column_int64(st, 1);
        a.created_ms = sqlite3_column_int64(st, 3);
        a.expires_ms = sqlite3_column_int64(st, 4);
        a.used_ms = column_time(st, 5);
        if (dup_column(st, 2, &a.contact) < 0 || dup_column(st, 6, &a.used_action) < 0 ||
            !a.contact)
            r = slad_error_set(reterr, ENOMEM, "database: out of memory reading an action link");
    } else if (rc == SQLITE_DONE) {
        r = slad_error_set(reterr, ENOENT, "no such action link");
    } else {
        r = store_fail(s, rc, "finding an action link", reterr);
    }
    sqlite3_reset(st);
    if (r < 0) {
        action_link_done(&a);
        return r;
    }
    *ret = a;
    return 0;
}

int store_action_use(struct store *s, int64_t id, const char *action, int64_t now_ms,
                     struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_action_use, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, id);
    bind_int64(&b, 2, now_ms);
    bind_text(&b, 3, action);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "using an action link", reterr);
    }
    int r = store_run(s, st, "using an action link", reterr);
    if (r < 0)
        return r;
    if (sqlite3_changes(store_db(s)) == 0)
        return slad_error_set(reterr, EALREADY, "action link %" PRId64 " was already used", id);
    return 0;
}

int store_action_purge(struct store *s, int64_t before_ms, struct slad_error *reterr)
{
    sqlite3_stmt *st = store_prepared(s, sql_action_purge, reterr);
    if (!st)
        return -EIO;
    struct binder b = {st, SQLITE_OK};
    bind_int64(&b, 1, before_ms);
    if (b.rc != SQLITE_OK) {
        sqlite3_reset(st);
        return store_fail(s, b.rc, "purging action links", reterr);
    }
    return store_run(s, st, "purging action links", reterr);
}
