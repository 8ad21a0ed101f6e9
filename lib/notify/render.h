/* render.h - the words of a notification: templates with {{placeholders}}, the built-in
 * texts of every event in Chinese and English, and the escaping that puts a value into
 * a JSON string, a form body, a URL or a header.
 *
 * A template is literal text with {{name}} placeholders; the names are the ones conf.c
 * accepts (ticket.id, ticket.title, clock.due_at, to, text, ...). A value is inserted
 * once and never scanned again, so a ticket title that contains "{{to}}" stays literal.
 * An unknown or unterminated placeholder is copied as written (the config loader refuses
 * them; this keeps rendering total for anything else). Values and literals that are not
 * valid UTF-8 have each bad byte replaced by '?'. Times are local to daemon.timezone (the
 * zone of the conf's 24x7 calendar), or to the notification's calendar when it has no
 * conf: "2026-03-02 16:00 +08:00". Everything is bounded: a rendering longer
 * than its limit fails with -EMSGSIZE rather than being cut. */
#ifndef SLAD_RENDER_H
#define SLAD_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "escape.h"
#include "slaclock.h"
#include "ticket.h"

/* Longest rendered template (message text, subject, SMS body, URL, header). */
#define RENDER_MAX_BYTES 65536

/* One notification to one recipient, as the delivery loop knows it: the outbox row, the
 * ticket it is about, the resolved recipient. Every pointer is borrowed. */
struct notification {
    const struct conf *conf;         /* templates, daemon language, ticket JSON; may be NULL */
    const char *event;               /* "sla.breach", ... */
    const char *idempotency_key;     /* stable across retries (SPEC 3) */
    const struct ticket *ticket;     /* the ticket as it is now; required */
    const struct slaclock *clock;    /* the clock of an escalation step, or NULL */
    const struct calendar *calendar; /* the clock's calendar: {{clock.elapsed}}, and local
                                        times when conf is NULL; NULL: UTC */
    int step;                        /* 1-based step or reminder number; 0: none */
    unsigned repeat;                 /* 0 for the first firing of a step */
    const char *recipient;           /* as written in the config: "supervisor", "customer" */
    const char *contact;             /* the contact's name, or NULL */
    const char *to;                  /* address on the channel: phone, e-mail; or NULL */
    const char *text;                /* the message (render_message); required to build */
    const char *subject;             /* e-mail subject / chat title, or NULL */
    const char *followup_name;       /* follow-up events, else NULL */
    int64_t followup_due_at_ms;      /* with followup_name; SLAD_NO_TIME when none */
    const char *link;                /* URL of the ticket in the caller's system, or NULL */
};

/* A growing text with a limit and a sticky error (curl's dynbuf): after the first
 * failure further additions are ignored and render_buf_take reports it. The text may
 * hold secrets (signed URLs), so it is wiped when freed. */
struct render_buf {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
    size_t max_bytes; /* longest text allowed */
    int err;          /* 0, -ENOMEM or -EMSGSIZE */
};

void render_buf_init(struct render_buf *b, size_t max_bytes);
void render_buf_add(struct render_buf *b, const void *data, size_t len);
void render_buf_puts(struct render_buf *b, const char *s);
void render_buf_printf(struct render_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s[0..len) escaped as esc (bad UTF-8 bytes become '?'). */
void render_buf_escape(struct render_buf *b, const char *s, size_t len, enum escape esc);
/* Hand the text over: 0 with *ret (malloc'd, NUL-terminated, "" when empty) and *ret_len
 * (may be NULL), or the sticky error with a message naming what (e.g. "e-mail subject").
 * The buffer is empty afterwards either way. */
int render_buf_take(struct render_buf *b, const char *what, char **ret, size_t *ret_len,
                    struct slad_error *reterr);
/* Wipe and free. */
void render_buf_done(struct render_buf *b);

/* Append tmpl rendered for n at now_ms, each value escaped as esc. Absent values (no
 * clock, no assignee...) are empty. */
void render_template_into(struct render_buf *b, const char *tmpl, const struct notification *n,
                          int64_t now_ms, enum escape esc);

/* tmpl rendered into a new string (at most RENDER_MAX_BYTES). */
int render_template(const char *tmpl, const struct notification *n, int64_t now_ms, enum escape esc,
                    char **ret, size_t *ret_len, struct slad_error *reterr);

/* The built-in text and e-mail subject of event in lang ("zh" or "en"; anything else is
 * "en"); NULL for an event slad does not know. */
const char *render_default_text(const char *event, const char *lang);
const char *render_default_subject(const char *event, const char *lang);

/* The message of n: the config's template for (n->event, lang) if there is one, else the
 * built-in one; lang NULL means the daemon's language (n->conf), else "zh". Values in the
 * text are escaped as esc (RAW for plain text, MARKDOWN where the channel renders
 * markdown: channel_text_escape); the template's own text is the operator's and stays as
 * written. Absent values read "-" here (a person reads these). *ret_subject (may be NULL)
 * gets the template's subject, else the built-in subject, as one header line. -ENOENT for
 * an unknown event. */
int render_message(const struct notification *n, const char *lang, int64_t now_ms, enum escape esc,
                   char **ret_text, char **ret_subject, struct slad_error *reterr);

/* at_ms as local time of cal (NULL: UTC): "2026-03-02 16:00 +08:00". buf size >=
 * RENDER_TIME_MAX; returns buf. */
#define RENDER_TIME_MAX 32
char *render_local_time(const struct calendar *cal, int64_t at_ms, char *buf, size_t size);

#endif
