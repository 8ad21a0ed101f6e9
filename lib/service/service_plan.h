/* service_plan.h - maintenance plans as a service (the API's /v1/plans): each operation
 * runs in a savepoint like the ticket ones (service.h) and keeps the plan's next
 * occurrence (plans.next_ms) mirrored in the agenda (AGENDA_PLAN).
 *
 * Rules. Occurrences are counted from max(start, the instant the plan was created or its
 * rule last changed): a plan whose start lies in the past only anchors its pattern there
 * and creates no task for occurrences already gone. Each occurrence creates one task
 * "visit" (owner: the plan's owner role, "assignee" by default) due at the occurrence with
 * its deadline due_within later in the plan's calendar; completing a visit of a plan with
 * report_within creates a task "report" due at the completion, deadline report_within
 * later. A PATCH of rrule, start, until or calendar keeps the tasks already created; the
 * next occurrences follow the new rule from the time of the PATCH; a rule with no
 * occurrence at all is refused there as in a POST. Deleting a plan cancels its open tasks
 * (their rows stay, plan_id NULL) and ends its occurrences.
 *
 * Cost. Each operation may spend PLAN_BUDGET_NS finding occurrences, on the clock given
 * by service_set_clock(). When the agenda fires a plan whose stored rule is no longer
 * accepted or too costly, the visit due is made and the plan stops (next_ms none) with an
 * EFFECT_PLAN_STOPPED told to the observer: one plan stops, not the loop.
 * Errors: -EINVAL (400, naming the field), -PLAN_ECOSTLY (400 "rrule too costly"), -ENOENT
 * (404), database failures as service.h. */
#ifndef SLAD_SERVICE_PLAN_H
#define SLAD_SERVICE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "service.h"

/* Validate p (fields from the request), complete it (owner "assignee", calendar: the
 * catch-all policy's when none) and store it with its next occurrence; p->id, next_ms,
 * created_ms and updated_ms are set here. An occurrence already due (start at now_ms)
 * is created at the agenda's next round. */
int service_plan_create(struct service *svc, struct plan *p, int64_t now_ms,
                        struct slad_error *reterr);

/* *ret is initialised here on success; plan_done() it. */
int service_plan_get(struct service *svc, int64_t id, struct plan *ret, struct slad_error *reterr);

/* Store p (the plan p->id as changed by the caller) after validating it; the next
 * occurrence is recomputed when its rule, start, until or calendar changed. */
int service_plan_update(struct service *svc, struct plan *p, int64_t now_ms,
                        struct slad_error *reterr);

/* Cancel the plan's open tasks (*ret_cancelled: how many) and delete it. */
int service_plan_delete(struct service *svc, int64_t id, size_t *ret_cancelled,
                        struct slad_error *reterr);

#endif
