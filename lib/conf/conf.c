/* conf.c - load a libconfig file into the immutable struct conf of conf.h.
 *
 * libconfig parses; the conf*.c files check. This file holds the machinery (messages, key
 * tables, value parsers; see conf_loader.h), the daemon section, the top level and the
 * loading, freeing and lookups. Every problem becomes one "FILE:LINE: message" line and
 * loading goes on, as in OpenBSD's parse.y, so that an operator sees all mistakes at once.
 *
 * Sections are read in dependency order (channels before the contacts that use them, teams
 * before the roles that steps name, ...), not in file order, so that every reference can
 * be checked where it is written. */
#include "civil.h"
#include "conf_load.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_include.h"
#include "conf_loader.h"
#include "dbtarget.h"
#include "utf8.h"

/* ---- growing text, for the error list and the summary ---- */

__attribute__((format(printf, 2, 0))) static void text_vadd(struct conf_text *t, const char *fmt,
                                                            va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || t->oom)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    t->len += (size_t)n;
}

void conf_text_add(struct conf_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    text_vadd(t, fmt, ap);
    va_end(ap);
}

/* ---- the loader and its messages ---- */

/* "FILE:LINE: KIND" and the message, as one line of t. */
__attribute__((format(printf, 6, 0))) static void vadd_at(struct conf_loader *ld,
                                                          struct conf_text *t, const char *file,
                                                          unsigned line, const char *kind,
                                                          const char *fmt, va_list ap)
{
    size_t start = t->len;
    /* libconfig parses one expanded text (conf_include.c): its lines map back to files. */
    if (!file && !conf_line_map_find(ld, line, &file, &line))
        file = ld->main_name;
    conf_text_add(t, "%s", file);
    if (line)
        conf_text_add(t, ":%u", line);
    conf_text_add(t, ": %s", kind);
    text_vadd(t, fmt, ap);
    /* One error per line, whatever other modules put into their messages. */
    for (size_t i = start; i < t->len && !t->oom; i++)
        if ((unsigned char)t->s[i] < 0x20)
            t->s[i] = ' ';
    conf_text_add(t, "\n");
}

__attribute__((format(printf, 4, 0))) static void
vreport_at(struct conf_loader *ld, const char *file, unsigned line, const char *fmt, va_list ap)
{
    if (++ld->n_errors > CONF_MAX_ERRORS)
        return;
    vadd_at(ld, &ld->errors, file, line, "", fmt, ap);
}

void conf_report_at(struct conf_loader *ld, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport_at(ld, file, line, fmt, ap);
    va_end(ap);
}

/* Array elements and the root carry no line of their own: the nearest parent's. */
static const config_setting_t *with_line(const config_setting_t *s)
{
    while (s && config_setting_source_line(s) == 0 && config_setting_parent(s))
        s = config_setting_parent(s);
    return s;
}

/* Report at the file and line of setting s. */
void conf_report(struct conf_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    s = with_line(s);
    va_list ap;
    va_start(ap, fmt);
    vreport_at(ld, s ? config_setting_source_file(s) : NULL, s ? config_setting_source_line(s) : 0,
               fmt, ap);
    va_end(ap);
}

void conf_warn(struct conf_loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    s = with_line(s);
    va_list ap;
    va_start(ap, fmt);
    vadd_at(ld, &ld->warnings, s ? config_setting_source_file(s) : NULL,
            s ? config_setting_source_line(s) : 0, "warning: ", fmt, ap);
    va_end(ap);
}

/* Copy a value for a message: control characters escaped, so that the error stays on one
 * line, and long values cut (on a UTF-8 boundary) so that a pasted blob does not drown it. */
const char *conf_quote(const char *text, char *buf, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (o + 8 > size) {
            while (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80)
                o--;
            if (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0xC0)
                o--;
            memcpy(buf + o, "...", 4);
            return buf;
        }
        if (*p < 0x20 || *p == 0x7f || *p == '\'' || *p == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
        else
            buf[o++] = (char)*p;
    }
    buf[o] = '\0';
    return buf;
}

const char *conf_join_words(const char *const *words, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; words[i] && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", words[i]);
    return buf;
}

bool conf_word_in(const char *const *words, const char *word)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(words[i], word) == 0)
            return true;
    return false;
}

/* Whether word is one of the space-separated words of list. */
bool conf_word_in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

char *conf_strdup(struct conf_loader *ld, const char *s)
{
    char *d = strdup(s);
    if (!d)
        ld->oom = true;
    return d;
}

/* Replace *field (a default, or NULL) with a copy of s. */
void conf_set_string(struct conf_loader *ld, char **field, const char *s)
{
    free(*field);
    *field = conf_strdup(ld, s);
}

void *conf_alloc_array(struct conf_loader *ld, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        ld->oom = true;
    return p;
}

void conf_strings_add(struct conf_loader *ld, struct conf_strings *list, const char *s)
{
    char **v = realloc(list->v, (list->n + 1) * sizeof(*v));
    char *d = conf_strdup(ld, s);
    if (!v || !d) {
        ld->oom = true;
        free(d);
        if (v)
            list->v = v;
        return;
    }
    list->v = v;
    list->v[list->n++] = d;
}

/* ---- the key tables ---- */

void conf_key_error(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conf_report(ld, s, "%s in %s: %s", k->name, ld->where, msg);
}

void conf_type_error(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                     const char *expected)
{
    char q[QUOTE_MAX], got[QUOTE_MAX + 32];
    const char *what[] = {
        [CONFIG_TYPE_GROUP] = "a group",          [CONFIG_TYPE_INT] = "an integer",
        [CONFIG_TYPE_INT64] = "a 64-bit integer", [CONFIG_TYPE_FLOAT] = "a number",
        [CONFIG_TYPE_STRING] = "a string",        [CONFIG_TYPE_BOOL] = "a boolean",
        [CONFIG_TYPE_ARRAY] = "an array",         [CONFIG_TYPE_LIST] = "a list",
    };
    int type = config_setting_type(s);
    const char *name = type > 0 && type <= CONFIG_TYPE_LIST ? what[type] : "nothing";
    if (k->secret)
        snprintf(got, sizeof(got), "%s", name);
    else if (type == CONFIG_TYPE_INT)
        snprintf(got, sizeof(got), "%s (%d)", name, config_setting_get_int(s));
    else if (type == CONFIG_TYPE_INT64)
        snprintf(got, sizeof(got), "%s (%lld)", name, config_setting_get_int64(s));
    else if (type == CONFIG_TYPE_FLOAT)
        snprintf(got, sizeof(got), "%s (%g)", name, config_setting_get_float(s));
    else if (type == CONFIG_TYPE_BOOL)
        snprintf(got, sizeof(got), "%s (%s)", name, config_setting_get_bool(s) ? "true" : "false");
    else if (type == CONFIG_TYPE_STRING)
        snprintf(got, sizeof(got), "%s ('%s')", name,
                 conf_quote(config_setting_get_string(s), q, sizeof(q)));
    else
        snprintf(got, sizeof(got), "%s", name);
    conf_key_error(ld, s, k, "expected %s, got %s", expected, got);
}

static const struct conf_key *find_key(const struct conf_key *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Read group s into obj through table, in table order; returns a mask of the keys present
 * (bit i for table[i]). Unknown and missing keys are reported here. */
uint64_t conf_read_group(struct conf_loader *ld, const config_setting_t *s, const char *where,
                         const struct conf_key *table, size_t n, void *obj)
{
    const char *saved = ld->where;
    ld->where = where;
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        if (find_key(table, n, config_setting_name(m)))
            continue;
        char q[QUOTE_MAX], known[LIST_MAX];
        size_t o = 0;
        known[0] = '\0';
        for (size_t k = 0; k < n && o < sizeof(known); k++)
            o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", k ? ", " : "",
                                  table[k].name);
        conf_report(ld, m, "unknown key '%s' in %s (known: %s)",
                    conf_quote(config_setting_name(m), q, sizeof(q)), where, known);
    }
    uint64_t present = 0;
    for (size_t k = 0; k < n; k++) {
        const config_setting_t *m = config_setting_get_member(s, table[k].name);
        if (!m) {
            if (table[k].required)
                conf_report(ld, s, "missing key '%s' in %s", table[k].name, where);
            continue;
        }
        present |= UINT64_C(1) << k;
        table[k].parse(ld, m, obj, &table[k]);
    }
    ld->where = saved;
    return present;
}

bool conf_is_list(const config_setting_t *s)
{
    int type = config_setting_type(s);
    return type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY;
}

/* "clock 'response' of policy 'default'", or "clock #2 of ..." while it has no name. */
void conf_element_where(char *buf, size_t size, const config_setting_t *elem, const char *what,
                        const char *parent)
{
    const char *name = NULL;
    char q[QUOTE_MAX];
    if (config_setting_is_group(elem))
        config_setting_lookup_string(elem, "name", &name);
    int o = name ? snprintf(buf, size, "%s '%s'", what, conf_quote(name, q, sizeof(q)))
                 : snprintf(buf, size, "%s #%d", what, config_setting_index(elem) + 1);
    if (parent && o >= 0 && (size_t)o < size)
        snprintf(buf + o, size - (size_t)o, " of %s", parent);
}

/* A list of groups: returns its length after checking the shape, or -1. */
int conf_group_list(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k)
{
    /* An empty "[]" is an empty array to libconfig; accept it as an empty list. */
    if (!conf_is_list(s) || (config_setting_is_array(s) && config_setting_length(s) > 0)) {
        conf_type_error(ld, s, k, "a list such as ( { ... }, { ... } )");
        return -1;
    }
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!config_setting_is_group(e))
            conf_type_error(ld, e, k, "a group { ... } as element");
    }
    return n;
}

/* Report element i of list if its name was already used by an earlier element. */
void conf_check_unique(struct conf_loader *ld, const config_setting_t *list, int i,
                       const char *what)
{
    const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
    const char *name, *other;
    if (!config_setting_is_group(e) || !config_setting_lookup_string(e, "name", &name))
        return;
    for (int j = 0; j < i; j++) {
        const config_setting_t *f = config_setting_get_elem(list, (unsigned)j);
        if (config_setting_is_group(f) && config_setting_lookup_string(f, "name", &other) &&
            strcmp(name, other) == 0) {
            char q[QUOTE_MAX];
            conf_report(ld, config_setting_get_member(e, "name"),
                        "duplicate %s name '%s' (first at line %u)", what,
                        conf_quote(name, q, sizeof(q)), config_setting_source_line(f));
            return;
        }
    }
}

/* ---- value parsers: one per kind of value ---- */

const char *conf_string_value(struct conf_loader *ld, const config_setting_t *s,
                              const struct conf_key *k)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        conf_type_error(ld, s, k, "a string");
        return NULL;
    }
    const char *text = config_setting_get_string(s);
    if (!*text) {
        conf_key_error(ld, s, k, "empty string");
        return NULL;
    }
    /* Every string reaches JSON texts (history, payloads, answers), which hold UTF-8 only:
     * a stray byte would make each notification it touches fail, not the load. */
    if (!utf8_valid(text, strlen(text))) {
        conf_key_error(ld, s, k, "not valid UTF-8 (save the file as UTF-8)");
        return NULL;
    }
    return text;
}

void conf_parse_string(struct conf_loader *ld, const config_setting_t *s, void *obj,
                       const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (text)
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

/* Names end up in recipients ("contact:NAME"), idempotency keys ("t42/response/...") and
 * messages, so they keep to a small alphabet (UTF-8 letters are fine). */
static bool check_name(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                       const char *text)
{
    char q[QUOTE_MAX];
    bool ok = strlen(text) <= NAME_MAX_BYTES;
    for (const unsigned char *p = (const unsigned char *)text; *p && ok; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             *p == '.' || *p == '_' || *p == '-' || *p >= 0x80;
    if (!ok)
        conf_key_error(
            ld, s, k, "'%s' is not a valid name (letters, digits, '.', '_', '-'; at most %d bytes)",
            conf_quote(text, q, sizeof(q)), NAME_MAX_BYTES);
    return ok;
}

void conf_parse_name(struct conf_loader *ld, const config_setting_t *s, void *obj,
                     const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (text && check_name(ld, s, k, text))
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

bool conf_integer_value(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                        int64_t *ret)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
        conf_type_error(ld, s, k, "an integer");
        return false;
    }
    /* Read each type with its own getter: an int64 through the int getter is truncated. */
    int64_t v = type == CONFIG_TYPE_INT ? config_setting_get_int(s) : config_setting_get_int64(s);
    if (v < k->min || v > k->max) {
        conf_key_error(ld, s, k, "%lld is out of range %lld..%lld", (long long)v, (long long)k->min,
                       (long long)k->max);
        return false;
    }
    *ret = v;
    return true;
}

void conf_parse_int(struct conf_loader *ld, const config_setting_t *s, void *obj,
                    const struct conf_key *k)
{
    int64_t v;
    if (conf_integer_value(ld, s, k, &v))
        *FIELD(obj, k, int) = (int)v;
}

static void parse_unsigned(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    int64_t v;
    if (conf_integer_value(ld, s, k, &v))
        *FIELD(obj, k, unsigned) = (unsigned)v;
}

static void parse_int64(struct conf_loader *ld, const config_setting_t *s, void *obj,
                        const struct conf_key *k)
{
    int64_t v;
    if (conf_integer_value(ld, s, k, &v))
        *FIELD(obj, k, int64_t) = v;
}

bool conf_duration_value(struct conf_loader *ld, const config_setting_t *s,
                         const struct conf_key *k, struct duration *ret)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return false;
    struct slad_error err;
    struct duration d;
    if (duration_parse(text, k->forms, &d, &err) < 0) {
        conf_key_error(ld, s, k, "%s", err.msg);
        return false;
    }
    if (d.unit == DURATION_MS && !d.after_due && (d.value < k->min || d.value > k->max)) {
        char q[QUOTE_MAX], lo[32], hi[32];
        struct duration dmin = duration_ms(k->min), dmax = duration_ms(k->max);
        conf_key_error(ld, s, k, "'%s' is out of range %s..%s", conf_quote(text, q, sizeof(q)),
                       duration_format(&dmin, lo, sizeof(lo)),
                       duration_format(&dmax, hi, sizeof(hi)));
        return false;
    }
    *ret = d;
    return true;
}

void conf_parse_duration(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct duration d;
    if (conf_duration_value(ld, s, k, &d))
        *FIELD(obj, k, struct duration) = d;
}

/* A plain duration stored as milliseconds. */
void conf_parse_ms(struct conf_loader *ld, const config_setting_t *s, void *obj,
                   const struct conf_key *k)
{
    struct duration d;
    if (conf_duration_value(ld, s, k, &d))
        *FIELD(obj, k, int64_t) = d.value;
}

/* One of k->words, stored as its index. */
void conf_parse_enum(struct conf_loader *ld, const config_setting_t *s, void *obj,
                     const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    for (int i = 0; k->words[i]; i++)
        if (strcmp(k->words[i], text) == 0) {
            *FIELD(obj, k, int) = i;
            return;
        }
    char q[QUOTE_MAX], list[LIST_MAX];
    conf_key_error(ld, s, k, "unknown value '%s' (known: %s)", conf_quote(text, q, sizeof(q)),
                   conf_join_words(k->words, list, sizeof(list)));
}

/* One of k->words, stored as a string. */
void conf_parse_word(struct conf_loader *ld, const config_setting_t *s, void *obj,
                     const struct conf_key *k)
{
    int index = -1;
    struct conf_key as_index = *k;
    as_index.offset = 0;
    conf_parse_enum(ld, s, &index, &as_index);
    if (index >= 0)
        conf_set_string(ld, FIELD(obj, k, char *), k->words[index]);
}

const config_setting_t *conf_element(const config_setting_t *s, size_t i)
{
    return config_setting_type(s) == CONFIG_TYPE_STRING ? s
                                                        : config_setting_get_elem(s, (unsigned)i);
}

/* An array or list of strings into out (a single string too when scalar_ok); elements of a
 * wrong type are reported and left NULL. Returns false when nothing could be read. */
bool conf_strings_value(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                        bool scalar_ok, struct conf_strings *out)
{
    bool scalar = config_setting_type(s) == CONFIG_TYPE_STRING;
    if (!(scalar && scalar_ok) && !conf_is_list(s)) {
        conf_type_error(ld, s, k,
                        scalar_ok ? "a string or an array of strings" : "an array of strings");
        return false;
    }
    size_t n = scalar ? 1 : (size_t)config_setting_length(s);
    if ((int64_t)n < k->min) {
        conf_key_error(ld, s, k, n ? "needs at least %lld elements" : "empty list",
                       (long long)k->min);
        return false;
    }
    out->v = conf_alloc_array(ld, n, sizeof(char *));
    if (!out->v)
        return false;
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        const char *text = conf_string_value(ld, conf_element(s, i), k);
        if (text)
            out->v[i] = conf_strdup(ld, text);
    }
    return true;
}

/* An array of k->words (event or status names). */
void conf_parse_words(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    struct conf_strings *out = FIELD(obj, k, struct conf_strings);
    if (!conf_strings_value(ld, s, k, false, out))
        return;
    for (size_t i = 0; i < out->n; i++) {
        char q[QUOTE_MAX], list[LIST_MAX];
        if (out->v[i] && !conf_word_in(k->words, out->v[i]))
            conf_key_error(ld, conf_element(s, i), k, "unknown value '%s' (known: %s)",
                           conf_quote(out->v[i], q, sizeof(q)),
                           conf_join_words(k->words, list, sizeof(list)));
    }
}

static const char *const log_levels[] = {"debug", "info", "notice", "warning", "error", NULL};
const char *const conf_languages[] = {"zh", "en", NULL};

/* ---- daemon ---- */

/* A string, because libconfig reads 0660 as the decimal integer 660. */
static void parse_socket_mode(struct conf_loader *ld, const config_setting_t *s, void *obj,
                              const struct conf_key *k)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        conf_type_error(ld, s, k, "a string such as \"0660\"");
        return;
    }
    const char *text = config_setting_get_string(s);
    char *end;
    unsigned long mode = strtoul(text, &end, 8);
    size_t len = strlen(text);
    char q[QUOTE_MAX];
    if (len < 3 || len > 4 || *end || text[0] < '0' || text[0] > '7' || mode > 0777)
        conf_key_error(ld, s, k, "'%s' is not an octal mode such as \"0660\"",
                       conf_quote(text, q, sizeof(q)));
    else
        *FIELD(obj, k, unsigned) = (unsigned)mode;
}

/* "HOST:PORT", "[::1]:PORT". */
static void parse_tcp(struct conf_loader *ld, const config_setting_t *s, void *obj,
                      const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    bool bracketed = text[0] == '[';
    bool ok = colon && colon > text && colon[1] >= '0' && colon[1] <= '9' && !*end && port >= 1 &&
              port <= 65535 && !strpbrk(text, " \t/") &&
              (bracketed ? colon[-1] == ']' : !memchr(text, ':', (size_t)(colon - text)));
    char q[QUOTE_MAX];
    if (!ok)
        conf_key_error(ld, s, k, "'%s' is not HOST:PORT (e.g. \"127.0.0.1:8470\")",
                       conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

/* A path, or a PostgreSQL URI or conninfo (dbtarget.h); secret: it may hold a password. */
static void parse_database(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    if (!text)
        return;
    struct slad_error err;
    if (dbtarget_check(text, &err) < 0)
        conf_report(ld, s, "%s", err.msg);
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

static void parse_synchronous(struct conf_loader *ld, const config_setting_t *s, void *obj,
                              const struct conf_key *k)
{
    static const char *const modes[] = {"full", "normal", NULL};
    int index = -1;
    struct conf_key as_enum = *k;
    as_enum.offset = 0;
    as_enum.words = modes;
    conf_parse_enum(ld, s, &index, &as_enum);
    if (index >= 0)
        *FIELD(obj, k, bool) = index == 0;
}

/* The 24x7 calendar of conf in zone (an IANA name): replaces the one it has. */
static int set_24x7(struct conf_loader *ld, struct conf *conf, const char *zone,
                    struct slad_error *reterr)
{
    struct calendar *cal;
    int r = calendar_new_24x7(zone, &cal, reterr);
    if (r == -ENOMEM)
        ld->oom = true;
    if (r < 0)
        return r;
    calendar_free(conf->calendars[0]);
    conf->calendars[0] = cal;
    return 0;
}

/* An IANA zone: the 24x7 calendar's days and the times in message texts. */
static void parse_timezone(struct conf_loader *ld, const config_setting_t *s, void *obj,
                           const struct conf_key *k)
{
    const char *text = conf_string_value(ld, s, k);
    struct slad_error err;
    if (!text || !ld->conf->calendars)
        return;
    char q[QUOTE_MAX];
    if (set_24x7(ld, ld->conf, text, &err) == -EINVAL)
        conf_key_error(ld, s, k, "unknown time zone '%s' (use an IANA name such as Asia/Shanghai)",
                       conf_quote(text, q, sizeof(q)));
    else
        conf_set_string(ld, FIELD(obj, k, char *), text);
}

/* The system's zone as an IANA name: $TZ (":Asia/Shanghai" or a zoneinfo path too), else
 * the link /etc/localtime, else /etc/timezone, else UTC. malloc'd; NULL when out of
 * memory. */
static char *system_timezone(void)
{
    char buf[256];
    const char *tz = getenv("TZ");
    if (tz && *tz == ':')
        tz++;
    if (!tz || !*tz) {
        ssize_t n = readlink("/etc/localtime", buf, sizeof(buf) - 1);
        if (n > 0) {
            buf[n] = '\0';
            tz = buf;
        }
    }
    if (!tz || !*tz) {
        FILE *f = fopen("/etc/timezone", "re");
        if (f) {
            if (fgets(buf, sizeof(buf), f)) {
                buf[strcspn(buf, " \t\r\n")] = '\0';
                tz = buf;
            }
            fclose(f);
        }
    }
    const char *z = tz ? strstr(tz, "zoneinfo/") : NULL;
    if (z)
        tz = z + strlen("zoneinfo/");
    return strdup(tz && *tz ? tz : "UTC");
}

#define D(field) .offset = offsetof(struct conf_daemon, field)
static const struct conf_key daemon_keys[] = {
    {"socket", conf_parse_string, D(socket)},
    {"socket_mode", parse_socket_mode, D(socket_mode)},
    {"tcp", parse_tcp, D(tcp)},
    {"token_file", conf_parse_string, D(token_file)},
    {"database", parse_database, D(database), .secret = true},
    {"failover_timeout", conf_parse_ms, D(failover_timeout_ms), .min = 2 * CIVIL_MS_PER_S,
     .max = CIVIL_MS_PER_HOUR},
    {"synchronous", parse_synchronous, D(synchronous_full)},
    {"log_level", conf_parse_enum, D(log_level), .words = log_levels},
    {"language", conf_parse_word, D(language), .words = conf_languages},
    {"timezone", parse_timezone, D(timezone)},
    {"max_body", parse_int64, D(max_body_bytes), .min = 1024, .max = 1 << 30},
    {"max_header", parse_int64, D(max_header_bytes), .min = 1024, .max = 1 << 20},
    {"max_connections", parse_unsigned, D(max_connections), .min = 1, .max = 1000000},
    {"idle_timeout", conf_parse_ms, D(idle_timeout_ms), .min = CIVIL_MS_PER_S,
     .max = CIVIL_MS_PER_DAY},
    {"header_timeout", conf_parse_ms, D(header_timeout_ms), .min = CIVIL_MS_PER_S,
     .max = CIVIL_MS_PER_HOUR},
    {"max_connections_per_ip", parse_unsigned, D(max_connections_per_ip), .min = 1, .max = 1000000},
    {"tls_cert", conf_parse_string, D(tls_cert)},
    {"tls_key", conf_parse_string, D(tls_key)},
    {"retention", conf_parse_ms, D(retention_ms), .min = CIVIL_MS_PER_DAY, .max = DURATION_MAX_MS},
};
#undef D

static void parse_daemon(struct conf_loader *ld, const config_setting_t *s, void *obj,
                         const struct conf_key *k)
{
    struct conf_daemon *d = &((struct conf *)obj)->daemon;
    if (!config_setting_is_group(s)) {
        conf_type_error(ld, s, k, "a group { ... }");
        return;
    }
    conf_read_group(ld, s, "daemon", daemon_keys, N_KEYS(daemon_keys), d);
    if (d->tcp && !d->token_file)
        conf_report(ld, config_setting_get_member(s, "tcp"),
                    "tcp in daemon: a TCP listener needs token_file (its clients send that token)");
    if (!d->tls_cert != !d->tls_key)
        conf_report(ld, config_setting_get_member(s, d->tls_cert ? "tls_cert" : "tls_key"),
                    "daemon: tls_cert and tls_key go together (the certificate chain and its "
                    "private key, PEM)");
    if (d->tls_cert && !d->tcp)
        conf_report(ld, config_setting_get_member(s, "tls_cert"),
                    "daemon: tls_cert applies to the TCP listener; set tcp too, or remove it");
}

/* ---- paths ---- */

char *conf_join_path(struct conf_loader *ld, const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (!p) {
        ld->oom = true;
        return NULL;
    }
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* The folder of path ("." when it has none), malloc'd. */
char *conf_folder_of(struct conf_loader *ld, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return conf_strdup(ld, ".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) {
        ld->oom = true;
        return NULL;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}

/* Retention may not purge a ticket that a new one's repeat-fault count still needs
 * (store_retention.h): it must be at least the repeat-fault window. */
static void check_retention(struct conf_loader *ld, const struct conf *conf)
{
    int64_t keep_ms = conf->daemon.retention_ms, window_ms = conf->repeat_fault.window_ms;
    if (keep_ms == 0 || keep_ms >= window_ms)
        return;
    char a[32], b[32];
    struct duration keep = duration_ms(keep_ms), window = duration_ms(window_ms);
    conf_report(ld, config_lookup(&ld->cfg, "daemon.retention"),
                "retention in daemon: %s is shorter than the repeat-fault window (%s): tickets "
                "purged inside the window would no longer count as earlier faults of their "
                "device; set retention to at least %s or shorten repeat_fault.window",
                duration_format(&keep, a, sizeof(a)), duration_format(&window, b, sizeof(b)), b);
}

/* In dependency order: each section refers only to sections above it. */
static const struct conf_key top_keys[] = {
    {"daemon", .parse = parse_daemon},
    {"calendars", .parse = conf_parse_calendars}, /* before contacts' quiet hours */
    {"channels", .parse = conf_parse_channels},
    {"contacts", .parse = conf_parse_contacts},
    {"schedules", .parse = conf_parse_schedules}, /* contacts and calendars */
    {"teams", .parse = conf_parse_teams},         /* roles may name oncall:SCHEDULE */
    {"templates", .parse = conf_parse_templates},
    {"policies", .parse = conf_parse_policies, .required = true},
    {"repeat_fault", .parse = conf_parse_repeat_fault},
    {"intakes", .parse = conf_parse_intakes},
};

/* ---- loading ---- */

/* The 24x7 calendar in the system's zone, until daemon.timezone says otherwise; a system
 * zone that is no IANA name (TZ=CST-8) falls back to UTC, with a warning. */
static void default_24x7(struct conf_loader *ld, struct conf *conf)
{
    struct slad_error err;
    if (!conf->calendars || !conf->daemon.timezone)
        return;
    if (set_24x7(ld, conf, conf->daemon.timezone, &err) == -EINVAL) {
        char q[QUOTE_MAX];
        conf_text_add(&ld->warnings,
                      "%s: warning: the system's time zone '%s' is not an IANA name; "
                      "daemon.timezone is UTC: set it (e.g. \"Asia/Shanghai\")\n",
                      ld->main_name, conf_quote(conf->daemon.timezone, q, sizeof(q)));
        conf_set_string(ld, &conf->daemon.timezone, "UTC");
        set_24x7(ld, conf, "UTC", &err);
    }
}

/* Set before reading: the file's values replace them. */
static void set_defaults(struct conf_loader *ld, struct conf *conf)
{
    conf->daemon.socket = conf_strdup(ld, "/run/slad/slad.sock");
    conf->daemon.database = conf_strdup(ld, "/var/lib/slad/slad.db");
    conf->daemon.failover_timeout_ms = 10 * CIVIL_MS_PER_S;
    conf->daemon.language = conf_strdup(ld, "zh");
    if (!(conf->daemon.timezone = system_timezone()))
        ld->oom = true;
    conf->daemon.socket_mode = 0660;
    conf->daemon.synchronous_full = true;
    conf->daemon.log_level = LOG_LEVEL_INFO;
    conf->daemon.max_body_bytes = 1 << 20;
    conf->daemon.max_header_bytes = 16 << 10;
    conf->daemon.max_connections = 1024;
    conf->daemon.idle_timeout_ms = 60000;
    conf->daemon.header_timeout_ms = 10000;
    conf->daemon.max_connections_per_ip = 32;
    conf->repeat_fault.count = 3;
    conf->repeat_fault.window_ms = 365 * CIVIL_MS_PER_DAY;
}

static void errors_finish(struct conf_loader *ld, struct conf_errors *errs)
{
    if (ld->n_errors > CONF_MAX_ERRORS)
        conf_text_add(&ld->errors, "%s: too many errors (%zu), only the first %d are shown\n",
                      ld->main_name, ld->n_errors, CONF_MAX_ERRORS);
    if (errs && !ld->errors.oom) {
        errs->text = ld->errors.s;
        errs->count = ld->n_errors;
    } else {
        free(ld->errors.s);
    }
    conf_strings_done(&ld->cal_names);
    conf_strings_done(&ld->roles);
    conf_strings_done(&ld->schedule_names);
    conf_strings_done(&ld->source_files);
    free(ld->line_map.spans);
}

/* After libconfig has read ld->cfg (or failed to): validate and build the conf. */
static int finish(struct conf_loader *ld, int read_ok, struct conf **ret, struct conf_errors *errs)
{
    struct conf *conf = NULL;
    if (!read_ok) {
        conf_report_at(ld, config_error_file(&ld->cfg), (unsigned)config_error_line(&ld->cfg), "%s",
                       config_error_text(&ld->cfg));
    } else if (!(conf = calloc(1, sizeof(*conf)))) {
        ld->oom = true;
    } else {
        ld->conf = conf;
        set_defaults(ld, conf);
        conf->path = conf_strdup(ld, ld->main_name);
        conf->calendars = conf_alloc_array(ld, 1, sizeof(*conf->calendars));
        if (conf->calendars)
            conf->n_calendars = 1;
        default_24x7(ld, conf);
        conf_read_group(ld, config_root_setting(&ld->cfg), "the file", top_keys, N_KEYS(top_keys),
                        conf);
        check_retention(ld, conf);
        if (!config_lookup(&ld->cfg, "repeat_fault.notify"))
            conf_strings_add(ld, &conf->repeat_fault.notify, "manager");
    }
    config_destroy(&ld->cfg);
    int r = ld->oom || ld->warnings.oom ? -ENOMEM : ld->n_errors ? -EINVAL : 0;
    errors_finish(ld, r == 0 ? NULL : errs);
    if (r < 0) {
        free(ld->warnings.s);
        conf_free(conf);
        return r;
    }
    conf->warnings = ld->warnings.s;
    *ret = conf;
    return 0;
}

int conf_load(const char *path, struct conf **ret, struct conf_errors *errs)
{
    struct conf_loader ld = {.main_name = path};
    if (errs)
        *errs = (struct conf_errors){0};
    FILE *f = fopen(path, "re");
    if (!f) {
        int r = -errno;
        conf_report_at(&ld, NULL, 0, "cannot open: %s", strerror(-r));
        errors_finish(&ld, errs);
        return r;
    }
    fclose(f);
    /* Relative paths in the config (ics) are from the main file's folder. */
    char *dir = conf_folder_of(&ld, path);
    ld.include_dir = dir;
    char *text = conf_include_expand(&ld, path);
    if (!text) {
        int r = ld.oom ? -ENOMEM : -EINVAL;
        errors_finish(&ld, errs);
        free(dir);
        return r;
    }
    config_init(&ld.cfg);
    config_set_auto_convert(&ld.cfg, 1);
    int r = finish(&ld, config_read_string(&ld.cfg, text), ret, errs);
    free(text);
    free(dir);
    return r;
}

int conf_load_string(const char *text, const char *name, struct conf **ret,
                     struct conf_errors *errs)
{
    struct conf_loader ld = {.main_name = name ? name : "(string)"};
    if (errs)
        *errs = (struct conf_errors){0};
    /* A string has no folder for @include to be relative to, and a fuzzer must not make
     * the loader open files. libconfig only takes "@include" at the start of a line. */
    unsigned line = 1;
    for (const char *p = text; p; line++) {
        p += strspn(p, " \t");
        if (strncmp(p, "@include", 8) == 0)
            conf_report_at(&ld, NULL, line, "@include is not available in a config given as text");
        if ((p = strchr(p, '\n')))
            p++;
    }
    if (ld.n_errors) {
        errors_finish(&ld, errs);
        return -EINVAL;
    }
    config_init(&ld.cfg);
    config_set_auto_convert(&ld.cfg, 1);
    return finish(&ld, config_read_string(&ld.cfg, text), ret, errs);
}

void conf_errors_done(struct conf_errors *errs)
{
    if (!errs)
        return;
    free(errs->text);
    *errs = (struct conf_errors){0};
}
