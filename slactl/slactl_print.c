/* slactl_print.c - slactl's human output: the daemon's JSON as aligned tables, times in
 * local time with "in 1h12m" / "overdue 5m", colour only when asked for (a TTY without
 * NO_COLOR). --json output is the daemon's JSON, pretty. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctlfmt.h"
#include "jsonx.h"
#include "slactl.h"

#define RED    "\033[31m"
#define GREEN  "\033[32m"
#define YELLOW "\033[33m"
#define BOLD   "\033[1m"
#define RESET  "\033[0m"
#define CELL   256

void ctl_print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An API time ("...Z") as local "YYYY-MM-DD HH:MM:SS +08:00" (TZ's zone, named so that a
 * time read in Beijing is not taken for UTC); the text as is when not a time. */
static const char *local_time(const char *text, char *buf, size_t size)
{
    struct slad_error err;
    int64_t ms;
    if (!text || jsonx_time_parse(text, &ms, &err) < 0)
        return text ? text : "";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char zone[8];
    if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0 ||
        strftime(zone, sizeof(zone), "%z", &tm) != 5)
        return text;
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, " %.3s:%.2s", zone, zone + 3);
    return buf;
}

/* A JSON value as a cell: strings as is, times in local time, null empty. */
static const char *cell(const json_t *v, const char *key, char *buf, size_t size)
{
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v)) {
        size_t klen = strlen(key);
        static const char *const times[] = {"start", "until", "at", "from", "to", NULL};
        bool is_time = klen > 3 && strcmp(key + klen - 3, "_at") == 0;
        for (size_t i = 0; !is_time && times[i]; i++)
            is_time = strcmp(key, times[i]) == 0;
        if (is_time)
            return local_time(json_string_value(v), buf, size);
        return json_string_value(v);
    }
    if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) {
        /* At most 3 decimals, trailing zeros dropped: 0.667, 95.455, 3600.5, 1. */
        int n = snprintf(buf, size, "%.3f", json_real_value(v));
        while (n > 0 && (size_t)n < size && strchr(buf, '.') &&
               (buf[n - 1] == '0' || buf[n - 1] == '.'))
            buf[--n] = '\0';
    } else if (json_is_true(v))
        snprintf(buf, size, "yes");
    else if (json_is_false(v))
        snprintf(buf, size, "no");
    else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, size, "%s", s ? s : "");
        free(s);
    }
    return buf;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void print_table(struct ctlfmt_table *t)
{
    char *text = ctlfmt_table_render(t);
    if (text)
        fputs(text, stdout);
    free(text);
    ctlfmt_table_done(t);
}

static void upper(const char *key, char *buf, size_t size)
{
    size_t i = 0;
    for (; key[i] && i + 1 < size; i++)
        buf[i] = (key[i] >= 'a' && key[i] <= 'z') ? (char)(key[i] - 32) : key[i];
    buf[i] = '\0';
}

void ctl_print_objects(struct ctl *ctl, const json_t *array, const char *const *keys)
{
    (void)ctl;
    size_t n = 0;
    while (keys[n] && n < CTLFMT_MAX_COLS)
        n++;
    char heads[CTLFMT_MAX_COLS][32];
    const char *hp[CTLFMT_MAX_COLS];
    for (size_t c = 0; c < n; c++) {
        upper(keys[c], heads[c], sizeof(heads[c]));
        hp[c] = heads[c];
    }
    struct ctlfmt_table t;
    if (ctlfmt_table_init(&t, n, hp) < 0)
        return;
    size_t i;
    json_t *o;
    json_array_foreach(array, i, o)
    {
        char bufs[CTLFMT_MAX_COLS][CELL];
        const char *cells[CTLFMT_MAX_COLS];
        for (size_t c = 0; c < n; c++)
            cells[c] = cell(json_object_get(o, keys[c]), keys[c], bufs[c], CELL);
        if (ctlfmt_table_add(&t, cells) < 0)
            break;
    }
    print_table(&t);
}

static const char *paint(struct ctl *ctl, const char *colour, const char *text, char *buf,
                         size_t size)
{
    if (!ctl->color || !colour)
        return text;
    snprintf(buf, size, "%s%s%s", colour, text, RESET);
    return buf;
}

static const char *state_colour(const char *state)
{
    if (!state)
        return NULL;
    if (strcmp(state, "breached") == 0 || strcmp(state, "missed") == 0)
        return RED;
    if (strcmp(state, "met") == 0)
        return GREEN;
    if (strcmp(state, "running") == 0)
        return YELLOW;
    return NULL;
}

void ctl_print_clocks(struct ctl *ctl, const json_t *clocks, bool relative)
{
    static const char *const heads[] = {"CLOCK", "STATE", "TARGET", "ELAPSED", "DUE", "LEFT"};
    struct ctlfmt_table t;
    if (ctlfmt_table_init(&t, 6, heads) < 0)
        return;
    int64_t now = now_ms();
    size_t i;
    json_t *c;
    json_array_foreach(clocks, i, c)
    {
        const char *state = json_string_value(json_object_get(c, "state"));
        const char *due = json_string_value(json_object_get(c, "due_at"));
        char target[CTLFMT_SPAN_MAX], elapsed[CTLFMT_SPAN_MAX], left[CTLFMT_SPAN_MAX] = "";
        char due_local[64], st[64], lf[64];
        ctlfmt_span(json_integer_value(json_object_get(c, "target_s")) * 1000, target,
                    sizeof(target));
        ctlfmt_span(json_integer_value(json_object_get(c, "elapsed_s")) * 1000, elapsed,
                    sizeof(elapsed));
        struct slad_error err;
        int64_t due_ms;
        bool live = state && (strcmp(state, "running") == 0 || strcmp(state, "breached") == 0);
        if (relative && live && due && jsonx_time_parse(due, &due_ms, &err) == 0)
            ctlfmt_relative(due_ms, now, left, sizeof(left));
        const char *lc = strncmp(left, "overdue", 7) == 0 ? RED : NULL;
        const char *cells[] = {json_string_value(json_object_get(c, "name")),
                               paint(ctl, state_colour(state), state ? state : "", st, sizeof(st)),
                               target,
                               elapsed,
                               due ? local_time(due, due_local, 64) : "",
                               paint(ctl, lc, left, lf, sizeof(lf))};
        if (ctlfmt_table_add(&t, cells) < 0)
            break;
    }
    print_table(&t);
}

void ctl_print_history(const json_t *h)
{
    static const char *const heads[] = {"AT", "KIND", "DETAILS"};
    struct ctlfmt_table t;
    if (ctlfmt_table_init(&t, 3, heads) < 0)
        return;
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e)
    {
        char at[64], details[CELL] = "", b[CELL];
        size_t len = 0;
        const char *key;
        json_t *value;
        json_object_foreach(e, key, value)
        {
            if (strcmp(key, "id") == 0 || strcmp(key, "at") == 0 ||
                strcmp(key, "recorded_at") == 0 || strcmp(key, "kind") == 0 ||
                (strcmp(key, "late") == 0 && !json_is_true(value)) || json_is_null(value))
                continue;
            int w = snprintf(details + len, sizeof(details) - len, "%s%s=%s", len ? " " : "", key,
                             cell(value, key, b, sizeof(b)));
            if (w < 0 || (size_t)w >= sizeof(details) - len)
                break;
            len += (size_t)w;
        }
        const char *cells[] = {cell(json_object_get(e, "at"), "at", at, sizeof(at)),
                               json_string_value(json_object_get(e, "kind")), details};
        if (ctlfmt_table_add(&t, cells) < 0)
            break;
    }
    print_table(&t);
}

void ctl_print_ticket(struct ctl *ctl, const json_t *t, bool history)
{
    char b[CELL], title[CELL];
    printf("%s %" JSON_INTEGER_FORMAT "  %s\n", paint(ctl, BOLD, "ticket", title, sizeof(title)),
           json_integer_value(json_object_get(t, "id")),
           or_empty(json_string_value(json_object_get(t, "title"))));
    /* Every field the ticket has (null ones left out), the nested ones as "customer.name". */
    static const char *const keys[] = {
        "status",       "severity",     "policy",      "grade",       "region",
        "team",         "assignee",     "customer",    "device",      "fault_code",
        "labels",       "source",       "external_id", "reported_at", "appointment_at",
        "reopen_count", "repeat_count", "created_at",  "updated_at",  "description"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(t, keys[i]);
        const char *key;
        json_t *sub;
        if (json_is_object(v) && strcmp(keys[i], "labels") == 0) {
            json_object_foreach(v, key, sub)
            {
                printf("  %-15s %s=%s\n", keys[i], key, cell(sub, key, b, sizeof(b)));
            }
        } else if (json_is_object(v)) {
            json_object_foreach(v, key, sub)
            {
                char name[64];
                snprintf(name, sizeof(name), "%s.%s", keys[i], key);
                if (!json_is_null(sub))
                    printf("  %-15s %s\n", name, cell(sub, key, b, sizeof(b)));
            }
        } else if (v && !json_is_null(v)) {
            printf("  %-15s %s\n", keys[i], cell(v, keys[i], b, sizeof(b)));
        }
    }
    printf("\n");
    ctl_print_clocks(ctl, json_object_get(t, "clocks"), true);
    long long id = (long long)json_integer_value(json_object_get(t, "id"));
    json_t *h = json_object_get(t, "history");
    if (history && json_array_size(h) > 0) {
        printf("\nhistory:\n");
        if (json_is_true(json_object_get(t, "history_more")))
            printf("(the newest %zu entries; all of them: slactl ticket history %lld)\n",
                   json_array_size(h), id);
        ctl_print_history(h);
    }
    json_t *n = json_object_get(t, "notifications");
    if (history && json_array_size(n) > 0) {
        static const char *const nk[] = {"id",    "event",    "channel", "recipient",
                                         "state", "attempts", NULL};
        printf("\nnotifications:\n");
        if (json_is_true(json_object_get(t, "notifications_more")))
            printf("(the newest %zu; all of them: slactl notifications --ticket %lld)\n",
                   json_array_size(n), id);
        ctl_print_objects(ctl, n, nk);
    }
}

void ctl_print_simulation(struct ctl *ctl, const json_t *v)
{
    const char *policy = json_string_value(json_object_get(v, "policy"));
    printf("policy %s\n\n", policy ? policy : "(none)");
    ctl_print_clocks(ctl, json_object_get(v, "clocks"), false);
    static const char *const heads[] = {"AT", "KIND", "EVENT", "CLOCK", "STEP", "RECIPIENTS"};
    struct ctlfmt_table t;
    if (ctlfmt_table_init(&t, 6, heads) < 0)
        return;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "timeline"), i, e)
    {
        char at[64], step[32], who[CELL] = "";
        size_t len = 0, k;
        json_t *r;
        json_array_foreach(json_object_get(e, "recipients"), k, r)
        {
            const char *name = json_string_value(json_object_get(r, "recipient"));
            int w =
                snprintf(who + len, sizeof(who) - len, "%s%s", len ? ", " : "", name ? name : "?");
            if (w < 0 || (size_t)w >= sizeof(who) - len)
                break;
            len += (size_t)w;
        }
        const char *cells[] = {cell(json_object_get(e, "at"), "at", at, sizeof(at)),
                               json_string_value(json_object_get(e, "kind")),
                               json_string_value(json_object_get(e, "event")),
                               json_string_value(json_object_get(e, "clock")),
                               cell(json_object_get(e, "step"), "step", step, sizeof(step)),
                               who};
        if (ctlfmt_table_add(&t, cells) < 0)
            break;
    }
    printf("\ntimeline:\n");
    print_table(&t);
    if (json_is_true(json_object_get(v, "truncated")))
        printf("(timeline truncated)\n");
}

void ctl_print_status(struct ctl *ctl, const json_t *v)
{
    char b[64];
    const char *status = json_string_value(json_object_get(v, "status"));
    printf("slad: %s\n", paint(ctl, GREEN, status ? status : "?", b, sizeof(b)));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        if (strcmp(key, "status") != 0)
            printf("  %-22s %s\n", key, cell(value, key, b, sizeof(b)));
    }
}

void ctl_print_fields(struct ctl *ctl, const json_t *v)
{
    (void)ctl;
    char b[CELL];
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        printf("%-16s %s\n", key, cell(value, key, b, sizeof(b)));
    }
}
