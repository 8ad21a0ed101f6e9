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

/* An RFC 3339 time; nothing for SLAD_NO_TIME or INT64_MAX (never), as record_put_time. */
void record_write_time(struct jsonw *w, const char *key, int64_t ms)
{
    char buf[JSONX_TIME_MAX];
    if (ms != SLAD_NO_TIME && ms != INT64_MAX)
        jsonw_str(w, key, jsonx_time_format(ms, buf, sizeof(buf)));
}

char *record_create(const struct ticket *t)
{
    struct jsonw w = {0};
    jsonw_open(&w, NULL);
    jsonw_str(&w, "source", t->source);
    jsonw_str(&w, "external_id", t->external_id);
    record_write_time(&w, "reported_at", t->reported_at_ms);
    jsonw_close(&w);
    return jsonw_finish(&w, NULL);
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
    struct jsonw w = {0};
    jsonw_open(&w, NULL);
    jsonw_str(&w, "event", ticket_event_name(ev->type));
    record_write_time(&w, "at", ev->at_ms);
    jsonw_str(&w, "from", ticket_status_name(from));
    jsonw_str(&w, "to", ticket_status_name(to));
    jsonw_str(&w, "by", ev->by);
    jsonw_str(&w, "note", ev->note);
    jsonw_str(&w, "assignee", ev->assignee);
    jsonw_str(&w, "reason", ev->reason);
    jsonw_close(&w);
    return jsonw_finish(&w, NULL);
}

void record_effect_write(struct jsonw *w, const struct ticket *t, const struct effect *e, bool late)
{
    record_write_time(w, "at", e->at_ms);
    switch (e->kind) {
    case EFFECT_POLICY:
        jsonw_str(w, "policy", e->name);
        break;
    case EFFECT_CLOCK:
        jsonw_str(w, "clock", e->clock);
        jsonw_str(w, "state", slaclock_state_name(e->clock_state));
        break;
    case EFFECT_STEP:
        jsonw_str(w, "clock", e->clock);
        jsonw_int(w, "step", e->step);
        jsonw_int(w, "repeat", e->repeat);
        break;
    case EFFECT_REMINDER:
        jsonw_int(w, "reminder", e->step);
        record_write_time(w, "appointment_at", t->appointment_at_ms);
        break;
    case EFFECT_FOLLOWUP:
        jsonw_str(w, "followup", e->name);
        jsonw_str(w, "owner", e->owner);
        record_write_time(w, "due_at", e->due_at_ms);
        record_write_time(w, "deadline_at", e->deadline_at_ms);
        break;
    case EFFECT_FOLLOWUP_DUE:
    case EFFECT_FOLLOWUP_STEP:
    case EFFECT_FOLLOWUP_DONE:
        jsonw_int(w, "followup_id", e->followup_id);
        jsonw_str(w, "followup", e->name);
        jsonw_str(w, "owner", e->owner);
        record_write_time(w, "due_at", e->due_at_ms);
        record_write_time(w, "deadline_at", e->deadline_at_ms);
        if (e->kind == EFFECT_FOLLOWUP_STEP)
            jsonw_int(w, "step", e->step);
        jsonw_str(w, "outcome", e->outcome);
        break;
    case EFFECT_REPEAT_FAULT:
        jsonw_int(w, "repeat_count", t->repeat_count);
        jsonw_str(w, "device_serial", t->device_serial);
        jsonw_str(w, "fault_code", t->fault_code);
        break;
    case EFFECT_PLAN_STOPPED: /* not a ticket's: observed, never recorded */
        jsonw_int(w, "plan_id", e->plan_id);
        /* A detail that is not text is left out, not a failure (as before). */
        if (e->detail && jsonw_utf8_valid(e->detail))
            jsonw_str(w, "detail", e->detail);
        break;
    }
    if (effect_notifies(e) || e->event)
        jsonw_str(w, "event", effect_event(e));
    if (effect_notifies(e) && e->notify) {
        jsonw_open_array(w, "recipients");
        for (size_t i = 0; i < e->notify->n; i++)
            jsonw_str(w, NULL, e->notify->v[i]);
        jsonw_close_array(w);
    }
    if (late)
        jsonw_true(w, "late");
}

char *record_effect(const struct ticket *t, const struct effect *e, bool late)
{
    struct jsonw w = {0};
    jsonw_open(&w, NULL);
    record_effect_write(&w, t, e, late);
    jsonw_close(&w);
    return jsonw_finish(&w, NULL);
}
