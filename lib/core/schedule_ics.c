/* schedule_ics.c - a schedule's shifts as iCalendar (schedule.h), written with libical:
 * GET /v1/schedules/{name}.ics, which a personal calendar subscribes to.
 *
 * Times are UTC (no VTIMEZONE needed: the calendar application shows them in its own
 * zone). A shift's UID is its start, its contact and the schedule, so that the same shift
 * keeps its UID from one fetch to the next and a changed one replaces nothing it should
 * not. Events are TRANSPARENT: being on call does not make a person busy. */
#include "schedule.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct icaltimetype utc_time(int64_t at_ms)
{
    return icaltime_from_timet_with_zone((time_t)civil_floor_div(at_ms, CIVIL_MS_PER_S), 0,
                                         icaltimezone_get_utc_timezone());
}

static icalproperty *x_property(const char *name, const char *value)
{
    icalproperty *p = icalproperty_new_x(value);
    if (p)
        icalproperty_set_x_name(p, name);
    return p;
}

/* Add p to c; false (p freed) when memory ran out. */
static bool add(icalcomponent *c, icalproperty *p)
{
    if (!p)
        return false;
    icalcomponent_add_property(c, p);
    return true;
}

static bool add_event(icalcomponent *cal, const struct schedule *s, const struct schedule_shift *sh,
                      int64_t from_ms, int64_t to_ms, int64_t now_ms)
{
    int64_t start = sh->from_ms == INT64_MIN ? from_ms : sh->from_ms;
    int64_t end = sh->until_ms == INT64_MAX ? to_ms : sh->until_ms;
    char uid[3 * SCHEDULE_NAME_MAX + 64], summary[2 * SCHEDULE_NAME_MAX + 32];
    snprintf(uid, sizeof(uid), "%lld-%s-%s@slad", (long long)start, sh->contact, schedule_name(s));
    snprintf(summary, sizeof(summary), "On call (%s): %s", schedule_name(s), sh->contact);
    icalcomponent *ev = icalcomponent_new_vevent();
    if (!ev)
        return false;
    bool ok = add(ev, icalproperty_new_uid(uid)) &&
              add(ev, icalproperty_new_dtstamp(utc_time(now_ms))) &&
              add(ev, icalproperty_new_dtstart(utc_time(start))) &&
              add(ev, icalproperty_new_dtend(utc_time(end))) &&
              add(ev, icalproperty_new_summary(summary)) &&
              add(ev, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
    if (ok)
        icalcomponent_add_component(cal, ev);
    else
        icalcomponent_free(ev);
    return ok;
}

char *schedule_ics(const struct schedule *s, const struct schedule_shift *shifts, size_t n,
                   const char *contact, int64_t from_ms, int64_t to_ms, int64_t now_ms)
{
    char name[2 * SCHEDULE_NAME_MAX + 32];
    if (contact)
        snprintf(name, sizeof(name), "On call (%s): %s", schedule_name(s), contact);
    else
        snprintf(name, sizeof(name), "On call (%s)", schedule_name(s));
    icalcomponent *cal = icalcomponent_new_vcalendar();
    if (!cal)
        return NULL;
    bool ok = add(cal, icalproperty_new_prodid("-//slad//on-call schedule//EN")) &&
              add(cal, icalproperty_new_version("2.0")) &&
              add(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH)) &&
              add(cal, x_property("X-WR-CALNAME", name)) &&
              add(cal, x_property("X-WR-TIMEZONE", schedule_timezone(s))) &&
              add(cal, x_property("X-PUBLISHED-TTL", "PT1H"));
    for (size_t i = 0; ok && i < n; i++)
        if (shifts[i].contact && (!contact || strcmp(shifts[i].contact, contact) == 0))
            ok = add_event(cal, s, &shifts[i], from_ms, to_ms, now_ms);
    char *text = ok ? icalcomponent_as_ical_string_r(cal) : NULL;
    icalcomponent_free(cal);
    /* libical's buffer is its allocator's: hand the caller one of ours. */
    char *copy = text ? strdup(text) : NULL;
    if (text)
        icalmemory_free_buffer(text);
    return copy;
}
