/* report.c - the SLA report's counting (report.h): clocks in, rows out, in one pass.
 *
 * The store streams the clocks of the period (store_report.c: one covering index, no
 * GROUP BY, which would sort the two million rows of a year); a hash table of (group,
 * clock) counts them and keeps the elapsed times of stopped clocks, so that p90 is exact
 * (a selection per row, linear). Measured in tests/bench/bench_report.py.
 *
 * Months are the local months of the query's time zone: their first instants (UTC) are
 * computed once through the calendar module (libical's tz data), and a ticket falls in the
 * last month that starts at or before its reported_at. */
#include "report.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "calendar.h"

#define S_PER_DAY   86400LL
#define MONTH_LABEL 8 /* "YYYY-MM" and its NUL */
#define TABLE_MIN   64
#define P90_PERCENT 90

static const char *const by_names[] = {
    [REPORT_BY_POLICY] = "policy",     [REPORT_BY_REGION] = "region", [REPORT_BY_TEAM] = "team",
    [REPORT_BY_ASSIGNEE] = "assignee", [REPORT_BY_MONTH] = "month",
};

int report_by_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
        if (strcmp(by_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* ---- months ---- */

struct month {
    int64_t start_ms; /* its first instant */
    char label[MONTH_LABEL];
};

struct months {
    struct month *v; /* ascending; v[0].start_ms <= from */
    size_t n;
};

static void months_done(struct months *m)
{
    free(m->v);
    *m = (struct months){0};
}

/* A calendar that only gives tz's local time. */
static int zone_new(const char *tz, struct calendar **ret, struct slad_error *reterr)
{
    struct calendar_spec spec = {.name = "report", .timezone = tz ? tz : "UTC"};
    struct slad_error err = {""};
    int r = calendar_new(&spec, ret, &err);
    if (r < 0)
        return r == -ENOMEM ? r : slad_error_set(reterr, EINVAL, "%s", err.msg);
    return 0;
}

int report_day_start(const struct calendar_date *date, const char *tz, int64_t *ret_ms,
                     struct slad_error *reterr)
{
    struct calendar *cal;
    int r = zone_new(tz, &cal, reterr);
    if (r < 0)
        return r;
    int64_t days = civil_days(date->year, date->month, date->day);
    *ret_ms = calendar_utc_of_local(cal, days * S_PER_DAY) * 1000;
    calendar_free(cal);
    return 0;
}

static int months_build(struct months *m, const char *tz, int64_t from_ms, int64_t to_ms,
                        struct slad_error *reterr)
{
    struct calendar *cal;
    int r = zone_new(tz, &cal, reterr);
    if (r < 0)
        return r;
    struct calendar_date d;
    int minute, offset;
    calendar_local(cal, from_ms, &d, &minute, &offset);
    int y = d.year, mo = d.month;
    size_t cap = 0;
    for (;;) {
        int64_t start_ms = calendar_utc_of_local(cal, civil_days(y, mo, 1) * S_PER_DAY) * 1000;
        if (m->n > 0 && start_ms >= to_ms)
            break;
        if (m->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct month *v = realloc(m->v, cap * sizeof(*v));
            if (!v) {
                calendar_free(cal);
                return -ENOMEM;
            }
            m->v = v;
        }
        struct month *at = &m->v[m->n++];
        at->start_ms = start_ms;
        snprintf(at->label, sizeof(at->label), "%04u-%02u", (unsigned)y % 10000u,
                 (unsigned)mo % 100u);
        if (++mo > 12) {
            mo = 1;
            y++;
        }
    }
    calendar_free(cal);
    return 0;
}

/* The label of the month of at_ms: the last one starting at or before it. */
static const char *months_find(const struct months *m, int64_t at_ms)
{
    size_t lo = 0, hi = m->n; /* v[lo].start_ms <= at_ms < v[hi].start_ms */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].start_ms <= at_ms)
            lo = mid;
        else
            hi = mid;
    }
    return m->v[lo].label;
}

/* ---- accumulation: open addressing on (group, clock) ---- */

struct cell {
    struct report_row row;
    uint64_t hash;
    size_t group_len, clock_len;
    int64_t sum_ms;
    int64_t *times; /* elapsed ms of stopped clocks */
    size_t n_times, cap_times;
};

struct table {
    struct cell **slots;
    size_t cap, n;
};

/* Eight bytes at a time: the hash runs twice per clock row, two million times a year. */
static uint64_t hash_mem(uint64_t h, const char *s, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t w;
    for (; n >= sizeof(w); s += sizeof(w), n -= sizeof(w)) {
        memcpy(&w, s, sizeof(w));
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w ^ ((uint64_t)n << 56)) * k;
    return h ^ (h >> 32);
}

/* A row's key: the group (NULL for none) and the clock name, with their lengths. */
struct key {
    const char *group, *clock;
    size_t group_len, clock_len;
};

static uint64_t key_hash(const struct key *k)
{
    uint64_t h = k->group ? hash_mem(1, k->group, k->group_len) : 0;
    return hash_mem(h, k->clock, k->clock_len);
}

static bool cell_is(const struct cell *c, uint64_t h, const struct key *k)
{
    if (c->hash != h || c->clock_len != k->clock_len ||
        memcmp(c->row.clock, k->clock, k->clock_len) != 0)
        return false;
    if (!k->group || !c->row.group)
        return !k->group && !c->row.group;
    return c->group_len == k->group_len && memcmp(c->row.group, k->group, k->group_len) == 0;
}

static void cell_free(struct cell *c)
{
    free(c->row.group);
    free(c->times);
    free(c);
}

static void table_done(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            cell_free(t->slots[i]);
    free(t->slots);
    *t = (struct table){0};
}

static int table_grow(struct table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : TABLE_MIN;
    struct cell **slots = calloc(ncap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        struct cell *c = t->slots[i];
        if (!c)
            continue;
        size_t j = c->hash & (ncap - 1);
        while (slots[j])
            j = (j + 1) & (ncap - 1);
        slots[j] = c;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = ncap;
    return 0;
}

/* The cell of key, created empty when new; NULL on ENOMEM. */
static struct cell *table_get(struct table *t, const struct key *k)
{
    if ((t->n + 1) * 2 > t->cap && table_grow(t) < 0)
        return NULL;
    uint64_t h = key_hash(k);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1))
        if (cell_is(t->slots[j], h, k))
            return t->slots[j];
    struct cell *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->hash = h;
    c->clock_len = k->clock_len;
    memcpy(c->row.clock, k->clock, k->clock_len);
    c->group_len = k->group_len;
    if (k->group && !(c->row.group = strndup(k->group, k->group_len))) {
        free(c);
        return NULL;
    }
    t->slots[j] = c;
    t->n++;
    return c;
}

static int cell_add_time(struct cell *c, int64_t elapsed_ms)
{
    if (c->n_times == c->cap_times) {
        size_t ncap = c->cap_times ? c->cap_times * 2 : 16;
        int64_t *v = realloc(c->times, ncap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        c->times = v;
        c->cap_times = ncap;
    }
    c->times[c->n_times++] = elapsed_ms;
    c->sum_ms += elapsed_ms;
    return 0;
}

/* Count one clock by its state name (slaclock.h: only cancelled starts with 'c', met and
 * missed with 'm'; the first letters decide, two million times a year). */
static int cell_count(struct cell *c, const char *state, int64_t elapsed_ms)
{
    if (state[0] == 'c')
        return 0;
    c->row.total++;
    if (state[0] == 'm' && state[1] == 'e')
        c->row.met++;
    else if (state[0] == 'm' && state[1] == 'i')
        c->row.missed++;
    else {
        c->row.open++;
        return 0;
    }
    return cell_add_time(c, elapsed_ms);
}

/* The k-th smallest of v[0..n) (0-based), reordering v (Hoare's selection, middle pivot). */
static int64_t select_kth(int64_t *v, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (lo < hi) {
        int64_t pivot = v[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                int64_t tmp = v[i];
                v[i++] = v[j];
                v[j--] = tmp;
            }
        }
        /* v[lo..j] <= pivot <= v[i..hi], j < i. */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            return v[kk];
    }
    return v[kk];
}

static void cell_finish(struct cell *c)
{
    if (c->n_times == 0)
        return;
    int64_t n = (int64_t)c->n_times;
    c->row.has_times = true;
    c->row.mean_ms = (c->sum_ms + n / 2) / n;
    size_t rank = (c->n_times * P90_PERCENT + 99) / 100; /* ceil(0.9 n), 1-based */
    c->row.p90_ms = select_kth(c->times, c->n_times, rank - 1);
}

static int row_cmp(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;
    if (!x->group != !y->group)
        return x->group ? -1 : 1;
    int d = x->group ? strcmp(x->group, y->group) : 0;
    return d ? d : strcmp(x->clock, y->clock);
}

/* Move the table's rows into ret->rows, sorted. */
static int table_take_rows(struct table *t, struct report *ret)
{
    ret->rows = t->n ? calloc(t->n, sizeof(*ret->rows)) : NULL;
    if (t->n && !ret->rows)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        struct cell *c = t->slots[i];
        if (!c)
            continue;
        cell_finish(c);
        ret->rows[ret->n_rows++] = c->row;
        c->row.group = NULL;
    }
    if (ret->n_rows > 1) /* qsort's base must not be NULL, even for no rows */
        qsort(ret->rows, ret->n_rows, sizeof(*ret->rows), row_cmp);
    return 0;
}

/* ---- the builder ---- */

struct report_builder {
    enum report_by by;
    struct months months; /* by month */
    struct table table;
};

int report_builder_new(const struct report_query *q, struct report_builder **ret,
                       struct slad_error *reterr)
{
    if (q->to_ms <= q->from_ms)
        return slad_error_set(reterr, EINVAL, "to: must be after from");
    struct report_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->by = q->by;
    int r = q->by == REPORT_BY_MONTH ? months_build(&b->months, q->tz, q->from_ms, q->to_ms, reterr)
                                     : 0;
    if (r < 0) {
        report_builder_free(b);
        return r;
    }
    *ret = b;
    return 0;
}

int report_builder_add(struct report_builder *b, const struct report_clock *c)
{
    struct key k = {.clock = c->clock ? c->clock : "", .clock_len = c->clock ? c->clock_len : 0};
    if (k.clock_len >= SLACLOCK_NAME_MAX) /* as the cell keeps it */
        k.clock_len = SLACLOCK_NAME_MAX - 1;
    if (b->by == REPORT_BY_MONTH) {
        k.group = months_find(&b->months, c->reported_at_ms);
        k.group_len = strlen(k.group);
    } else {
        k.group = c->group;
        k.group_len = c->group_len;
    }
    struct cell *cell = table_get(&b->table, &k);
    return cell ? cell_count(cell, c->state ? c->state : "", c->elapsed_ms) : -ENOMEM;
}

int report_builder_finish(struct report_builder *b, struct report *ret)
{
    return table_take_rows(&b->table, ret);
}

void report_builder_free(struct report_builder *b)
{
    if (!b)
        return;
    table_done(&b->table);
    months_done(&b->months);
    free(b);
}

void report_done(struct report *r)
{
    for (size_t i = 0; i < r->n_rows; i++)
        free(r->rows[i].group);
    free(r->rows);
    *r = (struct report){0};
}
