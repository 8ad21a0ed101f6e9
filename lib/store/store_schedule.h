/* store_schedule.h - on-call overrides in the database (table schedule_overrides,
 * store_schema.c's version 7). The schedules themselves are configuration; only the
 * overrides, which people add and remove at run time, are stored. Every call runs in the
 * caller's transaction; errors as in store.h. */
#ifndef SLAD_STORE_SCHEDULE_H
#define SLAD_STORE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "schedule.h"
#include "store.h"

/* Insert o (o->id is set). */
int store_override_insert(struct store *s, struct schedule_override *o, struct slad_error *reterr);
/* Delete override id of schedule; -ENOENT when that schedule has no such override. */
int store_override_delete(struct store *s, const char *schedule, int64_t id,
                          struct slad_error *reterr);
/* The overrides of schedule (NULL: of every schedule) that overlap [from_ms, to_ms)
 * (INT64_MIN, INT64_MAX: all) with ids above after_id, in id order, at most limit (0: no
 * limit). fn as in schedule.h. */
int store_override_list(struct store *s, const char *schedule, int64_t from_ms, int64_t to_ms,
                        int64_t after_id, size_t limit, schedule_override_fn *fn, void *userdata,
                        struct slad_error *reterr);

#endif
