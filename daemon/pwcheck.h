/* pwcheck.h - password checks off the event loop. crypt(3) is slow on purpose (yescrypt
 * takes tens of milliseconds): one worker thread verifies, a bounded queue holds what
 * waits, and each result comes back on the loop (an ev_async) to the caller's callback.
 * A full queue refuses at once (-EBUSY): a flood of sign-ins cannot queue up unbounded
 * work or hold the loop. */
#ifndef SLAD_PWCHECK_H
#define SLAD_PWCHECK_H

#include <ev.h>
#include <stdbool.h>

/* Called on the loop with whether the password matched the hash. */
typedef void pwcheck_done_fn(void *userdata, bool match);

struct pwcheck;
struct pwcheck_job;

/* At most queue_max checks wait or run at once; the worker starts with the first. NULL
 * when out of memory. */
struct pwcheck *pwcheck_new(struct ev_loop *loop, unsigned queue_max);
/* Joins the worker; pending checks are dropped without their callbacks. */
void pwcheck_free(struct pwcheck *p);

/* Check password against hash (both copied; the copy of the password is wiped after
 * use); done runs on the loop later, never from inside this call. Returns the job (for
 * pwcheck_cancel), or NULL with *ret_busy true when the queue is full, false when out of
 * memory or the worker could not start. */
struct pwcheck_job *pwcheck_submit(struct pwcheck *p, const char *password, const char *hash,
                                   pwcheck_done_fn *done, void *userdata, bool *ret_busy);
/* The caller is gone: the job's callback will not run. */
void pwcheck_cancel(struct pwcheck_job *job);

#endif
