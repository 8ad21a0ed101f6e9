/* store_history.c - what happened to a ticket, in the table history (store.h). On the SQL
 * seam (store_db.h).
 *
 * One operation, one row (schema version 12): the entries an operation records for one
 * ticket (a creation: "create", "policy", a "clock" per clock) are kept in the store until
 * it ends (store_release, store_commit, a savepoint opening, a read of history) and then
 * written as one row, the first entry in the row's columns and the others in more_entries;
 * one b-tree insert and one index entry instead of one each per entry. Every entry keeps
 * its own id: the row's id is its last entry's and the row takes the ids before it, so a
 * row of n entries is inserted at id max(id) + n and holds max + 1 .. max + n, the ids the
 * entries had as rows of their own. more_entries encodes each further entry as
 *     <at_ms> <created_ms> <late 0|1> <kind length>:<kind><data length, or "-" for NULL>:<data>\n
 * (lengths in bytes: any text fits, no escaping).
 *
 * Only on SQLite: its one writer makes max(id) + n safe. On PostgreSQL several instances
 * write at once and two transactions would take the same max(id); there each entry is a
 * row of its own, numbered by the table's identity, as before version 12. */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A row holds at most this many entries, this much text of them: then it is written and
 * the next entries start another. */
#define PENDING_ENTRIES_MAX 64
#define PENDING_TEXT_MAX    (256 * 1024)

#define HISTORY_COLUMNS "id, ticket_id, at_ms, created_ms, kind, data, late, more_entries"

static const char sql_history_add[] =
    "INSERT INTO history (id, ticket_id, at_ms, created_ms, kind, data, late, more_entries)"
    " VALUES ((SELECT coalesce(max(id), 0) FROM history) + ?7, ?1, ?2, ?3, ?4, ?5, ?6, ?8)"
    " RETURNING id";
static const char sql_history_add_one[] =
    "INSERT INTO history (ticket_id, at_ms, created_ms, kind, data, late)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
/* A row whose last entry is past after_id holds at least one entry to show. */
static const char sql_history_list[] = "SELECT " HISTORY_COLUMNS " FROM history"
                                       " WHERE ticket_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
/* The newest rows of one ticket, on the (ticket_id, id) index read backwards. */
static const char sql_history_latest[] = "SELECT " HISTORY_COLUMNS " FROM history"
                                         " WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2";

const char *const store_history_statements[] = {
    sql_history_add, sql_history_add_one, sql_history_list, sql_history_latest, NULL,
};

void store_history_discard(struct store *s)
{
    struct history_pending *p = &s->history;
    free(p->kind);
    free(p->data);
    char *more = p->more; /* its buffer serves the next operation (store_close frees it) */
    size_t cap = p->more_cap;
    *p = (struct history_pending){0};
    p->more = more;
    p->more_cap = cap;
}

/* Write the pending row, its last entry's id into *ret_id (may be NULL), and drop it. */
static int flush_row(struct store *s, int64_t *ret_id, struct slad_error *reterr)
{
    struct history_pending *p = &s->history;
    if (!p->ticket_id)
        return 0;
    bool packs = p->n_more > 0 || db_kind(s->dbh) == DB_SQLITE;
    struct db_stmt *st = store_stmt(s, packs ? sql_history_add : sql_history_add_one, reterr);
    int r = -EIO;
    int64_t id = 0;
    if (st) {
        db_bind_int64(st, 1, p->ticket_id);
        db_bind_int64(st, 2, p->at_ms);
        db_bind_int64(st, 3, p->created_ms);
        db_bind_text(st, 4, p->kind);
        db_bind_text(st, 5, p->data);
        db_bind_int64(st, 6, p->late ? 1 : 0);
        if (packs) {
            db_bind_int64(st, 7, 1 + p->n_more);
            if (p->n_more > 0)
                db_bind_text(st, 8, p->more);
            else
                db_bind_null(st, 8);
        }
        /* Its id is only waited for when the caller asks for it. */
        r = ret_id ? store_db_insert(s, st, "adding history", &id, reterr)
                   : store_db_write(s, st, "adding history", reterr);
    }
    store_history_discard(s);
    if (r == 0 && ret_id)
        *ret_id = id;
    return r;
}

int store_history_flush(struct store *s, struct slad_error *reterr)
{
    return flush_row(s, NULL, reterr);
}

static char *dup_or_null(const char *text, bool *failed)
{
    if (!text)
        return NULL;
    char *c = strdup(text);
    if (!c)
        *failed = true;
    return c;
}

/* Append entry h to the pending row's further entries; -ENOMEM. */
static int pending_append(struct history_pending *p, const struct history_entry *h)
{
    size_t klen = strlen(h->kind), dlen = h->data ? strlen(h->data) : 0;
    size_t need = p->more_len + klen + dlen + 96;
    if (need > p->more_cap) {
        size_t cap = p->more_cap ? p->more_cap : 512;
        while (cap < need)
            cap *= 2;
        char *more = realloc(p->more, cap);
        if (!more)
            return -ENOMEM;
        p->more = more;
        p->more_cap = cap;
    }
    char *w = p->more + p->more_len;
    size_t room = p->more_cap - p->more_len;
    int n = snprintf(w, room, "%" PRId64 " %" PRId64 " %d %zu:", h->at_ms, h->created_ms,
                     h->late ? 1 : 0, klen);
    w += n;
    memcpy(w, h->kind, klen);
    w += klen;
    if (h->data) {
        n = snprintf(w, 24, "%zu:", dlen);
        w += n;
        memcpy(w, h->data, dlen);
        w += dlen;
    } else {
        memcpy(w, "-:", 2);
        w += 2;
    }
    *w++ = '\n';
    *w = '\0';
    p->more_len = (size_t)(w - p->more);
    p->n_more++;
    return 0;
}

int store_history_add(struct store *s, const struct history_entry *h, int64_t *ret_id,
                      struct slad_error *reterr)
{
    struct history_pending *p = &s->history;
    int r = 0;
    if (p->ticket_id &&
        (p->ticket_id != h->ticket_id || p->n_more + 1 >= PENDING_ENTRIES_MAX ||
         p->more_len + strlen(h->kind) + (h->data ? strlen(h->data) : 0) > PENDING_TEXT_MAX))
        r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    if (!p->ticket_id) {
        bool failed = false;
        p->kind = dup_or_null(h->kind, &failed);
        p->data = dup_or_null(h->data, &failed);
        if (failed) {
            store_history_discard(s);
            return slad_error_set(reterr, ENOMEM, "out of memory recording history");
        }
        p->ticket_id = h->ticket_id;
        p->at_ms = h->at_ms;
        p->created_ms = h->created_ms;
        p->late = h->late;
        p->more_len = 0;
        p->n_more = 0;
    } else if (pending_append(p, h) < 0) {
        store_history_discard(s);
        return slad_error_set(reterr, ENOMEM, "out of memory recording history");
    }
    /* Outside a transaction (or when the caller needs the id, or on PostgreSQL) the row is
     * written now. */
    if (!ret_id && db_in_transaction(s->dbh) && db_kind(s->dbh) == DB_SQLITE)
        return 0;
    return flush_row(s, ret_id, reterr);
}

/* Parse the decimal at *pos (a leading '-' when negative_ok), ended by stop; -1 when there
 * is none or it overflows (a negative value is returned through *ret). */
static int parse_number(char **pos, char stop, bool negative_ok, int64_t *ret)
{
    char *c = *pos;
    int64_t v = 0;
    bool negative = negative_ok && *c == '-';
    if (negative)
        c++;
    if (*c < '0' || *c > '9')
        return -1;
    while (*c >= '0' && *c <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*c++ - '0');
    }
    if (*c != stop)
        return -1;
    *pos = c + 1;
    *ret = negative ? -v : v;
    return 0;
}

/* The further entries of a row, parsed in place in text (a copy of more_entries) into
 * v[1..] (v[0] is the row's own entry, their template); how many entries v then holds, or
 * -1 when the text is damaged. v has room for cap entries. */
static long parse_more(char *text, struct history_entry *v, size_t cap)
{
    size_t n = 1;
    char *pos = text;
    while (*pos) {
        if (n >= cap)
            return -1;
        struct history_entry *e = &v[n];
        *e = v[0];
        int64_t at, created, late, klen, dlen;
        if (parse_number(&pos, ' ', true, &at) < 0 || parse_number(&pos, ' ', true, &created) < 0 ||
            parse_number(&pos, ' ', false, &late) < 0 || late > 1 ||
            parse_number(&pos, ':', false, &klen) < 0 || (uint64_t)klen > strlen(pos))
            return -1;
        e->at_ms = at;
        e->created_ms = created;
        e->late = late == 1;
        e->kind = pos;
        pos += klen;
        if (pos[0] == '-' && pos[1] == ':') {
            *pos = '\0';
            e->data = NULL;
            pos += 2;
        } else {
            char *dpos = pos;
            if (parse_number(&dpos, ':', false, &dlen) < 0 || (uint64_t)dlen > strlen(dpos))
                return -1;
            *pos = '\0'; /* ends the kind: the length after it is read */
            e->data = dpos;
            pos = dpos + dlen;
        }
        if (*pos != '\n')
            return -1;
        *pos++ = '\0';
        n++;
    }
    return (long)n;
}

struct history_walk {
    history_entry_fn *fn;
    void *userdata;
    int64_t after_id; /* the entries with an id past it */
    size_t limit;     /* 0: all */
    size_t shown;
    bool newest_first;
    struct slad_error *reterr;
};

/* The entries of a row of columns HISTORY_COLUMNS to the caller's fn, in id order or
 * newest first; 1 once limit entries are shown. */
static int history_row(void *ctx, struct db_stmt *st)
{
    struct history_walk *w = ctx;
    struct history_entry one[1];
    struct history_entry *v = one;
    char *text = NULL;
    int64_t row_id = db_column_int64(st, 0);
    one[0] = (struct history_entry){
        .id = row_id,
        .ticket_id = db_column_int64(st, 1),
        .at_ms = db_column_int64(st, 2),
        .created_ms = db_column_int64(st, 3),
        .kind = db_column_text(st, 4),
        .data = db_column_text(st, 5),
        .late = db_column_int64(st, 6) != 0,
    };
    long n = 1;
    const char *more = db_column_text(st, 7);
    if (more && more[0]) {
        size_t cap = 2; /* at most one further entry per line */
        for (const char *c = more; *c; c++)
            cap += *c == '\n';
        text = strdup(more);
        v = text ? calloc(cap, sizeof(*v)) : NULL;
        if (!v) {
            free(text);
            return slad_error_set(w->reterr, ENOMEM, "out of memory listing history");
        }
        v[0] = one[0];
        n = parse_more(text, v, cap);
        if (n < 0) {
            free(v);
            free(text);
            return slad_error_set(w->reterr, EIO,
                                  "database: history row %" PRId64 " of ticket %" PRId64
                                  " is damaged (more_entries); restore a backup",
                                  row_id, one[0].ticket_id);
        }
    }
    /* The row's entries hold the ids up to its own. */
    for (long i = 0; i < n; i++)
        v[i].id = row_id - (n - 1) + i;
    int r = 0;
    for (long k = 0; k < n && r == 0; k++) {
        const struct history_entry *e = &v[w->newest_first ? n - 1 - k : k];
        if (e->id <= w->after_id)
            continue;
        r = w->fn(w->userdata, e);
        if (r == 0 && w->limit && ++w->shown >= w->limit)
            r = 1;
    }
    if (v != one)
        free(v);
    free(text);
    return r;
}

int store_history_list(struct store *s, int64_t ticket_id, int64_t after_id, size_t limit,
                       history_entry_fn *fn, void *userdata, struct slad_error *reterr)
{
    int r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    struct db_stmt *st = store_stmt(s, sql_history_list, reterr);
    if (!st)
        return -EIO;
    db_bind_int64(st, 1, ticket_id);
    db_bind_int64(st, 2, after_id);
    db_bind_limit(st, 3, limit); /* a row holds at least one entry to show */
    struct history_walk w = {fn, userdata, after_id, limit, 0, false, reterr};
    return store_db_rows(st, "listing history", history_row, &w, reterr);
}

int store_history_latest(struct store *s, int64_t ticket_id, size_t limit, history_entry_fn *fn,
                         void *userdata, struct slad_error *reterr)
{
    int r = store_history_flush(s, reterr);
    if (r < 0)
        return r;
    struct db_stmt *st = store_db_latest(s, sql_history_latest, ticket_id, limit, reterr);
    if (!st)
        return -EIO;
    struct history_walk w = {fn, userdata, INT64_MIN, limit, 0, true, reterr};
    return store_db_rows(st, "listing history", history_row, &w, reterr);
}
