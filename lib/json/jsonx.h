/* jsonx.h - the JSON of the API (SPEC 1 and 2) over jansson: strict parsers for request
 * bodies that name the offending field in every error, renderers for tickets, clocks and
 * errors, and the RFC 3339 times of the API.
 *
 * Parsers read a whole body (not NUL-terminated; NUL bytes are an error), reject duplicate
 * keys and nesting deeper than JSONX_MAX_DEPTH, and return 0 or a negative errno whose
 * class jsonx_error_code() names for the API:
 *   -EBADMSG  invalid_json     not JSON, not an object, duplicate key, too deep
 *   -EINVAL   invalid_field    wrong type, out of range, too long, bad time
 *   -ENODATA  missing_field    a required field is absent
 *   -ENOMSG   unknown_field    a field slad does not know
 *   -EROFS    read_only_field  a field slad sets (id, status...) or that cannot change
 *   -ENOMEM   out of memory
 * The message in reterr names the field by its path ("customer.phone", "labels.zone",
 * "events[2].at") and quotes offending text. Prefix jsonx_, not json_: jansson owns json_. */
#ifndef SLAD_JSONX_H
#define SLAD_JSONX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "error.h"
#include "lifecycle.h"
#include "ticket.h"

/* Nesting of a request body: objects in objects (customer, labels, events[i]) need 3. */
#define JSONX_MAX_DEPTH 16
/* Field limits, in bytes. An event's note is kept in the history and shown with its
 * ticket: a thousand of them must still page in answers under 1 MiB (issue 11). */
#define JSONX_TITLE_MAX       512
#define JSONX_LABEL_MAX       128 /* source, external_id, grade, region, team, assignee... */
#define JSONX_ADDRESS_MAX     512
#define JSONX_DESCRIPTION_MAX 65536
#define JSONX_NOTE_MAX        8192 /* an event's note */
#define JSONX_SIM_MAX_EVENTS  256

/* The API error code ("invalid_json", ...) for a parser's return value r; "internal" for
 * anything else. */
const char *jsonx_error_code(int r);

/* RFC 3339 times. jsonx_time_format writes at_ms in UTC with a Z, with milliseconds only
 * when not zero ("2026-03-01T08:00:00Z", "2026-03-01T08:00:00.250Z") and returns buf
 * (size >= JSONX_TIME_MAX). jsonx_time_parse reads "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)"
 * exactly: T/Z may be lower case, the offset is required, fractional seconds (1..9
 * digits) are cut to milliseconds, years 1970..9999 both as written and in UTC, second
 * 60 refused; -EINVAL with the reason and the text quoted. */
#define JSONX_TIME_MAX 32
char *jsonx_time_format(int64_t at_ms, char *buf, size_t size);
int jsonx_time_parse(const char *text, int64_t *ret_ms, struct slad_error *reterr);

/* A POST /v1/tickets body into *ret (initialised here, on success only; ticket_done() it).
 * Required: title, severity. reported_at defaults to now_ms and may not lie more than
 * TICKET_FUTURE_SKEW_MS ahead. Fields slad sets (id, status,
 * policy, clocks, created_at, ...) are refused with -EROFS. */
int jsonx_ticket_parse(const char *body, size_t len, int64_t now_ms, struct ticket *ret,
                       struct slad_error *reterr);

/* A POST /v1/tickets/{id}/events body: {type, at, by, note, assignee, reason}. type is
 * required; dispatch requires assignee (and only dispatch takes one); hold requires a
 * reason. at defaults to now_ms. The strings of ev point into this struct. */
struct jsonx_event {
    struct ticket_event ev;
    char *by, *note, *assignee, *reason;
};
int jsonx_event_parse(const char *body, size_t len, int64_t now_ms, struct jsonx_event *ret,
                      struct slad_error *reterr);
void jsonx_event_done(struct jsonx_event *e);

/* A PATCH /v1/tickets/{id} body: severity, grade, region, team, assignee, appointment_at,
 * labels. null clears a field (severity cannot be cleared); labels merge, a null label
 * value removes that label. The pointers of patch point into this struct. */
struct jsonx_patch {
    struct ticket_patch patch;
    char *grade, *region, *team, *assignee;
    char *text[TICKET_TEXT_COUNT];
    struct ticket_label *labels;
    size_t n_labels;
};
int jsonx_patch_parse(const char *body, size_t len, struct jsonx_patch *ret,
                      struct slad_error *reterr);
void jsonx_patch_done(struct jsonx_patch *p);

/* A POST /v1/simulate body: a ticket body (reported_at may lie anywhere) plus optional
 * "events": [{type, at, ...}] (at required, in order, not before reported_at; at most
 * JSONX_SIM_MAX_EVENTS) and "until" (RFC 3339; default 400 days after the last event or
 * reported_at). */
struct jsonx_simulate {
    struct ticket ticket;
    struct jsonx_event *events;
    struct ticket_event *evs; /* events[i].ev, contiguous for simulate_run */
    size_t n_events;
    int64_t until_ms;
};
int jsonx_simulate_parse(const char *body, size_t len, int64_t now_ms, struct jsonx_simulate *ret,
                         struct slad_error *reterr);
void jsonx_simulate_done(struct jsonx_simulate *s);

/* Readers for the API's other bodies (follow-up completion, plans). Parse body as one
 * JSON object (-EBADMSG with where it broke). */
int jsonx_load_object(const char *body, size_t len, json_t **ret, struct slad_error *reterr);
/* A string of min..max bytes into *ret (a copy; the old value freed); null clears it
 * when nullable. -EINVAL names the field prefix + name. */
int jsonx_read_string(json_t *v, const char *prefix, const char *name, size_t min, size_t max,
                      bool nullable, char **ret, struct slad_error *reterr);
/* An RFC 3339 time; -EINVAL names the field. */
int jsonx_read_time(json_t *v, const char *prefix, const char *name, int64_t *ret,
                    struct slad_error *reterr);
/* -ENOMSG: "unknown field 'prefix key'; known fields: known". */
int jsonx_unknown_field(struct slad_error *reterr, const char *prefix, const char *key,
                        const char *known);

/* Renderers return a new reference, or NULL when out of memory. Times are UTC with Z,
 * unset times null. A clock is {name,state,target_s,elapsed_s,due_at,started_at,
 * stopped_at,breached_at} with elapsed counted up to now_ms in cal (NULL: the stored
 * elapsed time). A ticket has every field of SPEC 1; conf finds each clock's calendar
 * (through the ticket's policy) and may be NULL. */
json_t *jsonx_clock_render(const struct slaclock *c, const struct calendar *cal, int64_t now_ms);
json_t *jsonx_ticket_render(const struct ticket *t, const struct conf *conf, int64_t now_ms);
/* A string, or null for NULL; text that is not valid UTF-8 has bad bytes replaced by '?'. */
json_t *jsonx_string(const char *s);
/* A time as jsonx_time_format, or null for SLAD_NO_TIME. */
json_t *jsonx_time(int64_t at_ms);

/* Serialise v compactly into a malloc'd string (*ret_len its length); NULL on ENOMEM.
 * Does not take v. */
/* Enough digits for a ratio or a second count with its milliseconds (reports), few enough
 * that 0.1 prints as 0.1: the precision of every real slad writes. */
#define JSONX_REAL_DIGITS 15
char *jsonx_dump(const json_t *v, size_t *ret_len);
/* The length jsonx_dump would give v, without building the text; 0 when v cannot be
 * serialised. */
size_t jsonx_dump_size(const json_t *v);
/* {"error":{"code":code,"message":message}} as a malloc'd string; NULL on ENOMEM. */
char *jsonx_error_body(const char *code, const char *message, size_t *ret_len);

#endif
