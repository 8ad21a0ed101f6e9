/* plan.c - maintenance plans: validation, recurrence through libical's RRULE iterator in
 * the calendar's local time, and task deadlines (plan.h). */
#include "plan.h"

#include <errno.h>
#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "duration.h"

#define MS_PER_S  INT64_C(1000)
#define S_PER_DAY INT64_C(86400)

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

/* libical's parse of text; freq is ICAL_NO_RECURRENCE when it failed or has no FREQ. */
static struct icalrecurrencetype parse_rule(const char *text)
{
    icalerror_clear_errno();
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(text);
    icalerror_clear_errno();
    return rule;
}

/* The first ';'-separated part of rrule that libical refuses, copied into buf; "" when
 * each part reads on its own (then the parts conflict). */
static void find_bad_part(const char *rrule, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *p = rrule;
    while (*p) {
        size_t n = strcspn(p, ";");
        char probe[PLAN_RRULE_MAX + 16];
        bool is_freq = n >= 5 && strncasecmp(p, "FREQ=", 5) == 0;
        snprintf(probe, sizeof(probe), "%s%.*s", is_freq ? "" : "FREQ=YEARLY;", (int)n, p);
        if (n > 0 && parse_rule(probe).freq == ICAL_NO_RECURRENCE) {
            snprintf(buf, size, "%.*s", (int)n, p);
            return;
        }
        p += n;
        if (*p == ';')
            p++;
    }
}

int plan_check_rrule(const char *rrule, struct slad_error *reterr)
{
    static const char example[] = "an RFC 5545 RRULE such as FREQ=MONTHLY;INTERVAL=6";
    if (!rrule || !rrule[0])
        return slad_error_set(reterr, EINVAL, "field 'rrule' must be %s", example);
    if (strlen(rrule) > PLAN_RRULE_MAX)
        return slad_error_set(reterr, EINVAL, "field 'rrule' must be at most %d bytes",
                              PLAN_RRULE_MAX);
    if (strncasecmp(rrule, "RRULE:", 6) == 0)
        return slad_error_set(reterr, EINVAL,
                              "field 'rrule': write the rule without the 'RRULE:' prefix");
    struct icalrecurrencetype rule = parse_rule(rrule);
    if (rule.freq == ICAL_NO_RECURRENCE) {
        char bad[PLAN_RRULE_MAX + 1];
        find_bad_part(rrule, bad, sizeof(bad));
        if (bad[0])
            return slad_error_set(reterr, EINVAL, "field 'rrule': '%s' is not valid in %s", bad,
                                  example);
        if (!strcasestr(rrule, "FREQ="))
            return slad_error_set(reterr, EINVAL, "field 'rrule': '%s' has no FREQ; it must be %s",
                                  rrule, example);
        return slad_error_set(reterr, EINVAL, "field 'rrule': '%s' is not %s", rrule, example);
    }
    /* libical looks for a sub-daily occurrence matching date parts second by second (for
     * ever when there is none: BYMONTH=2;BYMONTHDAY=30), so those rules take time parts
     * only. Visits recur daily or slower; finer rules serve tests. */
    if (rule.freq == ICAL_SECONDLY_RECURRENCE || rule.freq == ICAL_MINUTELY_RECURRENCE ||
        rule.freq == ICAL_HOURLY_RECURRENCE) {
        static const char *const date_parts[] = {"BYDAY",    "BYMONTHDAY", "BYYEARDAY",
                                                 "BYWEEKNO", "BYMONTH",    "BYSETPOS"};
        const short *lists[] = {rule.by_day,     rule.by_month_day, rule.by_year_day,
                                rule.by_week_no, rule.by_month,     rule.by_set_pos};
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
            if (lists[i][0] != ICAL_RECURRENCE_ARRAY_MAX)
                return slad_error_set(reterr, EINVAL,
                                      "field 'rrule': FREQ=%s takes no %s (only BYHOUR, "
                                      "BYMINUTE and BYSECOND)",
                                      icalrecur_freq_to_string(rule.freq), date_parts[i]);
    }
    /* The iterator refuses rules whose BY parts cannot be expanded (BYMONTH=13). */
    icalrecur_iterator *it =
        icalrecur_iterator_new(rule, icaltime_from_timet_with_zone(0, 0, NULL));
    icalerror_clear_errno();
    if (!it)
        return slad_error_set(reterr, EINVAL,
                              "field 'rrule': '%s' cannot be expanded (a BY part out of range or "
                              "not allowed with FREQ=%s)",
                              rrule, icalrecur_freq_to_string(rule.freq));
    icalrecur_iterator_free(it);
    return 0;
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

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Whether the local occurrence (local_s wall clock, utc_s instant) is within the rule's
 * own UNTIL, read as RFC 5545 writes it. */
static bool within_rule_until(struct icaltimetype until, int64_t local_s, int64_t utc_s)
{
    if (icaltime_is_null_time(until))
        return true;
    int64_t u = (int64_t)icaltime_as_timet(until); /* the fields as if in UTC */
    if (until.is_date)
        return local_s < u + S_PER_DAY;
    if (icaltime_is_utc(until))
        return utc_s <= u;
    return local_s <= u;
}

/* The wall-clock second of instant at_ms in cal, as a floating libical time. */
static struct icaltimetype local_time(const struct calendar *cal, int64_t at_ms)
{
    int offset_s = 0;
    calendar_local(cal, at_ms, NULL, NULL, &offset_s);
    return icaltime_from_timet_with_zone((time_t)(floor_div(at_ms, MS_PER_S) + offset_s), 0,
                                         NULL); /* zone NULL: floating */
}

/* The first occurrence >= from_ms (and >= start) of rule expanded from dtstart_ms, which
 * is start or an occurrence; frac_ms is start's millisecond part. */
static int64_t search(const struct plan *p, const struct calendar *cal,
                      struct icalrecurrencetype rule, int64_t dtstart_ms, int64_t from_ms)
{
    /* UNTIL is applied here, where local time and instants are both known. */
    struct icaltimetype until = rule.until;
    rule.until = icaltime_null_time();
    int64_t frac_ms = p->start_ms - floor_div(p->start_ms, MS_PER_S) * MS_PER_S;
    icalrecur_iterator *it = icalrecur_iterator_new(rule, local_time(cal, dtstart_ms));
    icalerror_clear_errno();
    if (!it)
        return INT64_MAX;
    int64_t found = INT64_MAX;
    for (long step = 0; step < PLAN_MAX_STEPS; step++) {
        struct icaltimetype occ = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(occ))
            break;
        int64_t local_s = (int64_t)icaltime_as_timet(occ);
        int64_t utc_s = calendar_utc_of_local(cal, local_s);
        if (!within_rule_until(until, local_s, utc_s))
            break;
        int64_t at_ms = utc_s * MS_PER_S + frac_ms;
        if (p->until_ms != SLAD_NO_TIME && at_ms > p->until_ms)
            break;
        if (at_ms >= from_ms && at_ms >= p->start_ms) {
            found = at_ms;
            break;
        }
    }
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
    return found;
}

int64_t plan_next_occurrence(const struct plan *p, const struct calendar *cal, int64_t from_ms)
{
    if (!p->rrule || p->start_ms == SLAD_NO_TIME)
        return INT64_MAX;
    struct icalrecurrencetype rule = parse_rule(p->rrule);
    if (rule.freq == ICAL_NO_RECURRENCE)
        return INT64_MAX;
    return search(p, cal, rule, p->start_ms, from_ms);
}

int64_t plan_occurrence_after(const struct plan *p, const struct calendar *cal,
                              int64_t occurrence_ms)
{
    if (!p->rrule || p->start_ms == SLAD_NO_TIME)
        return INT64_MAX;
    struct icalrecurrencetype rule = parse_rule(p->rrule);
    if (rule.freq == ICAL_NO_RECURRENCE)
        return INT64_MAX;
    /* An occurrence anchors the same pattern as start (every default the rule takes from
     * DTSTART - day, weekday, time of day, the INTERVAL grid - is the same there), unless
     * COUNT counts from start, BYSETPOS picks within a period begun before it, or its
     * local time was moved by a DST jump. */
    int off_before = 0, off_at = 0;
    calendar_local(cal, occurrence_ms - MS_PER_S, NULL, NULL, &off_before);
    calendar_local(cal, occurrence_ms, NULL, NULL, &off_at);
    bool anchor = rule.count == 0 && rule.by_set_pos[0] == ICAL_RECURRENCE_ARRAY_MAX &&
                  off_before == off_at && occurrence_ms >= p->start_ms;
    return search(p, cal, rule, anchor ? occurrence_ms : p->start_ms, occurrence_ms + 1);
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
