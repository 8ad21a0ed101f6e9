/* schedule.c - on-call schedules (schedule.h): the rota of each layer in the schedule's
 * local time, the layers and overrides stacked, and the shifts found by walking from one
 * change to the next.
 *
 * Hand-offs. Layer hand-off k is at local (floating) second base + k * rotation, where
 * base is the hand-off time of day on the start's local date; calendar_utc_of_local turns
 * it into an instant, which is monotonic in k. The shift number at t is the count of
 * hand-offs in (start, t]: index(t) - index(start), index(t) being the last k whose
 * hand-off is at or before t (found from t's local time, then corrected by a step).
 *
 * Changes. Who is on call can change only at a layer's start, a hand-off of a layer with
 * more than one contact, an opening or closing of a layer's calendar, and an override's
 * from or to: next_change and prev_change give the nearest of those, and a shift is the
 * run of changes across which the contact stays the same. */
#include "schedule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

#define MIN_PER_DAY  (24 * 60)
#define MIN_PER_WEEK (7 * MIN_PER_DAY)

struct layer {
    int64_t start_ms;
    int rotation_min, handoff_min;
    char **contacts;
    size_t n_contacts;
    const struct calendar *calendar;
    int64_t base_local_s; /* local seconds of the hand-off on the start's local date */
    int64_t start_index;  /* handoff_index(start_ms) */
};

struct schedule {
    char *name;
    struct calendar *zone; /* open all the time, in the schedule's zone: its local time */
    struct layer *layers;
    size_t n_layers;
};

/* ---- the rota of a layer ---- */

static int64_t handoff_at(const struct schedule *s, const struct layer *l, int64_t k)
{
    int64_t local_s = l->base_local_s + k * (int64_t)l->rotation_min * 60;
    return calendar_utc_of_local(s->zone, local_s) * CIVIL_MS_PER_S;
}

/* The last k whose hand-off is at or before t_ms. */
static int64_t handoff_index(const struct schedule *s, const struct layer *l, int64_t t_ms)
{
    int offset_s = 0;
    calendar_local(s->zone, t_ms, NULL, NULL, &offset_s);
    int64_t local_s = civil_floor_div(t_ms, CIVIL_MS_PER_S) + offset_s;
    int64_t k = civil_floor_div(local_s - l->base_local_s, (int64_t)l->rotation_min * 60);
    /* The local time of t is within an offset change of the truth: a step or two. */
    while (handoff_at(s, l, k + 1) <= t_ms)
        k++;
    while (handoff_at(s, l, k) > t_ms)
        k--;
    return k;
}

static bool layer_active(const struct layer *l, int64_t t_ms)
{
    return t_ms >= l->start_ms && (!l->calendar || calendar_is_open(l->calendar, t_ms));
}

static const char *layer_contact(const struct schedule *s, const struct layer *l, int64_t t_ms)
{
    if (l->n_contacts == 1)
        return l->contacts[0];
    int64_t shift = handoff_index(s, l, t_ms) - l->start_index;
    return l->contacts[(size_t)(shift % (int64_t)l->n_contacts)];
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* The first change of layer l after t_ms (INT64_MAX: none). */
static int64_t layer_next(const struct schedule *s, const struct layer *l, int64_t t_ms)
{
    if (t_ms < l->start_ms)
        return l->start_ms;
    int64_t next = INT64_MAX;
    if (l->n_contacts > 1)
        next = handoff_at(s, l, handoff_index(s, l, t_ms) + 1);
    if (l->calendar)
        next = min64(next, calendar_next_change(l->calendar, t_ms));
    return next;
}

/* The last change of layer l at or before t_ms (INT64_MIN: none). */
static int64_t layer_prev(const struct schedule *s, const struct layer *l, int64_t t_ms)
{
    if (t_ms < l->start_ms)
        return INT64_MIN;
    int64_t prev = l->start_ms;
    if (l->n_contacts > 1)
        prev = max64(prev, handoff_at(s, l, handoff_index(s, l, t_ms)));
    if (l->calendar)
        prev = max64(prev, calendar_prev_change(l->calendar, t_ms));
    return prev;
}

/* ---- layers and overrides stacked ---- */

struct view {
    const struct schedule *s;
    const struct schedule_override *ov;
    size_t n_ov;
};

static bool mine(const struct view *v, const struct schedule_override *o)
{
    return strcmp(o->schedule, v->s->name) == 0;
}

static const char *who(const struct view *v, int64_t t_ms)
{
    const struct schedule_override *best = NULL;
    for (size_t i = 0; i < v->n_ov; i++) {
        const struct schedule_override *o = &v->ov[i];
        if (o->from_ms <= t_ms && t_ms < o->to_ms && mine(v, o) && (!best || o->id > best->id))
            best = o;
    }
    if (best)
        return best->contact;
    for (size_t i = v->s->n_layers; i-- > 0;) {
        const struct layer *l = &v->s->layers[i];
        if (layer_active(l, t_ms))
            return layer_contact(v->s, l, t_ms);
    }
    return NULL;
}

static int64_t next_change(const struct view *v, int64_t t_ms)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < v->s->n_layers; i++)
        next = min64(next, layer_next(v->s, &v->s->layers[i], t_ms));
    for (size_t i = 0; i < v->n_ov; i++) {
        const struct schedule_override *o = &v->ov[i];
        if (!mine(v, o))
            continue;
        if (o->from_ms > t_ms)
            next = min64(next, o->from_ms);
        else if (o->to_ms > t_ms)
            next = min64(next, o->to_ms);
    }
    return next;
}

static int64_t prev_change(const struct view *v, int64_t t_ms)
{
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < v->s->n_layers; i++)
        prev = max64(prev, layer_prev(v->s, &v->s->layers[i], t_ms));
    for (size_t i = 0; i < v->n_ov; i++) {
        const struct schedule_override *o = &v->ov[i];
        if (!mine(v, o))
            continue;
        if (o->to_ms <= t_ms)
            prev = max64(prev, o->to_ms);
        else if (o->from_ms <= t_ms)
            prev = max64(prev, o->from_ms);
    }
    return prev;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Where the shift of contact (on call at t_ms) began, looking back no further than
 * lo_ms; INT64_MIN beyond that. */
static int64_t shift_start(const struct view *v, int64_t t_ms, const char *contact, int64_t lo_ms)
{
    int64_t b = prev_change(v, t_ms);
    for (int steps = 0; steps < SCHEDULE_MAX_STEPS; steps++) {
        if (b == INT64_MIN || b < lo_ms)
            return INT64_MIN;
        if (!same(who(v, b - 1), contact))
            return b;
        b = prev_change(v, b - 1);
    }
    return INT64_MIN;
}

/* Where it ends, looking ahead no further than hi_ms; INT64_MAX beyond that. */
static int64_t shift_end(const struct view *v, int64_t t_ms, const char *contact, int64_t hi_ms)
{
    int64_t e = next_change(v, t_ms);
    for (int steps = 0; steps < SCHEDULE_MAX_STEPS; steps++) {
        if (e == INT64_MAX || e > hi_ms)
            return INT64_MAX;
        if (!same(who(v, e), contact))
            return e;
        e = next_change(v, e);
    }
    return INT64_MAX;
}

const char *schedule_who(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                         int64_t at_ms)
{
    struct view v = {s, ov, n_ov};
    return who(&v, at_ms);
}

void schedule_shift_at(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                       int64_t at_ms, struct schedule_shift *ret)
{
    struct view v = {s, ov, n_ov};
    ret->contact = who(&v, at_ms);
    ret->from_ms = shift_start(&v, at_ms, ret->contact, at_ms - SCHEDULE_SEARCH_MS);
    ret->until_ms = shift_end(&v, at_ms, ret->contact, at_ms + SCHEDULE_SEARCH_MS);
}

struct shift_list {
    struct schedule_shift *v;
    size_t n, cap;
};

static int shift_add(struct shift_list *l, const char *contact, int64_t from_ms, int64_t until_ms,
                     struct slad_error *reterr)
{
    if (l->n == SCHEDULE_MAX_SHIFTS)
        return slad_error_set(reterr, E2BIG,
                              "more than %d shifts: ask for a shorter range (from, to)",
                              SCHEDULE_MAX_SHIFTS);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct schedule_shift *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return slad_error_set(reterr, ENOMEM, "out of memory listing shifts");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct schedule_shift){contact, from_ms, until_ms};
    return 0;
}

int schedule_shifts(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                    int64_t from_ms, int64_t to_ms, struct schedule_shift **ret, size_t *ret_n,
                    struct slad_error *reterr)
{
    if (to_ms <= from_ms)
        return slad_error_set(reterr, EINVAL, "'to' must be after 'from'");
    if (to_ms - from_ms > SCHEDULE_RANGE_MS)
        return slad_error_set(reterr, EINVAL,
                              "the range from 'from' to 'to' is longer than %d days",
                              (int)(SCHEDULE_RANGE_MS / CIVIL_MS_PER_DAY));
    struct view v = {s, ov, n_ov};
    struct shift_list list = {NULL, 0, 0};
    const char *contact = who(&v, from_ms);
    int64_t start = shift_start(&v, from_ms, contact, from_ms - SCHEDULE_SEARCH_MS);
    int64_t t = from_ms;
    int r = 0;
    for (int steps = 0; r == 0; steps++) {
        int64_t e = next_change(&v, t);
        if (e >= to_ms) {
            r = shift_add(&list, contact, start,
                          shift_end(&v, t, contact, to_ms + SCHEDULE_SEARCH_MS), reterr);
            break;
        }
        if (steps == 4 * SCHEDULE_MAX_STEPS) {
            r = slad_error_set(reterr, E2BIG,
                               "more than %d changes of who is on call: ask for a shorter "
                               "range (from, to)",
                               4 * SCHEDULE_MAX_STEPS);
            break;
        }
        const char *next = who(&v, e);
        if (!same(next, contact)) {
            r = shift_add(&list, contact, start, e, reterr);
            start = e;
            contact = next;
        }
        t = e;
    }
    if (r < 0) {
        free(list.v);
        return r;
    }
    *ret = list.v;
    *ret_n = list.n;
    return 0;
}

/* ---- building ---- */

const char *schedule_name(const struct schedule *s)
{
    return s->name;
}

const char *schedule_timezone(const struct schedule *s)
{
    return calendar_timezone(s->zone);
}

size_t schedule_n_layers(const struct schedule *s)
{
    return s->n_layers;
}

void schedule_layer(const struct schedule *s, size_t i, struct schedule_layer_spec *ret)
{
    const struct layer *l = &s->layers[i];
    *ret = (struct schedule_layer_spec){
        .start_ms = l->start_ms,
        .rotation_min = l->rotation_min,
        .handoff_min = l->handoff_min,
        .contacts = (const char *const *)l->contacts,
        .n_contacts = l->n_contacts,
        .calendar = l->calendar,
    };
}

int schedule_parse_rotation(const char *text, int *ret_min, struct slad_error *reterr)
{
    if (!text)
        return slad_error_set(reterr, EINVAL, "rotation: missing text");
    int64_t ms = 0;
    size_t digits = strspn(text, "0123456789");
    if (digits > 0 && digits <= 3 && text[digits] == 'w' && text[digits + 1] == '\0') {
        ms = strtol(text, NULL, 10) * MIN_PER_WEEK * CIVIL_MS_PER_MIN;
    } else {
        struct duration d;
        if (duration_parse(text, DURATION_ALLOW_PLAIN, &d, NULL) < 0)
            return slad_error_set(reterr, EINVAL,
                                  "rotation '%s': expected a length such as 1w, 1d or 12h", text);
        ms = d.value;
    }
    if (ms % CIVIL_MS_PER_MIN != 0 || ms < SCHEDULE_ROTATION_MIN_MIN * CIVIL_MS_PER_MIN ||
        ms > SCHEDULE_ROTATION_MAX_MIN * CIVIL_MS_PER_MIN)
        return slad_error_set(reterr, EINVAL, "rotation '%s': must be whole minutes from 1h to 52w",
                              text);
    *ret_min = (int)(ms / CIVIL_MS_PER_MIN);
    return 0;
}

char *schedule_format_rotation(int rotation_min, char *buf, size_t size)
{
    if (rotation_min % MIN_PER_WEEK == 0)
        snprintf(buf, size, "%dw", rotation_min / MIN_PER_WEEK);
    else if (rotation_min % MIN_PER_DAY == 0)
        snprintf(buf, size, "%dd", rotation_min / MIN_PER_DAY);
    else {
        struct duration d = duration_ms(rotation_min * CIVIL_MS_PER_MIN);
        duration_format(&d, buf, size);
    }
    return buf;
}

static void layers_free(struct layer *layers, size_t n)
{
    for (size_t i = 0; layers && i < n; i++) {
        for (size_t k = 0; k < layers[i].n_contacts; k++)
            free(layers[i].contacts[k]);
        free(layers[i].contacts);
    }
    free(layers);
}

void schedule_free(struct schedule *s)
{
    if (!s)
        return;
    free(s->name);
    calendar_free(s->zone);
    layers_free(s->layers, s->n_layers);
    free(s);
}

/* The zone as a calendar open all the time: its local time. The calendar's own error
 * names a calendar; the schedule's names the schedule. */
static int zone_new(const char *name, const char *zone, struct calendar **ret,
                    struct slad_error *reterr)
{
    struct calendar_spec spec = {.name = name, .timezone = zone};
    for (int d = 0; d < 7; d++)
        spec.week[d] = (struct calendar_day_hours){.iv = {{0, MIN_PER_DAY}}, .n = 1};
    struct slad_error err;
    int r = calendar_new(&spec, ret, &err);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "out of memory");
    if (r < 0) {
        const char *why = strstr(err.msg, "': ");
        return slad_error_set(reterr, -r, "%s", why ? why + 3 : err.msg);
    }
    return 0;
}

static int layer_build(const struct schedule *s, const struct schedule_layer_spec *in,
                       struct layer *l, struct slad_error *reterr)
{
    if (in->n_contacts == 0 || in->n_contacts > SCHEDULE_MAX_CONTACTS)
        return slad_error_set(reterr, EINVAL, "contacts: from 1 to %d names",
                              SCHEDULE_MAX_CONTACTS);
    if (in->rotation_min < SCHEDULE_ROTATION_MIN_MIN ||
        in->rotation_min > SCHEDULE_ROTATION_MAX_MIN)
        return slad_error_set(reterr, EINVAL, "rotation: must lie from 1h to 52w");
    if (in->handoff_min < -1 || in->handoff_min >= MIN_PER_DAY)
        return slad_error_set(reterr, EINVAL, "handoff: no such time of day");
    struct calendar_date date;
    int minute = 0, offset_s = 0;
    calendar_local(s->zone, in->start_ms, &date, &minute, &offset_s);
    l->start_ms = in->start_ms;
    l->rotation_min = in->rotation_min;
    l->handoff_min = in->handoff_min >= 0 ? in->handoff_min : minute;
    l->calendar = in->calendar;
    l->base_local_s =
        (civil_days(date.year, date.month, date.day) * MIN_PER_DAY + l->handoff_min) * 60;
    if (!(l->contacts = calloc(in->n_contacts, sizeof(*l->contacts))))
        return slad_error_set(reterr, ENOMEM, "out of memory");
    for (size_t k = 0; k < in->n_contacts; k++, l->n_contacts++)
        if (!(l->contacts[k] = strdup(in->contacts[k] ? in->contacts[k] : "")))
            return slad_error_set(reterr, ENOMEM, "out of memory");
    l->start_index = handoff_index(s, l, l->start_ms);
    return 0;
}

int schedule_new(const struct schedule_spec *spec, struct schedule **ret, struct slad_error *reterr)
{
    const char *name = spec && spec->name ? spec->name : "";
    struct schedule *s = calloc(1, sizeof(*s));
    int r = 0;
    if (!s || !(s->name = strdup(name)))
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    else if (spec->n_layers == 0 || spec->n_layers > SCHEDULE_MAX_LAYERS)
        r = slad_error_set(reterr, EINVAL, "layers: from 1 to %d", SCHEDULE_MAX_LAYERS);
    else if ((r = zone_new(name, spec->timezone, &s->zone, reterr)) == 0 &&
             !(s->layers = calloc(spec->n_layers, sizeof(*s->layers))))
        r = slad_error_set(reterr, ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < spec->n_layers; i++, s->n_layers++)
        if ((r = layer_build(s, &spec->layers[i], &s->layers[i], reterr)) < 0)
            slad_error_prefix(reterr, "layer %zu: ", i + 1);
    if (r < 0) {
        slad_error_prefix(reterr, "schedule '%s': ", name);
        schedule_free(s);
        return r;
    }
    *ret = s;
    return 0;
}
