/* payload.c - the outbox payload, both ways (payload.h). */
#include "payload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "record_json.h"

/* ---- encoding ---- */

/* The state of clock c when the notification was queued, for the renderer: the clock
 * may have moved on by the time the row is delivered. NULL when out of memory. */
static json_t *clock_snapshot(const struct slaclock *c)
{
    json_t *o = json_object();
    bool ok = record_put_str(o, "name", c->name);
    ok &= record_put_str(o, "state", slaclock_state_name(c->state));
    ok &= record_put_int(o, "target_ms", c->target_ms);
    ok &= record_put_int(o, "elapsed_ms", c->elapsed_ms);
    ok &= record_put_int(o, "since_ms", c->since_ms);
    ok &= record_put_int(o, "started_at_ms", c->started_at_ms);
    ok &= record_put_int(o, "due_at_ms", c->due_at_ms);
    ok &= record_put_int(o, "breached_at_ms", c->breached_at_ms);
    return record_built(o, ok);
}

/* The clock of t named name, or NULL (reminders, repeat faults). */
static const struct slaclock *clock_named(const struct ticket *t, const char *name)
{
    for (size_t i = 0; name && name[0] && i < t->n_clocks; i++)
        if (strcmp(t->clocks[i].name, name) == 0)
            return &t->clocks[i];
    return NULL;
}

/* The fields of a plan's pseudo ticket the templates use, as a POST /v1/tickets body
 * (read back with jsonx_ticket_parse); NULL when out of memory. */
static json_t *pseudo_ticket_json(const struct ticket *t)
{
    json_t *o = json_object(), *customer = json_object(), *device = json_object();
    bool ok = record_put_str(o, "title", t->title);
    ok &= record_put_str(o, "source", t->source);
    ok &= record_put_str(o, "external_id", t->external_id);
    ok &= record_put_int(o, "severity", t->severity ? t->severity : TICKET_SEVERITY_MAX);
    ok &= record_put_str(o, "team", t->team);
    ok &= record_put_str(o, "assignee", t->assignee);
    ok &= record_put_str(customer, "name", t->customer_name);
    ok &= record_put_str(customer, "phone", t->customer_phone);
    ok &= record_put_str(customer, "address", t->customer_address);
    ok &= record_put(o, "customer", customer);
    ok &= record_put_str(device, "model", t->device_model);
    ok &= record_put_str(device, "serial", t->device_serial);
    ok &= record_put(o, "device", device);
    return record_built(o, ok);
}

char *payload_encode(const struct ticket *t, const struct effect *e, bool late,
                     const struct recipient *rc, const char *link)
{
    json_t *p = record_effect_json(t, e, late);
    bool ok = record_put_int(p, "ticket_id", t->id);
    ok &= record_put_str(p, "recipient", rc->text);
    ok &= record_put_str(p, "contact", rc->contact ? rc->contact->name : NULL);
    ok &= record_put_str(p, "address", rc->address);
    if (link)
        ok &= record_put_str(p, "link", link);
    const struct slaclock *c = e->kind == EFFECT_STEP ? clock_named(t, e->clock) : NULL;
    if (c)
        ok &= record_put(p, "clock_snapshot", clock_snapshot(c));
    if (!t->id)
        ok &= record_put(p, "plan_ticket", pseudo_ticket_json(t));
    return record_text(record_built(p, ok));
}

/* ---- decoding ---- */

static const char *get_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t get_int(json_t *o, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* A copy of the string member key into *ret (NULL when absent); false when out of
 * memory. */
static bool copy_str(json_t *o, const char *key, char **ret)
{
    const char *s = get_str(o, key);
    *ret = s ? strdup(s) : NULL;
    return !s || *ret;
}

/* The clock as the snapshot saw it; false when there is none. */
static bool clock_from(json_t *snap, struct slaclock *c)
{
    if (!json_is_object(snap))
        return false;
    memset(c, 0, sizeof(*c));
    const char *name = get_str(snap, "name");
    int state = slaclock_state_from_name(get_str(snap, "state"));
    if (!name || state < 0)
        return false;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->state = state;
    c->target_ms = get_int(snap, "target_ms", 0);
    c->elapsed_ms = get_int(snap, "elapsed_ms", 0);
    c->since_ms = get_int(snap, "since_ms", SLAD_NO_TIME);
    c->started_at_ms = get_int(snap, "started_at_ms", SLAD_NO_TIME);
    c->stopped_at_ms = SLAD_NO_TIME;
    c->due_at_ms = get_int(snap, "due_at_ms", SLAD_NO_TIME);
    c->breached_at_ms = get_int(snap, "breached_at_ms", SLAD_NO_TIME);
    c->stop_event = -1;
    return true;
}

/* A plan's pseudo ticket, read as the API reads a ticket. */
static int ticket_from(json_t *pt, int64_t now_ms, struct ticket *t, struct slad_error *reterr)
{
    size_t len;
    char *text = jsonx_dump(pt, &len);
    if (!text)
        return slad_error_set(reterr, ENOMEM, "out of memory reading a payload");
    int r = jsonx_ticket_parse(text, len, now_ms, t, reterr);
    free(text);
    return r;
}

int payload_decode(const char *text, int64_t now_ms, struct payload *ret, struct slad_error *reterr)
{
    json_t *o = text ? json_loads(text, 0, NULL) : json_object();
    if (!json_is_object(o)) {
        json_decref(o);
        return slad_error_set(reterr, EBADMSG, "the payload is not a JSON object");
    }
    struct payload p = {
        .ticket_id = get_int(o, "ticket_id", 0),
        .step = (int)get_int(o, "step", get_int(o, "reminder", 0)),
        .repeat = (unsigned)get_int(o, "repeat", 0),
        .followup_deadline_ms = SLAD_NO_TIME,
    };
    ticket_init(&p.ticket);
    const char *deadline = get_str(o, "deadline_at");
    if (deadline && jsonx_time_parse(deadline, &p.followup_deadline_ms, NULL) < 0)
        p.followup_deadline_ms = SLAD_NO_TIME;
    p.has_clock = clock_from(json_object_get(o, "clock_snapshot"), &p.clock);
    int r = 0;
    if (!copy_str(o, "recipient", &p.recipient) || !copy_str(o, "contact", &p.contact) ||
        !copy_str(o, "address", &p.address) || !copy_str(o, "followup", &p.followup) ||
        !copy_str(o, "link", &p.link))
        r = slad_error_set(reterr, ENOMEM, "out of memory reading a payload");
    json_t *pt = json_object_get(o, "plan_ticket");
    if (r == 0 && json_is_object(pt)) {
        r = ticket_from(pt, now_ms, &p.ticket, reterr);
        p.has_ticket = r == 0;
    }
    json_decref(o);
    if (r < 0) {
        payload_done(&p);
        return r;
    }
    *ret = p;
    return 0;
}

void payload_done(struct payload *p)
{
    free(p->recipient);
    free(p->contact);
    free(p->address);
    free(p->followup);
    free(p->link);
    ticket_done(&p->ticket);
    *p = (struct payload){.ticket_id = 0};
    ticket_init(&p->ticket);
}
