/* ctlfmt.c - slactl's pure formatting: spans, relative deadlines and aligned tables. */
#include "ctlfmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ctlfmt_span(int64_t ms, char *buf, size_t size)
{
    /* Magnitude in seconds; INT64_MIN cannot be negated, so work on the quotient. */
    int64_t s = ms / 1000;
    if (s < 0)
        s = -s;
    static const struct {
        char unit;
        int64_t secs;
    } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
    size_t n = sizeof(units) / sizeof(units[0]);
    for (size_t i = 0; i < n; i++) {
        if (s < units[i].secs && i + 1 < n)
            continue;
        int64_t major = s / units[i].secs;
        int64_t rest = s % units[i].secs;
        if (i + 1 < n && rest / units[i + 1].secs > 0)
            snprintf(buf, size, "%lld%c%lld%c", (long long)major, units[i].unit,
                     (long long)(rest / units[i + 1].secs), units[i + 1].unit);
        else
            snprintf(buf, size, "%lld%c", (long long)major, units[i].unit);
        break;
    }
    return buf;
}

char *ctlfmt_relative(int64_t due_ms, int64_t now_ms, char *buf, size_t size)
{
    char span[CTLFMT_SPAN_MAX];
    /* Saturate rather than overflow on absurd inputs. */
    int64_t delta;
    if (__builtin_sub_overflow(due_ms, now_ms, &delta))
        delta = due_ms < now_ms ? INT64_MIN : INT64_MAX;
    if (delta > -1000 && delta < 1000)
        snprintf(buf, size, "now");
    else if (delta > 0)
        snprintf(buf, size, "in %s", ctlfmt_span(delta, span, sizeof(span)));
    else
        snprintf(buf, size, "overdue %s", ctlfmt_span(delta, span, sizeof(span)));
    return buf;
}

/* East Asian wide ranges (the common ones: CJK, Hangul, full-width forms). */
static bool wide(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

/* Length of the UTF-8 sequence at s and its code point; a bad byte counts as one. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xE0) == 0xC0 ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (len == 0) {
        *cp = '?';
        return 1;
    }
    uint32_t c = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> len));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = '?';
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return len;
}

size_t ctlfmt_width(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t w = 0;
    while (*s) {
        if (s[0] == 0x1B && s[1] == '[') {
            s += 2;
            while (*s && *s != 'm')
                s++;
            if (*s)
                s++;
            continue;
        }
        uint32_t cp;
        s += utf8_next(s, &cp);
        w += wide(cp) ? 2 : 1;
    }
    return w;
}

/* A copy of cell cut to CTLFMT_CELL_MAX bytes on a character boundary, newlines and tabs
 * as spaces so that a row stays one line. */
static char *cell_copy(const char *cell)
{
    const char *src = cell ? cell : "";
    size_t len = strlen(src);
    bool cut = len > CTLFMT_CELL_MAX;
    if (cut) {
        len = CTLFMT_CELL_MAX;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    char *out = malloc(len + (cut ? 4 : 1));
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++)
        out[i] = (src[i] == '\n' || src[i] == '\t' || src[i] == '\r') ? ' ' : src[i];
    if (cut)
        memcpy(out + len, "...", 4);
    else
        out[len] = '\0';
    return out;
}

int ctlfmt_table_init(struct ctlfmt_table *t, size_t n_cols, const char *const *headers)
{
    memset(t, 0, sizeof(*t));
    if (n_cols == 0 || n_cols > CTLFMT_MAX_COLS)
        return -E2BIG;
    t->n_cols = n_cols;
    return ctlfmt_table_add(t, headers);
}

int ctlfmt_table_add(struct ctlfmt_table *t, const char *const *cells)
{
    if (t->n_rows >= CTLFMT_MAX_ROWS + 1)
        return -E2BIG;
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        char **grown = realloc(t->cells, cap * t->n_cols * sizeof(char *));
        if (!grown)
            return -ENOMEM;
        t->cells = grown;
        t->cap_rows = cap;
    }
    char **row = t->cells + t->n_rows * t->n_cols;
    for (size_t c = 0; c < t->n_cols; c++) {
        row[c] = cell_copy(cells[c]);
        if (!row[c]) {
            for (size_t k = 0; k < c; k++)
                free(row[k]);
            return -ENOMEM;
        }
    }
    t->n_rows++;
    return 0;
}

char *ctlfmt_table_render(const struct ctlfmt_table *t)
{
    size_t widths[CTLFMT_MAX_COLS] = {0};
    size_t total = 1;
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            size_t w = ctlfmt_width(cell);
            if (w > widths[c])
                widths[c] = w;
            total += strlen(cell);
        }
    size_t line = 1;
    for (size_t c = 0; c < t->n_cols; c++)
        line += widths[c] + 2;
    total += t->n_rows * line;
    char *out = malloc(total);
    if (!out)
        return NULL;
    size_t pos = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        size_t line_start = pos;
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            size_t len = strlen(cell);
            memcpy(out + pos, cell, len);
            pos += len;
            if (c + 1 < t->n_cols) {
                size_t pad = widths[c] - ctlfmt_width(cell) + 2;
                memset(out + pos, ' ', pad);
                pos += pad;
            }
        }
        while (pos > line_start && out[pos - 1] == ' ')
            pos--;
        out[pos++] = '\n';
    }
    out[pos] = '\0';
    return out;
}

void ctlfmt_table_done(struct ctlfmt_table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
