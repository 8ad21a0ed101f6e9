/* test-agenda.c - the agenda against a naive model: seeded random operations (set
 * SLAD_TEST_SEED to replay one run), permutations of the same entries, ties, removal,
 * rescheduling both ways, INT64_MAX as removal, and growth and shrink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "agenda.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* xorshift64*: reproducible from the seed on every platform. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t test_seed(void)
{
    const char *s = getenv("SLAD_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : UINT64_C(0x5eed1234abcd);
    if (seed == 0)
        seed = 1;
    return seed;
}

/* The model: a flat array scanned for everything. */
struct model_entry {
    int64_t at_ms, id;
    enum agenda_kind kind;
};

struct model {
    struct model_entry *v;
    size_t n;
};

static struct model_entry *model_find(struct model *m, enum agenda_kind kind, int64_t id)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].kind == kind && m->v[i].id == id)
            return &m->v[i];
    return NULL;
}

static bool model_less(const struct model_entry *a, const struct model_entry *b)
{
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    if (a->kind != b->kind)
        return a->kind < b->kind;
    return a->id < b->id;
}

static void model_schedule(struct model *m, enum agenda_kind kind, int64_t id, int64_t at_ms)
{
    struct model_entry *e = model_find(m, kind, id);
    if (at_ms == INT64_MAX) {
        if (e)
            *e = m->v[--m->n];
        return;
    }
    if (e) {
        e->at_ms = at_ms;
        return;
    }
    m->v[m->n++] = (struct model_entry){.at_ms = at_ms, .id = id, .kind = kind};
}

static struct model_entry *model_min(struct model *m)
{
    struct model_entry *best = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (!best || model_less(&m->v[i], best))
            best = &m->v[i];
    return best;
}

static void check_head(const struct agenda *a, struct model *m, int line)
{
    struct agenda_entry got;
    struct model_entry *want = model_min(m);
    bool have = agenda_peek(a, &got);
    if (have != (want != NULL))
        fail_msg("line %d: peek says %d, model has %zu entries", line, have, m->n);
    if (want && (got.at_ms != want->at_ms || got.id != want->id || got.kind != want->kind))
        fail_msg("line %d: head (%lld,%d,%lld), want (%lld,%d,%lld)", line, (long long)got.at_ms,
                 got.kind, (long long)got.id, (long long)want->at_ms, want->kind,
                 (long long)want->id);
    assert_int_equal(agenda_size(a), m->n);
}

static void test_empty(void **state)
{
    struct agenda *a = agenda_new();
    assert_non_null(a);
    struct agenda_entry e;
    assert_false(agenda_peek(a, &e));
    assert_false(agenda_pop_due(a, INT64_MAX, &e));
    assert_int_equal(agenda_when(a, AGENDA_TICKET, 1), INT64_MAX);
    agenda_remove(a, AGENDA_TICKET, 1); /* absent: no-op */
    assert_int_equal(agenda_schedule(a, AGENDA_TICKET, 1, INT64_MAX), 0);
    assert_int_equal(agenda_size(a), 0);
    agenda_free(a);
    agenda_free(NULL);
}

/* Table: a script of operations and the pops it must produce. */
struct op {
    char what; /* 's' schedule, 'r' remove, 'p' pop due at at_ms expecting (kind,id) or none */
    enum agenda_kind kind;
    int64_t id, at_ms;
    bool expect_none;
};

static const struct {
    int line;
    struct op ops[12];
    size_t n_ops;
} scripts[] = {
    /* Ties: equal instants pop by kind, then id, whatever the scheduling order. */
    {__LINE__,
     {{'s', AGENDA_PLAN, 1, 100, 0},
      {'s', AGENDA_TICKET, 9, 100, 0},
      {'s', AGENDA_TICKET, 3, 100, 0},
      {'s', AGENDA_FOLLOWUP, 2, 100, 0},
      {'p', AGENDA_TICKET, 3, 100, 0},
      {'p', AGENDA_TICKET, 9, 100, 0},
      {'p', AGENDA_FOLLOWUP, 2, 100, 0},
      {'p', AGENDA_PLAN, 1, 100, 0},
      {'p', 0, 0, 100, true}},
     9},
    /* The same id under two kinds is two entries. */
    {__LINE__,
     {{'s', AGENDA_TICKET, 7, 50, 0},
      {'s', AGENDA_NOTIFICATION, 7, 40, 0},
      {'p', AGENDA_NOTIFICATION, 7, 60, 0},
      {'p', AGENDA_TICKET, 7, 60, 0}},
     4},
    /* Reschedule earlier and later; pop honours now. */
    {__LINE__,
     {{'s', AGENDA_TICKET, 1, 100, 0},
      {'s', AGENDA_TICKET, 2, 200, 0},
      {'s', AGENDA_TICKET, 2, 50, 0},
      {'s', AGENDA_TICKET, 1, 300, 0},
      {'p', 0, 0, 49, true},
      {'p', AGENDA_TICKET, 2, 50, 0},
      {'p', 0, 0, 299, true},
      {'p', AGENDA_TICKET, 1, 300, 0}},
     8},
    /* Remove and INT64_MAX remove; negative and extreme instants. */
    {__LINE__,
     {{'s', AGENDA_TICKET, 1, INT64_MIN, 0},
      {'s', AGENDA_TICKET, 2, -5, 0},
      {'s', AGENDA_TICKET, 3, INT64_MAX - 1, 0},
      {'s', AGENDA_TICKET, 1, INT64_MAX, 0},
      {'r', AGENDA_TICKET, 2, 0, 0},
      {'r', AGENDA_TICKET, 2, 0, 0},
      {'p', 0, 0, INT64_MAX - 2, true},
      {'p', AGENDA_TICKET, 3, INT64_MAX, 0},
      {'p', 0, 0, INT64_MAX, true}},
     9},
};

static void test_scripts(void **state)
{
    for (size_t s = 0; s < sizeof(scripts) / sizeof(scripts[0]); s++) {
        struct agenda *a = agenda_new();
        assert_non_null(a);
        for (size_t i = 0; i < scripts[s].n_ops; i++) {
            const struct op *op = &scripts[s].ops[i];
            struct agenda_entry e;
            switch (op->what) {
            case 's':
                assert_int_equal(agenda_schedule(a, op->kind, op->id, op->at_ms), 0);
                break;
            case 'r':
                agenda_remove(a, op->kind, op->id);
                break;
            case 'p':
                if (op->expect_none) {
                    if (agenda_pop_due(a, op->at_ms, &e))
                        fail_msg("line %d op %zu: popped (%d,%lld), want none", scripts[s].line, i,
                                 e.kind, (long long)e.id);
                } else {
                    if (!agenda_pop_due(a, op->at_ms, &e))
                        fail_msg("line %d op %zu: nothing popped", scripts[s].line, i);
                    if (e.kind != op->kind || e.id != op->id)
                        fail_msg("line %d op %zu: popped (%d,%lld), want (%d,%lld)",
                                 scripts[s].line, i, e.kind, (long long)e.id, op->kind,
                                 (long long)op->id);
                }
                break;
            }
        }
        agenda_free(a);
    }
}

/* Thousands of random operations over a small key space (so that keys collide and are
 * rescheduled), checked against the model after each one. */
static void test_random_vs_model(void **state)
{
    uint64_t seed = test_seed();
    print_message("agenda random test seed: 0x%llx (SLAD_TEST_SEED)\n", (unsigned long long)seed);
    for (int round = 0; round < 8; round++) {
        rng_state = seed + (uint64_t)round * UINT64_C(0x9e3779b97f4a7c15);
        if (rng_state == 0)
            rng_state = 1;
        size_t keys = round < 4 ? 64 : 2000;
        struct model m = {calloc(keys * AGENDA_KIND_COUNT, sizeof(struct model_entry)), 0};
        assert_non_null(m.v);
        struct agenda *a = agenda_new();
        assert_non_null(a);
        int64_t now_ms = 0;
        for (int i = 0; i < 20000; i++) {
            uint64_t r = rng_next();
            enum agenda_kind kind = (enum agenda_kind)(r % AGENDA_KIND_COUNT);
            int64_t id = (int64_t)((r >> 8) % keys) - 5; /* a few negative ids too */
            int64_t at_ms = now_ms + (int64_t)((r >> 32) % 1000);
            unsigned what = (unsigned)((r >> 24) % 10);
            if (round % 2 == 1 && what < 2)
                at_ms = now_ms + (int64_t)((r >> 32) % 4); /* many ties */
            if (what < 5) {
                assert_int_equal(agenda_schedule(a, kind, id, at_ms), 0);
                model_schedule(&m, kind, id, at_ms);
            } else if (what == 5) {
                agenda_remove(a, kind, id);
                model_schedule(&m, kind, id, INT64_MAX);
            } else if (what == 6) {
                assert_int_equal(agenda_schedule(a, kind, id, INT64_MAX), 0);
                model_schedule(&m, kind, id, INT64_MAX);
            } else if (what == 7) {
                struct model_entry *e = model_find(&m, kind, id);
                int64_t when = agenda_when(a, kind, id);
                if (when != (e ? e->at_ms : INT64_MAX))
                    fail_msg("seed 0x%llx round %d op %d: when %lld", (unsigned long long)seed,
                             round, i, (long long)when);
            } else {
                now_ms += (int64_t)((r >> 40) % 300);
                struct agenda_entry got;
                while (agenda_pop_due(a, now_ms, &got)) {
                    struct model_entry *want = model_min(&m);
                    if (!want || want->at_ms > now_ms || got.kind != want->kind ||
                        got.id != want->id || got.at_ms != want->at_ms)
                        fail_msg("seed 0x%llx round %d op %d: popped (%lld,%d,%lld)",
                                 (unsigned long long)seed, round, i, (long long)got.at_ms, got.kind,
                                 (long long)got.id);
                    model_schedule(&m, want->kind, want->id, INT64_MAX);
                }
                struct model_entry *left = model_min(&m);
                if (left && left->at_ms <= now_ms)
                    fail_msg("seed 0x%llx round %d op %d: due entry not popped",
                             (unsigned long long)seed, round, i);
            }
            check_head(a, &m, __LINE__);
        }
        agenda_free(a);
        free(m.v);
    }
}

/* The same entries scheduled in many random orders pop in one and the same sequence. */
static void test_permutations(void **state)
{
    enum { N = 500 };
    struct agenda_entry items[N], first[N];
    rng_state = test_seed() ^ UINT64_C(0xabcdef);
    for (size_t i = 0; i < N; i++)
        items[i] = (struct agenda_entry){.at_ms = (int64_t)(rng_next() % 50),
                                         .id = (int64_t)i,
                                         .kind = (enum agenda_kind)(i % AGENDA_KIND_COUNT)};
    for (int perm = 0; perm < 40; perm++) {
        for (size_t i = N - 1; i > 0; i--) {
            size_t j = (size_t)(rng_next() % (i + 1));
            struct agenda_entry t = items[i];
            items[i] = items[j];
            items[j] = t;
        }
        struct agenda *a = agenda_new();
        assert_non_null(a);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(agenda_schedule(a, items[i].kind, items[i].id, items[i].at_ms), 0);
        for (size_t i = 0; i < N; i++) {
            struct agenda_entry e;
            assert_true(agenda_pop_due(a, INT64_MAX, &e));
            if (perm == 0) {
                first[i] = e;
                if (i > 0)
                    assert_true(first[i - 1].at_ms <= e.at_ms);
            } else if (e.id != first[i].id || e.kind != first[i].kind ||
                       e.at_ms != first[i].at_ms) {
                fail_msg("permutation %d: pop %zu differs", perm, i);
            }
        }
        assert_int_equal(agenda_size(a), 0);
        agenda_free(a);
    }
}

/* Grow to many entries, shrink back, grow again: the index and heap resize both ways. */
static void test_grow_shrink(void **state)
{
    enum { N = 100000 };
    struct agenda *a = agenda_new();
    assert_non_null(a);
    for (int cycle = 0; cycle < 2; cycle++) {
        for (int64_t i = 0; i < N; i++)
            assert_int_equal(agenda_schedule(a, AGENDA_TICKET, i, (i * 7919) % N), 0);
        assert_int_equal(agenda_size(a), N);
        for (int64_t i = 0; i < N; i += 1000)
            assert_int_equal(agenda_when(a, AGENDA_TICKET, i), (i * 7919) % N);
        /* Remove all odd ids, then pop the even ones in order. */
        for (int64_t i = 1; i < N; i += 2)
            agenda_remove(a, AGENDA_TICKET, i);
        assert_int_equal(agenda_size(a), N / 2);
        int64_t last = INT64_MIN;
        struct agenda_entry e;
        size_t popped = 0;
        while (agenda_pop_due(a, INT64_MAX, &e)) {
            assert_true(e.at_ms >= last);
            assert_int_equal(e.id % 2, 0);
            last = e.at_ms;
            popped++;
        }
        assert_int_equal(popped, N / 2);
        assert_int_equal(agenda_size(a), 0);
        assert_int_equal(agenda_when(a, AGENDA_TICKET, 2), INT64_MAX);
    }
    agenda_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),           cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_random_vs_model), cmocka_unit_test(test_permutations),
        cmocka_unit_test(test_grow_shrink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
