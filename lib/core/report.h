/* report.h - SLA compliance report (GET /v1/reports/sla, SPEC 2): clocks of the tickets
 * reported in [from, to), counted per (group, clock), and the follow-up tasks of those
 * tickets. The store reads them (store_report_sla); this module counts, groups and ranks
 * what it reads, in one streaming pass.
 *
 * Per row: total = met + missed + open (cancelled clocks are not counted: they never
 * measured anything); open = pending, running, paused or breached (not stopped yet);
 * compliance = met / (met + missed); mean and p90 of the elapsed time of the stopped
 * (met or missed) clocks, i.e. the business time the clock counted, which is what its target
 * measures. p90 is the nearest rank: the ceil(0.9 n)-th smallest value.
 *
 * Follow-ups: the tasks of those tickets that are not cancelled; done = completed; overdue =
 * open past its deadline, or completed after its deadline. Plan tasks (no ticket) are not
 * in the SLA report. */
#ifndef SLAD_REPORT_H
#define SLAD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "error.h"
#include "slaclock.h"

enum report_by {
    REPORT_BY_POLICY,
    REPORT_BY_REGION,
    REPORT_BY_TEAM,
    REPORT_BY_ASSIGNEE,
    REPORT_BY_MONTH,
};

/* -1 when unknown. */
int report_by_from_name(const char *name);

#define REPORT_TZ_MAX 64

struct report_query {
    int64_t from_ms, to_ms; /* reported_at in [from, to) */
    enum report_by by;
    const char *tz; /* by month: IANA zone of the months ("UTC" when NULL) */
    int64_t now_ms; /* decides overdue for follow-ups still open */
};

struct report_row {
    char *group; /* NULL: the tickets without that field */
    char clock[SLACLOCK_NAME_MAX];
    int64_t total, met, missed, open;
    bool has_times;  /* some clock stopped: mean and p90 are set */
    int64_t mean_ms; /* rounded to the ms */
    int64_t p90_ms;
};

struct report_followups {
    int64_t total, done, overdue;
};

struct report {
    struct report_row *rows; /* by group (NULL last), then clock name */
    size_t n_rows;
    struct report_followups followups;
};

/* One clock as the store reads it (borrowed): the text of the grouping field
 * (group_len bytes; NULL: the ticket has none; ignored by month, whose group is the month
 * of reported_at_ms), its clock's name, state name and elapsed time. */
struct report_clock {
    const char *group;
    size_t group_len;
    const char *clock;
    size_t clock_len;
    const char *state;
    int64_t reported_at_ms;
    int64_t elapsed_ms;
};

/* The start (local midnight) of date in zone tz (an IANA name; NULL: UTC) into *ret_ms:
 * a report's from/to given as a plain date. -EINVAL for an unknown zone. */
int report_day_start(const struct calendar_date *date, const char *tz, int64_t *ret_ms,
                     struct slad_error *reterr);

/* Counts clocks into rows: new (for q: its by, tz and period), add each clock, then
 * finish into a report. A hash table of (group, clock) counts in one pass (no sort of the
 * clocks) and keeps the elapsed times of stopped clocks, so that p90 is exact (a selection
 * per row, linear). */
struct report_builder;

/* Errors: -EINVAL (to <= from; an unknown time zone, named), -ENOMEM. */
int report_builder_new(const struct report_query *q, struct report_builder **ret,
                       struct slad_error *reterr);
/* -ENOMEM. */
int report_builder_add(struct report_builder *b, const struct report_clock *c);
/* The rows, sorted, into ret->rows and ret->n_rows (the follow-ups are the caller's);
 * -ENOMEM. */
int report_builder_finish(struct report_builder *b, struct report *ret);
/* NULL-safe. */
void report_builder_free(struct report_builder *b);

void report_done(struct report *r);

#endif
