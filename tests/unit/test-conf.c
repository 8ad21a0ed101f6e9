/* test-conf.c - the config loader: the normative example loads into the right values,
 * @include works from any working directory, and broken files are refused with every
 * error at its FILE:LINE, quoting the offending value. Fixtures are in
 * tests/unit/data/conf (found through $SLAD_TEST_DATA, set by meson, or next to this file). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_load.h"

#define HOUR_MS  (3600 * INT64_C(1000))
#define CATCHALL "policies = ( { name = \"default\"; match = { }; } );\n"
#define SCHED_CONTACTS                                                                             \
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x\"; } );\n"                    \
    "contacts = ( { name = \"anna\"; via = [\"log\"]; } );\n"

static char data_dir[PATH_MAX];

static const char *fixture(const char *name)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    return path;
}

static int setup_data_dir(void **state)
{
    const char *env = getenv("SLAD_TEST_DATA");
    char dir[PATH_MAX];
    if (env)
        snprintf(dir, sizeof(dir), "%s/conf", env);
    else
        snprintf(dir, sizeof(dir), "%.*s/data/conf", (int)(strrchr(__FILE__, '/') - __FILE__),
                 __FILE__);
    /* Absolute, so that the @include test can leave the working directory. */
    if (!realpath(dir, data_dir))
        return -1;
    return 0;
}

/* Assert that errs holds a line "FILE:LINE: ...needle..." and, when count is not 0,
 * exactly count errors; test_line names the table row in the failure message. */
static void assert_error(int test_line, const struct conf_errors *errs, const char *file, int line,
                         const char *needle, size_t count)
{
    char prefix[PATH_MAX + 128];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
    bool found = false;
    for (const char *p = errs->text; p && *p && !found;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        found = strncmp(p, prefix, strlen(prefix)) == 0 && memmem(p, len, needle, strlen(needle));
        p += len + (nl ? 1 : 0);
    }
    if (!found)
        fail_msg("line %d: no error \"%s...%s\" in:\n%s", test_line, prefix, needle,
                 errs->text ? errs->text : "(no errors)");
    if (count && errs->count != count)
        fail_msg("line %d: %zu errors, expected %zu:\n%s", test_line, errs->count, count,
                 errs->text);
}

static struct conf *load_ok(int test_line, const char *path)
{
    struct conf *conf = NULL;
    struct conf_errors errs;
    int r = conf_load(path, &conf, &errs);
    if (r < 0)
        fail_msg("line %d: %s: %d\n%s", test_line, path, r, errs.text ? errs.text : "");
    assert_null(errs.text);
    assert_non_null(conf);
    return conf;
}

static struct conf *load_string_ok(int test_line, const char *text)
{
    struct conf *conf = NULL;
    struct conf_errors errs;
    int r = conf_load_string(text, "t.conf", &conf, &errs);
    if (r < 0)
        fail_msg("line %d: %d\n%s", test_line, r, errs.text ? errs.text : "");
    assert_null(errs.text);
    return conf;
}

static void assert_strings(int test_line, const struct conf_strings *list, const char *joined)
{
    char buf[512] = "";
    size_t o = 0;
    for (size_t i = 0; i < list->n && o < sizeof(buf); i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", list->v[i]);
    if (strcmp(buf, joined) != 0)
        fail_msg("line %d: got '%s', expected '%s'", test_line, buf, joined);
}

static void assert_duration(int test_line, struct duration d, enum duration_unit unit,
                            bool after_due, int64_t value)
{
    if (d.unit != unit || d.after_due != after_due || d.value != value)
        fail_msg("line %d: got unit %d after %d value %lld, expected %d %d %lld", test_line, d.unit,
                 d.after_due, (long long)d.value, unit, after_due, (long long)value);
}

/* ---- the normative example ---- */

static void test_example(void **state)
{
    struct conf *conf = load_ok(__LINE__, fixture("example.conf"));

    const struct conf_daemon *d = &conf->daemon;
    assert_string_equal(d->socket, "/run/slad/slad.sock");
    assert_int_equal(d->socket_mode, 0660);
    assert_null(d->tcp);
    assert_string_equal(d->database, "/var/lib/slad/slad.db");
    assert_true(d->synchronous_full);
    assert_int_equal(d->log_level, LOG_LEVEL_INFO);
    assert_string_equal(d->language, "zh");
    assert_int_equal(d->max_body_bytes, 1048576);
    assert_int_equal(d->max_connections, 1024);
    assert_int_equal(d->max_header_bytes, 16384); /* defaults */
    assert_int_equal(d->idle_timeout_ms, 60000);
    assert_int_equal(d->retention_ms, 0); /* nothing is purged unless asked */

    assert_int_equal(conf->n_calendars, 2);
    assert_string_equal(calendar_name(conf->calendars[0]), "24x7");
    const struct calendar *office = conf_find_calendar(conf, "cn-office");
    assert_non_null(office);
    assert_string_equal(calendar_timezone(office), "Asia/Shanghai");
    assert_null(conf_find_calendar(conf, "nope"));

    assert_int_equal(conf->n_contacts, 3);
    const struct conf_contact *li = conf_find_contact(conf, "li.si");
    assert_non_null(li);
    assert_string_equal(li->phone, "+8613800000002");
    assert_string_equal(li->email, "li.si@example.com");
    assert_strings(__LINE__, &li->via, "sms,email");
    assert_null(conf_find_contact(conf, "wang.wu")->email);

    const struct conf_team *north = conf_find_team(conf, "north");
    assert_non_null(north);
    assert_string_equal(north->channel, "ops-webhook");
    assert_int_equal(north->n_roles, 2);
    assert_strings(__LINE__, &conf_team_role(north, "supervisor")->contacts, "li.si");
    assert_strings(__LINE__, &conf_team_role(north, "manager")->contacts, "wang.wu");
    assert_null(conf_team_role(north, "director"));

    assert_int_equal(conf->n_channels, 5);
    const struct conf_channel *hook = conf_find_channel(conf, "ops-webhook");
    assert_int_equal(hook->type, CHANNEL_WEBHOOK);
    assert_string_equal(hook->url, "http://127.0.0.1:9000/hook");
    assert_string_equal(hook->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert_int_equal(hook->timeout_ms, 5000);
    assert_int_equal(hook->max_attempts, 12);
    assert_int_equal(hook->concurrency, 8);
    assert_int_equal(hook->rate_count, 0);
    const struct conf_channel *ding = conf_find_channel(conf, "ops-dingtalk");
    assert_int_equal(ding->type, CHANNEL_DINGTALK);
    assert_string_equal(ding->secret, "SEC-change-me-0123456789abcdef");
    assert_int_equal(ding->rate_count, 20); /* the robot's limit: 20 messages a minute */
    assert_int_equal(ding->rate_window_ms, 60000);
    assert_int_equal(ding->timeout_ms, 10000);
    assert_int_equal(ding->max_attempts, 10);
    assert_int_equal(ding->max_age_ms, 24 * HOUR_MS);
    assert_int_equal(ding->concurrency, 4);
    const struct conf_channel *sms = conf_find_channel(conf, "sms");
    assert_int_equal(sms->type, CHANNEL_SMS);
    assert_string_equal(sms->method, "POST");
    assert_strings(__LINE__, &sms->headers, "Content-Type: application/json");
    assert_string_equal(sms->body, "{\"to\":\"{{to}}\",\"text\":\"{{text}}\"}");
    assert_int_equal(sms->rate_count, 20);
    assert_int_equal(sms->rate_window_ms, 1000);
    const struct conf_channel *mail = conf_find_channel(conf, "email");
    assert_int_equal(mail->type, CHANNEL_EMAIL);
    assert_string_equal(mail->url, "smtp://127.0.0.1:25");
    assert_string_equal(mail->from, "slad@example.com");
    const struct conf_channel *log = conf_find_channel(conf, "log");
    assert_int_equal(log->type, CHANNEL_FILE);
    assert_string_equal(log->path, "/var/lib/slad/notifications.jsonl"); /* by the database */

    assert_int_equal(conf->n_templates, 2);
    assert_string_equal(conf->templates[0].event, "sla.breach");
    assert_string_equal(conf->templates[0].lang, "zh");
    assert_string_equal(conf->templates[0].text,
                        "【超时】工单#{{ticket.id}} {{ticket.title}}：{{clock.name}} 已于 "
                        "{{clock.due_at}} 到期");
    assert_string_equal(conf->templates[1].lang, "en");
    assert_null(conf->templates[1].subject);

    assert_int_equal(conf->n_policies, 2);
    const struct conf_policy *city = &conf->policies[0];
    assert_ptr_equal(conf_find_policy(conf, "critical-city"), city);
    assert_int_equal(city->match.severities, 1u << 1);
    assert_strings(__LINE__, &city->match.regions, "city");
    assert_int_equal(city->match.grades.n, 0);
    assert_ptr_equal(city->calendar, conf->calendars[0]);
    assert_int_equal(city->n_clocks, 4);

    const struct conf_clock *response = &city->clocks[0];
    assert_string_equal(response->name, "response");
    assert_string_equal(response->start, "created");
    assert_int_equal(response->delay_ms, 0);
    assert_duration(__LINE__, response->target, DURATION_MS, false, HOUR_MS);
    assert_strings(__LINE__, &response->stop, "acknowledge,dispatch,arrive,resolve");
    assert_int_equal(response->pause.n, 0);
    assert_ptr_equal(response->calendar, city->calendar);
    assert_int_equal(response->ladder.n_steps, 3);
    assert_duration(__LINE__, response->ladder.steps[0].at, DURATION_PERCENT, false, 50);
    assert_strings(__LINE__, &response->ladder.steps[0].notify, "assignee");
    assert_int_equal(response->ladder.steps[0].repeat_ms, 0);
    assert_duration(__LINE__, response->ladder.steps[1].at, DURATION_PERCENT, false, 100);
    assert_duration(__LINE__, response->ladder.steps[2].at, DURATION_MS, true, HOUR_MS);
    assert_strings(__LINE__, &response->ladder.steps[2].notify, "manager");
    assert_int_equal(response->ladder.steps[2].repeat_ms, HOUR_MS);

    assert_strings(__LINE__, &city->clocks[1].ladder.steps[0].notify,
                   "supervisor,channel:ops-webhook");
    assert_strings(__LINE__, &city->clocks[2].pause, "on_hold");
    assert_duration(__LINE__, city->clocks[2].target, DURATION_MS, false, 24 * HOUR_MS);
    assert_duration(__LINE__, city->clocks[2].ladder.steps[0].at, DURATION_PERCENT, false, 75);
    const struct conf_clock *backup = &city->clocks[3];
    assert_string_equal(backup->start, "arrive");
    assert_int_equal(backup->delay_ms, 8 * HOUR_MS);
    assert_duration(__LINE__, backup->target, DURATION_MS, false, 48 * HOUR_MS);

    assert_int_equal(city->n_followups, 1);
    const struct conf_followup *callback = &city->followups[0];
    assert_string_equal(callback->name, "callback");
    assert_string_equal(callback->from, "resolve");
    assert_duration(__LINE__, callback->after, DURATION_MS, false, 0);
    assert_duration(__LINE__, callback->due_within, DURATION_MS, false, 24 * HOUR_MS);
    assert_string_equal(callback->owner, "assignee");
    assert_int_equal(callback->ladder.n_steps, 1);
    assert_int_equal(city->n_reminders, 1);
    assert_int_equal(city->reminders[0].before_ms, 2 * HOUR_MS);
    assert_strings(__LINE__, &city->reminders[0].notify, "assignee,customer");

    const struct conf_policy *def = &conf->policies[1];
    assert_int_equal(def->match.severities, 0);
    assert_int_equal(def->match.regions.n + def->match.n_labels, 0);
    assert_ptr_equal(def->calendar, office);
    assert_duration(__LINE__, def->clocks[1].target, DURATION_WORKDAYS, false, 3);
    assert_duration(__LINE__, def->clocks[1].ladder.steps[1].at, DURATION_WORKDAYS, true, 1);
    assert_ptr_equal(def->clocks[1].calendar, office);
    assert_int_equal(def->n_followups, 2);
    assert_duration(__LINE__, def->followups[1].after, DURATION_MS, false, 30 * 24 * HOUR_MS);
    assert_duration(__LINE__, def->followups[1].due_within, DURATION_WORKDAYS, false, 3);
    assert_int_equal(def->followups[1].ladder.n_steps, 0);
    assert_int_equal(def->n_reminders, 0);

    assert_int_equal(conf->repeat_fault.count, 3);
    assert_int_equal(conf->repeat_fault.window_ms, 365 * 24 * HOUR_MS);
    assert_strings(__LINE__, &conf->repeat_fault.notify, "manager");

    char *summary = conf_summary(conf);
    assert_non_null(summary);
    char first[PATH_MAX + 128];
    snprintf(first, sizeof(first), "config %s: OK\n", fixture("example.conf"));
    assert_true(strncmp(summary, first, strlen(first)) == 0);
    assert_non_null(strstr(summary, "policy critical-city (calendar 24x7) match severity=1 "
                                    "region=city\n"));
    assert_non_null(strstr(summary, "  clock response 1h (stop: acknowledge,dispatch,arrive,"
                                    "resolve; 3 steps"));
    assert_non_null(strstr(summary, "policy default (calendar cn-office) match any"));
    free(summary);
    conf_free(conf);
}

static void test_channel_type_names(void **state)
{
    for (int t = CHANNEL_WEBHOOK; t <= CHANNEL_FILE; t++)
        assert_int_equal(channel_type_from_name(channel_type_name((enum channel_type)t)), t);
    assert_string_equal(channel_type_name(CHANNEL_ALIYUN_SMS), "aliyun_sms");
    assert_int_equal(channel_type_from_name("telegram"), -1);
    assert_null(channel_type_name((enum channel_type)42));
}

/* ---- defaults and accepted forms ---- */

static void test_defaults(void **state)
{
    struct conf *conf = load_string_ok(__LINE__, CATCHALL);
    assert_string_equal(conf->path, "t.conf");
    assert_string_equal(conf->daemon.socket, "/run/slad/slad.sock");
    assert_string_equal(conf->daemon.database, "/var/lib/slad/slad.db");
    assert_int_equal(conf->daemon.failover_timeout_ms, 10000);
    assert_int_equal(conf->daemon.socket_mode, 0660);
    assert_int_equal(conf->daemon.max_body_bytes, 1 << 20);
    assert_int_equal(conf->n_calendars, 1);
    assert_ptr_equal(conf->policies[0].calendar, conf->calendars[0]);
    assert_int_equal(conf->repeat_fault.count, 3);
    assert_strings(__LINE__, &conf->repeat_fault.notify, "manager");
    conf_free(conf);

    conf = load_string_ok(
        __LINE__,
        "daemon = { max_body = 2000000L; max_header = 32768;\n"
        "  idle_timeout = \"2m\"; log_level = \"debug\"; language = \"en\";\n"
        "  retention = \"400d\";\n"
        "  synchronous = \"normal\"; socket_mode = \"600\";\n"
        "  tcp = \"[::1]:8470\"; token_file = \"/etc/slad/token\"; };\n"
        "channels = (\n"
        "  { name = \"robot\"; type = \"wecom\"; url = \"https://q.example/x\"; },\n"
        "  { name = \"slack\"; type = \"slack\"; url = \"https://s.example/x\";\n"
        "    rate = \"100/h\"; },\n"
        "  { name = \"pd\"; type = \"pagerduty\"; routing_key = \"R\"; },\n"
        "  { name = \"ali\"; type = \"aliyun_sms\"; access_key_id = \"I\";\n"
        "    access_key_secret = \"S\"; sign_name = \"N\"; template_code = \"T\"; }\n"
        ");\n"
        "contacts = ( { name = \"a\"; phone = \"+8613800000001\"; via = [\"ali\"]; } );\n"
        "teams = ( { name = \"t\"; roles = { duty = [\"a\"]; }; } );\n"
        "policies = (\n"
        "  { name = \"e\"; match = { labels = { kind = \"emergency\";\n"
        "      warranty = [\"in\", \"unknown\"]; }; severity = 2; team = \"t\"; };\n"
        "    clocks = ( { name = \"c\"; target = \"30m\"; stop = [\"arrive\"];\n"
        "      escalate = ( { at = \"100%\"; notify = [\"duty\", \"contact:a\"]; } ); } );\n"
        "    followups = ( { name = \"f\"; from = \"create\"; due_within = \"1d\";\n"
        "      owner = \"duty\"; } ); },\n"
        "  { name = \"default\"; match = { }; }\n);\n");
    assert_int_equal(conf->daemon.max_body_bytes, 2000000);
    assert_int_equal(conf->daemon.max_header_bytes, 32768);
    assert_int_equal(conf->daemon.idle_timeout_ms, 120000);
    assert_int_equal(conf->daemon.retention_ms, INT64_C(400) * 86400000);
    assert_int_equal(conf->daemon.log_level, LOG_LEVEL_DEBUG);
    assert_string_equal(conf->daemon.language, "en");
    assert_false(conf->daemon.synchronous_full);
    assert_int_equal(conf->daemon.socket_mode, 0600);
    assert_string_equal(conf->daemon.tcp, "[::1]:8470");
    const struct conf_channel *robot = conf_find_channel(conf, "robot");
    assert_int_equal(robot->rate_count, 20);
    assert_int_equal(robot->rate_window_ms, 60000);
    assert_int_equal(conf_find_channel(conf, "slack")->rate_count, 100);
    assert_int_equal(conf_find_channel(conf, "slack")->rate_window_ms, 3600000);
    assert_string_equal(conf_find_channel(conf, "pd")->url,
                        "https://events.pagerduty.com/v2/enqueue");
    assert_string_equal(conf_find_channel(conf, "ali")->access_key_secret, "S");
    const struct conf_match *m = &conf->policies[0].match;
    assert_int_equal(m->severities, 1u << 2);
    assert_strings(__LINE__, &m->teams, "t");
    assert_int_equal(m->n_labels, 2);
    assert_string_equal(m->labels[0].key, "kind");
    assert_strings(__LINE__, &m->labels[0].values, "emergency");
    assert_strings(__LINE__, &m->labels[1].values, "in,unknown");
    assert_string_equal(conf->policies[0].followups[0].owner, "duty");
    assert_duration(__LINE__, conf->policies[0].followups[0].after, DURATION_MS, false, 0);
    assert_string_equal(conf->policies[1].name, "default");
    conf_free(conf);
}

/* daemon.timezone: the built-in 24x7 calendar counts its days there ("3wd" ends at local
 * midnight) and message texts show times there; default the system's zone ($TZ here, as
 * systemd passes none: then /etc/localtime). */
static void test_timezone(void **state)
{
    (void)state;
    /* 2026-03-02 (a Monday) 10:00 in Beijing is 02:00Z. */
    const int64_t monday_10 = INT64_C(1772416800000);
    struct conf *conf =
        load_string_ok(__LINE__, "daemon = { timezone = \"Asia/Shanghai\"; };\n" CATCHALL);
    assert_string_equal(conf->daemon.timezone, "Asia/Shanghai");
    const struct calendar *cal = conf_find_calendar(conf, "24x7");
    assert_ptr_equal(cal, conf_local_calendar(conf));
    assert_string_equal(calendar_timezone(cal), "Asia/Shanghai");
    assert_true(calendar_is_24x7(cal));
    /* The close of the 3rd working day after Monday: Thursday 24:00 in Beijing (16:00Z),
     * not 00:00Z (08:00 in Beijing). */
    assert_int_equal(calendar_workdays_close(cal, monday_10, 3),
                     INT64_C(1772726400000)); /* 2026-03-05T16:00Z */
    assert_ptr_equal(conf->policies[0].calendar, cal);
    conf_free(conf);

    static const struct {
        const char *tz, *want;
    } defaults[] = {
        {"Europe/Berlin", "Europe/Berlin"},
        {":Asia/Tokyo", "Asia/Tokyo"},
        {"/usr/share/zoneinfo/America/New_York", "America/New_York"},
        {"UTC", "UTC"},
    };
    char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        setenv("TZ", defaults[i].tz, 1);
        conf = load_string_ok(__LINE__, CATCHALL);
        assert_string_equal(conf->daemon.timezone, defaults[i].want);
        assert_string_equal(calendar_timezone(conf->calendars[0]), defaults[i].want);
        conf_free(conf);
    }
    /* A POSIX TZ string is no IANA name: UTC, with a warning that says what to set. */
    setenv("TZ", "CST-8", 1);
    conf = load_string_ok(__LINE__, CATCHALL);
    assert_string_equal(conf->daemon.timezone, "UTC");
    assert_non_null(conf->warnings);
    assert_non_null(strstr(conf->warnings, "'CST-8' is not an IANA name"));
    conf_free(conf);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    free(saved);

    struct conf_errors errs;
    assert_int_equal(conf_load_string("daemon = {\n  timezone = \"Mars/Olympus\"; };\n" CATCHALL,
                                      "t.conf", &conf, &errs),
                     -EINVAL);
    assert_error(__LINE__, &errs, "t.conf", 2,
                 "timezone in daemon: unknown time zone 'Mars/Olympus'", 1);
    conf_errors_done(&errs);
}

/* A schedule as the issue spells it: layers built in order, the hand-off read or taken from
 * the start, the calendar resolved; oncall:ops accepted in a role and a step. */
static void test_schedules(void **state)
{
    struct conf *conf = load_string_ok(
        __LINE__, "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x\"; } );\n"
                  "contacts = ( { name = \"anna\"; via = [\"log\"]; }, { name = \"bert\"; via = "
                  "[\"log\"]; } );\n"
                  "calendars = ( { name = \"nights\"; timezone = \"Europe/Berlin\";\n"
                  "  hours = { mon = [\"18:00-24:00\"]; }; } );\n"
                  "schedules = ( { name = \"ops\"; timezone = \"Europe/Berlin\";\n"
                  "  layers = ( { start = \"2026-03-23T09:00:00+01:00\"; rotation = \"1w\";\n"
                  "               handoff = \"09:00\"; contacts = [\"anna\", \"bert\"]; },\n"
                  "             { start = \"2026-03-23T20:00:00+01:00\"; rotation = \"12h\";\n"
                  "               contacts = [\"bert\"]; calendar = \"nights\"; } ); } );\n"
                  "teams = ( { name = \"t\"; roles = { supervisor = [\"oncall:ops\"]; }; } );\n"
                  "policies = ( { name = \"default\"; match = { };\n"
                  "  clocks = ( { name = \"r\"; target = \"1h\"; stop = [\"resolve\"];\n"
                  "    escalate = ( { at = \"50%\"; notify = [\"oncall:ops\"]; } ); } ); } );\n");
    assert_int_equal(conf->n_schedules, 1);
    const struct schedule *s = conf_find_schedule(conf, "ops");
    assert_non_null(s);
    assert_null(conf_find_schedule(conf, "nope"));
    assert_string_equal(schedule_timezone(s), "Europe/Berlin");
    assert_int_equal(schedule_n_layers(s), 2);
    struct schedule_layer_spec l;
    schedule_layer(s, 0, &l);
    assert_int_equal(l.rotation_min, 7 * 24 * 60);
    assert_int_equal(l.handoff_min, 9 * 60);
    assert_int_equal(l.n_contacts, 2);
    assert_string_equal(l.contacts[1], "bert");
    assert_null(l.calendar);
    schedule_layer(s, 1, &l);
    assert_int_equal(l.rotation_min, 12 * 60);
    assert_int_equal(l.handoff_min, 20 * 60); /* the start's */
    assert_ptr_equal(l.calendar, conf_find_calendar(conf, "nights"));
    assert_string_equal(conf->teams[0].roles[0].contacts.v[0], "oncall:ops");
    conf_free(conf);
}

/* ---- @include ---- */

static void test_include_other_cwd(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0); /* systemd starts the daemon in "/" */

    struct conf *conf = load_ok(__LINE__, fixture("include-main.conf"));
    assert_int_equal(conf->n_channels, 1);
    assert_string_equal(conf->channels[0].path, "/var/lib/slad-test/notifications.jsonl");
    assert_int_equal(conf->n_policies, 1);
    assert_strings(__LINE__, &conf->policies[0].clocks[0].ladder.steps[0].notify, "channel:log");
    conf_free(conf);

    /* An error in an included file names that file and its own line. */
    struct conf_errors errs;
    assert_int_equal(conf_load(fixture("include-bad.conf"), &conf, &errs), -EINVAL);
    char included[PATH_MAX + 128];
    snprintf(included, sizeof(included), "%s/include.d/bad-policies.conf", data_dir);
    assert_error(__LINE__, &errs, included, 4, "duration '24x': unknown unit 'x'", 1);
    conf_errors_done(&errs);

    /* An .ics file is also found relative to the config's folder. */
    conf = load_ok(__LINE__, fixture("ics.conf"));
    const struct calendar *office = conf_find_calendar(conf, "office");
    assert_ptr_equal(conf->policies[0].calendar, office);
    assert_false(calendar_is_open(office, INT64_C(1790820000000))); /* Thu 2026-10-01 10:00 */
    assert_true(calendar_is_open(office, INT64_C(1791424800000)));  /* Thu 2026-10-08 10:00 */
    conf_free(conf);

    /* The loader reads the .ics (the calendar gets its text): a missing one is its error. */
    assert_int_equal(conf_load(fixture("ics-missing.conf"), &conf, &errs), -EINVAL);
    char missing[PATH_MAX + 128];
    snprintf(missing, sizeof(missing),
             "calendar 'office': ics '%s/no-such-file.ics': No such file or directory", data_dir);
    assert_error(__LINE__, &errs, fixture("ics-missing.conf"), 3, missing, 1);
    conf_errors_done(&errs);

    assert_int_equal(chdir(cwd), 0);
}

/* ---- @include, expanded by the loader (conf_include.c) ---- */

/* A scratch folder for include trees whose absolute paths a test must know. */
static char inc_dir[64];

static void inc_write(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", inc_dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    (void)mkdir(path, 0700); /* one level of sub-folder is enough here */
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static const char *inc_path(const char *name)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", inc_dir, name);
    return path;
}

static int inc_setup(void **state)
{
    (void)state;
    snprintf(inc_dir, sizeof(inc_dir), "/tmp/slad-test-include.XXXXXX");
    return mkdtemp(inc_dir) ? 0 : -1;
}

static int inc_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", inc_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define INC_CHANNELS "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x\"; } );\n"

static void test_include_relative_absolute_nested(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir("/"), 0);

    /* Absolute: libconfig 1.5 alone would open "<dir>//tmp/...". */
    char text[PATH_MAX + 256];
    inc_write("abs/channels.conf", INC_CHANNELS);
    snprintf(text, sizeof(text), "@include \"%s\" # the channels\n%s",
             inc_path("abs/channels.conf"), CATCHALL);
    inc_write("absolute.conf", text);
    struct conf *conf = load_ok(__LINE__, inc_path("absolute.conf"));
    assert_int_equal(conf->n_channels, 1);
    assert_string_equal(conf->channels[0].name, "log");
    conf_free(conf);

    /* Relative, nested: sub/policies.conf includes "channels.conf" from its own folder. */
    inc_write("sub/channels.conf", INC_CHANNELS);
    inc_write("sub/policies.conf", "  @include \"channels.conf\"\n" CATCHALL);
    inc_write("nested.conf", "# nested\n@include \"sub/policies.conf\"\n");
    conf = load_ok(__LINE__, inc_path("nested.conf"));
    assert_int_equal(conf->n_channels, 1);
    assert_int_equal(conf->n_policies, 1);
    conf_free(conf);

    /* As for libconfig, an @include inside a block comment is no @include. */
    inc_write("commented.conf", "/* not now:\n@include \"no/such.conf\"\n*/\n" CATCHALL
                                "# @include \"no/such.conf\"\n");
    conf_free(load_ok(__LINE__, inc_path("commented.conf")));

    /* The same file twice, not inside itself, is no cycle (libconfig then names the
     * duplicate setting in the second copy). */
    inc_write("twice.conf",
              "@include \"sub/channels.conf\"\n@include \"sub/channels.conf\"\n" CATCHALL);
    struct conf_errors errs;
    assert_int_equal(conf_load(inc_path("twice.conf"), &conf, &errs), -EINVAL);
    assert_null(strstr(errs.text, "cycle"));
    conf_errors_done(&errs);

    assert_int_equal(chdir(cwd), 0);
}

static void test_include_errors_name_their_file(void **state)
{
    struct conf *conf = NULL;
    struct conf_errors errs;
    char path[PATH_MAX];

    /* An error in a nested file names it and its line; one after an @include in the
     * including file names that file and its own line, not the expanded text's. */
    inc_write("err/leaf.conf",
              "# leaf\n\n" INC_CHANNELS "policies = ( { name = \"p\"; match = { };\n"
              "  clocks = ( { name = \"c\"; target = \"3x\"; stop = [\"resolve\"]; } ); } );\n");
    inc_write("err/mid.conf", "@include \"leaf.conf\"\n");
    inc_write("err-main.conf", "# main\n@include \"err/mid.conf\"\n\nbogus_key = 1;\n");
    assert_int_equal(conf_load(inc_path("err-main.conf"), &conf, &errs), -EINVAL);
    snprintf(path, sizeof(path), "%s", inc_path("err/leaf.conf"));
    assert_error(__LINE__, &errs, path, 5, "duration '3x'", 2);
    assert_error(__LINE__, &errs, inc_path("err-main.conf"), 4, "bogus_key", 2);
    conf_errors_done(&errs);

    /* A syntax error inside an included file: libconfig's message, at that file's line. */
    inc_write("syn/broken.conf", INC_CHANNELS "\ncontacts = ( { name = = \"a\"; } );\n");
    inc_write("syn-main.conf", CATCHALL "@include \"syn/broken.conf\"\n");
    assert_int_equal(conf_load(inc_path("syn-main.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, inc_path("syn/broken.conf"), 3, "", 1);
    conf_errors_done(&errs);

    /* A missing file names its path and the @include's file and line. */
    inc_write("missing.conf", CATCHALL "\n@include \"no/such.conf\"\n");
    assert_int_equal(conf_load(inc_path("missing.conf"), &conf, &errs), -EINVAL);
    char needle[PATH_MAX + 128];
    snprintf(needle, sizeof(needle), "@include \"%s/no/such.conf\": cannot open: No such file",
             inc_dir);
    assert_error(__LINE__, &errs, inc_path("missing.conf"), 3, needle, 1);
    conf_errors_done(&errs);

    /* A broken @include line is its own error, not a libconfig syntax error. */
    inc_write("badline.conf", CATCHALL "@include no-quotes.conf\n@include \"x.conf\" y = 1;\n");
    assert_int_equal(conf_load(inc_path("badline.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, inc_path("badline.conf"), 2, "in double quotes", 2);
    assert_error(__LINE__, &errs, inc_path("badline.conf"), 3, "only a comment may follow", 2);
    conf_errors_done(&errs);
}

static void test_include_cycle_and_depth(void **state)
{
    struct conf *conf = NULL;
    struct conf_errors errs;

    /* a includes b includes a: refused at b's @include, nothing parsed. */
    inc_write("cyc/a.conf", CATCHALL "@include \"b.conf\"\n");
    inc_write("cyc/b.conf", "\n@include \"a.conf\"\n");
    assert_int_equal(conf_load(inc_path("cyc/a.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, inc_path("cyc/b.conf"), 2, "an include cycle", 1);
    conf_errors_done(&errs);

    /* A file including itself, named another way. */
    inc_write("cyc/self.conf", "@include \"../cyc/self.conf\"\n");
    assert_int_equal(conf_load(inc_path("cyc/self.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, inc_path("cyc/self.conf"), 1, "an include cycle", 1);
    conf_errors_done(&errs);

    /* Eleven levels of distinct files: bounded like libconfig's own limit of 10. */
    for (int i = 0; i <= 11; i++) {
        char name[32], text[64];
        snprintf(name, sizeof(name), "deep/%d.conf", i);
        snprintf(text, sizeof(text), i < 11 ? "@include \"%d.conf\"\n" : "# %d\n", i + 1);
        inc_write(name, text);
    }
    assert_int_equal(conf_load(inc_path("deep/0.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, inc_path("deep/10.conf"), 1, "nest more than 10 deep", 1);
    conf_errors_done(&errs);
    /* Ten nested @include are fine: 1.conf down to 11.conf. */
    inc_write("deep/1.conf", CATCHALL "@include \"2.conf\"\n");
    conf_free(load_ok(__LINE__, inc_path("deep/1.conf")));
}

static int setup(void **state)
{
    return setup_data_dir(state) == 0 ? inc_setup(state) : -1;
}

static void test_files(void **state)
{
    struct conf *conf = NULL;
    struct conf_errors errs;

    assert_int_equal(conf_load(fixture("missing.conf"), &conf, &errs), -ENOENT);
    assert_non_null(strstr(errs.text, "missing.conf: cannot open: "));
    conf_errors_done(&errs);
    assert_null(errs.text);

    assert_int_equal(conf_load(fixture("syntax.conf"), &conf, &errs), -EINVAL);
    assert_error(__LINE__, &errs, fixture("syntax.conf"), 4, "syntax error", 1);
    conf_errors_done(&errs);

    /* Every error of the file, each at its own line, all in one pass. */
    assert_int_equal(conf_load(fixture("many-errors.conf"), &conf, &errs), -EINVAL);
    const char *f = fixture("many-errors.conf");
    assert_error(__LINE__, &errs, f, 3,
                 "socket_mode in daemon: expected a string such as "
                 "\"0660\", got an integer (660)",
                 6);
    assert_error(__LINE__, &errs, f, 4,
                 "log_level in daemon: unknown value 'verbose' (known: "
                 "debug, info, notice, warning, error)",
                 0);
    assert_error(__LINE__, &errs, f, 7, "missing key 'url' in channel 'hook'", 0);
    assert_error(__LINE__, &errs, f, 10,
                 "calendar in policy 'default': unknown calendar "
                 "'office' (known: 24x7)",
                 0);
    assert_error(__LINE__, &errs, f, 11,
                 "stop in clock 'reply' of policy 'default': unknown "
                 "value 'resolved'",
                 0);
    assert_error(__LINE__, &errs, f, 13, "count in repeat_fault: 1 is out of range 2..1000", 0);
    assert_null(conf);
    conf_errors_done(&errs);
}

/* ---- broken configs, one row each ---- */

static const struct broken {
    int line;          /* of the row, for failure messages */
    const char *text;  /* loaded as "t.conf" */
    int error_line;    /* where the error must point */
    const char *error; /* a key part of its message */
    size_t count;      /* errors expected in all */
} broken[] = {
    {__LINE__,
     "policies = (\n"
     "  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 escalaton = ( ); } ); }\n"
     ");\n",
     4,
     "unknown key 'escalaton' in clock 'response' of policy 'default' (known: name, start, "
     "delay, target, stop, pause, calendar, escalate)",
     1},
    /* A string that is not UTF-8 would fail every notification it reaches, not the load. */
    {__LINE__,
     "contacts = (\n  { name = \"li\"; email = \"a\xff@x.com\"; via = [\"log\"]; } );\n"
     "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/x\"; } );\n" CATCHALL,
     2, "email in contact 'li': not valid UTF-8 (save the file as UTF-8)", 1},
    {__LINE__, "deamon = { };\n" CATCHALL, 1,
     "unknown key 'deamon' in the file (known: daemon, calendars, channels, contacts, "
     "schedules, teams, templates, policies, repeat_fault, intakes)",
     1},
    {__LINE__, "daemon = {\n  max_body = \"1M\";\n};\n" CATCHALL, 2,
     "max_body in daemon: expected an integer, got a string ('1M')", 1},
    {__LINE__, "daemon = {\n  max_connections = 1.5;\n};\n" CATCHALL, 2,
     "max_connections in daemon: expected an integer, got a number (1.5)", 1},
    {__LINE__, "daemon = {\n  max_body = 10000000000L;\n};\n" CATCHALL, 2,
     "max_body in daemon: 10000000000 is out of range 1024..1073741824", 1},
    {__LINE__, "daemon = {\n  idle_timeout = \"0s\";\n};\n" CATCHALL, 2,
     "idle_timeout in daemon: '0s' is out of range 1s..1d", 1},
    {__LINE__, "daemon = {\n  failover_timeout = \"1s\";\n};\n" CATCHALL, 2,
     "failover_timeout in daemon: '1s' is out of range 2s..1h", 1},
    {__LINE__, "daemon = {\n  database = \"postgresql://db 1/slad\";\n};\n" CATCHALL, 2,
     "database: a PostgreSQL URI cannot hold spaces or control characters; percent-encode them", 1},
    {__LINE__, "daemon = {\n  database = \"host=/run/postgresql dbname\";\n};\n" CATCHALL, 2,
     "database: expected KEYWORD=value at character 22 (a libpq conninfo", 1},
    {__LINE__, "daemon = {\n  database = \"host='/run/pg dbname=slad\";\n};\n" CATCHALL, 2,
     "database: the value of 'host' opens a quote it does not close", 1},
    {__LINE__, "daemon = {\n  retention = \"12h\";\n};\n" CATCHALL, 2,
     "retention in daemon: '12h' is out of range 1d..", 1},
    /* The default repeat-fault window is 365 d. */
    {__LINE__, "daemon = {\n  retention = \"30d\";\n};\n" CATCHALL, 2,
     "retention in daemon: 30d is shorter than the repeat-fault window (365d): tickets purged "
     "inside the window would no longer count as earlier faults of their device; set retention "
     "to at least 365d or shorten repeat_fault.window",
     1},
    {__LINE__, "policies = { };\n", 1,
     "policies in the file: expected a list such as ( { ... }, { ... } ), got a group", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; target = \"2x\"; stop = [\"resolve\"]; } ); }\n"
     ");\n",
     3, "target in clock 'response' of policy 'default': duration '2x': unknown unit 'x'", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; stop = [\"resolve\"]; } ); }\n);\n",
     3, "missing key 'target' in clock 'response' of policy 'default'", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    calendar = \"cn-offcie\"; }\n);\n",
     3, "calendar in policy 'default': unknown calendar 'cn-offcie' (known: 24x7)", 1},
    {__LINE__,
     "contacts = (\n  { name = \"li.si\"; phone = \"+8613800000002\";\n"
     "    via = [\"smss\"]; }\n);\n" CATCHALL,
     3, "via in contact 'li.si': unknown channel 'smss'", 1},
    {__LINE__,
     "channels = ( { name = \"sms\"; type = \"sms\"; url = \"http://gw/\"; } );\n"
     "contacts = (\n  { name = \"li.si\"; via = [\"sms\"]; }\n);\n" CATCHALL,
     3, "via in contact 'li.si': channel 'sms' sends SMS, but the contact has no phone", 1},
    {__LINE__, "contacts = (\n  { name = \"li.si\"; phone = \"13800000002\"; }\n);\n" CATCHALL, 2,
     "phone in contact 'li.si': '13800000002' is not an E.164 number", 1},
    {__LINE__, "contacts = ( { name = \"li si\"; } );\n" CATCHALL, 1,
     "name in contact 'li si': 'li si' is not a valid name", 1},
    {__LINE__,
     "contacts = ( { name = \"li.si\"; } );\n"
     "teams = (\n  { name = \"north\";\n"
     "    roles = { supervisor = [\"li.si\", \"li.sii\"]; }; }\n);\n" CATCHALL,
     4, "supervisor in team 'north': unknown contact 'li.sii'", 1},
    {__LINE__, "teams = (\n  { name = \"north\";\n    channel = \"ops\"; }\n);\n" CATCHALL, 3,
     "channel in team 'north': unknown channel 'ops'", 1},
    {__LINE__, "teams = ( { name = \"north\"; roles = { customer = [ ]; }; } );\n" CATCHALL, 1,
     "customer in team 'north': 'customer' is given by the ticket, not by a team", 2},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 escalate = ( { at = \"100%\";\n"
     "                                notify = [\"boss\"]; } ); } ); }\n);\n",
     5,
     "notify in step 1 of clock 'response' of policy 'default': unknown recipient 'boss' "
     "(roles: assignee, customer, supervisor, manager, director; or contact:NAME, channel:NAME, "
     "oncall:SCHEDULE)",
     1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    reminders = ( { before = \"1h\";\n      notify = [\"contact:nobody\", \"channel:x\",\n"
     "                \"customer\"]; } ); }\n);\n",
     4, "notify in reminder #1 of policy 'default': unknown contact 'nobody' in 'contact:nobody'",
     2},
    {__LINE__,
     "calendars = (\n  { name = \"office\";\n    timezone = \"Mars/Olympus\";\n"
     "    hours = { mon = [\"09:00-18:00\"]; }; }\n);\n" CATCHALL,
     2, "calendar 'office': unknown time zone 'Mars/Olympus'", 1},
    {__LINE__,
     "calendars = (\n  { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
     "    hours = {\n      mon = [\"09:00-25:00\"]; }; }\n);\n" CATCHALL,
     4, "mon in hours of calendar 'office': interval '09:00-25:00'", 1},
    {__LINE__,
     "calendars = (\n  { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
     "    hours = { mon = [\"09:00-12:00\",\n                     \"11:00-18:00\"]; }; }\n"
     ");\n" CATCHALL,
     4, "mon in hours of calendar 'office': '11:00-18:00' overlaps or precedes", 1},
    {__LINE__,
     "calendars = (\n  { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
     "    hours = { mon = [\"09:00-18:00\"]; };\n"
     "    holidays = [\"2026-10-01..2026-10-08\"];\n"
     "    workdays = [\"2026-09-27\",\n                \"2026-10-03\"]; }\n);\n" CATCHALL,
     6, "workdays in calendar 'office': '2026-10-03' is also listed in holidays", 1},
    {__LINE__,
     "calendars = (\n  { name = \"office\"; timezone = \"Asia/Shanghai\";\n"
     "    hours = { mon = [\"09:00-18:00\"]; };\n"
     "    holidays = [\"2026-02-30\"]; }\n);\n" CATCHALL,
     4, "holidays in calendar 'office': date '2026-02-30': no such day", 1},
    {__LINE__,
     "calendars = (\n  { name = \"24x7\"; timezone = \"UTC\";\n"
     "    hours = { mon = [\"00:00-24:00\"]; }; }\n);\n" CATCHALL,
     2, "calendar name '24x7' is built in and cannot be redefined", 1},
    {__LINE__,
     "calendars = (\n  { name = \"closed\"; timezone = \"UTC\";\n"
     "    hours = { sat = [ ]; }; }\n);\n" CATCHALL,
     3, "hours in calendar 'closed': no business hours on any day", 1},
    {__LINE__, "policies = (\n  { name = \"city\"; match = { region = [\"city\"]; }; }\n);\n", 1,
     "policies: no catch-all policy; the last policy needs match = { }", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { }; },\n"
     "  { name = \"late\"; match = { severity = 1; }; }\n);\n",
     3,
     "policy 'late' can never be chosen: the catch-all policy before it (line 2) matches every "
     "ticket",
     1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { severity = [1]; }; },\n"
     "  { name = \"default\"; match = { }; }\n);\n",
     3, "duplicate policy name 'default' (first at line 2)", 1},
    {__LINE__,
     "policies = (\n  { name = \"p\"; match = { severity = [1, 7]; }; },\n"
     "  { name = \"default\"; match = { }; }\n);\n",
     2, "severity in match of policy 'p': 7 is out of range 1..5", 1},
    {__LINE__,
     "policies = (\n  { name = \"p\"; match = { severity = [ ]; }; },\n"
     "  { name = \"default\"; match = { }; }\n);\n",
     2, "severity in match of policy 'p': empty list (leave the key out to match any", 1},
    {__LINE__,
     "policies = (\n  { name = \"p\"; match = { team = \"south\"; }; },\n"
     "  { name = \"default\"; match = { }; }\n);\n",
     2, "team in match of policy 'p': unknown team 'south'", 1},
    {__LINE__,
     "policies = (\n  { name = \"p\"; match = { labels = [\"kind\"]; }; },\n"
     "  { name = \"default\"; match = { }; }\n);\n",
     2, "labels in match of policy 'p': expected a group such as { kind = \"emergency\"; }", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 pause = [\"hold\"]; } ); }\n);\n",
     4,
     "pause in clock 'response' of policy 'default': unknown value 'hold' (known: open, "
     "acknowledged, dispatched, on_site, on_hold, resolved)",
     1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"response\"; target = \"2h\";\n"
     "                 stop = [\"resolved\"]; } ); }\n);\n",
     4,
     "stop in clock 'response' of policy 'default': unknown value 'resolved' (known: "
     "acknowledge, dispatch, arrive, hold, resume, resolve, reopen, close, cancel, comment)",
     1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"r\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 start = \"create\"; } ); }\n);\n",
     4, "start in clock 'r' of policy 'default': unknown value 'create' (known: created,", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    followups = ( { name = \"week\"; due_within = \"3wd\";\n"
     "                    from = \"created\"; owner = \"contact:x\"; } ); }\n);\n",
     4, "from in follow-up 'week' of policy 'default': unknown value 'created' (known: create,", 2},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    followups = ( { name = \"week\"; from = \"resolve\"; due_within = \"3wd\";\n"
     "                    owner = \"contact:x\"; } ); }\n);\n",
     4, "owner in follow-up 'week' of policy 'default': 'contact:x' is not a role", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"r\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 escalate = ( { at = \"2h\"; notify = [\"manager\"]; } ); } ); }\n);\n",
     4, "at in step 1 of clock 'r' of policy 'default': '2h' is neither a share of the target", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"r\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; },\n"
     "                              { at = \"50%\"; notify = [\"manager\"]; } ); } ); }\n);\n",
     5, "step 2 of clock 'r' of policy 'default': step at '50%' comes after step at '100%'", 1},
    {__LINE__,
     "policies = (\n  { name = \"default\"; match = { };\n"
     "    clocks = ( { name = \"r\"; target = \"2h\"; stop = [\"resolve\"];\n"
     "                 escalate = ( { at = \"+1h\"; notify = [\"manager\"];\n"
     "                                repeat = \"0s\"; } ); } ); }\n);\n",
     5, "repeat in step 1 of clock 'r' of policy 'default': '0s' is out of range 1s..", 1},
    {__LINE__, "daemon = {\n  tcp = \"127.0.0.1:8470\";\n};\n" CATCHALL, 2,
     "tcp in daemon: a TCP listener needs token_file", 1},
    {__LINE__, "daemon = {\n  tcp = \"127.0.0.1\"; token_file = \"/t\";\n};\n" CATCHALL, 2,
     "tcp in daemon: '127.0.0.1' is not HOST:PORT", 1},
    {__LINE__, "daemon = {\n  socket_mode = \"0999\";\n};\n" CATCHALL, 2,
     "socket_mode in daemon: '0999' is not an octal mode such as \"0660\"", 1},
    {__LINE__, "daemon = {\n  synchronous = \"off\";\n};\n" CATCHALL, 2,
     "synchronous in daemon: unknown value 'off' (known: full, normal)", 1},
    {__LINE__, "daemon = {\n  language = \"fr\";\n};\n" CATCHALL, 2,
     "language in daemon: unknown value 'fr' (known: zh, en)", 1},
    {__LINE__,
     "templates = (\n  { event = \"sla.breach\"; lang = \"en\";\n"
     "    text = \"ticket {{ticket.idd}} breached\"; }\n);\n" CATCHALL,
     3, "text in template #1: unknown placeholder '{{ticket.idd}}' (known: ticket.id, ", 1},
    {__LINE__,
     "templates = (\n  { event = \"sla.breach\"; lang = \"en\";\n"
     "    text = \"ticket {{ticket.id\"; }\n);\n" CATCHALL,
     3, "text in template #1: unterminated placeholder '{{ticket.id'", 1},
    {__LINE__,
     "templates = (\n  { event = \"sla.breached\"; lang = \"de\"; text = \"x\"; }\n);\n" CATCHALL,
     2, "event in template #1: unknown value 'sla.breached' (known: sla.warning, ", 2},
    {__LINE__,
     "templates = (\n  { event = \"sla.breach\"; lang = \"en\"; text = \"a\"; },\n"
     "  { event = \"sla.breach\"; lang = \"en\"; text = \"b\"; }\n);\n" CATCHALL,
     3, "duplicate template for event 'sla.breach' in language 'en' (first at line 2)", 1},
    {__LINE__,
     "channels = (\n  { name = \"tg\"; type = \"telegram\"; url = \"https://t.me/x\"; "
     "}\n);\n" CATCHALL,
     2,
     "type in channel 'tg': unknown value 'telegram' (known: webhook, slack, dingtalk, wecom, "
     "feishu, pagerduty, sms, aliyun_sms, email, file)",
     1},
    {__LINE__, "channels = (\n  { name = \"hook\"; type = \"webhook\"; }\n);\n" CATCHALL, 2,
     "missing key 'url' in channel 'hook' (type 'webhook' needs: url)", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    body = \"{{text}}\"; }\n);\n" CATCHALL,
     3, "body in channel 'hook': does not apply to type 'webhook' (it takes: url secret)", 1},
    {__LINE__,
     "channels = (\n  { name = \"ding\"; type = \"dingtalk\";\n"
     "    url = \"ftp://oapi.dingtalk.com/robot/send?access_token=SECRET\"; }\n);\n" CATCHALL,
     3,
     "url in channel 'ding': 'ftp://oapi.dingtalk.com...' is not a URL with a host and "
     "scheme http https",
     1},
    {__LINE__,
     "channels = (\n  { name = \"mail\"; type = \"email\"; from = \"slad@example.com\";\n"
     "    url = \"https://mail.example.com\"; }\n);\n" CATCHALL,
     3, "is not a URL with a host and scheme smtp smtps", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    rate = \"20/d\"; }\n);\n" CATCHALL,
     3, "rate in channel 'hook': '20/d' is not a rate such as \"20/s\"", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    concurrency = 0; max_attempts = 0; timeout = \"1h\"; }\n);\n" CATCHALL,
     3, "concurrency in channel 'hook': 0 is out of range 1..1024", 3},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    secret = 42; }\n);\n" CATCHALL,
     3, "secret in channel 'hook': expected a string, got an integer", 1},
    {__LINE__,
     "channels = (\n  { name = \"sms\"; type = \"sms\"; url = \"http://h/\";\n"
     "    headers = [\"Content-Type application/json\"]; }\n);\n" CATCHALL,
     3, "headers in channel 'sms': 'Content-Type...' is not a header line", 1},
    /* A body's placeholders are escaped by its Content-Type: none, or one slad cannot
     * escape for, lets a customer's phone field add keys to the gateway's request. */
    {__LINE__,
     "channels = (\n  { name = \"sms\"; type = \"sms\"; url = \"http://h/\";\n"
     "    body = \"{\\\"to\\\":\\\"{{to}}\\\"}\"; }\n);\n" CATCHALL,
     3,
     "body in channel 'sms': a body with placeholders needs a Content-Type header that says "
     "how to escape them: add headers = [\"Content-Type: application/json\"]",
     1},
    {__LINE__,
     "channels = (\n  { name = \"sms\"; type = \"sms\"; url = \"http://h/\";\n"
     "    headers = [\"Content-Type: text/plain\"];\n"
     "    body = \"to={{to}} {{text}}\"; }\n);\n" CATCHALL,
     4, "body in channel 'sms': placeholders cannot be escaped for Content-Type 'text/plain'", 1},
    {__LINE__,
     "channels = (\n  { name = \"sms\"; type = \"sms\"; url = \"http://h/\";\n"
     "    headers = [\"Content-Type: {{text}}\"]; }\n);\n" CATCHALL,
     3, "headers in channel 'sms': the Content-Type line cannot hold placeholders", 1},
    /* Signing keys: 16 bytes at least. */
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    secret = \"whsec_\"; }\n);\n" CATCHALL,
     3, "secret in channel 'hook': the signing key is 0 bytes, at least 16 are needed", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    secret = \"whsec_MfKQ9r8GKYqrTwjUPD8I\"; }\n);\n" CATCHALL,
     3, "secret in channel 'hook': the signing key is 15 bytes, at least 16 are needed", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    secret = \"fifteen-bytes!!\"; }\n);\n" CATCHALL,
     3, "secret in channel 'hook': the signing key is 15 bytes, at least 16 are needed", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    secret = \"whsec_not base64!\"; }\n);\n" CATCHALL,
     3,
     "secret in channel 'hook': the webhook secret starts with 'whsec_' but the rest is not "
     "base64",
     1},
    {__LINE__,
     "channels = (\n  { name = \"d\"; type = \"dingtalk\"; url = \"http://h/\";\n"
     "    secret = \"SEC123\"; }\n);\n" CATCHALL,
     3, "secret in channel 'd': 6 characters is shorter than any signing secret DingTalk issues",
     1},
    {__LINE__,
     "channels = (\n  { name = \"f\"; type = \"feishu\"; url = \"http://h/\";\n"
     "    secret = \"short\"; }\n);\n" CATCHALL,
     3, "secret in channel 'f': 5 characters is shorter than any signing secret Feishu issues", 1},
    /* tls: e-mail on smtp:// only. */
    {__LINE__,
     "channels = (\n  { name = \"mail\"; type = \"email\"; from = \"slad@example.com\";\n"
     "    url = \"smtps://mail.example.com\"; tls = \"none\"; }\n);\n" CATCHALL,
     3, "tls in channel 'mail': does not apply to an smtps:// url", 1},
    {__LINE__,
     "channels = (\n  { name = \"mail\"; type = \"email\"; from = \"slad@example.com\";\n"
     "    url = \"smtp://mail.example.com\"; tls = \"yes\"; }\n);\n" CATCHALL,
     3, "tls in channel 'mail': unknown value 'yes' (known: starttls, none)", 1},
    {__LINE__,
     "channels = (\n  { name = \"hook\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    tls = \"none\"; }\n);\n" CATCHALL,
     3, "tls in channel 'hook': does not apply to type 'webhook'", 1},
    {__LINE__,
     "channels = (\n  { name = \"a\"; type = \"file\"; path = \"a\"; },\n"
     "  { name = \"a\"; type = \"file\"; path = \"b\"; }\n);\n" CATCHALL,
     3, "duplicate channel name 'a' (first at line 2)", 1},
    {__LINE__, "repeat_fault = {\n  count = 1;\n  window = \"1wd\";\n};\n" CATCHALL, 2,
     "count in repeat_fault: 1 is out of range 2..1000", 2},
    {__LINE__, "daemon = {\n  socket = ;\n};\n" CATCHALL, 2, "syntax error", 1},
    {__LINE__, "daemon = { socket = \"/a\";\n  socket = \"/b\"; };\n" CATCHALL, 2,
     "duplicate setting name", 1},
    {__LINE__, CATCHALL "  @include \"/etc/passwd\"\n", 2,
     "@include is not available in a config given as text", 1},
    /* On-call schedules: each layer key checked where it is written. */
    {__LINE__,
     SCHED_CONTACTS "schedules = ( { name = \"ops\"; timezone = \"Europe/Berlin\";\n"
                    "  layers = ( { start = \"2026-03-23T09:00:00\"; rotation = \"1w\";\n"
                    "               contacts = [\"anna\"]; } ); } );\n" CATCHALL,
     4,
     "start in layer #1 of schedule 'ops': '2026-03-23T09:00:00' is not an RFC 3339 time (a time "
     "zone offset, Z or +HH:MM, is required)",
     1},
    {__LINE__,
     SCHED_CONTACTS
     "schedules = ( { name = \"ops\"; timezone = \"Europe/Berlin\";\n"
     "  layers = ( { start = \"2026-03-23T09:00:00Z\";\n"
     "    rotation = \"30m\"; handoff = \"25:00\";\n"
     "    contacts = [\"anna\", \"zed\"]; calendar = \"nights\"; } ); } );\n" CATCHALL,
     5,
     "rotation in layer #1 of schedule 'ops': rotation '30m': must be whole minutes from 1h to 52w",
     4},
    {__LINE__,
     SCHED_CONTACTS
     "schedules = ( { name = \"ops\"; timezone = \"Mars/Olympus\";\n"
     "  layers = ( { start = \"2026-03-23T09:00:00Z\"; rotation = \"1d\";\n"
     "               contacts = [\"anna\"]; } ); } );\n"
     "teams = ( { name = \"t\"; roles = { supervisor = [\"oncall:ops\"]; }; } );\n" CATCHALL,
     3, "schedule 'ops': unknown time zone 'Mars/Olympus' (use an IANA name", 1},
    {__LINE__,
     SCHED_CONTACTS
     "schedules = ( { name = \"ops\"; timezone = \"UTC\"; layers = ( ); } );\n" CATCHALL,
     3, "layers in schedule 'ops': a schedule needs a layer", 1},
    {__LINE__,
     SCHED_CONTACTS "teams = ( { name = \"t\";\n  roles = { supervisor = [\"anna\", "
                    "\"oncall:ops\"]; }; } );\n" CATCHALL,
     4, "supervisor in team 't': unknown schedule 'ops' in 'oncall:ops' (schedules: none)", 1},
    {__LINE__,
     SCHED_CONTACTS "policies = ( { name = \"default\"; match = { };\n"
                    "  clocks = ( { name = \"r\"; target = \"1h\"; stop = [\"resolve\"];\n"
                    "    escalate = ( { at = \"50%\"; notify = [\"oncall:nope\"]; } ); } ); } );\n",
     5,
     "notify in step 1 of clock 'r' of policy 'default': unknown schedule 'nope' in "
     "'oncall:nope' (schedules: none)",
     1},
    /* Quiet hours, storm grouping, urgent events, intakes (issue 14). */
    {__LINE__, "contacts = (\n  { name = \"anna\";\n    hours = \"office\"; } );\n" CATCHALL, 3,
     "hours in contact 'anna': unknown calendar 'office' (known: 24x7)", 1},
    {__LINE__,
     "channels = (\n  { name = \"r\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    group_window = \"500ms\"; } );\n" CATCHALL,
     3, "group_window in channel 'r'", 1},
    {__LINE__,
     "channels = (\n  { name = \"r\"; type = \"webhook\"; url = \"http://h/\";\n"
     "    group_window = \"2h\"; } );\n" CATCHALL,
     3, "group_window in channel 'r': '2h' is out of range 1s..1h", 1},
    {__LINE__,
     "policies = ( { name = \"default\"; match = { };\n"
     "  urgent = [\"sla.breach\", \"sla.bleach\"]; } );\n",
     2, "urgent in policy 'default': unknown value 'sla.bleach'", 1},
    {__LINE__, CATCHALL "intakes = (\n  { name = \"prom\"; type = \"nagios\"; } );\n", 3,
     "type in intake 'prom': unknown value 'nagios' (known: alertmanager, pagerduty)", 1},
    {__LINE__,
     CATCHALL "intakes = (\n  { name = \"prom\"; type = \"alertmanager\";\n"
              "    team = \"nobody\"; } );\n",
     4, "team in intake 'prom': unknown team 'nobody'", 1},
    {__LINE__,
     CATCHALL "intakes = (\n  { name = \"prom\"; type = \"alertmanager\";\n"
              "    severity_map = { critical = 0; page = 1; }; } );\n",
     4, "critical in intake 'prom': 0 is out of range 1..5", 1},
    {__LINE__,
     CATCHALL "intakes = (\n  { name = \"prom\"; type = \"alertmanager\"; },\n"
              "  { name = \"prom\"; type = \"pagerduty\"; } );\n",
     4, "duplicate intake name 'prom' (first at line 3)", 1},
    {__LINE__, CATCHALL "intakes = (\n  { name = \"prométhée\"; type = \"alertmanager\"; } );\n", 3,
     "name in intake 'prométhée': 'prométhée': an intake's name is part of its URL", 1},
    {__LINE__, CATCHALL "intakes = (\n  { type = \"pagerduty\"; } );\n", 3,
     "missing key 'name' in intake #1", 1},
};

static void test_broken(void **state)
{
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        const struct broken *b = &broken[i];
        struct conf *conf = (struct conf *)&conf; /* must stay untouched */
        struct conf_errors errs;
        int r = conf_load_string(b->text, "t.conf", &conf, &errs);
        if (r != -EINVAL)
            fail_msg("line %d: loaded (%d), expected an error", b->line, r);
        assert_ptr_equal(conf, &conf);
        assert_error(b->line, &errs, "t.conf", b->error_line, b->error, b->count);
        /* One error per line of text, each line a "t.conf:N: " line. */
        size_t lines = 0;
        for (const char *p = errs.text; (p = strchr(p, '\n')); p++)
            lines++;
        if (lines != errs.count)
            fail_msg("line %d: %zu lines for %zu errors:\n%s", b->line, lines, errs.count,
                     errs.text);
        conf_errors_done(&errs);
    }
}

/* A PostgreSQL database: a URI with several hosts, a conninfo with a quoted value; the
 * take-over delay of several instances. */
static void test_postgresql_database(void **state)
{
    struct conf *conf = load_string_ok(
        __LINE__, "daemon = {\n  database = \"postgresql://slad@db1:5432,db2:5432/slad"
                  "?target_session_attrs=read-write&connect_timeout=2\";\n"
                  "  failover_timeout = \"30s\";\n};\n" CATCHALL);
    assert_string_equal(conf->daemon.database,
                        "postgresql://slad@db1:5432,db2:5432/slad"
                        "?target_session_attrs=read-write&connect_timeout=2");
    assert_int_equal(conf->daemon.failover_timeout_ms, 30000);
    conf_free(conf);
    conf = load_string_ok(__LINE__, "daemon = {\n  database = \"host=/run/postgresql "
                                    "dbname=slad application_name='slad a'\";\n};\n" CATCHALL);
    assert_string_equal(conf->daemon.database,
                        "host=/run/postgresql dbname=slad application_name='slad a'");
    conf_free(conf);
}

/* Secrets never appear in messages, even when they are what is wrong. */
static void test_secrets_not_quoted(void **state)
{
    struct conf *conf;
    struct conf_errors errs;
    /* A database's password. */
    assert_int_equal(conf_load_string("daemon = {\n  database = \"host=db password=PGSECRET'x"
                                      "\";\n};\n" CATCHALL,
                                      "t.conf", &conf, &errs),
                     -EINVAL);
    assert_null(strstr(errs.text, "PGSECRET"));
    assert_error(__LINE__, &errs, "t.conf", 2, "expected a space after the value of 'password'", 1);
    conf_errors_done(&errs);
    assert_int_equal(
        conf_load_string("daemon = {\n  database = 42;\n};\n" CATCHALL, "t.conf", &conf, &errs),
        -EINVAL);
    conf_errors_done(&errs);

    assert_int_equal(conf_load_string("channels = ( { name = \"d\"; type = \"dingtalk\";\n"
                                      "  url = \"ftp://h/robot?access_token=TOPSECRET\";\n"
                                      "  password = \"\"; } );\n" CATCHALL,
                                      "t.conf", &conf, &errs),
                     -EINVAL);
    assert_null(strstr(errs.text, "TOPSECRET"));
    assert_error(__LINE__, &errs, "t.conf", 3, "password in channel 'd': empty string", 3);
    conf_errors_done(&errs);

    /* URL user info, a header line's value, a body's text after a broken placeholder,
     * a secret too short to take: none is quoted. */
    assert_int_equal(
        conf_load_string("channels = ( { name = \"m\"; type = \"email\"; from = \"a@b.c\";\n"
                         "  url = \"ftp://admin:PASSWORD1@mail.example.com/x\"; },\n"
                         "  { name = \"s\"; type = \"sms\"; url = \"http://h/\";\n"
                         "    headers = [\"Authorization Bearer PASSWORD2\"];\n"
                         "    body = \"{{to PASSWORD3\"; },\n"
                         "  { name = \"h\"; type = \"webhook\"; url = \"http://h/\";\n"
                         "    secret = \"PASSWORD4\"; },\n"
                         "  { name = \"t\"; type = \"sms\"; url = \"http://h/\";\n"
                         "    headers = \"X-Api-Key: PASSWORD5\"; } );\n" CATCHALL,
                         "t.conf", &conf, &errs),
        -EINVAL);
    for (int i = 1; i <= 5; i++) {
        char word[16];
        snprintf(word, sizeof(word), "PASSWORD%d", i);
        if (strstr(errs.text, word))
            fail_msg("%s quoted in:\n%s", word, errs.text);
    }
    assert_error(__LINE__, &errs, "t.conf", 2,
                 "url in channel 'm': 'ftp://***@mail.example.com...' is not a URL", 6);
    assert_error(__LINE__, &errs, "t.conf", 4, "headers in channel 's': 'Authorization...'", 0);
    assert_error(__LINE__, &errs, "t.conf", 5, "unterminated placeholder '{{to'", 0);
    assert_error(__LINE__, &errs, "t.conf", 7, "secret in channel 'h': the signing key is 9", 0);
    assert_error(__LINE__, &errs, "t.conf", 9,
                 "headers in channel 't': expected an array of strings, got a string", 0);
    conf_errors_done(&errs);
}

/* Issue 14: a contact's quiet hours name a calendar (declared after the contacts in the
 * file: sections are read in dependency order), a channel may group storms, a policy may
 * say which events pass quiet hours, and intakes say what alerts become. */
static void test_ops_keys(void **state)
{
    (void)state;
    struct conf *conf = load_string_ok(
        __LINE__,
        "channels = ( { name = \"robot\"; type = \"webhook\"; url = \"http://h/\";\n"
        "               group_window = \"30s\"; },\n"
        "             { name = \"log\"; type = \"file\"; path = \"/tmp/x\"; } );\n"
        "contacts = ( { name = \"anna\"; via = [\"log\"]; hours = \"office\"; },\n"
        "             { name = \"bert\"; via = [\"log\"]; } );\n"
        "teams = ( { name = \"north\"; roles = { supervisor = [\"anna\"]; }; } );\n"
        "calendars = ( { name = \"office\"; timezone = \"Europe/Berlin\";\n"
        "                hours = { mon = [\"09:00-17:00\"]; }; } );\n"
        "policies = ( { name = \"quiet\"; match = { team = [\"north\"]; };\n"
        "               urgent = [\"sla.breach\"]; },\n"
        "             { name = \"none\"; match = { region = [\"x\"]; }; urgent = [ ]; },\n"
        "             { name = \"default\"; match = { }; } );\n"
        "intakes = ( { name = \"prom\"; type = \"alertmanager\"; team = \"north\";\n"
        "              grade = \"A\"; labels = { env = \"prod\"; };\n"
        "              severity_map = { Critical = 1; page = 2; }; default_severity = 4;\n"
        "              token_file = \"/etc/slad/prom.token\"; },\n"
        "            { name = \"pd\"; type = \"pagerduty\"; } );\n");
    assert_int_equal(conf_find_channel(conf, "robot")->group_window_ms, 30000);
    assert_int_equal(conf_find_channel(conf, "log")->group_window_ms, 0);
    assert_ptr_equal(conf_find_contact(conf, "anna")->hours, conf_find_calendar(conf, "office"));
    assert_null(conf_find_contact(conf, "bert")->hours);

    /* Urgent events: the policy's list, an empty list, the default list. */
    assert_true(conf_event_is_urgent(conf, "quiet", "sla.breach"));
    assert_false(conf_event_is_urgent(conf, "quiet", "sla.escalation"));
    assert_false(conf_event_is_urgent(conf, "none", "sla.breach"));
    assert_true(conf_event_is_urgent(conf, "default", "sla.escalation"));
    assert_true(conf_event_is_urgent(conf, "default", "ticket.repeat_fault"));
    assert_false(conf_event_is_urgent(conf, "default", "sla.warning"));
    assert_true(conf_event_is_urgent(conf, NULL, "sla.breach"));
    assert_false(conf_event_is_urgent(conf, NULL, "followup.due"));

    const struct conf_intake *prom = conf_find_intake(conf, "prom");
    assert_non_null(prom);
    assert_int_equal(prom->type, INTAKE_ALERTMANAGER);
    assert_string_equal(prom->team, "north");
    assert_string_equal(prom->grade, "A");
    assert_int_equal(prom->n_labels, 1);
    assert_string_equal(prom->labels[0].key, "env");
    assert_string_equal(prom->labels[0].value, "prod");
    assert_string_equal(prom->token_file, "/etc/slad/prom.token");
    assert_int_equal(conf_intake_severity(prom, "critical"), 1); /* without case */
    assert_int_equal(conf_intake_severity(prom, "PAGE"), 2);
    assert_int_equal(conf_intake_severity(prom, "warning"), 4); /* not in its own map */
    assert_int_equal(conf_intake_severity(prom, NULL), 4);

    /* Without a map: critical 1, error 2, warning 3, info 5, else 3. */
    const struct conf_intake *pd = conf_find_intake(conf, "pd");
    assert_int_equal(pd->type, INTAKE_PAGERDUTY);
    assert_null(pd->team);
    assert_null(pd->token_file);
    assert_int_equal(conf_intake_severity(pd, "critical"), 1);
    assert_int_equal(conf_intake_severity(pd, "error"), 2);
    assert_int_equal(conf_intake_severity(pd, "warning"), 3);
    assert_int_equal(conf_intake_severity(pd, "info"), 5);
    assert_int_equal(conf_intake_severity(pd, "whatever"), 3);
    assert_null(conf_find_intake(conf, "nagios"));
    assert_string_equal(intake_type_name(INTAKE_PAGERDUTY), "pagerduty");
    assert_int_equal(intake_type_from_name("alertmanager"), INTAKE_ALERTMANAGER);
    assert_int_equal(intake_type_from_name("zabbix"), -1);
    conf_free(conf);
}

/* STARTTLS is required on smtp:// when there is a login, unless tls = "none", which loads
 * with a warning; smtps:// is TLS anyway. */
static void test_email_tls(void **state)
{
    static const struct {
        int line;
        const char *keys;
        bool starttls;
        const char *warning; /* NULL: none */
    } cases[] = {
        {__LINE__, "url = \"smtp://127.0.0.1:25\";", false, NULL},
        {__LINE__, "url = \"smtp://m:587\"; username = \"u\"; password = \"p\";", true, NULL},
        {__LINE__, "url = \"smtp://m:587\"; password = \"p\";", true, NULL},
        {__LINE__, "url = \"smtp://m:25\"; tls = \"starttls\";", true, NULL},
        {__LINE__, "url = \"smtps://m:465\"; username = \"u\"; password = \"p\";", false, NULL},
        {__LINE__, "url = \"smtp://m:25\"; tls = \"none\";", false, NULL},
        {__LINE__, "url = \"smtp://m:25\"; username = \"u\"; password = \"p\";\n  tls = \"none\";",
         false,
         "t.conf:3: warning: tls in channel 'mail': \"none\": the SMTP login, password and every "
         "message travel in clear text; use smtps:// or tls = \"starttls\"\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "channels = ( { name = \"mail\"; type = \"email\"; from = \"a@b.c\";\n  %s } "
                 ");\n" CATCHALL,
                 cases[i].keys);
        struct conf *conf = load_string_ok(cases[i].line, text);
        const struct conf_channel *mail = conf_find_channel(conf, "mail");
        if (mail->smtp_starttls != cases[i].starttls)
            fail_msg("line %d: smtp_starttls %d", cases[i].line, mail->smtp_starttls);
        if ((conf->warnings == NULL) != (cases[i].warning == NULL) ||
            (cases[i].warning && strcmp(conf->warnings, cases[i].warning) != 0))
            fail_msg("line %d: warnings %s", cases[i].line,
                     conf->warnings ? conf->warnings : "(none)");
        conf_free(conf);
    }
}

/* Control characters in values cannot split an error over two lines. */
static void test_messages_one_line(void **state)
{
    struct conf *conf;
    struct conf_errors errs;
    assert_int_equal(
        conf_load_string("daemon = { language = \"z\\nh\"; };\n" CATCHALL, "t.conf", &conf, &errs),
        -EINVAL);
    assert_error(__LINE__, &errs, "t.conf", 1, "unknown value 'z\\x0ah'", 1);
    conf_errors_done(&errs);
}

static void test_too_many_errors(void **state)
{
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof(text), "daemon = {\n");
    for (int i = 0; i < CONF_MAX_ERRORS + 10; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "  typo%d = 1;\n", i);
    snprintf(text + o, sizeof(text) - o, "};\n" CATCHALL);

    struct conf *conf;
    struct conf_errors errs;
    assert_int_equal(conf_load_string(text, "t.conf", &conf, &errs), -EINVAL);
    assert_int_equal(errs.count, CONF_MAX_ERRORS + 10);
    assert_error(__LINE__, &errs, "t.conf", 2, "unknown key 'typo0' in daemon", 0);
    assert_error(__LINE__, &errs, "t.conf", CONF_MAX_ERRORS + 1, "unknown key 'typo49'", 0);
    assert_null(strstr(errs.text, "typo50"));
    assert_non_null(strstr(errs.text, "t.conf: too many errors (60), only the first 50 are "
                                      "shown\n"));
    conf_errors_done(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_channel_type_names),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_timezone),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_include_other_cwd),
        cmocka_unit_test(test_include_relative_absolute_nested),
        cmocka_unit_test(test_include_errors_name_their_file),
        cmocka_unit_test(test_include_cycle_and_depth),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_postgresql_database),
        cmocka_unit_test(test_secrets_not_quoted),
        cmocka_unit_test(test_email_tls),
        cmocka_unit_test(test_ops_keys),
        cmocka_unit_test(test_messages_one_line),
        cmocka_unit_test(test_too_many_errors),
    };
    return cmocka_run_group_tests(tests, setup, inc_teardown);
}
