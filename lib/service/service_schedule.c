/* service_schedule.c - on-call schedules as operations (service.h): overrides added and
 * deleted in a savepoint, and the reads that apply them (who is on call, the shifts, the
 * .ics) with the overrides the store holds for the time asked about. */
#include "service.h"

#include <errno.h>
#include <stdlib.h>

#include "service_internal.h"
#include "store.h"
#include "store_schedule.h"

/* An override longer than this is a mistake (a year typed for a day), not a shift. */
#define OVERRIDE_MAX_MS (366 * CIVIL_MS_PER_DAY)
/* At most this many overrides of a schedule overlap any time: what a step that fires
 * reads stays small (SERVICE_OVERRIDES_MAX over every schedule). */
#define OVERRIDE_OVERLAP_MAX 100

static int count_override(void *userdata, const struct schedule_override *o)
{
    (void)o;
    ++*(size_t *)userdata;
    return 0;
}

static const struct schedule *find(struct service *svc, const char *name, struct slad_error *reterr)
{
    const struct schedule *s = conf_find_schedule(svc->conf, name);
    if (!s)
        slad_error_set(reterr, ENOENT, "schedule '%s' is not in the config", name);
    return s;
}

int service_override_add(struct service *svc, struct schedule_override *o, int64_t now_ms,
                         struct slad_error *reterr)
{
    if (!find(svc, o->schedule, reterr))
        return -ENOENT;
    if (!conf_find_contact(svc->conf, o->contact))
        return slad_error_set(reterr, EINVAL,
                              "field 'contact': '%s' is not a contact of the config", o->contact);
    if (o->to_ms <= o->from_ms)
        return slad_error_set(reterr, EINVAL, "field 'to': must be later than 'from'");
    if (o->to_ms - o->from_ms > OVERRIDE_MAX_MS)
        return slad_error_set(reterr, EINVAL,
                              "field 'to': an override lasts at most 366 days; add another "
                              "after it");
    o->id = 0;
    o->created_ms = now_ms;
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    size_t n = 0;
    r = store_override_list(svc->store, o->schedule, o->from_ms, o->to_ms, 0, OVERRIDE_OVERLAP_MAX,
                            count_override, &n, reterr);
    if (r == 0 && n >= OVERRIDE_OVERLAP_MAX)
        r = slad_error_set(reterr, EEXIST,
                           "schedule '%s' already has %d overrides over that time; delete "
                           "some first",
                           o->schedule, OVERRIDE_OVERLAP_MAX);
    if (r == 0)
        r = store_override_insert(svc->store, o, reterr);
    if (r == 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

int service_override_delete(struct service *svc, const char *schedule, int64_t id,
                            struct slad_error *reterr)
{
    if (!find(svc, schedule, reterr))
        return -ENOENT;
    int r = store_savepoint(svc->store, reterr);
    if (r < 0)
        return r;
    r = store_override_delete(svc->store, schedule, id, reterr);
    if (r == 0)
        r = store_release(svc->store, reterr);
    return r < 0 ? service_abort_op(svc, r) : 0;
}

int service_override_list(struct service *svc, const char *schedule, int64_t after_id, size_t limit,
                          schedule_override_fn *fn, void *userdata, struct slad_error *reterr)
{
    if (!find(svc, schedule, reterr))
        return -ENOENT;
    return store_override_list(svc->store, schedule, INT64_MIN, INT64_MAX, after_id, limit, fn,
                               userdata, reterr);
}

/* The overrides of s that can matter for [from_ms, to_ms] (schedule.h's search bounds). */
static int overrides_for(struct service *svc, const struct schedule *s, int64_t from_ms,
                         int64_t to_ms, struct schedule_override **ret, size_t *ret_n,
                         struct slad_error *reterr)
{
    return service_overrides_load(svc, schedule_name(s), from_ms - SCHEDULE_SEARCH_MS,
                                  to_ms + SCHEDULE_SEARCH_MS + 1, ret, ret_n, reterr);
}

int service_schedule_shift_at(struct service *svc, const char *name, int64_t at_ms,
                              service_shift_fn *fn, void *userdata, struct slad_error *reterr)
{
    const struct schedule *s = find(svc, name, reterr);
    if (!s)
        return -ENOENT;
    struct schedule_override *ov = NULL;
    size_t n_ov = 0;
    int r = overrides_for(svc, s, at_ms, at_ms, &ov, &n_ov, reterr);
    if (r < 0)
        return r;
    struct schedule_shift shift;
    schedule_shift_at(s, ov, n_ov, at_ms, &shift);
    r = fn(userdata, &shift);
    free(ov);
    return r < 0 ? r : 0;
}

/* The shifts of s over [from_ms, to_ms) into *ret (with the overrides they borrow from:
 * free both). */
static int shifts_of(struct service *svc, const struct schedule *s, int64_t from_ms, int64_t to_ms,
                     struct schedule_override **ret_ov, struct schedule_shift **ret, size_t *ret_n,
                     struct slad_error *reterr)
{
    if (to_ms <= from_ms)
        return slad_error_set(reterr, EINVAL, "field 'to': must be later than 'from'");
    size_t n_ov = 0;
    int r = overrides_for(svc, s, from_ms, to_ms, ret_ov, &n_ov, reterr);
    if (r < 0)
        return r;
    r = schedule_shifts(s, *ret_ov, n_ov, from_ms, to_ms, ret, ret_n, reterr);
    if (r < 0) {
        free(*ret_ov);
        *ret_ov = NULL;
    }
    return r;
}

int service_schedule_shifts(struct service *svc, const char *name, int64_t from_ms, int64_t to_ms,
                            service_shift_fn *fn, void *userdata, struct slad_error *reterr)
{
    const struct schedule *s = find(svc, name, reterr);
    if (!s)
        return -ENOENT;
    struct schedule_override *ov = NULL;
    struct schedule_shift *shifts = NULL;
    size_t n = 0;
    int r = shifts_of(svc, s, from_ms, to_ms, &ov, &shifts, &n, reterr);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = fn(userdata, &shifts[i]);
    free(shifts);
    free(ov);
    return r < 0 ? r : 0;
}

int service_schedule_ics(struct service *svc, const char *name, const char *contact,
                         int64_t from_ms, int64_t to_ms, int64_t now_ms, char **ret,
                         struct slad_error *reterr)
{
    const struct schedule *s = find(svc, name, reterr);
    if (!s)
        return -ENOENT;
    if (contact && !conf_find_contact(svc->conf, contact))
        return slad_error_set(reterr, EINVAL,
                              "field 'contact': '%s' is not a contact of the config", contact);
    struct schedule_override *ov = NULL;
    struct schedule_shift *shifts = NULL;
    size_t n = 0;
    int r = shifts_of(svc, s, from_ms, to_ms, &ov, &shifts, &n, reterr);
    if (r == 0) {
        *ret = schedule_ics(s, shifts, n, contact, from_ms, to_ms, now_ms);
        if (!*ret)
            r = slad_error_set(reterr, ENOMEM, "out of memory writing the calendar");
    }
    free(shifts);
    free(ov);
    return r;
}
