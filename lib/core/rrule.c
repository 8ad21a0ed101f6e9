/* rrule.c - the recurrence rules a plan accepts, checked before any expansion (rrule.h).
 *
 * Why before: libical 3.0 looks for an occurrence by stepping through candidates inside
 * one call, so a rule whose parts never meet (FREQ=SECONDLY;BYSECOND=60,
 * FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) keeps a single call busy for seconds or minutes,
 * where no budget checked between calls can stop it. */
#include "rrule.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXAMPLE "an RFC 5545 RRULE such as FREQ=MONTHLY;INTERVAL=6"

/* libical's parse of text; freq is ICAL_NO_RECURRENCE when it failed or has no FREQ. */
static struct icalrecurrencetype parse(const char *text)
{
    icalerror_clear_errno();
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(text);
    icalerror_clear_errno();
    return rule;
}

int rrule_list_len(const short *list, size_t size)
{
    int n = 0;
    while ((size_t)n < size && list[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    return n;
}
#define LEN RRULE_LEN

/* "30,31" */
static const char *list_text(const short *list, int n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%d", i ? "," : "", list[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

/* ---- the parts and their ranges (RFC 5545 section 3.3.10) ---- */

struct range {
    const char *name;
    size_t offset, size; /* of the list in struct icalrecurrencetype, in bytes */
    int min, max;
    bool from_end; /* -max..-1 count from the end */
};

#define LIST(member)                                                                               \
    offsetof(struct icalrecurrencetype, member), sizeof(((struct icalrecurrencetype *)0)->member)

static const struct range ranges[] = {
    {"BYSECOND", LIST(by_second), 0, 59, false},
    /* RFC 5545: 60, a leap second */ {"BYMINUTE", LIST(by_minute), 0, 59, false},
    {"BYHOUR", LIST(by_hour), 0, 23, false},
    {"BYMONTHDAY", LIST(by_month_day), 1, 31, true},
    {"BYYEARDAY", LIST(by_year_day), 1, 366, true},
    {"BYWEEKNO", LIST(by_week_no), 1, 53, true},
    {"BYMONTH", LIST(by_month), 1, 12, false},
    {"BYSETPOS", LIST(by_set_pos), 1, 366, true},
};

/* "BYHOUR takes 0 to 23" */
static const char *range_text(const struct range *r, char *buf, size_t size)
{
    if (r->from_end)
        snprintf(buf, size, "%s takes 1 to %d, or -%d to -1 counting from the end", r->name, r->max,
                 r->max);
    else
        snprintf(buf, size, "%s takes %d to %d", r->name, r->min, r->max);
    return buf;
}

/* The range of the BY part that NAME=... names; NULL for other parts. */
static const struct range *range_of(const char *part)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        size_t n = strlen(ranges[i].name);
        if (strncasecmp(part, ranges[i].name, n) == 0 && part[n] == '=')
            return &ranges[i];
    }
    return NULL;
}

/* ---- the text, part by part ---- */

/* The first ';'-separated part of text that libical refuses, copied into buf; "" when
 * each part reads on its own (then the parts conflict). */
static void find_bad_part(const char *text, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ";");
        char probe[RRULE_TEXT_MAX + 16];
        bool is_freq = n >= 5 && strncasecmp(p, "FREQ=", 5) == 0;
        snprintf(probe, sizeof(probe), "%s%.*s", is_freq ? "" : "FREQ=YEARLY;", (int)n, p);
        if (n > 0 && parse(probe).freq == ICAL_NO_RECURRENCE) {
            snprintf(buf, size, "%.*s", (int)n, p);
            return;
        }
        p += n;
        if (*p == ';')
            p++;
    }
}

static bool part_is(const char *part, size_t n, const char *name)
{
    size_t len = strlen(name);
    return n > len && part[len] == '=' && strncasecmp(part, name, len) == 0;
}

/* The value of a NAME=digits part; -1 when it is not a plain whole number (libical reads
 * "2x" as 2 and 70000 as a 16-bit 4464). */
static long whole_number(const char *value, size_t n)
{
    if (n == 0 || n > 6 || strspn(value, "0123456789") < n)
        return -1;
    return strtol(value, NULL, 10);
}

/* What libical would read too loosely or not support: RSCALE, SKIP, leap months, and
 * INTERVAL and COUNT that are not whole numbers (their values go to *interval, *count). */
static int check_text(const char *text, long *interval, long *count, struct slad_error *reterr)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ";");
        const char *value = memchr(p, '=', n);
        size_t value_len = value ? n - (size_t)(++value - p) : 0;
        if (part_is(p, n, "RSCALE") || part_is(p, n, "SKIP"))
            return slad_error_set(reterr, EINVAL,
                                  "'%.*s' is not supported: plans follow the Gregorian calendar "
                                  "and skip days that do not exist",
                                  (int)n, p);
        if (part_is(p, n, "BYMONTH") && memchr(value, 'L', value_len))
            return slad_error_set(reterr, EINVAL, "'%.*s': leap months (L) are not supported",
                                  (int)n, p);
        long *number = part_is(p, n, "INTERVAL") ? interval : part_is(p, n, "COUNT") ? count : NULL;
        if (number && (*number = whole_number(value, value_len)) < 1)
            return slad_error_set(reterr, EINVAL,
                                  "'%.*s' is not valid: write a whole number from 1", (int)n, p);
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}

/* ---- the parts, as libical read them ---- */

static int check_ranges(const struct icalrecurrencetype *rule, struct slad_error *reterr)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const struct range *r = &ranges[i];
        const short *list = (const short *)((const char *)rule + r->offset);
        for (int k = 0, n = rrule_list_len(list, r->size / sizeof(short)); k < n; k++) {
            int v = list[k];
            if (r->from_end ? v != 0 && abs(v) <= r->max : v >= r->min && v <= r->max)
                continue;
            if (r->offset == offsetof(struct icalrecurrencetype, by_second) && v == 60)
                return slad_error_set(reterr, EINVAL,
                                      "BYSECOND=60 (a leap second) cannot be scheduled; write 0 "
                                      "to 59");
            char range[96];
            return slad_error_set(reterr, EINVAL, "%s=%d is out of range: %s", r->name, v,
                                  range_text(r, range, sizeof(range)));
        }
    }
    return 0;
}

/* Numbered weekdays (BYDAY=2TU, -1FR): RFC 5545 takes them with MONTHLY and YEARLY only,
 * and not with BYWEEKNO; a month has at most 5 of a weekday, a year 53. */
static int check_weekdays(const struct icalrecurrencetype *rule, struct slad_error *reterr)
{
    const char *freq = icalrecur_freq_to_string(rule->freq);
    bool in_month = rule->freq == ICAL_MONTHLY_RECURRENCE || LEN(rule, by_month) > 0;
    int max = in_month ? 5 : 53;
    for (int i = 0, n = LEN(rule, by_day); i < n; i++) {
        int pos = icalrecurrencetype_day_position(rule->by_day[i]);
        const char *day =
            icalrecur_weekday_to_string(icalrecurrencetype_day_day_of_week(rule->by_day[i]));
        if (pos == 0)
            continue;
        if (rule->freq != ICAL_MONTHLY_RECURRENCE && rule->freq != ICAL_YEARLY_RECURRENCE)
            return slad_error_set(reterr, EINVAL,
                                  "BYDAY=%d%s: a numbered weekday needs FREQ=MONTHLY or "
                                  "FREQ=YEARLY; with FREQ=%s write BYDAY=%s",
                                  pos, day, freq, day);
        if (LEN(rule, by_week_no) > 0)
            return slad_error_set(reterr, EINVAL,
                                  "BYDAY=%d%s: with BYWEEKNO write the weekday without a number "
                                  "(BYDAY=%s)",
                                  pos, day, day);
        if (abs(pos) > max)
            return slad_error_set(reterr, EINVAL,
                                  "BYDAY=%d%s is out of range: a %s has at most %d of a weekday; "
                                  "write 1%s to %d%s, or -1%s for the last",
                                  pos, day, in_month ? "month" : "year", max, day, max, day, day);
    }
    return 0;
}

/* Parts RFC 5545 forbids with the FREQ, and those libical 3.0 expands wrongly or not at
 * all (each tried: BYSETPOS with DAILY is ignored, BYMONTHDAY=-1 with DAILY never
 * matches, BYWEEKNO=20 alone gives a day in September; BYSECOND=60, which lands on the
 * next day every other time, is refused with the ranges). */
static int check_combinations(const struct icalrecurrencetype *rule, struct slad_error *reterr)
{
    const char *freq = icalrecur_freq_to_string(rule->freq);
    bool yearly = rule->freq == ICAL_YEARLY_RECURRENCE;
    bool sub_monthly = rule->freq == ICAL_DAILY_RECURRENCE || rule->freq == ICAL_WEEKLY_RECURRENCE;
    int by_month = LEN(rule, by_month), by_month_day = LEN(rule, by_month_day);
    int by_year_day = LEN(rule, by_year_day), by_week_no = LEN(rule, by_week_no);
    int by_day = LEN(rule, by_day), by_set_pos = LEN(rule, by_set_pos);
    int by_time = LEN(rule, by_hour) + LEN(rule, by_minute) + LEN(rule, by_second);
    if (by_week_no && !yearly)
        return slad_error_set(reterr, EINVAL, "BYWEEKNO needs FREQ=YEARLY");
    if (by_year_day && !yearly)
        return slad_error_set(reterr, EINVAL, "BYYEARDAY needs FREQ=YEARLY");
    if (by_month_day && rule->freq == ICAL_WEEKLY_RECURRENCE)
        return slad_error_set(reterr, EINVAL,
                              "BYMONTHDAY does not go with FREQ=WEEKLY; write FREQ=MONTHLY");
    if (by_set_pos && sub_monthly)
        return slad_error_set(reterr, EINVAL,
                              "BYSETPOS is applied only with FREQ=MONTHLY or FREQ=YEARLY "
                              "(libical ignores it with FREQ=%s)",
                              freq);
    if (by_set_pos && !(by_month + by_month_day + by_year_day + by_week_no + by_day + by_time))
        return slad_error_set(reterr, EINVAL,
                              "BYSETPOS needs another BY part to pick from, e.g. "
                              "BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1 for the last working day");
    if (rule->freq == ICAL_DAILY_RECURRENCE && by_day && rule->interval % 7 == 0)
        return slad_error_set(reterr, EINVAL,
                              "FREQ=DAILY;INTERVAL=%d stays on the weekday of 'start', so BYDAY "
                              "would match it or never; write FREQ=WEEKLY;INTERVAL=%d with BYDAY",
                              rule->interval, rule->interval / 7);
    for (int i = 0; rule->freq == ICAL_DAILY_RECURRENCE && i < by_month_day; i++)
        if (rule->by_month_day[i] < 0)
            return slad_error_set(reterr, EINVAL,
                                  "BYMONTHDAY=%d: libical counts days from the end of the month "
                                  "only with FREQ=MONTHLY or YEARLY; write FREQ=MONTHLY;"
                                  "BYMONTHDAY=%d",
                                  rule->by_month_day[i], rule->by_month_day[i]);
    if (by_week_no && !by_day)
        return slad_error_set(reterr, EINVAL,
                              "BYWEEKNO needs BYDAY to name the day of the week, e.g. "
                              "BYWEEKNO=20;BYDAY=MO");
    if ((by_week_no || by_year_day) && (by_month || by_month_day || (by_week_no && by_year_day)))
        return slad_error_set(reterr, EINVAL,
                              "%s cannot be combined with BYMONTH, BYMONTHDAY or %s; write one "
                              "or the other",
                              by_week_no ? "BYWEEKNO" : "BYYEARDAY",
                              by_week_no ? "BYYEARDAY" : "BYWEEKNO");
    return 0;
}

/* BYMONTH and BYMONTHDAY whose every pair is a day no year has. */
static int check_month_days(const struct icalrecurrencetype *rule, struct slad_error *reterr)
{
    static const int longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int months = LEN(rule, by_month), days = LEN(rule, by_month_day);
    if (!months || !days)
        return 0;
    for (int m = 0; m < months; m++)
        for (int d = 0; d < days; d++)
            if (abs(rule->by_month_day[d]) <= longest[rule->by_month[m]])
                return 0;
    char month_list[64], day_list[160];
    return slad_error_set(reterr, EINVAL,
                          "BYMONTHDAY=%s never falls in BYMONTH=%s: no year has such a day "
                          "(February has at most 29 days; April, June, September and November "
                          "30); write BYMONTHDAY=-1 for the last day of the month",
                          list_text(rule->by_month_day, days, day_list, sizeof(day_list)),
                          list_text(rule->by_month, months, month_list, sizeof(month_list)));
}

/* INTERVAL: periods at most RRULE_YEARS_MAX years apart; COUNT at most RRULE_COUNT_MAX. */
static int check_bounds(const struct icalrecurrencetype *rule, long interval, long count,
                        struct slad_error *reterr)
{
    long max = rule->freq == ICAL_DAILY_RECURRENCE     ? 366L * RRULE_YEARS_MAX
               : rule->freq == ICAL_WEEKLY_RECURRENCE  ? 52L * RRULE_YEARS_MAX
               : rule->freq == ICAL_MONTHLY_RECURRENCE ? 12L * RRULE_YEARS_MAX
                                                       : RRULE_YEARS_MAX;
    if (interval > max)
        return slad_error_set(reterr, EINVAL,
                              "INTERVAL=%ld is out of range: visits are at most %d years apart; "
                              "with FREQ=%s write INTERVAL from 1 to %ld",
                              interval, RRULE_YEARS_MAX, icalrecur_freq_to_string(rule->freq), max);
    if (count > RRULE_COUNT_MAX)
        return slad_error_set(reterr, EINVAL,
                              "COUNT=%ld is out of range: write COUNT from 1 to %d, or end the "
                              "rule with UNTIL or the plan with 'until'",
                              count, RRULE_COUNT_MAX);
    return 0;
}

int rrule_parse(const char *text, struct icalrecurrencetype *ret, struct slad_error *reterr)
{
    if (strlen(text) > RRULE_TEXT_MAX)
        return slad_error_set(reterr, EINVAL, "the rule is longer than %d bytes", RRULE_TEXT_MAX);
    long interval = 1, count = 0;
    int r = check_text(text, &interval, &count, reterr);
    if (r < 0)
        return r;
    struct icalrecurrencetype rule = parse(text);
    if (rule.freq == ICAL_NO_RECURRENCE) {
        char bad[RRULE_TEXT_MAX + 1];
        find_bad_part(text, bad, sizeof(bad));
        const struct range *range = range_of(bad);
        char text_range[96];
        if (range)
            return slad_error_set(reterr, EINVAL, "'%s' is not valid: %s", bad,
                                  range_text(range, text_range, sizeof(text_range)));
        if (bad[0])
            return slad_error_set(reterr, EINVAL, "'%s' is not valid in %s", bad, EXAMPLE);
        if (!strcasestr(text, "FREQ="))
            return slad_error_set(reterr, EINVAL, "'%s' has no FREQ; it must be %s", text, EXAMPLE);
        return slad_error_set(reterr, EINVAL, "'%s' is not %s", text, EXAMPLE);
    }
    if (rule.freq == ICAL_SECONDLY_RECURRENCE || rule.freq == ICAL_MINUTELY_RECURRENCE ||
        rule.freq == ICAL_HOURLY_RECURRENCE)
        return slad_error_set(reterr, EINVAL,
                              "FREQ=%s is not accepted: a plan recurs at most daily (FREQ=DAILY, "
                              "WEEKLY, MONTHLY or YEARLY); for several visits a day write "
                              "FREQ=DAILY;BYHOUR=9,17",
                              icalrecur_freq_to_string(rule.freq));
    r = check_ranges(&rule, reterr);
    if (r == 0)
        r = check_weekdays(&rule, reterr);
    if (r == 0)
        r = check_combinations(&rule, reterr);
    if (r == 0)
        r = check_month_days(&rule, reterr);
    if (r == 0)
        r = check_bounds(&rule, interval, count, reterr);
    if (r == 0)
        *ret = rule;
    return r;
}
