/* store_clock_write.h - a ticket's clocks written to the table clocks (store_clock_write.c),
 * for store_ticket.c. Not for use outside lib/store. */
#ifndef SLAD_STORE_CLOCK_WRITE_H
#define SLAD_STORE_CLOCK_WRITE_H

#include "error.h"
#include "store.h"
#include "ticket.h"

/* The clocks of t, a ticket just inserted: one row each. */
int store_clocks_insert(struct store *s, const struct ticket *t, struct slad_error *reterr);

/* The clocks of t, a ticket whose row was just updated: only what changed is written, the
 * rows t no longer has are deleted. */
int store_clocks_update(struct store *s, const struct ticket *t, struct slad_error *reterr);

/* The clocks of t, a ticket loaded and changed in this transaction, queued (store_db_queue)
 * as upserts with the delete of the rows t no longer has; the caller collects them with
 * db_sync. For a reload's batches. */
int store_clocks_queue_rewrite(struct store *s, const struct ticket *t, struct slad_error *reterr);

#endif
