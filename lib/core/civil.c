/* civil.c - day numbers of Gregorian dates and RFC 3339 times (civil.h). */
#include "civil.h"
#include "decimal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
    if (y < 0 || y > 9999 || size < CIVIL_UTC_MAX) { /* rare: printf's widths and truncation */
        if (ms)
            snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi,
                     s, ms);
        else
            snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
        return buf;
    }
    /* The same text without printf: a step formats seven times (decimal.h). */
    memcpy(buf, "0000-00-00T00:00:00", 19);
    decimal_padded((unsigned)y, 4, buf);
    decimal_padded((unsigned)m, 2, buf + 5);
    decimal_padded((unsigned)d, 2, buf + 8);
    decimal_padded((unsigned)h, 2, buf + 11);
    decimal_padded((unsigned)mi, 2, buf + 14);
    decimal_padded((unsigned)s, 2, buf + 17);
    size_t n = 19;
    if (ms) {
        buf[n++] = '.';
        decimal_padded((unsigned)ms, 3, buf + n);
        n += 3;
    }
    memcpy(buf + n, "Z", 2);
    return buf;
}

/* ---- RFC 3339 ---- */

/* 9999-12-31T23:59:59.999Z */
#define TIME_LAST_MS INT64_C(253402300799999)

/* n decimal digits at p into *ret; stops at the first non-digit (so never reads past a
 * NUL). */
static bool digits(const char *p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *ret = v;
    return true;
}

static int time_error(const char **ret_reason, const char *reason)
{
    *ret_reason = reason;
    return -EINVAL;
}

int civil_time_parse(const char *text, int64_t *ret_ms, const char **ret_reason)
{
    const char *p = text;
    int y, mo, d, h, mi, s;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2, &h) ||
        p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &s))
        return time_error(ret_reason, "expected a form such as 2026-03-01T08:00:00+08:00");
    p += 19;
    int frac_ms = 0;
    if (*p == '.') {
        int n = 0;
        p++;
        while (p[n] >= '0' && p[n] <= '9') {
            if (n < 3)
                frac_ms = frac_ms * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0 || n > 9)
            return time_error(ret_reason, "fractional seconds need 1 to 9 digits");
        for (int i = n; i < 3; i++)
            frac_ms *= 10;
        p += n;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return time_error(ret_reason, "the offset must be +HH:MM or -HH:MM");
        if (oh > 23 || om > 59)
            return time_error(ret_reason, "offset out of range");
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else if (*p == '\0') {
        return time_error(ret_reason, "a time zone offset, Z or +HH:MM, is required");
    } else {
        return time_error(ret_reason, "unexpected text after the seconds");
    }
    if (*p != '\0')
        return time_error(ret_reason, "unexpected text after the offset");
    if (y < 1970 || y > 9999)
        return time_error(ret_reason, "the year must lie in 1970..9999");
    if (mo < 1 || mo > 12)
        return time_error(ret_reason, "month out of range");
    if (d < 1 || d > civil_month_days(y, mo))
        return time_error(ret_reason, "day out of range");
    if (h > 23)
        return time_error(ret_reason, "hour out of range");
    if (mi > 59)
        return time_error(ret_reason, "minute out of range");
    if (s > 59)
        return time_error(ret_reason, "second out of range; leap seconds are not accepted");
    int64_t ms = civil_days(y, mo, d) * CIVIL_MS_PER_DAY + h * CIVIL_MS_PER_HOUR +
                 mi * CIVIL_MS_PER_MIN + (int64_t)s * 1000 + frac_ms - (int64_t)offset_min * 60000;
    /* The bounds hold for the instant too, so that every accepted time formats back
     * into an accepted one ("1970-01-01T00:30:00+01:00" lies in 1969 in UTC). */
    if (ms < 0 || ms > TIME_LAST_MS)
        return time_error(ret_reason, "the instant must lie in 1970..9999 in UTC");
    *ret_ms = ms;
    return 0;
}
