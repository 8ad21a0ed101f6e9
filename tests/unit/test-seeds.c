/* test-seeds.c - the seed promises of shared/seed-policies.md (P1-P17 that concern clocks,
 * ladders, reminders, follow-ups and repeat faults) enforced by the shipped conf/slad.conf,
 * each as a simulated timeline asserted to the second. */
#include "simcase.h"
#include "conf_load.h"

static struct conf *shipped;

/* Load conf/slad.conf as it is: its .ics is named relative to its folder, so it loads
 * from a clone as from /etc/slad. */
static int load_shipped(void **state)
{
    (void)state;
    const char *dir = getenv("SLAD_CONF_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/slad.conf", dir ? dir : "conf");
    struct conf_errors errs = {0};
    if (conf_load(path, &shipped, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return -1;
    }
    return 0;
}

static int free_shipped(void **state)
{
    (void)state;
    conf_free(shipped);
    return 0;
}

static const struct sim_case cases[] = {
    {__LINE__, "P1 critical city: answered, on site, fixed in time; spare parts late",
     .severity = 1, .region = "city", .reported = "2026-03-02T08:00:00Z",
     .horizon = "2026-03-04T00:00:00Z", .policy = "critical-city",
     .events = {{"acknowledge", "2026-03-02T08:20:00Z"},
                {"dispatch", "2026-03-02T08:40:00Z", "zhang.san"},
                {"arrive", "2026-03-02T09:50:00Z"},
                {"resolve", "2026-03-02T20:00:00Z"}},
     .want = {{"2026-03-02T13:50:00Z", "sla.breach", "spare_parts", 1, 0, "wang.wu"},
              {"2026-03-02T20:00:00Z", "followup.due", "callback", 0, 0, "zhang.san"},
              {"2026-03-03T20:00:00Z", "followup.overdue", "callback", 1, 0, "li.si"}},
     .clocks = "response=met arrange=met arrival=met spare_parts=missed resolution=met "
               "backup_unit=met"},
    {__LINE__, "P1 + P11 critical city: nobody acts, the ladder climbs to the director",
     .severity = 1, .region = "city", .reported = "2026-03-02T08:00:00Z",
     .horizon = "2026-03-02T13:00:00Z",
     .want = {{"2026-03-02T08:30:00Z", "sla.warning", "response", 1, 0, "zhang.san"},
              {"2026-03-02T09:00:00Z", "sla.breach", "response", 2, 0, "li.si"},
              {"2026-03-02T10:00:00Z", "sla.escalation", "response", 3, 0, "wang.wu"},
              {"2026-03-02T10:00:00Z", "sla.breach", "arrange", 1, 0, "li.si"},
              {"2026-03-02T10:00:00Z", "sla.breach", "arrival", 1, 0, "li.si,wang.wu"},
              {"2026-03-02T11:00:00Z", "sla.escalation", "response", 3, 1, "wang.wu"},
              {"2026-03-02T12:00:00Z", "sla.escalation", "response", 3, 2, "wang.wu"},
              {"2026-03-02T12:00:00Z", "sla.escalation", "arrange", 2, 0, "zhao.liu"},
              {"2026-03-02T13:00:00Z", "sla.escalation", "response", 3, 3, "wang.wu"}},
     .clocks = "response=breached arrange=breached arrival=breached spare_parts=pending "
               "resolution=running backup_unit=pending"},
    {__LINE__, "P2 + P5 not fixed 8 h into the repair: backup unit due 48 h later", .severity = 1,
     .region = "city", .reported = "2026-03-02T08:00:00Z", .horizon = "2026-03-05T00:00:00Z",
     .events = {{"acknowledge", "2026-03-02T08:10:00Z"},
                {"dispatch", "2026-03-02T08:15:00Z", "zhang.san"},
                {"arrive", "2026-03-02T09:00:00Z"}},
     .want = {{"2026-03-02T13:00:00Z", "sla.breach", "spare_parts", 1, 0, "wang.wu"},
              {"2026-03-03T02:00:00Z", "sla.warning", "resolution", 1, 0, "li.si"},
              {"2026-03-03T08:00:00Z", "sla.breach", "resolution", 2, 0, "wang.wu"},
              {"2026-03-03T12:00:00Z", "sla.escalation", "resolution", 3, 0, "zhao.liu"},
              {"2026-03-04T17:00:00Z", "sla.breach", "backup_unit", 1, 0, "wang.wu"}},
     .clocks = "response=met arrange=met arrival=met spare_parts=breached "
               "resolution=breached backup_unit=breached"},
    {__LINE__, "P2 on hold: the resolution clock stops counting while waiting for parts",
     .severity = 1, .region = "city", .reported = "2026-03-02T00:00:00Z",
     .horizon = "2026-03-03T12:00:00Z",
     .events = {{"acknowledge", "2026-03-02T00:10:00Z"},
                {"dispatch", "2026-03-02T00:20:00Z", "zhang.san"},
                {"arrive", "2026-03-02T01:00:00Z"},
                {"hold", "2026-03-02T02:00:00Z"},
                {"resume", "2026-03-02T12:00:00Z"}},
     .want = {{"2026-03-02T05:00:00Z", "sla.breach", "spare_parts", 1, 0, "wang.wu"},
              {"2026-03-03T04:00:00Z", "sla.warning", "resolution", 1, 0, "li.si"},
              {"2026-03-03T10:00:00Z", "sla.breach", "resolution", 2, 0, "wang.wu"}},
     .clocks = "response=met arrange=met arrival=met spare_parts=breached "
               "resolution=breached backup_unit=running"},
    {__LINE__, "P3 + P6 level-2 fault: respond 1 h, on site 24 h, fixed within 36 h", .severity = 2,
     .region = "county", .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-03T13:00:00Z",
     .policy = "major",
     .events = {{"acknowledge", "2026-03-02T00:30:00Z"}, {"arrive", "2026-03-02T20:00:00Z"}},
     .want = {{"2026-03-03T03:00:00Z", "sla.warning", "resolution", 1, 0, "li.si"},
              {"2026-03-03T12:00:00Z", "sla.breach", "resolution", 2, 0, "wang.wu"}},
     .clocks = "response=met arrival=met resolution=breached"},
    {__LINE__, "P4 grade C: reply within 30 min; resolution in 3 working days", .grade = "C",
     .reported = "2026-03-02T01:00:00Z", .horizon = "2026-03-06T00:00:00Z", .policy = "grade-c",
     .want = {{"2026-03-02T01:30:00Z", "sla.breach", "reply", 1, 0, "li.si"},
              {"2026-03-05T10:00:00Z", "sla.breach", "resolution", 1, 0, "li.si"}},
     .clocks = "reply=breached resolution=breached"},
    {__LINE__, "P4 + P7 grade A: reply 10 min, on site within 12 h (late here)", .grade = "A",
     .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-07T00:00:00Z", .policy = "grade-ab",
     .events = {{"acknowledge", "2026-03-02T00:05:00Z"},
                {"arrive", "2026-03-02T13:00:00Z"},
                {"resolve", "2026-03-02T20:00:00Z"}},
     .want = {{"2026-03-02T12:00:00Z", "sla.breach", "arrival", 1, 0, "li.si"},
              {"2026-03-02T20:00:00Z", "followup.due", "repair-visit", 0, 0, "zhang.san"},
              /* No escalate of its own: the default ladder, the supervisor at the deadline:
               * resolved Tuesday 04:00 in Beijing, 3wd close Friday 24:00 there (16:00Z; the
               * shipped config's daemon.timezone). */
              {"2026-03-06T16:00:00Z", "followup.overdue", "repair-visit", 1, 0, "li.si"}},
     .clocks = "reply=met response=met arrival=missed resolution=met"},
    {__LINE__, "P8 county: reply 2 h, on site within 48 h", .region = "county",
     .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-05T00:00:00Z",
     .policy = "onsite-county",
     .want = {{"2026-03-02T02:00:00Z", "sla.breach", "reply", 1, 0, "li.si"},
              {"2026-03-04T00:00:00Z", "sla.breach", "arrival", 1, 0, "li.si"}},
     .clocks = "reply=breached arrival=breached"},
    {__LINE__, "P8 remote: on site within 3 days", .region = "remote",
     .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-06T00:00:00Z",
     .events = {{"acknowledge", "2026-03-02T01:00:00Z"}},
     .want = {{"2026-03-05T00:00:00Z", "sla.breach", "arrival", 1, 0, "li.si"}},
     .clocks = "reply=met arrival=breached"},
    {__LINE__, "P8 city: on site within 24 h", .region = "city", .severity = 3,
     .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-06T00:00:00Z", .policy = "onsite-city",
     .events = {{"acknowledge", "2026-03-02T01:00:00Z"}, {"arrive", "2026-03-02T23:00:00Z"}},
     .clocks = "reply=met arrival=met"},
    {__LINE__, "P9 emergency: on site within 30 min, re-escalated every 30 min", .severity = 2,
     .label_key = "kind", .label_value = "emergency", .reported = "2026-03-02T22:00:00Z",
     .horizon = "2026-03-02T23:30:00Z", .policy = "emergency",
     .want = {{"2026-03-02T22:15:00Z", "sla.warning", "arrival", 1, 0, "zhang.san"},
              {"2026-03-02T22:30:00Z", "sla.breach", "arrival", 2, 0, "li.si,wang.wu"},
              {"2026-03-02T23:00:00Z", "sla.escalation", "arrival", 3, 0, "zhao.liu"},
              {"2026-03-02T23:30:00Z", "sla.escalation", "arrival", 3, 1, "zhao.liu"}},
     .clocks = "arrival=breached resolution=running"},
    {__LINE__, "P10 hotline: call back in 5 min, phone fix in 4 h or the supervisor knows",
     .source = "hotline", .reported = "2026-03-02T10:00:00Z", .horizon = "2026-03-02T15:00:00Z",
     .policy = "hotline", .events = {{"acknowledge", "2026-03-02T10:08:00Z"}},
     .want = {{"2026-03-02T10:05:00Z", "sla.breach", "callback", 1, 0, "li.si"},
              {"2026-03-02T14:00:00Z", "sla.breach", "phone_fix", 1, 0, "li.si"}},
     .clocks = "callback=missed response=met phone_fix=breached resolution=running"},
    {__LINE__, "P12 third repair of the same fault: replacement decision to the manager",
     .reported = "2026-03-02T01:00:00Z", .horizon = "2026-03-02T01:00:00Z", .repeat_count = 3,
     .policy = "default",
     .want = {{"2026-03-02T01:00:00Z", "ticket.repeat_fault", NULL, 0, 0, "wang.wu"}},
     .clocks = "response=running resolution=running"},
    {__LINE__, "P13 visit at 12:00: technician 2 h and 1 h before, customer by SMS", .severity = 1,
     .region = "city", .reported = "2026-03-02T08:00:00Z", .appointment = "2026-03-02T12:00:00Z",
     .horizon = "2026-03-02T12:30:00Z",
     .events = {{"acknowledge", "2026-03-02T08:05:00Z"},
                {"dispatch", "2026-03-02T08:10:00Z", "zhang.san"},
                {"arrive", "2026-03-02T11:55:00Z"}},
     .want = {{"2026-03-02T10:00:00Z", "sla.breach", "arrival", 1, 0, "li.si,wang.wu"},
              {"2026-03-02T10:00:00Z", "appointment.reminder", NULL, 1, 0,
               "zhang.san,customer:+8613900000000"},
              {"2026-03-02T11:00:00Z", "appointment.reminder", NULL, 2, 0, "zhang.san"}},
     .clocks = "response=met arrange=met arrival=missed spare_parts=running "
               "resolution=running backup_unit=pending"},
    {__LINE__, "P14 + P16 follow-ups in working days: report, repair visit, week",
     .reported = "2026-03-02T01:00:00Z", .horizon = "2026-03-20T00:00:00Z", .policy = "default",
     .events = {{"acknowledge", "2026-03-02T01:30:00Z"},
                {"arrive", "2026-03-02T02:00:00Z"},
                {"resolve", "2026-03-03T06:00:00Z"}},
     .want = {{"2026-03-02T02:00:00Z", "followup.due", "report", 0, 0, "zhang.san"},
              {"2026-03-03T06:00:00Z", "followup.due", "repair-visit", 0, 0, "zhang.san"},
              {"2026-03-06T10:00:00Z", "followup.overdue", "repair-visit", 1, 0, "li.si"},
              {"2026-03-09T10:00:00Z", "followup.overdue", "report", 1, 0, "li.si"},
              {"2026-03-10T06:00:00Z", "followup.due", "week", 0, 0, "zhang.san"},
              {"2026-03-10T10:00:00Z", "followup.overdue", "repair-visit", 2, 0, "wang.wu"},
              /* "week" has no escalate: the default ladder tells the supervisor at its
               * deadline, the close of the 3rd working day after its due day. */
              {"2026-03-13T10:00:00Z", "followup.overdue", "week", 1, 0, "li.si"}},
     .clocks = "response=met resolution=met"},
    {__LINE__, "P15 + P20 complaint: answered within 24 h or supervision and the head know",
     .team = "supervision", .label_key = "kind", .label_value = "complaint",
     .reported = "2026-03-02T00:00:00Z", .horizon = "2026-03-03T05:00:00Z", .policy = "complaint",
     .want = {{"2026-03-02T18:00:00Z", "sla.warning", "reply", 1, 0, "zhang.san"},
              {"2026-03-03T00:00:00Z", "sla.breach", "reply", 2, 0, "qian.qi"},
              {"2026-03-03T04:00:00Z", "sla.escalation", "reply", 3, 0, "zhao.liu"}},
     .clocks = "reply=breached resolution=running"},
    {__LINE__, "P17 out of warranty: a quote within 1 working day", .label_key = "warranty",
     .label_value = "out", .reported = "2026-03-02T01:00:00Z", .horizon = "2026-03-10T00:00:00Z",
     .policy = "out-of-warranty",
     .want = {{"2026-03-03T10:00:00Z", "sla.breach", "quote", 1, 0, "li.si"},
              {"2026-03-09T10:00:00Z", "sla.breach", "resolution", 1, 0, "li.si"}},
     .clocks = "quote=breached resolution=breached"},
};

static void test_seed_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        sim_run_case(shipped, &cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_cases),
    };
    return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
