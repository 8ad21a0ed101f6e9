/* agenda.c - the one priority queue of future instants: a 4-ary min-heap plus an
 * open-addressing index from (kind, id) to heap position.
 *
 * Heap entries are 24 bytes: the instant, the id, the kind and the index slot that points
 * back at the entry, so moving an entry in the heap updates its slot in O(1) without a
 * lookup. The index is a power-of-two table of 32-bit heap positions (+1, 0 = empty) with
 * linear probing and backward-shift deletion (no tombstones, so lookups never degrade),
 * kept at most half full: 4..16 bytes per entry. Ties on the instant are broken by kind,
 * then id, so the order of pops never depends on the order of scheduling. Every
 * allocation happens before the first change, so -ENOMEM leaves the agenda as it was. */
#include "agenda.h"

#include <errno.h>
#include <stdlib.h>

struct heap_entry {
    int64_t at_ms;
    int64_t id;
    uint32_t kind;
    uint32_t slot; /* index slot holding this entry's position */
};

struct agenda {
    struct heap_entry *heap;
    size_t n, cap;
    uint32_t *index;  /* heap position + 1, or 0 when empty */
    size_t index_cap; /* power of two */
};

#define HEAP_MIN_CAP  16
#define INDEX_MIN_CAP 32
/* Positions and slots are 32-bit: about two billion entries at most. */
#define AGENDA_MAX_ENTRIES ((size_t)1 << 30)

static uint64_t key_hash(uint32_t kind, int64_t id)
{
    /* splitmix64's finaliser: ids are small consecutive integers, which must spread. */
    uint64_t x = (uint64_t)id * 4 + kind;
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static bool entry_less(const struct heap_entry *a, const struct heap_entry *b)
{
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    if (a->kind != b->kind)
        return a->kind < b->kind;
    return a->id < b->id;
}

/* The slot of (kind, id), or the empty slot where it would go. */
static size_t index_find(const struct agenda *a, uint32_t kind, int64_t id, bool *ret_found)
{
    size_t mask = a->index_cap - 1;
    size_t i = key_hash(kind, id) & mask;
    for (;;) {
        uint32_t v = a->index[i];
        if (v == 0) {
            *ret_found = false;
            return i;
        }
        const struct heap_entry *e = &a->heap[v - 1];
        if (e->id == id && e->kind == kind) {
            *ret_found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Remove slot i, shifting later members of its probe run back (Knuth's algorithm R). */
static void index_delete(struct agenda *a, size_t i)
{
    size_t mask = a->index_cap - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = a->index[j];
        if (v == 0)
            break;
        struct heap_entry *e = &a->heap[v - 1];
        size_t home = key_hash(e->kind, e->id) & mask;
        /* Move j to i unless its home lies cyclically in (i, j]. */
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        a->index[i] = v;
        e->slot = (uint32_t)i;
        i = j;
    }
    a->index[i] = 0;
}

/* Rebuild the index at capacity cap (a power of two, > 2 * n). */
static int index_resize(struct agenda *a, size_t cap)
{
    uint32_t *index = calloc(cap, sizeof(*index));
    if (!index)
        return -ENOMEM;
    free(a->index);
    a->index = index;
    a->index_cap = cap;
    for (size_t p = 0; p < a->n; p++) {
        bool found;
        size_t slot = index_find(a, a->heap[p].kind, a->heap[p].id, &found);
        a->index[slot] = (uint32_t)(p + 1);
        a->heap[p].slot = (uint32_t)slot;
    }
    return 0;
}

static void heap_place(struct agenda *a, size_t pos, const struct heap_entry *e)
{
    a->heap[pos] = *e;
    a->index[e->slot] = (uint32_t)(pos + 1);
}

static void sift_up(struct agenda *a, size_t pos)
{
    struct heap_entry e = a->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 4;
        if (!entry_less(&e, &a->heap[parent]))
            break;
        heap_place(a, pos, &a->heap[parent]);
        pos = parent;
    }
    heap_place(a, pos, &e);
}

static void sift_down(struct agenda *a, size_t pos)
{
    struct heap_entry e = a->heap[pos];
    for (;;) {
        size_t first = pos * 4 + 1;
        if (first >= a->n)
            break;
        size_t best = first;
        size_t end = first + 4 < a->n ? first + 4 : a->n;
        for (size_t c = first + 1; c < end; c++)
            if (entry_less(&a->heap[c], &a->heap[best]))
                best = c;
        if (!entry_less(&a->heap[best], &e))
            break;
        heap_place(a, pos, &a->heap[best]);
        pos = best;
    }
    heap_place(a, pos, &e);
}

/* Shrink the arrays after removals; a failed shrink is harmless. */
static void maybe_shrink(struct agenda *a)
{
    if (a->cap > HEAP_MIN_CAP && a->n < a->cap / 4) {
        size_t cap = a->cap / 2;
        struct heap_entry *heap = realloc(a->heap, cap * sizeof(*heap));
        if (heap) {
            a->heap = heap;
            a->cap = cap;
        }
    }
    if (a->index_cap > INDEX_MIN_CAP && a->n < a->index_cap / 8)
        (void)index_resize(a, a->index_cap / 2);
}

static void remove_at(struct agenda *a, size_t pos)
{
    index_delete(a, a->heap[pos].slot);
    a->n--;
    if (pos < a->n) {
        struct heap_entry last = a->heap[a->n];
        heap_place(a, pos, &last);
        if (pos > 0 && entry_less(&a->heap[pos], &a->heap[(pos - 1) / 4]))
            sift_up(a, pos);
        else
            sift_down(a, pos);
    }
    maybe_shrink(a);
}

struct agenda *agenda_new(void)
{
    struct agenda *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->heap = malloc(HEAP_MIN_CAP * sizeof(*a->heap));
    a->index = calloc(INDEX_MIN_CAP, sizeof(*a->index));
    if (!a->heap || !a->index) {
        agenda_free(a);
        return NULL;
    }
    a->cap = HEAP_MIN_CAP;
    a->index_cap = INDEX_MIN_CAP;
    return a;
}

void agenda_free(struct agenda *a)
{
    if (!a)
        return;
    free(a->heap);
    free(a->index);
    free(a);
}

int agenda_schedule(struct agenda *a, enum agenda_kind kind, int64_t id, int64_t at_ms)
{
    if (at_ms == INT64_MAX) {
        agenda_remove(a, kind, id);
        return 0;
    }
    bool found;
    size_t slot = index_find(a, (uint32_t)kind, id, &found);
    if (found) {
        size_t pos = a->index[slot] - 1;
        int64_t old_ms = a->heap[pos].at_ms;
        a->heap[pos].at_ms = at_ms;
        if (at_ms < old_ms)
            sift_up(a, pos);
        else if (at_ms > old_ms)
            sift_down(a, pos);
        return 0;
    }
    if (a->n >= AGENDA_MAX_ENTRIES)
        return -ENOMEM;
    /* Grow both arrays before touching anything. */
    if (a->n == a->cap) {
        struct heap_entry *heap = realloc(a->heap, a->cap * 2 * sizeof(*heap));
        if (!heap)
            return -ENOMEM;
        a->heap = heap;
        a->cap *= 2;
    }
    if ((a->n + 1) * 2 > a->index_cap) {
        if (index_resize(a, a->index_cap * 2) < 0)
            return -ENOMEM;
        slot = index_find(a, (uint32_t)kind, id, &found);
    }
    size_t pos = a->n++;
    a->heap[pos] = (struct heap_entry){
        .at_ms = at_ms, .id = id, .kind = (uint32_t)kind, .slot = (uint32_t)slot};
    a->index[slot] = (uint32_t)(pos + 1);
    sift_up(a, pos);
    return 0;
}

void agenda_remove(struct agenda *a, enum agenda_kind kind, int64_t id)
{
    bool found;
    size_t slot = index_find(a, (uint32_t)kind, id, &found);
    if (found)
        remove_at(a, a->index[slot] - 1);
}

bool agenda_peek(const struct agenda *a, struct agenda_entry *ret)
{
    if (a->n == 0)
        return false;
    *ret = (struct agenda_entry){
        .at_ms = a->heap[0].at_ms, .id = a->heap[0].id, .kind = (enum agenda_kind)a->heap[0].kind};
    return true;
}

bool agenda_pop_due(struct agenda *a, int64_t now_ms, struct agenda_entry *ret)
{
    struct agenda_entry head;
    if (!agenda_peek(a, &head) || head.at_ms > now_ms)
        return false;
    remove_at(a, 0);
    *ret = head;
    return true;
}

int64_t agenda_when(const struct agenda *a, enum agenda_kind kind, int64_t id)
{
    bool found;
    size_t slot = index_find(a, (uint32_t)kind, id, &found);
    return found ? a->heap[a->index[slot] - 1].at_ms : INT64_MAX;
}

size_t agenda_size(const struct agenda *a)
{
    return a->n;
}
