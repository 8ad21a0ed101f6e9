/* rrule.h - the RFC 5545 recurrence rules a maintenance plan accepts, checked before any
 * expansion: libical parses the text, this module refuses
 *   - frequencies finer than FREQ=DAILY (a plan is a visit, not a timer),
 *   - values out of the ranges of RFC 5545 and parts RFC 5545 forbids with the FREQ,
 *   - what libical 3.0 expands wrongly or not at all (BYSETPOS with DAILY or WEEKLY,
 *     a negative BYMONTHDAY with DAILY, BYSECOND=60, BYWEEKNO without BYDAY or with
 * BYMONTH/BYMONTHDAY, BYYEARDAY with BYMONTH/BYMONTHDAY/BYWEEKNO, RSCALE, SKIP),
 *   - BYMONTH and BYMONTHDAY whose every pair is a day no year has (BYMONTH=2;BYMONTHDAY=30),
 *   - an INTERVAL that puts periods more than ten years apart, a COUNT over 366.
 * Each message says what is wrong and what to write instead. Whether an accepted rule
 * occurs from a given start, and how costly finding it is, is recur.h's business. */
#ifndef SLAD_RRULE_H
#define SLAD_RRULE_H

#include <libical/ical.h>
#include <stddef.h>

#include "error.h"

#define RRULE_TEXT_MAX 512 /* bytes */
/* A rule with COUNT is expanded from its start at each search: a year of daily visits at
 * most keeps that well within the budget. */
#define RRULE_COUNT_MAX 366
#define RRULE_YEARS_MAX 10 /* the longest INTERVAL, in years */

/* The length of one of rule's BY lists (libical ends a list with ICAL_RECURRENCE_ARRAY_MAX
 * unless it is full); RRULE_LEN(rule, by_month) for a member. */
int rrule_list_len(const short *list, size_t size);
#define RRULE_LEN(rule, member)                                                                    \
    rrule_list_len((rule)->member, sizeof((rule)->member) / sizeof(short))

/* Parse and check text (without the "RRULE:" prefix). 0 and *ret, or -EINVAL with a
 * message that does not name the field (the caller prefixes it). */
int rrule_parse(const char *text, struct icalrecurrencetype *ret, struct slad_error *reterr);

#endif
