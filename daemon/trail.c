/* trail.c - the log lines of ticket state changes (see trail.h). */
#include "trail.h"

#include <ev.h>

#include "log.h"

/* Steps more than this late are marked: they fell due while the daemon was down or busy. */
#define LATE_MS 1000

void trail_effect(void *userdata, const struct ticket *t, const struct effect *e)
{
    double now_ms = ev_now((struct ev_loop *)userdata) * 1e3;
    double late_s = (now_ms - (double)e->at_ms) / 1e3;
    const char *late = now_ms - (double)e->at_ms > LATE_MS ? " (late)" : "";
    long long id = (long long)t->id;
    switch (e->kind) {
    case EFFECT_POLICY:
        log_info("ticket", "#%lld policy '%s'", id, e->name ? e->name : "");
        break;
    case EFFECT_CLOCK:
        log_info("ticket", "#%lld clock '%s' is now %s", id, e->clock,
                 slaclock_state_name(e->clock_state));
        break;
    case EFFECT_STEP:
        log_notice("escalation",
                   "#%lld clock '%s' step %d repeat %u: %s%s, %.1f s after its "
                   "instant",
                   id, e->clock, e->step, e->repeat, e->event, late, late_s);
        break;
    case EFFECT_REMINDER:
        log_notice("escalation", "#%lld appointment reminder %d%s", id, e->step, late);
        break;
    case EFFECT_FOLLOWUP:
        log_info("ticket", "#%lld follow-up '%s' scheduled", id, e->name ? e->name : "");
        break;
    case EFFECT_REPEAT_FAULT:
        log_notice("escalation", "#%lld repeat fault: %d tickets share its device and fault", id,
                   t->repeat_count);
        break;
    case EFFECT_FOLLOWUP_DUE:
        log_info("followup", "follow-up %lld '%s' (%s #%lld) is due: owner %s told",
                 (long long)e->followup_id, e->name ? e->name : "", t->id ? "ticket" : "plan", id,
                 e->owner ? e->owner : "");
        break;
    case EFFECT_FOLLOWUP_STEP:
        log_notice("escalation", "follow-up %lld '%s' (%s #%lld) step %d: %s%s",
                   (long long)e->followup_id, e->name ? e->name : "", t->id ? "ticket" : "plan", id,
                   e->step, e->event, late);
        break;
    case EFFECT_FOLLOWUP_DONE:
        log_info("followup", "follow-up %lld '%s' (%s #%lld) completed: %s",
                 (long long)e->followup_id, e->name ? e->name : "", t->id ? "ticket" : "plan", id,
                 e->outcome ? e->outcome : "");
        break;
    case EFFECT_PLAN_STOPPED:
        log_warning("plan",
                    "plan %lld '%s' stops: %s; no further visits until its rrule is "
                    "changed (PATCH /v1/plans/%lld)",
                    (long long)e->plan_id, e->name ? e->name : "", e->detail ? e->detail : "",
                    (long long)e->plan_id);
        break;
    }
}
