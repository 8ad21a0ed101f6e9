/* recur.h - the occurrences of a rule rrule_parse() accepted, from libical's iterator, in
 * calls that each stay short, under the caller's time budget.
 *
 * libical 3.0 finds the next occurrence by stepping through candidates inside one call:
 * day by day (FREQ=DAILY, WEEKLY) until a day passes the BY filters, period by period
 * (MONTHLY, YEARLY) until a month or year has a day, up to the year 2582 or 20000 when
 * none comes. A budget checked between calls cannot stop such a call, so:
 *   - DAILY and WEEKLY rules are expanded in windows (libical checks UNTIL at every
 *     step, and each window's UNTIL lets it step a few hundred candidates at most);
 *   - for MONTHLY and YEARLY rules each kind of month or year the rule visits (by month,
 *     length and weekday of its first day) is first asked once whether it has a day at
 *     all, in a call that expands that one period; libical is then called only when a
 *     period with a day lies at most RECUR_PERIODS_MAX periods ahead, and a rule that no
 *     period it visits before 2582 can satisfy has no occurrence;
 *   - COUNT is counted here, so that a window can start anywhere.
 * The budget is checked before every libical call; when it is spent, -ETIME. */
#ifndef SLAD_RECUR_H
#define SLAD_RECUR_H

#include <libical/ical.h>

#include "budget.h"

/* Candidates one window lets libical step through (DAILY, WEEKLY). */
#define RECUR_WINDOW_STEPS 256
/* Periods (months, years) libical may scan for the next one with a day (MONTHLY,
 * YEARLY): 50 years of months. */
#define RECUR_PERIODS_MAX 600

struct recur;

/* Expand rule (its UNTIL is ignored: the caller applies it) from dtstart, a floating
 * local time; the first occurrence given is the first at or after begin. The budget is
 * borrowed and drawn on by every call. 0, or -ENOMEM. */
int recur_new(const struct icalrecurrencetype *rule, struct icaltimetype dtstart,
              struct icaltimetype begin, struct budget *budget, struct recur **ret);

/* 1 and the next occurrence in *ret; 0 when there is none (COUNT reached, past the year
 * 2582, or none can come from dtstart); -ETIME when the budget is spent or the next
 * occurrence lies too far for a bounded search; -ENOMEM. */
int recur_next(struct recur *r, struct icaltimetype *ret);

void recur_free(struct recur *r);

/* Have libical load what it loads on its first expansion (ICU's calendar data: 10-20 ms),
 * so that no request's budget pays for it. Once, at start. */
void recur_warm_up(void);

#endif
