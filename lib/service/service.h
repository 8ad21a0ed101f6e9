/* service.h - tickets as a service: the operations of the API and of the timers, each
 * reading the store, running the lifecycle, and writing the ticket, its history and its
 * outbox rows back in the caller's transaction, then updating the agenda.
 *
 * Transactions: the daemon opens one per loop iteration (store_begin) and commits it
 * before answering (group commit). Each operation here runs inside a savepoint, so a
 * failed operation leaves nothing behind and the others of the batch still commit.
 * Errors: -EINVAL bad input (400), -ENOENT unknown ticket (404), -EBUSY event refused
 * by the status table (409), -TICKET_EORDER event dated before the ticket's last event
 * (409), -ENOMEM out of memory (503), -EIO the database failed (503); reterr says what. */
#ifndef SLAD_SERVICE_H
#define SLAD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agenda.h"
#include "budget.h"
#include "conf.h"
#include "error.h"
#include "intake.h"
#include "lifecycle.h"
#include "records.h"
#include "schedule.h"
#include "session.h"
#include "ticket.h"

struct store;
struct metrics;
struct service;

int service_new(const struct conf *conf, struct store *store, struct agenda *agenda,
                struct metrics *metrics, struct service **ret, struct slad_error *reterr);
void service_free(struct service *svc);

const struct conf *service_conf(const struct service *svc);

/* Fill the agenda from the store (start-up): one entry per stored next instant. */
int service_load_agenda(struct service *svc, struct slad_error *reterr);

/* Several instances on one database (service_agenda.c): schedule every ticket, follow-up
 * and plan whose stored next instant is at or before until_ms, as the database has it
 * (another instance may have written it). The scheduler calls it every second, a little
 * ahead. */
int service_agenda_due(struct service *svc, int64_t until_ms, struct slad_error *reterr);

/* Swap in a new config (reload) and re-choose the policy of every open ticket at now_ms;
 * steps already fired are never fired again. The caller keeps the old conf alive until
 * this returns and frees it afterwards. */
int service_set_conf(struct service *svc, const struct conf *conf, int64_t now_ms,
                     struct slad_error *reterr);

/* Create t (fields from the request; id, status, policy and clocks are set here).
 * Idempotent on (source, external_id): an existing ticket is returned in *ret with
 * *ret_created = false and nothing changes. *ret is initialised here; the caller
 * ticket_done()s it. */
int service_ticket_create(struct service *svc, const struct ticket *t, int64_t now_ms,
                          struct ticket *ret, bool *ret_created, struct slad_error *reterr);

/* The tickets that changed since service_changes_clear (each once, with its status and
 * updated_at after its latest change), for the console's event stream: the daemon reads
 * them after each commit and clears them (also after a rollback: they did not happen).
 * *ret_overflow when more than SERVICE_CHANGES_MAX changed (a reload re-choosing every
 * policy): the list is then incomplete and the reader should refetch. */
#define SERVICE_CHANGES_MAX 256
struct service_change {
    int64_t id;
    enum ticket_status status;
    int64_t updated_ms;
};
const struct service_change *service_changes(const struct service *svc, size_t *ret_n,
                                             bool *ret_overflow);
void service_changes_clear(struct service *svc);

/* Action links (issue 13): codes of ACTION_CODE_LEN characters of ACTION_CODE_ALPHABET,
 * valid ACTION_LINK_TTL_MS, kept ACTION_LINK_KEEP_MS (then purged). */
#define ACTION_CODE_LEN      10
#define ACTION_CODE_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"
#define ACTION_LINK_TTL_MS   (7LL * 86400 * 1000)
#define ACTION_LINK_KEEP_MS  (30LL * 86400 * 1000)

/* An action link opened: its code's record, its ticket, and what the contact may do now. */
struct action_view {
    struct action_link link;
    struct ticket ticket;
    bool can_acknowledge, can_take;
};
void action_view_done(struct action_view *v);
/* The link of code at now_ms (action_view_done *ret in any case): -ENOENT for a code slad
 * did not send (or whose ticket is gone), -ETIMEDOUT when it expired, -EALREADY when it was
 * used; messages for a person. */
int service_action_get(struct service *svc, const char *code, int64_t now_ms,
                       struct action_view *ret, struct slad_error *reterr);
/* Do action ("acknowledge", or "take": dispatch with the contact as assignee) as the
 * link's contact and use the code up, in one savepoint; *ret the ticket after it.
 * service_action_get's errors, -EINVAL for another action, -EBUSY when the status does
 * not allow it (the code stays usable). */
int service_action_do(struct service *svc, const char *code, const char *action, int64_t now_ms,
                      struct ticket *ret, struct slad_error *reterr);

/* What happens next to ticket id (GET /v1/tickets/{id}/next): the coming escalation steps
 * of its clocks after now_ms up to horizon_ms, at most max, from the engine with the
 * stored on-call overrides (simulate_next); timeline_done *ret. -ENOENT when unknown,
 * -E2BIG when too many overrides overlap the horizon. */
struct timeline;
int service_ticket_next(struct service *svc, int64_t id, int64_t now_ms, int64_t horizon_ms,
                        size_t max, struct timeline *ret, struct slad_error *reterr);

int service_ticket_get(struct service *svc, int64_t id, struct ticket *ret,
                       struct slad_error *reterr);

/* Apply patch at now_ms; re-chooses the policy when a matched field changed and moves
 * the reminders when the appointment moved. */
int service_ticket_patch(struct service *svc, int64_t id, const struct ticket_patch *patch,
                         int64_t now_ms, struct ticket *ret, struct slad_error *reterr);

/* Apply an event; -EBUSY with the allowed events when the status forbids it,
 * -TICKET_EORDER when it is dated before the ticket's last event (nothing is stored). */
int service_ticket_event(struct service *svc, int64_t id, const struct ticket_event *ev,
                         int64_t now_ms, struct ticket *ret, struct slad_error *reterr);

/* Act on at most max agenda entries due at now_ms (escalation steps, breaches,
 * reminders...): each is recorded in history and outbox, and re-scheduled. Entries due
 * before the daemon started are marked late. *ret_done counts what was handled. */
int service_fire_due(struct service *svc, int64_t now_ms, size_t max, size_t *ret_done,
                     struct slad_error *reterr);

/* Complete follow-up task id with outcome ("satisfied", "unsatisfied", "unreachable"),
 * note and by (may be NULL) at now_ms; *ret is the task afterwards. -ENOENT unknown,
 * -EINVAL bad outcome, -EBUSY not open. `unsatisfied` notifies the supervisor. */
struct followup;
int service_followup_complete(struct service *svc, int64_t id, const char *outcome,
                              const char *note, const char *by, int64_t now_ms,
                              struct followup *ret, struct slad_error *reterr);

/* POST /v1/notifications/{id}/retry (service_notification.c): dead notification id goes
 * back to pending at now_ms with a whole new budget and the same key and channel
 * (store_outbox_requeue), and the history of its ticket gets a row of kind
 * "notification_retry" with data {"notification_id": id} (a plan's task has no ticket, so
 * no history). -ENOENT unknown, -EBUSY not dead (the message names its state). */
int service_notification_retry(struct service *svc, int64_t id, int64_t now_ms,
                               struct slad_error *reterr);

/* ---- on-call schedules (service_schedule.c) ----
 *
 * The schedules are the config's (schedule.h); overrides are stored. -ENOENT names an
 * unknown schedule. */

/* POST /v1/schedules/{name}/overrides: store o (its schedule, contact, from_ms, to_ms;
 * o->id and o->created_ms are set here). -EINVAL naming the field: a contact not in the
 * config, to not after from, longer than 366 days; -EEXIST when 100 overrides of the
 * schedule already overlap [from, to). */
int service_override_add(struct service *svc, struct schedule_override *o, int64_t now_ms,
                         struct slad_error *reterr);
/* -ENOENT when schedule has no override id. */
int service_override_delete(struct service *svc, const char *schedule, int64_t id,
                            struct slad_error *reterr);
/* The overrides of schedule with ids above after_id, in id order, at most limit (0:
 * all). */
int service_override_list(struct service *svc, const char *schedule, int64_t after_id, size_t limit,
                          schedule_override_fn *fn, void *userdata, struct slad_error *reterr);

/* Who is on call, with the stored overrides applied: the shift at at_ms (one call of fn),
 * or the shifts that overlap [from_ms, to_ms) in order (-EINVAL as schedule_shifts says).
 * The shift's strings live during the call. */
typedef int service_shift_fn(void *userdata, const struct schedule_shift *shift);
int service_schedule_shift_at(struct service *svc, const char *name, int64_t at_ms,
                              service_shift_fn *fn, void *userdata, struct slad_error *reterr);
int service_schedule_shifts(struct service *svc, const char *name, int64_t from_ms, int64_t to_ms,
                            service_shift_fn *fn, void *userdata, struct slad_error *reterr);
/* The shifts of [from_ms, to_ms) as iCalendar text (schedule_ics; only contact's when not
 * NULL, which must be a contact of the config) into *ret (malloc'd). */
int service_schedule_ics(struct service *svc, const char *name, const char *contact,
                         int64_t from_ms, int64_t to_ms, int64_t now_ms, char **ret,
                         struct slad_error *reterr);
/* What one alert of an intake did (service_intake.c). */
struct service_intake_result {
    enum intake_outcome outcome;
    int64_t ticket_id;             /* the ticket it names; 0 when none */
    char key[INTAKE_KEY_MAX + 16]; /* its key: the alert's, or "slad-ID" made for a
                                      trigger without one; "" when none */
    char differs[160];             /* a trigger for an existing ticket: the fields its ticket would
                                      have otherwise (ticket_diff), not applied; "" when none */
};

/* Apply alerts[0..n) of intake in at now_ms (POST /v1/intake/{name}), each to the ticket
 * with source = the intake's name and external_id = its key, as intake_decide says:
 * created (intake_ticket), reopened, acknowledged or resolved (events by the intake's
 * name; a resolve dated when the alert ended, as far as the ticket's events allow), or
 * unchanged. All or nothing: on error no alert is applied. results[i] says what alert i
 * did. Errors as above. */
int service_intake(struct service *svc, const struct conf_intake *in,
                   const struct intake_alert *alerts, size_t n, int64_t now_ms,
                   struct service_intake_result *results, struct slad_error *reterr);

/* Called for every effect (clock change, step fired, follow-up...) of an operation once
 * the operation is recorded, so that the daemon logs one line per state change. */
typedef void service_observer_fn(void *userdata, const struct ticket *t, const struct effect *e);
void service_set_observer(struct service *svc, service_observer_fn *fn, void *userdata);

/* The clock that times work whose cost depends on its input (finding a plan's next
 * occurrence, PLAN_BUDGET_NS per operation). Without one (NULL, the default) that work
 * is not limited: tools and tests only. The clock is borrowed. */
void service_set_clock(struct service *svc, const struct budget_clock *clock);

/* Counts for STATUS= and /healthz: open tickets and agenda entries. */
struct service_counts {
    int64_t open_tickets;
    int64_t breached_clocks;
    int64_t pending_notifications;
    size_t timers;
};
int service_counts(struct service *svc, struct service_counts *ret);

/* ---- reads (service_query.c): what the API shows ----
 *
 * Read in the caller's transaction, so that they see the writes of the same batch.
 * Listings call fn as records.h says; errors as above (database failures, -ENOENT for an
 * unknown id). */

/* Whether the database answers (/healthz). */
int service_check(struct service *svc, struct slad_error *reterr);
/* The console board's counts at now_ms (GET /v1/summary). */
int service_board_summary(struct service *svc, int64_t now_ms, struct board_summary *ret,
                          struct slad_error *reterr);

/* The gauges of /metrics (records.h). */
int service_gauges(struct service *svc, struct gauges *ret, struct slad_error *reterr);

/* Tickets (with clocks) matching f, in id order. */
int service_ticket_list(struct service *svc, const struct ticket_filter *f, ticket_row_fn *fn,
                        void *userdata, struct slad_error *reterr);
/* The history of ticket_id: after after_id in id order, at most limit (0: all); or its
 * newest limit entries, newest first. */
int service_history_list(struct service *svc, int64_t ticket_id, int64_t after_id, size_t limit,
                         history_entry_fn *fn, void *userdata, struct slad_error *reterr);
int service_history_newest(struct service *svc, int64_t ticket_id, size_t limit,
                           history_entry_fn *fn, void *userdata, struct slad_error *reterr);

/* Notifications matching f, in id order; the newest limit of ticket_id, newest first;
 * notification id (-ENOENT when unknown). */
int service_notification_list(struct service *svc, const struct outbox_filter *f, outbox_row_fn *fn,
                              void *userdata, struct slad_error *reterr);
int service_notification_newest(struct service *svc, int64_t ticket_id, size_t limit,
                                outbox_row_fn *fn, void *userdata, struct slad_error *reterr);
int service_notification_get(struct service *svc, int64_t id, outbox_row_fn *fn, void *userdata,
                             struct slad_error *reterr);

/* One follow-up task; -ENOENT when unknown. */
int service_followup_get(struct service *svc, int64_t id, struct followup *ret,
                         struct slad_error *reterr);
/* Follow-up tasks matching f, in id order. */
int service_followup_list(struct service *svc, const struct followup_filter *f, followup_row_fn *fn,
                          void *userdata, struct slad_error *reterr);
/* Plans with id > after_id in id order, at most limit (0: all). */
int service_plan_list(struct service *svc, int64_t after_id, size_t limit, plan_row_fn *fn,
                      void *userdata, struct slad_error *reterr);

/* The SLA report of q (report.h); -EINVAL for to <= from or an unknown time zone (named).
 * ret is empty (report_done is safe) on error. */
struct report;
struct report_query;
int service_report_sla(struct service *svc, const struct report_query *q, struct report *ret,
                       struct slad_error *reterr);
/* The same report read on reader, a store of its own (store_reader.h), on any thread: it
 * uses nothing of a service, so that a reader thread computes it beside the loop. */
struct store;
int service_report_sla_on(struct store *reader, const struct report_query *q, struct report *ret,
                          struct slad_error *reterr);

/* ---- the console's sessions (service_session.c; core's session.h) ---- */

/* Store a new session (sign-in) and purge the ended ones, at now_ms. */
int service_session_create(struct service *svc, const struct session *sess, int64_t now_ms,
                           struct slad_error *reterr);
/* The session of the token hashing to hash, live at now_ms, of a contact of the running
 * config that has a password_hash (removing either signs the person out); its rights in
 * *ret_contact. -ENOENT otherwise. A read: no transaction needed. */
int service_session_find(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                         int64_t now_ms, struct session *ret,
                         const struct conf_contact **ret_contact, struct slad_error *reterr);
/* Record a request of the session at now_ms (idle expiry starts again). */
int service_session_touch(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                          int64_t now_ms, struct slad_error *reterr);
/* Delete every session that has ended at now_ms (also done at each sign-in). */
int service_session_purge(struct service *svc, int64_t now_ms, struct slad_error *reterr);
/* Sign out: delete the session (none: no error). */
int service_session_delete(struct service *svc, const unsigned char hash[SESSION_HASH_BYTES],
                           struct slad_error *reterr);

#endif
