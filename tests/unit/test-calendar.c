/* test-calendar.c - business calendars: parsing, construction errors, hand-checked
 * deadlines (weekends, lunch breaks, holidays, make-up days, both 2026 DST changes in New
 * York and Berlin, skipped and repeated hours), working-day closes, .ics import, the zone
 * offsets against glibc's own reading of the tz database, and seeded property tests.
 *
 * Instants are written as RFC 3339 text in the tables, so each case reads as the local
 * wall-clock times it is about; the comment says why the answer is what it is.
 * SLAD_TEST_DATA names the folder of the .ics fixtures (meson sets it); SLAD_TEST_SEED and
 * SLAD_TEST_ITERATIONS change the property tests. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"

#define S     INT64_C(1000)
#define M     (60 * S)
#define H     (60 * M)
#define D     (24 * H)
#define NEVER INT64_MAX

/* ---- Instants as text ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "2026-09-21T10:00:00+08:00", "...00.001Z": milliseconds since the epoch. */
static int64_t t(const char *text)
{
    int y, mo, d, h, mi, s, n = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
        fail_msg("bad RFC 3339 instant in the test: '%s'", text);
    const char *p = text + n;
    int64_t ms = 0;
    if (*p == '.') {
        if (sscanf(p + 1, "%3" SCNd64, &ms) != 1 || strlen(p) < 4)
            fail_msg("bad fraction in '%s'", text);
        p += 4;
    }
    int64_t off_s = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6)
            fail_msg("bad offset in '%s'", text);
        off_s = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else if (strcmp(p, "Z") != 0) {
        fail_msg("bad zone in '%s'", text);
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off_s;
    return secs * 1000 + ms;
}

/* An instant as RFC 3339 UTC, for failure messages. */
static const char *fmt(int64_t ms, char buf[64])
{
    if (ms == NEVER)
        return "NEVER";
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
    return buf;
}

/* ---- The calendars under test ---- */

enum cal_id {
    CN,         /* cn-office of slad.conf.example: Asia/Shanghai, 09-12 + 13-18, Oct holiday */
    CN_ICS,     /* the same hours, holidays and make-up days from data/holidays-test.ics */
    NY,         /* America/New_York, Mon-Fri 09:00-17:00 */
    NY_ALLDAY,  /* America/New_York, every day 00:00-24:00, closed 2026-12-25 */
    NY_NIGHT,   /* America/New_York, every day 01:30-03:30: the changed hour each time */
    NY_GAP,     /* America/New_York, Sundays 02:00-02:45 and 03:00-04:00 */
    BER,        /* Europe/Berlin, Mon-Fri 09:00-17:00 */
    BER_ALLDAY, /* Europe/Berlin, every day 00:00-24:00, closed 2030-12-25 */
    BER_PURE,   /* Europe/Berlin, every day 00:00-24:00: the pure-arithmetic path */
    LH,         /* Australia/Lord_Howe (30-minute DST), weekdays and Sunday 01:00-03:00 */
    EMPTY,      /* no hours at all */
    SPARSE15,   /* Mondays 09:00-10:00, holidays 2026..2040 */
    SPARSE21,   /* Mondays 09:00-10:00, holidays 2026..2046: beyond the 20-year search */
    BER_NIGHTS, /* Europe/Berlin, every day 00:00-08:00 and 20:00-24:00 */
    C24,        /* the built-in 24x7 */
    N_CALS
};

static const char *const cal_names[N_CALS] = {
    "CN",       "CN_ICS", "NY",    "NY_ALLDAY", "NY_NIGHT", "NY_GAP",     "BER", "BER_ALLDAY",
    "BER_PURE", "LH",     "EMPTY", "SPARSE15",  "SPARSE21", "BER_NIGHTS", "C24",
};

static const char *const office_cn[] = {"09:00-12:00", "13:00-18:00", NULL};
static const char *const office_9_17[] = {"09:00-17:00", NULL};
static const char *const allday[] = {"00:00-24:00", NULL};
static const char *const night[] = {"01:30-03:30", NULL};
static const char *const gap_sunday[] = {"02:00-02:45", "03:00-04:00", NULL};
static const char *const lh_office[] = {"08:00-12:00", "13:00-17:30", NULL};
static const char *const lh_sunday[] = {"01:00-03:00", NULL};
static const char *const monday_9_10[] = {"09:00-10:00", NULL};
static const char *const nights[] = {"00:00-08:00", "20:00-24:00", NULL};

struct cal_def {
    const char *name, *tz;
    const char *const *week[7]; /* Monday first; NULL = closed */
    const char *holidays[4];
    const char *workdays[4];
    const char *ics; /* file name in the data folder */
};

#define WEEKDAYS(h)  h, h, h, h, h, NULL, NULL
#define EVERY_DAY(h) h, h, h, h, h, h, h

static const struct cal_def cal_defs[N_CALS - 1] = {
    [CN] = {"cn-office",
            "Asia/Shanghai",
            {WEEKDAYS(office_cn)},
            {"2026-10-01..2026-10-08", "2027-01-01"},
            {"2026-09-27", "2026-10-10"},
            NULL},
    [CN_ICS] = {"cn-ics", "Asia/Shanghai", {WEEKDAYS(office_cn)}, {0}, {0}, "holidays-test.ics"},
    [NY] = {"ny-office", "America/New_York", {WEEKDAYS(office_9_17)}, {0}, {0}, NULL},
    [NY_ALLDAY] = {"ny-allday", "America/New_York", {EVERY_DAY(allday)}, {"2026-12-25"}, {0}, NULL},
    [NY_NIGHT] = {"ny-night", "America/New_York", {EVERY_DAY(night)}, {"2026-12-25"}, {0}, NULL},
    [NY_GAP] = {"ny-gap",
                "America/New_York",
                {NULL, NULL, NULL, NULL, NULL, NULL, gap_sunday},
                {0},
                {0},
                NULL},
    [BER] = {"berlin-office", "Europe/Berlin", {WEEKDAYS(office_9_17)}, {0}, {0}, NULL},
    [BER_ALLDAY] =
        {"berlin-allday", "Europe/Berlin", {EVERY_DAY(allday)}, {"2030-12-25"}, {0}, NULL},
    [BER_PURE] = {"berlin-pure", "Europe/Berlin", {EVERY_DAY(allday)}, {0}, {0}, NULL},
    [LH] = {"lord-howe",
            "Australia/Lord_Howe",
            {lh_office, lh_office, lh_office, lh_office, lh_office, NULL, lh_sunday},
            {0},
            {0},
            NULL},
    [EMPTY] = {"empty", "Asia/Shanghai", {NULL}, {0}, {0}, NULL},
    [SPARSE15] =
        {"sparse-15y", "Asia/Shanghai", {monday_9_10}, {"2026-01-01..2040-12-31"}, {0}, NULL},
    [SPARSE21] =
        {"sparse-21y", "Asia/Shanghai", {monday_9_10}, {"2026-01-01..2046-12-31"}, {0}, NULL},
    [BER_NIGHTS] = {"berlin-nights", "Europe/Berlin", {EVERY_DAY(nights)}, {0}, {0}, NULL},
};

static struct calendar *cals[N_CALS];

static const char *data_dir(void)
{
    const char *dir = getenv("SLAD_TEST_DATA");
    return dir && *dir ? dir : "tests/unit/data";
}

static void data_path(const char *file, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", data_dir(), file);
}

/* Build a spec from a definition; the strings go through the public parsers. */
struct spec_storage {
    struct calendar_spec spec;
    struct calendar_date_range holidays[4];
    struct calendar_date workdays[4];
    char ics[1024];
    char ics_text[64 * 1024]; /* the fixture's text: calendars get text, never files */
};

static void read_fixture(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open the fixture '%s'", path);
    size_t n = fread(buf, 1, size - 1, f);
    assert_true(n < size - 1);
    buf[n] = '\0';
    fclose(f);
}

static void spec_from_def(const struct cal_def *def, struct spec_storage *st)
{
    memset(st, 0, sizeof(*st));
    st->spec.name = def->name;
    st->spec.timezone = def->tz;
    for (int i = 0; i < 7; i++)
        for (size_t k = 0; def->week[i] && def->week[i][k]; k++) {
            struct slad_error err;
            if (calendar_parse_interval(def->week[i][k], &st->spec.week[i].iv[k], &err) < 0)
                fail_msg("%s: %s", def->name, err.msg);
            st->spec.week[i].n = k + 1;
        }
    for (size_t i = 0; i < 4 && def->holidays[i]; i++) {
        struct slad_error err;
        if (calendar_parse_date_range(def->holidays[i], &st->holidays[i], &err) < 0)
            fail_msg("%s: %s", def->name, err.msg);
        st->spec.n_holidays = i + 1;
    }
    for (size_t i = 0; i < 4 && def->workdays[i]; i++) {
        struct slad_error err;
        if (calendar_parse_date(def->workdays[i], &st->workdays[i], &err) < 0)
            fail_msg("%s: %s", def->name, err.msg);
        st->spec.n_workdays = i + 1;
    }
    st->spec.holidays = st->holidays;
    st->spec.workdays = st->workdays;
    if (def->ics) {
        data_path(def->ics, st->ics, sizeof(st->ics));
        read_fixture(st->ics, st->ics_text, sizeof(st->ics_text));
        st->spec.ics_text = st->ics_text;
        st->spec.ics_name = st->ics;
    }
}

static int setup_calendars(void **state)
{
    (void)state;
    for (int i = 0; i < N_CALS - 1; i++) {
        struct spec_storage st;
        spec_from_def(&cal_defs[i], &st);
        struct slad_error err = {{0}};
        if (calendar_new(&st.spec, &cals[i], &err) < 0) {
            fprintf(stderr, "calendar %s: %s\n", cal_names[i], err.msg);
            return -1;
        }
    }
    return calendar_new_24x7(NULL, &cals[C24], NULL) < 0 ? -1 : 0;
}

static int teardown_calendars(void **state)
{
    (void)state;
    for (int i = 0; i < N_CALS; i++) {
        calendar_free(cals[i]);
        cals[i] = NULL;
    }
    return 0;
}

/* ---- Parsing ---- */

static void test_parse_interval(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *text;
        int open, close; /* -1: error */
        const char *msg;
    } cases[] = {
        {__LINE__, "09:00-12:00", 540, 720, NULL},
        {__LINE__, "9:00-18:00", 540, 1080, NULL},
        {__LINE__, "00:00-24:00", 0, 1440, NULL},
        {__LINE__, "18:00-24:00", 1080, 1440, NULL},
        {__LINE__, "23:59-24:00", 1439, 1440, NULL},
        {__LINE__, "18:00-09:00", -1, -1, "interval '18:00-09:00': closes before it opens"},
        {__LINE__, "09:00-09:00", -1, -1, "interval '09:00-09:00': empty"},
        {__LINE__, "24:00-24:00", -1, -1, "24:00 can only close"},
        {__LINE__, "25:00-26:00", -1, -1, "no such time of day"},
        {__LINE__, "09:00-24:01", -1, -1, "no such time of day"},
        {__LINE__, "09:60-10:00", -1, -1, "no such time of day"},
        {__LINE__, "0900-1000", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "09:00", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "09:00-", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "09:00-18:00x", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "09:00 - 18:00", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "9-18", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "009:00-10:00", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "09:0-10:00", -1, -1, "expected HH:MM-HH:MM"},
        {__LINE__, "", -1, -1, "expected HH:MM-HH:MM"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct calendar_interval iv = {-7, -7};
        struct slad_error err = {{0}};
        int r = calendar_parse_interval(cases[i].text, &iv, &err);
        if (cases[i].open >= 0) {
            if (r != 0 || iv.open_min != cases[i].open || iv.close_min != cases[i].close)
                fail_msg("line %d: '%s': %d (%s) %d-%d", cases[i].line, cases[i].text, r, err.msg,
                         iv.open_min, iv.close_min);
        } else if (r != -EINVAL || !strstr(err.msg, cases[i].msg) || iv.open_min != -7) {
            fail_msg("line %d: '%s': %d '%s', want '%s'", cases[i].line, cases[i].text, r, err.msg,
                     cases[i].msg);
        }
    }
    struct calendar_interval iv;
    assert_int_equal(calendar_parse_interval(NULL, &iv, NULL), -EINVAL);
}

/* A time of day (a schedule's hand-off): HH:MM before midnight. */
static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *text;
        int min; /* -1: error */
        const char *msg;
    } cases[] = {
        {__LINE__, "09:00", 540, NULL},
        {__LINE__, "9:30", 570, NULL},
        {__LINE__, "00:00", 0, NULL},
        {__LINE__, "23:59", 1439, NULL},
        {__LINE__, "24:00", -1, "no such time of day, 00:00 to 23:59"},
        {__LINE__, "12:60", -1, "no such time of day"},
        {__LINE__, "0900", -1, "expected HH:MM"},
        {__LINE__, "09:00-10:00", -1, "expected HH:MM"},
        {__LINE__, "09:00 ", -1, "expected HH:MM"},
        {__LINE__, "", -1, "expected HH:MM"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int min = -7;
        struct slad_error err = {{0}};
        int r = calendar_parse_time(cases[i].text, &min, &err);
        if (cases[i].min >= 0 ? r != 0 || min != cases[i].min
                              : r != -EINVAL || !strstr(err.msg, cases[i].msg) || min != -7)
            fail_msg("line %d: '%s': %d '%s' %d", cases[i].line, cases[i].text, r, err.msg, min);
    }
    int min;
    assert_int_equal(calendar_parse_time(NULL, &min, NULL), -EINVAL);
}

static void test_parse_dates(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *text;
        bool range;                 /* parse with calendar_parse_date_range */
        int y1, m1, d1, y2, m2, d2; /* y1 == 0: error */
        const char *msg;
    } cases[] = {
        {__LINE__, "2026-10-01", false, 2026, 10, 1, 0, 0, 0, NULL},
        {__LINE__, "2024-02-29", false, 2024, 2, 29, 0, 0, 0, NULL},
        {__LINE__, "2000-02-29", false, 2000, 2, 29, 0, 0, 0, NULL},
        {__LINE__, "2026-02-29", false, 0, 0, 0, 0, 0, 0, "date '2026-02-29': no such day"},
        {__LINE__, "1900-02-29", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-04-31", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-13-01", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-00-10", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-10-00", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "0000-01-01", false, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-1-1", false, 0, 0, 0, 0, 0, 0, "date '2026-1-1': expected YYYY-MM-DD"},
        {__LINE__, "26-10-01", false, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD"},
        {__LINE__, "2026-10-01x", false, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD"},
        {__LINE__, "2026/10/01", false, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD"},
        {__LINE__, "", false, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD"},
        {__LINE__, "2026-10-01..2026-10-01", false, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD"},
        {__LINE__, "2026-10-01..2026-10-08", true, 2026, 10, 1, 2026, 10, 8, NULL},
        {__LINE__, "2026-12-31..2027-01-01", true, 2026, 12, 31, 2027, 1, 1, NULL},
        {__LINE__, "2027-01-01", true, 2027, 1, 1, 2027, 1, 1, NULL},
        {__LINE__, "2026-10-01..2026-10-01", true, 2026, 10, 1, 2026, 10, 1, NULL},
        {__LINE__, "2026-10-08..2026-10-01", true, 0, 0, 0, 0, 0, 0,
         "dates '2026-10-08..2026-10-01': the range ends before it starts"},
        {__LINE__, "2026-10-01..", true, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD or"},
        {__LINE__, "..2026-10-01", true, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD or"},
        {__LINE__, "2026-10-01...2026-10-02", true, 0, 0, 0, 0, 0, 0, "expected YYYY-MM-DD or"},
        {__LINE__, "2026-10-01..2026-02-30", true, 0, 0, 0, 0, 0, 0, "no such day"},
        {__LINE__, "2026-02-30", true, 0, 0, 0, 0, 0, 0, "date '2026-02-30': no such day"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct calendar_date_range r = {{-1, -1, -1}, {-1, -1, -1}};
        struct slad_error err = {{0}};
        int ret;
        if (cases[i].range) {
            ret = calendar_parse_date_range(cases[i].text, &r, &err);
        } else {
            ret = calendar_parse_date(cases[i].text, &r.first, &err);
            if (ret == 0)
                r.last = (struct calendar_date){0, 0, 0};
        }
        if (cases[i].y1 == 0) {
            if (ret != -EINVAL || !strstr(err.msg, cases[i].msg) || r.first.year != -1)
                fail_msg("line %d: '%s': %d '%s', want '%s'", cases[i].line, cases[i].text, ret,
                         err.msg, cases[i].msg);
            continue;
        }
        if (ret != 0 || r.first.year != cases[i].y1 || r.first.month != cases[i].m1 ||
            r.first.day != cases[i].d1 || r.last.year != cases[i].y2 ||
            r.last.month != cases[i].m2 || r.last.day != cases[i].d2)
            fail_msg("line %d: '%s': %d (%s) %d-%d-%d..%d-%d-%d", cases[i].line, cases[i].text, ret,
                     err.msg, r.first.year, r.first.month, r.first.day, r.last.year, r.last.month,
                     r.last.day);
    }
    struct calendar_date d;
    struct calendar_date_range dr;
    assert_int_equal(calendar_parse_date(NULL, &d, NULL), -EINVAL);
    assert_int_equal(calendar_parse_date_range(NULL, &dr, NULL), -EINVAL);
}

/* ---- Construction errors ---- */

static void test_new_errors(void **state)
{
    (void)state;
    static const struct {
        int line;
        struct cal_def def;
        int err;
        const char *msg;
        /* hand-made hours that the parser would refuse, applied to Tuesday */
        struct calendar_day_hours tue;
        struct calendar_date_range bad_holiday; /* year 0: none */
    } cases[] = {
        {.line = __LINE__,
         .def = {.name = "x", .tz = "Mars/Olympus"},
         .err = -EINVAL,
         .msg = "calendar 'x': unknown time zone 'Mars/Olympus' (use an IANA name such as "
                "Asia/Shanghai)"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "asia/shanghai"},
         .err = -EINVAL,
         .msg = "unknown time zone 'asia/shanghai'"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "../../../etc/passwd"},
         .err = -EINVAL,
         .msg = "unknown time zone"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "/usr/share/zoneinfo/UTC"},
         .err = -EINVAL,
         .msg = "unknown time zone"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = ""},
         .err = -EINVAL,
         .msg = "calendar 'x': no time zone"},
        {.line = __LINE__, .def = {.name = "x", .tz = NULL}, .err = -EINVAL, .msg = "no time zone"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "calendar 'x': hours for tue: interval 11:00-13:00 overlaps 09:00-12:00",
         .tue = {.n = 2, .iv = {{540, 720}, {660, 780}}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "hours for tue: interval 09:00-12:00 comes before 13:00-18:00",
         .tue = {.n = 2, .iv = {{780, 1080}, {540, 720}}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "hours for tue: bad interval 18:00-09:00",
         .tue = {.n = 1, .iv = {{1080, 540}}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "bad interval",
         .tue = {.n = 1, .iv = {{-60, 540}}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "bad interval",
         .tue = {.n = 1, .iv = {{0, 1441}}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "hours for tue: more than 8 intervals",
         .tue = {.n = 9}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "calendar 'x': holidays: no such day 2026-02-30",
         .bad_holiday = {{2026, 2, 30}, {2026, 3, 1}}},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC"},
         .err = -EINVAL,
         .msg = "holidays: 2026-03-01..2026-02-01 ends before it starts",
         .bad_holiday = {{2026, 3, 1}, {2026, 2, 1}}},
        {.line = __LINE__,
         .def = {.name = "x",
                 .tz = "UTC",
                 .holidays = {"2026-10-01..2026-10-08"},
                 .workdays = {"2026-10-03"}},
         .err = -EINVAL,
         .msg = "calendar 'x': 2026-10-03 is both a holiday (holidays) and a make-up working "
                "day (workdays)"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC", .ics = "bad-not-ics.ics"},
         .err = -EINVAL,
         .msg = "bad-not-ics.ics': not an iCalendar file"},
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC", .ics = "bad-timed.ics"},
         .err = -EINVAL,
         .msg = "event 'Team meeting' (DTSTART 20261001T090000Z): not an all-day event"},
        /* The .ics says 2026-10-01..08 is a holiday; the config says 10-02 is worked. */
        {.line = __LINE__,
         .def = {.name = "x", .tz = "UTC", .workdays = {"2026-10-02"}, .ics = "holidays-test.ics"},
         .err = -EINVAL,
         .msg = "2026-10-02 is both a holiday (from '"},
        /* The .ics says 2026-09-27 is worked; the config says it is a holiday. */
        {.line = __LINE__,
         .def = {.name = "x",
                 .tz = "UTC",
                 .holidays = {"2026-09-26..2026-09-28"},
                 .ics = "holidays-test.ics"},
         .err = -EINVAL,
         .msg = "2026-09-27 is both a holiday (holidays) and a make-up"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spec_storage st;
        spec_from_def(&cases[i].def, &st);
        st.spec.week[1] = cases[i].tue;
        if (cases[i].bad_holiday.first.year) {
            st.holidays[0] = cases[i].bad_holiday;
            st.spec.n_holidays = 1;
        }
        struct calendar *cal = (struct calendar *)&st; /* must stay untouched */
        struct slad_error err = {{0}};
        int r = calendar_new(&st.spec, &cal, &err);
        if (r != cases[i].err || !strstr(err.msg, cases[i].msg) || cal != (struct calendar *)&st)
            fail_msg("line %d: %d '%s', want %d '%s'", cases[i].line, r, err.msg, cases[i].err,
                     cases[i].msg);
    }
    struct calendar *cal;
    assert_int_equal(calendar_new(NULL, &cal, NULL), -EINVAL);
}

/* ---- Hand-checked deadlines ---- */

struct add_case {
    int line;
    enum cal_id cal;
    const char *start;
    int64_t business_ms;
    const char *want; /* NULL: NEVER */
};

static const struct add_case add_cases[] = {
    /* cn-office, Asia/Shanghai (+08:00 all year): Mon-Fri 09-12 and 13-18, 8 h a day;
     * holidays 2026-10-01..08 (Thu..Thu) and 2027-01-01; make-up days Sun 2026-09-27 and
     * Sat 2026-10-10. */
    /* Fri 17-18 gives 1 h, the weekend nothing, Monday 09-10 the second hour. */
    {__LINE__, CN, "2026-09-18T17:00:00+08:00", 2 * H, "2026-09-21T10:00:00+08:00"},
    /* 11-12, lunch, 13-14. */
    {__LINE__, CN, "2026-09-21T11:00:00+08:00", 2 * H, "2026-09-21T14:00:00+08:00"},
    /* Exactly at closing: the deadline is the close, not the next opening. */
    {__LINE__, CN, "2026-09-21T16:00:00+08:00", 2 * H, "2026-09-21T18:00:00+08:00"},
    /* Exactly at the start of lunch: 12:00, not 13:00. */
    {__LINE__, CN, "2026-09-21T09:00:00+08:00", 3 * H, "2026-09-21T12:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T09:00:00+08:00", 8 * H, "2026-09-21T18:00:00+08:00"},
    /* Starts outside hours count from the next opening: before opening, in the lunch
     * break, at night, at the close itself, on a holiday. */
    {__LINE__, CN, "2026-09-21T07:30:00+08:00", 1 * H, "2026-09-21T10:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T12:30:00+08:00", 30 * M, "2026-09-21T13:30:00+08:00"},
    {__LINE__, CN, "2026-09-21T22:00:00+08:00", 1 * H, "2026-09-22T10:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T18:00:00+08:00", 1 * H, "2026-09-22T10:00:00+08:00"},
    {__LINE__, CN, "2026-10-03T10:00:00+08:00", 1 * H, "2026-10-09T10:00:00+08:00"},
    /* 2026-09-20T17:00Z is a Sunday in UTC but Monday 01:00 in Shanghai. */
    {__LINE__, CN, "2026-09-20T17:00:00Z", 1 * H, "2026-09-21T10:00:00+08:00"},
    /* Across the October holiday: Wed 17-18 is 1 h; 10-01..08 closed; Fri 10-09 09-11. */
    {__LINE__, CN, "2026-09-30T17:00:00+08:00", 3 * H, "2026-10-09T11:00:00+08:00"},
    /* The make-up Sunday 09-27 opens with Monday's hours. */
    {__LINE__, CN, "2026-09-26T10:00:00+08:00", 1 * H, "2026-09-27T10:00:00+08:00"},
    /* The make-up Saturday 10-10: Fri 17-18, then Sat 09-10. */
    {__LINE__, CN, "2026-10-09T17:00:00+08:00", 2 * H, "2026-10-10T10:00:00+08:00"},
    /* ... and it keeps Monday's lunch break: 11:30-12:00, 13:00-13:30. */
    {__LINE__, CN, "2026-10-10T11:30:00+08:00", 1 * H, "2026-10-10T13:30:00+08:00"},
    /* Three business days from Fri 09:00: Fri, the make-up Sunday, Monday. */
    {__LINE__, CN, "2026-09-25T09:00:00+08:00", 24 * H, "2026-09-28T18:00:00+08:00"},
    /* Five business days from Fri 09-18 09:00: Fri, Mon, Tue, Wed, Thu. */
    {__LINE__, CN, "2026-09-18T09:00:00+08:00", 40 * H, "2026-09-24T18:00:00+08:00"},
    /* "3d" = 72 h of business time = 9 days: Mon 21..Fri 25, Sun 27, Mon 28..Wed 30. */
    {__LINE__, CN, "2026-09-21T09:00:00+08:00", 3 * D, "2026-09-30T18:00:00+08:00"},
    /* Thu 17-18, Fri 2027-01-01 holiday, weekend, Mon 09-10. */
    {__LINE__, CN, "2026-12-31T17:00:00+08:00", 2 * H, "2027-01-04T10:00:00+08:00"},
    /* To the millisecond. */
    {__LINE__, CN, "2026-09-21T17:59:59.999+08:00", 2, "2026-09-22T09:00:00.001+08:00"},
    {__LINE__, CN, "2026-09-21T12:00:00+08:00", 1, "2026-09-21T13:00:00.001+08:00"},
    {__LINE__, CN, "2026-09-21T09:00:00+08:00", 1, "2026-09-21T09:00:00.001+08:00"},
    /* Zero is the start itself, even outside hours; a negative duration counts as zero. */
    {__LINE__, CN, "2026-09-21T22:00:00+08:00", 0, "2026-09-21T22:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", -5 * H, "2026-09-21T10:00:00+08:00"},

    /* The .ics calendar gives the same answers on the same days. */
    {__LINE__, CN_ICS, "2026-09-30T17:00:00+08:00", 3 * H, "2026-10-09T11:00:00+08:00"},
    {__LINE__, CN_ICS, "2026-10-09T17:00:00+08:00", 2 * H, "2026-10-10T10:00:00+08:00"},
    {__LINE__, CN_ICS, "2026-09-25T09:00:00+08:00", 24 * H, "2026-09-28T18:00:00+08:00"},

    /* 24x7: plain arithmetic, DST is nothing to UTC. */
    {__LINE__, C24, "2026-03-08T01:00:00Z", 3 * H, "2026-03-08T04:00:00Z"},
    {__LINE__, C24, "2026-09-18T17:00:00+08:00", 2 * H, "2026-09-18T19:00:00+08:00"},
    {__LINE__, C24, "2026-01-01T00:00:00Z", 36600 * D, "2126-03-18T00:00:00Z"},

    /* New York office, 09:00-17:00. Spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT;
     * fall back Sun 2026-11-01 02:00 EDT -> 01:00 EST. Opening times stay 09:00 local. */
    {__LINE__, NY, "2026-03-06T16:00:00-05:00", 2 * H, "2026-03-09T10:00:00-04:00"},
    {__LINE__, NY, "2026-10-30T16:00:00-04:00", 2 * H, "2026-11-02T10:00:00-05:00"},
    {__LINE__, NY, "2026-03-09T08:00:00-04:00", 8 * H, "2026-03-09T17:00:00-04:00"},
    {__LINE__, NY, "2026-03-06T09:00:00-05:00", 16 * H, "2026-03-09T17:00:00-04:00"},

    /* New York, open all day (closed 12-25): real elapsed time across the changes. */
    /* 2026-03-08 lasts 23 h: 24 h from its midnight end at 01:00 EDT the next day. */
    {__LINE__, NY_ALLDAY, "2026-03-08T00:00:00-05:00", 24 * H, "2026-03-09T01:00:00-04:00"},
    {__LINE__, NY_ALLDAY, "2026-03-08T00:00:00-05:00", 23 * H, "2026-03-09T00:00:00-04:00"},
    {__LINE__, NY_ALLDAY, "2026-03-08T01:30:00-05:00", 1 * H, "2026-03-08T03:30:00-04:00"},
    /* 2026-11-01 lasts 25 h; the repeated hour counts. */
    {__LINE__, NY_ALLDAY, "2026-11-01T00:00:00-04:00", 25 * H, "2026-11-02T00:00:00-05:00"},
    {__LINE__, NY_ALLDAY, "2026-11-01T01:30:00-04:00", 1 * H, "2026-11-01T01:30:00-05:00"},
    /* The holiday removes exactly the 24 h of 12-25. */
    {__LINE__, NY_ALLDAY, "2026-12-24T23:00:00-05:00", 2 * H, "2026-12-26T01:00:00-05:00"},

    /* New York 01:30-03:30 every day. On 03-08 the span runs 01:30 EST (06:30Z) to 03:30
     * EDT (07:30Z): 1 h. On 11-01 it runs from the first 01:30 (EDT, 05:30Z) to 03:30 EST
     * (08:30Z): 3 h. */
    {__LINE__, NY_NIGHT, "2026-03-08T00:00:00-05:00", 1 * H, "2026-03-08T03:30:00-04:00"},
    {__LINE__, NY_NIGHT, "2026-03-08T00:00:00-05:00", 61 * M, "2026-03-09T01:31:00-04:00"},
    {__LINE__, NY_NIGHT, "2026-11-01T00:00:00-04:00", 3 * H, "2026-11-01T03:30:00-05:00"},
    /* The first 01:00 (05:00Z) is before the span: counting starts at 05:30Z. */
    {__LINE__, NY_NIGHT, "2026-11-01T01:00:00-04:00", 30 * M, "2026-11-01T01:00:00-05:00"},
    /* The second 01:00 (06:00Z) is inside it. */
    {__LINE__, NY_NIGHT, "2026-11-01T01:00:00-05:00", 30 * M, "2026-11-01T01:30:00-05:00"},

    /* New York, Sundays 02:00-02:45 and 03:00-04:00: on 03-08 the first interval does not
     * exist (02:00 and 02:45 both move forward to 03:00 EDT), the second lasts 1 h. */
    {__LINE__, NY_GAP, "2026-03-08T00:00:00-05:00", 30 * M, "2026-03-08T03:30:00-04:00"},
    {__LINE__, NY_GAP, "2026-03-08T00:00:00-05:00", 61 * M, "2026-03-15T02:01:00-04:00"},
    {__LINE__, NY_GAP, "2026-03-15T00:00:00-04:00", 30 * M, "2026-03-15T02:30:00-04:00"},
    {__LINE__, NY_GAP, "2026-03-15T00:00:00-04:00", 60 * M, "2026-03-15T03:15:00-04:00"},

    /* Berlin office: spring forward Sun 2026-03-29 02:00 CET -> 03:00 CEST; fall back Sun
     * 2026-10-25 03:00 CEST -> 02:00 CET. */
    {__LINE__, BER, "2026-03-27T16:00:00+01:00", 2 * H, "2026-03-30T10:00:00+02:00"},
    {__LINE__, BER, "2026-10-23T16:00:00+02:00", 2 * H, "2026-10-26T10:00:00+01:00"},
    /* Berlin all day, on both paths (with a far holiday, and pure arithmetic). */
    {__LINE__, BER_ALLDAY, "2026-03-29T01:00:00+01:00", 2 * H, "2026-03-29T04:00:00+02:00"},
    {__LINE__, BER_ALLDAY, "2026-10-25T02:30:00+02:00", 1 * H, "2026-10-25T02:30:00+01:00"},
    {__LINE__, BER_ALLDAY, "2026-03-29T00:00:00+01:00", 23 * H, "2026-03-30T00:00:00+02:00"},
    {__LINE__, BER_ALLDAY, "2026-10-25T00:00:00+02:00", 25 * H, "2026-10-26T00:00:00+01:00"},
    {__LINE__, BER_PURE, "2026-03-29T01:00:00+01:00", 2 * H, "2026-03-29T04:00:00+02:00"},
    {__LINE__, BER_PURE, "2026-10-25T00:00:00+02:00", 25 * H, "2026-10-26T00:00:00+01:00"},

    /* Lord Howe: +11 in summer, +10:30 in winter; Sundays 01:00-03:00. On 2026-04-05 the
     * clock goes back from 02:00 to 01:30, the span lasts 2 h 30; on 2026-10-04 it jumps
     * from 02:00 to 02:30, the span lasts 1 h 30. */
    {__LINE__, LH, "2026-04-05T00:00:00+11:00", 150 * M, "2026-04-05T03:00:00+10:30"},
    {__LINE__, LH, "2026-10-04T00:00:00+10:30", 90 * M, "2026-10-04T03:00:00+11:00"},

    /* Nothing open within 20 years; open in 2041 after 15 years of holidays. */
    {__LINE__, EMPTY, "2026-09-21T10:00:00+08:00", 1 * H, NULL},
    {__LINE__, SPARSE15, "2025-12-31T00:00:00+08:00", 30 * M, "2041-01-07T09:30:00+08:00"},
    {__LINE__, SPARSE21, "2025-12-31T00:00:00+08:00", 30 * M, NULL},
    /* More than 400 years away: 36600 d of business time at 8 h a weekday. */
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", 36600 * D, NULL},
};

static void test_add(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(add_cases) / sizeof(add_cases[0]); i++) {
        const struct add_case *c = &add_cases[i];
        int64_t start = t(c->start);
        int64_t want = c->want ? t(c->want) : NEVER;
        int64_t got = calendar_add(cals[c->cal], start, c->business_ms);
        char b1[64], b2[64];
        if (got != want)
            fail_msg("line %d: %s add(%s, %" PRId64 " ms) = %s, want %s", c->line,
                     cal_names[c->cal], c->start, c->business_ms, fmt(got, b1), fmt(want, b2));
        /* And back: the business time up to the deadline is the duration. */
        if (got != NEVER && c->business_ms >= 0) {
            int64_t e = calendar_elapsed(cals[c->cal], start, got);
            if (e != c->business_ms)
                fail_msg("line %d: elapsed back = %" PRId64 ", want %" PRId64, c->line, e,
                         c->business_ms);
        }
    }
}

struct elapsed_case {
    int line;
    enum cal_id cal;
    const char *from, *to;
    int64_t want;
};

static const struct elapsed_case elapsed_cases[] = {
    {__LINE__, CN, "2026-09-18T17:00:00+08:00", "2026-09-21T10:00:00+08:00", 2 * H},
    {__LINE__, CN, "2026-09-21T11:30:00+08:00", "2026-09-21T13:30:00+08:00", 1 * H},
    /* A weekend, an instant, a reversed range. */
    {__LINE__, CN, "2026-09-19T00:00:00+08:00", "2026-09-21T00:00:00+08:00", 0},
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", "2026-09-21T10:00:00+08:00", 0},
    {__LINE__, CN, "2026-09-21T11:00:00+08:00", "2026-09-21T10:00:00+08:00", 0},
    /* Wed 09-30 (8 h), the holiday, Fri 10-09 (8 h); the make-up Saturday starts at 00:00
     * of 10-10, the end of the range. */
    {__LINE__, CN, "2026-09-30T00:00:00+08:00", "2026-10-10T00:00:00+08:00", 16 * H},
    /* September 2026: 22 weekdays and the make-up Sunday: 23 days of 8 h. */
    {__LINE__, CN, "2026-09-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00", 184 * H},
    /* 2026: 261 weekdays - 6 holiday weekdays + 2 make-up days = 257 days of 8 h. */
    {__LINE__, CN, "2026-01-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00", 2056 * H},
    {__LINE__, CN_ICS, "2026-09-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00", 184 * H},
    /* 23 h and 25 h days. */
    {__LINE__, NY_ALLDAY, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23 * H},
    {__LINE__, NY_ALLDAY, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25 * H},
    {__LINE__, NY_ALLDAY, "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00", 8736 * H},
    {__LINE__, BER_ALLDAY, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * H},
    {__LINE__, BER_ALLDAY, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * H},
    {__LINE__, BER_PURE, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * H},
    {__LINE__, BER_PURE, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * H},
    {__LINE__, NY_NIGHT, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 1 * H},
    {__LINE__, NY_NIGHT, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 3 * H},
    {__LINE__, NY_NIGHT, "2026-03-15T00:00:00-04:00", "2026-03-16T00:00:00-04:00", 2 * H},
    {__LINE__, NY_GAP, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 1 * H},
    {__LINE__, NY_GAP, "2026-03-15T00:00:00-04:00", "2026-03-16T00:00:00-04:00", 105 * M},
    /* Fri 03-06 and Mon..Fri 03-09..13: six days of 8 h across the change. */
    {__LINE__, NY, "2026-03-06T00:00:00-05:00", "2026-03-14T00:00:00-05:00", 48 * H},
    {__LINE__, LH, "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:30", 150 * M},
    {__LINE__, LH, "2026-10-04T00:00:00+10:30", "2026-10-05T00:00:00+11:00", 90 * M},
    {__LINE__, C24, "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z", 24 * H},
    {__LINE__, EMPTY, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 0},
};

static void test_elapsed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(elapsed_cases) / sizeof(elapsed_cases[0]); i++) {
        const struct elapsed_case *c = &elapsed_cases[i];
        int64_t got = calendar_elapsed(cals[c->cal], t(c->from), t(c->to));
        if (got != c->want)
            fail_msg("line %d: %s elapsed(%s, %s) = %" PRId64 ", want %" PRId64, c->line,
                     cal_names[c->cal], c->from, c->to, got, c->want);
    }
}

struct open_case {
    int line;
    enum cal_id cal;
    const char *at;
    bool open;
    const char *next; /* calendar_next_open; NULL: NEVER */
};

static const struct open_case open_cases[] = {
    {__LINE__, CN, "2026-09-21T09:00:00+08:00", true, "2026-09-21T09:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T08:59:59.999+08:00", false, "2026-09-21T09:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T11:59:59.999+08:00", true, "2026-09-21T11:59:59.999+08:00"},
    {__LINE__, CN, "2026-09-21T12:00:00+08:00", false, "2026-09-21T13:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T12:15:00+08:00", false, "2026-09-21T13:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T13:00:00+08:00", true, "2026-09-21T13:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T17:59:59.999+08:00", true, "2026-09-21T17:59:59.999+08:00"},
    {__LINE__, CN, "2026-09-21T18:00:00+08:00", false, "2026-09-22T09:00:00+08:00"},
    {__LINE__, CN, "2026-09-19T10:00:00+08:00", false, "2026-09-21T09:00:00+08:00"},
    /* Make-up days open, holidays do not. */
    {__LINE__, CN, "2026-09-26T10:00:00+08:00", false, "2026-09-27T09:00:00+08:00"},
    {__LINE__, CN, "2026-09-27T10:00:00+08:00", true, "2026-09-27T10:00:00+08:00"},
    {__LINE__, CN, "2026-10-10T12:30:00+08:00", false, "2026-10-10T13:00:00+08:00"},
    {__LINE__, CN, "2026-10-01T00:00:00+08:00", false, "2026-10-09T09:00:00+08:00"},
    {__LINE__, CN, "2026-10-05T10:00:00+08:00", false, "2026-10-09T09:00:00+08:00"},
    {__LINE__, CN, "2026-10-09T10:00:00+08:00", true, "2026-10-09T10:00:00+08:00"},
    {__LINE__, CN, "2027-01-01T10:00:00+08:00", false, "2027-01-04T09:00:00+08:00"},
    {__LINE__, NY, "2026-03-07T12:00:00-05:00", false, "2026-03-09T09:00:00-04:00"},
    /* The repeated hour: the span opened at the first 01:30. */
    {__LINE__, NY_NIGHT, "2026-11-01T01:15:00-04:00", false, "2026-11-01T01:30:00-04:00"},
    {__LINE__, NY_NIGHT, "2026-11-01T01:15:00-05:00", true, "2026-11-01T01:15:00-05:00"},
    {__LINE__, NY_NIGHT, "2026-03-08T03:29:00-04:00", true, "2026-03-08T03:29:00-04:00"},
    {__LINE__, NY_NIGHT, "2026-03-08T03:30:00-04:00", false, "2026-03-09T01:30:00-04:00"},
    {__LINE__, NY_GAP, "2026-03-08T01:59:00-05:00", false, "2026-03-08T03:00:00-04:00"},
    {__LINE__, NY_GAP, "2026-03-08T03:00:00-04:00", true, "2026-03-08T03:00:00-04:00"},
    {__LINE__, NY_ALLDAY, "2026-11-01T01:30:00-05:00", true, "2026-11-01T01:30:00-05:00"},
    {__LINE__, NY_ALLDAY, "2026-12-25T12:00:00-05:00", false, "2026-12-26T00:00:00-05:00"},
    {__LINE__, C24, "2026-03-08T02:30:00Z", true, "2026-03-08T02:30:00Z"},
    {__LINE__, EMPTY, "2026-03-08T02:30:00Z", false, NULL},
    {__LINE__, SPARSE15, "2025-12-31T00:00:00+08:00", false, "2041-01-07T09:00:00+08:00"},
    {__LINE__, SPARSE21, "2025-12-31T00:00:00+08:00", false, NULL},
};

static void test_open(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]); i++) {
        const struct open_case *c = &open_cases[i];
        int64_t at = t(c->at);
        bool open = calendar_is_open(cals[c->cal], at);
        if (open != c->open)
            fail_msg("line %d: %s is_open(%s) = %d", c->line, cal_names[c->cal], c->at, open);
        int64_t want = c->next ? t(c->next) : NEVER;
        int64_t got = calendar_next_open(cals[c->cal], at);
        char b1[64], b2[64];
        if (got != want)
            fail_msg("line %d: %s next_open(%s) = %s, want %s", c->line, cal_names[c->cal], c->at,
                     fmt(got, b1), fmt(want, b2));
    }
}

/* Where a calendar opens or closes, both ways: the seam of two intervals that touch
 * (24:00 and 00:00) is no change. */
struct change_case {
    int line;
    enum cal_id cal;
    const char *at;
    const char *next; /* NULL: NEVER */
    const char *prev; /* NULL: none (INT64_MIN) */
};

static const struct change_case change_cases[] = {
    /* Closed by day: the evening opening ahead, the morning close behind. */
    {__LINE__, BER_NIGHTS, "2026-03-23T12:00:00+01:00", "2026-03-23T20:00:00+01:00",
     "2026-03-23T08:00:00+01:00"},
    /* Open at night: the close is the next morning's, midnight is a seam. */
    {__LINE__, BER_NIGHTS, "2026-03-23T22:00:00+01:00", "2026-03-24T08:00:00+01:00",
     "2026-03-23T20:00:00+01:00"},
    {__LINE__, BER_NIGHTS, "2026-03-24T00:00:00+01:00", "2026-03-24T08:00:00+01:00",
     "2026-03-23T20:00:00+01:00"},
    /* At a change: it is the previous one, not the next. */
    {__LINE__, BER_NIGHTS, "2026-03-23T20:00:00+01:00", "2026-03-24T08:00:00+01:00",
     "2026-03-23T20:00:00+01:00"},
    {__LINE__, BER_NIGHTS, "2026-03-23T19:59:59.999+01:00", "2026-03-23T20:00:00+01:00",
     "2026-03-23T08:00:00+01:00"},
    /* Across the spring change (02:00 -> 03:00 on 03-29): the night is an hour shorter. */
    {__LINE__, BER_NIGHTS, "2026-03-28T21:00:00+01:00", "2026-03-29T08:00:00+02:00",
     "2026-03-28T20:00:00+01:00"},
    {__LINE__, BER_NIGHTS, "2026-10-25T12:00:00+01:00", "2026-10-25T20:00:00+01:00",
     "2026-10-25T08:00:00+01:00"},
    /* A lunch break; a weekend up to the make-up Sunday. */
    {__LINE__, CN, "2026-09-21T12:30:00+08:00", "2026-09-21T13:00:00+08:00",
     "2026-09-21T12:00:00+08:00"},
    {__LINE__, CN, "2026-09-25T19:00:00+08:00", "2026-09-27T09:00:00+08:00",
     "2026-09-25T18:00:00+08:00"},
    /* Open every day for years: no change behind within 20 years, the holiday ahead. */
    {__LINE__, BER_ALLDAY, "2030-12-24T12:00:00+01:00", "2030-12-25T00:00:00+01:00", NULL},
    {__LINE__, BER_ALLDAY, "2030-12-25T12:00:00+01:00", "2030-12-26T00:00:00+01:00",
     "2030-12-25T00:00:00+01:00"},
    {__LINE__, BER_PURE, "2026-03-29T12:00:00+02:00", NULL, NULL},
    {__LINE__, C24, "2026-03-29T12:00:00Z", NULL, NULL},
    {__LINE__, EMPTY, "2026-03-29T12:00:00Z", NULL, NULL},
};

static void test_changes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(change_cases) / sizeof(change_cases[0]); i++) {
        const struct change_case *c = &change_cases[i];
        int64_t at = t(c->at);
        int64_t want_next = c->next ? t(c->next) : NEVER;
        int64_t want_prev = c->prev ? t(c->prev) : INT64_MIN;
        int64_t next = calendar_next_change(cals[c->cal], at);
        int64_t prev = calendar_prev_change(cals[c->cal], at);
        char b1[64], b2[64];
        if (next != want_next)
            fail_msg("line %d: %s next_change(%s) = %s, want %s", c->line, cal_names[c->cal], c->at,
                     fmt(next, b1), fmt(want_next, b2));
        if (prev != want_prev)
            fail_msg("line %d: %s prev_change(%s) = %s, want %s", c->line, cal_names[c->cal], c->at,
                     prev == INT64_MIN ? "none" : fmt(prev, b1),
                     c->prev ? fmt(want_prev, b2) : "none");
        /* And they are changes: open on one side, closed on the other. */
        const struct calendar *cal = cals[c->cal];
        if (next != NEVER)
            assert_true(calendar_is_open(cal, next - 1) != calendar_is_open(cal, next));
        if (prev != INT64_MIN)
            assert_true(calendar_is_open(cal, prev - 1) != calendar_is_open(cal, prev));
    }
}

struct wd_case {
    int line;
    enum cal_id cal;
    const char *start;
    int n;
    const char *want; /* NULL: NEVER */
};

static const struct wd_case wd_cases[] = {
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", 1, "2026-09-22T18:00:00+08:00"},
    /* 3wd from a Friday: Mon, Tue, Wed. */
    {__LINE__, CN, "2026-09-18T15:00:00+08:00", 3, "2026-09-23T18:00:00+08:00"},
    /* Across the October holiday: Fri 10-09, the make-up Sat 10-10, Mon 10-12. */
    {__LINE__, CN, "2026-09-30T10:00:00+08:00", 1, "2026-10-09T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-30T10:00:00+08:00", 2, "2026-10-10T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-30T10:00:00+08:00", 3, "2026-10-12T18:00:00+08:00"},
    /* The make-up Sunday counts. */
    {__LINE__, CN, "2026-09-25T17:00:00+08:00", 1, "2026-09-27T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-26T23:30:00+08:00", 1, "2026-09-27T18:00:00+08:00"},
    /* From a holiday. */
    {__LINE__, CN, "2026-10-03T10:00:00+08:00", 1, "2026-10-09T18:00:00+08:00"},
    /* The start's local date is Monday 09-21 although its UTC date is Sunday. */
    {__LINE__, CN, "2026-09-20T17:00:00Z", 1, "2026-09-22T18:00:00+08:00"},
    /* n == 0: the start day's close while it is ahead, else the next working day's. */
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", 0, "2026-09-21T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T05:00:00+08:00", 0, "2026-09-21T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T17:59:59.999+08:00", 0, "2026-09-21T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T18:00:00+08:00", 0, "2026-09-22T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-19T10:00:00+08:00", 0, "2026-09-21T18:00:00+08:00"},
    {__LINE__, CN, "2026-09-21T10:00:00+08:00", -1, "2026-09-21T18:00:00+08:00"},
    {__LINE__, CN_ICS, "2026-09-30T10:00:00+08:00", 3, "2026-10-12T18:00:00+08:00"},
    /* Closes in local time across the DST changes. */
    {__LINE__, NY, "2026-03-06T12:00:00-05:00", 1, "2026-03-09T17:00:00-04:00"},
    {__LINE__, NY, "2026-10-30T12:00:00-04:00", 1, "2026-11-02T17:00:00-05:00"},
    {__LINE__, BER, "2026-03-27T12:00:00+01:00", 1, "2026-03-30T17:00:00+02:00"},
    {__LINE__, NY_ALLDAY, "2026-03-07T12:00:00-05:00", 1, "2026-03-09T00:00:00-04:00"},
    {__LINE__, NY_ALLDAY, "2026-10-31T12:00:00-04:00", 1, "2026-11-02T00:00:00-05:00"},
    {__LINE__, NY_ALLDAY, "2026-12-24T12:00:00-05:00", 1, "2026-12-27T00:00:00-05:00"},
    /* An interval that does not exist that day does not make a working day. */
    {__LINE__, NY_GAP, "2026-03-07T12:00:00-05:00", 1, "2026-03-08T04:00:00-04:00"},
    {__LINE__, C24, "2026-03-08T10:00:00Z", 1, "2026-03-10T00:00:00Z"},
    {__LINE__, C24, "2026-03-08T10:00:00Z", 0, "2026-03-09T00:00:00Z"},
    {__LINE__, EMPTY, "2026-03-08T10:00:00Z", 1, NULL},
    {__LINE__, EMPTY, "2026-03-08T10:00:00Z", 0, NULL},
    {__LINE__, SPARSE15, "2025-12-31T00:00:00+08:00", 1, "2041-01-07T10:00:00+08:00"},
    {__LINE__, SPARSE21, "2025-12-31T00:00:00+08:00", 1, NULL},
};

static void test_workdays_close(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wd_cases) / sizeof(wd_cases[0]); i++) {
        const struct wd_case *c = &wd_cases[i];
        int64_t want = c->want ? t(c->want) : NEVER;
        int64_t got = calendar_workdays_close(cals[c->cal], t(c->start), c->n);
        char b1[64], b2[64];
        if (got != want)
            fail_msg("line %d: %s workdays_close(%s, %d) = %s, want %s", c->line, cal_names[c->cal],
                     c->start, c->n, fmt(got, b1), fmt(want, b2));
    }
}

static void test_local(void **state)
{
    (void)state;
    static const struct {
        int line;
        enum cal_id cal;
        const char *at;
        int y, m, d, minute, offset_s;
    } cases[] = {
        {__LINE__, CN, "2026-09-20T17:00:00Z", 2026, 9, 21, 60, 28800},
        {__LINE__, NY, "2026-03-08T06:59:59.999Z", 2026, 3, 8, 119, -18000},
        {__LINE__, NY, "2026-03-08T07:00:00Z", 2026, 3, 8, 180, -14400},
        {__LINE__, NY, "2026-11-01T05:30:00Z", 2026, 11, 1, 90, -14400},
        {__LINE__, NY, "2026-11-01T05:59:59Z", 2026, 11, 1, 119, -14400},
        {__LINE__, NY, "2026-11-01T06:00:00Z", 2026, 11, 1, 60, -18000},
        {__LINE__, NY, "2026-11-01T06:30:00Z", 2026, 11, 1, 90, -18000},
        {__LINE__, BER, "2026-03-29T00:59:59Z", 2026, 3, 29, 119, 3600},
        {__LINE__, BER, "2026-03-29T01:00:00Z", 2026, 3, 29, 180, 7200},
        {__LINE__, BER, "2026-10-25T00:30:00Z", 2026, 10, 25, 150, 7200},
        {__LINE__, BER, "2026-10-25T01:30:00Z", 2026, 10, 25, 150, 3600},
        {__LINE__, LH, "2026-04-04T14:59:00Z", 2026, 4, 5, 119, 39600},
        {__LINE__, LH, "2026-04-04T15:00:00Z", 2026, 4, 5, 90, 37800},
        {__LINE__, C24, "1969-12-31T23:59:59.999Z", 1969, 12, 31, 1439, 0},
        {__LINE__, C24, "2026-03-08T02:30:00Z", 2026, 3, 8, 150, 0},
        /* Beyond the zone table (2500): folded by 400-year cycles, still the same rule. */
        {__LINE__, NY, "2500-01-01T05:00:00Z", 2500, 1, 1, 0, -18000},
        {__LINE__, NY, "2999-07-01T16:00:00Z", 2999, 7, 1, 720, -14400},
        {__LINE__, BER, "2999-10-27T00:59:59Z", 2999, 10, 27, 179, 7200},
        {__LINE__, BER, "2999-10-27T01:00:00Z", 2999, 10, 27, 120, 3600},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct calendar_date date = {0, 0, 0};
        int minute = -1, offset = -1;
        calendar_local(cals[cases[i].cal], t(cases[i].at), &date, &minute, &offset);
        if (date.year != cases[i].y || date.month != cases[i].m || date.day != cases[i].d ||
            minute != cases[i].minute || offset != cases[i].offset_s)
            fail_msg("line %d: %s local(%s) = %04d-%02d-%02d minute %d offset %d", cases[i].line,
                     cal_names[cases[i].cal], cases[i].at, date.year, date.month, date.day, minute,
                     offset);
    }
    /* Every out-parameter is optional. */
    calendar_local(cals[CN], 0, NULL, NULL, NULL);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(calendar_name(cals[CN]), "cn-office");
    assert_string_equal(calendar_timezone(cals[CN]), "Asia/Shanghai");
    assert_false(calendar_is_24x7(cals[CN]));
    assert_false(calendar_is_24x7(cals[BER_PURE]));
    assert_string_equal(calendar_name(cals[C24]), "24x7");
    assert_string_equal(calendar_timezone(cals[C24]), "UTC");
    assert_true(calendar_is_24x7(cals[C24]));
    calendar_free(NULL);
}

/* ---- .ics import ---- */

/* Whether the calendar is open at 10:00 local on a date (10:00 is inside the morning
 * interval of every working day of CN and CN_ICS). */
static bool open_at_ten(enum cal_id cal, int y, int m, int d)
{
    int64_t ms = (days_from_civil(y, m, d) * 86400 + 2 * 3600) * 1000; /* 10:00+08:00 */
    return calendar_is_open(cals[cal], ms);
}

static void test_ics(void **state)
{
    (void)state;
    static const struct {
        int line;
        int y, m, d;
        bool open;
    } cases[] = {
        {__LINE__, 2026, 9, 25, true},  /* Friday */
        {__LINE__, 2026, 9, 26, false}, /* Saturday */
        {__LINE__, 2026, 9, 27, true},  /* "国庆节补班": make-up day by SUMMARY */
        {__LINE__, 2026, 9, 30, true},
        {__LINE__, 2026, 10, 1, false}, /* DTSTART 20261001, DTEND 20261009 (exclusive) */
        {__LINE__, 2026, 10, 8, false},
        {__LINE__, 2026, 10, 9, true},  /* DTEND is exclusive */
        {__LINE__, 2026, 10, 10, true}, /* X-SLAD-WORKDAY:TRUE (SUMMARY "Make-up day") */
        {__LINE__, 2026, 11, 2, true},  /* STATUS:CANCELLED is ignored */
        {__LINE__, 2026, 11, 3, false}, /* a folded SUMMARY line */
        {__LINE__, 2027, 1, 1, false},  /* DURATION:P1D */
        {__LINE__, 2027, 1, 4, true},
        {__LINE__, 2027, 2, 8, false}, /* 春节 2027-02-06..13 */
        {__LINE__, 2027, 2, 12, false},
        {__LINE__, 2027, 2, 15, true},
        {__LINE__, 2027, 2, 20, true},  /* Saturday, CATEGORIES:HOLIDAY,WORKDAY */
        {__LINE__, 2027, 2, 21, true},  /* Sunday, SUMMARY "Working Day (make-up)" */
        {__LINE__, 2027, 2, 27, false}, /* an ordinary Saturday */
        {__LINE__, 2027, 5, 3, false},  /* RRULE:FREQ=YEARLY;COUNT=3 from Mon 2027-05-03 */
        {__LINE__, 2028, 5, 3, true},   /* EXDATE */
        {__LINE__, 2029, 5, 3, false},  /* the third occurrence */
        {__LINE__, 2030, 5, 3, true},   /* COUNT=3 is over */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (open_at_ten(CN_ICS, cases[i].y, cases[i].m, cases[i].d) != cases[i].open)
            fail_msg("line %d: %04d-%02d-%02d open %d", cases[i].line, cases[i].y, cases[i].m,
                     cases[i].d, !cases[i].open);

    /* On the dates both lists cover, the .ics and the config agree day by day. */
    for (int64_t day = days_from_civil(2026, 9, 1); day < days_from_civil(2026, 11, 1); day++) {
        int64_t ms = (day * 86400 + 2 * 3600) * 1000;
        if (calendar_is_open(cals[CN], ms) != calendar_is_open(cals[CN_ICS], ms))
            fail_msg("day %" PRId64 ": CN and CN_ICS differ", day);
    }

    /* The config lists merge with the .ics. */
    struct spec_storage st;
    struct cal_def def = {"merged",       "Asia/Shanghai", {WEEKDAYS(office_cn)},
                          {"2026-11-04"}, {"2026-11-07"},  "holidays-test.ics"};
    spec_from_def(&def, &st);
    struct calendar *cal;
    struct slad_error err;
    if (calendar_new(&st.spec, &cal, &err) < 0)
        fail_msg("merged: %s", err.msg);
    int64_t ten = 2 * H;
    assert_false(calendar_is_open(cal, days_from_civil(2026, 11, 3) * D + ten)); /* .ics */
    assert_false(calendar_is_open(cal, days_from_civil(2026, 11, 4) * D + ten)); /* config */
    assert_true(calendar_is_open(cal, days_from_civil(2026, 11, 5) * D + ten));
    assert_true(calendar_is_open(cal, days_from_civil(2026, 11, 7) * D + ten));  /* config */
    assert_true(calendar_is_open(cal, days_from_civil(2026, 9, 27) * D + ten));  /* .ics */
    assert_false(calendar_is_open(cal, days_from_civil(2026, 10, 2) * D + ten)); /* .ics */
    calendar_free(cal);
}

/* Overlapping and adjacent holiday ranges merge; a make-up day is worked once even when
 * listed twice. */
static void test_holiday_merge(void **state)
{
    (void)state;
    struct spec_storage st;
    struct cal_def def = {
        "merge",
        "Europe/Berlin",
        {EVERY_DAY(allday)},
        {"2026-10-01..2026-10-05", "2026-10-03..2026-10-08", "2026-10-09", "2026-10-04"},
        {"2026-10-11", "2026-10-11"},
        NULL};
    spec_from_def(&def, &st);
    struct calendar *cal;
    struct slad_error err;
    if (calendar_new(&st.spec, &cal, &err) < 0)
        fail_msg("merge: %s", err.msg);
    /* 10-01..10-09 closed: 10-10 and 10-11 (a make-up Sunday, on Monday's 24 h) remain. */
    assert_int_equal(
        calendar_elapsed(cal, t("2026-10-01T00:00:00+02:00"), t("2026-10-12T00:00:00+02:00")),
        48 * H);
    assert_int_equal(calendar_next_open(cal, t("2026-09-30T23:00:00+02:00")),
                     t("2026-09-30T23:00:00+02:00"));
    assert_int_equal(calendar_next_open(cal, t("2026-10-01T00:00:00+02:00")),
                     t("2026-10-10T00:00:00+02:00"));
    calendar_free(cal);
}

/* ---- Limits ---- */

static void test_bounds(void **state)
{
    (void)state;
    int64_t now = t("2026-09-21T10:00:00+08:00");
    /* The empty calendar never opens. */
    assert_false(calendar_is_open(cals[EMPTY], now));
    assert_int_equal(calendar_elapsed(cals[EMPTY], now, now + 365 * D), 0);

    /* Extreme instants neither overflow nor loop. */
    for (int i = 0; i < N_CALS; i++) {
        const struct calendar *cal = cals[i];
        assert_int_equal(calendar_add(cal, INT64_MAX, 0), INT64_MAX);
        assert_int_equal(calendar_add(cal, INT64_MAX, 1), INT64_MAX);
        assert_int_equal(calendar_add(cal, INT64_MAX - 5, 10), INT64_MAX);
        assert_int_equal(calendar_next_open(cal, INT64_MAX), INT64_MAX);
        assert_int_equal(calendar_workdays_close(cal, INT64_MAX, 1), NEVER);
        assert_int_equal(calendar_elapsed(cal, INT64_MAX, INT64_MIN), 0);
        (void)calendar_is_open(cal, INT64_MAX);
        (void)calendar_is_open(cal, INT64_MIN);
        (void)calendar_add(cal, INT64_MIN, H);
        (void)calendar_next_open(cal, INT64_MIN);
        (void)calendar_workdays_close(cal, INT64_MIN, 1);
        (void)calendar_workdays_close(cal, now, INT32_MAX);
        struct calendar_date date;
        int minute, off;
        calendar_local(cal, INT64_MIN, &date, &minute, &off);
        calendar_local(cal, INT64_MAX, &date, &minute, &off);
        assert_true(minute >= 0 && minute < 1440);
        /* elapsed over everything counts at most 400 years. */
        int64_t all = calendar_elapsed(cal, INT64_MIN, INT64_MAX);
        assert_true(all >= 0);
    }
    /* A year of business time from 2026 on cn-office is about four and a half years. */
    int64_t r = calendar_add(cals[CN], now, 365 * D);
    assert_true(r > t("2030-01-01T00:00:00Z") && r < t("2031-06-01T00:00:00Z"));
    assert_int_equal(calendar_elapsed(cals[CN], now, r), 365 * D);
}

/* ---- Zone offsets against glibc ---- */

/* glibc reads the same tz database independently of libical; both must agree on the
 * local time of every instant. libical 3.0.16 does not always: its conversion of the
 * system's TZif files into VTIMEZONE rules (icaltzutil) gets some zones wrong, e.g.
 * Pacific/Easter from 2020, America/St_Johns, Australia/Lord_Howe and Pacific/Chatham
 * from 2038, Asia/Shanghai in 1987-1989, Asia/Tehran until 2019 (a scan of all 598 zones
 * over 1970..2500 on Debian 12). So every zone is checked over 2020..2037, and the zones
 * libical gets right beyond that up to the year 3000. */
static void test_zones_vs_glibc(void **state)
{
    (void)state;
    static const struct {
        const char *zone;
        const char *until; /* end of the random range */
    } zones[] = {
        {"Asia/Shanghai", "3000-01-01T00:00:00Z"},
        {"America/New_York", "3000-01-01T00:00:00Z"},
        {"Europe/Berlin", "3000-01-01T00:00:00Z"},
        {"Europe/London", "3000-01-01T00:00:00Z"},
        {"Asia/Kolkata", "3000-01-01T00:00:00Z"},
        {"America/Sao_Paulo", "3000-01-01T00:00:00Z"},
        {"Africa/Casablanca", "3000-01-01T00:00:00Z"},
        {"Pacific/Apia", "3000-01-01T00:00:00Z"},
        {"Europe/Dublin", "3000-01-01T00:00:00Z"},
        {"Asia/Tehran", "3000-01-01T00:00:00Z"},
        {"UTC", "3000-01-01T00:00:00Z"},
        {"Australia/Lord_Howe", "2038-01-01T00:00:00Z"},
        {"America/St_Johns", "2038-01-01T00:00:00Z"},
        {"Pacific/Chatham", "2038-01-01T00:00:00Z"},
        {"America/Santiago", "2038-01-01T00:00:00Z"},
        {"Antarctica/Troll", "2038-01-01T00:00:00Z"},
    };
    const char *old_tz = getenv("TZ");
    char saved[256] = "";
    if (old_tz)
        snprintf(saved, sizeof(saved), "%s", old_tz);
    uint64_t x = 42;
    int64_t lo = t("2020-01-01T00:00:00Z") / 1000;
    int64_t dense_lo = t("2024-01-01T00:00:00Z") / 1000;
    int64_t dense_hi = t("2031-01-01T00:00:00Z") / 1000;
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        const char *zone = zones[z].zone;
        int64_t hi = t(zones[z].until) / 1000;
        struct calendar_spec spec = {.name = zone, .timezone = zone};
        struct calendar *cal;
        struct slad_error err;
        if (calendar_new(&spec, &cal, &err) < 0)
            fail_msg("%s: %s", zone, err.msg);
        setenv("TZ", zone, 1);
        tzset();
        int checked = 0;
        /* Random instants over the whole range, then every ~hour of 2024..2030, and the
         * exact second of each change found there. */
        int64_t prev_off = INT64_MIN, prev_s = 0;
        for (int64_t k = 0;; k++) {
            int64_t s;
            if (k < 3000) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                s = lo + (int64_t)(x % (uint64_t)(hi - lo));
            } else {
                s = dense_lo + (k - 3000) * 3607;
                if (s >= dense_hi)
                    break;
            }
            time_t tt = (time_t)s;
            struct tm tm;
            localtime_r(&tt, &tm);
            struct calendar_date date;
            int minute, off;
            calendar_local(cal, s * 1000, &date, &minute, &off);
            if (off != tm.tm_gmtoff || date.year != tm.tm_year + 1900 ||
                date.month != tm.tm_mon + 1 || date.day != tm.tm_mday ||
                minute != tm.tm_hour * 60 + tm.tm_min)
                fail_msg("%s at %" PRId64 ": offset %d %04d-%02d-%02d minute %d; glibc %ld "
                         "%04d-%02d-%02d minute %d",
                         zone, s, off, date.year, date.month, date.day, minute, tm.tm_gmtoff,
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour * 60 + tm.tm_min);
            checked++;
            if (k >= 3000) {
                if (prev_off != INT64_MIN && prev_off != tm.tm_gmtoff) {
                    /* Bisect glibc's change to the second and compare both sides. */
                    int64_t a = prev_s, b = s;
                    while (b - a > 1) {
                        int64_t mid = a + (b - a) / 2;
                        time_t mt = (time_t)mid;
                        struct tm mtm;
                        localtime_r(&mt, &mtm);
                        if (mtm.tm_gmtoff == prev_off)
                            a = mid;
                        else
                            b = mid;
                    }
                    int o1, o2;
                    calendar_local(cal, a * 1000 + 999, NULL, NULL, &o1);
                    calendar_local(cal, b * 1000, NULL, NULL, &o2);
                    if (o1 != prev_off || o2 != tm.tm_gmtoff)
                        fail_msg("%s: change at %" PRId64 ": %d -> %d, glibc %" PRId64 " -> %ld",
                                 zone, b, o1, o2, prev_off, tm.tm_gmtoff);
                }
                prev_off = tm.tm_gmtoff;
                prev_s = s;
            }
        }
        assert_true(checked > 10000);
        calendar_free(cal);
    }
    if (old_tz)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
}

/* ---- Seeded properties ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int64_t rng_range(int64_t lo, int64_t hi) /* [lo, hi) */
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo));
}

/* A start: anywhere, or on a boundary of a span (an opening, a close), or one ms off. */
static int64_t random_start(const struct calendar *cal)
{
    int64_t s = rng_range(t("2025-01-01T00:00:00Z"), t("2028-01-01T00:00:00Z"));
    switch (rng() % 6) {
    case 0:
        return calendar_next_open(cal, s);
    case 1:
        return calendar_add(cal, s, rng_range(1, 10) * 15 * M); /* often a close */
    case 2:
        return calendar_next_open(cal, s) + (rng() & 1 ? 1 : -1);
    case 3:
        return s - s % H; /* whole hours meet the interval bounds */
    default:
        return s;
    }
}

static int64_t random_duration(void)
{
    switch (rng() % 6) {
    case 0:
        return 0;
    case 1:
        return rng_range(1, 3);
    case 2:
        return rng_range(1, 4 * 24 * 4) * 15 * M;
    case 3:
        return rng_range(0, 12 * H);
    default:
        return rng_range(0, 10 * D);
    }
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            char b1_[64], b2_[64];                                                                 \
            fail_msg("%s seed %" PRIu64 " iteration %d: s=%s r=%s d=%" PRId64 ": " #cond,          \
                     cal_names[id], seed, it, fmt(s, b1_), fmt(r, b2_), d);                        \
        }                                                                                          \
    } while (0)

static void test_properties(void **state)
{
    (void)state;
    static const enum cal_id ids[] = {CN,  CN_ICS,     NY,       NY_ALLDAY, NY_NIGHT, NY_GAP,
                                      BER, BER_ALLDAY, BER_PURE, LH,        C24};
    const char *env = getenv("SLAD_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 20261001;
    env = getenv("SLAD_TEST_ITERATIONS");
    int iterations = env ? atoi(env) : 3000;
    for (size_t c = 0; c < sizeof(ids) / sizeof(ids[0]); c++) {
        enum cal_id id = ids[c];
        const struct calendar *cal = cals[id];
        rng_state = seed + c;
        for (int it = 0; it < iterations; it++) {
            int64_t s = random_start(cal);
            int64_t d = random_duration();
            int64_t r = calendar_add(cal, s, d);
            CHECK(r != NEVER);
            /* add and elapsed are inverse. */
            CHECK(calendar_elapsed(cal, s, r) == d);
            int64_t first = calendar_next_open(cal, s);
            /* sub goes back from the deadline to the first instant of business time;
             * from any end it finds the latest start that leaves d. */
            CHECK(calendar_sub(cal, r, d) == (d == 0 ? r : first));
            int64_t back = calendar_sub(cal, s, d);
            CHECK(back != INT64_MIN && calendar_elapsed(cal, back, s) == d);
            CHECK(d == 0 || calendar_elapsed(cal, back + 1, s) == d - 1);
            if (d == 0) {
                CHECK(r == s);
            } else {
                /* Never inside a closed period: the last ms before r was open. */
                CHECK(r > s && r - first >= d && calendar_is_open(cal, r - 1));
            }
            /* Monotonic in the duration, strictly. */
            int64_t more = rng_range(1, 2 * D);
            int64_t r2 = calendar_add(cal, s, d + more);
            CHECK(r2 > r);
            /* Composition: from the deadline on, the rest of the time. */
            CHECK(calendar_add(cal, r, more) == r2);
            /* elapsed is monotonic in to and additive. */
            int64_t t1 = s + rng_range(0, 3 * D), t2 = t1 + rng_range(0, 3 * D);
            int64_t e1 = calendar_elapsed(cal, s, t1), e2 = calendar_elapsed(cal, s, t2);
            CHECK(e1 <= e2 && e2 - e1 == calendar_elapsed(cal, t1, t2));
            CHECK(e2 <= t2 - s);
            /* is_open agrees with elapsed over one ms; next_open is open and nothing
             * elapses before it. */
            CHECK(calendar_is_open(cal, t1) == (calendar_elapsed(cal, t1, t1 + 1) == 1));
            CHECK(calendar_is_open(cal, first) && calendar_elapsed(cal, s, first) == 0);
            CHECK(first == s || !calendar_is_open(cal, s));
            /* Working-day closes increase with n and end business time. */
            int64_t w1 = calendar_workdays_close(cal, s, 1);
            int64_t w2 = calendar_workdays_close(cal, s, 2);
            int64_t w0 = calendar_workdays_close(cal, s, 0);
            CHECK(w0 > s && w0 <= w1 && w1 < w2 && calendar_is_open(cal, w1 - 1));
            /* The pure-arithmetic path agrees with the general one. */
            if (id == BER_ALLDAY) {
                CHECK(calendar_add(cals[BER_PURE], s, d) == r);
                CHECK(calendar_elapsed(cals[BER_PURE], t1, t2) == e2 - e1);
                CHECK(calendar_workdays_close(cals[BER_PURE], s, 1) == w1);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_interval), cmocka_unit_test(test_parse_dates),
        cmocka_unit_test(test_new_errors),     cmocka_unit_test(test_add),
        cmocka_unit_test(test_elapsed),        cmocka_unit_test(test_open),
        cmocka_unit_test(test_workdays_close), cmocka_unit_test(test_local),
        cmocka_unit_test(test_names),          cmocka_unit_test(test_ics),
        cmocka_unit_test(test_holiday_merge),  cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_zones_vs_glibc), cmocka_unit_test(test_properties),
        cmocka_unit_test(test_changes),        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, setup_calendars, teardown_calendars);
}
