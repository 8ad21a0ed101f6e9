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
 * may have moved on by the time the row is delivered. */
static void clock_snapshot(struct jsonw *w, const struct slaclock *c)
{
    jsonw_open(w, "clock_snapshot");
    jsonw_str(w, "name", c->name);
    jsonw_str(w, "state", slaclock_state_name(c->state));
    jsonw_int(w, "target_ms", c->target_ms);
    jsonw_int(w, "elapsed_ms", c->elapsed_ms);
    jsonw_int(w, "since_ms", c->since_ms);
    jsonw_int(w, "started_at_ms", c->started_at_ms);
    jsonw_int(w, "due_at_ms", c->due_at_ms);
    jsonw_int(w, "breached_at_ms", c->breached_at_ms);
    jsonw_close(w);
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
 * (read back with jsonx_ticket_parse). */
static void pseudo_ticket(struct jsonw *w, const struct ticket *t)
{
    jsonw_open(w, "plan_ticket");
    jsonw_str(w, "title", t->title);
    jsonw_str(w, "source", t->source);
    jsonw_str(w, "external_id", t->external_id);
    jsonw_int(w, "severity", t->severity ? t->severity : TICKET_SEVERITY_MAX);
    jsonw_str(w, "team", t->team);
    jsonw_str(w, "assignee", t->assignee);
    jsonw_open(w, "customer");
    jsonw_str(w, "name", t->customer_name);
    jsonw_str(w, "phone", t->customer_phone);
    jsonw_str(w, "address", t->customer_address);
    jsonw_close(w);
    jsonw_open(w, "device");
    jsonw_str(w, "model", t->device_model);
    jsonw_str(w, "serial", t->device_serial);
    jsonw_close(w);
    jsonw_close(w);
}

/* Written with jsonw (jansson's compact text, without building an object): a payload is
 * made for every notification a step queues. */
char *payload_encode(const struct ticket *t, const struct effect *e, bool late,
                     const struct recipient *rc, const char *link)
{
    struct jsonw w = {0};
    jsonw_open(&w, NULL);
    record_effect_write(&w, t, e, late);
    jsonw_int(&w, "ticket_id", t->id);
    jsonw_str(&w, "recipient", rc->text);
    jsonw_str(&w, "contact", rc->contact ? rc->contact->name : NULL);
    jsonw_str(&w, "address", rc->address);
    jsonw_str(&w, "link", link);
    const struct slaclock *c = e->kind == EFFECT_STEP ? clock_named(t, e->clock) : NULL;
    if (c)
        clock_snapshot(&w, c);
    if (!t->id)
        pseudo_ticket(&w, t);
    jsonw_close(&w);
    return jsonw_finish(&w, NULL);
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
