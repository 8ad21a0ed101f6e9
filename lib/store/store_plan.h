/* store_plan.h - maintenance plans in the database (table plans, store.c's schema version
 * 2). Every call runs in the caller's transaction; errors as in store.h. */
#ifndef SLAD_STORE_PLAN_H
#define SLAD_STORE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "records.h"
#include "store.h"

/* Insert p (p->id is set); next_ms is stored as p->next_ms (INT64_MAX: NULL). */
int store_plan_insert(struct store *s, struct plan *p, struct slad_error *reterr);
/* Write back every field of p. -ENOENT when unknown. */
int store_plan_update(struct store *s, const struct plan *p, struct slad_error *reterr);
/* *ret is initialised here on success; plan_done() it. -ENOENT when unknown. */
int store_plan_load(struct store *s, int64_t id, struct plan *ret, struct slad_error *reterr);
/* -ENOENT when unknown. Its tasks keep their rows (plan_id becomes NULL). */
int store_plan_delete(struct store *s, int64_t id, struct slad_error *reterr);

/* Plans with id > after_id in id order, at most limit (0: no limit); fn as in
 * records.h. */
int store_plan_list(struct store *s, int64_t after_id, size_t limit, plan_row_fn *fn,
                    void *userdata, struct slad_error *reterr);

/* Start-up: (id, next_ms) of every plan with a next occurrence. */
int store_plan_agenda_load(struct store *s, store_agenda_fn *fn, void *userdata,
                           struct slad_error *reterr);

#endif
