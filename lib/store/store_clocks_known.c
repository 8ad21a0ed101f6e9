/* store_clocks_known.c - the clock rows the database holds (and how many label rows), as
 * last loaded for update or written inside store_begin's transaction (store_clocks_known.h).
 *
 * Why: every ticket write ran one INSERT ... ON CONFLICT DO UPDATE per clock, about 48k
 * instructions each even when nothing changed (doc/PERFORMANCE.md, round four); a step
 * changes one clock of two, and mostly only its fired count. Knowing what the rows hold,
 * the write skips the clocks that are the same and updates the others in place.
 *
 * When the knowledge holds: only inside the transaction of store_begin, from a load for
 * update (on PostgreSQL the ticket's row is locked until the commit, and every writer of a
 * ticket's clocks locks it first; SQLite has one writer) or from the store's own write.
 * The transaction's end, any rollback (of it or of a savepoint) and a failed write forget
 * it (store.c, store_clock_write.c); a ticket's purge forgets that ticket. A row changed
 * behind the store inside its own transaction is the one case it cannot see; nothing in
 * slad does that.
 *
 * Values are kept as the row stores them: a time that binds as NULL (SLAD_NO_TIME, the
 * "never" INT64_MAX) as SLAD_NO_TIME, risk_at_ms only for a running clock. The copies of
 * the ticket's columns in each clock row (policy, reported_at_ms, team, region, assignee)
 * are taken from the ticket: every write of the clocks writes them from it. A load reads a
 * clock's position as its place in pos order; the store writes positions 0..n-1. */
#include "store_clocks_known.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* Tickets known at once, by id modulo the slots: an operation works on one ticket, a batch
 * on a few at a time; one pushed out is written as if unknown. */
#define KNOWN_SLOTS 8
/* Room for the ticket's copied texts; longer ones are not noted (written as before). */
#define KNOWN_TEXT 240

enum { COPY_POLICY, COPY_TEAM, COPY_REGION, COPY_ASSIGNEE, COPY_COUNT };

struct clocks_known_ticket {
    int64_t id;          /* 0: empty */
    uint64_t generation; /* known only while equal to clocks_known.generation */
    int64_t reported_at_ms;
    int copy_at[COPY_COUNT]; /* offset in text, -1 for NULL */
    char text[KNOWN_TEXT];
    size_t n_labels; /* the ticket's label rows (positions 0..n-1) */
    size_t n_clocks;
    struct slaclock clocks[TICKET_MAX_CLOCKS]; /* as stored */
};

struct clocks_known {
    uint64_t generation;
    struct clocks_known_ticket slots[KNOWN_SLOTS];
};

void clocks_known_free(struct clocks_known *k)
{
    free(k);
}

static int64_t stored_time(int64_t v)
{
    return v == INT64_MAX ? SLAD_NO_TIME : v;
}

static int64_t stored_risk(const struct slaclock *c)
{
    return c->state == SLACLOCK_RUNNING ? stored_time(c->risk_at_ms) : SLAD_NO_TIME;
}

static void copies_of(const struct ticket *t, const char *copy[COPY_COUNT])
{
    copy[COPY_POLICY] = t->policy;
    copy[COPY_TEAM] = t->team;
    copy[COPY_REGION] = t->region;
    copy[COPY_ASSIGNEE] = t->assignee;
}

static struct clocks_known_ticket *slot_of(struct clocks_known *k, int64_t id)
{
    return &k->slots[(uint64_t)id % KNOWN_SLOTS];
}

void store_clocks_known_forget_all(struct store *s)
{
    if (s->clocks_known)
        s->clocks_known->generation++;
}

void store_clocks_known_forget(struct store *s, int64_t ticket_id)
{
    if (!s->clocks_known)
        return;
    struct clocks_known_ticket *e = slot_of(s->clocks_known, ticket_id);
    if (e->id == ticket_id)
        e->id = 0;
}

/* Inside store_begin's transaction, still open (SQLite may have rolled it back itself). */
static bool knowable(struct store *s)
{
    return s->in_begin && db_in_transaction(s->dbh);
}

void store_clocks_known_note(struct store *s, const struct ticket *t)
{
    if (t->id == 0 || !knowable(s) || t->n_clocks > TICKET_MAX_CLOCKS)
        return;
    if (!s->clocks_known) {
        s->clocks_known = calloc(1, sizeof(*s->clocks_known));
        if (!s->clocks_known)
            return; /* written as before, every clock */
    }
    struct clocks_known_ticket *e = slot_of(s->clocks_known, t->id);
    e->id = 0;
    const char *copy[COPY_COUNT];
    copies_of(t, copy);
    size_t used = 0;
    for (int i = 0; i < COPY_COUNT; i++) {
        e->copy_at[i] = -1;
        if (!copy[i])
            continue;
        size_t len = strlen(copy[i]) + 1;
        if (len > KNOWN_TEXT - used)
            return;
        memcpy(e->text + used, copy[i], len);
        e->copy_at[i] = (int)used;
        used += len;
    }
    e->reported_at_ms = stored_time(t->reported_at_ms);
    e->n_labels = t->n_labels;
    e->n_clocks = t->n_clocks;
    for (size_t i = 0; i < t->n_clocks; i++) {
        struct slaclock *c = &e->clocks[i];
        *c = t->clocks[i];
        c->since_ms = stored_time(c->since_ms);
        c->started_at_ms = stored_time(c->started_at_ms);
        c->stopped_at_ms = stored_time(c->stopped_at_ms);
        c->breached_at_ms = stored_time(c->breached_at_ms);
        c->due_at_ms = stored_time(c->due_at_ms);
        c->risk_at_ms = stored_risk(c);
    }
    e->generation = s->clocks_known->generation;
    e->id = t->id;
}

const struct clocks_known_ticket *store_clocks_known_find(struct store *s, int64_t ticket_id)
{
    if (!s->clocks_known || !knowable(s))
        return NULL;
    const struct clocks_known_ticket *e = slot_of(s->clocks_known, ticket_id);
    if (e->id != ticket_id || e->generation != s->clocks_known->generation)
        return NULL;
    return e;
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

bool clocks_known_copies_same(const struct clocks_known_ticket *k, const struct ticket *t)
{
    if (k->reported_at_ms != stored_time(t->reported_at_ms))
        return false;
    const char *copy[COPY_COUNT];
    copies_of(t, copy);
    for (int i = 0; i < COPY_COUNT; i++)
        if (!same_text(k->copy_at[i] < 0 ? NULL : k->text + k->copy_at[i], copy[i]))
            return false;
    return true;
}

/* The known row named name, or -1. */
static int known_index(const struct clocks_known_ticket *k, const char *name, size_t hint)
{
    if (hint < k->n_clocks && strcmp(k->clocks[hint].name, name) == 0)
        return (int)hint;
    for (size_t j = 0; j < k->n_clocks; j++)
        if (strcmp(k->clocks[j].name, name) == 0)
            return (int)j;
    return -1;
}

enum clock_change clocks_known_change(const struct clocks_known_ticket *k, const struct ticket *t,
                                      size_t i, bool copies_same)
{
    const struct slaclock *c = &t->clocks[i];
    int j = known_index(k, c->name, i);
    if (j < 0)
        return CLOCK_NEW;
    const struct slaclock *was = &k->clocks[j];
    /* The columns of clocks_period, clocks_risk and clocks_late (and of their partial
     * WHEREs) and of the breached counter's trigger. */
    if (was->state != c->state || was->elapsed_ms != c->elapsed_ms ||
        was->paused_breached != c->paused_breached || was->risk_at_ms != stored_risk(c) ||
        !copies_same)
        return CLOCK_FULL;
    if ((size_t)j != i || was->target_ms != c->target_ms ||
        was->since_ms != stored_time(c->since_ms) ||
        was->started_at_ms != stored_time(c->started_at_ms) ||
        was->stopped_at_ms != stored_time(c->stopped_at_ms) ||
        was->breached_at_ms != stored_time(c->breached_at_ms) ||
        was->due_at_ms != stored_time(c->due_at_ms) || was->stop_event != c->stop_event ||
        memcmp(was->fired, c->fired, sizeof(c->fired)) != 0)
        return CLOCK_PLAIN;
    return CLOCK_SAME;
}

bool clocks_known_has_others(const struct clocks_known_ticket *k, const struct ticket *t)
{
    for (size_t j = 0; j < k->n_clocks; j++) {
        bool kept = false;
        for (size_t i = 0; !kept && i < t->n_clocks && i < TICKET_MAX_CLOCKS; i++)
            kept = strcmp(t->clocks[i].name, k->clocks[j].name) == 0;
        if (!kept)
            return true;
    }
    return false;
}

bool store_known_labels_within(struct store *s, const struct ticket *t)
{
    const struct clocks_known_ticket *k = store_clocks_known_find(s, t->id);
    return k && k->n_labels <= t->n_labels;
}

uint64_t store_clock_statements(struct store *s)
{
    return s->clock_statements;
}

void store_clock_statement_ran(struct store *s)
{
    s->clock_statements++;
}
