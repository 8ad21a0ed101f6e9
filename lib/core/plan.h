/* plan.h - one maintenance plan (巡检, 保养, seasonal visits): who and what it is for, its
 * recurrence, and the deadlines of the tasks it creates. Pure: the caller passes the
 * calendar and the instants.
 *
 * Recurrence. The rule is an RFC 5545 RRULE ("FREQ=MONTHLY;INTERVAL=6",
 * "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=15") of the kinds rrule.h accepts (daily or slower),
 * expanded by libical from DTSTART = start, both read as wall-clock times in the time
 * zone of the plan's calendar, so that "every 15 May 09:00" stays 09:00 local across DST
 * changes; each local occurrence then becomes an instant (a skipped local time moves to
 * the jump, a repeated one takes its first occurrence). The rule's own COUNT applies; its
 * UNTIL applies as written (a date: up to the end of that local day; a time with Z: that
 * instant; a floating time: local time). The plan's `until` bounds the occurrences as
 * well (an occurrence at `until` counts).
 *
 * Cost. Finding an occurrence draws on a time budget (budget.h; PLAN_BUDGET_NS per
 * operation, on the caller's clock) checked between libical calls, each of which recur.h
 * keeps short; a rule that needs more is "too costly" (-PLAN_ECOSTLY).
 *
 * Deadlines. "3wd" is the close of business of the 3rd working day after the start day in
 * the calendar (calendar_workdays_close); any other duration is business time counted in
 * the calendar (calendar_add). */
#ifndef SLAD_PLAN_H
#define SLAD_PLAN_H

#include <errno.h>
#include <stdint.h>

#include "budget.h"
#include "calendar.h"
#include "error.h"
#include "rrule.h"
#include "slaclock.h" /* SLAD_NO_TIME */

/* Field limits, in bytes. */
/* The error of a rule that needs more than the budget ("rrule too costly", 400): its own
 * number, apart from the ticket's -ETIME (out of order, 409). */
#define PLAN_ECOSTLY ETIMEDOUT

#define PLAN_NAME_MAX     128
#define PLAN_LABEL_MAX    128 /* team, owner, assignee, calendar, customer name, device... */
#define PLAN_ADDRESS_MAX  512
#define PLAN_RRULE_MAX    RRULE_TEXT_MAX
#define PLAN_DURATION_MAX 32

/* The time one operation (a request, a timer's fire) may spend finding occurrences:
 * a few milliseconds of the event loop. */
#define PLAN_BUDGET_MS 5
#define PLAN_BUDGET_NS (PLAN_BUDGET_MS * INT64_C(1000000))

struct plan {
    int64_t id; /* 0 until stored */
    char *name;
    char *customer_name, *customer_phone, *customer_address;
    char *device_model, *device_serial;
    char *team;
    char *owner;    /* role told of each task; "assignee" by default */
    char *assignee; /* a contact, when the plan names one */
    char *rrule;
    int64_t start_ms;
    int64_t until_ms;    /* SLAD_NO_TIME: no end */
    char *due_within;    /* a visit's deadline after its occurrence, as written */
    char *report_within; /* NULL: no report task */
    char *calendar;      /* name of the calendar of the config */
    int64_t occurrences; /* tasks created so far */
    int64_t next_ms;     /* the next occurrence not yet created; INT64_MAX: none */
    int64_t created_ms, updated_ms;
};

/* A zeroed plan with every time unset. */
void plan_init(struct plan *p);
/* Free the strings; p may be reused after plan_init. */
void plan_done(struct plan *p);
/* Deep copy into dst (initialised here); -ENOMEM. */
int plan_copy(struct plan *dst, const struct plan *src);
/* Replace a string field with a copy of value (NULL clears); -ENOMEM. */
int plan_set_string(char **field, const char *value);

/* -EINVAL naming field 'rrule', what is wrong and what to write instead, when rrule is
 * not a rule rrule.h accepts. */
int plan_check_rrule(const char *rrule, struct slad_error *reterr);
/* -EINVAL naming field when text is not a deadline duration ("2h", "3d", "3wd"). */
int plan_check_duration(const char *field, const char *text, struct slad_error *reterr);
/* Every rule of a plan: name, rrule, due_within and start required; durations and rrule
 * valid; until not before start. -EINVAL names the field. */
int plan_validate(const struct plan *p, struct slad_error *reterr);

/* The first occurrence at or after from_ms (and not before start), in cal's time zone,
 * within budget: 0 and *ret_ms, INT64_MAX when there is none (until, COUNT, UNTIL, or
 * no day the rule visits from start on before the year 2582 fits it); -PLAN_ECOSTLY naming
 * field 'rrule' ("rrule too costly") when the budget ran out first; -EINVAL when the
 * rule (a stored one) is not accepted; -ENOMEM. The search starts at from_ms, not at
 * start (unless the rule has a COUNT), so it costs the same in a plan's 100th year as
 * in its first. */
int plan_next_occurrence(const struct plan *p, const struct calendar *cal, int64_t from_ms,
                         struct budget *budget, int64_t *ret_ms, struct slad_error *reterr);

/* The end of within (a valid duration text) counted from from_ms in cal. */
int64_t plan_deadline(const char *within, const struct calendar *cal, int64_t from_ms);

#endif
