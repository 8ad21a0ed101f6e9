/* record.c - the JSON texts of a ticket's history rows (record.h). */
#include <stdio.h>
#include <string.h>

#include "record_json.h"

#include "jsonx.h"

bool record_put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0; /* v NULL: -1; v is freed on failure */
}

bool record_put_str(json_t *o, const char *key, const char *v)
{
    return !v || record_put(o, key, json_string(v));
}

bool record_put_int(json_t *o, const char *key, int64_t v)
{
    return record_put(o, key, json_integer(v));
}

bool record_put_time(json_t *o, const char *key, int64_t ms)
{
    char buf[JSONX_TIME_MAX];
    if (ms == SLAD_NO_TIME || ms == INT64_MAX)
        return true;
    return record_put_str(o, key, jsonx_time_format(ms, buf, sizeof(buf)));
}

json_t *record_built(json_t *o, bool ok)
{
    if (ok)
        return o;
    json_decref(o);
    return NULL;
}

char *record_text(json_t *o)
{
    char *text = o ? jsonx_dump(o, NULL) : NULL;
    json_decref(o);
    return text;
}

char *record_create(const struct ticket *t)
{
    json_t *o = json_object();
    bool ok = record_put_str(o, "source", t->source);
    ok &= record_put_str(o, "external_id", t->external_id);
    ok &= record_put_time(o, "reported_at", t->reported_at_ms);
    return record_text(record_built(o, ok));
}

char *record_patch(const struct ticket_patch *p)
{
    json_t *o = json_object();
    bool ok = !p->has_severity || record_put_int(o, "severity", p->severity);
    const struct {
        bool has;
        const char *key, *value;
    } strings[] = {
        {p->has_grade, "grade", p->grade},
        {p->has_region, "region", p->region},
        {p->has_team, "team", p->team},
        {p->has_assignee, "assignee", p->assignee},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (strings[i].has)
            ok &= record_put(o, strings[i].key,
                             strings[i].value ? json_string(strings[i].value) : json_null());
    if (p->has_appointment_at) {
        if (p->appointment_at_ms == SLAD_NO_TIME)
            ok &= record_put(o, "appointment_at", json_null());
        else
            ok &= record_put_time(o, "appointment_at", p->appointment_at_ms);
    }
    /* Corrected texts; "customer.name" under "customer". */
    for (size_t k = 0; k < TICKET_TEXT_COUNT; k++) {
        if (!p->has_text[k])
            continue;
        const char *name = ticket_text_name(k), *dot = strchr(name, '.');
        json_t *into = o;
        if (dot) {
            char parent[16];
            snprintf(parent, sizeof(parent), "%.*s", (int)(dot - name), name);
            if (!(into = json_object_get(o, parent)) &&
                !record_put(o, parent, into = json_object()))
                into = NULL; /* freed by record_put */
        }
        ok &= into && record_put(into, dot ? dot + 1 : name,
                                 p->text[k] ? json_string(p->text[k]) : json_null());
    }
    if (p->n_labels) {
        json_t *labels = json_object();
        for (size_t i = 0; i < p->n_labels; i++)
            ok &= record_put(labels, p->labels[i].key,
                             p->labels[i].value ? json_string(p->labels[i].value) : json_null());
        ok &= record_put(o, "labels", labels);
    }
    return record_text(record_built(o, ok));
}

char *record_event(const struct ticket_event *ev, enum ticket_status from, enum ticket_status to)
{
    json_t *o = json_object();
    bool ok = record_put_str(o, "event", ticket_event_name(ev->type));
    ok &= record_put_time(o, "at", ev->at_ms);
    ok &= record_put_str(o, "from", ticket_status_name(from));
    ok &= record_put_str(o, "to", ticket_status_name(to));
    ok &= record_put_str(o, "by", ev->by);
    ok &= record_put_str(o, "note", ev->note);
    ok &= record_put_str(o, "assignee", ev->assignee);
    ok &= record_put_str(o, "reason", ev->reason);
    return record_text(record_built(o, ok));
}

json_t *record_effect_json(const struct ticket *t, const struct effect *e, bool late)
{
    json_t *o = json_object();
    bool ok = record_put_time(o, "at", e->at_ms);
    switch (e->kind) {
    case EFFECT_POLICY:
        ok &= record_put_str(o, "policy", e->name);
        break;
    case EFFECT_CLOCK:
        ok &= record_put_str(o, "clock", e->clock);
        ok &= record_put_str(o, "state", slaclock_state_name(e->clock_state));
        break;
    case EFFECT_STEP:
        ok &= record_put_str(o, "clock", e->clock);
        ok &= record_put_int(o, "step", e->step);
        ok &= record_put_int(o, "repeat", e->repeat);
        break;
    case EFFECT_REMINDER:
        ok &= record_put_int(o, "reminder", e->step);
        ok &= record_put_time(o, "appointment_at", t->appointment_at_ms);
        break;
    case EFFECT_FOLLOWUP:
        ok &= record_put_str(o, "followup", e->name);
        ok &= record_put_str(o, "owner", e->owner);
        ok &= record_put_time(o, "due_at", e->due_at_ms);
        ok &= record_put_time(o, "deadline_at", e->deadline_at_ms);
        break;
    case EFFECT_FOLLOWUP_DUE:
    case EFFECT_FOLLOWUP_STEP:
    case EFFECT_FOLLOWUP_DONE:
        ok &= record_put_int(o, "followup_id", e->followup_id);
        ok &= record_put_str(o, "followup", e->name);
        ok &= record_put_str(o, "owner", e->owner);
        ok &= record_put_time(o, "due_at", e->due_at_ms);
        ok &= record_put_time(o, "deadline_at", e->deadline_at_ms);
        if (e->kind == EFFECT_FOLLOWUP_STEP)
            ok &= record_put_int(o, "step", e->step);
        ok &= record_put_str(o, "outcome", e->outcome);
        break;
    case EFFECT_REPEAT_FAULT:
        ok &= record_put_int(o, "repeat_count", t->repeat_count);
        ok &= record_put_str(o, "device_serial", t->device_serial);
        ok &= record_put_str(o, "fault_code", t->fault_code);
        break;
    case EFFECT_PLAN_STOPPED: /* not a ticket's: observed, never recorded */
        record_put_int(o, "plan_id", e->plan_id);
        record_put_str(o, "detail", e->detail);
        break;
    }
    if (effect_notifies(e) || e->event)
        ok &= record_put_str(o, "event", effect_event(e));
    if (effect_notifies(e) && e->notify) {
        json_t *to = json_array();
        for (size_t i = 0; to && i < e->notify->n; i++)
            ok &= json_array_append_new(to, json_string(e->notify->v[i])) == 0;
        ok &= record_put(o, "recipients", to);
    }
    if (late)
        ok &= record_put(o, "late", json_true());
    return record_built(o, ok);
}

char *record_effect(const struct ticket *t, const struct effect *e, bool late)
{
    return record_text(record_effect_json(t, e, late));
}
