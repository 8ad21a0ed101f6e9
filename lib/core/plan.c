/* plan.c - maintenance plans: validation, recurrence in the calendar's local time (rules
 * checked by rrule.c, expanded in bounded steps by recur.c), and task deadlines
 * (plan.h). */
#include "plan.h"

#include <errno.h>
#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "civil.h"
#include "duration.h"
#include "recur.h"

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof(*p));
    p->start_ms = SLAD_NO_TIME;
    p->until_ms = SLAD_NO_TIME;
    p->next_ms = INT64_MAX;
    p->created_ms = SLAD_NO_TIME;
    p->updated_ms = SLAD_NO_TIME;
}

/* The string fields, for copy and free. */
#define PLAN_STRINGS(p)                                                                            \
    &(p)->name, &(p)->customer_name, &(p)->customer_phone, &(p)->customer_address,                 \
        &(p)->device_model, &(p)->device_serial, &(p)->team, &(p)->owner, &(p)->assignee,          \
        &(p)->rrule, &(p)->due_within, &(p)->report_within, &(p)->calendar

void plan_done(struct plan *p)
{
    char **fields[] = {PLAN_STRINGS(p)};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

int plan_set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int plan_copy(struct plan *dst, const struct plan *src)
{
    *dst = *src;
    char **to[] = {PLAN_STRINGS(dst)};
    for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
        *to[i] = NULL;
    char *const *from[] = {PLAN_STRINGS(src)};
    for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
        if (plan_set_string(to[i], *from[i]) < 0) {
            plan_done(dst);
            return -ENOMEM;
        }
    return 0;
}

/* ---- validation ---- */

/* The rule rrule, read and checked (plan_check_rrule). */
static int parse_rrule(const char *rrule, struct icalrecurrencetype *ret, struct slad_error *reterr)
{
    if (!rrule || !rrule[0])
        return slad_error_set(reterr, EINVAL,
                              "field 'rrule' must be an RFC 5545 RRULE such as "
                              "FREQ=MONTHLY;INTERVAL=6");
    if (strlen(rrule) > PLAN_RRULE_MAX)
        return slad_error_set(reterr, EINVAL, "field 'rrule' must be at most %d bytes",
                              PLAN_RRULE_MAX);
    if (strncasecmp(rrule, "RRULE:", 6) == 0)
        return slad_error_set(reterr, EINVAL,
                              "field 'rrule': write the rule without the 'RRULE:' prefix");
    int r = rrule_parse(rrule, ret, reterr);
    if (r < 0)
        slad_error_prefix(reterr, "field 'rrule': ");
    return r;
}

int plan_check_rrule(const char *rrule, struct slad_error *reterr)
{
    struct icalrecurrencetype rule;
    return parse_rrule(rrule, &rule, reterr);
}

int plan_check_duration(const char *field, const char *text, struct slad_error *reterr)
{
    struct duration d;
    if (!text || duration_parse(text, DURATION_ALLOW_WORKDAYS, &d, reterr) < 0) {
        slad_error_prefix(reterr, "field '%s': ", field);
        return -EINVAL;
    }
    if (d.value <= 0)
        return slad_error_set(reterr, EINVAL, "field '%s': '%s' must be longer than zero", field,
                              text);
    return 0;
}

int plan_validate(const struct plan *p, struct slad_error *reterr)
{
    if (!p->name || !p->name[0])
        return slad_error_set(reterr, EINVAL, "field 'name' is required");
    if (p->start_ms == SLAD_NO_TIME)
        return slad_error_set(reterr, EINVAL, "field 'start' is required");
    if (p->until_ms != SLAD_NO_TIME && p->until_ms < p->start_ms)
        return slad_error_set(reterr, EINVAL, "field 'until' lies before field 'start'");
    if (!p->due_within)
        return slad_error_set(reterr, EINVAL, "field 'due_within' is required");
    int r = plan_check_rrule(p->rrule, reterr);
    if (r == 0)
        r = plan_check_duration("due_within", p->due_within, reterr);
    if (r == 0 && p->report_within)
        r = plan_check_duration("report_within", p->report_within, reterr);
    return r;
}

/* ---- recurrence ---- */

/* Whether the local occurrence (local_s wall clock, utc_s instant) is within the rule's
 * own UNTIL, read as RFC 5545 writes it. */
static bool within_rule_until(struct icaltimetype until, int64_t local_s, int64_t utc_s)
{
    if (icaltime_is_null_time(until))
        return true;
    int64_t u = (int64_t)icaltime_as_timet(until); /* the fields as if in UTC */
    if (until.is_date)
        return local_s < u + CIVIL_S_PER_DAY;
    if (icaltime_is_utc(until))
        return utc_s <= u;
    return local_s <= u;
}

/* The wall-clock second of instant at_ms in cal with offset_s, as a floating time. */
static struct icaltimetype local_time(int64_t at_ms, int offset_s)
{
    return icaltime_from_timet_with_zone(
        (time_t)(civil_floor_div(at_ms, CIVIL_MS_PER_S) + offset_s), 0, NULL); /* NULL: floating */
}

/* The earliest wall-clock second whose occurrence can fall at at_ms or later: at_ms's
 * own, or as much earlier as the clock jumped forward in the day before (a skipped local
 * time moves to the jump). */
static struct icaltimetype earliest_local(const struct calendar *cal, int64_t at_ms)
{
    int off_before = 0, off_at = 0;
    calendar_local(cal, at_ms - CIVIL_MS_PER_DAY, NULL, NULL, &off_before);
    calendar_local(cal, at_ms, NULL, NULL, &off_at);
    return local_time(at_ms, off_before < off_at ? off_before : off_at);
}

static int too_costly(const struct plan *p, struct slad_error *reterr)
{
    return slad_error_set(reterr, PLAN_ECOSTLY,
                          "field 'rrule': rrule too costly: no occurrence of '%s' found within "
                          "%d ms (its days come too rarely, or never, from 'start'); name rare "
                          "days with FREQ=YEARLY and BYMONTH, BYMONTHDAY or BYDAY",
                          p->rrule, PLAN_BUDGET_MS);
}

int plan_next_occurrence(const struct plan *p, const struct calendar *cal, int64_t from_ms,
                         struct budget *budget, int64_t *ret_ms, struct slad_error *reterr)
{
    /* A stored rule is checked again: it may predate today's checks. */
    struct icalrecurrencetype rule;
    int r = parse_rrule(p->rrule, &rule, reterr);
    if (r < 0)
        return r;
    *ret_ms = INT64_MAX;
    if (p->start_ms == SLAD_NO_TIME)
        return 0;
    /* UNTIL is applied here, where local time and instants are both known. */
    struct icaltimetype until = rule.until;
    int64_t frac_ms = p->start_ms - civil_floor_div(p->start_ms, CIVIL_MS_PER_S) * CIVIL_MS_PER_S;
    int start_offset_s = 0;
    calendar_local(cal, p->start_ms, NULL, NULL, &start_offset_s);
    int64_t begin_ms = from_ms > p->start_ms ? from_ms : p->start_ms;
    struct recur *it = NULL;
    r = recur_new(&rule, local_time(p->start_ms, start_offset_s), earliest_local(cal, begin_ms),
                  budget, &it);
    struct icaltimetype occ;
    while (r == 0 && (r = recur_next(it, &occ)) > 0) {
        int64_t local_s = (int64_t)icaltime_as_timet(occ);
        int64_t utc_s = calendar_utc_of_local(cal, local_s);
        int64_t at_ms = utc_s * CIVIL_MS_PER_S + frac_ms;
        if (!within_rule_until(until, local_s, utc_s) ||
            (p->until_ms != SLAD_NO_TIME && at_ms > p->until_ms))
            break;
        if (at_ms >= begin_ms) {
            *ret_ms = at_ms;
            break;
        }
        r = 0;
    }
    recur_free(it);
    if (r == -ENOMEM)
        return slad_error_set(reterr, ENOMEM, "out of memory expanding a plan's rrule");
    return r == -ETIME ? too_costly(p, reterr) : 0;
}

int64_t plan_deadline(const char *within, const struct calendar *cal, int64_t from_ms)
{
    struct duration d;
    struct slad_error err;
    if (!within || duration_parse(within, DURATION_ALLOW_WORKDAYS, &d, &err) < 0)
        return from_ms;
    if (d.unit == DURATION_WORKDAYS)
        return calendar_workdays_close(cal, from_ms, (int)d.value);
    return calendar_add(cal, from_ms, d.value);
}
