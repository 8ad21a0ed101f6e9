/* recur.c - a checked rule's occurrences from libical in short calls (recur.h).
 *
 * Local times are floating icaltimetypes; positions are "local seconds": the wall-clock
 * fields read as if UTC. A period is a year (YEARLY) or a month counted from year 0
 * (MONTHLY); the rule visits dtstart's period and every INTERVAL-th after it. */
#include "recur.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "rrule.h"

#define S_PER_DAY INT64_C(86400)
/* libical gives nothing after this year (64-bit time_t). */
#define LAST_YEAR 2582
/* The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks). */
#define CYCLE_YEARS 400
/* A probe's INTERVAL: a multiple of the cycle that takes libical past the year 20000,
 * where it stops looking, in one step. */
#define PROBE_INTERVAL_YEARS 20000

enum kind_answer { KIND_UNKNOWN, KIND_HAS_DAY, KIND_EMPTY };

struct recur {
    struct icalrecurrencetype rule; /* COUNT and UNTIL cleared */
    struct icaltimetype dtstart;
    struct budget *budget;
    int64_t dtstart_s;
    int64_t begin_s;  /* occurrences before it are not given */
    int64_t next_s;   /* where the next iterator starts */
    int64_t pos_s;    /* the last occurrence given by libical, or next_s */
    int64_t window_s; /* DAILY, WEEKLY: local seconds per window; 0: MONTHLY, YEARLY */
    int count_left;   /* -1: no COUNT */
    bool monthly;     /* the period is a month (else a year) */
    bool by_weekday;  /* a period's days depend on the weekday it starts on */
    bool default_day; /* libical takes BYMONTHDAY from dtstart's day */
    bool ended;
    icalrecur_iterator *it;
    /* MONTHLY, YEARLY: what each kind of period gave when asked: [month][length - 28 (a
     * year: 1 when leap)][weekday of its first day, 0 when it does not matter]. */
    unsigned char kinds[12][4][7];
};

static int64_t local_seconds(struct icaltimetype t)
{
    return (int64_t)icaltime_as_timet(t); /* floating: the fields as if UTC */
}

static struct icaltimetype floating(int64_t s)
{
    return icaltime_from_timet_with_zone((time_t)s, 0, NULL);
}

#define LEN RRULE_LEN

static int64_t period_of(const struct recur *r, int64_t s)
{
    int64_t y;
    int m, d;
    civil_date(civil_floor_div(s, S_PER_DAY), &y, &m, &d);
    return r->monthly ? y * 12 + (m - 1) : y;
}

/* How many local seconds hold about RECUR_WINDOW_STEPS of libical's candidates: each day
 * of the INTERVAL grid (each BYDAY day of every INTERVAL-th week) at each time of day. */
static int64_t window_seconds(const struct icalrecurrencetype *rule)
{
    int64_t times = 1;
    int hours = LEN(rule, by_hour), minutes = LEN(rule, by_minute);
    int seconds = LEN(rule, by_second), days = LEN(rule, by_day);
    times *= hours ? hours : 1;
    times *= minutes ? minutes : 1;
    times *= seconds ? seconds : 1;
    int64_t span_s = S_PER_DAY * rule->interval; /* the grid's period, in local seconds */
    if (rule->freq == ICAL_WEEKLY_RECURRENCE) {
        span_s *= 7;
        times *= days ? days : 1;
    }
    int64_t window_s = RECUR_WINDOW_STEPS * span_s / times;
    return window_s > 0 ? window_s : 1;
}

int recur_new(const struct icalrecurrencetype *rule, struct icaltimetype dtstart,
              struct icaltimetype begin, struct budget *budget, struct recur **ret)
{
    struct recur *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->rule = *rule;
    r->rule.until = icaltime_null_time();
    r->count_left = r->rule.count > 0 ? r->rule.count : -1;
    r->rule.count = 0;
    r->dtstart = dtstart;
    r->budget = budget;
    r->dtstart_s = local_seconds(dtstart);
    r->begin_s = local_seconds(begin);
    /* COUNT counts from dtstart: then expand from there and skip what lies before begin. */
    r->next_s = r->count_left < 0 && r->begin_s > r->dtstart_s ? r->begin_s : r->dtstart_s;
    r->pos_s = r->next_s;
    bool sub_monthly = rule->freq == ICAL_DAILY_RECURRENCE || rule->freq == ICAL_WEEKLY_RECURRENCE;
    r->window_s = sub_monthly ? window_seconds(rule) : 0;
    r->monthly = rule->freq == ICAL_MONTHLY_RECURRENCE;
    r->by_weekday = LEN(rule, by_day) > 0;
    r->default_day = !LEN(rule, by_month_day) && !LEN(rule, by_day) && !LEN(rule, by_year_day) &&
                     !LEN(rule, by_week_no);
    *ret = r;
    return 0;
}

void recur_free(struct recur *r)
{
    if (!r)
        return;
    if (r->it)
        icalrecur_iterator_free(r->it);
    icalerror_clear_errno();
    free(r);
}

/* Why icalrecur_iterator_new() gave nothing: -ENOMEM, or 0 for a rule or start it
 * cannot expand (no day before its last year). */
static int no_iterator(void)
{
    bool out_of_memory = icalerrno == ICAL_NEWFAILED_ERROR;
    icalerror_clear_errno();
    return out_of_memory ? -ENOMEM : 0;
}

/* ---- MONTHLY and YEARLY: which periods have a day ---- */

/* Whether period p (its year y, month m) has a day: libical expands that one period of a
 * YEARLY copy of the rule (a MONTHLY rule's month is a YEARLY one with that BYMONTH: the
 * same BYMONTHDAY, numbered BYDAY within the month and BYSETPOS). 1, 0 or -ETIME. */
static int probe(struct recur *r, int64_t y, int m)
{
    if (budget_spent(r->budget))
        return -ETIME;
    struct icalrecurrencetype q = r->rule;
    q.freq = ICAL_YEARLY_RECURRENCE;
    q.interval = PROBE_INTERVAL_YEARS;
    if (r->monthly) {
        q.by_month[0] = (short)m;
        q.by_month[1] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    if (r->default_day) { /* the probe starts on the 1st: say which day dtstart meant */
        q.by_month_day[0] = (short)r->dtstart.day;
        q.by_month_day[1] = ICAL_RECURRENCE_ARRAY_MAX;
    }
    struct icaltimetype at = r->dtstart;
    at.year = (int)y;
    at.month = r->monthly ? m : r->dtstart.month;
    at.day = 1;
    icalrecur_iterator *it = icalrecur_iterator_new(q, at);
    if (!it)
        return no_iterator();
    icalrecur_iterator_free(it);
    icalerror_clear_errno();
    return 1;
}

/* Whether the rule's period p has a day, asking libical once per kind of period. */
static int period_has_day(struct recur *r, int64_t p)
{
    int64_t y = r->monthly ? civil_floor_div(p, 12) : p;
    int m = r->monthly ? (int)(p - y * 12) + 1 : 1;
    if (r->monthly && LEN(&r->rule, by_month)) {
        bool listed = false;
        for (int i = 0, n = LEN(&r->rule, by_month); i < n; i++)
            listed = listed || r->rule.by_month[i] == m;
        if (!listed)
            return 0;
    }
    int length = civil_month_days(y, r->monthly ? m : 2) - 28; /* a year: 1 when leap */
    int wd = r->by_weekday ? civil_weekday(civil_days(y, m, 1)) : 0;
    unsigned char *known = &r->kinds[m - 1][length][wd];
    if (*known == KIND_UNKNOWN) {
        /* A year of the same kind that libical takes (the calendar repeats). */
        int64_t like =
            y - CYCLE_YEARS * civil_floor_div(y - LAST_YEAR + CYCLE_YEARS - 1, CYCLE_YEARS);
        int has = probe(r, y > LAST_YEAR ? like : y, m);
        if (has < 0)
            return has;
        *known = has ? KIND_HAS_DAY : KIND_EMPTY;
    }
    return *known == KIND_HAS_DAY;
}

/* How many of the periods the rule visits libical steps through, from period from on,
 * before one with a day (0: from's own); that period in *ret_period. -1 when no kind of
 * period it visits has a day; -ETIME when the budget is spent; -ENOMEM. */
static int64_t periods_to_day(struct recur *r, int64_t from, int64_t *ret_period)
{
    int64_t step = r->rule.interval, first = period_of(r, r->dtstart_s);
    int64_t k = from <= first ? 0 : (from - first + step - 1) / step;
    /* Beyond a cycle's worth of steps the kinds repeat. */
    int64_t cycle = r->monthly ? CYCLE_YEARS * 12 : CYCLE_YEARS;
    for (int64_t n = 0; n < cycle; n++) {
        int64_t p = first + (k + n) * step;
        int has = period_has_day(r, p);
        if (has < 0)
            return has;
        if (has) {
            *ret_period = p;
            return n;
        }
    }
    return -1;
}

static int64_t year_of_period(const struct recur *r, int64_t p)
{
    return r->monthly ? civil_floor_div(p, 12) : p;
}

/* ---- the iterator ---- */

/* Open libical's iterator at next_s: 1, 0 when nothing more can come, -ETIME, -ENOMEM. */
static int open_iterator(struct recur *r)
{
    struct icalrecurrencetype rule = r->rule;
    if (r->window_s) {
        if (floating(r->next_s).year > LAST_YEAR)
            return 0;
        rule.until = floating(r->next_s + r->window_s - 1);
    } else {
        /* Opening scans to the first period with a day: it must come, and soon. */
        int64_t p = 0, n = periods_to_day(r, period_of(r, r->next_s), &p);
        if (n == -ETIME || n == -ENOMEM)
            return (int)n;
        if (n < 0 || year_of_period(r, p) > LAST_YEAR)
            return 0;
        if (n > RECUR_PERIODS_MAX)
            return -ETIME;
    }
    if (budget_spent(r->budget))
        return -ETIME;
    r->it = icalrecur_iterator_new(rule, r->dtstart);
    if (!r->it)
        return no_iterator();
    icalerror_clear_errno();
    r->pos_s = r->next_s;
    if (r->next_s > r->dtstart_s) {
        if (budget_spent(r->budget))
            return -ETIME;
        int ok = icalrecur_iterator_set_start(r->it, floating(r->next_s));
        icalerror_clear_errno();
        if (!ok)
            return 0;
    }
    return 1;
}

/* Whether the next MONTHLY or YEARLY step, which may go on to the next period with a day,
 * stays short: 1; -ETIME when that period is far; 0 when it is far and past LAST_YEAR as
 * well (then what may remain of the current period is given up). */
static int step_is_short(struct recur *r)
{
    int64_t p = 0, n = periods_to_day(r, period_of(r, r->pos_s) + 1, &p);
    if (n == -ETIME || n == -ENOMEM)
        return (int)n;
    if (n >= 0 && n <= RECUR_PERIODS_MAX)
        return 1;
    return n < 0 || year_of_period(r, p) > LAST_YEAR ? 0 : -ETIME;
}

int recur_next(struct recur *r, struct icaltimetype *ret)
{
    while (!r->ended && r->count_left != 0) {
        int k = r->it ? 1 : open_iterator(r);
        if (k > 0 && !r->window_s)
            k = step_is_short(r);
        if (k > 0 && budget_spent(r->budget))
            k = -ETIME;
        if (k <= 0) {
            r->ended = k == 0;
            return k;
        }
        struct icaltimetype occ = icalrecur_iterator_next(r->it);
        icalerror_clear_errno();
        if (icaltime_is_null_time(occ)) {
            icalrecur_iterator_free(r->it);
            r->it = NULL;
            if (!r->window_s)
                break;
            r->next_s += r->window_s; /* the window is done: the next one */
            continue;
        }
        r->pos_s = local_seconds(occ);
        if (r->count_left > 0)
            r->count_left--;
        if (r->pos_s >= r->begin_s) {
            *ret = occ;
            return 1;
        }
    }
    r->ended = true;
    return 0;
}

void recur_warm_up(void)
{
    struct icalrecurrencetype rule = icalrecurrencetype_from_string("FREQ=YEARLY");
    icalrecur_iterator *it =
        icalrecur_iterator_new(rule, icaltime_from_timet_with_zone(0, 0, NULL));
    if (it)
        icalrecur_iterator_free(it);
    icalerror_clear_errno();
}
