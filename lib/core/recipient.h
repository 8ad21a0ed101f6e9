/* recipient.h - who a step's "notify" list reaches: roles through the ticket's team,
 * contacts, group channels and the customer (SPEC 1 "Escalation ladder").
 *
 * Each written recipient becomes one or more resolved recipients (a role may hold
 * several contacts), each with the channel that reaches it, or an error saying why it
 * cannot be reached (such a notification is dead with that reason, never dropped). The
 * ticket's team group channel is added once to every list. */
#ifndef SLAD_RECIPIENT_H
#define SLAD_RECIPIENT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ticket.h"

struct recipient {
    char text[80];                      /* as written: "supervisor", "contact:li.si" ... */
    const struct conf_contact *contact; /* or NULL */
    const struct conf_channel *channel; /* or NULL when unreachable */
    const char *address;                /* phone or e-mail for the channel, or NULL */
    char error[160];                    /* "" when reachable */
};

#define RECIPIENT_MAX 64

/* Resolve notify for t into ret[0..*ret_n); at most max entries (the rest are dropped
 * with a final entry whose error says so). */
void recipient_resolve(const struct conf *conf, const struct ticket *t,
                       const struct conf_strings *notify, struct recipient *ret, size_t max,
                       size_t *ret_n);

/* Quiet hours: the earliest instant >= now_ms at which rc may receive event for a ticket
 * of policy (NULL: none): now_ms unless rc is a contact with hours, the event is not
 * urgent (conf_event_is_urgent) and the hours are closed at now_ms; then their next
 * opening. Hours that never open again defer nothing (now_ms): deferring forever would
 * drop the notification. */
int64_t recipient_reachable_at(const struct conf *conf, const struct recipient *rc,
                               const char *policy, const char *event, int64_t now_ms);

#endif
