/* jsonw.h - a small JSON writer for the texts slad stores on its hot paths (a history
 * row's data, an outbox payload): the same bytes jansson's compact dump writes for the
 * same object (keys in the order written, `,` and `:` without spaces, strings escaped as
 * jansson escapes them), without building the object first. Building and dumping a jansson
 * object was 7.6 % of a burst step's CPU (doc/PERFORMANCE.md, "Round four").
 *
 * Usage: struct jsonw w = {0}; jsonw_open(&w, NULL); jsonw_str(&w, "k", v); ...
 * jsonw_close(&w); char *text = jsonw_finish(&w);
 * A write that fails (memory, a string that is not UTF-8, nesting deeper than
 * JSONW_MAX_DEPTH) is remembered: jsonw_finish then returns NULL, as jansson's object
 * would have refused the value. */
#ifndef SLAD_JSONW_H
#define SLAD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
    char *s;
    size_t len, cap;
    unsigned depth;
    uint32_t has_item; /* bit d: the container at depth d has an item (a comma is due) */
    bool failed;
};

/* An object, as the value of key in the enclosing object (key NULL: at the top or in an
 * array). */
void jsonw_open(struct jsonw *w, const char *key);
void jsonw_close(struct jsonw *w);
/* An array, likewise. */
void jsonw_open_array(struct jsonw *w, const char *key);
void jsonw_close_array(struct jsonw *w);
/* A string; nothing for NULL (as record_put_str). */
void jsonw_str(struct jsonw *w, const char *key, const char *v);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_true(struct jsonw *w, const char *key);
/* The text (malloc'd, NUL-terminated; *ret_len its length when ret_len is not NULL), or
 * NULL when a write failed. w is emptied either way. */
char *jsonw_finish(struct jsonw *w, size_t *ret_len);
/* Whether s is text jansson takes as a string (UTF-8, no surrogates, no overlong forms). */
bool jsonw_utf8_valid(const char *s);

#endif
