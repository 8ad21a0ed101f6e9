/* store_followup.h - follow-up tasks in the database (table followups, store.c's schema
 * version 2). Every call runs in the caller's transaction; errors as in store.h. */
#ifndef SLAD_STORE_FOLLOWUP_H
#define SLAD_STORE_FOLLOWUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "followup.h"
#include "records.h"
#include "store.h"

/* Insert f (f->id is set). A task that exists already (same ticket, name and generation,
 * or same plan, name and due instant) is not inserted again: -EEXIST. */
int store_followup_insert(struct store *s, struct followup *f, int64_t next_ms,
                          struct slad_error *reterr);
/* Write back state, outcome, note, done_by, done_ms, fired and next_ms. */
int store_followup_update(struct store *s, const struct followup *f, int64_t next_ms,
                          struct slad_error *reterr);
/* -ENOENT when unknown. */
int store_followup_load(struct store *s, int64_t id, struct followup *ret,
                        struct slad_error *reterr);

/* The open tasks of ticket_id with ids above after_id, in id order, at most max into
 * ret[0..*ret_n). */
int store_followup_open_of_ticket(struct store *s, int64_t ticket_id, int64_t after_id,
                                  struct followup *ret, size_t max, size_t *ret_n,
                                  struct slad_error *reterr);
/* Cancel the open tasks of a plan (a deleted plan); their ids go to fn (so that the
 * agenda drops them). */
typedef int store_followup_id_fn(void *userdata, int64_t id);
int store_followup_cancel_plan(struct store *s, int64_t plan_id, store_followup_id_fn *fn,
                               void *userdata, struct slad_error *reterr);

/* Tasks matching filter (records.h), in id order. */
int store_followup_list(struct store *s, const struct followup_filter *filter, followup_row_fn *fn,
                        void *userdata, struct slad_error *reterr);

/* Start-up: (id, next_ms) of every task with a next instant. */
int store_followup_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                               struct slad_error *reterr);

#endif
