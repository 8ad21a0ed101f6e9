/* conf.h - the configuration as data: immutable structs that the engine reads (policies,
 * clocks, ladders, calendars, contacts, teams, channels, templates). lib/conf loads them
 * from a libconfig file (conf_load.h); a struct conf is never modified after loading, and
 * the daemon swaps in a new one on reload. All strings are owned by the conf. */
#ifndef SLAD_CONF_H
#define SLAD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "duration.h"
#include "error.h"
#include "schedule.h"

enum conf_log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_WARNING,
    LOG_LEVEL_ERROR
};

struct conf_daemon {
    char *socket;                  /* Unix socket path; default "/run/slad/slad.sock" */
    unsigned socket_mode;          /* permission bits; default 0660 */
    char *tcp;                     /* "HOST:PORT" or NULL */
    char *token_file;              /* required with tcp */
    char *database;                /* default "/var/lib/slad/slad.db"; or PostgreSQL's */
    int64_t failover_timeout_ms;   /* several instances: take-over after it; default 10 s */
    bool synchronous_full;         /* "full" (default) or "normal" */
    enum conf_log_level log_level; /* default info */
    char *language;                /* "zh" (default) or "en" */
    char *timezone;           /* IANA name: the built-in 24x7 calendar's local days and the times in
                                 message texts; default the system's zone */
    int64_t max_body_bytes;   /* default 1 MiB */
    int64_t max_header_bytes; /* default 16 KiB */
    unsigned max_connections; /* default 1024 */
    int64_t idle_timeout_ms;  /* idle HTTP connections are closed; default 60 s */
    int64_t header_timeout_ms;       /* a request head must arrive within it; default 10 s */
    unsigned max_connections_per_ip; /* TCP connections from one address; default 32 */
    char *tls_cert, *tls_key;        /* PEM files: the TCP listener speaks TLS; or NULL */
    int64_t retention_ms; /* closed/cancelled tickets older than this are purged; 0: never */
    char *public_url;     /* where people reach the console ("https://sla.example.com", no
                             trailing '/'): notifications link to it; NULL: no links */
};

struct conf_strings {
    char **v;
    size_t n;
};

struct conf_contact {
    char *name;
    char *phone;                  /* E.164 or NULL */
    char *email;                  /* or NULL */
    struct conf_strings via;      /* channel names that reach the person, in order of preference */
    const struct calendar *hours; /* quiet hours: outside this calendar's open hours only
                                     urgent events reach the person, the rest wait for
                                     the next opening; NULL: always reachable */
    char *password_hash; /* crypt(3) hash for the console's sign-in, or NULL (no sign-in) */
    int access;          /* enum contact_access: what the person may do in the console */
};

/* A contact's rights in the console (lib/api/api_access.c says which route needs which). */
enum contact_access {
    CONTACT_VIEWER,   /* reads */
    CONTACT_OPERATOR, /* + ticket events and comments, follow-up completion, retries */
    CONTACT_ADMIN,    /* everything: tickets, plans, overrides, reload */
};
extern const char *const contact_access_names[]; /* "viewer", "operator", "admin", NULL */

struct conf_role {
    char *name;                   /* "supervisor", "manager", "director", any name */
    struct conf_strings contacts; /* contact names, or "oncall:SCHEDULE" */
};

struct conf_team {
    char *name;
    char *channel; /* group channel that gets every notification of the team, or NULL */
    struct conf_role *roles;
    size_t n_roles;
};

enum channel_type {
    CHANNEL_WEBHOOK,
    CHANNEL_SLACK,
    CHANNEL_DINGTALK,
    CHANNEL_WECOM,
    CHANNEL_FEISHU,
    CHANNEL_PAGERDUTY,
    CHANNEL_SMS,
    CHANNEL_ALIYUN_SMS,
    CHANNEL_EMAIL,
    CHANNEL_FILE,
};

/* "webhook" <-> CHANNEL_WEBHOOK; NULL / -1 when unknown. */
const char *channel_type_name(enum channel_type type);
int channel_type_from_name(const char *name);

struct conf_channel {
    char *name;
    enum channel_type type;
    char *url;          /* http(s) or smtp(s) URL; may hold a token: never logged */
    char *secret;       /* signing secret or NULL; never logged */
    int64_t timeout_ms; /* per attempt; default 10 s */
    int max_attempts;   /* default 10 */
    int64_t max_age_ms; /* give up after this age; default 24 h */
    int concurrency;    /* requests in flight; default 4 */
    int rate_count;     /* at most rate_count messages per rate_window_ms; 0 = unlimited */
    int64_t rate_window_ms;
    /* sms (generic HTTP gateway) */
    char *method;                /* default "POST" */
    struct conf_strings headers; /* "Name: value" lines, may use placeholders */
    char *body;                  /* body template; {{to}}, {{text}} ... */
    char *username, *password;   /* HTTP basic auth (sms) or SMTP login (email) */
    /* email */
    char *from;
    char *tls;          /* "starttls", "none" or NULL, as written */
    bool smtp_starttls; /* smtp://: STARTTLS before login and message, or nothing is sent
                           (tls = "starttls"; the default with a username or password) */
    /* file */
    char *path;
    /* aliyun_sms */
    char *access_key_id, *access_key_secret, *sign_name, *template_code;
    /* pagerduty */
    char *routing_key;
    /* Storm grouping: notifications to one address on this channel within the window go
     * out as one message; 0: each alone. */
    int64_t group_window_ms;
};

struct conf_template {
    char *event; /* "sla.breach", ... */
    char *lang;  /* "zh" | "en" */
    char *text;
    char *subject; /* e-mail subject, or NULL */
};

/* A recipient as written: "assignee", "supervisor", "contact:NAME", "channel:NAME",
 * "oncall:SCHEDULE", "customer". */
struct conf_step {
    struct duration at; /* percent, or after_due (ms or workdays) */
    struct conf_strings notify;
    int64_t repeat_ms; /* 0 = fire once; else again every repeat_ms of business time */
};

struct conf_ladder {
    struct conf_step *steps;
    size_t n_steps;
};

struct conf_clock {
    char *name;
    char *start;                     /* "created" (the ticket's reported_at) or an event name */
    int64_t delay_ms;                /* business time after the start event */
    struct duration target;          /* ms or workdays */
    struct conf_strings stop;        /* event names that stop the clock */
    struct conf_strings pause;       /* statuses during which the clock does not count */
    const struct calendar *calendar; /* the clock's own, else the policy's */
    struct conf_ladder ladder;
};

struct conf_followup {
    char *name;
    char *from;                 /* event name ("resolve", "close", "create", ...) */
    struct duration after;      /* ms or workdays after the event */
    struct duration due_within; /* ms or workdays after the due instant */
    char *owner;                /* role that does it; default "assignee" */
    struct conf_ladder ladder;  /* steps relative to due_within ("100%", "+1d") */
};

struct conf_reminder {
    int64_t before_ms; /* before appointment_at, calendar time */
    struct conf_strings notify;
};

struct conf_label_match {
    char *key;
    struct conf_strings values; /* any of */
};

struct conf_match {
    unsigned severities; /* bit s set for severity s (1..5); 0 = any */
    struct conf_strings grades, regions, teams, sources; /* empty = any */
    struct conf_label_match *labels;                     /* all must match */
    size_t n_labels;
};

struct conf_policy {
    char *name;
    struct conf_match match;
    const struct calendar *calendar;
    struct conf_clock *clocks;
    size_t n_clocks;
    struct conf_followup *followups;
    size_t n_followups;
    struct conf_reminder *reminders;
    size_t n_reminders;
    /* The events that reach a contact outside its quiet hours; urgent_set false: the
     * default list (conf_event_is_urgent). */
    struct conf_strings urgent;
    bool urgent_set;
};

struct conf_repeat_fault {
    int count;                  /* default 3 */
    int64_t window_ms;          /* default 365 d */
    struct conf_strings notify; /* default ["manager"] */
};

/* Intake from monitoring (POST /v1/intake/{name}): what a sender's alerts become. */
enum intake_type { INTAKE_ALERTMANAGER, INTAKE_PAGERDUTY };

/* "alertmanager" <-> INTAKE_ALERTMANAGER; NULL / -1 when unknown. */
const char *intake_type_name(enum intake_type type);
int intake_type_from_name(const char *name);

struct conf_label {
    char *key, *value;
};

struct conf_severity_word {
    char *word;   /* "critical", compared without case */
    int severity; /* 1..5 */
};

struct conf_intake {
    char *name; /* the route's {name} and the tickets' source */
    enum intake_type type;
    char *team;                /* the tickets' team, or NULL */
    char *grade, *region;      /* policy hints: set on the tickets, for policies to match */
    struct conf_label *labels; /* more hints: labels set on the tickets */
    size_t n_labels;
    struct conf_severity_word *severity_map; /* the sender's words to severities */
    size_t n_severity_map;
    int default_severity; /* a word not in the map, or none; default 3 */
    char *token_file;     /* its own bearer token (PagerDuty: routing key); NULL: the
                             daemon's */
};

struct conf {
    char *path;
    struct conf_daemon daemon;
    struct calendar **calendars; /* "24x7" (in daemon.timezone) first, then the file's */
    size_t n_calendars;
    struct schedule **schedules; /* on-call schedules (schedule.h) */
    size_t n_schedules;
    struct conf_contact *contacts;
    size_t n_contacts;
    struct conf_team *teams;
    size_t n_teams;
    struct conf_channel *channels;
    size_t n_channels;
    struct conf_template *templates;
    size_t n_templates;
    struct conf_policy *policies;
    size_t n_policies;
    struct conf_repeat_fault repeat_fault;
    struct conf_intake *intakes;
    size_t n_intakes;
    char *warnings; /* "FILE:LINE: warning: ..." lines for --check-config and the log, or
                       NULL: what loads but weakens security (tls = "none" with a login) */
};

/* Frees a configuration and everything it owns (secrets are wiped); NULL-safe. */
void conf_free(struct conf *conf);

/* Lookups by name; NULL when absent. */
const struct calendar *conf_find_calendar(const struct conf *conf, const char *name);
/* The calendar whose zone is daemon.timezone (the built-in 24x7): local times for people. */
const struct calendar *conf_local_calendar(const struct conf *conf);
const struct schedule *conf_find_schedule(const struct conf *conf, const char *name);
const struct conf_contact *conf_find_contact(const struct conf *conf, const char *name);
const struct conf_team *conf_find_team(const struct conf *conf, const char *name);
const struct conf_channel *conf_find_channel(const struct conf *conf, const char *name);
const struct conf_policy *conf_find_policy(const struct conf *conf, const char *name);
const struct conf_role *conf_team_role(const struct conf_team *team, const char *role);
const struct conf_intake *conf_find_intake(const struct conf *conf, const char *name);

/* Whether event reaches a contact outside its quiet hours under the policy named policy
 * (NULL or unknown: the default list, sla.breach, sla.escalation and
 * ticket.repeat_fault). */
bool conf_event_is_urgent(const struct conf *conf, const char *policy, const char *event);

/* The severity word (without case) means under intake in (its map; else its default). */
int conf_intake_severity(const struct conf_intake *in, const char *word);

/* A string list of the config: whether it holds s; free its strings. */
bool conf_strings_has(const struct conf_strings *list, const char *s);
void conf_strings_done(struct conf_strings *list);

#endif
