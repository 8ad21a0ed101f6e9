/* test-policy.c - policy match rules (first match wins) and recipient resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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
    "          { name = \"east\"; roles = { supervisor = [\"duty\"]; }; } );\n"
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

static void resolve(const char *team, const char *assignee, const char *phone,
                    const char *const *notify, size_t n_notify, char *out, size_t size)
{
    struct ticket t;
    ticket_init(&t);
    ticket_set_string(&t.team, team);
    ticket_set_string(&t.assignee, assignee);
    ticket_set_string(&t.customer_phone, phone);
    struct conf_strings list = {(char **)notify, n_notify};
    struct recipient r[RECIPIENT_MAX];
    size_t n = 0;
    recipient_resolve(conf, &t, &list, r, RECIPIENT_MAX, &n);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s=%s/%s%s%s", i ? " " : "", r[i].text,
                                r[i].channel ? r[i].channel->name : "-",
                                r[i].address ? r[i].address : "-", r[i].error[0] ? "!" : "",
                                r[i].error);
    ticket_done(&t);
}

static void test_recipients(void **state)
{
    (void)state;
    char out[1024];
    const char *roles[] = {"assignee", "supervisor", "manager"};
    resolve("north", "tech", NULL, roles, 3, out, sizeof(out));
    /* A role may hold several contacts; the team's group channel is added once. */
    assert_string_equal(out, "assignee=sms/+8613800000001 supervisor=mail/boss@example.com "
                             "manager=sms/+8613800000001 manager=mail/boss@example.com "
                             "channel:group=group/-");
    const char *direct[] = {"contact:boss", "channel:group", "customer"};
    resolve("north", NULL, "+8613900000000", direct, 3, out, sizeof(out));
    assert_string_equal(out, "contact:boss=mail/boss@example.com channel:group=group/- "
                             "customer=sms/+8613900000000");
    const char *broken[] = {"assignee", "supervisor", "manager", "customer"};
    resolve("south", NULL, NULL, broken, 4, out, sizeof(out));
    assert_string_equal(out, "assignee=-/-!the ticket has no assignee "
                             "supervisor=sms/+8613800000001 manager=-/-!team 'south' has no "
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
    resolve("east", NULL, NULL, notify, 2, out, sizeof(out));
    assert_string_equal(out, "supervisor=sms/+8613800000009 supervisor=mail/duty@example.com "
                             "contact:duty=sms/+8613800000009 contact:duty=mail/duty@example.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_recipients),
        cmocka_unit_test(test_contact_every_channel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
