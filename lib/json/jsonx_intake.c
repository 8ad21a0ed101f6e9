/* jsonx_intake.c - monitoring senders' JSON into intake alerts (see jsonx_intake.h). */
#include "jsonx_intake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonx.h"
#include "utf8.h"

#define PATH_MAX_BYTES 96 /* "alerts[1234].annotations." */

/* Go's zero time.Time: what Alertmanager writes for an end that is not known. */
#define GO_ZERO_TIME "0001-01-01T00:00:00Z"

/* A member that must be present: -ENODATA names it. */
static json_t *required(json_t *obj, const char *prefix, const char *name, int *r,
                        struct slad_error *reterr)
{
    json_t *v = json_object_get(obj, name);
    if (!v && *r == 0)
        *r = slad_error_set(reterr, ENODATA, "field '%s%s' is required", prefix, name);
    return v;
}

/* An optional string member of at most max bytes into *ret. */
static int opt_string(json_t *obj, const char *prefix, const char *name, size_t max, char **ret,
                      struct slad_error *reterr)
{
    json_t *v = json_object_get(obj, name);
    return v ? jsonx_read_string(v, prefix, name, 0, max, true, ret, reterr) : 0;
}

/* An optional time member; absent, null, "" and Go's zero time are none. */
static int opt_time(json_t *obj, const char *prefix, const char *name, int64_t *ret,
                    struct slad_error *reterr)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v) ||
        (json_is_string(v) &&
         (!json_string_length(v) || strcmp(json_string_value(v), GO_ZERO_TIME) == 0)))
        return 0;
    return jsonx_read_time(v, prefix, name, ret, reterr);
}

/* A copy of text cut at a UTF-8 boundary to at most max bytes; NULL when out of memory. */
static char *cut_copy(const char *text, size_t max)
{
    return strndup(text, utf8_prefix(text, strlen(text), max));
}

/* v (an object of strings, or null) appended to a's labels. */
static int read_labels(json_t *v, const char *path, struct intake_alert *a,
                       struct slad_error *reterr)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL,
                              "field '%s' must be an object of strings {\"key\": \"value\"}", path);
    size_t n = json_object_size(v);
    struct ticket_label *labels = realloc(a->labels, (a->n_labels + n + 1) * sizeof(*labels));
    if (!labels)
        return -ENOMEM;
    a->labels = labels;
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value)
    {
        if (!json_is_string(value))
            return slad_error_set(reterr, EINVAL, "field '%s.%.64s' must be a string", path, key);
        struct ticket_label *l = &a->labels[a->n_labels];
        l->key = strdup(key);
        l->value = strdup(json_string_value(value));
        if (!l->key || !l->value) {
            free(l->key);
            free(l->value);
            return -ENOMEM;
        }
        a->n_labels++;
    }
    return 0;
}

static const char *label_of(const struct intake_alert *a, const char *key)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i].key, key) == 0)
            return a->labels[i].value;
    return NULL;
}

/* ---- Alertmanager ---- */

static int alertmanager_alert(json_t *v, size_t index, struct intake_alert *a,
                              struct slad_error *reterr)
{
    char prefix[PATH_MAX_BYTES], path[PATH_MAX_BYTES];
    snprintf(prefix, sizeof(prefix), "alerts[%zu].", index);
    if (!json_is_object(v))
        return slad_error_set(reterr, EINVAL, "field 'alerts[%zu]' must be an object", index);
    int r = 0;
    json_t *status = required(v, prefix, "status", &r, reterr);
    json_t *fingerprint = required(v, prefix, "fingerprint", &r, reterr);
    if (r < 0)
        return r;
    const char *s = json_string_value(status);
    if (!s || (strcmp(s, "firing") != 0 && strcmp(s, "resolved") != 0))
        return slad_error_set(reterr, EINVAL, "field '%sstatus' must be \"firing\" or \"resolved\"",
                              prefix);
    a->action = strcmp(s, "firing") == 0 ? INTAKE_TRIGGER : INTAKE_RESOLVE;
    r = jsonx_read_string(fingerprint, prefix, "fingerprint", 1, INTAKE_KEY_MAX, false, &a->key,
                          reterr);
    snprintf(path, sizeof(path), "alerts[%zu].labels", index);
    if (r == 0)
        r = read_labels(json_object_get(v, "labels"), path, a, reterr);
    json_t *annotations = json_object_get(v, "annotations");
    snprintf(path, sizeof(path), "alerts[%zu].annotations.", index);
    if (r == 0 && annotations && !json_is_object(annotations) && !json_is_null(annotations))
        r = slad_error_set(reterr, EINVAL, "field '%sannotations' must be an object of strings",
                           prefix);
    if (r == 0)
        r = opt_string(annotations, path, "summary", JSONX_DESCRIPTION_MAX, &a->title, reterr);
    if (r == 0)
        r = opt_string(annotations, path, "description", JSONX_DESCRIPTION_MAX, &a->description,
                       reterr);
    if (r == 0)
        r = opt_time(v, prefix, "startsAt", &a->started_ms, reterr);
    if (r == 0)
        r = opt_time(v, prefix, "endsAt", &a->ended_ms, reterr);
    const char *severity = label_of(a, "severity");
    if (r == 0 && severity && !(a->severity = strdup(severity)))
        r = -ENOMEM;
    return r;
}

int jsonx_alertmanager_parse(const char *body, size_t len, struct intake_alert **ret_alerts,
                             size_t *ret_n, struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    json_t *version = required(root, "", "version", &r, reterr);
    json_t *alerts = required(root, "", "alerts", &r, reterr);
    if (r == 0 && (!json_is_string(version) || strcmp(json_string_value(version), "4") != 0))
        r = slad_error_set(reterr, EINVAL,
                           "field 'version' must be \"4\" (Alertmanager's webhook version 4)");
    if (r == 0 && !json_is_array(alerts))
        r = slad_error_set(reterr, EINVAL, "field 'alerts' must be an array");
    size_t n = r == 0 ? json_array_size(alerts) : 0;
    struct intake_alert *v = r == 0 ? calloc(n ? n : 1, sizeof(*v)) : NULL;
    if (r == 0 && !v)
        r = -ENOMEM;
    size_t done = 0;
    for (; r == 0 && done < n; done++) {
        intake_alert_init(&v[done]);
        r = alertmanager_alert(json_array_get(alerts, done), done, &v[done], reterr);
    }
    json_decref(root);
    if (r < 0) {
        for (size_t i = 0; i < done; i++)
            intake_alert_done(&v[i]);
        free(v);
        return r == -ENOMEM ? slad_error_set(reterr, ENOMEM, "out of memory") : r;
    }
    *ret_alerts = v;
    *ret_n = n;
    return 0;
}

/* ---- PagerDuty Events API v2 ---- */

static const char *const pd_actions[] = {"trigger", "acknowledge", "resolve", NULL};
static const char *const pd_severities[] = {"critical", "error", "warning", "info", NULL};

/* The index of v's string in words, or -1. */
static int word_index(json_t *v, const char *const *words)
{
    const char *s = json_string_value(v);
    for (int i = 0; s && words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

/* custom_details as the description: a string as it is, anything else as compact JSON. */
static int pd_details(json_t *v, struct intake_alert *a)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        a->description = cut_copy(json_string_value(v), JSONX_DESCRIPTION_MAX);
        return a->description ? 0 : -ENOMEM;
    }
    char *text = jsonx_dump(v, NULL);
    if (!text)
        return -ENOMEM;
    a->description = cut_copy(text, JSONX_DESCRIPTION_MAX);
    free(text);
    return a->description ? 0 : -ENOMEM;
}

/* A payload's string that becomes a label of the same name. */
static int pd_label(json_t *payload, const char *name, struct intake_alert *a,
                    struct slad_error *reterr)
{
    json_t *v = json_object_get(payload, name);
    if (!v || json_is_null(v))
        return 0;
    char *value = NULL;
    int r = jsonx_read_string(v, "payload.", name, 0, JSONX_DESCRIPTION_MAX, false, &value, reterr);
    if (r < 0)
        return r;
    struct ticket_label *labels = realloc(a->labels, (a->n_labels + 1) * sizeof(*labels));
    char *key = strdup(name);
    if (!labels || !key) {
        free(value);
        free(key);
        if (labels)
            a->labels = labels;
        return -ENOMEM;
    }
    a->labels = labels;
    a->labels[a->n_labels++] = (struct ticket_label){key, value};
    return 0;
}

static int pd_payload(json_t *payload, struct intake_alert *a, struct slad_error *reterr)
{
    if (!json_is_object(payload))
        return slad_error_set(reterr, EINVAL, "field 'payload' must be an object");
    int r = 0;
    json_t *summary = required(payload, "payload.", "summary", &r, reterr);
    required(payload, "payload.", "source", &r, reterr);
    json_t *severity = required(payload, "payload.", "severity", &r, reterr);
    if (r < 0)
        return r;
    r = jsonx_read_string(summary, "payload.", "summary", 1, JSONX_DESCRIPTION_MAX, false,
                          &a->title, reterr);
    if (r == 0 && word_index(severity, pd_severities) < 0)
        r = slad_error_set(reterr, EINVAL,
                           "field 'payload.severity' must be one of critical, error, warning, "
                           "info");
    if (r == 0 && !(a->severity = strdup(json_string_value(severity))))
        r = -ENOMEM;
    static const char *const labels[] = {"source", "component", "group", "class"};
    for (size_t i = 0; r == 0 && i < sizeof(labels) / sizeof(labels[0]); i++)
        r = pd_label(payload, labels[i], a, reterr);
    if (r == 0)
        r = opt_time(payload, "payload.", "timestamp", &a->started_ms, reterr);
    if (r == 0)
        r = pd_details(json_object_get(payload, "custom_details"), a);
    return r;
}

int jsonx_pagerduty_parse(const char *body, size_t len, struct intake_alert *ret,
                          char **ret_routing_key, struct slad_error *reterr)
{
    json_t *root;
    int r = jsonx_load_object(body, len, &root, reterr);
    if (r < 0)
        return r;
    struct intake_alert a;
    intake_alert_init(&a);
    char *routing_key = NULL;
    json_t *key = required(root, "", "routing_key", &r, reterr);
    json_t *action = required(root, "", "event_action", &r, reterr);
    if (r == 0)
        r = jsonx_read_string(key, "", "routing_key", 1, JSONX_DESCRIPTION_MAX, false, &routing_key,
                              reterr);
    int index = r == 0 ? word_index(action, pd_actions) : -1;
    if (r == 0 && index < 0)
        r = slad_error_set(reterr, EINVAL,
                           "field 'event_action' must be one of trigger, acknowledge, resolve");
    if (r == 0) {
        a.action = index == 0 ? INTAKE_TRIGGER : index == 1 ? INTAKE_ACKNOWLEDGE : INTAKE_RESOLVE;
        json_t *dedup = a.action == INTAKE_TRIGGER ? json_object_get(root, "dedup_key")
                                                   : required(root, "", "dedup_key", &r, reterr);
        if (r == 0 && dedup && !json_is_null(dedup))
            r = jsonx_read_string(dedup, "", "dedup_key", 1, INTAKE_KEY_MAX, false, &a.key, reterr);
    }
    if (r == 0 && a.action == INTAKE_TRIGGER) {
        json_t *payload = required(root, "", "payload", &r, reterr);
        if (r == 0)
            r = pd_payload(payload, &a, reterr);
    }
    json_decref(root);
    if (r < 0) {
        intake_alert_done(&a);
        free(routing_key);
        return r == -ENOMEM ? slad_error_set(reterr, ENOMEM, "out of memory") : r;
    }
    *ret = a;
    *ret_routing_key = routing_key;
    return 0;
}

int jsonx_pagerduty_routing_key(const char *body, size_t len, char **ret)
{
    json_t *root;
    struct slad_error err;
    int r = jsonx_load_object(body, len, &root, &err);
    if (r < 0)
        return r;
    json_t *key = json_object_get(root, "routing_key");
    char *copy = json_is_string(key) ? strdup(json_string_value(key)) : NULL;
    r = !json_is_string(key) ? -ENOENT : copy ? 0 : -ENOMEM;
    json_decref(root);
    if (r == 0)
        *ret = copy;
    return r;
}
