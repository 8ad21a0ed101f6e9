/* reader.h - long reads off the event loop: SLA reports (JSON and CSV) are computed on
 * reader threads, each with a read-only connection of its own to the database
 * (store_reader.h), and their answers come back to the loop through an ev_async. The loop
 * never waits for a reader: it validates the request (lib/api), queues it here, and goes
 * on with steps, intake and /healthz while the scan runs.
 *
 * A bounded queue holds what waits: a full one refuses at once (reader_submit's *ret_busy;
 * the request answers 503 with Retry-After), so that a flood of reports cannot queue up
 * unbounded work or memory.
 *
 * Durability: a reader's snapshot may hold a commit of the loop that is in the WAL but not
 * yet fsynced by the commit thread (batch.h). The thread does not wait for it (it cannot
 * see the batch); the loop does: a finished answer is released only once every commit
 * made before it came back is durable (batch_wait_durable), which covers every commit
 * the snapshot can hold, since the snapshot began before the answer came back. So no
 * answer shows data that a crash could still lose, as for reads on the loop. */
#ifndef SLAD_READER_H
#define SLAD_READER_H

#include <ev.h>
#include <stdbool.h>

#include "api.h"
#include "error.h"

struct store;
struct reader;
struct reader_job;

/* On the loop, with the answer (taken: the callee moves its body). Called once per job
 * that was not cancelled. */
typedef void reader_done_fn(void *userdata, struct api_response *resp);

/* threads readers (each its own connection to the database of store, the loop's, opened
 * here; each thread started by the read that needs it), at most queue_max reads waiting
 * or running. -ENOTSUP when store has no file another
 * connection can read (in memory; PostgreSQL, not done yet): reads stay on the loop.
 * Other errors: no connection or thread (reterr says why). */
int reader_new(struct ev_loop *loop, struct store *store, unsigned threads, unsigned queue_max,
               struct reader **ret, struct slad_error *reterr);
/* At stop: reads still waiting are answered 503 shutting_down, running ones are
 * interrupted (and answered so), every callback runs before it returns; then the threads
 * are joined. NULL-safe. */
void reader_free(struct reader *r);

/* Compute rd (taken, whatever happens) on a reader; done runs on the loop later, never
 * from inside this call. NULL with *ret_busy true when the queue is full, false when out
 * of memory or no reader thread could start. */
struct reader_job *reader_submit(struct reader *r, struct api_read *rd, reader_done_fn *done,
                                 void *userdata, bool *ret_busy);
/* The caller is gone: the job's callback will not run (its answer is dropped). */
void reader_cancel(struct reader_job *job);

/* Reads waiting or running (for the status line and tests). */
unsigned reader_in_flight(const struct reader *r);

#endif
