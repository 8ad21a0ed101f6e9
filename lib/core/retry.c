/* retry.c - backoff schedule, Retry-After and giving up (retry.h). */
#include "retry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "civil.h"
#include "duration.h"
#include "slaclock.h"

const char *retry_outcome_name(enum retry_outcome outcome)
{
    switch (outcome) {
    case RETRY_SENT:
        return "sent";
    case RETRY_AGAIN:
        return "retry";
    case RETRY_DEAD:
        return "dead";
    }
    return "unknown";
}

void retry_policy_init(struct retry_policy *p, const struct conf_channel *ch)
{
    *p = (struct retry_policy){
        .max_attempts = ch && ch->max_attempts > 0 ? ch->max_attempts : RETRY_DEFAULT_ATTEMPTS,
        .max_age_ms = ch && ch->max_age_ms > 0 ? ch->max_age_ms : RETRY_DEFAULT_MAX_AGE_MS,
        .base_ms = RETRY_BASE_MS,
        .cap_ms = RETRY_CAP_MS,
        .retry_after_max_ms = RETRY_AFTER_MAX_MS,
    };
}

int64_t retry_backoff_ms(const struct retry_policy *p, int failures, uint64_t random)
{
    int64_t ceiling = p->base_ms > 0 ? p->base_ms : RETRY_BASE_MS;
    int64_t cap = p->cap_ms > 0 ? p->cap_ms : RETRY_CAP_MS;
    for (int i = 1; i < failures && ceiling < cap; i++)
        ceiling *= 2;
    if (ceiling > cap)
        ceiling = cap;
    if (ceiling < RETRY_MIN_MS)
        ceiling = RETRY_MIN_MS;
    uint64_t span = (uint64_t)(ceiling - RETRY_MIN_MS) + 1;
    return RETRY_MIN_MS + (int64_t)(random % span);
}

/* ---- Retry-After ---- */

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wkdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const weekdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

struct cursor {
    const char *p;
    bool ok;
};

static void expect(struct cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if (c->ok && strncmp(c->p, lit, n) == 0)
        c->p += n;
    else
        c->ok = false;
}

/* Exactly digits decimal digits (or 1..digits when loose). */
static int number(struct cursor *c, int digits, bool loose)
{
    int v = 0, n = 0;
    while (c->ok && n < digits && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    if (n == 0 || (!loose && n != digits))
        c->ok = false;
    return v;
}

static int word(struct cursor *c, const char *const *words, size_t n_words)
{
    for (size_t i = 0; c->ok && i < n_words; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(c->p, words[i], n) == 0) {
            c->p += n;
            return (int)i;
        }
    }
    c->ok = false;
    return -1;
}

static void clock_of_day(struct cursor *c, int *h, int *mi, int *s)
{
    *h = number(c, 2, false);
    expect(c, ":");
    *mi = number(c, 2, false);
    expect(c, ":");
    *s = number(c, 2, false);
}

/* An HTTP-date into seconds since the epoch; false when it is none. */
static bool http_date(const char *text, int64_t *ret_s)
{
    struct cursor c = {text, true};
    int year, month, day, h, mi, s;
    if (strlen(text) > 3 && text[3] == ',') {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        word(&c, wkdays, 7);
        expect(&c, ", ");
        day = number(&c, 2, false);
        expect(&c, " ");
        month = word(&c, months, 12);
        expect(&c, " ");
        year = number(&c, 4, false);
        expect(&c, " ");
        clock_of_day(&c, &h, &mi, &s);
        expect(&c, " GMT");
    } else if (strchr(text, ',')) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years 70..99 are 19xx,
         * 00..69 are 20xx (nobody sends this form for dates far from now). */
        word(&c, weekdays, 7);
        expect(&c, ", ");
        day = number(&c, 2, false);
        expect(&c, "-");
        month = word(&c, months, 12);
        expect(&c, "-");
        year = number(&c, 2, false);
        year += year < 70 ? 2000 : 1900;
        expect(&c, " ");
        clock_of_day(&c, &h, &mi, &s);
        expect(&c, " GMT");
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        word(&c, wkdays, 7);
        expect(&c, " ");
        month = word(&c, months, 12);
        expect(&c, " ");
        if (c.ok && *c.p == ' ')
            c.p++;
        day = number(&c, 2, true);
        expect(&c, " ");
        clock_of_day(&c, &h, &mi, &s);
        expect(&c, " ");
        year = number(&c, 4, false);
    }
    if (!c.ok || *c.p != '\0')
        return false;
    if (day < 1 || day > civil_month_days(year, month + 1) || h > 23 || mi > 59 || s > 60)
        return false;
    *ret_s = civil_days(year, month + 1, day) * CIVIL_S_PER_DAY + h * 3600 + mi * 60 + s;
    return true;
}

int retry_after_parse(const char *value, int64_t now_ms, int64_t *ret_delay_ms)
{
    if (!value)
        return -EINVAL;
    char text[64];
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                     value[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= sizeof(text))
        return -EINVAL;
    memcpy(text, value, n);
    text[n] = '\0';

    if (strspn(text, "0123456789") == n) {
        int64_t seconds = 0;
        for (size_t i = 0; i < n; i++) {
            seconds = seconds * 10 + (text[i] - '0');
            if (seconds > DURATION_MAX_MS / 1000) {
                *ret_delay_ms = DURATION_MAX_MS;
                return 0;
            }
        }
        *ret_delay_ms = seconds * 1000;
        return 0;
    }
    int64_t at_s;
    if (!http_date(text, &at_s))
        return -EINVAL;
    int64_t delay = at_s * 1000 - now_ms;
    *ret_delay_ms = delay < 0 ? 0 : delay > DURATION_MAX_MS ? DURATION_MAX_MS : delay;
    return 0;
}

/* ---- deciding ---- */

void retry_decide(const struct retry_policy *p, enum retry_outcome outcome, int64_t retry_after_ms,
                  const char *reason, int attempts, int64_t created_ms, int64_t now_ms,
                  uint64_t random, struct retry_decision *ret)
{
    ret->outcome = outcome;
    ret->next_attempt_ms = SLAD_NO_TIME;
    ret->last_error[0] = '\0';
    if (!reason || !*reason)
        reason = outcome == RETRY_SENT ? "" : "delivery failed";
    if (outcome == RETRY_SENT)
        return;
    if (outcome != RETRY_AGAIN) {
        ret->outcome = RETRY_DEAD;
        snprintf(ret->last_error, sizeof(ret->last_error), "%s", reason);
        return;
    }
    if (attempts >= p->max_attempts) {
        ret->outcome = RETRY_DEAD;
        snprintf(ret->last_error, sizeof(ret->last_error), "gave up after %d attempts: %s",
                 attempts, reason);
        return;
    }
    int64_t delay = retry_backoff_ms(p, attempts < 1 ? 1 : attempts, random);
    if (retry_after_ms >= 0) {
        int64_t asked =
            retry_after_ms < p->retry_after_max_ms ? retry_after_ms : p->retry_after_max_ms;
        if (asked > delay)
            delay = asked;
    }
    int64_t next = now_ms + delay;
    if (p->max_age_ms > 0 && next - created_ms > p->max_age_ms) {
        char age[48];
        struct duration d = duration_ms(p->max_age_ms);
        ret->outcome = RETRY_DEAD;
        snprintf(ret->last_error, sizeof(ret->last_error),
                 "gave up after %d attempts (max age %s): %s", attempts,
                 duration_format(&d, age, sizeof(age)), reason);
        return;
    }
    ret->next_attempt_ms = next;
    snprintf(ret->last_error, sizeof(ret->last_error), "%s", reason);
}
