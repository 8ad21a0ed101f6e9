/* agenda.h - one priority queue of every future instant the daemon must act on.
 *
 * Each entry is (instant, kind, id): at most one entry per (kind, id), so scheduling an id
 * again moves its entry. A 4-ary min-heap with an index from (kind, id) to heap position;
 * about 24 bytes per entry plus the index, so a million open tickets fit in ~40 MB.
 * The daemon arms one timer at agenda_peek()'s instant. */
#ifndef SLAD_AGENDA_H
#define SLAD_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum agenda_kind {
    AGENDA_TICKET,       /* a ticket's clocks, steps and reminders */
    AGENDA_FOLLOWUP,     /* a follow-up's due and escalation */
    AGENDA_NOTIFICATION, /* an outbox row's next delivery attempt */
    AGENDA_PLAN,         /* a maintenance plan's next occurrence */
    AGENDA_KIND_COUNT
};

struct agenda_entry {
    int64_t at_ms;
    int64_t id;
    enum agenda_kind kind;
};

struct agenda;

struct agenda *agenda_new(void);
void agenda_free(struct agenda *a);

/* Put (kind, id) at at_ms, replacing an existing entry; at_ms == INT64_MAX removes it.
 * -ENOMEM on allocation failure (the agenda is unchanged). */
int agenda_schedule(struct agenda *a, enum agenda_kind kind, int64_t id, int64_t at_ms);
void agenda_remove(struct agenda *a, enum agenda_kind kind, int64_t id);

/* The earliest entry; false when empty. */
bool agenda_peek(const struct agenda *a, struct agenda_entry *ret);
/* Remove and return the earliest entry if its instant is <= now_ms. */
bool agenda_pop_due(struct agenda *a, int64_t now_ms, struct agenda_entry *ret);

/* Instant of (kind, id) or INT64_MAX. */
int64_t agenda_when(const struct agenda *a, enum agenda_kind kind, int64_t id);
size_t agenda_size(const struct agenda *a);

#endif
