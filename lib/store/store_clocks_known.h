/* store_clocks_known.h - which clock rows of which tickets the store knows the database
 * holds, with their values, inside store_begin's transaction (store_clocks_known.c): what
 * lets a ticket's write skip a clock that did not change and update only the columns of one
 * that did (store_clock_write.c). Not for use outside lib/store. */
#ifndef SLAD_STORE_CLOCKS_KNOWN_H
#define SLAD_STORE_CLOCKS_KNOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "ticket.h"

struct clocks_known;

/* What writing clock i of a ticket needs, compared with the row the database holds. */
enum clock_change {
    CLOCK_SAME,  /* every column holds the value already: nothing to write */
    CLOCK_PLAIN, /* only columns no index or trigger reads changed (a step's fired count) */
    CLOCK_FULL,  /* an indexed column changed: every column */
    CLOCK_NEW,   /* no row known under its name: insert (or upsert) */
};

void clocks_known_free(struct clocks_known *k);

/* Everything forgotten: the transaction ended or (part of it) rolled back, so the rows may
 * no longer hold what was read or written. */
void store_clocks_known_forget_all(struct store *s);

/* Ticket id's rows forgotten (they were deleted, or a write of them failed). */
void store_clocks_known_forget(struct store *s, int64_t ticket_id);

/* t's clocks (t->n_clocks of them, in their order) are exactly the rows the database holds
 * for t->id now, and its labels rows 0..t->n_labels-1: just loaded for update, or just
 * written. Noted only inside store_begin's
 * transaction (outside it, another connection may change them at any moment). */
void store_clocks_known_note(struct store *s, const struct ticket *t);

/* The rows known for t->id: NULL when none are (then every clock is written as before). */
const struct clocks_known_ticket *store_clocks_known_find(struct store *s, int64_t ticket_id);

/* Whether the ticket's columns copied into every clock row (policy, reported_at_ms, team,
 * region, assignee) hold t's values in the rows known for t. */
bool clocks_known_copies_same(const struct clocks_known_ticket *k, const struct ticket *t);

/* What clock i of t needs, given the rows known for t (store_clocks_known_find) and
 * whether their copies of the ticket's columns are the same (clocks_known_copies_same). */
enum clock_change clocks_known_change(const struct clocks_known_ticket *k, const struct ticket *t,
                                      size_t i, bool copies_same);

/* Whether a row known for t has a name none of t's clocks has (a policy changed): only then
 * must the rows t no longer has be deleted. */
bool clocks_known_has_others(const struct clocks_known_ticket *k, const struct ticket *t);

/* Whether the label rows known for t->id are no more than t's labels: then none is past
 * t's last, and the DELETE of those can be left out (it cost a step 31k instructions
 * deleting nothing). False when nothing is known. */
bool store_known_labels_within(struct store *s, const struct ticket *t);

/* Clock statements run since the store opened: the tests' view of what a write cost. */
uint64_t store_clock_statements(struct store *s);
void store_clock_statement_ran(struct store *s);

#endif
