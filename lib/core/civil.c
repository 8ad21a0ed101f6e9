/* civil.c - day numbers of Gregorian dates (civil.h). */
#include "civil.h"

#include <stdbool.h>
#include <stdio.h>

#define CYCLE_DAYS INT64_C(146097) /* days in 400 years */

int64_t civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = civil_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * CYCLE_DAYS + doe - 719468;
}

int civil_month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int civil_weekday(int64_t days)
{
    return (int)(days - civil_floor_div(days + 3, 7) * 7 + 3); /* day 0 was a Thursday */
}

void civil_date(int64_t days, int64_t *ret_y, int *ret_m, int *ret_d)
{
    days += 719468;
    int64_t era = civil_floor_div(days, CYCLE_DAYS);
    int64_t doe = days - era * CYCLE_DAYS;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_y = yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

char *civil_utc_format(int64_t at_ms, char *buf, size_t size)
{
    int64_t days = civil_floor_div(at_ms, CIVIL_MS_PER_DAY);
    int64_t in_day = at_ms % CIVIL_MS_PER_DAY; /* not at_ms - days * CIVIL_MS_PER_DAY: overflows */
    if (in_day < 0)
        in_day += CIVIL_MS_PER_DAY;
    int64_t y;
    int m, d;
    civil_date(days, &y, &m, &d);
    int ms = (int)(in_day % 1000);
    int s = (int)(in_day / CIVIL_MS_PER_S % 60), mi = (int)(in_day / CIVIL_MS_PER_MIN % 60),
        h = (int)(in_day / CIVIL_MS_PER_HOUR);
    if (ms)
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, s,
                 ms);
    else
        snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
    return buf;
}
