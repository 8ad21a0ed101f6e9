/* store_gauges.c - the gauges of /healthz, /metrics and STATUS= (store.h), read from the
 * table counts that triggers keep (schema version 4). */
#include "store.h"
#include "store_internal.h"

#include <string.h>

static const char sql_counts[] = "SELECT what, n FROM counts";

const char *const store_gauges_statements[] = {sql_counts, NULL};

int store_gauges(struct store *s, struct gauges *ret, struct slad_error *reterr)
{
    struct gauges c;
    memset(&c, 0, sizeof(c));
    sqlite3_stmt *st = store_prepared(s, sql_counts, reterr);
    if (!st)
        return -EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *what = column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
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
    int r = rc == SQLITE_DONE ? 0 : store_fail(s, rc, "reading the counts", reterr);
    sqlite3_reset(st);
    if (r < 0)
        return r;
    *ret = c;
    return 0;
}
