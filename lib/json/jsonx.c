/* jsonx.c - the API's JSON: strict request parsers that name the field in every error,
 * renderers for tickets and clocks, RFC 3339 times.
 *
 * Parsing is table-driven: each body has a table of its fields and what they hold, so the
 * checks (type, length, range) and the messages are written once. Every field is read in
 * document order and the first problem wins; fields slad owns are refused rather than
 * ignored, because a caller who sends "status" believes it does something. */
#include "jsonx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "slaclock.h"
#include "utf8.h"

/* The simulator's longest horizon: five years covers follow-ups a year after resolve. */
#define SIM_MAX_HORIZON_MS     (5 * 366 * CIVIL_MS_PER_DAY)
#define SIM_DEFAULT_HORIZON_MS (400 * CIVIL_MS_PER_DAY)
/* User text quoted in messages is cut to this many bytes. */
#define QUOTE_MAX 64

const char *jsonx_error_code(int r)
{
    switch (r) {
    case -EBADMSG:
        return "invalid_json";
    case -EINVAL:
        return "invalid_field";
    case -ENODATA:
        return "missing_field";
    case -ENOMSG:
        return "unknown_field";
    case -EROFS:
        return "read_only_field";
    default:
        return "internal";
    }
}

/* ---- UTF-8 and quoting ---- */

/* s cut to QUOTE_MAX bytes on a character boundary, with "..." when cut. */
static const char *quote(const char *s, char buf[QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= QUOTE_MAX) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    size_t cut = QUOTE_MAX;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(buf, s, cut);
    memcpy(buf + cut, "...", 4);
    return buf;
}

json_t *jsonx_string(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0) {
            copy[j++] = '?';
            i++;
        } else {
            memcpy(copy + j, s + i, len);
            j += len;
            i += len;
        }
    }
    copy[j] = '\0';
    v = json_string(copy);
    free(copy);
    return v;
}

/* ---- RFC 3339 ---- */

char *jsonx_time_format(int64_t at_ms, char *buf, size_t size)
{
    return civil_utc_format(at_ms, buf, size);
}

static int time_error(struct slad_error *reterr, const char *text, const char *reason)
{
    char q[QUOTE_MAX + 4];
    return slad_error_set(reterr, EINVAL, "'%s' is not an RFC 3339 time (%s)", quote(text, q),
                          reason);
}

int jsonx_time_parse(const char *text, int64_t *ret_ms, struct slad_error *reterr)
{
    const char *reason;
    return civil_time_parse(text, ret_ms, &reason) < 0 ? time_error(reterr, text, reason) : 0;
}

/* ---- loading a body ---- */

int jsonx_load_object(const char *body, size_t len, json_t **ret, struct slad_error *reterr)
{
    if (!body || len == 0)
        return slad_error_set(reterr, EBADMSG,
                              "the request body is empty; a JSON object is "
                              "expected");
    /* jansson's depth limit is a compile-time 2048: bound nesting before parsing. */
    size_t depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > JSONX_MAX_DEPTH)
                return slad_error_set(reterr, EBADMSG, "the JSON nests deeper than %d levels",
                                      JSONX_MAX_DEPTH);
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return slad_error_set(reterr, EBADMSG, "invalid JSON at line %d, column %d: %s", jerr.line,
                              jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return slad_error_set(reterr, EBADMSG, "the request body must be a JSON object");
    }
    *ret = root;
    return 0;
}

/* ---- typed field readers; prefix + name is the field's path ---- */

static int string_error(struct slad_error *reterr, const char *prefix, const char *name, size_t min,
                        size_t max, const char *got)
{
    if (min == 0)
        return slad_error_set(reterr, EINVAL,
                              "field '%s%s' must be a string of at most %zu "
                              "bytes%s",
                              prefix, name, max, got);
    return slad_error_set(reterr, EINVAL, "field '%s%s' must be a string of %zu..%zu bytes%s",
                          prefix, name, min, max, got);
}

/* A string of min..max bytes into *ret (a copy; the old value is freed); null clears when
 * nullable. */
int jsonx_read_string(json_t *v, const char *prefix, const char *name, size_t min, size_t max,
                      bool nullable, char **ret, struct slad_error *reterr)
{
    if (json_is_null(v) && nullable) {
        free(*ret);
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return string_error(reterr, prefix, name, min, max, "");
    size_t len = json_string_length(v);
    if (len < min || len > max) {
        char got[48];
        snprintf(got, sizeof(got), " (got %zu)", len);
        return string_error(reterr, prefix, name, min, max, got);
    }
    char *copy = strdup(json_string_value(v));
    if (!copy)
        return -ENOMEM;
    free(*ret);
    *ret = copy;
    return 0;
}

static int read_severity(json_t *v, const char *prefix, int *ret, struct slad_error *reterr)
{
    if (!json_is_integer(v) || json_integer_value(v) < TICKET_SEVERITY_MIN ||
        json_integer_value(v) > TICKET_SEVERITY_MAX)
        return slad_error_set(reterr, EINVAL, "field '%sseverity' must be an integer %d..%d",
                              prefix, TICKET_SEVERITY_MIN, TICKET_SEVERITY_MAX);
    *ret = (int)json_integer_value(v);
    return 0;
}

int jsonx_read_time(json_t *v, const char *prefix, const char *name, int64_t *ret,
                    struct slad_error *reterr)
{
    if (!json_is_string(v))
        return slad_error_set(reterr, EINVAL,
                              "field '%s%s' must be an RFC 3339 time such as "
                              "2026-03-01T08:00:00+08:00",
                              prefix, name);
    int64_t ms;
    int r = jsonx_time_parse(json_string_value(v), &ms, reterr);
    if (r < 0) {
        slad_error_prefix(reterr, "field '%s%s': ", prefix, name);
        return r;
    }
    *ret = ms;
    return 0;
}

/* An instant posted by a caller may be a little ahead of ours; more is a mistake. */
static int check_not_future(json_t *v, const char *prefix, const char *name, int64_t now_ms,
                            int64_t *at_ms, struct slad_error *reterr)
{
    if (*at_ms <= now_ms)
        return 0;
    if (*at_ms - now_ms > TICKET_FUTURE_SKEW_MS) {
        char q[QUOTE_MAX + 4];
        return slad_error_set(reterr, EINVAL,
                              "field '%s%s' lies more than 5 minutes in the future: '%s'", prefix,
                              name, quote(json_string_value(v), q));
    }
    *at_ms = now_ms;
    return 0;
}

int jsonx_unknown_field(struct slad_error *reterr, const char *prefix, const char *key,
                        const char *known)
{
    char q[QUOTE_MAX + 4];
    return slad_error_set(reterr, ENOMSG, "unknown field '%s%s'; known fields: %s", prefix,
                          quote(key, q), known);
}

/* ---- tickets ---- */

enum field_kind {
    F_STRING,    /* char * at off, min..max bytes */
    F_SEVERITY,  /* int */
    F_TIME,      /* int64_t at off */
    F_CUSTOMER,  /* object of customer_fields */
    F_DEVICE,    /* object of device_fields */
    F_LABELS,    /* {string: string} */
    F_READ_ONLY, /* set by slad */
};

struct field {
    const char *name;
    enum field_kind kind;
    size_t min, max;
    size_t off;
};

#define STR(name, min, max, member)                                                                \
    {                                                                                              \
        name, F_STRING, min, max, offsetof(struct ticket, member)                                  \
    }

static const struct field customer_fields[] = {
    STR("name", 1, JSONX_LABEL_MAX, customer_name),
    STR("phone", 1, 64, customer_phone),
    STR("address", 1, JSONX_ADDRESS_MAX, customer_address),
};

static const struct field device_fields[] = {
    STR("model", 1, JSONX_LABEL_MAX, device_model),
    STR("serial", 1, JSONX_LABEL_MAX, device_serial),
};

static const struct field ticket_fields[] = {
    STR("source", 1, JSONX_LABEL_MAX, source),
    STR("external_id", 1, JSONX_LABEL_MAX, external_id),
    STR("title", 1, JSONX_TITLE_MAX, title),
    STR("description", 0, JSONX_DESCRIPTION_MAX, description),
    {"severity", F_SEVERITY, 0, 0, 0},
    STR("grade", 1, JSONX_LABEL_MAX, grade),
    STR("region", 1, JSONX_LABEL_MAX, region),
    STR("team", 1, JSONX_LABEL_MAX, team),
    STR("assignee", 1, JSONX_LABEL_MAX, assignee),
    {"customer", F_CUSTOMER, 0, 0, 0},
    {"device", F_DEVICE, 0, 0, 0},
    STR("fault_code", 1, JSONX_LABEL_MAX, fault_code),
    {"reported_at", F_TIME, 0, 0, offsetof(struct ticket, reported_at_ms)},
    {"appointment_at", F_TIME, 0, 0, offsetof(struct ticket, appointment_at_ms)},
    {"labels", F_LABELS, 0, 0, 0},
    {"id", F_READ_ONLY, 0, 0, 0},
    {"status", F_READ_ONLY, 0, 0, 0},
    {"policy", F_READ_ONLY, 0, 0, 0},
    {"clocks", F_READ_ONLY, 0, 0, 0},
    {"created_at", F_READ_ONLY, 0, 0, 0},
    {"updated_at", F_READ_ONLY, 0, 0, 0},
    {"reopen_count", F_READ_ONLY, 0, 0, 0},
    {"repeat_count", F_READ_ONLY, 0, 0, 0},
    {"history", F_READ_ONLY, 0, 0, 0},
    {"notifications", F_READ_ONLY, 0, 0, 0},
};

#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const char ticket_known[] =
    "source, external_id, title, description, severity, grade, region, team, assignee, "
    "customer, device, fault_code, reported_at, appointment_at, labels";

static const struct field *field_find(const struct field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

static int read_labels(json_t *v, const char *prefix, struct ticket *t, struct slad_error *reterr)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL,
                              "field '%slabels' must be an object of strings {\"key\": \"value\"}",
                              prefix);
    if (json_object_size(v) > TICKET_MAX_LABELS)
        return slad_error_set(reterr, EINVAL,
                              "field '%slabels' has %zu labels; at most %d are "
                              "allowed",
                              prefix, json_object_size(v), TICKET_MAX_LABELS);
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value)
    {
        char q[QUOTE_MAX + 4];
        size_t klen = strlen(key);
        if (klen == 0 || klen > JSONX_LABEL_MAX)
            return slad_error_set(reterr, EINVAL,
                                  "field '%slabels' has a key of %zu bytes ('%s'); keys are "
                                  "1..%d bytes",
                                  prefix, klen, quote(key, q), JSONX_LABEL_MAX);
        if (!json_is_string(value) || json_string_length(value) > JSONX_LABEL_MAX)
            return slad_error_set(reterr, EINVAL,
                                  "field '%slabels.%s' must be a string of at most %d bytes",
                                  prefix, quote(key, q), JSONX_LABEL_MAX);
        if (ticket_set_label(t, key, json_string_value(value)) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int read_fields(json_t *obj, const char *prefix, const struct field *fields, size_t n,
                       const char *known, bool simulate, struct ticket *t,
                       struct slad_error *reterr);

static int read_subobject(json_t *v, const char *name, const struct field *fields, size_t n,
                          const char *known, struct ticket *t, struct slad_error *reterr)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL, "field '%s' must be an object {%s}", name, known);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%s.", name);
    return read_fields(v, prefix, fields, n, known, false, t, reterr);
}

/* Every member of obj by the table. Keys the table lacks are unknown, but for "events"
 * and "until" of a simulation, which the caller reads. */
static int read_fields(json_t *obj, const char *prefix, const struct field *fields, size_t n,
                       const char *known, bool simulate, struct ticket *t,
                       struct slad_error *reterr)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const struct field *f = field_find(fields, n, key);
        if (!f) {
            if (simulate && (strcmp(key, "events") == 0 || strcmp(key, "until") == 0))
                continue;
            return jsonx_unknown_field(reterr, prefix, key, known);
        }
        int r = 0;
        switch (f->kind) {
        case F_STRING:
            r = jsonx_read_string(v, prefix, f->name, f->min, f->max, true,
                                  (char **)((char *)t + f->off), reterr);
            break;
        case F_SEVERITY:
            r = read_severity(v, prefix, &t->severity, reterr);
            break;
        case F_TIME:
            if (json_is_null(v))
                break;
            r = jsonx_read_time(v, prefix, f->name, (int64_t *)((char *)t + f->off), reterr);
            break;
        case F_CUSTOMER:
            r = read_subobject(v, "customer", customer_fields, N_FIELDS(customer_fields),
                               "name, phone, address", t, reterr);
            break;
        case F_DEVICE:
            r = read_subobject(v, "device", device_fields, N_FIELDS(device_fields), "model, serial",
                               t, reterr);
            break;
        case F_LABELS:
            r = read_labels(v, prefix, t, reterr);
            break;
        case F_READ_ONLY:
            r = slad_error_set(reterr, EROFS, "field '%s%s' is set by slad", prefix, f->name);
            break;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* The ticket fields of obj into t (initialised by the caller). simulate: the object may
 * also hold "events" and "until", and reported_at may lie anywhere. */
static int ticket_from_object(json_t *obj, int64_t now_ms, bool simulate, struct ticket *t,
                              struct slad_error *reterr)
{
    int r = read_fields(obj, "", ticket_fields, N_FIELDS(ticket_fields), ticket_known, simulate, t,
                        reterr);
    if (r < 0)
        return r;
    if (!json_object_get(obj, "title") || !t->title)
        return slad_error_set(reterr, ENODATA, "field 'title' is required");
    if (!json_object_get(obj, "severity"))
        return slad_error_set(reterr, ENODATA, "field 'severity' is required (an integer %d..%d)",
                              TICKET_SEVERITY_MIN, TICKET_SEVERITY_MAX);
    json_t *reported = json_object_get(obj, "reported_at");
    if (!reported || json_is_null(reported))
        t->reported_at_ms = now_ms;
    else if (!simulate) {
        r = check_not_future(reported, "", "reported_at", now_ms, &t->reported_at_ms, reterr);
        if (r < 0)
            return r;
    }
    t->status = TICKET_OPEN;
    return 0;
}

int jsonx_ticket_parse(const char *body, size_t len, int64_t now_ms, struct ticket *ret,
                       struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    struct ticket t;
    ticket_init(&t);
    r = ticket_from_object(root, now_ms, false, &t, reterr);
    json_decref(root);
    if (r < 0) {
        ticket_done(&t);
        return r;
    }
    *ret = t;
    return 0;
}

/* ---- events ---- */

static const char event_known[] = "type, at, by, note, assignee, reason";

static const char *event_types(void)
{
    return "acknowledge, dispatch, arrive, hold, resume, resolve, reopen, close, cancel, "
           "comment";
}

void jsonx_event_done(struct jsonx_event *e)
{
    if (!e)
        return;
    free(e->by);
    free(e->note);
    free(e->assignee);
    free(e->reason);
    memset(e, 0, sizeof(*e));
}

static void event_link(struct jsonx_event *e)
{
    e->ev.by = e->by;
    e->ev.note = e->note;
    e->ev.assignee = e->assignee;
    e->ev.reason = e->reason;
}

/* An event object into *e (zeroed by the caller; freed by the caller on failure). */
static int event_from_object(json_t *obj, const char *prefix, int64_t now_ms, bool simulate,
                             struct jsonx_event *e, struct slad_error *reterr)
{
    const char *key;
    json_t *v;
    json_t *type = NULL, *at = NULL;
    int r = 0;
    e->ev.at_ms = now_ms;
    json_object_foreach(obj, key, v)
    {
        if (strcmp(key, "type") == 0) {
            type = v;
            if (!json_is_string(v))
                return slad_error_set(reterr, EINVAL, "field '%stype' must be one of %s", prefix,
                                      event_types());
            int t = ticket_event_from_name(json_string_value(v));
            if (t < 0) {
                char q[QUOTE_MAX + 4];
                return slad_error_set(reterr, EINVAL, "field '%stype' must be one of %s; got '%s'",
                                      prefix, event_types(), quote(json_string_value(v), q));
            }
            e->ev.type = (enum ticket_event_type)t;
        } else if (strcmp(key, "at") == 0) {
            if (json_is_null(v))
                continue;
            at = v;
            r = jsonx_read_time(v, prefix, "at", &e->ev.at_ms, reterr);
        } else if (strcmp(key, "by") == 0) {
            r = jsonx_read_string(v, prefix, "by", 1, JSONX_LABEL_MAX, true, &e->by, reterr);
        } else if (strcmp(key, "note") == 0) {
            r = jsonx_read_string(v, prefix, "note", 0, JSONX_NOTE_MAX, true, &e->note, reterr);
        } else if (strcmp(key, "assignee") == 0) {
            r = jsonx_read_string(v, prefix, "assignee", 1, JSONX_LABEL_MAX, true, &e->assignee,
                                  reterr);
        } else if (strcmp(key, "reason") == 0) {
            r = jsonx_read_string(v, prefix, "reason", 1, JSONX_TITLE_MAX, true, &e->reason,
                                  reterr);
        } else {
            return jsonx_unknown_field(reterr, prefix, key, event_known);
        }
        if (r < 0)
            return r;
    }
    if (!type)
        return slad_error_set(reterr, ENODATA, "field '%stype' is required (one of %s)", prefix,
                              event_types());
    if (e->ev.type == TICKET_EVENT_DISPATCH && !e->assignee)
        return slad_error_set(reterr, ENODATA, "field '%sassignee' is required for dispatch",
                              prefix);
    if (e->ev.type != TICKET_EVENT_DISPATCH && e->assignee)
        return slad_error_set(reterr, EINVAL, "field '%sassignee' applies only to dispatch",
                              prefix);
    if (e->ev.type == TICKET_EVENT_HOLD && !e->reason)
        return slad_error_set(reterr, ENODATA, "field '%sreason' is required for hold", prefix);
    if (simulate && !at)
        return slad_error_set(reterr, ENODATA, "field '%sat' is required", prefix);
    if (!simulate && at) {
        r = check_not_future(at, prefix, "at", now_ms, &e->ev.at_ms, reterr);
        if (r < 0)
            return r;
    }
    event_link(e);
    return 0;
}

int jsonx_event_parse(const char *body, size_t len, int64_t now_ms, struct jsonx_event *ret,
                      struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    struct jsonx_event e = {0};
    r = event_from_object(root, "", now_ms, false, &e, reterr);
    json_decref(root);
    if (r < 0) {
        jsonx_event_done(&e);
        return r;
    }
    *ret = e;
    event_link(ret);
    return 0;
}

/* ---- PATCH ---- */

static const char patch_known[] = "severity, grade, region, team, assignee, appointment_at, "
                                  "labels, title, description, customer, device";

void jsonx_patch_done(struct jsonx_patch *p)
{
    if (!p)
        return;
    free(p->grade);
    free(p->region);
    free(p->team);
    free(p->assignee);
    for (size_t k = 0; k < TICKET_TEXT_COUNT; k++)
        free(p->text[k]);
    for (size_t i = 0; i < p->n_labels; i++) {
        free(p->labels[i].key);
        free(p->labels[i].value);
    }
    free(p->labels);
    memset(p, 0, sizeof(*p));
}

static void patch_link(struct jsonx_patch *p)
{
    p->patch.grade = p->grade;
    p->patch.region = p->region;
    p->patch.team = p->team;
    p->patch.assignee = p->assignee;
    p->patch.labels = p->labels;
    p->patch.n_labels = p->n_labels;
    for (size_t k = 0; k < TICKET_TEXT_COUNT; k++)
        p->patch.text[k] = p->text[k];
}

/* A correction of a text set at creation: a member of the table fields (ticket_fields, or
 * customer_fields / device_fields under prefix "customer." / "device."), within its
 * bounds; null clears it, but for the title. */
static int patch_text(json_t *v, const char *prefix, const struct field *f, struct jsonx_patch *p,
                      struct slad_error *reterr)
{
    char name[32];
    snprintf(name, sizeof(name), "%s%s", prefix, f->name);
    for (size_t k = 0; k < TICKET_TEXT_COUNT; k++) {
        if (strcmp(ticket_text_name(k), name) != 0)
            continue;
        p->patch.has_text[k] = true;
        return jsonx_read_string(v, prefix, f->name, f->min, f->max, k != TICKET_TEXT_TITLE,
                                 &p->text[k], reterr);
    }
    return slad_error_set(reterr, EROFS, "field '%s' cannot be changed after creation", name);
}

/* "customer": {"phone": ...} corrects the members given; the others stay. */
static int patch_texts(json_t *v, const char *name, const struct field *fields, size_t n,
                       const char *known, struct jsonx_patch *p, struct slad_error *reterr)
{
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL,
                              "field '%s' must be an object {%s}; the members given are "
                              "corrected, null clears one",
                              name, known);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%s.", name);
    const char *key;
    json_t *member;
    json_object_foreach(v, key, member)
    {
        const struct field *f = field_find(fields, n, key);
        int r = f ? patch_text(member, prefix, f, p, reterr)
                  : jsonx_unknown_field(reterr, prefix, key, known);
        if (r < 0)
            return r;
    }
    return 0;
}

static int patch_labels(json_t *v, struct jsonx_patch *p, struct slad_error *reterr)
{
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL,
                              "field 'labels' must be an object {\"key\": \"value\" or null}; a "
                              "null value removes that label");
    size_t n = json_object_size(v);
    if (n > TICKET_MAX_LABELS)
        return slad_error_set(reterr, EINVAL,
                              "field 'labels' has %zu labels; at most %d are "
                              "allowed",
                              n, TICKET_MAX_LABELS);
    p->labels = calloc(n ? n : 1, sizeof(*p->labels));
    if (!p->labels)
        return -ENOMEM;
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value)
    {
        char q[QUOTE_MAX + 4];
        size_t klen = strlen(key);
        if (klen == 0 || klen > JSONX_LABEL_MAX)
            return slad_error_set(reterr, EINVAL,
                                  "field 'labels' has a key of %zu bytes ('%s'); keys are "
                                  "1..%d bytes",
                                  klen, quote(key, q), JSONX_LABEL_MAX);
        if (!json_is_null(value) &&
            (!json_is_string(value) || json_string_length(value) > JSONX_LABEL_MAX))
            return slad_error_set(reterr, EINVAL,
                                  "field 'labels.%s' must be a string of at most %d bytes, or "
                                  "null to remove it",
                                  quote(key, q), JSONX_LABEL_MAX);
        struct ticket_label *l = &p->labels[p->n_labels];
        l->key = strdup(key);
        l->value = json_is_null(value) ? NULL : strdup(json_string_value(value));
        p->n_labels++;
        if (!l->key || (!json_is_null(value) && !l->value))
            return -ENOMEM;
    }
    return 0;
}

int jsonx_patch_parse(const char *body, size_t len, struct jsonx_patch *ret,
                      struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    struct jsonx_patch p = {0};
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        struct ticket_patch *tp = &p.patch;
        if (strcmp(key, "severity") == 0) {
            if (json_is_null(v))
                r = slad_error_set(reterr, EINVAL,
                                   "field 'severity' cannot be cleared; it must be an integer "
                                   "%d..%d",
                                   TICKET_SEVERITY_MIN, TICKET_SEVERITY_MAX);
            else
                r = read_severity(v, "", &tp->severity, reterr);
            tp->has_severity = true;
        } else if (strcmp(key, "grade") == 0) {
            r = jsonx_read_string(v, "", key, 1, JSONX_LABEL_MAX, true, &p.grade, reterr);
            tp->has_grade = true;
        } else if (strcmp(key, "region") == 0) {
            r = jsonx_read_string(v, "", key, 1, JSONX_LABEL_MAX, true, &p.region, reterr);
            tp->has_region = true;
        } else if (strcmp(key, "team") == 0) {
            r = jsonx_read_string(v, "", key, 1, JSONX_LABEL_MAX, true, &p.team, reterr);
            tp->has_team = true;
        } else if (strcmp(key, "assignee") == 0) {
            r = jsonx_read_string(v, "", key, 1, JSONX_LABEL_MAX, true, &p.assignee, reterr);
            tp->has_assignee = true;
        } else if (strcmp(key, "appointment_at") == 0) {
            tp->appointment_at_ms = SLAD_NO_TIME;
            if (!json_is_null(v))
                r = jsonx_read_time(v, "", key, &tp->appointment_at_ms, reterr);
            tp->has_appointment_at = true;
        } else if (strcmp(key, "labels") == 0) {
            r = patch_labels(v, &p, reterr);
        } else if (strcmp(key, "customer") == 0) {
            r = patch_texts(v, key, customer_fields, N_FIELDS(customer_fields),
                            "name, phone, address", &p, reterr);
        } else if (strcmp(key, "device") == 0) {
            r = patch_texts(v, key, device_fields, N_FIELDS(device_fields), "model, serial", &p,
                            reterr);
        } else if (strcmp(key, "title") == 0 || strcmp(key, "description") == 0) {
            r = patch_text(v, "", field_find(ticket_fields, N_FIELDS(ticket_fields), key), &p,
                           reterr);
        } else {
            const struct field *f = field_find(ticket_fields, N_FIELDS(ticket_fields), key);
            if (f && f->kind == F_READ_ONLY)
                r = slad_error_set(reterr, EROFS, "field '%s' is set by slad", key);
            else if (f)
                r = slad_error_set(reterr, EROFS,
                                   "field '%s' cannot be changed after creation; a PATCH may "
                                   "change %s",
                                   key, patch_known);
            else
                r = jsonx_unknown_field(reterr, "", key, patch_known);
        }
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r < 0) {
        jsonx_patch_done(&p);
        return r;
    }
    *ret = p;
    patch_link(ret);
    return 0;
}

/* ---- simulate ---- */

void jsonx_simulate_done(struct jsonx_simulate *s)
{
    if (!s)
        return;
    ticket_done(&s->ticket);
    for (size_t i = 0; i < s->n_events; i++)
        jsonx_event_done(&s->events[i]);
    free(s->events);
    free(s->evs);
    memset(s, 0, sizeof(*s));
}

static int simulate_events(json_t *arr, struct jsonx_simulate *s, int64_t now_ms,
                           struct slad_error *reterr)
{
    if (json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return slad_error_set(reterr, EINVAL,
                              "field 'events' must be an array of events [{\"type\": ..., "
                              "\"at\": ...}]");
    size_t n = json_array_size(arr);
    if (n > JSONX_SIM_MAX_EVENTS)
        return slad_error_set(reterr, EINVAL,
                              "field 'events' has %zu events; at most %d are "
                              "allowed",
                              n, JSONX_SIM_MAX_EVENTS);
    if (n == 0)
        return 0;
    s->events = calloc(n, sizeof(*s->events));
    s->evs = calloc(n, sizeof(*s->evs));
    if (!s->events || !s->evs)
        return -ENOMEM;
    /* Their order is checked where the daemon checks an event's: lifecycle_event. */
    for (size_t i = 0; i < n; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "events[%zu].", i);
        json_t *obj = json_array_get(arr, i);
        if (!json_is_object(obj))
            return slad_error_set(reterr, EINVAL,
                                  "field 'events[%zu]' must be an object {type, at, ...}", i);
        s->n_events = i + 1;
        int r = event_from_object(obj, prefix, now_ms, true, &s->events[i], reterr);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < n; i++)
        s->evs[i] = s->events[i].ev;
    return 0;
}

int jsonx_simulate_parse(const char *body, size_t len, int64_t now_ms, struct jsonx_simulate *ret,
                         struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    struct jsonx_simulate s = {0};
    ticket_init(&s.ticket);
    r = ticket_from_object(root, now_ms, true, &s.ticket, reterr);
    if (r == 0 && json_object_get(root, "events"))
        r = simulate_events(json_object_get(root, "events"), &s, now_ms, reterr);
    if (r == 0) {
        /* The latest instant given: events out of order parse (the run refuses them, 409),
         * so the last one need not be the latest. */
        int64_t last_ms = s.ticket.reported_at_ms;
        for (size_t i = 0; i < s.n_events; i++)
            if (s.evs[i].at_ms > last_ms)
                last_ms = s.evs[i].at_ms;
        json_t *until = json_object_get(root, "until");
        s.until_ms = last_ms + SIM_DEFAULT_HORIZON_MS;
        if (until && !json_is_null(until)) {
            r = jsonx_read_time(until, "", "until", &s.until_ms, reterr);
            if (r == 0 && s.until_ms < last_ms)
                r = slad_error_set(reterr, EINVAL,
                                   "field 'until' lies before reported_at or the last event");
            else if (r == 0 && s.until_ms - s.ticket.reported_at_ms > SIM_MAX_HORIZON_MS)
                r = slad_error_set(reterr, EINVAL,
                                   "field 'until' lies more than 5 years after reported_at");
        }
    }
    json_decref(root);
    if (r < 0) {
        jsonx_simulate_done(&s);
        return r;
    }
    *ret = s;
    return 0;
}

/* ---- rendering ---- */

json_t *jsonx_time(int64_t at_ms)
{
    if (at_ms == SLAD_NO_TIME)
        return json_null();
    char buf[JSONX_TIME_MAX];
    return json_string(jsonx_time_format(at_ms, buf, sizeof(buf)));
}

/* Set key to v (taken); false when v is NULL or the set failed. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

json_t *jsonx_clock_render(const struct slaclock *c, const struct calendar *cal, int64_t now_ms)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int64_t elapsed_ms = cal ? slaclock_elapsed(c, cal, now_ms) : c->elapsed_ms;
    bool ok = put(o, "name", jsonx_string(c->name));
    ok = ok && put(o, "state", json_string(slaclock_state_name(c->state)));
    ok = ok && put(o, "target_s", json_integer(c->target_ms / 1000));
    ok = ok && put(o, "elapsed_s", json_integer(elapsed_ms / 1000));
    ok = ok && put(o, "due_at", jsonx_time(c->due_at_ms));
    ok = ok && put(o, "started_at", jsonx_time(c->started_at_ms));
    ok = ok && put(o, "stopped_at", jsonx_time(c->stopped_at_ms));
    ok = ok && put(o, "breached_at", jsonx_time(c->breached_at_ms));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The calendar clock c counts in under policy p, or NULL when the policy lacks it. */
static const struct calendar *clock_calendar(const struct conf_policy *p, const char *name)
{
    if (!p)
        return NULL;
    for (size_t i = 0; i < p->n_clocks; i++)
        if (strcmp(p->clocks[i].name, name) == 0)
            return p->clocks[i].calendar ? p->clocks[i].calendar : p->calendar;
    return NULL;
}

json_t *jsonx_ticket_render(const struct ticket *t, const struct conf *conf, int64_t now_ms)
{
    json_t *o = json_object(), *customer = json_object(), *device = json_object(),
           *labels = json_object(), *clocks = json_array();
    bool ok = o && customer && device && labels && clocks;
    ok = ok && put(customer, "name", jsonx_string(t->customer_name));
    ok = ok && put(customer, "phone", jsonx_string(t->customer_phone));
    ok = ok && put(customer, "address", jsonx_string(t->customer_address));
    ok = ok && put(device, "model", jsonx_string(t->device_model));
    ok = ok && put(device, "serial", jsonx_string(t->device_serial));
    for (size_t i = 0; ok && i < t->n_labels; i++)
        ok = put(labels, t->labels[i].key, jsonx_string(t->labels[i].value));
    const struct conf_policy *policy = conf && t->policy ? conf_find_policy(conf, t->policy) : NULL;
    for (size_t i = 0; ok && i < t->n_clocks; i++) {
        json_t *c =
            jsonx_clock_render(&t->clocks[i], clock_calendar(policy, t->clocks[i].name), now_ms);
        ok = c && json_array_append_new(clocks, c) == 0;
    }
    ok = ok && put(o, "id", json_integer(t->id));
    ok = ok && put(o, "source", jsonx_string(t->source));
    ok = ok && put(o, "external_id", jsonx_string(t->external_id));
    ok = ok && put(o, "title", jsonx_string(t->title));
    ok = ok && put(o, "description", jsonx_string(t->description));
    ok = ok && put(o, "severity", json_integer(t->severity));
    ok = ok && put(o, "grade", jsonx_string(t->grade));
    ok = ok && put(o, "region", jsonx_string(t->region));
    ok = ok && put(o, "team", jsonx_string(t->team));
    ok = ok && put(o, "assignee", jsonx_string(t->assignee));
    ok = ok && put(o, "customer", json_incref(customer));
    ok = ok && put(o, "device", json_incref(device));
    ok = ok && put(o, "fault_code", jsonx_string(t->fault_code));
    ok = ok && put(o, "reported_at", jsonx_time(t->reported_at_ms));
    ok = ok && put(o, "appointment_at", jsonx_time(t->appointment_at_ms));
    ok = ok && put(o, "labels", json_incref(labels));
    ok = ok && put(o, "status", json_string(ticket_status_name(t->status)));
    ok = ok && put(o, "policy", jsonx_string(t->policy));
    ok = ok && put(o, "clocks", json_incref(clocks));
    ok = ok && put(o, "created_at", jsonx_time(t->created_at_ms));
    ok = ok && put(o, "updated_at", jsonx_time(t->updated_at_ms));
    ok = ok && put(o, "reopen_count", json_integer(t->reopen_count));
    ok = ok && put(o, "repeat_count", json_integer(t->repeat_count));
    json_decref(customer);
    json_decref(device);
    json_decref(labels);
    json_decref(clocks);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(JSONX_REAL_DIGITS))

/* The text being dumped; failed once a write could not be stored. */
struct dump_buf {
    char *s;
    size_t len, cap;
    bool failed;
};

static int dump_write(const char *buffer, size_t size, void *data)
{
    struct dump_buf *b = data;
    if (!b->failed && b->len + size >= b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap <= b->len + size && cap < SIZE_MAX / 2)
            cap *= 2;
        char *s = cap > b->len + size ? realloc(b->s, cap) : NULL;
        if (s) {
            b->s = s;
            b->cap = cap;
        } else {
            b->failed = true;
        }
    }
    if (b->failed)
        return -1;
    memcpy(b->s + b->len, buffer, size);
    b->len += size;
    b->s[b->len] = '\0';
    return 0;
}

char *jsonx_dump(const json_t *v, size_t *ret_len)
{
    /* Not json_dumps: jansson 2.14 does not check the write of an object's key, so under
     * memory pressure json_dumps returns text with a key missing ({"at":...,":"fast"}).
     * Our own writer remembers any failed write. */
    struct dump_buf b = {0};
    int r = json_dump_callback(v, dump_write, &b, DUMP_FLAGS);
    if (r < 0 || b.failed || !b.s) {
        free(b.s);
        return NULL;
    }
    if (ret_len)
        *ret_len = b.len;
    return b.s;
}

size_t jsonx_dump_size(const json_t *v)
{
    return json_dumpb(v, NULL, 0, DUMP_FLAGS);
}

char *jsonx_error_body(const char *code, const char *message, size_t *ret_len)
{
    json_t *err = json_object(), *root = json_object();
    bool ok = err && root && put(err, "code", jsonx_string(code)) &&
              put(err, "message", jsonx_string(message ? message : "")) &&
              put(root, "error", json_incref(err));
    char *s = ok ? jsonx_dump(root, ret_len) : NULL;
    json_decref(err);
    json_decref(root);
    return s;
}
