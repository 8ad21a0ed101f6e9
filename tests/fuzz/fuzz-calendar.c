/* fuzz-calendar.c - libFuzzer target for the calendar arithmetic.
 *
 * A fixed set of calendars (lunch breaks, holidays and make-up days, the hours that DST
 * skips and repeats, a 30-minute DST, the 24x7 fast path) is built once. The input is a
 * list of 17-byte records: a calendar, a start and a duration. For each, add and elapsed
 * must be inverse, a deadline must end business time, add must grow with the duration,
 * and is_open / next_open must agree with elapsed. Any disagreement aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MS_PER_DAY    INT64_C(86400000)
#define START_2020_MS INT64_C(1577836800000)
#define RECORD_BYTES  17
#define MAX_RECORDS   32

struct def {
    const char *tz;
    const char *hours[7][2]; /* Monday first */
    const char *holiday;
    const char *workday;
};

static const struct def defs[] = {
    {"Asia/Shanghai",
     {{"09:00-12:00", "13:00-18:00"},
      {"09:00-12:00", "13:00-18:00"},
      {"09:00-12:00", "13:00-18:00"},
      {"09:00-12:00", "13:00-18:00"},
      {"09:00-12:00", "13:00-18:00"}},
     "2026-10-01..2026-10-08",
     "2026-10-10"},
    {"America/New_York",
     {{"01:30-03:30"},
      {"01:30-03:30"},
      {"01:30-03:30"},
      {"01:30-03:30"},
      {"01:30-03:30"},
      {"01:30-03:30"},
      {"01:30-03:30"}},
     "2026-12-25",
     NULL},
    {"America/New_York", {[6] = {"02:00-02:45", "03:00-04:00"}}, NULL, NULL},
    {"Europe/Berlin",
     {{"00:00-24:00"},
      {"00:00-24:00"},
      {"00:00-24:00"},
      {"00:00-24:00"},
      {"00:00-24:00"},
      {"00:00-24:00"},
      {"00:00-24:00"}},
     "2027-12-24..2027-12-26",
     NULL},
    {"Australia/Lord_Howe",
     {{"08:00-12:00", "13:00-17:30"},
      {"08:00-12:00", "13:00-17:30"},
      {"08:00-12:00", "13:00-17:30"},
      {"08:00-12:00", "13:00-17:30"},
      {"08:00-12:00", "13:00-17:30"},
      {NULL},
      {"01:00-03:00"}},
     NULL,
     NULL},
};

#define N_DEFS (sizeof(defs) / sizeof(defs[0]))

static struct calendar *cals[N_DEFS + 1];

static void build(void)
{
    for (size_t i = 0; i < N_DEFS; i++) {
        struct calendar_spec spec = {.name = "fuzz", .timezone = defs[i].tz};
        for (int d = 0; d < 7; d++)
            for (int k = 0; k < 2 && defs[i].hours[d][k]; k++) {
                if (calendar_parse_interval(defs[i].hours[d][k], &spec.week[d].iv[k], NULL))
                    abort();
                spec.week[d].n = (size_t)k + 1;
            }
        struct calendar_date_range hol;
        struct calendar_date work;
        if (defs[i].holiday) {
            if (calendar_parse_date_range(defs[i].holiday, &hol, NULL) < 0)
                abort();
            spec.holidays = &hol;
            spec.n_holidays = 1;
        }
        if (defs[i].workday) {
            if (calendar_parse_date(defs[i].workday, &work, NULL) < 0)
                abort();
            spec.workdays = &work;
            spec.n_workdays = 1;
        }
        struct slad_error err;
        if (calendar_new(&spec, &cals[i], &err) < 0) {
            fprintf(stderr, "fuzz-calendar: %s\n", err.msg);
            abort();
        }
    }
    if (calendar_new_24x7(NULL, &cals[N_DEFS], NULL) < 0)
        abort();
}

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cals[0])
        build();
    for (size_t n = 0; n < MAX_RECORDS && size >= RECORD_BYTES; n++) {
        const struct calendar *cal = cals[data[0] % (N_DEFS + 1)];
        uint64_t a = read_u64(data + 1), b = read_u64(data + 9);
        data += RECORD_BYTES;
        size -= RECORD_BYTES;

        /* 2020..2050, to the ms; low bits of b choose the scale of the duration so that
         * zero, tiny and week-long durations all occur. */
        int64_t s = START_2020_MS + (int64_t)(a % (uint64_t)(30 * 366 * MS_PER_DAY));
        static const int64_t scales[] = {1, 3, 1000, 3600000, 4 * 3600000, 14 * MS_PER_DAY};
        int64_t d = (int64_t)((b >> 3) % (uint64_t)(scales[b % 6] + 1));

        int64_t r = calendar_add(cal, s, d);
        if (r == INT64_MAX || calendar_elapsed(cal, s, r) != d)
            abort();
        if (d == 0 ? r != s : (r <= s || !calendar_is_open(cal, r - 1)))
            abort();
        if (calendar_add(cal, s, d + 1) <= r)
            abort();
        if (calendar_is_open(cal, s) != (calendar_elapsed(cal, s, s + 1) == 1))
            abort();
        int64_t open = calendar_next_open(cal, s);
        if (open < s || !calendar_is_open(cal, open) || calendar_elapsed(cal, s, open) != 0)
            abort();
        int64_t w = calendar_workdays_close(cal, s, (int)(b >> 60));
        if (w <= s || !calendar_is_open(cal, w - 1))
            abort();
    }
    return 0;
}
