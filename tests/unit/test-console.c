/* test-console.c - the console's sign-in below the daemon: the forms of password hashes
 * (passhash), the contact's password_hash and access in the config, sessions' expiry on
 * explicit instants and their tokens (session), the sign-in body (jsonx_session), the
 * access table per level (api_access), and the session routes and access checks of the API
 * over the real service and an in-memory store (sessions stored, found, touched, expired,
 * purged, deleted). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agenda.h"
#include "api.h"
#include "apifixture.h"
#include "conf_load.h"
#include "jsonx_session.h"
#include "metrics.h"
#include "passhash.h"
#include "service.h"
#include "session.h"
#include "store.h"
#include "store_session.h"

#define T0_MS   INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define HOUR_MS INT64_C(3600000)

/* Hashes libxcrypt wrote (crypt_gensalt + crypt). */
#define YESCRYPT "$y$j9T$zZi2M9.3vFAJmRyxJPrbZ/$ahRto/pb8YxL2/vSKgf864xodDkrxzYlV0KxvZFMC57"
#define SHA512                                                                                     \
    "$6$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/"                       \
    "LgrOWMBMXqiU2pLrXsSOHNUyUm91"
#define SHA512_ROUNDS                                                                              \
    "$6$rounds=10000$saltsalt$"                                                                    \
    "BlEC2vxHYlhrhUhfBHpvxx2lBHwNhJYtpcY7g2BtmgXPJpcFuRAtNBYnQkhLjexkrGu2o."                       \
    "yzQgw/8.eBHd63.1"
#define BCRYPT "$2b$12$N9aimSnbIoiQ4JvHLracRe0.uM8fVAlMcetZTO5XbHLmlaG2lJIEK"

/* ---- password hashes ---- */

static void test_passhash_forms(void **state)
{
    (void)state;
    static const struct {
        const char *hash;
        bool ok;
    } cases[] = {
        {YESCRYPT, true},
        {SHA512, true},
        {SHA512_ROUNDS, true},
        {BCRYPT, true},
        {"", false},
        {"hunter2", false},                                     /* a password, not a hash */
        {"$1$abc$def", false},                                  /* MD5 */
        {"$2a$12$abcdefghijklmnopqrstuu5Oc9", false},           /* not $2b$ */
        {"$y$j9T$zZi2M9.3vFAJmRyxJPrbZ/$ahRto/pb8YxL2", false}, /* cut short */
        {"$y$j9T$$ahRto/pb8YxL2/vSKgf864xodDkrxzYlV0KxvZFMC57", false},
        {YESCRYPT "x", false},
        {"$6$saltsalt$short", false},
        {"$6$rounds=10$saltsalt$"
         "BlEC2vxHYlhrhUhfBHpvxx2lBHwNhJYtpcY7g2BtmgXPJpcFuRAtNBYnQkhLjexkrGu2o."
         "yzQgw/8.eBHd63.1",
         false},
        {"$2b$99$N9aimSnbIoiQ4JvHLracRe0.uM8fVAlMcetZTO5XbHLmlaG2lJIEK", false},
        {"$2b$12$N9aimSnbIoiQ4JvHLracRe0.uM8fVAlMcetZTO5XbHLmlaG2lJIE!", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *why = NULL;
        bool ok = passhash_valid(cases[i].hash, &why);
        if (ok != cases[i].ok)
            fail_msg("case %zu '%s': %s", i, cases[i].hash, ok ? "accepted" : why);
        if (!ok)
            assert_non_null(why);
    }
    assert_false(passhash_valid(NULL, NULL));
}

/* ---- the config ---- */

static void test_conf_password_and_access(void **state)
{
    (void)state;
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    const char *text =
        "contacts = ( { name = \"a\"; password_hash = \"" YESCRYPT "\"; access = \"admin\"; },\n"
        "             { name = \"o\"; password_hash = \"" SHA512 "\"; access = \"operator\"; },\n"
        "             { name = \"v\"; password_hash = \"" BCRYPT "\"; },\n"
        "             { name = \"n\"; } );\n"
        "policies = ( { name = \"d\"; match = { }; calendar = \"24x7\"; } );\n";
    if (conf_load_string(text, "t.conf", &conf, &errs) != 0)
        fail_msg("%s", errs.text);
    conf_errors_done(&errs);
    assert_string_equal(conf_find_contact(conf, "a")->password_hash, YESCRYPT);
    assert_int_equal(conf_find_contact(conf, "a")->access, CONTACT_ADMIN);
    assert_int_equal(conf_find_contact(conf, "o")->access, CONTACT_OPERATOR);
    assert_int_equal(conf_find_contact(conf, "v")->access, CONTACT_VIEWER);
    assert_null(conf_find_contact(conf, "n")->password_hash);
    char *summary = conf_summary(conf);
    assert_non_null(strstr(summary, " a (admin, password set)"));
    assert_non_null(strstr(summary, " v (viewer, password set)"));
    assert_null(strstr(summary, "$y$"));
    assert_null(strstr(summary, "n ("));
    free(summary);
    conf_free(conf);

    /* A malformed hash and an unknown access: refused, the hash never quoted. */
    text = "contacts = ( { name = \"wang.wei\"; password_hash = \"$1$abc$secretish\"; },\n"
           "             { name = \"b\"; access = \"root\"; } );\n"
           "policies = ( { name = \"d\"; match = { }; calendar = \"24x7\"; } );\n";
    assert_int_not_equal(conf_load_string(text, "t.conf", &conf, &errs), 0);
    assert_non_null(strstr(errs.text, "t.conf:1"));
    assert_non_null(strstr(errs.text, "password hash of contact 'wang.wei'"));
    assert_non_null(strstr(errs.text, "slactl passwd"));
    assert_null(strstr(errs.text, "secretish"));
    assert_non_null(strstr(errs.text, "t.conf:2"));
    assert_non_null(strstr(errs.text, "'root'"));
    conf_errors_done(&errs);
}

/* ---- sessions as data ---- */

static void test_session_expiry(void **state)
{
    (void)state;
    struct session s = {.created_ms = T0_MS, .last_seen_ms = T0_MS};
    /* Idle: 12 h after the last request. */
    assert_int_equal(session_expires_ms(&s), T0_MS + 12 * HOUR_MS);
    assert_true(session_live(&s, T0_MS + 12 * HOUR_MS - 1));
    assert_false(session_live(&s, T0_MS + 12 * HOUR_MS));
    /* Used every 11 h it lives on, but never past 7 days after sign-in. */
    for (int64_t t = T0_MS; t < T0_MS + 7 * 24 * HOUR_MS; t += 11 * HOUR_MS) {
        assert_true(session_live(&s, t));
        s.last_seen_ms = t;
    }
    assert_int_equal(session_expires_ms(&s), T0_MS + 7 * 24 * HOUR_MS);
    assert_false(session_live(&s, T0_MS + 7 * 24 * HOUR_MS));
    /* last_seen is written back at most once a minute. */
    s.last_seen_ms = T0_MS;
    assert_false(session_needs_touch(&s, T0_MS + 59999));
    assert_true(session_needs_touch(&s, T0_MS + 60000));
}

static void test_session_tokens(void **state)
{
    (void)state;
    unsigned char bytes[SESSION_RANDOM_BYTES];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 37 + 250);
    char token[SESSION_TOKEN_LEN + 1];
    session_base64url(bytes, sizeof(bytes), token);
    assert_int_equal(strlen(token), SESSION_TOKEN_LEN);
    assert_true(session_token_wellformed(token));
    /* RFC 4648 section 5's alphabet, no padding. */
    char out[8];
    session_base64url((const unsigned char *)"\xfb\xff", 2, out);
    assert_string_equal(out, "-_8");
    session_base64url((const unsigned char *)"foo", 3, out);
    assert_string_equal(out, "Zm9v");
    assert_false(session_token_wellformed(NULL));
    assert_false(session_token_wellformed(""));
    assert_false(session_token_wellformed("forged"));
    token[5] = '+';
    assert_false(session_token_wellformed(token));
    char longer[SESSION_TOKEN_LEN + 2];
    memset(longer, 'A', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(session_token_wellformed(longer));
}

/* ---- the sign-in body ---- */

static void test_signin_body(void **state)
{
    (void)state;
    char *user = NULL, *password = NULL;
    struct slad_error err = {""};
    const char *ok = "{\"user\":\"wang.wei\",\"password\":\"p\\u00e4ss\"}";
    assert_int_equal(jsonx_signin_parse(ok, strlen(ok), &user, &password, &err), 0);
    assert_string_equal(user, "wang.wei");
    assert_string_equal(password, "p\xc3\xa4ss");
    free(user);
    jsonx_signin_wipe(password);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"user\":\"a\"}",
        "{\"password\":\"a\"}",
        "{\"user\":\"\",\"password\":\"a\"}",
        "{\"user\":\"a\",\"password\":\"\"}",
        "{\"user\":\"a\",\"password\":7}",
        "{\"user\":\"a\",\"password\":\"x\",\"remember\":true}",
        "{\"user\":\"a\",\"password\":\"secret\\u0000tail\"}",
        "{\"user\":\"a\",\"password\":\"secret", /* jansson would quote it */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        user = password = NULL;
        err.msg[0] = '\0';
        int r = jsonx_signin_parse(bad[i], strlen(bad[i]), &user, &password, &err);
        if (r >= 0)
            fail_msg("accepted %s", bad[i]);
        assert_null(user);
        assert_null(password);
        assert_null(strstr(err.msg, "secret"));
    }
}

/* ---- the access table ---- */

static void test_access_table(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        enum api_access needs;
    } cases[] = {
        {"POST", "/v1/session", API_ACCESS_PUBLIC},
        {"GET", "/v1/session", API_ACCESS_PUBLIC},
        {"HEAD", "/v1/session", API_ACCESS_PUBLIC},
        {"DELETE", "/v1/session", API_ACCESS_PUBLIC},
        {"GET", "/v1/actions/ABCDEFGHJK", API_ACCESS_PUBLIC},
        {"POST", "/v1/actions/ABCDEFGHJK", API_ACCESS_PUBLIC},
        {"GET", "/v1/tickets", API_ACCESS_VIEWER},
        {"GET", "/v1/tickets/42", API_ACCESS_VIEWER},
        {"HEAD", "/metrics", API_ACCESS_VIEWER},
        {"GET", "/healthz", API_ACCESS_VIEWER},
        {"POST", "/v1/simulate", API_ACCESS_VIEWER},
        {"POST", "/v1/tickets/42/events", API_ACCESS_OPERATOR},
        {"POST", "/v1/followups/7/complete", API_ACCESS_OPERATOR},
        {"POST", "/v1/notifications/9/retry", API_ACCESS_OPERATOR},
        {"POST", "/v1/tickets", API_ACCESS_ADMIN},
        {"PATCH", "/v1/tickets/42", API_ACCESS_ADMIN},
        {"POST", "/v1/reload", API_ACCESS_ADMIN},
        {"POST", "/v1/plans", API_ACCESS_ADMIN},
        {"DELETE", "/v1/plans/3", API_ACCESS_ADMIN},
        {"POST", "/v1/schedules/ops/overrides", API_ACCESS_ADMIN},
        {"POST", "/v1/intake/prom", API_ACCESS_ADMIN},
        /* Near misses fall to the defaults. */
        {"POST", "/v1/tickets/42/events/x", API_ACCESS_ADMIN},
        {"POST", "/v1/session/", API_ACCESS_ADMIN},
        {"GET", "/v1/actions/", API_ACCESS_VIEWER},
        {"POST", "/v1/tickets//events", API_ACCESS_ADMIN},
        {"CHECK", "/v1/session", API_ACCESS_ADMIN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum api_access got = api_access_needed(cases[i].method, cases[i].path);
        if (got != cases[i].needs)
            fail_msg("%s %s needs %s, not %s", cases[i].method, cases[i].path, api_access_name(got),
                     api_access_name(cases[i].needs));
    }
    assert_int_equal(api_access_of_contact(CONTACT_ADMIN), API_ACCESS_ADMIN);
    assert_int_equal(api_access_of_contact(CONTACT_OPERATOR), API_ACCESS_OPERATOR);
    assert_int_equal(api_access_of_contact(CONTACT_VIEWER), API_ACCESS_VIEWER);
}

/* ---- the routes over the service ---- */

static const char conf_text[] =
    "contacts = ( { name = \"li.na\"; password_hash = \"" YESCRYPT "\"; },\n"
    "             { name = \"wang.wei\"; password_hash = \"" YESCRYPT "\"; access = \"operator\"; "
    "},\n"
    "             { name = \"boss\"; password_hash = \"" YESCRYPT "\"; access = \"admin\"; },\n"
    "             { name = \"nopass\"; access = \"admin\"; } );\n"
    "teams = ( { name = \"t\"; roles = { supervisor = [\"boss\"]; }; } );\n"
    "policies = ( { name = \"default\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"2h\"; stop = [\"acknowledge\"]; } );\n"
    "    followups = ( { name = \"call\"; from = \"create\"; due_within = \"1h\";\n"
    "      owner = \"supervisor\"; } ); } );\n";

static int setup(void **state)
{
    struct api_fixture *f = calloc(1, sizeof(*f));
    api_fixture_open(f, conf_text, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    api_fixture_close(*state);
    free(*state);
    return 0;
}

/* req answered at now_ms: its status, the body as JSON into *ret (may be NULL). */
static int call(struct api_fixture *f, const struct api_request *req, int64_t now_ms, json_t **ret)
{
    struct api_response resp;
    api_handle(f->api, req, now_ms, &resp);
    if (ret)
        *ret = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    int status = resp.status;
    api_response_done(&resp);
    return status;
}

static const char *error_code(json_t *v)
{
    return json_string_value(json_object_get(json_object_get(v, "error"), "code"));
}

static struct session new_session(const char *contact, unsigned char seed, int64_t now_ms)
{
    struct session s = {.created_ms = now_ms, .last_seen_ms = now_ms};
    memset(s.token_hash, seed, sizeof(s.token_hash));
    snprintf(s.contact, sizeof(s.contact), "%s", contact);
    memset(s.csrf, 'a' + seed % 26, SESSION_TOKEN_LEN);
    return s;
}

static void test_sign_in_route(void **state)
{
    struct api_fixture *f = *state;
    const char *body = "{\"user\":\"wang.wei\",\"password\":\"whatever\"}";
    struct api_request req = {.method = "POST",
                              .path = "/v1/session",
                              .body = body,
                              .body_len = strlen(body),
                              .access = API_ACCESS_PUBLIC};
    json_t *v;
    /* The daemon found the password wrong: no session is given. */
    assert_int_equal(call(f, &req, T0_MS, &v), 401);
    assert_string_equal(error_code(v), "sign_in_failed");
    json_decref(v);
    /* A session of a contact without a password is refused too. */
    struct session s = new_session("nopass", 1, T0_MS);
    req.signin = &s;
    assert_int_equal(call(f, &req, T0_MS, &v), 401);
    json_decref(v);
    /* Verified: stored, answered with its access and CSRF token. */
    s = new_session("wang.wei", 2, T0_MS);
    assert_int_equal(call(f, &req, T0_MS, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "wang.wei");
    assert_string_equal(json_string_value(json_object_get(v, "access")), "operator");
    assert_string_equal(json_string_value(json_object_get(v, "csrf")), s.csrf);
    assert_string_equal(json_string_value(json_object_get(v, "expires_at")),
                        "2026-03-01T12:00:00Z");
    json_decref(v);
    struct session found;
    const struct conf_contact *contact;
    struct slad_error err = {""};
    assert_int_equal(
        service_session_find(f->svc, s.token_hash, T0_MS + HOUR_MS, &found, &contact, &err), 0);
    assert_string_equal(found.contact, "wang.wei");
    assert_int_equal(contact->access, CONTACT_OPERATOR);
    /* A bad body is a 400 before anything else. */
    req.body = "{\"user\":1}";
    req.body_len = strlen(req.body);
    assert_int_equal(call(f, &req, T0_MS, NULL), 400);
}

static void test_session_store_expiry_and_purge(void **state)
{
    struct api_fixture *f = *state;
    struct slad_error err = {""};
    struct session a = new_session("li.na", 3, T0_MS), b = new_session("boss", 4, T0_MS);
    assert_int_equal(service_session_create(f->svc, &a, T0_MS, &err), 0);
    assert_int_equal(service_session_create(f->svc, &b, T0_MS, &err), 0);
    struct session found;
    const struct conf_contact *c;
    /* Touched at 11 h, a lives past 12 h; b does not. */
    assert_int_equal(service_session_touch(f->svc, a.token_hash, T0_MS + 11 * HOUR_MS, &err), 0);
    assert_int_equal(
        service_session_find(f->svc, a.token_hash, T0_MS + 13 * HOUR_MS, &found, &c, &err), 0);
    assert_int_equal(found.last_seen_ms, T0_MS + 11 * HOUR_MS);
    assert_int_equal(
        service_session_find(f->svc, b.token_hash, T0_MS + 13 * HOUR_MS, &found, &c, &err),
        -ENOENT);
    /* A sign-in purges what has ended: b's row is gone, a's stays. */
    struct session d = new_session("boss", 5, T0_MS + 13 * HOUR_MS);
    assert_int_equal(service_session_create(f->svc, &d, T0_MS + 13 * HOUR_MS, &err), 0);
    assert_int_equal(store_session_get(f->store, b.token_hash, &found, &err), -ENOENT);
    assert_int_equal(store_session_get(f->store, a.token_hash, &found, &err), 0);
    /* The hourly purge: at 23 h a (last seen at 11 h) has ended, d (13 h) not; d ends 7
     * days after its sign-in. */
    assert_int_equal(service_session_purge(f->svc, T0_MS + 23 * HOUR_MS, &err), 0);
    assert_int_equal(store_session_get(f->store, a.token_hash, &found, &err), -ENOENT);
    assert_int_equal(store_session_get(f->store, d.token_hash, &found, &err), 0);
    assert_int_equal(service_session_purge(f->svc, T0_MS + 13 * HOUR_MS + 7 * 24 * HOUR_MS, &err),
                     0);
    assert_int_equal(store_session_get(f->store, d.token_hash, &found, &err), -ENOENT);
    assert_int_equal(service_session_create(f->svc, &a, T0_MS + 13 * HOUR_MS, &err), 0);
    /* Deleting twice is no error; an unknown hash is not found. */
    assert_int_equal(service_session_delete(f->svc, a.token_hash, &err), 0);
    assert_int_equal(service_session_delete(f->svc, a.token_hash, &err), 0);
    assert_int_equal(
        service_session_find(f->svc, a.token_hash, T0_MS + 13 * HOUR_MS, &found, &c, &err),
        -ENOENT);
}

static void test_session_get_and_delete_routes(void **state)
{
    struct api_fixture *f = *state;
    struct slad_error err = {""};
    struct session s = new_session("boss", 6, T0_MS);
    assert_int_equal(service_session_create(f->svc, &s, T0_MS, &err), 0);
    struct api_request req = {.method = "GET", .path = "/v1/session", .access = API_ACCESS_PUBLIC};
    json_t *v;
    assert_int_equal(call(f, &req, T0_MS, &v), 401);
    assert_string_equal(error_code(v), "not_signed_in");
    json_decref(v);
    req.session = &s;
    req.access = API_ACCESS_ADMIN;
    req.actor = s.contact;
    assert_int_equal(call(f, &req, T0_MS, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "access")), "admin");
    json_decref(v);
    req.method = "DELETE";
    assert_int_equal(call(f, &req, T0_MS, NULL), 204);
    struct session found;
    assert_int_equal(store_session_get(f->store, s.token_hash, &found, &err), -ENOENT);
    req.session = NULL;
    assert_int_equal(call(f, &req, T0_MS, NULL), 204);
}

/* Each level against a read, an event, a creation and a reload. */
static void test_access_per_level(void **state)
{
    struct api_fixture *f = *state;
    const char *create = "{\"title\":\"printer on fire\",\"severity\":2,\"team\":\"t\"}";
    struct api_request admin = {
        .method = "POST", .path = "/v1/tickets", .body = create, .body_len = strlen(create)};
    json_t *v;
    assert_int_equal(call(f, &admin, T0_MS, &v), 201); /* zero: full rights */
    int64_t id = json_integer_value(json_object_get(v, "id"));
    json_decref(v);
    char events[64];
    snprintf(events, sizeof(events), "/v1/tickets/%lld/events", (long long)id);
    const char *comment = "{\"type\":\"comment\",\"note\":\"x\",\"by\":\"forged\"}";
    static const struct {
        enum api_access access;
        int read, event, create, reload;
    } levels[] = {
        {API_ACCESS_PUBLIC, 401, 401, 401, 401},
        {API_ACCESS_VIEWER, 200, 403, 403, 403},
        {API_ACCESS_OPERATOR, 200, 200, 403, 403},
        {API_ACCESS_ADMIN, 200, 200, 201, 503}, /* 503: no reload hook in this fixture */
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        const char *actor = levels[i].access == API_ACCESS_PUBLIC ? NULL : "wang.wei";
        struct api_request r = {
            .method = "GET", .path = "/v1/tickets", .access = levels[i].access, .actor = actor};
        assert_int_equal(call(f, &r, T0_MS, NULL), levels[i].read);
        r = (struct api_request){.method = "POST",
                                 .path = events,
                                 .body = comment,
                                 .body_len = strlen(comment),
                                 .access = levels[i].access,
                                 .actor = actor};
        assert_int_equal(call(f, &r, T0_MS, &v), levels[i].event);
        if (levels[i].event == 403) {
            assert_string_equal(error_code(v), "forbidden");
            assert_non_null(
                strstr(json_string_value(json_object_get(json_object_get(v, "error"), "message")),
                       "needs operator access"));
        }
        json_decref(v);
        r = (struct api_request){.method = "POST",
                                 .path = "/v1/tickets",
                                 .body = create,
                                 .body_len = strlen(create),
                                 .access = levels[i].access,
                                 .actor = actor};
        assert_int_equal(call(f, &r, T0_MS, NULL), levels[i].create);
        r = (struct api_request){
            .method = "POST", .path = "/v1/reload", .access = levels[i].access, .actor = actor};
        assert_int_equal(call(f, &r, T0_MS, NULL), levels[i].reload);
    }
    /* The comments of the session acted as its contact, whatever the body said. */
    char path[64];
    snprintf(path, sizeof(path), "/v1/tickets/%lld/history", (long long)id);
    struct api_request h = {.method = "GET", .path = path};
    assert_int_equal(call(f, &h, T0_MS, &v), 200);
    json_t *rows = json_object_get(v, "history");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        if (strcmp(json_string_value(json_object_get(row, "kind")), "event") != 0)
            continue;
        assert_string_equal(json_string_value(json_object_get(row, "by")), "wang.wei");
        n++;
    }
    assert_int_equal(n, 2);
    json_decref(v);

    /* A follow-up completed in a session is done by its contact too. */
    const char *done = "{\"outcome\":\"satisfied\",\"by\":\"forged\"}";
    struct api_request fr = {.method = "POST",
                             .path = "/v1/followups/1/complete",
                             .body = done,
                             .body_len = strlen(done),
                             .access = API_ACCESS_VIEWER,
                             .actor = "li.na"};
    assert_int_equal(call(f, &fr, T0_MS, NULL), 403);
    fr.access = API_ACCESS_OPERATOR;
    fr.actor = "wang.wei";
    assert_int_equal(call(f, &fr, T0_MS, &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "completed_by")), "wang.wei");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passhash_forms),
        cmocka_unit_test(test_conf_password_and_access),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_session_tokens),
        cmocka_unit_test(test_signin_body),
        cmocka_unit_test(test_access_table),
        cmocka_unit_test_setup_teardown(test_sign_in_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_store_expiry_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_get_and_delete_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_per_level, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
