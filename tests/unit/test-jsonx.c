/* test-jsonx.c - the API's JSON: RFC 3339 times (offsets, fractions, edge dates, round
 * trip), every ticket field, every error naming its field, events, PATCH, simulate
 * bodies, and rendering (tickets with clocks, errors, bad UTF-8). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf_load.h"
#include "jsonx.h"
#include "slaclock.h"
#include "ticket.h"

#define NOW_MS INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */

/* Append src to the NUL-terminated dst of size bytes (truncating). */
static void append(char *dst, size_t size, const char *src)
{
    size_t len = strlen(dst);
    snprintf(dst + len, size - len, "%s", src);
}

static int parse_ticket(const char *body, struct ticket *t, struct slad_error *err)
{
    return jsonx_ticket_parse(body, strlen(body), NOW_MS, t, err);
}

/* ---- times ---- */

static const struct {
    int line;
    const char *text;
    int64_t ms;
} good_times[] = {
    {__LINE__, "2026-03-01T08:00:00+08:00", INT64_C(1772323200000)},
    {__LINE__, "2026-03-01t00:00:00z", INT64_C(1772323200000)},
    {__LINE__, "2024-02-29T23:59:59.999Z", INT64_C(1709251199999)},
    {__LINE__, "1970-01-01T00:00:00Z", 0},
    {__LINE__, "1970-01-01T01:30:00+01:00", INT64_C(1800000)},
    {__LINE__, "9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
    {__LINE__, "2026-10-25T01:30:00-05:30", INT64_C(1792911600000)},
    {__LINE__, "2000-02-29T12:00:00.5+00:00", INT64_C(951825600500)},
    {__LINE__, "2026-12-31T23:59:59.123456789-00:00", INT64_C(1798761599123)},
    {__LINE__, "2026-03-01T00:00:00.000000001Z", INT64_C(1772323200000)},
    {__LINE__, "2026-03-01T23:59:00+23:59", INT64_C(1772323200000)},
    {__LINE__, "2026-03-01T00:00:00-23:59", INT64_C(1772323200000) + 86340000},
};

static const struct {
    int line;
    const char *text;
    const char *reason;
} bad_times[] = {
    {__LINE__, "", "expected a form"},
    {__LINE__, "2026-03-01", "expected a form"},
    {__LINE__, "2026-03-01 08:00:00Z", "expected a form"},
    {__LINE__, "2026-3-01T08:00:00Z", "expected a form"},
    {__LINE__, "26-03-01T08:00:00Z", "expected a form"},
    {__LINE__, "2026-03-01T08:00Z", "expected a form"},
    {__LINE__, "2026-03-01T08:00:00", "offset, Z or +HH:MM, is required"},
    {__LINE__, "2026-03-01T08:00:00.Z", "1 to 9 digits"},
    {__LINE__, "2026-03-01T08:00:00.1234567890Z", "1 to 9 digits"},
    {__LINE__, "2026-03-01T08:00:00+0800", "+HH:MM"},
    {__LINE__, "2026-03-01T08:00:00+8:00", "+HH:MM"},
    {__LINE__, "2026-03-01T08:00:00+24:00", "offset out of range"},
    {__LINE__, "2026-03-01T08:00:00+08:60", "offset out of range"},
    {__LINE__, "2026-03-01T08:00:00ZZ", "after the offset"},
    {__LINE__, "2026-03-01T08:00:00+08:00 ", "after the offset"},
    {__LINE__, "2026-03-01T08:00:00X", "after the seconds"},
    {__LINE__, "1969-12-31T23:59:59Z", "1970..9999"},
    {__LINE__, "0000-01-01T00:00:00Z", "1970..9999"},
    {__LINE__, "1970-01-01T00:30:00+01:00", "1970..9999 in UTC"},
    {__LINE__, "9999-12-31T23:00:00-01:00", "1970..9999 in UTC"},
    {__LINE__, "10000-01-01T00:00:00Z", "expected a form"},
    {__LINE__, "2026-00-01T00:00:00Z", "month out of range"},
    {__LINE__, "2026-13-01T00:00:00Z", "month out of range"},
    {__LINE__, "2026-02-29T00:00:00Z", "day out of range"},
    {__LINE__, "2100-02-29T00:00:00Z", "day out of range"},
    {__LINE__, "2026-04-31T00:00:00Z", "day out of range"},
    {__LINE__, "2026-04-00T00:00:00Z", "day out of range"},
    {__LINE__, "2026-04-01T24:00:00Z", "hour out of range"},
    {__LINE__, "2026-04-01T23:60:00Z", "minute out of range"},
    {__LINE__, "2016-12-31T23:59:60Z", "leap seconds"},
    {__LINE__, "２026-03-01T08:00:00Z", "expected a form"},
};

static void test_time_parse(void **state)
{
    for (size_t i = 0; i < sizeof(good_times) / sizeof(good_times[0]); i++) {
        int64_t ms = 0;
        struct slad_error err = {""};
        int r = jsonx_time_parse(good_times[i].text, &ms, &err);
        if (r != 0 || ms != good_times[i].ms)
            fail_msg("line %d: '%s' -> %d %lld (%s), want %lld", good_times[i].line,
                     good_times[i].text, r, (long long)ms, err.msg, (long long)good_times[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        int64_t ms = 42;
        struct slad_error err = {""};
        int r = jsonx_time_parse(bad_times[i].text, &ms, &err);
        if (r != -EINVAL || ms != 42 || !strstr(err.msg, bad_times[i].reason) ||
            !strstr(err.msg, "RFC 3339"))
            fail_msg("line %d: '%s' -> %d '%s', want -EINVAL with '%s'", bad_times[i].line,
                     bad_times[i].text, r, err.msg, bad_times[i].reason);
    }
}

static void test_time_format(void **state)
{
    static const struct {
        int line;
        int64_t ms;
        const char *text;
    } cases[] = {
        {__LINE__, 0, "1970-01-01T00:00:00Z"},
        {__LINE__, INT64_C(1772323200000), "2026-03-01T00:00:00Z"},
        {__LINE__, INT64_C(1709251199999), "2024-02-29T23:59:59.999Z"},
        {__LINE__, INT64_C(951825600500), "2000-02-29T12:00:00.500Z"},
        {__LINE__, -1, "1969-12-31T23:59:59.999Z"},
        {__LINE__, INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
    };
    char buf[JSONX_TIME_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        jsonx_time_format(cases[i].ms, buf, sizeof(buf));
        if (strcmp(buf, cases[i].text) != 0)
            fail_msg("line %d: %lld -> '%s', want '%s'", cases[i].line, (long long)cases[i].ms, buf,
                     cases[i].text);
    }
    /* Extremes must not crash or overflow the buffer. */
    jsonx_time_format(INT64_MIN, buf, sizeof(buf));
    jsonx_time_format(INT64_MAX, buf, sizeof(buf));
    /* Round trip over the whole accepted range, day boundaries and leap days included. */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)(x % (uint64_t)INT64_C(253402300800000));
        if (i % 3 == 0)
            ms -= ms % 86400000; /* midnight */
        if (i % 5 == 0)
            ms -= ms % 1000;
        int64_t back = -1;
        jsonx_time_format(ms, buf, sizeof(buf));
        if (jsonx_time_parse(buf, &back, NULL) != 0 || back != ms)
            fail_msg("round trip %lld -> '%s' -> %lld", (long long)ms, buf, (long long)back);
    }
}

/* ---- tickets ---- */

static const char full_body[] =
    "{\"source\":\"crm\",\"external_id\":\"T-1\",\"title\":\"空调不制冷\","
    "\"description\":\"line1\\nline2\",\"severity\":2,\"grade\":\"A\",\"region\":\"city\","
    "\"team\":\"north\",\"assignee\":\"zhang.san\","
    "\"customer\":{\"name\":\"王\",\"phone\":\"+8613800000009\",\"address\":\"1 Road\"},"
    "\"device\":{\"model\":\"KFR-35\",\"serial\":\"SN1\"},\"fault_code\":\"E1\","
    "\"reported_at\":\"2026-03-01T07:00:00+08:00\","
    "\"appointment_at\":\"2026-03-02T10:00:00.250+08:00\","
    "\"labels\":{\"zone\":\"east\",\"vip\":\"\"}}";

static void test_ticket_full(void **state)
{
    struct ticket t;
    struct slad_error err = {""};
    int r = parse_ticket(full_body, &t, &err);
    if (r != 0)
        fail_msg("parse: %d %s", r, err.msg);
    assert_string_equal(t.source, "crm");
    assert_string_equal(t.external_id, "T-1");
    assert_string_equal(t.title, "空调不制冷");
    assert_string_equal(t.description, "line1\nline2");
    assert_int_equal(t.severity, 2);
    assert_string_equal(t.grade, "A");
    assert_string_equal(t.region, "city");
    assert_string_equal(t.team, "north");
    assert_string_equal(t.assignee, "zhang.san");
    assert_string_equal(t.customer_name, "王");
    assert_string_equal(t.customer_phone, "+8613800000009");
    assert_string_equal(t.customer_address, "1 Road");
    assert_string_equal(t.device_model, "KFR-35");
    assert_string_equal(t.device_serial, "SN1");
    assert_string_equal(t.fault_code, "E1");
    assert_int_equal(t.reported_at_ms, NOW_MS - 3600000);
    assert_int_equal(t.appointment_at_ms, NOW_MS + 26 * 3600000 + 250);
    assert_int_equal(t.n_labels, 2);
    assert_string_equal(ticket_label(&t, "zone"), "east");
    assert_string_equal(ticket_label(&t, "vip"), "");
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.id, 0);
    ticket_done(&t);
}

static void test_ticket_minimal(void **state)
{
    static const struct {
        int line;
        const char *body;
        int64_t reported_ms;
    } cases[] = {
        {__LINE__, "{\"title\":\"x\",\"severity\":1}", NOW_MS},
        {__LINE__, " {\"severity\":5 , \"title\":\"x\"}\n", NOW_MS},
        /* null optional fields are absent */
        {__LINE__,
         "{\"title\":\"x\",\"severity\":1,\"grade\":null,\"customer\":null,\"labels\":null,"
         "\"reported_at\":null,\"appointment_at\":null,\"device\":{\"model\":null}}",
         NOW_MS},
        /* a reported_at a little ahead of our clock is taken as now */
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2026-03-01T00:04:59Z\"}",
         NOW_MS},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2020-01-01T00:00:00Z\"}",
         INT64_C(1577836800000)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ticket t;
        struct slad_error err = {""};
        int r = parse_ticket(cases[i].body, &t, &err);
        if (r != 0)
            fail_msg("line %d: %d %s", cases[i].line, r, err.msg);
        if (t.reported_at_ms != cases[i].reported_ms || t.grade || t.customer_name ||
            t.device_model || t.n_labels || t.appointment_at_ms != SLAD_NO_TIME)
            fail_msg("line %d: fields not as expected", cases[i].line);
        ticket_done(&t);
    }
}

static const struct {
    int line;
    const char *body;
    int code;
    const char *msg; /* substring of the message */
} ticket_errors[] = {
    {__LINE__, "", -EBADMSG, "body is empty"},
    {__LINE__, "{", -EBADMSG, "invalid JSON at line 1"},
    {__LINE__, "[1]", -EBADMSG, "must be a JSON object"},
    {__LINE__, "\"x\"", -EBADMSG, "must be a JSON object"},
    {__LINE__, "{\"title\":\"a\",\"title\":\"b\",\"severity\":1}", -EBADMSG, "duplicate"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1} x", -EBADMSG, "invalid JSON"},
    {__LINE__, "{\"title\":\"\xff\",\"severity\":1}", -EBADMSG, "invalid JSON"},
    {__LINE__, "{\"title\":\"a\\u0000b\",\"severity\":1}", -EBADMSG, "invalid JSON"},
    {__LINE__, "{\"labels\":{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}", -EBADMSG,
     "deeper than 16"},
    {__LINE__, "{\"severity\":1}", -ENODATA, "field 'title' is required"},
    {__LINE__, "{\"title\":null,\"severity\":1}", -ENODATA, "field 'title' is required"},
    {__LINE__, "{\"title\":\"x\"}", -ENODATA, "field 'severity' is required"},
    {__LINE__, "{\"title\":\"\",\"severity\":1}", -EINVAL,
     "field 'title' must be a string of 1..512 bytes (got 0)"},
    {__LINE__, "{\"title\":5,\"severity\":1}", -EINVAL, "field 'title' must be a string"},
    {__LINE__, "{\"title\":\"x\",\"severity\":0}", -EINVAL,
     "field 'severity' must be an integer 1..5"},
    {__LINE__, "{\"title\":\"x\",\"severity\":6}", -EINVAL, "field 'severity' must be"},
    {__LINE__, "{\"title\":\"x\",\"severity\":\"1\"}", -EINVAL, "field 'severity' must be"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1.0}", -EINVAL, "field 'severity' must be"},
    {__LINE__, "{\"title\":\"x\",\"severity\":true}", -EINVAL, "field 'severity' must be"},
    {__LINE__, "{\"title\":\"x\",\"severity\":null}", -EINVAL, "field 'severity' must be"},
    {__LINE__, "{\"title\":\"x\",\"severity\":99999999999999999999}", -EBADMSG, "invalid JSON"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"source\":\"\"}", -EINVAL,
     "field 'source' must be a string of 1..128 bytes"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"grade\":1}", -EINVAL, "field 'grade'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"region\":[]}", -EINVAL, "field 'region'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"team\":{}}", -EINVAL, "field 'team'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"assignee\":false}", -EINVAL, "field 'assignee'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"fault_code\":\"\"}", -EINVAL,
     "field 'fault_code'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"external_id\":1}", -EINVAL,
     "field 'external_id'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"description\":1}", -EINVAL,
     "field 'description' must be a string of at most 65536 bytes"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"customer\":\"bob\"}", -EINVAL,
     "field 'customer' must be an object {name, phone, address}"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"customer\":{\"phone\":123}}", -EINVAL,
     "field 'customer.phone' must be a string of 1..64 bytes"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"customer\":{\"name\":\"\"}}", -EINVAL,
     "field 'customer.name'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"customer\":{\"address\":7}}", -EINVAL,
     "field 'customer.address' must be a string of 1..512 bytes"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"customer\":{\"email\":\"a@b\"}}", -ENOMSG,
     "unknown field 'customer.email'; known fields: name, phone, address"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"device\":[]}", -EINVAL,
     "field 'device' must be an object {model, serial}"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"device\":{\"serial\":1}}", -EINVAL,
     "field 'device.serial'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"device\":{\"model\":1}}", -EINVAL,
     "field 'device.model'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"device\":{\"imei\":\"1\"}}", -ENOMSG,
     "unknown field 'device.imei'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"labels\":[]}", -EINVAL,
     "field 'labels' must be an object"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"labels\":{\"a\":1}}", -EINVAL,
     "field 'labels.a' must be a string"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"labels\":{\"a\":null}}", -EINVAL,
     "field 'labels.a' must be a string"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"labels\":{\"\":\"v\"}}", -EINVAL,
     "field 'labels' has a key of 0 bytes"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reported_at\":1}", -EINVAL,
     "field 'reported_at' must be an RFC 3339 time"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2026-03-01T00:00:00\"}", -EINVAL,
     "field 'reported_at': '2026-03-01T00:00:00' is not an RFC 3339 time"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2026-03-01T00:05:01Z\"}", -EINVAL,
     "field 'reported_at' lies more than 5 minutes in the future"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"appointment_at\":\"2026-02-30T00:00:00Z\"}",
     -EINVAL, "field 'appointment_at': '2026-02-30T00:00:00Z' is not an RFC 3339 time (day"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"appointment_at\":true}", -EINVAL,
     "field 'appointment_at' must be an RFC 3339 time"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"status\":\"open\"}", -EROFS,
     "field 'status' is set by slad"},
    {__LINE__, "{\"id\":1,\"title\":\"x\",\"severity\":1}", -EROFS, "field 'id' is set by slad"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"policy\":\"p\"}", -EROFS, "field 'policy'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"clocks\":[]}", -EROFS, "field 'clocks'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"created_at\":null}", -EROFS,
     "field 'created_at'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"updated_at\":1}", -EROFS, "field 'updated_at'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"reopen_count\":1}", -EROFS,
     "field 'reopen_count'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"repeat_count\":1}", -EROFS,
     "field 'repeat_count'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"history\":[]}", -EROFS, "field 'history'"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"titel\":\"y\"}", -ENOMSG,
     "unknown field 'titel'; known fields: source, external_id, title"},
    {__LINE__, "{\"title\":\"x\",\"severity\":1,\"events\":[]}", -ENOMSG, "unknown field 'events'"},
    /* the first problem in document order wins */
    {__LINE__, "{\"zzz\":1,\"severity\":9}", -ENOMSG, "unknown field 'zzz'"},
    {__LINE__, "{\"severity\":9,\"zzz\":1}", -EINVAL, "field 'severity'"},
};

static void test_ticket_errors(void **state)
{
    for (size_t i = 0; i < sizeof(ticket_errors) / sizeof(ticket_errors[0]); i++) {
        struct ticket t;
        struct slad_error err = {""};
        t.id = 77;
        int r = parse_ticket(ticket_errors[i].body, &t, &err);
        if (r != ticket_errors[i].code || !strstr(err.msg, ticket_errors[i].msg))
            fail_msg("line %d: %d '%s', want %d with '%s'", ticket_errors[i].line, r, err.msg,
                     ticket_errors[i].code, ticket_errors[i].msg);
        assert_int_equal(t.id, 77); /* untouched on failure */
    }
}

/* Long values: the limits are bytes, exactly. */
static void test_ticket_limits(void **state)
{
    static const struct {
        int line;
        const char *field;
        const char *wrap; /* printf with %s for the value */
        size_t max;
    } cases[] = {
        {__LINE__, "title", "{\"severity\":1,\"title\":\"%s\"}", 512},
        {__LINE__, "source", "{\"title\":\"t\",\"severity\":1,\"source\":\"%s\"}", 128},
        {__LINE__, "team", "{\"title\":\"t\",\"severity\":1,\"team\":\"%s\"}", 128},
        {__LINE__, "description", "{\"title\":\"t\",\"severity\":1,\"description\":\"%s\"}", 65536},
        {__LINE__, "customer.address",
         "{\"title\":\"t\",\"severity\":1,\"customer\":{\"address\":\"%s\"}}", 512},
        {__LINE__, "labels.k", "{\"title\":\"t\",\"severity\":1,\"labels\":{\"k\":\"%s\"}}", 128},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            size_t n = cases[i].max + extra;
            char *value = malloc(n + 1);
            memset(value, 'a', n);
            if (n >= 3) /* a multi-byte character at the end counts its bytes */
                memcpy(value + n - 3, "中", 3);
            value[n] = '\0';
            size_t size = strlen(cases[i].wrap) + n + 1;
            char *body = malloc(size);
            /* wrap holds one %s: the value goes there (a table's format is not a literal). */
            const char *hole = strstr(cases[i].wrap, "%s");
            snprintf(body, size, "%.*s%s%s", (int)(hole - cases[i].wrap), cases[i].wrap, value,
                     hole + 2);
            struct ticket t;
            struct slad_error err = {""};
            int r = parse_ticket(body, &t, &err);
            if (extra == 0 && r != 0)
                fail_msg("line %d: %zu bytes refused: %s", cases[i].line, n, err.msg);
            if (extra == 1) {
                char want[64];
                snprintf(want, sizeof(want), "field '%s'", cases[i].field);
                if (r != -EINVAL || !strstr(err.msg, want))
                    fail_msg("line %d: %zu bytes: %d '%s'", cases[i].line, n, r, err.msg);
            }
            if (r == 0)
                ticket_done(&t);
            free(body);
            free(value);
        }
    }
    /* TICKET_MAX_LABELS labels, and one more. */
    for (int extra = 0; extra < 2; extra++) {
        char body[4096] = "{\"title\":\"t\",\"severity\":1,\"labels\":{";
        for (int i = 0; i < TICKET_MAX_LABELS + extra; i++) {
            char one[32];
            snprintf(one, sizeof(one), "%s\"k%d\":\"v\"", i ? "," : "", i);
            append(body, sizeof(body), one);
        }
        append(body, sizeof(body), "}}");
        struct ticket t;
        struct slad_error err = {""};
        int r = parse_ticket(body, &t, &err);
        if (extra == 0) {
            assert_int_equal(r, 0);
            assert_int_equal(t.n_labels, TICKET_MAX_LABELS);
            ticket_done(&t);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_non_null(strstr(err.msg, "field 'labels' has 33 labels"));
        }
    }
}

/* ---- events ---- */

static const struct {
    int line;
    const char *body;
    int code;
    const char *msg;                    /* error substring, or NULL on success */
    enum ticket_event_type type;        /* on success */
    int64_t at_ms;                      /* on success */
    const char *by, *assignee, *reason; /* on success */
} event_cases[] = {
    {.line = __LINE__,
     .body = "{\"type\":\"acknowledge\"}",
     .code = 0,
     .msg = NULL,
     .type = TICKET_EVENT_ACKNOWLEDGE,
     .at_ms = NOW_MS},
    {.line = __LINE__,
     .body = "{\"type\":\"dispatch\",\"assignee\":\"li\",\"by\":\"ops\",\"note\":\"n\"}",
     .code = 0,
     .msg = NULL,
     .type = TICKET_EVENT_DISPATCH,
     .at_ms = NOW_MS,
     .by = "ops",
     .assignee = "li"},
    {.line = __LINE__,
     .body = "{\"type\":\"hold\",\"reason\":\"parts\",\"at\":\"2026-02-28T23:00:00Z\"}",
     .code = 0,
     .msg = NULL,
     .type = TICKET_EVENT_HOLD,
     .at_ms = NOW_MS - 3600000,
     .by = NULL,
     .assignee = NULL,
     .reason = "parts"},
    {.line = __LINE__,
     .body = "{\"type\":\"cancel\",\"reason\":\"dup\",\"at\":null,\"by\":null}",
     .code = 0,
     .msg = NULL,
     .type = TICKET_EVENT_CANCEL,
     .at_ms = NOW_MS,
     .by = NULL,
     .assignee = NULL,
     .reason = "dup"},
    {.line = __LINE__,
     .body = "{\"type\":\"comment\",\"at\":\"2026-03-01T00:04:00Z\"}",
     .code = 0,
     .msg = NULL,
     .type = TICKET_EVENT_COMMENT,
     .at_ms = NOW_MS},
    {.line = __LINE__, .body = "{}", .code = -ENODATA, .msg = "field 'type' is required"},
    {.line = __LINE__,
     .body = "{\"by\":\"x\"}",
     .code = -ENODATA,
     .msg = "field 'type' is required"},
    {.line = __LINE__,
     .body = "{\"type\":1}",
     .code = -EINVAL,
     .msg = "field 'type' must be one of acknowledge, dispatch"},
    {.line = __LINE__,
     .body = "{\"type\":\"fix\"}",
     .code = -EINVAL,
     .msg = "field 'type' must be one of"},
    {.line = __LINE__, .body = "{\"type\":\"fix\"}", .code = -EINVAL, .msg = "got 'fix'"},
    {.line = __LINE__,
     .body = "{\"type\":\"dispatch\"}",
     .code = -ENODATA,
     .msg = "field 'assignee' is required for dispatch"},
    {.line = __LINE__,
     .body = "{\"type\":\"dispatch\",\"assignee\":\"\"}",
     .code = -EINVAL,
     .msg = "field 'assignee' must be"},
    {.line = __LINE__,
     .body = "{\"type\":\"arrive\",\"assignee\":\"x\"}",
     .code = -EINVAL,
     .msg = "field 'assignee' applies only to dispatch"},
    {.line = __LINE__,
     .body = "{\"type\":\"hold\"}",
     .code = -ENODATA,
     .msg = "field 'reason' is required for hold"},
    {.line = __LINE__,
     .body = "{\"type\":\"hold\",\"reason\":3}",
     .code = -EINVAL,
     .msg = "field 'reason' must be a string"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"at\":\"yesterday\"}",
     .code = -EINVAL,
     .msg = "field 'at': 'yesterday' is not an RFC 3339 time"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"at\":5}",
     .code = -EINVAL,
     .msg = "field 'at' must be an RFC 3339"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"at\":\"2026-03-01T00:05:00.001Z\"}",
     .code = -EINVAL,
     .msg = "field 'at' lies more than 5 minutes in the future"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"by\":\"\"}",
     .code = -EINVAL,
     .msg = "field 'by' must be a string"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"note\":[]}",
     .code = -EINVAL,
     .msg = "field 'note' must be a string"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"when\":1}",
     .code = -ENOMSG,
     .msg = "unknown field 'when'; known fields: type, at, by, note, assignee, reason"},
    {.line = __LINE__,
     .body = "{\"type\":\"resolve\",\"type\":\"close\"}",
     .code = -EBADMSG,
     .msg = "duplicate"},
    {.line = __LINE__, .body = "[]", .code = -EBADMSG, .msg = "must be a JSON object"},
};

static void test_events(void **state)
{
    for (size_t i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]); i++) {
        struct jsonx_event e;
        struct slad_error err = {""};
        int r =
            jsonx_event_parse(event_cases[i].body, strlen(event_cases[i].body), NOW_MS, &e, &err);
        if (r != event_cases[i].code ||
            (event_cases[i].msg && !strstr(err.msg, event_cases[i].msg)))
            fail_msg("line %d: %d '%s', want %d '%s'", event_cases[i].line, r, err.msg,
                     event_cases[i].code, event_cases[i].msg ? event_cases[i].msg : "");
        if (r != 0)
            continue;
        if (e.ev.type != event_cases[i].type || e.ev.at_ms != event_cases[i].at_ms)
            fail_msg("line %d: type %d at %lld", event_cases[i].line, e.ev.type,
                     (long long)e.ev.at_ms);
        const char *want[3] = {event_cases[i].by, event_cases[i].assignee, event_cases[i].reason};
        const char *got[3] = {e.ev.by, e.ev.assignee, e.ev.reason};
        for (int k = 0; k < 3; k++)
            if ((want[k] == NULL) != (got[k] == NULL) || (want[k] && strcmp(want[k], got[k])))
                fail_msg("line %d: string %d is '%s'", event_cases[i].line, k,
                         got[k] ? got[k] : "(null)");
        jsonx_event_done(&e);
    }
    jsonx_event_done(NULL);
}

/* ---- PATCH ---- */

static void test_patch(void **state)
{
    const char *body = "{\"severity\":3,\"grade\":null,\"region\":\"county\",\"team\":\"south\","
                       "\"assignee\":\"li\",\"appointment_at\":\"2026-03-02T00:00:00Z\","
                       "\"labels\":{\"a\":\"1\",\"b\":null}}";
    struct jsonx_patch p;
    struct slad_error err = {""};
    int r = jsonx_patch_parse(body, strlen(body), &p, &err);
    if (r != 0)
        fail_msg("%d %s", r, err.msg);
    const struct ticket_patch *tp = &p.patch;
    assert_true(tp->has_severity && tp->has_grade && tp->has_region && tp->has_team &&
                tp->has_assignee && tp->has_appointment_at);
    assert_int_equal(tp->severity, 3);
    assert_null(tp->grade);
    assert_string_equal(tp->region, "county");
    assert_string_equal(tp->team, "south");
    assert_string_equal(tp->assignee, "li");
    assert_int_equal(tp->appointment_at_ms, NOW_MS + 86400000);
    assert_int_equal(tp->n_labels, 2);
    assert_string_equal(tp->labels[0].key, "a");
    assert_string_equal(tp->labels[0].value, "1");
    assert_string_equal(tp->labels[1].key, "b");
    assert_null(tp->labels[1].value);
    jsonx_patch_done(&p);

    body = "{\"appointment_at\":null}";
    assert_int_equal(jsonx_patch_parse(body, strlen(body), &p, &err), 0);
    assert_true(p.patch.has_appointment_at && !p.patch.has_severity && !p.patch.has_team);
    assert_int_equal(p.patch.appointment_at_ms, SLAD_NO_TIME);
    assert_int_equal(p.patch.n_labels, 0);
    jsonx_patch_done(&p);

    /* Texts set at creation can be corrected: the members given, null clears. */
    body = "{\"title\":\"Chiller 3 down\",\"description\":null,"
           "\"customer\":{\"phone\":\"+8613900000001\"},\"device\":{\"serial\":null}}";
    if ((r = jsonx_patch_parse(body, strlen(body), &p, &err)) != 0)
        fail_msg("%d %s", r, err.msg);
    assert_true(p.patch.has_text[TICKET_TEXT_TITLE] && p.patch.has_text[TICKET_TEXT_DESCRIPTION]);
    assert_true(p.patch.has_text[TICKET_TEXT_CUSTOMER_PHONE]);
    assert_true(p.patch.has_text[TICKET_TEXT_DEVICE_SERIAL]);
    assert_false(p.patch.has_text[TICKET_TEXT_CUSTOMER_NAME] ||
                 p.patch.has_text[TICKET_TEXT_DEVICE_MODEL] || p.patch.has_severity);
    assert_string_equal(p.patch.text[TICKET_TEXT_TITLE], "Chiller 3 down");
    assert_null(p.patch.text[TICKET_TEXT_DESCRIPTION]);
    assert_string_equal(p.patch.text[TICKET_TEXT_CUSTOMER_PHONE], "+8613900000001");
    assert_null(p.patch.text[TICKET_TEXT_DEVICE_SERIAL]);
    jsonx_patch_done(&p);

    body = "{}";
    assert_int_equal(jsonx_patch_parse(body, strlen(body), &p, &err), 0);
    jsonx_patch_done(&p);
    jsonx_patch_done(NULL);

    static const struct {
        int line;
        const char *body;
        int code;
        const char *msg;
    } errors[] = {
        {__LINE__, "{\"severity\":null}", -EINVAL, "field 'severity' cannot be cleared"},
        {__LINE__, "{\"severity\":7}", -EINVAL, "field 'severity' must be an integer 1..5"},
        {__LINE__, "{\"grade\":\"\"}", -EINVAL, "field 'grade' must be a string of 1..128"},
        {__LINE__, "{\"region\":1}", -EINVAL, "field 'region'"},
        {__LINE__, "{\"team\":[]}", -EINVAL, "field 'team'"},
        {__LINE__, "{\"assignee\":{}}", -EINVAL, "field 'assignee'"},
        {__LINE__, "{\"appointment_at\":\"soon\"}", -EINVAL, "field 'appointment_at': 'soon'"},
        {__LINE__, "{\"labels\":null}", -EINVAL, "field 'labels' must be an object"},
        {__LINE__, "{\"labels\":{\"a\":1}}", -EINVAL, "field 'labels.a' must be a string"},
        {__LINE__, "{\"labels\":{\"\":\"x\"}}", -EINVAL, "key of 0 bytes"},
        {__LINE__, "{\"title\":null}", -EINVAL, "field 'title'"},
        {__LINE__, "{\"title\":\"\"}", -EINVAL, "field 'title' must be a string of 1..512"},
        {__LINE__, "{\"customer\":\"Li\"}", -EINVAL, "field 'customer' must be an object"},
        {__LINE__, "{\"customer\":{\"mail\":\"x\"}}", -ENOMSG, "unknown field 'customer.mail'"},
        {__LINE__, "{\"device\":{\"serial\":\"\"}}", -EINVAL, "field 'device.serial'"},
        {__LINE__, "{\"source\":\"crm\"}", -EROFS,
         "field 'source' cannot be changed after creation"},
        {__LINE__, "{\"fault_code\":\"E1\"}", -EROFS, "field 'fault_code' cannot be changed"},
        {__LINE__, "{\"reported_at\":null}", -EROFS, "field 'reported_at' cannot be changed"},
        {__LINE__, "{\"status\":\"closed\"}", -EROFS, "field 'status' is set by slad"},
        {__LINE__, "{\"colour\":\"red\"}", -ENOMSG,
         "unknown field 'colour'; known fields: severity, grade"},
        {__LINE__, "{\"team\":\"a\",\"team\":\"b\"}", -EBADMSG, "duplicate"},
        {__LINE__, "null", -EBADMSG, "must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        memset(&err, 0, sizeof(err));
        r = jsonx_patch_parse(errors[i].body, strlen(errors[i].body), &p, &err);
        if (r != errors[i].code || !strstr(err.msg, errors[i].msg))
            fail_msg("line %d: %d '%s', want %d '%s'", errors[i].line, r, err.msg, errors[i].code,
                     errors[i].msg);
    }
}

/* ---- simulate ---- */

static void test_simulate(void **state)
{
    const char *body =
        "{\"title\":\"x\",\"severity\":1,\"reported_at\":\"2030-01-01T00:00:00Z\","
        "\"events\":[{\"type\":\"acknowledge\",\"at\":\"2030-01-01T00:30:00Z\"},"
        "{\"type\":\"dispatch\",\"assignee\":\"li\",\"at\":\"2030-01-01T00:30:00Z\"},"
        "{\"type\":\"resolve\",\"at\":\"2030-01-02T00:00:00Z\",\"note\":\"ok\"}]}";
    struct jsonx_simulate s;
    struct slad_error err = {""};
    int r = jsonx_simulate_parse(body, strlen(body), NOW_MS, &s, &err);
    if (r != 0)
        fail_msg("%d %s", r, err.msg);
    int64_t t0 = INT64_C(1893456000000);
    assert_int_equal(s.ticket.reported_at_ms, t0); /* the future is fine in a simulation */
    assert_int_equal(s.n_events, 3);
    assert_int_equal(s.evs[0].type, TICKET_EVENT_ACKNOWLEDGE);
    assert_int_equal(s.evs[1].at_ms, t0 + 1800000);
    assert_string_equal(s.evs[1].assignee, "li");
    assert_string_equal(s.evs[2].note, "ok");
    assert_int_equal(s.until_ms, t0 + 86400000 + INT64_C(400) * 86400000);
    jsonx_simulate_done(&s);

    body = "{\"title\":\"x\",\"severity\":1,\"until\":\"2026-03-10T00:00:00Z\",\"events\":null}";
    assert_int_equal(jsonx_simulate_parse(body, strlen(body), NOW_MS, &s, &err), 0);
    assert_int_equal(s.n_events, 0);
    assert_int_equal(s.ticket.reported_at_ms, NOW_MS);
    assert_int_equal(s.until_ms, NOW_MS + 9 * INT64_C(86400000));
    jsonx_simulate_done(&s);
    jsonx_simulate_done(NULL);

    static const struct {
        int line;
        const char *body;
        int code;
        const char *msg;
    } errors[] = {
        {__LINE__, "{\"severity\":1,\"events\":[]}", -ENODATA, "field 'title' is required"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"events\":{}}", -EINVAL,
         "field 'events' must be an array"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"events\":[1]}", -EINVAL,
         "field 'events[0]' must be an object"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"events\":[{\"type\":\"resolve\"}]}", -ENODATA,
         "field 'events[0].at' is required"},
        {__LINE__,
         "{\"title\":\"x\",\"severity\":1,\"events\":[{\"type\":\"resolve\",\"at\":"
         "\"2026-03-01T00:00:00Z\"},{\"type\":\"hold\",\"at\":\"2026-03-01T00:00:00Z\"}]}",
         -ENODATA, "field 'events[1].reason' is required for hold"},
        {__LINE__,
         "{\"title\":\"x\",\"severity\":1,\"events\":[{\"type\":\"resolve\",\"x\":1,\"at\":"
         "\"2026-03-01T00:00:00Z\"}]}",
         -ENOMSG, "unknown field 'events[0].x'"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"until\":\"2026-02-01T00:00:00Z\"}", -EINVAL,
         "field 'until' lies before"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"until\":\"2036-02-01T00:00:00Z\"}", -EINVAL,
         "field 'until' lies more than 5 years"},
        {__LINE__, "{\"title\":\"x\",\"severity\":1,\"until\":7}", -EINVAL,
         "field 'until' must be an RFC 3339"},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        memset(&err, 0, sizeof(err));
        r = jsonx_simulate_parse(errors[i].body, strlen(errors[i].body), NOW_MS, &s, &err);
        if (r != errors[i].code || !strstr(err.msg, errors[i].msg))
            fail_msg("line %d: %d '%s', want %d '%s'", errors[i].line, r, err.msg, errors[i].code,
                     errors[i].msg);
    }
    /* Too many events. */
    size_t size = 64 + (JSONX_SIM_MAX_EVENTS + 1) * 64;
    char *big = malloc(size);
    big[0] = '\0';
    append(big, size, "{\"title\":\"x\",\"severity\":1,\"events\":[");
    for (int i = 0; i <= JSONX_SIM_MAX_EVENTS; i++)
        append(big, size, i ? ",{\"type\":\"comment\"}" : "{\"type\":\"comment\"}");
    append(big, size, "]}");
    r = jsonx_simulate_parse(big, strlen(big), NOW_MS, &s, &err);
    assert_int_equal(r, -EINVAL);
    assert_non_null(strstr(err.msg, "field 'events' has 257 events"));
    free(big);
}

/* ---- rendering ---- */

static const char conf_text[] =
    "policies = ( { name = \"default\"; match = { }; calendar = \"24x7\";\n"
    "  clocks = ( { name = \"response\"; target = \"1h\"; stop = [\"acknowledge\"]; } ); } );\n";

static json_t *parse_json(const char *s)
{
    json_error_t jerr;
    json_t *v = json_loads(s, 0, &jerr);
    if (!v)
        fail_msg("output is not JSON: %s: %s", jerr.text, s);
    return v;
}

static void test_render_ticket(void **state)
{
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    int r = conf_load_string(conf_text, "test.conf", &conf, &errs);
    if (r != 0)
        fail_msg("conf: %s", errs.text ? errs.text : "?");
    conf_errors_done(&errs);

    struct ticket t;
    struct slad_error err = {""};
    assert_int_equal(parse_ticket(full_body, &t, &err), 0);
    t.id = 42;
    t.policy = strdup("default");
    t.created_at_ms = t.updated_at_ms = NOW_MS;
    t.status = TICKET_ON_SITE;
    t.reopen_count = 1;
    t.repeat_count = 2;
    struct slaclock *c = &t.clocks[t.n_clocks++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "response");
    c->state = SLACLOCK_RUNNING;
    c->target_ms = 3600000;
    c->elapsed_ms = 60000;
    c->since_ms = NOW_MS;
    c->started_at_ms = NOW_MS - 60000;
    c->due_at_ms = NOW_MS + 3540000;
    c->stopped_at_ms = c->breached_at_ms = SLAD_NO_TIME;

    json_t *v = jsonx_ticket_render(&t, conf, NOW_MS + 120500);
    assert_non_null(v);
    size_t len;
    char *text = jsonx_dump(v, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    json_decref(v);
    v = parse_json(text);
    assert_int_equal(json_integer_value(json_object_get(v, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "on_site");
    assert_string_equal(json_string_value(json_object_get(v, "policy")), "default");
    assert_string_equal(json_string_value(json_object_get(v, "reported_at")),
                        "2026-02-28T23:00:00Z");
    assert_string_equal(json_string_value(json_object_get(v, "appointment_at")),
                        "2026-03-02T02:00:00.250Z");
    assert_string_equal(json_string_value(json_object_get(v, "created_at")),
                        "2026-03-01T00:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(v, "reopen_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(v, "repeat_count")), 2);
    json_t *clock = json_array_get(json_object_get(v, "clocks"), 0);
    assert_non_null(clock);
    static const char *const clock_keys[] = {"name",   "state",      "target_s",   "elapsed_s",
                                             "due_at", "started_at", "stopped_at", "breached_at"};
    assert_int_equal(json_object_size(clock), 8);
    for (size_t i = 0; i < 8; i++)
        assert_non_null(json_object_get(clock, clock_keys[i]));
    assert_string_equal(json_string_value(json_object_get(clock, "state")), "running");
    assert_int_equal(json_integer_value(json_object_get(clock, "target_s")), 3600);
    /* 60 s stored + 120.5 s counted in 24x7 up to now. */
    assert_int_equal(json_integer_value(json_object_get(clock, "elapsed_s")), 180);
    assert_true(json_is_null(json_object_get(clock, "stopped_at")));
    assert_string_equal(json_string_value(json_object_get(clock, "due_at")),
                        "2026-03-01T00:59:00Z");

    /* Round trip: the rendered ticket without the fields slad sets parses back into the
     * same ticket. */
    static const char *const read_only[] = {"id",           "status",      "policy",
                                            "clocks",       "created_at",  "updated_at",
                                            "reopen_count", "repeat_count"};
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        json_object_del(v, read_only[i]);
    char *again = jsonx_dump(v, &len);
    struct ticket u;
    r = jsonx_ticket_parse(again, len, NOW_MS, &u, &err);
    if (r != 0)
        fail_msg("round trip: %s", err.msg);
    assert_string_equal(u.title, t.title);
    assert_string_equal(u.description, t.description);
    assert_string_equal(u.customer_name, t.customer_name);
    assert_string_equal(u.customer_phone, t.customer_phone);
    assert_string_equal(u.customer_address, t.customer_address);
    assert_string_equal(u.device_model, t.device_model);
    assert_string_equal(u.device_serial, t.device_serial);
    assert_string_equal(u.source, t.source);
    assert_string_equal(u.external_id, t.external_id);
    assert_string_equal(u.grade, t.grade);
    assert_string_equal(u.region, t.region);
    assert_string_equal(u.team, t.team);
    assert_string_equal(u.assignee, t.assignee);
    assert_string_equal(u.fault_code, t.fault_code);
    assert_int_equal(u.severity, t.severity);
    assert_int_equal(u.reported_at_ms, t.reported_at_ms);
    assert_int_equal(u.appointment_at_ms, t.appointment_at_ms);
    assert_int_equal(u.n_labels, t.n_labels);
    assert_string_equal(ticket_label(&u, "zone"), "east");
    ticket_done(&u);
    free(again);
    free(text);
    json_decref(v);

    /* Without a conf, the stored elapsed time; unset fields are null. */
    struct ticket bare;
    ticket_init(&bare);
    bare.title = strdup("t");
    bare.severity = 4;
    bare.reported_at_ms = 0;
    v = jsonx_ticket_render(&t, NULL, NOW_MS + 120500);
    clock = json_array_get(json_object_get(v, "clocks"), 0);
    assert_int_equal(json_integer_value(json_object_get(clock, "elapsed_s")), 60);
    json_decref(v);
    v = jsonx_ticket_render(&bare, conf, NOW_MS);
    assert_true(json_is_null(json_object_get(v, "grade")));
    assert_true(json_is_null(json_object_get(v, "policy")));
    assert_true(json_is_null(json_object_get(v, "appointment_at")));
    assert_true(json_is_null(json_object_get(json_object_get(v, "customer"), "name")));
    assert_int_equal(json_object_size(json_object_get(v, "labels")), 0);
    assert_int_equal(json_array_size(json_object_get(v, "clocks")), 0);
    json_decref(v);
    ticket_done(&bare);
    ticket_done(&t);
    conf_free(conf);
}

static void test_render_strings(void **state)
{
    size_t len = 0;
    char *s = jsonx_error_body("invalid_field", "field 'severity' must be an integer 1..5", &len);
    assert_string_equal(
        s, "{\"error\":{\"code\":\"invalid_field\",\"message\":\"field 'severity' must be an "
           "integer 1..5\"}}");
    assert_int_equal(len, strlen(s));
    free(s);
    /* A message cut inside a UTF-8 character (or holding bad bytes) still renders. */
    s = jsonx_error_body("x", "bad \xe4\xb8 and \xff end", NULL);
    assert_non_null(s);
    json_t *v = parse_json(s);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "message")),
                        "bad ?? and ? end");
    json_decref(v);
    free(s);
    /* Each kind of bad sequence is replaced byte by byte; good ones are kept. */
    static const struct {
        int line;
        const char *in, *out;
    } utf8[] = {
        {__LINE__, "\xc3\xa9", "\xc3\xa9"},                      /* e acute */
        {__LINE__, "\xf0\x9f\x98\x80\xff", "\xf0\x9f\x98\x80?"}, /* emoji, then bad */
        {__LINE__, "\xc0\xaf", "??"},                            /* overlong '/' */
        {__LINE__, "\xe0\x80\xaf", "???"},                       /* overlong, 3 bytes */
        {__LINE__, "\xed\xa0\x80", "???"},                       /* surrogate */
        {__LINE__, "\xf0\x80\x80\xaf", "????"},                  /* overlong, 4 bytes */
        {__LINE__, "\xf4\x90\x80\x80", "????"},                  /* past U+10FFFF */
        {__LINE__, "\xf8\x88\x80\x80\x80", "?????"},             /* 5 bytes */
        {__LINE__, "a\xe4\xb8", "a??"},                          /* cut short */
    };
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
        v = jsonx_string(utf8[i].in);
        if (!v || strcmp(json_string_value(v), utf8[i].out) != 0)
            fail_msg("line %d: got '%s'", utf8[i].line, v ? json_string_value(v) : "(null)");
        json_decref(v);
    }
    s = jsonx_error_body("x", NULL, NULL);
    assert_non_null(strstr(s, "\"message\":\"\""));
    free(s);

    v = jsonx_string(NULL);
    assert_true(json_is_null(v));
    json_decref(v);
    v = jsonx_time(SLAD_NO_TIME);
    assert_true(json_is_null(v));
    json_decref(v);
    v = jsonx_time(1500);
    assert_string_equal(json_string_value(v), "1970-01-01T00:00:01.500Z");
    json_decref(v);

    static const struct {
        int r;
        const char *code;
    } codes[] = {{-EBADMSG, "invalid_json"},  {-EINVAL, "invalid_field"},
                 {-ENODATA, "missing_field"}, {-ENOMSG, "unknown_field"},
                 {-EROFS, "read_only_field"}, {-ENOMEM, "internal"}};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_string_equal(jsonx_error_code(codes[i].r), codes[i].code);

    /* Long user text is cut on a character boundary in messages. */
    char key[200];
    memset(key, 0, sizeof(key));
    append(key, sizeof(key), "{\"");
    for (int i = 0; i < 40; i++)
        append(key, sizeof(key), "键");
    append(key, sizeof(key), "\":1}");
    struct ticket t;
    struct slad_error err;
    assert_int_equal(parse_ticket(key, &t, &err), -ENOMSG);
    assert_non_null(strstr(err.msg, "...'"));
    s = jsonx_error_body("unknown_field", err.msg, NULL);
    v = parse_json(s);
    assert_null(
        strchr(json_string_value(json_object_get(json_object_get(v, "error"), "message")), '?'));
    json_decref(v);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse),     cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_ticket_full),    cmocka_unit_test(test_ticket_minimal),
        cmocka_unit_test(test_ticket_errors),  cmocka_unit_test(test_ticket_limits),
        cmocka_unit_test(test_events),         cmocka_unit_test(test_patch),
        cmocka_unit_test(test_simulate),       cmocka_unit_test(test_render_ticket),
        cmocka_unit_test(test_render_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
