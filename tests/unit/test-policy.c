/* test-policy.c - policy match rules (first match wins) and recipient resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "recipient.h"
#include "conf_load.h"

static const char *config_text =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"sms\"]; },\n"
    "             { name = \"boss\"; email = \"boss@example.com\"; via = [\"mail\"]; },\n"
    "             { name = \"duty\"; phone = \"+8613800000009\"; email = \"duty@example.com\";\n"
    "               via = [\"sms\", \"mail\"]; } );\n"
    "teams = ( { name = \"north\"; channel = \"group\";\n"
    "            roles = { supervisor = [\"boss\"]; manager = [\"tech\", \"boss\"]; }; },\n"
    "          { name = \"south\"; roles = { supervisor = [\"tech\"]; }; },\n"
    "          { name = \"west\"; roles = { supervisor = [\"duty\"]; }; },\n"
    "          { name = \"east\"; roles = { supervisor = [\"oncall:duty\"]; }; } );\n"
    "schedules = ( { name = \"duty\"; timezone = \"UTC\";\n"
    "  layers = ( { start = \"2026-03-02T09:00:00Z\"; rotation = \"1d\";\n"
    "               contacts = [\"tech\", \"boss\"]; } ); },\n"
    "  { name = \"empty\"; timezone = \"UTC\";\n"
    "  layers = ( { start = \"2030-01-01T00:00:00Z\"; rotation = \"1d\";\n"
    "               contacts = [\"tech\"]; } ); } );\n"
    "channels = ( { name = \"sms\"; type = \"sms\"; url = \"http://127.0.0.1:9/s\";\n"
    "               method = \"POST\"; },\n"
    "             { name = \"mail\"; type = \"email\"; url = \"smtp://127.0.0.1:25\";\n"
    "               from = \"slad@example.com\"; },\n"
    "             { name = \"group\"; type = \"webhook\"; url = \"http://127.0.0.1:9/h\"; } );\n"
    "policies = (\n"
    "  { name = \"vip-emergency\"; match = { grade = [\"A\"]; labels = { kind = [\"emergency\",\n"
    "      \"outage\"]; }; }; calendar = \"24x7\"; },\n"
    "  { name = \"critical-city\"; match = { severity = [1, 2]; region = [\"city\"]; };\n"
    "    calendar = \"24x7\"; },\n"
    "  { name = \"hotline\"; match = { source = [\"hotline\"]; team = [\"north\"]; };\n"
    "    calendar = \"24x7\"; },\n"
    "  { name = \"default\"; match = { }; calendar = \"24x7\"; }\n"
    ");\n";

static struct conf *conf;

static int setup(void **state)
{
    (void)state;
    struct conf_errors errs = {0};
    if (conf_load_string(config_text, "policy.conf", &conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text);
        conf_errors_done(&errs);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    conf_free(conf);
    return 0;
}

static const struct {
    int line;
    int severity;
    const char *grade, *region, *team, *source, *kind;
    const char *want;
} match_cases[] = {
    {__LINE__, 1, NULL, "city", NULL, NULL, NULL, "critical-city"},
    {__LINE__, 2, NULL, "city", NULL, NULL, NULL, "critical-city"},
    {__LINE__, 3, NULL, "city", NULL, NULL, NULL, "default"},
    {__LINE__, 1, NULL, "county", NULL, NULL, NULL, "default"},
    {__LINE__, 1, NULL, NULL, NULL, NULL, NULL, "default"}, /* a rule on a missing field */
    {__LINE__, 1, "A", "city", NULL, NULL, "outage", "vip-emergency"}, /* first match wins */
    {__LINE__, 3, "A", NULL, NULL, NULL, "emergency", "vip-emergency"},
    {__LINE__, 3, "B", NULL, NULL, NULL, "emergency", "default"},
    {__LINE__, 3, "A", NULL, NULL, NULL, "complaint", "default"},
    {__LINE__, 3, "A", NULL, NULL, NULL, NULL, "default"},
    {__LINE__, 3, NULL, NULL, "north", "hotline", NULL, "hotline"},
    {__LINE__, 3, NULL, NULL, "south", "hotline", NULL, "default"},
    {__LINE__, 3, NULL, NULL, "north", "crm", NULL, "default"},
};

static void test_first_match_wins(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        struct ticket t;
        ticket_init(&t);
        t.severity = match_cases[i].severity;
        ticket_set_string(&t.grade, match_cases[i].grade);
        ticket_set_string(&t.region, match_cases[i].region);
        ticket_set_string(&t.team, match_cases[i].team);
        ticket_set_string(&t.source, match_cases[i].source);
        if (match_cases[i].kind)
            ticket_set_label(&t, "kind", match_cases[i].kind);
        const struct conf_policy *p = policy_choose(conf, &t);
        if (!p || strcmp(p->name, match_cases[i].want) != 0)
            fail_msg("line %d: chose %s, want %s", match_cases[i].line, p ? p->name : "none",
                     match_cases[i].want);
        ticket_done(&t);
    }
}

static void resolve_oncall(const char *team, const char *assignee, const char *phone,
                           const char *const *notify, size_t n_notify,
                           const struct recipient_oncall *oncall, char *out, size_t size)
{
    struct ticket t;
    ticket_init(&t);
    ticket_set_string(&t.team, team);
    ticket_set_string(&t.assignee, assignee);
    ticket_set_string(&t.customer_phone, phone);
    struct conf_strings list = {(char **)notify, n_notify};
    struct recipient r[RECIPIENT_MAX];
    size_t n = 0;
    recipient_resolve(conf, &t, &list, oncall, r, RECIPIENT_MAX, &n);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(
            out + len, size - len, "%s%s%s%s=%s/%s%s%s", i ? " " : "", r[i].text,
            r[i].contact ? ">" : "", r[i].contact ? r[i].contact->name : "",
            r[i].channel ? r[i].channel->name : "-", r[i].address ? r[i].address : "-",
            r[i].error[0] ? "!" : "", r[i].error);
    ticket_done(&t);
}

static void resolve(const char *team, const char *assignee, const char *phone,
                    const char *const *notify, size_t n_notify, char *out, size_t size)
{
    resolve_oncall(team, assignee, phone, notify, n_notify, &(struct recipient_oncall){0, NULL, 0},
                   out, size);
}

static void test_recipients(void **state)
{
    (void)state;
    char out[1024];
    const char *roles[] = {"assignee", "supervisor", "manager"};
    resolve("north", "tech", NULL, roles, 3, out, sizeof(out));
    /* A role may hold several contacts; the team's group channel is added once. */
    assert_string_equal(out,
                        "assignee>tech=sms/+8613800000001 supervisor>boss=mail/boss@example.com "
                        "manager>tech=sms/+8613800000001 manager>boss=mail/boss@example.com "
                        "channel:group=group/-");
    const char *direct[] = {"contact:boss", "channel:group", "customer"};
    resolve("north", NULL, "+8613900000000", direct, 3, out, sizeof(out));
    assert_string_equal(out, "contact:boss>boss=mail/boss@example.com channel:group=group/- "
                             "customer=sms/+8613900000000");
    const char *broken[] = {"assignee", "supervisor", "manager", "customer"};
    resolve("south", NULL, NULL, broken, 4, out, sizeof(out));
    assert_string_equal(out, "assignee=-/-!the ticket has no assignee "
                             "supervisor>tech=sms/+8613800000001 manager=-/-!team 'south' has no "
                             "'manager' "
                             "customer=-/-!the ticket has no customer phone");
    resolve(NULL, "nobody", NULL, roles, 2, out, sizeof(out));
    assert_string_equal(out, "assignee=-/-!'nobody' is not a contact of the config "
                             "supervisor=-/-!the ticket has no team to find its 'supervisor'");
}

/* A contact is reached on every channel of its `via`, each its own entry: one dead
 * gateway does not lose the escalation. */
static void test_contact_every_channel(void **state)
{
    (void)state;
    char out[1024];
    const char *notify[] = {"supervisor", "contact:duty"};
    resolve("west", NULL, NULL, notify, 2, out, sizeof(out));
    assert_string_equal(
        out, "supervisor>duty=sms/+8613800000009 supervisor>duty=mail/duty@example.com "
             "contact:duty>duty=sms/+8613800000009 contact:duty>duty=mail/duty@example.com");
}

#define DAY_MS   INT64_C(86400000)
#define MAR2_9AM INT64_C(1772442000000) /* 2026-03-02T09:00:00Z, the rota's start */

/* oncall:duty, in a step or in a role, is whoever is on call at the instant given: the rota
 * (tech, then boss the next day), an override over it, or nobody (an error naming the
 * schedule and the instant). */
static void test_recipients_oncall(void **state)
{
    (void)state;
    struct schedule_override ov = {.id = 1,
                                   .schedule = "duty",
                                   .contact = "boss",
                                   .from_ms = MAR2_9AM + 3600000,
                                   .to_ms = MAR2_9AM + 7200000};
    static const struct {
        int line;
        const char *team, *notify;
        int64_t at_ms;
        bool with_override;
        const char *want;
    } cases[] = {
        {__LINE__, NULL, "oncall:duty", MAR2_9AM, false, "oncall:duty>tech=sms/+8613800000001"},
        {__LINE__, NULL, "oncall:duty", MAR2_9AM + DAY_MS - 1, false,
         "oncall:duty>tech=sms/+8613800000001"},
        {__LINE__, NULL, "oncall:duty", MAR2_9AM + DAY_MS, false,
         "oncall:duty>boss=mail/boss@example.com"},
        {__LINE__, NULL, "oncall:duty", MAR2_9AM + 2 * DAY_MS, false,
         "oncall:duty>tech=sms/+8613800000001"},
        {__LINE__, "east", "supervisor", MAR2_9AM + DAY_MS, false,
         "supervisor>boss=mail/boss@example.com"},
        /* The override holds [10:00, 11:00): boss instead of tech, and only then. */
        {__LINE__, "east", "supervisor", MAR2_9AM + 3600000, true,
         "supervisor>boss=mail/boss@example.com"},
        {__LINE__, NULL, "oncall:duty", MAR2_9AM + 7200000, true,
         "oncall:duty>tech=sms/+8613800000001"},
        {__LINE__, NULL, "oncall:duty", MAR2_9AM + 3600000, false,
         "oncall:duty>tech=sms/+8613800000001"},
        {__LINE__, NULL, "oncall:empty", MAR2_9AM, false,
         "oncall:empty=-/-!nobody is on call in schedule 'empty' at 2026-03-02T09:00:00Z"},
        {__LINE__, "east", "supervisor", MAR2_9AM - 1, false,
         "supervisor=-/-!nobody is on call in schedule 'duty' at 2026-03-02T08:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[512];
        const char *notify[] = {cases[i].notify};
        struct ticket t;
        ticket_init(&t);
        ticket_set_string(&t.team, cases[i].team);
        struct conf_strings list = {(char **)notify, 1};
        assert_true(recipient_needs_oncall(conf, &t, &list));
        ticket_done(&t);
        struct recipient_oncall oncall = {cases[i].at_ms, cases[i].with_override ? &ov : NULL,
                                          cases[i].with_override ? 1 : 0};
        resolve_oncall(cases[i].team, NULL, NULL, notify, 1, &oncall, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("line %d: got '%s', want '%s'", cases[i].line, out, cases[i].want);
    }
}

/* Only a list that names a schedule, directly or through a role of the ticket's team,
 * needs the overrides. */
static void test_needs_oncall(void **state)
{
    (void)state;
    static const struct {
        const char *team, *notify;
        bool want;
    } cases[] = {
        {NULL, "oncall:duty", true},    {"east", "supervisor", true},
        {"north", "supervisor", false}, {NULL, "supervisor", false},
        {"east", "manager", false},     {"east", "contact:boss", false},
        {"nope", "supervisor", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ticket t;
        ticket_init(&t);
        ticket_set_string(&t.team, cases[i].team);
        const char *notify[] = {"assignee", cases[i].notify};
        struct conf_strings list = {(char **)notify, 2};
        if (recipient_needs_oncall(conf, &t, &list) != cases[i].want)
            fail_msg("case %zu: %s of %s", i, cases[i].notify, cases[i].team ? cases[i].team : "-");
        ticket_done(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_wins),      cmocka_unit_test(test_recipients),
        cmocka_unit_test(test_contact_every_channel), cmocka_unit_test(test_recipients_oncall),
        cmocka_unit_test(test_needs_oncall),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
