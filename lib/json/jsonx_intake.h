/* jsonx_intake.h - the JSON that monitoring senders post to POST /v1/intake/{name}, read
 * into intake alerts (intake.h): Prometheus Alertmanager's webhook (version 4) and
 * PagerDuty's Events API v2.
 *
 * Unlike the API's own bodies, these are read leniently where the senders' formats grow
 * (unknown fields are ignored, as the senders add them over versions) and strictly where
 * slad needs a value: a missing or mistyped field that slad reads is an error naming it
 * ("alerts[2].fingerprint", "payload.severity"), with the return values of jsonx.h
 * (-EBADMSG, -EINVAL, -ENODATA, -ENOMEM). */
#ifndef SLAD_JSONX_INTAKE_H
#define SLAD_JSONX_INTAKE_H

#include <stddef.h>

#include "error.h"
#include "intake.h"

/* Alertmanager's webhook body into *ret_alerts (*ret_n of them; free each with
 * intake_alert_done, then the array): version "4"; each alert's status (firing or
 * resolved), fingerprint (its key), labels (strings; severity is the "severity" label),
 * annotations.summary and .description, startsAt and endsAt (Go's zero time
 * 0001-01-01T00:00:00Z means none). */
int jsonx_alertmanager_parse(const char *body, size_t len, struct intake_alert **ret_alerts,
                             size_t *ret_n, struct slad_error *reterr);

/* One PagerDuty Events API v2 event into *ret (initialised here, on success only) and its
 * routing_key into *ret_routing_key (malloc'd): event_action trigger, acknowledge or
 * resolve; dedup_key (its key; required to acknowledge or resolve); for a trigger the
 * payload's summary, source and severity (critical, error, warning or info) as the
 * service requires them, its timestamp, and component, group, class and source as
 * labels; custom_details as the description (a string as it is, anything else as
 * compact JSON). */
int jsonx_pagerduty_parse(const char *body, size_t len, struct intake_alert *ret,
                          char **ret_routing_key, struct slad_error *reterr);

/* Only the routing_key of a PagerDuty event (the daemon checks it before the request is
 * answered): 0 with *ret (malloc'd), -ENOENT when there is none (or it is not a
 * string), -EBADMSG when the body is not a JSON object, -ENOMEM. */
int jsonx_pagerduty_routing_key(const char *body, size_t len, char **ret);

#endif
