/* deliver.h - the outbox's delivery on the daemon's loop (SPEC 3): due rows are marked
 * `sending` in the loop's transaction, sent once that is committed (libcurl's multi
 * socket API on libev for HTTP and SMTP, an O_APPEND write for the file channel), and
 * their outcome (sent, retry later, dead) written back through the same group commit.
 * At-least-once: rows a crash leaves `sending` are sent again, with the same key, after
 * the next start; a row whose 2xx was recorded is never sent again. */
#ifndef SLAD_DELIVER_H
#define SLAD_DELIVER_H

#include <ev.h>
#include <stdbool.h>

#include "conf.h"

struct batch;
struct metrics;
struct service;
struct store;
struct deliver;

/* *confp is read at each use, so that a reload's new config applies to the next attempt.
 * store is the service's (the outbox's rows are read and written directly). */
struct deliver *deliver_new(struct ev_loop *loop, struct service *svc, struct store *store,
                            struct batch *batch, const struct conf *const *confp,
                            struct metrics *metrics);
/* Abandons what is still in flight (those rows stay `sending`; re-sent after a restart). */
void deliver_free(struct deliver *d);

/* Start-up, and each gain of the scheduler lease: rows left `sending` by a crash or by a
 * scheduler that lost its lease go back to pending (a scheduler write: the batch is
 * fenced), to be sent again with their unchanged key; then look for work. */
int deliver_start(struct deliver *d);

/* Deliver only while may_act(userdata) (the scheduler lease, scheduler.h). Closed: no
 * pick, no new attempt, and an attempt in flight that ends records nothing (its row stays
 * `sending` for the scheduler to send again); deliver_start when it opens again. */
typedef bool deliver_gate_fn(void *userdata);
void deliver_set_gate(struct deliver *d, deliver_gate_fn *may_act, void *userdata);

/* After every commit: new rows may be due. Cheap when nothing is. */
void deliver_kick(struct deliver *d);

/* Graceful stop: no new attempt starts; the attempts in flight may finish, so that their
 * outcome is recorded rather than sent again after the restart, for up to
 * DELIVER_DRAIN_MS; then they are abandoned (their rows stay `sending`). */
#define DELIVER_DRAIN_MS 3000
void deliver_stop(struct deliver *d);

/* Attempts started or about to start (0 once drained): the loop stops when this is 0. */
size_t deliver_in_flight(const struct deliver *d);

#endif
