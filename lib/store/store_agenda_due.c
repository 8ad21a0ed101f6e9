/* store_agenda_due.c - the rows due before an instant (store_agenda_due.h), one text for
 * both drivers. */
#include "store_agenda_due.h"

#include <errno.h>

#include "store_db.h"

static const char sql_tickets_due[] = "SELECT id, next_ms FROM tickets INDEXED BY tickets_next"
                                      " WHERE next_ms IS NOT NULL AND next_ms <= ?1";
static const char sql_followups_due[] =
    "SELECT id, next_ms FROM followups INDEXED BY followups_next"
    " WHERE next_ms IS NOT NULL AND next_ms <= ?1";
static const char sql_plans_due[] = "SELECT id, next_ms FROM plans INDEXED BY plans_next"
                                    " WHERE next_ms IS NOT NULL AND next_ms <= ?1";

struct due_walk {
    store_agenda_due_fn *fn;
    void *userdata;
    enum agenda_kind kind;
};

static int due_row(void *ctx, struct db_stmt *st)
{
    struct due_walk *w = ctx;
    return w->fn(w->userdata, w->kind, db_column_int64(st, 0), db_column_int64(st, 1));
}

int store_agenda_due(struct store *s, int64_t until_ms, store_agenda_due_fn *fn, void *userdata,
                     struct slad_error *reterr)
{
    static const struct {
        const char *sql;
        enum agenda_kind kind;
        const char *op;
    } tables[] = {
        {sql_tickets_due, AGENDA_TICKET, "reading the tickets due soon"},
        {sql_followups_due, AGENDA_FOLLOWUP, "reading the follow-ups due soon"},
        {sql_plans_due, AGENDA_PLAN, "reading the plans due soon"},
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        struct db_stmt *st = store_stmt(s, tables[i].sql, reterr);
        if (!st)
            return -EIO;
        db_bind_int64(st, 1, until_ms);
        struct due_walk w = {fn, userdata, tables[i].kind};
        int r = store_db_rows(st, tables[i].op, due_row, &w, reterr);
        if (r < 0)
            return r;
    }
    return 0;
}
