/* store_agenda_due.h - what falls due before an instant, read from the database rather
 * than from this process's agenda: with several instances on one PostgreSQL database
 * (doc/POSTGRESQL.md) a ticket, follow-up or plan written by a standby is in the
 * database only, and the scheduler learns of it here, every second, a little ahead of its
 * instant. Indexed (tickets_next, followups_next, plans_next): a read of the rows due
 * soon, not of the whole agenda. */
#ifndef SLAD_STORE_AGENDA_DUE_H
#define SLAD_STORE_AGENDA_DUE_H

#include <stdint.h>

#include "agenda.h"
#include "error.h"
#include "store.h"

/* fn(userdata, kind, id, next_ms) for every ticket, follow-up and plan whose next instant
 * is at or before until_ms. 0, or the first failure (fn's negative value or the
 * database's). */
typedef int store_agenda_due_fn(void *userdata, enum agenda_kind kind, int64_t id, int64_t next_ms);
int store_agenda_due(struct store *s, int64_t until_ms, store_agenda_due_fn *fn, void *userdata,
                     struct slad_error *reterr);

#endif
