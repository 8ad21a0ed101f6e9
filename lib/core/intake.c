/* intake.c - alerts as tickets (see intake.h). */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void intake_alert_init(struct intake_alert *a)
{
    memset(a, 0, sizeof(*a));
    a->started_ms = SLAD_NO_TIME;
    a->ended_ms = SLAD_NO_TIME;
}

void intake_alert_done(struct intake_alert *a)
{
    free(a->key);
    free(a->title);
    free(a->description);
    free(a->severity);
    for (size_t i = 0; i < a->n_labels; i++) {
        free(a->labels[i].key);
        free(a->labels[i].value);
    }
    free(a->labels);
    intake_alert_init(a);
}

static const char *const outcome_names[] = {
    [INTAKE_CREATED] = "created",           [INTAKE_REOPENED] = "reopened",
    [INTAKE_ACKNOWLEDGED] = "acknowledged", [INTAKE_RESOLVED] = "resolved",
    [INTAKE_UNCHANGED] = "unchanged",
};

const char *intake_outcome_name(enum intake_outcome o)
{
    return (unsigned)o < INTAKE_OUTCOME_COUNT ? outcome_names[o] : NULL;
}

enum intake_outcome intake_decide(enum intake_action action, bool exists, enum ticket_status status)
{
    switch (action) {
    case INTAKE_TRIGGER:
        if (!exists)
            return INTAKE_CREATED;
        return status == TICKET_RESOLVED || status == TICKET_CLOSED ? INTAKE_REOPENED
                                                                    : INTAKE_UNCHANGED;
    case INTAKE_ACKNOWLEDGE:
        return exists && status == TICKET_OPEN ? INTAKE_ACKNOWLEDGED : INTAKE_UNCHANGED;
    case INTAKE_RESOLVE:
        return exists && (ticket_status_is_active(status) || status == TICKET_ON_HOLD)
                   ? INTAKE_RESOLVED
                   : INTAKE_UNCHANGED;
    }
    return INTAKE_UNCHANGED;
}

/* A copy of s cut to at most max bytes at a UTF-8 boundary into *field; -ENOMEM. */
static int set_cut(char **field, const char *s, size_t max)
{
    size_t len = utf8_prefix(s, strlen(s), max);
    char *copy = strndup(s, len);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/* The alert's labels that fit beside room for the intake's own. */
static int copy_labels(struct ticket *t, const struct intake_alert *a, size_t room)
{
    char value[INTAKE_LABEL_MAX + 1];
    for (size_t i = 0; i < a->n_labels && t->n_labels < room; i++) {
        const struct ticket_label *l = &a->labels[i];
        size_t klen = strlen(l->key);
        if (klen == 0 || klen > INTAKE_LABEL_MAX)
            continue;
        size_t vlen = utf8_prefix(l->value, strlen(l->value), INTAKE_LABEL_MAX);
        memcpy(value, l->value, vlen);
        value[vlen] = '\0';
        if (ticket_set_label(t, l->key, value) < 0)
            return -ENOMEM;
    }
    return 0;
}

static const char *alert_label(const struct intake_alert *a, const char *key)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i].key, key) == 0)
            return a->labels[i].value;
    return NULL;
}

int intake_ticket(const struct conf_intake *in, const struct intake_alert *a, int64_t now_ms,
                  struct ticket *ret, struct slad_error *reterr)
{
    struct ticket t;
    ticket_init(&t);
    char fallback[INTAKE_KEY_MAX + 16];
    const char *title = a->title && a->title[0] ? a->title : alert_label(a, "alertname");
    if (!title || !title[0]) {
        snprintf(fallback, sizeof(fallback), "alert %s", a->key ? a->key : "without a name");
        title = fallback;
    }
    t.severity = conf_intake_severity(in, a->severity);
    t.reported_at_ms =
        a->started_ms != SLAD_NO_TIME && a->started_ms <= now_ms ? a->started_ms : now_ms;
    size_t room = TICKET_MAX_LABELS - (in->n_labels < TICKET_MAX_LABELS ? in->n_labels : 0);
    int r = ticket_set_string(&t.source, in->name);
    if (r == 0 && a->key)
        r = ticket_set_string(&t.external_id, a->key);
    if (r == 0)
        r = set_cut(&t.title, title, INTAKE_TITLE_MAX);
    if (r == 0 && a->description)
        r = ticket_set_string(&t.description, a->description);
    if (r == 0 && in->team)
        r = ticket_set_string(&t.team, in->team);
    if (r == 0 && in->grade)
        r = ticket_set_string(&t.grade, in->grade);
    if (r == 0 && in->region)
        r = ticket_set_string(&t.region, in->region);
    if (r == 0)
        r = copy_labels(&t, a, room);
    for (size_t i = 0; r == 0 && i < in->n_labels && i < TICKET_MAX_LABELS; i++)
        r = ticket_set_label(&t, in->labels[i].key, in->labels[i].value);
    if (r < 0) {
        ticket_done(&t);
        return slad_error_set(reterr, ENOMEM, "out of memory making a ticket of an alert");
    }
    *ret = t;
    return 0;
}

int64_t intake_resolve_at(int64_t ended_ms, int64_t last_ms, int64_t now_ms)
{
    int64_t at = ended_ms == SLAD_NO_TIME || ended_ms > now_ms ? now_ms : ended_ms;
    return at < last_ms ? last_ms : at;
}
