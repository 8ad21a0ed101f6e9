/* schedule.h - on-call schedules: who is on call at an instant, and the shifts between two
 * instants, with the overrides applied (doc/ONCALL.md). Pure: the caller gives the
 * instants and the overrides (the store keeps those).
 *
 * A schedule has a time zone and layers. A layer starts at an instant and hands the duty
 * on every `rotation` of wall-clock time ("1w", "1d", "12h") at its hand-off time of day,
 * through its contacts in order, round and round: the first contact is on call from the
 * start until the first hand-off after it. With a calendar, a layer is active only while
 * that calendar is open (nights and weekends); its rotation goes on while it is not.
 *
 * Local time. Hand-offs keep their wall-clock time across DST changes: a weekly hand-off
 * at 09:00 in Europe/Berlin is 08:00Z in winter and 07:00Z in summer, and the shift that
 * spans the change is an hour shorter (spring) or longer (autumn). A hand-off at a local
 * time that does not exist that day happens when the clock jumps; one at a time that
 * repeats, at its first occurrence (calendar_utc_of_local).
 *
 * Precedence. The later a layer is in the list, the higher it is: at any instant the
 * highest active layer decides. An override beats every layer; of overlapping overrides
 * the newest (highest id) wins. Where no layer is active and no override holds, nobody is
 * on call (contact NULL).
 *
 * Bounds. A shift is searched at most SCHEDULE_SEARCH_MS either side of the instant asked
 * about (and through at most SCHEDULE_MAX_STEPS changes): a shift that goes on further
 * says so (from INT64_MIN, until INT64_MAX). A listing covers at most SCHEDULE_RANGE_MS
 * and SCHEDULE_MAX_SHIFTS shifts. */
#ifndef SLAD_SCHEDULE_H
#define SLAD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "civil.h"
#include "error.h"

#define SCHEDULE_NAME_MAX         64 /* bytes of a schedule's or a contact's name */
#define SCHEDULE_MAX_LAYERS       16
#define SCHEDULE_MAX_CONTACTS     64                 /* of one layer */
#define SCHEDULE_ROTATION_MIN_MIN 60                 /* 1h */
#define SCHEDULE_ROTATION_MAX_MIN (52 * 7 * 24 * 60) /* 52w */
#define SCHEDULE_SEARCH_MS        (92 * CIVIL_MS_PER_DAY)
#define SCHEDULE_RANGE_MS         (92 * CIVIL_MS_PER_DAY)
#define SCHEDULE_MAX_STEPS        4096
#define SCHEDULE_MAX_SHIFTS       2048

struct schedule;

/* One layer as the config writes it. */
struct schedule_layer_spec {
    int64_t start_ms;
    int rotation_min;            /* wall-clock minutes, ROTATION_MIN_MIN..MAX_MIN */
    int handoff_min;             /* minutes since local midnight; -1: the start's */
    const char *const *contacts; /* in order; at least one */
    size_t n_contacts;
    const struct calendar *calendar; /* borrowed, outlives the schedule; NULL: always */
};

struct schedule_spec {
    const char *name;
    const char *timezone; /* IANA name */
    const struct schedule_layer_spec *layers;
    size_t n_layers;
};

/* Build a schedule (spec is copied; calendars are borrowed). Errors name the schedule
 * and the layer: an unknown time zone, no layer, no contact, a rotation or hand-off out
 * of range. */
int schedule_new(const struct schedule_spec *spec, struct schedule **ret,
                 struct slad_error *reterr);
void schedule_free(struct schedule *s);

const char *schedule_name(const struct schedule *s);
const char *schedule_timezone(const struct schedule *s);
size_t schedule_n_layers(const struct schedule *s);
/* Layer i as built (the hand-off filled in); strings borrowed from s. */
void schedule_layer(const struct schedule *s, size_t i, struct schedule_layer_spec *ret);

/* "1w", "2d", "12h", "1h30m" (a plain duration, or weeks): wall-clock minutes, whole
 * minutes in 1h..52w. */
int schedule_parse_rotation(const char *text, int *ret_min, struct slad_error *reterr);
/* The rotation as the config would write it ("1w", "3d", "12h", "1h30m"); returns buf. */
char *schedule_format_rotation(int rotation_min, char *buf, size_t size);

/* A person put on call instead of the rota over [from_ms, to_ms) (POST
 * /v1/schedules/{name}/overrides). */
struct schedule_override {
    int64_t id; /* 0 until stored; the newest (highest) wins an overlap */
    char schedule[SCHEDULE_NAME_MAX + 1];
    char contact[SCHEDULE_NAME_MAX + 1];
    int64_t from_ms, to_ms;
    int64_t created_ms;
};

/* Listings call back as records.h's do: 0 on, > 0 stop, < 0 stop with that error. */
typedef int schedule_override_fn(void *userdata, const struct schedule_override *o);

/* A stretch of time during which one contact (NULL: nobody) is on call. */
struct schedule_shift {
    const char *contact; /* borrowed from the schedule or from an override */
    int64_t from_ms;     /* INT64_MIN: earlier than the search reached */
    int64_t until_ms;    /* INT64_MAX: later than the search reached, or never */
};

/* The overrides are any the caller has (those of other schedules are skipped); for a
 * true answer they must include every override of s that overlaps the search:
 * [at - SCHEDULE_SEARCH_MS, at + SCHEDULE_SEARCH_MS], or [from - ..., to + ...]. */

/* Who is on call at at_ms (NULL: nobody). */
const char *schedule_who(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                         int64_t at_ms);

/* The shift at at_ms: who, since when and until when that person stays on call. */
void schedule_shift_at(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                       int64_t at_ms, struct schedule_shift *ret);

/* The shifts that overlap [from_ms, to_ms), in order, each as long as it really is (the
 * first may begin before from_ms, the last end after to_ms); nobody's stretches too.
 * *ret is malloc'd (free it; borrowed strings as above). -EINVAL when to_ms <= from_ms or
 * the range is longer than SCHEDULE_RANGE_MS, -E2BIG over SCHEDULE_MAX_SHIFTS shifts or
 * SCHEDULE_MAX_STEPS * 4 changes, -ENOMEM; reterr says which. */
int schedule_shifts(const struct schedule *s, const struct schedule_override *ov, size_t n_ov,
                    int64_t from_ms, int64_t to_ms, struct schedule_shift **ret, size_t *ret_n,
                    struct slad_error *reterr);

/* The shifts (as schedule_shifts gives them, for [from_ms, to_ms)) of s as an iCalendar
 * VCALENDAR (RFC 5545) for a personal calendar: one VEVENT per shift with a contact (only
 * contact's when contact is not NULL), in UTC, a shift that goes on past the search cut
 * at the range; DTSTAMP now_ms. A malloc'd text, NULL when memory ran out. */
char *schedule_ics(const struct schedule *s, const struct schedule_shift *shifts, size_t n,
                   const char *contact, int64_t from_ms, int64_t to_ms, int64_t now_ms);

#endif
