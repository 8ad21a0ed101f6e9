/* ctlfmt.h - slactl's pure formatting: spans ("1h12m"), deadlines relative to now
 * ("in 1h12m", "overdue 5m") and aligned text tables. No I/O, no clock: now is an
 * argument, so every function is testable on its own. */
#ifndef SLAD_CTLFMT_H
#define SLAD_CTLFMT_H

#include <stddef.h>
#include <stdint.h>

/* Buffers of at least this size hold any span or relative deadline. */
#define CTLFMT_SPAN_MAX 32
/* A cell longer than this many bytes is cut (on a UTF-8 boundary) and ends with "...". */
#define CTLFMT_CELL_MAX 200
/* A table holds at most this many rows and columns; more is -E2BIG. */
#define CTLFMT_MAX_ROWS 100000
#define CTLFMT_MAX_COLS 16

/* A duration as its two largest units: "45s", "5m", "1h12m", "2d3h", "0s". Negative
 * values are written as their magnitude. Returns buf. */
char *ctlfmt_span(int64_t ms, char *buf, size_t size);

/* A deadline due_ms seen at now_ms: "in 1h12m", "overdue 5m", or "now" within a second.
 * Returns buf. */
char *ctlfmt_relative(int64_t due_ms, int64_t now_ms, char *buf, size_t size);

/* The number of terminal columns text takes: UTF-8 aware (East Asian wide characters
 * count 2), ANSI colour sequences ("\033[...m") count 0. */
size_t ctlfmt_width(const char *text);

/* A table of strings rendered with each column as wide as its widest cell, columns
 * separated by two spaces, trailing blanks trimmed. Cells may carry colour sequences. */
struct ctlfmt_table {
    size_t n_cols, n_rows, cap_rows;
    char **cells; /* row-major, row 0 is the header; owned */
};
int ctlfmt_table_init(struct ctlfmt_table *t, size_t n_cols, const char *const *headers);
/* Add a row of n_cols cells (NULL is an empty cell); 0, -ENOMEM or -E2BIG. */
int ctlfmt_table_add(struct ctlfmt_table *t, const char *const *cells);
/* The table as a malloc'd NUL-terminated text, one line per row; NULL on ENOMEM. */
char *ctlfmt_table_render(const struct ctlfmt_table *t);
void ctlfmt_table_done(struct ctlfmt_table *t);

#endif
