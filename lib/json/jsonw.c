/* jsonw.c - a small JSON writer with jansson's compact output (jsonw.h). */
#include "jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "utf8.h"

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (w->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(w->s, cap);
        if (!p) {
            w->failed = true;
            return;
        }
        w->s = p;
        w->cap = cap;
    }
    memcpy(w->s + w->len, s, n);
    w->len += n;
    w->s[w->len] = '\0';
}

/* jansson's rules (its utf.c) are RFC 3629's, which core's decoder checks: no overlong
 * forms, no surrogates, nothing past U+10FFFF. */
bool jsonw_utf8_valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

/* s as a JSON string, escaped as jansson's dump escapes without JSON_ENSURE_ASCII and
 * JSON_ESCAPE_SLASH: the quote, the backslash and the control characters only. */
static void put_string(struct jsonw *w, const char *s)
{
    if (!jsonw_utf8_valid(s)) {
        w->failed = true;
        return;
    }
    put(w, "\"", 1);
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, run, (size_t)(p - run));
        if (!c)
            break;
        char seq[8];
        const char *esc = seq;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            snprintf(seq, sizeof(seq), "\\u%04X", (unsigned)c);
        }
        put(w, esc, strlen(esc));
        run = p + 1;
    }
    put(w, "\"", 1);
}

/* The comma before an item and its key, in the current container. */
static void item(struct jsonw *w, const char *key)
{
    uint32_t bit = (uint32_t)1 << w->depth;
    if (w->has_item & bit)
        put(w, ",", 1);
    w->has_item |= bit;
    if (key) {
        put_string(w, key);
        put(w, ":", 1);
    }
}

static void open_container(struct jsonw *w, const char *key, const char *bracket)
{
    item(w, key);
    if (w->depth + 1 >= JSONW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->has_item &= ~((uint32_t)1 << w->depth);
    put(w, bracket, 1);
}

static void close_container(struct jsonw *w, const char *bracket)
{
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    put(w, bracket, 1);
}

void jsonw_open(struct jsonw *w, const char *key)
{
    open_container(w, key, "{");
}

void jsonw_close(struct jsonw *w)
{
    close_container(w, "}");
}

void jsonw_open_array(struct jsonw *w, const char *key)
{
    open_container(w, key, "[");
}

void jsonw_close_array(struct jsonw *w)
{
    close_container(w, "]");
}

void jsonw_str(struct jsonw *w, const char *key, const char *v)
{
    if (!v)
        return;
    item(w, key);
    put_string(w, v);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
    char buf[DECIMAL_INT64_MAX];
    size_t n = decimal_int64(v, buf);
    item(w, key);
    put(w, buf, n);
}

void jsonw_true(struct jsonw *w, const char *key)
{
    item(w, key);
    put(w, "true", 4);
}

char *jsonw_finish(struct jsonw *w, size_t *ret_len)
{
    char *s = w->s;
    size_t len = w->len;
    bool ok = !w->failed && w->depth == 0 && s;
    *w = (struct jsonw){0};
    if (!ok) {
        free(s);
        return NULL;
    }
    if (ret_len)
        *ret_len = len;
    return s;
}
