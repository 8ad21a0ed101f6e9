/* store_action.c - the codes of action links (store.h, schema version 10): a code stands
 * for (ticket, contact) until it expires or is used; only its hash is stored, so that a
 * copy of the database holds no usable link. On the SQL seam (store_db.h). */
#include "store.h"
#include "store_db.h"
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
    struct db_stmt *st = store_stmt(s, sql_action_add, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, code_hash);
    db_bind_int64(st, 2, ticket_id);
    db_bind_text(st, 3, contact);
    db_bind_int64(st, 4, created_ms);
    db_bind_int64(st, 5, expires_ms);
    return store_db_write(s, st, "storing an action link", reterr);
}

static int dup_column(struct db_stmt *st, int i, char **ret)
{
    const char *v = db_column_text(st, i);
    *ret = v ? strdup(v) : NULL;
    return v && !*ret ? -ENOMEM : 0;
}

struct action_read {
    struct action_link *a;
    bool found;
};

/* The row of sql_action_find into ctx's link (its texts copied). */
static int action_row(void *ctx, struct db_stmt *st)
{
    struct action_read *rd = ctx;
    struct action_link *a = rd->a;
    rd->found = true;
    a->id = db_column_int64(st, 0);
    a->ticket_id = db_column_int64(st, 1);
    a->created_ms = db_column_int64(st, 3);
    a->expires_ms = db_column_int64(st, 4);
    a->used_ms = store_column_time(st, 5);
    if (dup_column(st, 2, &a->contact) < 0 || dup_column(st, 6, &a->used_action) < 0 || !a->contact)
        return -ENOMEM;
    return 1; /* code_hash is unique: one row */
}

int store_action_find(struct store *s, const char *code_hash, struct action_link *ret,
                      struct slad_error *reterr)
{
    struct db_stmt *st = store_stmt(s, sql_action_find, reterr);
    if (!st)
        return -EIO;
    db_bind_text(st, 1, code_hash);
    struct action_link a;
    memset(&a, 0, sizeof(a));
    struct action_read rd = {&a, false};
    int r = store_db_rows(st, "finding an action link", action_row, &rd, reterr);
    if (r == -ENOMEM)
        slad_error_set(reterr, ENOMEM, "database: out of memory reading an action link");
    else if (r == 0 && !rd.found)
        r = slad_error_set(reterr, ENOENT, "no such action link");
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
    struct db_stmt *st = store_stmt(s, sql_action_use, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, id);
    db_bind_int64(st, 2, now_ms);
    db_bind_text(st, 3, action);
    int64_t changed;
    int r = store_db_run_changes(s, st, "using an action link", &changed, reterr);
    if (r < 0)
        return r;
    if (changed == 0)
        return slad_error_set(reterr, EALREADY, "action link %" PRId64 " was already used", id);
    return 0;
}

int store_action_purge(struct store *s, int64_t before_ms, struct slad_error *reterr)
{
    return store_db_write_id(s, sql_action_purge, before_ms, "purging action links", reterr);
}
