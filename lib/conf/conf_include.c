/* conf_include.c - expand @include lines into one text before libconfig parses it.
 *
 * Debian 12's libconfig 1.5 puts its include folder in front of every @include, absolute
 * ones too ("/etc/slad//etc/slad/conf.d/x.conf"), and has no hook to change that (the
 * include function is 1.7+). So the loader reads the files itself: each @include line is
 * replaced by the text of its file, and a line map remembers which file and line every
 * line of the result came from, so that messages still say "FILE:LINE" of the file the
 * operator wrote. Includes nest at most CONF_INCLUDE_DEPTH deep and cycles are refused. */
#include "conf_include.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONF_INCLUDE_DEPTH 10                 /* libconfig's own limit */
#define CONF_MAX_BYTES     (16 * 1024 * 1024) /* all files together: a config, not a dump */

/* The files being read, outermost first: what a cycle would come back to. */
struct include_chain {
    dev_t dev[CONF_INCLUDE_DEPTH + 1];
    ino_t ino[CONF_INCLUDE_DEPTH + 1];
    size_t depth;
};

/* Line n (from 1) of the expanded text starts a run of lines of file, from file_line. */
static void map_add(struct conf_loader *ld, unsigned out_line, const char *file, unsigned file_line)
{
    struct conf_line_map *m = &ld->line_map;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct conf_line_span *s = realloc(m->spans, cap * sizeof(*s));
        if (!s) {
            ld->oom = true;
            return;
        }
        m->spans = s;
        m->cap = cap;
    }
    m->spans[m->n++] = (struct conf_line_span){out_line, file, file_line};
}

bool conf_line_map_find(const struct conf_loader *ld, unsigned line, const char **file,
                        unsigned *file_line)
{
    const struct conf_line_map *m = &ld->line_map;
    if (!line)
        return false;
    for (size_t i = m->n; i-- > 0;)
        if (m->spans[i].first <= line) {
            *file = m->spans[i].file;
            *file_line = m->spans[i].file_line + (line - m->spans[i].first);
            return true;
        }
    return false;
}

/* Read all of f; NULL with errno set on failure. */
static char *read_all(FILE *f, size_t limit, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            if (cap > limit) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                errno = EIO;
                return NULL;
            }
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    free(buf);
    errno = ENOMEM;
    return NULL;
}

/* If line starts an @include (libconfig's rule: only blanks before it), store its file
 * name (escapes \\ and \" undone) in name and return 1; 0 when it is no @include; -1
 * (reported) when it is a broken one. */
static int parse_include(struct conf_loader *ld, const char *file, unsigned lineno,
                         const char *line, size_t len, char *name, size_t size)
{
    const char *p = line, *end = line + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < 8 || memcmp(p, "@include", 8) != 0)
        return 0;
    p += 8;
    const char *q = p;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    if (q == p || q == end || *q != '"') {
        conf_report_at(ld, file, lineno,
                       "@include needs a file name in double quotes: "
                       "@include \"FILE\"");
        return -1;
    }
    size_t o = 0;
    for (q++; q < end && *q != '"'; q++) {
        if (*q == '\\' && q + 1 < end && (q[1] == '\\' || q[1] == '"'))
            q++;
        if (o + 1 >= size) {
            conf_report_at(ld, file, lineno, "@include: the file name is too long");
            return -1;
        }
        name[o++] = *q;
    }
    name[o] = '\0';
    if (q == end) {
        conf_report_at(ld, file, lineno, "@include: the file name has no closing quote");
        return -1;
    }
    for (q++; q < end && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
        ;
    if (q < end && *q != '#' && !(end - q >= 2 && q[0] == '/' && q[1] == '/')) {
        conf_report_at(ld, file, lineno,
                       "@include \"%s\": only a comment may follow it on its line", name);
        return -1;
    }
    if (!o) {
        conf_report_at(ld, file, lineno, "@include: the file name is empty");
        return -1;
    }
    return 1;
}

static void expand_file(struct conf_loader *ld, struct conf_text *out, unsigned *out_line,
                        const char *path, const char *from, unsigned from_line,
                        struct include_chain *chain);

/* Where a line ends, lexically: libconfig takes "@include" only outside strings and
 * comments, and both may span lines. */
enum lex { LEX_CODE, LEX_STRING, LEX_COMMENT };

static enum lex lex_line(enum lex st, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (st == LEX_STRING) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                st = LEX_CODE;
        } else if (st == LEX_COMMENT) {
            if (p[i] == '*' && i + 1 < n && p[i + 1] == '/') {
                st = LEX_CODE;
                i++;
            }
        } else if (p[i] == '"') {
            st = LEX_STRING;
        } else if (p[i] == '#' || (p[i] == '/' && i + 1 < n && p[i + 1] == '/')) {
            return LEX_CODE; /* the rest of the line is a comment */
        } else if (p[i] == '/' && i + 1 < n && p[i + 1] == '*') {
            st = LEX_COMMENT;
            i++;
        }
    }
    return st;
}

/* The text of file (its name as messages show it), with its @include lines expanded. */
static void expand_text(struct conf_loader *ld, struct conf_text *out, unsigned *out_line,
                        const char *file, const char *text, size_t len, struct include_chain *chain)
{
    char *dir = conf_folder_of(ld, file);
    if (!dir)
        return;
    map_add(ld, *out_line, file, 1);
    unsigned lineno = 1;
    enum lex st = LEX_CODE;
    for (const char *p = text, *end = text + len; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char name[4096];
        int inc = st == LEX_CODE ? parse_include(ld, file, lineno, p, n, name, sizeof(name)) : 0;
        st = inc ? LEX_CODE : lex_line(st, p, n);
        if (inc > 0) {
            char *target = name[0] == '/' ? conf_strdup(ld, name) : conf_join_path(ld, dir, name);
            if (target)
                expand_file(ld, out, out_line, target, file, lineno, chain);
            free(target);
            map_add(ld, *out_line, file, lineno + 1); /* back in file after the @include */
        } else {
            /* A broken @include becomes an empty line: its error is reported already. */
            conf_text_add(out, "%.*s\n", inc < 0 ? 0 : (int)n, p);
            ++*out_line;
        }
        p += n + (nl ? 1 : 0);
    }
    free(dir);
}

/* Open path (named by from:from_line; from NULL for the main file) and expand it. */
static void expand_file(struct conf_loader *ld, struct conf_text *out, unsigned *out_line,
                        const char *path, const char *from, unsigned from_line,
                        struct include_chain *chain)
{
    if (chain->depth > CONF_INCLUDE_DEPTH) {
        conf_report_at(ld, from, from_line,
                       "@include \"%s\": includes nest more than %d deep (a cycle?)", path,
                       CONF_INCLUDE_DEPTH);
        return;
    }
    FILE *f = fopen(path, "re");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0) {
        if (from)
            conf_report_at(ld, from, from_line, "@include \"%s\": cannot open: %s", path,
                           strerror(errno));
        else
            conf_report_at(ld, NULL, 0, "cannot open: %s", strerror(errno));
        if (f)
            fclose(f);
        return;
    }
    for (size_t i = 0; i < chain->depth; i++)
        if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
            conf_report_at(ld, from, from_line,
                           "@include \"%s\": that file is already being read (an include "
                           "cycle): remove one of the @include lines",
                           path);
            fclose(f);
            return;
        }
    size_t len = 0;
    char *text = read_all(f, CONF_MAX_BYTES - out->len, &len);
    int err = errno;
    fclose(f);
    if (!text) {
        if (err == ENOMEM)
            ld->oom = true;
        else
            conf_report_at(ld, path, 0, "cannot read: %s",
                           err == EFBIG ? "the configuration is larger than 16 MiB"
                                        : strerror(err));
        return;
    }
    if (memchr(text, '\0', len)) {
        conf_report_at(ld, path, 0, "the file contains a NUL byte: is it a text file?");
        free(text);
        return;
    }
    /* Messages name the file as the operator wrote or the loader built it: kept for
     * the line map until loading ends. */
    conf_strings_add(ld, &ld->source_files, path);
    if (ld->oom) {
        free(text);
        return;
    }
    const char *kept = ld->source_files.v[ld->source_files.n - 1];
    chain->dev[chain->depth] = st.st_dev;
    chain->ino[chain->depth] = st.st_ino;
    chain->depth++;
    expand_text(ld, out, out_line, kept, text, len, chain);
    chain->depth--;
    free(text);
}

char *conf_include_expand(struct conf_loader *ld, const char *path)
{
    struct conf_text out = {0};
    struct include_chain chain = {0};
    unsigned out_line = 1;
    size_t errors = ld->n_errors;
    expand_file(ld, &out, &out_line, path, NULL, 0, &chain);
    if (out.oom)
        ld->oom = true;
    if (ld->oom || ld->n_errors > errors) {
        free(out.s);
        return NULL;
    }
    return out.s ? out.s : conf_strdup(ld, "");
}
