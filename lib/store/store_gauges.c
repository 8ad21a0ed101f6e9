/* store_gauges.c - the gauges of /healthz, /metrics and STATUS= (store.h), read from the
 * table counts that triggers keep (schema version 4). On the SQL seam (store_db.h). */
#include "store.h"
#include "store_db.h"
#include "store_internal.h"

#include <errno.h>
#include <string.h>

static const char sql_counts[] = "SELECT what, n FROM counts";

const char *const store_gauges_statements[] = {sql_counts, NULL};

int store_gauges(struct store *s, struct gauges *ret, struct slad_error *reterr)
{
    struct gauges c;
    memset(&c, 0, sizeof(c));
    struct db_stmt *st = store_stmt(s, sql_counts, reterr);
    if (!st)
        return -EIO;
    int r;
    while ((r = db_step(st, "reading the counts", reterr)) == 1) {
        const char *what = db_column_text(st, 0);
        int64_t n = db_column_int64(st, 1);
        int i;
        if (!what)
            continue;
        if (strncmp(what, "ticket ", 7) == 0 && (i = ticket_status_from_name(what + 7)) >= 0)
            c.tickets[i] = n;
        else if (strncmp(what, "outbox ", 7) == 0 && (i = outbox_state_from_name(what + 7)) >= 0)
            c.notifications[i] = n;
        else if (strcmp(what, "breached") == 0)
            c.breached_clocks = n;
    }
    db_reset(st);
    if (r < 0)
        return r;
    *ret = c;
    return 0;
}
