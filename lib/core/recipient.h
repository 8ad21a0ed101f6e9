/* recipient.h - who a step's "notify" list reaches: roles through the ticket's team,
 * contacts, group channels and the customer (SPEC 1 "Escalation ladder").
 *
 * Each written recipient becomes one or more resolved recipients (a role may hold
 * several contacts, and a contact is reached on every channel of its `via`, one entry
 * each), each with the channel that reaches it, or an error saying why it cannot be
 * reached (such a notification is dead with that reason, never dropped). The ticket's
 * team group channel is added once to every list.
 *
 * "oncall:SCHEDULE", written in a step or among a role's contacts, is the contact on call
 * in that schedule (schedule.h) at the instant the step fires, overrides applied: the
 * resolved recipient names that person (contact), so that the notification records who
 * was reached; nobody on call is an error like any unreachable recipient. */
#ifndef SLAD_RECIPIENT_H
#define SLAD_RECIPIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "schedule.h"
#include "ticket.h"

struct recipient {
    char text[80];                      /* as written: "supervisor", "contact:li.si" ... */
    const struct conf_contact *contact; /* or NULL */
    const struct conf_channel *channel; /* or NULL when unreachable */
    const char *address;                /* phone or e-mail for the channel, or NULL */
    bool several_channels;              /* the contact has more than one `via` channel: its
                                           notifications are told apart by channel */
    char error[160];                    /* "" when reachable */
};

#define RECIPIENT_MAX 64

/* The instant "oncall:" is resolved at, and the overrides the caller has for it (any
 * schedule's; they must include every one that holds at at_ms). */
#define RECIPIENT_ONCALL "oncall:"

struct recipient_oncall {
    int64_t at_ms;
    const struct schedule_override *overrides;
    size_t n_overrides;
};

/* Whether resolving notify for t names a schedule ("oncall:" in the list or in a role of
 * t's team): only then does the caller need the overrides. */
bool recipient_needs_oncall(const struct conf *conf, const struct ticket *t,
                            const struct conf_strings *notify);

/* Resolve notify for t into ret[0..*ret_n); at most max entries (the rest are dropped
 * with a final entry whose error says so). */
void recipient_resolve(const struct conf *conf, const struct ticket *t,
                       const struct conf_strings *notify, const struct recipient_oncall *oncall,
                       struct recipient *ret, size_t max, size_t *ret_n);

/* Quiet hours: the earliest instant >= now_ms at which rc may receive event for a ticket
 * of policy (NULL: none): now_ms unless rc is a contact with hours, the event is not
 * urgent (conf_event_is_urgent) and the hours are closed at now_ms; then their next
 * opening. Hours that never open again defer nothing (now_ms): deferring forever would
 * drop the notification. */
int64_t recipient_reachable_at(const struct conf *conf, const struct recipient *rc,
                               const char *policy, const char *event, int64_t now_ms);

#endif
