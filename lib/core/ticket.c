/* ticket.c - ticket statuses, events and the status/event table of SPEC 1. */
#include "ticket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"

static const char *const status_names[TICKET_STATUS_COUNT] = {
    [TICKET_OPEN] = "open",
    [TICKET_ACKNOWLEDGED] = "acknowledged",
    [TICKET_DISPATCHED] = "dispatched",
    [TICKET_ON_SITE] = "on_site",
    [TICKET_ON_HOLD] = "on_hold",
    [TICKET_RESOLVED] = "resolved",
    [TICKET_CLOSED] = "closed",
    [TICKET_CANCELLED] = "cancelled",
};

static const char *const event_names[TICKET_EVENT_COUNT] = {
    [TICKET_EVENT_ACKNOWLEDGE] = "acknowledge", [TICKET_EVENT_DISPATCH] = "dispatch",
    [TICKET_EVENT_ARRIVE] = "arrive",           [TICKET_EVENT_HOLD] = "hold",
    [TICKET_EVENT_RESUME] = "resume",           [TICKET_EVENT_RESOLVE] = "resolve",
    [TICKET_EVENT_REOPEN] = "reopen",           [TICKET_EVENT_CLOSE] = "close",
    [TICKET_EVENT_CANCEL] = "cancel",           [TICKET_EVENT_COMMENT] = "comment",
};

#define S(x)   (1u << (x))
#define ACTIVE (S(TICKET_OPEN) | S(TICKET_ACKNOWLEDGED) | S(TICKET_DISPATCHED) | S(TICKET_ON_SITE))
#define ANY    ((1u << TICKET_STATUS_COUNT) - 1)

/* The statuses each event may happen in (SPEC 1), and where it leads. resume leads back to
 * the status before the hold; comment changes nothing. */
static const struct {
    unsigned from;
    enum ticket_status to;
} event_table[TICKET_EVENT_COUNT] = {
    [TICKET_EVENT_ACKNOWLEDGE] = {S(TICKET_OPEN), TICKET_ACKNOWLEDGED},
    [TICKET_EVENT_DISPATCH] = {S(TICKET_OPEN) | S(TICKET_ACKNOWLEDGED) | S(TICKET_DISPATCHED),
                               TICKET_DISPATCHED},
    [TICKET_EVENT_ARRIVE] = {S(TICKET_OPEN) | S(TICKET_ACKNOWLEDGED) | S(TICKET_DISPATCHED),
                             TICKET_ON_SITE},
    [TICKET_EVENT_HOLD] = {ACTIVE, TICKET_ON_HOLD},
    [TICKET_EVENT_RESUME] = {S(TICKET_ON_HOLD), TICKET_OPEN},
    [TICKET_EVENT_RESOLVE] = {ACTIVE | S(TICKET_ON_HOLD), TICKET_RESOLVED},
    [TICKET_EVENT_REOPEN] = {S(TICKET_RESOLVED) | S(TICKET_CLOSED), TICKET_OPEN},
    [TICKET_EVENT_CLOSE] = {S(TICKET_RESOLVED), TICKET_CLOSED},
    [TICKET_EVENT_CANCEL] = {ANY & ~(S(TICKET_CLOSED) | S(TICKET_CANCELLED)), TICKET_CANCELLED},
    [TICKET_EVENT_COMMENT] = {ANY, TICKET_OPEN},
};

static int name_index(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *ticket_status_name(enum ticket_status status)
{
    return (unsigned)status < TICKET_STATUS_COUNT ? status_names[status] : "unknown";
}

int ticket_status_from_name(const char *name)
{
    return name_index(status_names, TICKET_STATUS_COUNT, name);
}

const char *ticket_event_name(enum ticket_event_type type)
{
    return (unsigned)type < TICKET_EVENT_COUNT ? event_names[type] : "unknown";
}

int ticket_event_from_name(const char *name)
{
    return name_index(event_names, TICKET_EVENT_COUNT, name);
}

bool ticket_status_is_active(enum ticket_status status)
{
    return (ACTIVE & S(status)) != 0;
}

bool ticket_status_is_open(enum ticket_status status)
{
    return status != TICKET_RESOLVED && status != TICKET_CLOSED && status != TICKET_CANCELLED;
}

int ticket_event_check(enum ticket_status status, enum ticket_event_type type,
                       struct slad_error *reterr)
{
    if ((unsigned)type >= TICKET_EVENT_COUNT)
        return slad_error_set(reterr, EINVAL, "unknown event type %d", (int)type);
    if (event_table[type].from & S(status))
        return 0;
    char allowed[256] = "";
    size_t len = 0;
    for (int e = 0; e < TICKET_EVENT_COUNT; e++) {
        if (!(event_table[e].from & S(status)))
            continue;
        int n =
            snprintf(allowed + len, sizeof(allowed) - len, "%s%s", len ? ", " : "", event_names[e]);
        if (n > 0 && (size_t)n < sizeof(allowed) - len)
            len += (size_t)n;
    }
    return slad_error_set(reterr, EBUSY,
                          "event '%s' is not allowed: ticket is '%s'; allowed events: %s",
                          event_names[type], ticket_status_name(status), allowed);
}

int64_t ticket_last_event_ms(const struct ticket *t)
{
    int64_t last = t->reported_at_ms;
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        if (t->event_last_ms[e] != SLAD_NO_TIME && t->event_last_ms[e] > last)
            last = t->event_last_ms[e];
    return last;
}

int ticket_event_check_order(const struct ticket *t, enum ticket_event_type type, int64_t at_ms,
                             struct slad_error *reterr)
{
    int64_t last = ticket_last_event_ms(t);
    if (last == SLAD_NO_TIME || at_ms >= last)
        return 0;
    /* Name what happened last: an event, or the report itself. */
    const char *what = "the ticket was reported (reported_at)";
    char buf[64];
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        if (t->event_last_ms[e] == last) {
            snprintf(buf, sizeof(buf), "its last event ('%s')", event_names[e]);
            what = buf;
        }
    char at_text[CIVIL_UTC_MAX], last_text[CIVIL_UTC_MAX];
    civil_utc_format(at_ms, at_text, sizeof(at_text));
    civil_utc_format(last, last_text, sizeof(last_text));
    return slad_error_set(reterr, TICKET_EORDER,
                          "at: event '%s' dated %s is before %s at %s; events apply in time "
                          "order: send 'at' at or after %s, or leave 'at' out to date it now",
                          ticket_event_name(type), at_text, what, last_text, last_text);
}

enum ticket_status ticket_event_target(enum ticket_status status, enum ticket_event_type type,
                                       enum ticket_status held_from)
{
    if (type == TICKET_EVENT_COMMENT)
        return status;
    if (type == TICKET_EVENT_RESUME)
        return held_from;
    return event_table[type].to;
}

void ticket_init(struct ticket *t)
{
    memset(t, 0, sizeof(*t));
    t->reported_at_ms = SLAD_NO_TIME;
    t->appointment_at_ms = SLAD_NO_TIME;
    t->created_at_ms = SLAD_NO_TIME;
    t->updated_at_ms = SLAD_NO_TIME;
    t->status = TICKET_OPEN;
    t->held_from = TICKET_OPEN;
    for (int e = 0; e < TICKET_EVENT_COUNT; e++)
        t->event_last_ms[e] = SLAD_NO_TIME;
}

/* Every owned string field, for copy and free. */
#define TICKET_STRINGS(t)                                                                          \
    &(t)->source, &(t)->external_id, &(t)->title, &(t)->description, &(t)->grade, &(t)->region,    \
        &(t)->team, &(t)->assignee, &(t)->customer_name, &(t)->customer_phone,                     \
        &(t)->customer_address, &(t)->device_model, &(t)->device_serial, &(t)->fault_code,         \
        &(t)->policy

void ticket_done(struct ticket *t)
{
    char **fields[] = {TICKET_STRINGS(t)};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    for (size_t i = 0; i < t->n_labels; i++) {
        free(t->labels[i].key);
        free(t->labels[i].value);
    }
    free(t->labels);
    t->labels = NULL;
    t->n_labels = 0;
}

int ticket_copy(struct ticket *dst, const struct ticket *src)
{
    *dst = *src;
    dst->labels = NULL;
    dst->n_labels = 0;
    char **to[] = {TICKET_STRINGS(dst)};
    char *const *from[] = {TICKET_STRINGS(src)};
    size_t n = sizeof(to) / sizeof(to[0]);
    for (size_t i = 0; i < n; i++)
        *to[i] = NULL;
    for (size_t i = 0; i < n; i++)
        if (*from[i] && ticket_set_string(to[i], *from[i]) < 0)
            goto fail;
    for (size_t i = 0; i < src->n_labels; i++)
        if (ticket_set_label(dst, src->labels[i].key, src->labels[i].value) < 0)
            goto fail;
    return 0;
fail:
    ticket_done(dst);
    return -ENOMEM;
}

const char *ticket_label(const struct ticket *t, const char *key)
{
    for (size_t i = 0; i < t->n_labels; i++)
        if (strcmp(t->labels[i].key, key) == 0)
            return t->labels[i].value;
    return NULL;
}

static const char *const text_names[TICKET_TEXT_COUNT] = {
    "title",        "description",  "customer.name", "customer.phone", "customer.address",
    "device.model", "device.serial"};

const char *ticket_text_name(enum ticket_text k)
{
    return (unsigned)k < TICKET_TEXT_COUNT ? text_names[k] : "?";
}

char **ticket_text_field(struct ticket *t, enum ticket_text k)
{
    char **fields[TICKET_TEXT_COUNT] = {&t->title,          &t->description,      &t->customer_name,
                                        &t->customer_phone, &t->customer_address, &t->device_model,
                                        &t->device_serial};
    return (unsigned)k < TICKET_TEXT_COUNT ? fields[k] : NULL;
}

int ticket_set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int ticket_set_label(struct ticket *t, const char *key, const char *value)
{
    for (size_t i = 0; i < t->n_labels; i++) {
        if (strcmp(t->labels[i].key, key) != 0)
            continue;
        if (value)
            return ticket_set_string(&t->labels[i].value, value);
        free(t->labels[i].key);
        free(t->labels[i].value);
        t->labels[i] = t->labels[--t->n_labels];
        return 0;
    }
    if (!value)
        return 0;
    if (t->n_labels >= TICKET_MAX_LABELS)
        return -E2BIG;
    struct ticket_label *grown = realloc(t->labels, (t->n_labels + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    t->labels = grown;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    t->labels[t->n_labels++] = (struct ticket_label){k, v};
    return 0;
}

struct slaclock *ticket_clock(struct ticket *t, const char *name)
{
    for (size_t i = 0; i < t->n_clocks; i++)
        if (strcmp(t->clocks[i].name, name) == 0)
            return &t->clocks[i];
    return NULL;
}

int64_t ticket_due_key(const struct ticket *t)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < t->n_clocks && i < TICKET_MAX_CLOCKS; i++) {
        const struct slaclock *c = &t->clocks[i];
        if (slaclock_is_counting(c) && c->due_at_ms != SLAD_NO_TIME && c->due_at_ms < best)
            best = c->due_at_ms;
    }
    return best;
}
