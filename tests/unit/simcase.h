/* simcase.h - declarative simulation cases for the unit tests: a ticket and timed events
 * in, the expected timeline (to the second) and final clock states out. */
#ifndef SLAD_TEST_SIMCASE_H
#define SLAD_TEST_SIMCASE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "simulate.h"

struct sim_event {
    const char *type, *at, *assignee;
};

struct sim_want {
    const char *at, *event, *clock;
    int step;
    unsigned repeat;
    const char *to; /* recipients: contact names, "channel:X", "customer:+86..." joined by ',' */
};

struct sim_case {
    int line;
    const char *name;
    int severity;
    const char *region, *grade, *source, *team, *assignee, *label_key, *label_value;
    const char *reported, *appointment, *horizon;
    int repeat_count;
    struct sim_event events[8];
    struct sim_want want[24];
    const char *clocks; /* "response=met arrival=missed" */
    const char *policy;
};

/* "2026-03-02T08:00:00Z" -> ms; "2026-03-02T08:00:00+08:00" too. */
static inline int64_t sim_ms(const char *text)
{
    struct tm tm = {0};
    const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        fail_msg("bad test instant '%s'", text);
    int64_t s = (int64_t)timegm(&tm);
    if (rest[0] == '+' || rest[0] == '-') {
        int hh = 0, mm = 0;
        sscanf(rest + 1, "%d:%d", &hh, &mm);
        s -= (rest[0] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    }
    return s * 1000;
}

static inline void sim_format(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static inline void sim_recipients(const struct sim_entry *e, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_recipients && len < size; i++) {
        const struct sim_recipient *r = &e->recipients[i];
        char one[160];
        if (r->error)
            snprintf(one, sizeof(one), "!%s", r->text);
        else if (r->contact)
            snprintf(one, sizeof(one), "%s", r->contact);
        else if (strcmp(r->text, "customer") == 0)
            snprintf(one, sizeof(one), "customer:%s", r->address ? r->address : "");
        else
            snprintf(one, sizeof(one), "%s", r->text);
        len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", one);
    }
}

static inline void sim_run_case(const struct conf *conf, const struct sim_case *c)
{
    struct ticket t;
    ticket_init(&t);
    t.severity = c->severity ? c->severity : 3;
    ticket_set_string(&t.title, c->name);
    ticket_set_string(&t.region, c->region);
    ticket_set_string(&t.grade, c->grade);
    ticket_set_string(&t.source, c->source);
    ticket_set_string(&t.team, c->team ? c->team : "north");
    ticket_set_string(&t.assignee, c->assignee ? c->assignee : "zhang.san");
    ticket_set_string(&t.customer_phone, "+8613900000000");
    if (c->label_key)
        ticket_set_label(&t, c->label_key, c->label_value);
    t.reported_at_ms = sim_ms(c->reported);
    if (c->appointment)
        t.appointment_at_ms = sim_ms(c->appointment);
    t.repeat_count = c->repeat_count;
    struct ticket_event events[8];
    size_t n = 0;
    for (; n < 8 && c->events[n].type; n++) {
        memset(&events[n], 0, sizeof(events[n]));
        events[n].type = ticket_event_from_name(c->events[n].type);
        events[n].at_ms = sim_ms(c->events[n].at);
        events[n].assignee = c->events[n].assignee;
        events[n].reason = "waiting for parts";
    }
    struct timeline tl;
    struct slad_error err = {{0}};
    int r = simulate_run(conf, &t, events, n, sim_ms(c->horizon), &tl, &err);
    if (r < 0)
        fail_msg("line %d %s: simulate failed: %s", c->line, c->name, err.msg);
    if (c->policy && strcmp(tl.policy, c->policy) != 0)
        fail_msg("line %d %s: policy %s, want %s", c->line, c->name, tl.policy, c->policy);
    size_t want_n = 0;
    while (want_n < 24 && c->want[want_n].at)
        want_n++;
    for (size_t i = 0; i < tl.n_entries || i < want_n; i++) {
        char got[512] = "(none)", want[512] = "(none)";
        if (i < tl.n_entries) {
            const struct sim_entry *e = &tl.entries[i];
            char at[32], to[256];
            sim_format(e->at_ms, at, sizeof(at));
            sim_recipients(e, to, sizeof(to));
            snprintf(got, sizeof(got), "%s %s %s step%d r%u -> %s", at, e->event,
                     e->clock[0] ? e->clock : "-", e->step, e->repeat, to);
        }
        if (i < want_n) {
            const struct sim_want *w = &c->want[i];
            char at[32];
            sim_format(sim_ms(w->at), at, sizeof(at));
            snprintf(want, sizeof(want), "%s %s %s step%d r%u -> %s", at, w->event,
                     w->clock ? w->clock : "-", w->step, w->repeat, w->to);
        }
        if (strcmp(got, want) != 0) {
            for (size_t k = 0; k < tl.n_entries; k++) {
                char at[32], to[256];
                sim_format(tl.entries[k].at_ms, at, sizeof(at));
                sim_recipients(&tl.entries[k], to, sizeof(to));
                print_message("  timeline[%zu] %s %s %s step%d r%u -> %s\n", k, at,
                              tl.entries[k].event, tl.entries[k].clock, tl.entries[k].step,
                              tl.entries[k].repeat, to);
            }
            fail_msg("line %d %s: entry %zu\n   got: %s\n  want: %s", c->line, c->name, i, got,
                     want);
        }
    }
    if (c->clocks) {
        char states[512] = "";
        size_t len = 0;
        for (size_t i = 0; i < tl.ticket.n_clocks; i++)
            len += (size_t)snprintf(states + len, sizeof(states) - len, "%s%s=%s", len ? " " : "",
                                    tl.ticket.clocks[i].name,
                                    slaclock_state_name(tl.ticket.clocks[i].state));
        if (strcmp(states, c->clocks) != 0)
            fail_msg("line %d %s: clocks\n   got: %s\n  want: %s", c->line, c->name, states,
                     c->clocks);
    }
    timeline_done(&tl);
    ticket_done(&t);
}

#endif
