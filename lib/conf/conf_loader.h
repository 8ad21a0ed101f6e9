/* conf_loader.h - the machinery shared by the config loader's files (conf.c: messages, key
 * tables, value parsers, daemon, loading; conf_channels.c: channels, contacts, teams,
 * templates; conf_policies.c: calendars, policies, repeat_fault; conf_schedules.c: on-call
 * schedules; conf_intakes.c: intakes; conf_include.c: @include; conf_summary.c). Not part
 * of libslad's interface: only conf*.c include it.
 *
 * Each section has one const table of struct conf_key, and conf_read_group() walks a group
 * through it: unknown keys, missing keys and wrong types are found there for every section.
 * A key parser checks one value and stores it into the section's struct; on a problem it
 * reports "FILE:LINE: KEY in WHERE: message" and leaves the field alone, and loading goes
 * on so that every error of the file is reported. */
#ifndef SLAD_CONF_LOADER_H
#define SLAD_CONF_LOADER_H

#include <libconfig.h>
#include <stdarg.h>

#include "conf_load.h"
#include "recipient.h" /* RECIPIENT_ONCALL */

#define WHERE_MAX      256 /* "step 2 of clock 'response' of policy 'critical-city'" */
#define QUOTE_MAX      100 /* a quoted value in a message */
#define LIST_MAX       800 /* a "known: a, b, c" list in a message */
#define NAME_MAX_BYTES 64

/* Growing text, for the error list and the summary; oom is set (and text dropped) when
 * memory runs out. */
struct conf_text {
    char *s;
    size_t len, cap;
    bool oom;
};

void conf_text_add(struct conf_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lines first.. of the text libconfig parses came from file, from its line file_line. */
struct conf_line_span {
    unsigned first;
    const char *file; /* in conf_loader.source_files */
    unsigned file_line;
};
struct conf_line_map {
    struct conf_line_span *spans; /* by first, ascending */
    size_t n, cap;
};

struct conf_loader {
    config_t cfg;
    const char *main_name;   /* the main file as named by the caller */
    const char *include_dir; /* its folder, or NULL when loading a string */
    struct conf *conf;       /* being built; sections read so far are complete */
    struct conf_text errors;
    size_t n_errors;
    struct conf_text warnings; /* handed to conf->warnings */
    bool oom;
    const char *where;                  /* what is being read: "clock 'x' of policy 'y'" */
    struct conf_strings cal_names;      /* calendars declared, including ones that failed */
    struct conf_strings roles;          /* role names that some team defines */
    struct conf_strings schedule_names; /* schedules declared, including ones that failed */
    struct conf_strings source_files;   /* the files read, as messages name them */
    struct conf_line_map line_map;      /* lines of the parsed text back to those files */
};

struct conf_key;
typedef void conf_key_parser(struct conf_loader *ld, const config_setting_t *s, void *obj,
                             const struct conf_key *key);

/* One known key of a section. */
struct conf_key {
    const char *name;
    conf_key_parser *parse;
    size_t offset; /* of the field in obj, the struct the section fills */
    bool required;
    bool secret;              /* never quote the value in a message */
    int64_t min, max;         /* integers, millisecond durations; list lengths (min only) */
    unsigned forms;           /* duration forms accepted (DURATION_ALLOW_*) */
    const char *const *words; /* the words of an enumeration */
};

#define FIELD(obj, key, type) ((type *)(void *)((char *)(obj) + (key)->offset))
#define N_KEYS(table)         (sizeof(table) / sizeof((table)[0]))

/* ---- messages ---- */

/* "FILE:LINE: message" at setting s (its nearest parent with a line: array elements have
 * none). Control characters in the message become spaces: one error, one line. */
void conf_report(struct conf_loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at an explicit file and line (file NULL: the parsed text's line, mapped back
 * to its file; line 0: no line). */
void conf_report_at(struct conf_loader *ld, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "FILE:LINE: warning: message": the config loads, but the operator should know (a
 * password sent in clear text). */
void conf_warn(struct conf_loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "KEY in WHERE: message", with KEY from k and WHERE from ld->where. */
void conf_key_error(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "KEY in WHERE: expected EXPECTED, got a string ('2h')" (no value for secret keys). */
void conf_type_error(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                     const char *expected);
/* text for a message, in buf: control characters escaped, cut at a UTF-8 boundary. */
const char *conf_quote(const char *text, char *buf, size_t size);
/* "a, b, c" from a NULL-terminated list. */
const char *conf_join_words(const char *const *words, char *buf, size_t size);

/* ---- words, strings, memory ---- */

bool conf_word_in(const char *const *words, const char *word);
/* Whether word is one of the space-separated words of list. */
bool conf_word_in_list(const char *list, const char *word);
/* These set ld->oom and return NULL when memory runs out. */
char *conf_strdup(struct conf_loader *ld, const char *s);
void *conf_alloc_array(struct conf_loader *ld, size_t n, size_t size);
char *conf_join_path(struct conf_loader *ld, const char *dir, const char *file);
char *conf_folder_of(struct conf_loader *ld, const char *path); /* "." when it has none */
/* Replace *field (a default, or NULL) with a copy of s. */
void conf_set_string(struct conf_loader *ld, char **field, const char *s);
void conf_strings_add(struct conf_loader *ld, struct conf_strings *list, const char *s);

/* ---- groups and lists ---- */

/* Read group s into obj through table, in table order; returns a mask of the keys present
 * (bit i for table[i]). Unknown and missing keys are reported here. */
uint64_t conf_read_group(struct conf_loader *ld, const config_setting_t *s, const char *where,
                         const struct conf_key *table, size_t n, void *obj);
bool conf_is_list(const config_setting_t *s);
/* A list of groups: returns its length after checking the shape, or -1. */
int conf_group_list(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k);
/* "clock 'response' of PARENT", or "clock #2 of PARENT" while it has no name. */
void conf_element_where(char *buf, size_t size, const config_setting_t *elem, const char *what,
                        const char *parent);
/* Report element i of list if its name was already used by an earlier element. */
void conf_check_unique(struct conf_loader *ld, const config_setting_t *list, int i,
                       const char *what);
/* A list of groups (what: "clock") read through table into a new array of n elements of
 * size bytes (*ret, *ret_n); named: their names must differ. */
void conf_read_list(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                    const char *what, const struct conf_key *table, size_t n_table, void **ret,
                    size_t *ret_n, size_t size, bool named);
/* Element i of an array, or s itself when it is a single string. */
const config_setting_t *conf_element(const config_setting_t *s, size_t i);

/* ---- values: each reports and returns NULL / false when the value is not usable ---- */

const char *conf_string_value(struct conf_loader *ld, const config_setting_t *s,
                              const struct conf_key *k);
bool conf_integer_value(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                        int64_t *ret);
bool conf_duration_value(struct conf_loader *ld, const config_setting_t *s,
                         const struct conf_key *k, struct duration *ret);
/* An array or list of strings into out (a single string too when scalar_ok); elements of a
 * wrong type are reported and left NULL. */
bool conf_strings_value(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                        bool scalar_ok, struct conf_strings *out);

/* Key parsers for the tables: string, name (a small alphabet), int, unsigned, int64
 * (k->min..k->max), ms (a plain duration as milliseconds), duration (k->forms), enum (an
 * index into k->words), word (one of k->words as a string), words (an array of them). */
conf_key_parser conf_parse_string, conf_parse_name, conf_parse_int, conf_parse_ms,
    conf_parse_duration, conf_parse_enum, conf_parse_word, conf_parse_words;

/* ---- the sections, in conf_channels.c and conf_policies.c ---- */

conf_key_parser conf_parse_channels, conf_parse_contacts, conf_parse_teams, conf_parse_templates;
conf_key_parser conf_parse_calendars, conf_parse_policies, conf_parse_repeat_fault;
conf_key_parser conf_parse_schedules; /* conf_schedules.c */
conf_key_parser conf_parse_intakes;   /* conf_intakes.c */

/* A calendar's name (the built-in 24x7 or one declared above) as a const struct
 * calendar * field. */
conf_key_parser conf_parse_calendar_ref;

/* A recipient or role member "oncall:SCHEDULE": the schedule must be in the config. */
void conf_check_oncall(struct conf_loader *ld, const config_setting_t *s, const struct conf_key *k,
                       const char *recipient);

extern const char *const conf_languages[];           /* "zh", "en" */
extern const char *const conf_notification_events[]; /* "sla.warning", ... */

#endif
