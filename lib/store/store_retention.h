/* store_retention.h - purging what retention no longer keeps (the daemon's `retention`):
 * closed and cancelled tickets whose last event is older than the cutoff, with their
 * clocks, labels, history, follow-up tasks and notifications (and a grouped message,
 * which has no ticket, with its last member), a small batch at a time.
 *
 * A ticket is purged only when nothing about it is still going on: it is kept (and seen
 * again by a later pass) while one of its follow-up tasks is open or was completed at or
 * after the cutoff (a follow-up report would lose it), or while one of its notifications
 * is pending or being sent (a delivery is never dropped). Its notifications are then all
 * sent or dead. Tickets reported at or after the cutoff are never purged (their last
 * event is not older than their report), so SLA reports over periods that start at or
 * after the cutoff keep every ticket, and so does the repeat-fault count of a ticket
 * reported now when the retention is at least the repeat-fault window (conf.c refuses a
 * shorter one). The gauges (table counts) follow through their triggers.
 *
 * Every call runs in the caller's transaction; errors as in store.h. */
#ifndef SLAD_STORE_RETENTION_H
#define SLAD_STORE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Where a pass goes on: candidates come in (last_event_ms, id) order after this one.
 * STORE_PURGE_START for a new pass. */
struct store_purge_cursor {
    int64_t last_event_ms;
    int64_t id;
};
#define STORE_PURGE_START ((struct store_purge_cursor){INT64_MIN, 0})

/* What a batch did (added to, so that a pass can sum its batches). */
struct store_purge_counts {
    int64_t tickets, clocks, history, followups, outbox; /* rows deleted (labels uncounted) */
    int64_t kept; /* old enough, but kept: an open or recent follow-up, a pending delivery */
};

/* One batch of a pass: visit candidates (closed or cancelled, last event before
 * cutoff_ms) from *cursor on, purging those nothing keeps, until max_rows rows were
 * deleted or looked at (each candidate counts one, each deleted row one). A ticket with
 * more rows than the batch has room for loses them over several batches, its ticket row
 * last. *cursor moves on; *ret_more is false when the pass has visited every candidate
 * (start the next pass from STORE_PURGE_START). */
int store_purge_batch(struct store *s, int64_t cutoff_ms, size_t max_rows,
                      struct store_purge_cursor *cursor, struct store_purge_counts *counts,
                      bool *ret_more, struct slad_error *reterr);

#endif
