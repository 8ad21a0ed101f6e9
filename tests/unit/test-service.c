/* test-service.c - the service on a real store (":memory:" or a temporary file; under
 * meson test service-postgres, a PostgreSQL database emptied before each case), the
 * engine and the agenda, with second-scale targets on the 24x7 calendar and an injected
 * "now": creation, idempotent intake, refused events, PATCH re-choosing the policy,
 * escalation steps and their exact idempotency keys, late marks after downtime,
 * reminders, repeat faults, reload keeping fired steps fired (in batches of open tickets;
 * one refused in a later batch rolls all back), the agenda rebuilt from a
 * reopened file, and failed operations leaving store and agenda as they were (a read-only
 * SQLite URI: skipped on PostgreSQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agenda.h"
#include "conf_load.h"
#include "db.h"
#include "lifecycle.h"
#include "metrics.h"
#include "service.h"
#include "slaclock.h"
#include "store.h"
#include "testdb.h"
#include "ticket.h"

#define S  INT64_C(1000)
#define T0 INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */

#define CONF_HEAD                                                                                  \
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"            \
    "             { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"]; },\n"            \
    "             { name = \"chief\"; phone = \"+8613800000003\"; via = [\"log\"]; },\n"           \
    "             { name = \"duty\"; phone = \"+8613800000004\"; via = [\"log\", \"sms\"]; } );\n" \
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"];\n"                           \
    "                                        manager = [\"chief\"]; }; },\n"                       \
    "          { name = \"west\"; roles = { supervisor = [\"duty\"]; manager = [\"chief\"]; }; "   \
    "},\n"                                                                                         \
    "          { name = \"east\"; roles = { supervisor = [\"oncall:duty\"]; }; } );\n"             \
    "schedules = ( { name = \"duty\"; timezone = \"UTC\"; layers = ( {\n"                          \
    "  start = \"2026-03-02T08:00:00Z\"; rotation = \"1d\"; contacts = [\"boss\"]; } ); } );\n"    \
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test.jsonl\"; },\n"        \
    "             { name = \"sms\"; type = \"sms\"; url = \"http://127.0.0.1:9/send\";\n"          \
    "               method = \"POST\"; } );\n"                                                     \
    "repeat_fault = { count = 3; window = \"1h\"; notify = [\"manager\", \"contact:tech\"]; };\n"

/* fast (severity 1): response 10 s with steps at 5 s, 10 s, and +5 s every 5 s;
 * resolution 60 s; a reminder 20 s before the appointment. slow: response 40 s. */
static const char *conf_a = CONF_HEAD
    "policies = (\n"
    "  { name = \"fast\"; match = { severity = [1]; }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"10s\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\", \"manager\"]; },\n"
    "                              { at = \"+5s\"; notify = [\"manager\"]; repeat = \"5s\"; } ); "
    "},\n"
    "               { name = \"resolution\"; target = \"60s\"; stop = [\"resolve\"];\n"
    "                 pause = [\"on_hold\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; } ); } );\n"
    "    reminders = ( { before = \"20s\"; notify = [\"assignee\", \"customer\"]; } ); },\n"
    "  { name = \"slow\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"40s\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\"]; } ); },\n"
    "               { name = \"resolution\"; target = \"120s\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; } ); } ); }\n"
    ");\n";

/* The reload: fast's response target doubles to 20 s (steps at 10 s and 20 s). */
#define POLICIES_B                                                                                 \
    "  { name = \"fast\"; match = { severity = [1]; }; calendar = \"24x7\";\n"                     \
    "    clocks = ( { name = \"response\"; target = \"20s\"; stop = [\"acknowledge\", "            \
    "\"resolve\"];\n"                                                                              \
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"                  \
    "                              { at = \"100%\"; notify = [\"supervisor\", \"manager\"]; } ); " \
    "},\n"                                                                                         \
    "               { name = \"resolution\"; target = \"60s\"; stop = [\"resolve\"];\n"            \
    "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; } ); } ); },\n"        \
    "  { name = \"slow\"; match = { }; calendar = \"24x7\";\n"                                     \
    "    clocks = ( { name = \"response\"; target = \"40s\"; stop = [\"acknowledge\"]; } ); }\n"
static const char *conf_b = CONF_HEAD "policies = (\n" POLICIES_B ");\n";

struct fixture {
    struct conf *conf_a, *conf_b;
    char path[192]; /* file database or URI, "" for :memory: */
    struct store *store;
    struct agenda *agenda;
    struct metrics *metrics;
    struct service *svc;
};

static struct conf *load_conf(const char *text, const char *name)
{
    struct conf *conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(text, name, &conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return NULL;
    }
    return conf;
}

static void open_service(struct fixture *f)
{
    struct slad_error err = {{0}};
    const char *target = f->path[0] ? f->path : ":memory:";
    if (testdb_on_postgres() && !f->path[0])
        target = testdb_target();
    if (store_open(target, true, &f->store, &err) < 0)
        fail_msg("store_open: %s", err.msg);
    f->agenda = agenda_new();
    assert_non_null(f->agenda);
    assert_int_equal(service_new(f->conf_a, f->store, f->agenda, f->metrics, &f->svc, &err), 0);
}

static void close_service(struct fixture *f)
{
    service_free(f->svc);
    agenda_free(f->agenda);
    store_close(f->store);
    f->svc = NULL;
    f->agenda = NULL;
    f->store = NULL;
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.conf_a = load_conf(conf_a, "a.conf");
    f.conf_b = load_conf(conf_b, "b.conf");
    if (!f.conf_a || !f.conf_b)
        return -1;
    f.metrics = metrics_new();
    testdb_empty();
    open_service(&f);
    *state = &f;
    return 0;
}

static void remove_db(const char *path)
{
    char p[256];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

/* The same on a temporary file. */
static int setup_file(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.conf_a = load_conf(conf_a, "a.conf");
    f.conf_b = load_conf(conf_b, "b.conf");
    if (!f.conf_a || !f.conf_b)
        return -1;
    f.metrics = metrics_new();
    /* On PostgreSQL the database is already one that outlives a store's connection. */
    testdb_empty();
    if (!testdb_on_postgres()) {
        snprintf(f.path, sizeof(f.path), "/tmp/slad-test-service-%ld.db", (long)getpid());
        remove_db(f.path);
    }
    open_service(&f);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_service(f);
    if (f->path[0])
        remove_db(f->path);
    metrics_free(f->metrics);
    conf_free(f->conf_a);
    conf_free(f->conf_b);
    return 0;
}

/* A ticket body as the API would pass it. */
static void body(struct ticket *t, int severity)
{
    ticket_init(t);
    assert_int_equal(ticket_set_string(&t->title, "冰箱不制冷"), 0);
    assert_int_equal(ticket_set_string(&t->team, "north"), 0);
    assert_int_equal(ticket_set_string(&t->assignee, "tech"), 0);
    assert_int_equal(ticket_set_string(&t->customer_phone, "+8613900000000"), 0);
    t->severity = severity;
}

static int64_t create(struct fixture *f, const struct ticket *in, int64_t now_ms, bool want_new,
                      int line)
{
    struct slad_error err = {{0}};
    struct ticket out;
    bool created = !want_new;
    int r = service_ticket_create(f->svc, in, now_ms, &out, &created, &err);
    if (r < 0)
        fail_msg("line %d: create: %d %s", line, r, err.msg);
    if (created != want_new)
        fail_msg("line %d: created = %d", line, created);
    int64_t id = out.id;
    ticket_done(&out);
    return id;
}

static int64_t create_simple(struct fixture *f, int severity, int64_t now_ms, int line)
{
    struct ticket t;
    body(&t, severity);
    int64_t id = create(f, &t, now_ms, true, line);
    ticket_done(&t);
    return id;
}

static size_t fire(struct fixture *f, int64_t now_ms, int line)
{
    struct slad_error err = {{0}};
    size_t done = 99;
    int r = service_fire_due(f->svc, now_ms, 1000, &done, &err);
    if (r < 0)
        fail_msg("line %d: fire_due: %d %s", line, r, err.msg);
    return done;
}

static void event(struct fixture *f, int64_t id, enum ticket_event_type type, int64_t now_ms,
                  int line)
{
    struct slad_error err = {{0}};
    struct ticket_event ev = {.type = type, .at_ms = SLAD_NO_TIME, .by = "tester"};
    struct ticket out;
    int r = service_ticket_event(f->svc, id, &ev, now_ms, &out, &err);
    if (r < 0)
        fail_msg("line %d: event %s: %d %s", line, ticket_event_name(type), r, err.msg);
    ticket_done(&out);
}

/* The outbox as "key|event|state|late" lines, in id order. */
struct outbox_dump {
    char rows[64][160];
    size_t n;
    bool unrouted; /* a pending row without a channel */
};

static int dump_outbox_row(void *userdata, const struct outbox_row *o)
{
    struct outbox_dump *d = userdata;
    if (d->n >= 64)
        return 1;
    bool late = o->payload && strstr(o->payload, "\"late\":true");
    snprintf(d->rows[d->n++], sizeof(d->rows[0]), "%s|%s|%s%s", o->idempotency_key, o->event,
             outbox_state_name(o->state), late ? "|late" : "");
    if (o->state == OUTBOX_PENDING && !o->channel)
        d->unrouted = true;
    return 0;
}

static void outbox(struct fixture *f, int64_t ticket_id, struct outbox_dump *d)
{
    struct slad_error err = {{0}};
    memset(d, 0, sizeof(*d));
    struct outbox_filter filter = {.state = -1, .ticket_id = ticket_id, .due_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_list(f->store, &filter, dump_outbox_row, d, &err), 0);
    assert_false(d->unrouted); /* recipients are resolved when queued */
}

/* Whether the outbox of ticket_id is exactly want (NULL-terminated, in order). */
static void outbox_is(struct fixture *f, int64_t ticket_id, const char *const *want, int line)
{
    struct outbox_dump d;
    outbox(f, ticket_id, &d);
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < n || i < d.n; i++) {
        const char *got = i < d.n ? d.rows[i] : "(none)";
        const char *exp = i < n ? want[i] : "(none)";
        if (strcmp(got, exp) != 0) {
            for (size_t k = 0; k < d.n; k++)
                fprintf(stderr, "  outbox[%zu] %s\n", k, d.rows[k]);
            fail_msg("line %d: outbox row %zu is '%s', want '%s'", line, i, got, exp);
        }
    }
}

/* History of a ticket as "kind" or "kind:late" words joined by spaces, plus raw data. */
struct history_dump {
    char kinds[2048];
    char data[64][256];
    int64_t at[64];
    bool late[64];
    size_t n;
};

static int dump_history_row(void *userdata, const struct history_entry *h)
{
    struct history_dump *d = userdata;
    size_t len = strlen(d->kinds);
    snprintf(d->kinds + len, sizeof(d->kinds) - len, "%s%s%s", len ? " " : "", h->kind,
             h->late ? ":late" : "");
    if (d->n < 64) {
        snprintf(d->data[d->n], sizeof(d->data[0]), "%s", h->data ? h->data : "");
        d->at[d->n] = h->at_ms;
        d->late[d->n] = h->late;
        d->n++;
    }
    return 0;
}

static void history(struct fixture *f, int64_t id, struct history_dump *d)
{
    struct slad_error err = {{0}};
    memset(d, 0, sizeof(*d));
    assert_int_equal(store_history_list(f->store, id, 0, 0, dump_history_row, d, &err), 0);
}

/* The agenda holds exactly the store's next instants. */
struct agenda_check {
    struct agenda *agenda;
    size_t rows;
    int line;
};

static int check_agenda_row(void *userdata, int64_t id, int64_t next_ms)
{
    struct agenda_check *c = userdata;
    int64_t when = agenda_when(c->agenda, AGENDA_TICKET, id);
    if (when != next_ms)
        fail_msg("line %d: ticket %" PRId64 ": agenda %" PRId64 ", store %" PRId64, c->line, id,
                 when, next_ms);
    c->rows++;
    return 0;
}

static void agenda_matches_store(struct fixture *f, int line)
{
    struct slad_error err = {{0}};
    struct agenda_check c = {.agenda = f->agenda, .line = line};
    assert_int_equal(store_agenda_load(f->store, check_agenda_row, &c, &err), 0);
    if (c.rows != agenda_size(f->agenda))
        fail_msg("line %d: %zu store rows, %zu agenda entries", line, c.rows,
                 agenda_size(f->agenda));
}

static void test_create(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    int64_t id = create_simple(f, 1, T0, __LINE__);
    assert_int_equal(id, 1);
    struct ticket t;
    assert_int_equal(service_ticket_get(f->svc, id, &t, &err), 0);
    assert_int_equal(t.status, TICKET_OPEN);
    assert_string_equal(t.policy, "fast");
    assert_string_equal(t.source, "api");
    assert_int_equal(t.created_at_ms, T0);
    assert_int_equal(t.updated_at_ms, T0);
    assert_int_equal(t.reported_at_ms, T0);
    assert_int_equal(t.n_clocks, 2);
    assert_string_equal(t.clocks[0].name, "response");
    assert_int_equal(t.clocks[0].state, SLACLOCK_RUNNING);
    assert_int_equal(t.clocks[0].due_at_ms, T0 + 10 * S);
    assert_int_equal(t.clocks[1].state, SLACLOCK_RUNNING);
    assert_int_equal(t.repeat_count, 0);
    ticket_done(&t);
    /* The first step (50% of 10 s) is the ticket's next instant, in store and agenda. */
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 5 * S);
    agenda_matches_store(f, __LINE__);
    struct history_dump h;
    history(f, id, &h);
    assert_string_equal(h.kinds, "create policy clock clock");
    assert_non_null(strstr(h.data[1], "\"policy\":\"fast\""));
    assert_non_null(strstr(h.data[2], "\"state\":\"running\""));
    static const char *const none[] = {NULL};
    outbox_is(f, id, none, __LINE__);

    /* Bad input changes nothing. */
    struct ticket bad;
    body(&bad, 6);
    struct ticket out;
    bool created;
    assert_int_equal(service_ticket_create(f->svc, &bad, T0, &out, &created, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "severity"));
    bad.severity = 1;
    assert_int_equal(ticket_set_string(&bad.title, NULL), 0);
    assert_int_equal(service_ticket_create(f->svc, &bad, T0, &out, &created, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "title"));
    assert_int_equal(ticket_set_string(&bad.title, "x"), 0);
    bad.reported_at_ms = T0 + 5 * 60 * S + 1;
    assert_int_equal(service_ticket_create(f->svc, &bad, T0, &out, &created, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "reported_at"));
    /* Within the skew: reported now. */
    bad.reported_at_ms = T0 + 60 * S;
    int64_t skewed = create(f, &bad, T0, true, __LINE__);
    assert_int_equal(service_ticket_get(f->svc, skewed, &t, &err), 0);
    assert_int_equal(t.reported_at_ms, T0);
    ticket_done(&t);
    ticket_done(&bad);
    assert_int_equal(service_ticket_get(f->svc, 3, &t, &err), -ENOENT);

    struct service_counts c;
    assert_int_equal(service_counts(f->svc, &c), 0);
    assert_int_equal(c.open_tickets, 2);
    assert_int_equal(c.timers, 2);
    assert_int_equal(c.pending_notifications, 0);
    assert_ptr_equal(service_conf(f->svc), f->conf_a);
}

static void test_idempotent_create(void **state)
{
    struct fixture *f = *state;
    struct ticket t;
    body(&t, 1);
    assert_int_equal(ticket_set_string(&t.source, "crm"), 0);
    assert_int_equal(ticket_set_string(&t.external_id, "CRM-1"), 0);
    int64_t id = create(f, &t, T0, true, __LINE__);
    struct history_dump before;
    history(f, id, &before);

    /* Again, even with other fields and later: the same ticket, nothing added. */
    assert_int_equal(ticket_set_string(&t.title, "other title"), 0);
    t.severity = 3;
    struct slad_error err = {{0}};
    struct ticket out;
    bool created = true;
    assert_int_equal(service_ticket_create(f->svc, &t, T0 + 7 * S, &out, &created, &err), 0);
    assert_false(created);
    assert_int_equal(out.id, id);
    assert_string_equal(out.title, "冰箱不制冷");
    assert_int_equal(out.severity, 1);
    assert_int_equal(out.n_clocks, 2);
    ticket_done(&out);
    struct history_dump after;
    history(f, id, &after);
    assert_string_equal(after.kinds, before.kinds);
    static const char *const none[] = {NULL};
    outbox_is(f, 0, none, __LINE__);
    assert_int_equal(agenda_size(f->agenda), 1);

    /* The same external_id from another source is another ticket; without a source it
     * is the "api" source's, and idempotent too. */
    assert_int_equal(ticket_set_string(&t.source, "iot"), 0);
    int64_t id2 = create(f, &t, T0, true, __LINE__);
    assert_true(id2 != id);
    assert_int_equal(ticket_set_string(&t.source, NULL), 0);
    int64_t id3 = create(f, &t, T0, true, __LINE__);
    assert_int_equal(create(f, &t, T0, false, __LINE__), id3);
    /* Without an external_id every post is a new ticket. */
    assert_int_equal(ticket_set_string(&t.external_id, NULL), 0);
    int64_t id4 = create(f, &t, T0, true, __LINE__);
    int64_t id5 = create(f, &t, T0, true, __LINE__);
    assert_true(id4 != id5);
    ticket_done(&t);
    agenda_matches_store(f, __LINE__);
}

static void test_event_refused(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_simple(f, 1, T0, __LINE__);
    struct history_dump before;
    history(f, id, &before);

    struct slad_error err = {{0}};
    struct ticket out;
    struct ticket_event ev = {.type = TICKET_EVENT_CLOSE, .at_ms = SLAD_NO_TIME};
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + S, &out, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "'open'"));
    assert_non_null(strstr(err.msg, "allowed events: acknowledge"));
    assert_non_null(strstr(err.msg, "comment"));

    /* Dated more than 5 minutes ahead: refused; less: happens now. */
    ev.type = TICKET_EVENT_ACKNOWLEDGE;
    ev.at_ms = T0 + S + 5 * 60 * S + 1;
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + S, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "future"));
    ev.type = TICKET_EVENT_COMMENT;
    ev.at_ms = SLAD_NO_TIME;
    assert_int_equal(service_ticket_event(f->svc, 99, &ev, T0 + S, &out, &err), -ENOENT);

    struct history_dump after;
    history(f, id, &after);
    assert_string_equal(after.kinds, before.kinds);
    struct ticket t;
    assert_int_equal(service_ticket_get(f->svc, id, &t, &err), 0);
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.updated_at_ms, T0);
    ticket_done(&t);

    /* An allowed event from 2 minutes ahead is applied at now and recorded. */
    ev.type = TICKET_EVENT_ACKNOWLEDGE;
    ev.at_ms = T0 + S + 2 * 60 * S;
    ev.by = "li.si";
    ev.note = "on it";
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + 2 * S, &out, &err), 0);
    assert_int_equal(out.status, TICKET_ACKNOWLEDGED);
    assert_int_equal(out.clocks[0].state, SLACLOCK_MET);
    assert_int_equal(out.clocks[0].stopped_at_ms, T0 + 2 * S);
    assert_int_equal(out.updated_at_ms, T0 + 2 * S);
    ticket_done(&out);
    history(f, id, &after);
    assert_string_equal(after.kinds, "create policy clock clock event clock");
    assert_non_null(strstr(after.data[4], "\"event\":\"acknowledge\""));
    assert_non_null(strstr(after.data[4], "\"from\":\"open\""));
    assert_non_null(strstr(after.data[4], "\"to\":\"acknowledged\""));
    assert_non_null(strstr(after.data[4], "\"by\":\"li.si\""));
    assert_non_null(strstr(after.data[4], "\"note\":\"on it\""));
    assert_non_null(strstr(after.data[5], "\"state\":\"met\""));
    /* The met response clock no longer escalates: the next instant is the resolution
     * due. */
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 60 * S);
    agenda_matches_store(f, __LINE__);
}

/* The tickets an operation changed, for the console's stream: each once with its latest
 * status; a refused event adds nothing; past SERVICE_CHANGES_MAX the list says so. */
static void test_changes(void **state)
{
    struct fixture *f = *state;
    service_changes_clear(f->svc);
    int64_t a = create_simple(f, 1, T0, __LINE__);
    int64_t b = create_simple(f, 1, T0, __LINE__);
    struct slad_error err = {{0}};
    struct ticket out;
    struct ticket_event ev = {.type = TICKET_EVENT_ACKNOWLEDGE, .at_ms = SLAD_NO_TIME};
    assert_int_equal(service_ticket_event(f->svc, a, &ev, T0 + S, &out, &err), 0);
    ticket_done(&out);
    ev.type = TICKET_EVENT_CLOSE;
    assert_int_equal(service_ticket_event(f->svc, b, &ev, T0 + S, &out, &err), -EBUSY);
    size_t n;
    bool overflow;
    const struct service_change *c = service_changes(f->svc, &n, &overflow);
    assert_int_equal(n, 2);
    assert_false(overflow);
    assert_int_equal(c[0].id, a);
    assert_int_equal(c[0].status, TICKET_ACKNOWLEDGED);
    assert_int_equal(c[0].updated_ms, T0 + S);
    assert_int_equal(c[1].id, b);
    assert_int_equal(c[1].status, TICKET_OPEN);
    service_changes_clear(f->svc);
    service_changes(f->svc, &n, &overflow);
    assert_int_equal(n, 0);
    for (int i = 0; i <= SERVICE_CHANGES_MAX; i++)
        create_simple(f, 1, T0, __LINE__);
    c = service_changes(f->svc, &n, &overflow);
    assert_int_equal(n, SERVICE_CHANGES_MAX);
    assert_true(overflow);
    service_changes_clear(f->svc);
    service_changes(f->svc, &n, &overflow);
    assert_false(overflow);
}

/* An event dated before the ticket's last event is refused and stores nothing: no
 * history row, the ticket row and its clocks as they were, the agenda as it was. */
static void test_event_out_of_order(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_simple(f, 1, T0, __LINE__);
    struct slad_error err = {{0}};
    struct ticket out, before, after;
    struct ticket_event ev = {.type = TICKET_EVENT_HOLD, .at_ms = T0 + 10 * S, .reason = "parts"};
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + 10 * S, &out, &err), 0);
    ticket_done(&out);
    struct history_dump h_before, h_after;
    history(f, id, &h_before);
    assert_int_equal(service_ticket_get(f->svc, id, &before, &err), 0);
    int64_t agenda_before = agenda_when(f->agenda, AGENDA_TICKET, id);

    ev = (struct ticket_event){.type = TICKET_EVENT_RESUME, .at_ms = T0 + 5 * S};
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + 20 * S, &out, &err),
                     -TICKET_EORDER);
    assert_non_null(strstr(err.msg, "2026-03-02T08:00:10Z"));
    history(f, id, &h_after);
    assert_string_equal(h_after.kinds, h_before.kinds);
    assert_int_equal(service_ticket_get(f->svc, id, &after, &err), 0);
    assert_int_equal(after.status, TICKET_ON_HOLD);
    assert_int_equal(after.updated_at_ms, before.updated_at_ms);
    assert_memory_equal(after.event_last_ms, before.event_last_ms, sizeof(before.event_last_ms));
    assert_memory_equal(after.clocks, before.clocks, sizeof(before.clocks));
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), agenda_before);
    ticket_done(&before);
    ticket_done(&after);

    /* Dated at the hold itself: applied. */
    ev.at_ms = T0 + 10 * S;
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + 20 * S, &out, &err), 0);
    assert_int_equal(out.status, TICKET_OPEN);
    ticket_done(&out);
    agenda_matches_store(f, __LINE__);
}

static void test_patch_rechooses_policy(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    int64_t id = create_simple(f, 3, T0, __LINE__);
    struct ticket t;
    assert_int_equal(service_ticket_get(f->svc, id, &t, &err), 0);
    assert_string_equal(t.policy, "slow");
    assert_int_equal(t.clocks[0].target_ms, 40 * S);
    ticket_done(&t);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 20 * S);

    /* At 8 s severity becomes 1: policy fast, 8 s of response kept against 10 s, and its
     * 50% step, which the new policy puts behind the clock, fires at once, recorded as
     * any late step: due at 5 s (where the new target puts it), marked late. */
    struct ticket_patch p = {.has_severity = true, .severity = 1};
    assert_int_equal(service_ticket_patch(f->svc, id, &p, T0 + 8 * S, &t, &err), 0);
    assert_string_equal(t.policy, "fast");
    const struct calendar *cal = conf_find_calendar(f->conf_a, "24x7");
    assert_non_null(cal);
    assert_int_equal(t.clocks[0].target_ms, 10 * S);
    assert_int_equal(slaclock_elapsed(&t.clocks[0], cal, T0 + 8 * S), 8 * S);
    assert_int_equal(t.clocks[0].due_at_ms, T0 + 10 * S);
    assert_int_equal(t.severity, 1);
    assert_int_equal(t.updated_at_ms, T0 + 8 * S);
    ticket_done(&t);
    struct history_dump h;
    history(f, id, &h);
    assert_string_equal(h.kinds, "create policy clock clock patch policy step:late");
    assert_non_null(strstr(h.data[4], "\"severity\":1"));
    assert_non_null(strstr(h.data[5], "\"policy\":\"fast\""));
    assert_int_equal(h.at[6], T0 + 5 * S);
    assert_true(h.late[6]);
    assert_non_null(strstr(h.data[6], "\"late\":true"));
    assert_non_null(strstr(h.data[6], "\"recipients\":[\"assignee\"]"));
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending|late", NULL};
    outbox_is(f, id, want, __LINE__);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 10 * S);

    /* A field policies do not match on changes nothing else; labels, team and grade are
     * recorded; a bad severity is refused with nothing written. */
    struct ticket_label labels[] = {{"vip", "yes"}};
    struct ticket_patch p2 = {.has_assignee = true,
                              .assignee = "wang.wu",
                              .has_grade = true,
                              .grade = NULL,
                              .labels = labels,
                              .n_labels = 1};
    assert_int_equal(service_ticket_patch(f->svc, id, &p2, T0 + 9 * S, &t, &err), 0);
    assert_string_equal(t.assignee, "wang.wu");
    assert_string_equal(ticket_label(&t, "vip"), "yes");
    assert_string_equal(t.policy, "fast");
    ticket_done(&t);
    history(f, id, &h);
    assert_non_null(strstr(h.data[h.n - 1], "\"assignee\":\"wang.wu\""));
    assert_non_null(strstr(h.data[h.n - 1], "\"grade\":null"));
    assert_non_null(strstr(h.data[h.n - 1], "\"labels\":{\"vip\":\"yes\"}"));
    size_t rows = h.n;
    struct ticket_patch bad = {.has_severity = true, .severity = 0};
    assert_int_equal(service_ticket_patch(f->svc, id, &bad, T0 + 9 * S, &t, &err), -EINVAL);
    assert_int_equal(service_ticket_patch(f->svc, 77, &p, T0 + 9 * S, &t, &err), -ENOENT);
    history(f, id, &h);
    assert_int_equal(h.n, rows);
    agenda_matches_store(f, __LINE__);
}

/* A policy change that puts a clock past its new target breaches it where elapsed time
 * reached that target, and the steps behind the clock fire: recorded as any late step
 * and breach (at their instants, marked late), the step ahead of the clock not yet. */
static void test_patch_past_due_is_late(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    int64_t id = create_simple(f, 3, T0, __LINE__);
    struct ticket t;
    struct ticket_patch p = {.has_severity = true, .severity = 1};
    assert_int_equal(service_ticket_patch(f->svc, id, &p, T0 + 12 * S, &t, &err), 0);
    assert_string_equal(t.policy, "fast");
    assert_int_equal(t.clocks[0].state, SLACLOCK_BREACHED);
    assert_int_equal(t.clocks[0].due_at_ms, T0 + 10 * S);
    assert_int_equal(t.clocks[0].breached_at_ms, T0 + 10 * S);
    ticket_done(&t);
    struct history_dump h;
    history(f, id, &h);
    assert_string_equal(h.kinds, "create policy clock clock patch policy step:late clock:late "
                                 "step:late");
    assert_int_equal(h.at[6], T0 + 5 * S);
    assert_int_equal(h.at[7], T0 + 10 * S);
    assert_non_null(strstr(h.data[7], "\"state\":\"breached\""));
    assert_int_equal(h.at[8], T0 + 10 * S);
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending|late",
        "t1/response/step2/r0/supervisor/boss|sla.breach|pending|late",
        "t1/response/step2/r0/manager/chief|sla.breach|pending|late", NULL};
    outbox_is(f, id, want, __LINE__);
    /* The +5s step lies ahead: at 15 s. */
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 15 * S);
    agenda_matches_store(f, __LINE__);
}

struct contact_rows {
    char rows[8][160];
    size_t n;
};

static int dump_contact_row(void *userdata, const struct outbox_row *o)
{
    struct contact_rows *d = userdata;
    if (d->n < 8)
        snprintf(d->rows[d->n++], sizeof(d->rows[0]), "%s|%s|%s|%s", o->idempotency_key,
                 o->channel ? o->channel : "-", o->recipient, o->contact ? o->contact : "-");
    return 0;
}

/* A contact with two `via` channels is reached on both, each its own row and key; the
 * row names the role (recipient) and the person (contact); listings filter by channel
 * and event. */
static void test_contact_every_channel(void **state)
{
    struct fixture *f = *state;
    struct ticket t;
    body(&t, 1);
    assert_int_equal(ticket_set_string(&t.team, "west"), 0);
    int64_t id = create(f, &t, T0, true, __LINE__);
    ticket_done(&t);
    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 1);
    struct slad_error err = {{0}};
    struct contact_rows d = {0};
    struct outbox_filter all = {
        .state = -1, .ticket_id = id, .due_ms = SLAD_NO_TIME, .event = "sla.breach"};
    assert_int_equal(store_outbox_list(f->store, &all, dump_contact_row, &d, &err), 0);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.rows[0], "t1/response/step2/r0/supervisor/duty/log|log|supervisor|duty");
    assert_string_equal(d.rows[1], "t1/response/step2/r0/supervisor/duty/sms|sms|supervisor|duty");
    assert_string_equal(d.rows[2], "t1/response/step2/r0/manager/chief|log|manager|chief");
    struct contact_rows sms = {0};
    struct outbox_filter by_channel = {
        .state = -1, .due_ms = SLAD_NO_TIME, .channel = "sms", .event = "sla.breach"};
    assert_int_equal(store_outbox_list(f->store, &by_channel, dump_contact_row, &sms, &err), 0);
    assert_int_equal(sms.n, 1);
    assert_string_equal(sms.rows[0], d.rows[1]);
    struct contact_rows none = {0};
    by_channel.event = "sla.warning";
    assert_int_equal(store_outbox_list(f->store, &by_channel, dump_contact_row, &none, &err), 0);
    assert_int_equal(none.n, 0);
}

static void test_fire_due_steps(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_simple(f, 1, T0, __LINE__);
    assert_int_equal(fire(f, T0 + 5 * S - 1, __LINE__), 0);
    assert_int_equal(fire(f, T0 + 5 * S, __LINE__), 1);
    static const char *const step1[] = {"t1/response/step1/r0/assignee/tech|sla.warning|pending",
                                        NULL};
    outbox_is(f, id, step1, __LINE__);
    /* Firing again at the same instant does nothing more. */
    assert_int_equal(fire(f, T0 + 5 * S, __LINE__), 0);
    outbox_is(f, id, step1, __LINE__);

    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 1);
    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 0);
    assert_int_equal(fire(f, T0 + 15 * S, __LINE__), 1);
    assert_int_equal(fire(f, T0 + 20 * S, __LINE__), 1);
    static const char *const steps[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending",
        "t1/response/step2/r0/supervisor/boss|sla.breach|pending",
        "t1/response/step2/r0/manager/chief|sla.breach|pending",
        "t1/response/step3/r0/manager/chief|sla.escalation|pending",
        "t1/response/step3/r1/manager/chief|sla.escalation|pending",
        NULL,
    };
    outbox_is(f, id, steps, __LINE__);
    struct history_dump h;
    history(f, id, &h);
    assert_string_equal(h.kinds, "create policy clock clock step clock step step step");
    assert_non_null(strstr(h.data[5], "\"state\":\"breached\""));
    assert_non_null(strstr(h.data[6], "\"recipients\":[\"supervisor\",\"manager\"]"));
    assert_non_null(strstr(h.data[6], "\"event\":\"sla.breach\""));
    assert_non_null(strstr(h.data[6], "\"at\":\"2026-03-02T08:00:10Z\""));

    /* Acknowledged after due: missed, no more response steps. */
    event(f, id, TICKET_EVENT_ACKNOWLEDGE, T0 + 21 * S, __LINE__);
    assert_int_equal(fire(f, T0 + 30 * S, __LINE__), 0);
    outbox_is(f, id, steps, __LINE__);
    /* The resolution clock breaches at 60 s. */
    assert_int_equal(fire(f, T0 + 60 * S, __LINE__), 1);
    struct outbox_dump d;
    outbox(f, id, &d);
    assert_int_equal(d.n, 6);
    assert_string_equal(d.rows[5], "t1/resolution/step1/r0/manager/chief|sla.breach|pending");
    /* Resolved: nothing is ahead, the agenda forgets the ticket. */
    event(f, id, TICKET_EVENT_RESOLVE, T0 + 61 * S, __LINE__);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), INT64_MAX);
    agenda_matches_store(f, __LINE__);

    struct service_counts c;
    assert_int_equal(service_counts(f->svc, &c), 0);
    assert_int_equal(c.open_tickets, 0);
    assert_int_equal(c.pending_notifications, 6);
    assert_int_equal(c.timers, 0);
    /* Breaches and escalations were counted. */
    struct gauges g;
    struct slad_error err = {""};
    assert_int_equal(service_gauges(f->svc, &g, &err), 0);
    assert_int_equal(g.notifications[OUTBOX_PENDING], 6);
    char *text = metrics_render(f->metrics, &g, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "sla.breach"));
    free(text);
}

static void test_past_ticket_escalates_late(void **state)
{
    struct fixture *f = *state;
    struct ticket t;
    body(&t, 1);
    /* Reported 100 s ago: response due 90 s ago, resolution 40 s ago. */
    t.reported_at_ms = T0 - 100 * S;
    int64_t id = create(f, &t, T0, true, __LINE__);
    ticket_done(&t);
    struct outbox_dump d;
    outbox(f, id, &d);
    /* Every step that fell due fired once; the repeating one only as its latest repeat,
     * which is due exactly now (not late). */
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending|late",
        "t1/response/step2/r0/supervisor/boss|sla.breach|pending|late",
        "t1/response/step2/r0/manager/chief|sla.breach|pending|late",
        "t1/response/step3/r17/manager/chief|sla.escalation|pending",
        "t1/resolution/step1/r0/manager/chief|sla.breach|pending|late",
        NULL,
    };
    outbox_is(f, id, want, __LINE__);
    struct history_dump h;
    history(f, id, &h);
    for (size_t i = 0; i < h.n; i++) {
        bool should = T0 - h.at[i] > 1000;
        if (h.late[i] != should)
            fail_msg("history row %zu (%s) at %" PRId64 ": late %d", i, h.data[i], h.at[i] - T0,
                     h.late[i]);
        if (should && !strstr(h.data[i], "\"late\":true"))
            fail_msg("history row %zu: no late mark in %s", i, h.data[i]);
    }
    assert_non_null(strstr(h.kinds, "step:late"));
    /* Nothing is left to fire now; the next repeat is 5 s ahead. */
    assert_int_equal(fire(f, T0, __LINE__), 0);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 5 * S);
    agenda_matches_store(f, __LINE__);
}

static void test_reminders(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    struct ticket t;
    body(&t, 1);
    t.appointment_at_ms = T0 + 300 * S;
    int64_t id = create(f, &t, T0, true, __LINE__);
    ticket_done(&t);
    event(f, id, TICKET_EVENT_ACKNOWLEDGE, T0 + S, __LINE__);
    /* Resolution breaches at 60 s; the reminder is 20 s before the visit. */
    assert_int_equal(fire(f, T0 + 60 * S, __LINE__), 1);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 280 * S);
    assert_int_equal(fire(f, T0 + 280 * S, __LINE__), 1);
    /* The visit moves: its reminder comes again, under a new key. */
    struct ticket_patch p = {.has_appointment_at = true, .appointment_at_ms = T0 + 400 * S};
    assert_int_equal(service_ticket_patch(f->svc, id, &p, T0 + 290 * S, &t, &err), 0);
    ticket_done(&t);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 380 * S);
    assert_int_equal(fire(f, T0 + 380 * S, __LINE__), 1);
    char k1[96], k2[96], k3[96], k4[96];
    int64_t a1 = (T0 + 300 * S) / 1000, a2 = (T0 + 400 * S) / 1000;
    snprintf(k1, sizeof(k1), "t1/reminder1/%" PRId64 "/assignee/tech|appointment.reminder|pending",
             a1);
    snprintf(k2, sizeof(k2), "t1/reminder1/%" PRId64 "/customer|appointment.reminder|pending", a1);
    snprintf(k3, sizeof(k3), "t1/reminder1/%" PRId64 "/assignee/tech|appointment.reminder|pending",
             a2);
    snprintf(k4, sizeof(k4), "t1/reminder1/%" PRId64 "/customer|appointment.reminder|pending", a2);
    const char *const want[] = {
        "t1/resolution/step1/r0/manager/chief|sla.breach|pending", k1, k2, k3, k4, NULL};
    outbox_is(f, id, want, __LINE__);
    agenda_matches_store(f, __LINE__);
}

static void test_repeat_fault(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    /* Tickets on serial SN1: fault E1 at 0 s, 1 s, 2 s (the third is the count: notifies),
     * 3 s (the fourth notifies too), then E2; an E1 ticket reported 2 h back, outside the
     * 1 h window; an E1 ticket cancelled (a mistake), which the next one does not count. */
    static const struct {
        const char *fault;
        int64_t reported_ms;
        int want_count;
        bool notifies, cancel;
    } rows[] = {
        {"E1", T0, 1, false, false},         {"E1", T0 + 1 * S, 2, false, false},
        {"E1", T0 + 2 * S, 3, true, false},  {"E1", T0 + 3 * S, 4, true, false},
        {"E2", T0 + 4 * S, 1, false, false}, {"E1", T0 - 7200 * S, 1, false, false},
        {"E1", T0 + 5 * S, 5, true, true},   {"E1", T0 + 6 * S, 5, true, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ticket t;
        body(&t, 3);
        assert_int_equal(ticket_set_string(&t.device_serial, "SN1"), 0);
        assert_int_equal(ticket_set_string(&t.fault_code, rows[i].fault), 0);
        t.reported_at_ms = rows[i].reported_ms;
        int64_t now = T0 + 10 * S;
        int64_t id = create(f, &t, now, true, __LINE__);
        ticket_done(&t);
        struct ticket got;
        if (rows[i].cancel) {
            struct ticket_event cancel = {.type = TICKET_EVENT_CANCEL, .at_ms = now};
            assert_int_equal(service_ticket_event(f->svc, id, &cancel, now, &got, &err), 0);
            ticket_done(&got);
        }
        assert_int_equal(service_ticket_get(f->svc, id, &got, &err), 0);
        if (got.repeat_count != rows[i].want_count)
            fail_msg("ticket #%zu: repeat_count %d, want %d", i, got.repeat_count,
                     rows[i].want_count);
        ticket_done(&got);
        struct outbox_dump d;
        outbox(f, id, &d);
        size_t repeat_rows = 0;
        for (size_t k = 0; k < d.n; k++)
            repeat_rows += strstr(d.rows[k], "/repeat_fault/") != NULL;
        if (repeat_rows != (rows[i].notifies ? 2 : 0))
            fail_msg("ticket #%zu: %zu repeat-fault rows", i, repeat_rows);
        if (rows[i].notifies) {
            char k1[64], k2[64];
            snprintf(k1, sizeof(k1),
                     "t%" PRId64 "/repeat_fault/manager/chief|ticket.repeat_fault|pending", id);
            snprintf(k2, sizeof(k2),
                     "t%" PRId64 "/repeat_fault/contact:tech|ticket.repeat_fault|pending", id);
            assert_string_equal(d.rows[d.n - 2], k1);
            assert_string_equal(d.rows[d.n - 1], k2);
            struct history_dump h;
            history(f, id, &h);
            assert_non_null(strstr(h.kinds, "repeat_fault"));
            char count[32];
            snprintf(count, sizeof(count), "\"repeat_count\":%d", rows[i].want_count);
            bool found = false;
            for (size_t k = 0; k < h.n; k++)
                found |= strstr(h.data[k], count) != NULL;
            assert_true(found);
        }
    }
}

static void test_reload_keeps_fired_steps(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    int64_t id = create_simple(f, 1, T0, __LINE__);
    int64_t slow = create_simple(f, 3, T0, __LINE__);
    assert_int_equal(fire(f, T0 + 5 * S, __LINE__), 1); /* fast: 50% of 10 s */
    /* Reload at 6 s: response is now 20 s; its 50% step (10 s) already fired. */
    assert_int_equal(service_set_conf(f->svc, f->conf_b, T0 + 6 * S, &err), 0);
    assert_ptr_equal(service_conf(f->svc), f->conf_b);
    struct ticket t;
    assert_int_equal(service_ticket_get(f->svc, id, &t, &err), 0);
    assert_int_equal(t.clocks[0].target_ms, 20 * S);
    assert_int_equal(t.clocks[0].due_at_ms, T0 + 20 * S);
    assert_int_equal(t.clocks[0].fired[0], 1);
    ticket_done(&t);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 20 * S);
    /* The slow ticket lost its resolution clock in the new config. */
    assert_int_equal(service_ticket_get(f->svc, slow, &t, &err), 0);
    assert_int_equal(t.n_clocks, 1);
    ticket_done(&t);
    agenda_matches_store(f, __LINE__);

    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 0);
    assert_int_equal(fire(f, T0 + 20 * S, __LINE__), 1);
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending",
        "t1/response/step2/r0/supervisor/boss|sla.breach|pending",
        "t1/response/step2/r0/manager/chief|sla.breach|pending",
        NULL,
    };
    outbox_is(f, id, want, __LINE__);
    /* Reloading the same config again changes nothing and fires nothing. */
    struct history_dump before, after;
    history(f, id, &before);
    assert_int_equal(service_set_conf(f->svc, f->conf_b, T0 + 20 * S, &err), 0);
    history(f, id, &after);
    assert_string_equal(after.kinds, before.kinds);
    outbox_is(f, id, want, __LINE__);
    /* A resolved ticket is not re-chosen. */
    event(f, slow, TICKET_EVENT_RESOLVE, T0 + 21 * S, __LINE__);
    assert_int_equal(service_set_conf(f->svc, f->conf_a, T0 + 22 * S, &err), 0);
    assert_int_equal(service_ticket_get(f->svc, slow, &t, &err), 0);
    assert_int_equal(t.n_clocks, 1);
    ticket_done(&t);
    agenda_matches_store(f, __LINE__);
}

/* conf_b with a first policy chosen by a label: a ticket labelled tier=gold moves to it
 * on reload only if its labels were read with it. */
static const char *conf_vip = CONF_HEAD
    "policies = (\n"
    "  { name = \"vip\"; match = { labels = { tier = [\"gold\"]; }; }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"30s\"; stop = [\"acknowledge\"]; } ); "
    "},\n" POLICIES_B ");\n";

/* More open tickets than a reload's batch (RELOAD_BATCH, 256), severities alternating,
 * every 5th labelled tier=gold, every 7th resolved, the steps due at 5 s fired: returns
 * how many. */
#define RELOAD_TICKETS 600
static size_t create_reload_tickets(struct fixture *f)
{
    for (int i = 1; i <= RELOAD_TICKETS; i++) {
        struct ticket t;
        body(&t, i % 2 ? 1 : 3);
        if (i % 5 == 0)
            assert_int_equal(ticket_set_label(&t, "tier", "gold"), 0);
        int64_t id = create(f, &t, T0, true, __LINE__);
        ticket_done(&t);
        assert_int_equal(id, i);
        if (i % 7 == 0)
            event(f, id, TICKET_EVENT_RESOLVE, T0 + S, __LINE__);
    }
    assert_true(fire(f, T0 + 5 * S, __LINE__) > 0);
    return RELOAD_TICKETS;
}

/* Ticket i (create_reload_tickets) as the reload to conf_vip at 6 s leaves it, or, when
 * !reloaded, as conf_a made it (the fast tickets' 50% step fired at 5 s either way). */
static void reload_ticket_is(struct fixture *f, int64_t i, bool reloaded)
{
    struct slad_error err = {{0}};
    struct ticket t;
    assert_int_equal(service_ticket_get(f->svc, i, &t, &err), 0);
    bool fast = i % 2, resolved = i % 7 == 0;
    const char *policy = fast ? "fast" : "slow";
    int64_t target = fast ? 10 * S : 40 * S;
    size_t clocks = 2;
    if (reloaded && !resolved) {
        policy = i % 5 == 0 ? "vip" : policy;
        target = i % 5 == 0 ? 30 * S : fast ? 20 * S : 40 * S;
        clocks = i % 5 == 0 || !fast ? 1 : 2;
    }
    if (strcmp(t.policy, policy) != 0 || t.n_clocks != clocks || t.clocks[0].target_ms != target)
        fail_msg("ticket %" PRId64 ": policy %s, %zu clocks, target %" PRId64
                 " ms; want %s, %zu, %" PRId64,
                 i, t.policy, t.n_clocks, t.clocks[0].target_ms, policy, clocks, target);
    if (!resolved && t.clocks[0].due_at_ms != T0 + target)
        fail_msg("ticket %" PRId64 ": due at %" PRId64 ", want %" PRId64, i, t.clocks[0].due_at_ms,
                 T0 + target);
    if (fast && !resolved && t.clocks[0].fired[0] != 1)
        fail_msg("ticket %" PRId64 ": the fired 50%% step was lost", i);
    ticket_done(&t);
}

/* A reload of more open tickets than a batch: each batch read and written together, every
 * open ticket on its new policy and clocks (labels read too), the resolved ones left. */
static void test_reload_in_batches(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    size_t n = create_reload_tickets(f);
    struct conf *vip = load_conf(conf_vip, "vip.conf");
    assert_non_null(vip);
    assert_int_equal(service_set_conf(f->svc, vip, T0 + 6 * S, &err), 0);
    for (size_t i = 1; i <= n; i++)
        reload_ticket_is(f, (int64_t)i, true);
    agenda_matches_store(f, __LINE__);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, 5), T0 + 30 * S);
    service_set_conf(f->svc, f->conf_a, T0 + 7 * S, &err); /* vip is freed below */
    conf_free(vip);
}

/* Needs the file fixture: a reload refused in its second batch (a ticket the store cannot
 * read) leaves every ticket of the first batch as it was, the old config and the agenda. */
static void test_reload_refused_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    size_t n = create_reload_tickets(f);
    struct conf *vip = load_conf(conf_vip, "vip.conf");
    assert_non_null(vip);
    struct db *db = NULL;
    assert_int_equal(db_open(f->path[0] ? f->path : testdb_target(), &db, &err), 0);
    assert_int_equal(db_exec(db, "UPDATE tickets SET event_last = 'garbage' WHERE id = 401",
                             "breaking a ticket", &err),
                     0);
    db_close(db);
    assert_int_equal(service_set_conf(f->svc, vip, T0 + 6 * S, &err), -EIO);
    assert_non_null(strstr(err.msg, "ticket 401"));
    assert_ptr_equal(service_conf(f->svc), f->conf_a);
    assert_false(store_in_transaction(f->store));
    for (size_t i = 1; i <= n; i++)
        if (i != 401)
            reload_ticket_is(f, (int64_t)i, false);
    agenda_matches_store(f, __LINE__);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, 5), T0 + 10 * S);
    conf_free(vip);
}

/* Needs the file fixture. */
static void test_load_agenda_after_reopen(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    int64_t a = create_simple(f, 1, T0, __LINE__);
    int64_t b = create_simple(f, 3, T0 + S, __LINE__);
    int64_t c = create_simple(f, 1, T0 + 2 * S, __LINE__);
    event(f, c, TICKET_EVENT_CANCEL, T0 + 3 * S, __LINE__);
    assert_int_equal(fire(f, T0 + 5 * S, __LINE__), 1);
    int64_t when_a = agenda_when(f->agenda, AGENDA_TICKET, a);
    int64_t when_b = agenda_when(f->agenda, AGENDA_TICKET, b);
    assert_int_equal(when_a, T0 + 10 * S);
    assert_int_equal(when_b, T0 + 21 * S);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, c), INT64_MAX);

    /* A restart: a new agenda from the reopened file holds the same entries. */
    close_service(f);
    open_service(f);
    assert_int_equal(agenda_size(f->agenda), 0);
    assert_int_equal(service_load_agenda(f->svc, &err), 0);
    assert_int_equal(agenda_size(f->agenda), 2);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, a), when_a);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, b), when_b);
    /* Down until 12 s: the breach step fires once, late; nothing sent before is queued
     * again. */
    assert_int_equal(fire(f, T0 + 12 * S, __LINE__), 1);
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending",
        "t1/response/step2/r0/supervisor/boss|sla.breach|pending|late",
        "t1/response/step2/r0/manager/chief|sla.breach|pending|late",
        NULL,
    };
    outbox_is(f, a, want, __LINE__);
    agenda_matches_store(f, __LINE__);
}

/* Needs the file fixture: operations on a read-only store fail and leave the agenda as it
 * was. */
static void test_failure_leaves_agenda(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    if (testdb_on_postgres()) {
        /* A read-only session (default_transaction_read_only) cannot even open: store_open
         * makes the leases table if missing. test-db's test_pg_read_only_server covers
         * PostgreSQL's read-only error. */
        printf("on PostgreSQL: a read-only SQLite URI (store_open writes on PostgreSQL)\n");
        skip();
    }
    int64_t id = create_simple(f, 1, T0, __LINE__);
    close_service(f);
    char path[sizeof(f->path)];
    snprintf(path, sizeof(path), "%s", f->path);
    if (snprintf(f->path, sizeof(f->path), "file:%.160s?mode=ro", path) >= (int)sizeof(f->path))
        fail_msg("path too long");
    open_service(f);
    assert_int_equal(service_load_agenda(f->svc, &err), 0);
    assert_int_equal(agenda_size(f->agenda), 1);

    struct ticket t, out;
    bool created;
    body(&t, 1);
    assert_int_equal(service_ticket_create(f->svc, &t, T0, &out, &created, &err), -EROFS);
    ticket_done(&t);
    assert_int_equal(agenda_size(f->agenda), 1);
    struct ticket_event ev = {.type = TICKET_EVENT_ACKNOWLEDGE, .at_ms = SLAD_NO_TIME};
    assert_int_equal(service_ticket_event(f->svc, id, &ev, T0 + S, &out, &err), -EROFS);
    struct ticket_patch p = {.has_severity = true, .severity = 3};
    assert_int_equal(service_ticket_patch(f->svc, id, &p, T0 + S, &out, &err), -EROFS);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 5 * S);
    /* A failed fire keeps the entry for the next round. */
    size_t done = 0;
    assert_int_equal(service_fire_due(f->svc, T0 + 5 * S, 10, &done, &err), -EROFS);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 5 * S);
    /* A failed reload keeps the old config and the agenda. */
    assert_int_equal(service_set_conf(f->svc, f->conf_b, T0 + S, &err), -EROFS);
    assert_ptr_equal(service_conf(f->svc), f->conf_a);
    assert_int_equal(agenda_when(f->agenda, AGENDA_TICKET, id), T0 + 5 * S);
    assert_false(store_in_transaction(f->store));
    agenda_matches_store(f, __LINE__);
    close_service(f);
    snprintf(f->path, sizeof(f->path), "%s", path);
    open_service(f);
}

static int first_error(void *userdata, const struct outbox_row *o)
{
    char *buf = userdata;
    if (!buf[0])
        snprintf(buf, 256, "%s|%s|%s", o->last_error ? o->last_error : "(null)",
                 o->channel ? o->channel : "(null)",
                 o->next_attempt_ms == SLAD_NO_TIME ? "no next attempt" : "next attempt");
    return 0;
}

/* A recipient nobody reaches is a dead row with the reason, never dropped. */
static void test_unreachable_recipient_is_dead(void **state)
{
    struct fixture *f = *state;
    struct ticket t;
    body(&t, 1);
    assert_int_equal(ticket_set_string(&t.assignee, "nobody"), 0);
    assert_int_equal(ticket_set_string(&t.team, NULL), 0);
    int64_t id = create(f, &t, T0, true, __LINE__);
    ticket_done(&t);
    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 1);
    static const char *const want[] = {
        "t1/response/step1/r0/assignee|sla.warning|dead|late",
        "t1/response/step2/r0/supervisor|sla.breach|dead",
        "t1/response/step2/r0/manager|sla.breach|dead",
        NULL,
    };
    outbox_is(f, id, want, __LINE__);
    char buf[256] = "";
    struct slad_error err = {{0}};
    struct outbox_filter filter = {.state = -1, .ticket_id = id, .due_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_list(f->store, &filter, first_error, buf, &err), 0);
    assert_string_equal(buf, "'nobody' is not a contact of the config|(null)|no next attempt");
}

static int copy_row(void *userdata, const struct outbox_row *o)
{
    struct outbox_row *r = userdata;
    *r = *o;
    r->event = r->channel = r->recipient = r->idempotency_key = r->last_error = r->payload = NULL;
    r->contact = NULL;
    r->address = NULL;
    return 0;
}

/* A retry puts a dead row back to pending with a new budget and says so in the ticket's
 * history; a row that is not dead, or unknown, changes nothing. */
static void test_notification_retry(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_simple(f, 1, T0, __LINE__);
    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 1);
    struct slad_error err = {{0}};
    struct outbox_row dead = {
        .id = 1, .state = OUTBOX_DEAD, .channel = "log", .attempts = 3, .last_error = "gave up"};
    dead.next_attempt_ms = dead.sent_ms = SLAD_NO_TIME;
    assert_int_equal(store_outbox_update(f->store, &dead, &err), 0);
    struct history_dump before, after;
    history(f, id, &before);
    struct outbox_row row;
    assert_int_equal(store_outbox_get(f->store, 1, copy_row, &row, &err), 0);
    int64_t queued_ms = row.created_ms;
    assert_int_equal(row.retried_ms, SLAD_NO_TIME);

    assert_int_equal(service_notification_retry(f->svc, 1, T0 + 20 * S, &err), 0);
    assert_int_equal(store_outbox_get(f->store, 1, copy_row, &row, &err), 0);
    assert_int_equal(row.state, OUTBOX_PENDING);
    assert_int_equal(row.attempts, 0);
    assert_int_equal(row.next_attempt_ms, T0 + 20 * S);
    /* created_at stays when it was queued; max_age counts from the retry. */
    assert_int_equal(row.created_ms, queued_ms);
    assert_int_equal(row.retried_ms, T0 + 20 * S);
    history(f, id, &after);
    assert_int_equal(after.n, before.n + 1);
    assert_non_null(strstr(after.kinds, "notification_retry"));
    assert_string_equal(after.data[after.n - 1], "{\"notification_id\":1}");
    assert_int_equal(after.at[after.n - 1], T0 + 20 * S);
    assert_false(after.late[after.n - 1]);

    /* Not dead (any more), or unknown: refused, nothing recorded. */
    assert_int_equal(service_notification_retry(f->svc, 1, T0 + 21 * S, &err), -EBUSY);
    assert_string_equal(err.msg, "notification 1 is pending; only a dead one is retried");
    assert_int_equal(service_notification_retry(f->svc, 99, T0 + 21 * S, &err), -ENOENT);
    history(f, id, &before);
    assert_int_equal(before.n, after.n);
    assert_int_equal(store_outbox_get(f->store, 1, copy_row, &row, &err), 0);
    assert_int_equal(row.created_ms, queued_ms);
    assert_int_equal(row.retried_ms, T0 + 20 * S);
    assert_false(store_in_transaction(f->store));

    /* A plan's task has no ticket: retried without history. */
    struct outbox_row plan_row = {.event = "followup.due",
                                  .channel = "log",
                                  .recipient = "assignee",
                                  .idempotency_key = "f1/due/assignee",
                                  .state = OUTBOX_DEAD,
                                  .next_attempt_ms = SLAD_NO_TIME,
                                  .created_ms = T0,
                                  .sent_ms = SLAD_NO_TIME};
    int64_t row_id = 0;
    assert_int_equal(store_outbox_add(f->store, &plan_row, &row_id, NULL, &err), 0);
    assert_int_equal(service_notification_retry(f->svc, row_id, T0 + 22 * S, &err), 0);
    assert_int_equal(store_outbox_get(f->store, row_id, copy_row, &row, &err), 0);
    assert_int_equal(row.state, OUTBOX_PENDING);
    history(f, id, &before);
    assert_int_equal(before.n, after.n);
}

static int count_override(void *userdata, const struct schedule_override *o)
{
    (void)o;
    ++*(size_t *)userdata;
    return 0;
}

static int copy_shift(void *userdata, const struct schedule_shift *shift)
{
    snprintf(userdata, 64, "%s", shift->contact ? shift->contact : "(nobody)");
    return 0;
}

/* oncall:duty is resolved when the step fires, not when the ticket is created: an override
 * stored in between decides who gets it; deleted, the rota decides again. Bad overrides
 * are refused naming the field and store nothing. */
static void test_oncall_at_firing(void **state)
{
    struct fixture *f = *state;
    struct slad_error err = {{0}};
    struct ticket t;
    body(&t, 1);
    assert_int_equal(ticket_set_string(&t.team, "east"), 0);
    int64_t id = create(f, &t, T0, true, __LINE__);
    assert_int_equal(fire(f, T0 + 5 * S, __LINE__), 1);

    static const struct {
        int line;
        const char *schedule, *contact;
        int64_t from_ms, to_ms;
        int r;
        const char *msg;
    } bad[] = {
        {__LINE__, "nope", "chief", T0, T0 + 1, -ENOENT, "schedule 'nope' is not in the config"},
        {__LINE__, "duty", "zed", T0, T0 + 1, -EINVAL,
         "field 'contact': 'zed' is not a contact of the config"},
        {__LINE__, "duty", "chief", T0, T0, -EINVAL, "field 'to': must be later than 'from'"},
        {__LINE__, "duty", "chief", T0, T0 + 367 * 86400 * S, -EINVAL,
         "field 'to': an override lasts at most 366 days"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct schedule_override o = {.from_ms = bad[i].from_ms, .to_ms = bad[i].to_ms};
        snprintf(o.schedule, sizeof(o.schedule), "%s", bad[i].schedule);
        snprintf(o.contact, sizeof(o.contact), "%s", bad[i].contact);
        if (service_override_add(f->svc, &o, T0, &err) != bad[i].r || !strstr(err.msg, bad[i].msg))
            fail_msg("line %d: got '%s'", bad[i].line, err.msg);
    }
    size_t n = 0;
    assert_int_equal(service_override_list(f->svc, "duty", 0, 0, count_override, &n, &err), 0);
    assert_int_equal(n, 0);
    /* At most 100 overrides over any time: the 101st overlapping one is refused, one
     * beside them is not. */
    for (int i = 0; i <= 100; i++) {
        struct schedule_override o = {.schedule = "duty",
                                      .contact = "chief",
                                      .from_ms = T0 + 86400 * S + i * S,
                                      .to_ms = T0 + 2 * 86400 * S};
        int r = service_override_add(f->svc, &o, T0, &err);
        assert_int_equal(r, i < 100 ? 0 : -EEXIST);
    }
    assert_non_null(strstr(err.msg, "schedule 'duty' already has 100 overrides over that time"));
    struct schedule_override beside = {.schedule = "duty",
                                       .contact = "chief",
                                       .from_ms = T0 + 2 * 86400 * S,
                                       .to_ms = T0 + 3 * 86400 * S};
    assert_int_equal(service_override_add(f->svc, &beside, T0, &err), 0);
    for (int64_t k = 1; k <= 101; k++)
        assert_int_equal(service_override_delete(f->svc, "duty", k, &err), 0);

    struct schedule_override o = {
        .schedule = "duty", .contact = "chief", .from_ms = T0 + 6 * S, .to_ms = T0 + 3600 * S};
    assert_int_equal(service_override_add(f->svc, &o, T0 + 6 * S, &err), 0);
    assert_int_equal(o.id, 102);
    assert_int_equal(o.created_ms, T0 + 6 * S);
    char who[64];
    assert_int_equal(service_schedule_shift_at(f->svc, "duty", T0 + 7 * S, copy_shift, who, &err),
                     0);
    assert_string_equal(who, "chief");
    assert_int_equal(fire(f, T0 + 10 * S, __LINE__), 1);
    static const char *const want[] = {
        "t1/response/step1/r0/assignee/tech|sla.warning|pending",
        "t1/response/step2/r0/supervisor/chief|sla.breach|pending",
        "t1/response/step2/r0/manager|sla.breach|dead",
        NULL,
    };
    outbox_is(f, id, want, __LINE__);
    event(f, id, TICKET_EVENT_RESOLVE, T0 + 11 * S, __LINE__);

    assert_int_equal(service_override_delete(f->svc, "duty", 102, &err), 0);
    assert_int_equal(service_override_delete(f->svc, "duty", 102, &err), -ENOENT);
    int64_t id2 = create(f, &t, T0 + 20 * S, true, __LINE__);
    ticket_done(&t);
    assert_int_equal(fire(f, T0 + 25 * S, __LINE__), 1);
    assert_int_equal(fire(f, T0 + 30 * S, __LINE__), 1);
    static const char *const want2[] = {
        "t2/response/step1/r0/assignee/tech|sla.warning|pending",
        "t2/response/step2/r0/supervisor/boss|sla.breach|pending",
        "t2/response/step2/r0/manager|sla.breach|dead",
        NULL,
    };
    outbox_is(f, id2, want2, __LINE__);
}

/* Quiet hours: boss keeps office hours (weekdays 09:00-18:00 UTC), chief none. At night
 * boss's warning waits, pending, for the morning's opening, marked deferred; his breach
 * (urgent by default) goes at once, as does everything for chief. Under a policy whose
 * urgent list is empty, the breach waits too. */
static const char *conf_quiet =
    "calendars = ( { name = \"office\"; timezone = \"UTC\";\n"
    "  hours = { mon = [\"09:00-18:00\"]; tue = [\"09:00-18:00\"]; wed = [\"09:00-18:00\"];\n"
    "            thu = [\"09:00-18:00\"]; fri = [\"09:00-18:00\"]; }; } );\n"
    "contacts = ( { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"];\n"
    "               hours = \"office\"; },\n"
    "             { name = \"chief\"; phone = \"+8613800000003\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"]; manager = [\"chief\"]; };"
    " } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test.jsonl\"; } );\n"
    "policies = (\n"
    "  { name = \"night-owl\"; match = { severity = [2]; }; calendar = \"24x7\"; urgent = [];\n"
    "    clocks = ( { name = \"response\"; target = \"10s\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"supervisor\"]; } ); } ); },\n"
    "  { name = \"fast\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"10s\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"supervisor\", \"manager\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\"]; } ); } ); }\n"
    ");\n";

struct due_dump {
    char rows[8][128];
    size_t n;
};

static int dump_due_row(void *userdata, const struct outbox_row *o)
{
    struct due_dump *d = userdata;
    if (d->n < 8)
        snprintf(d->rows[d->n++], sizeof(d->rows[0]), "%s|%s|%" PRId64 "|%s", o->idempotency_key,
                 outbox_state_name(o->state), o->next_attempt_ms, o->deferred ? "deferred" : "now");
    return 0;
}

static void test_quiet_hours_defer(void **state)
{
    struct fixture *f = *state;
    conf_free(f->conf_a);
    f->conf_a = load_conf(conf_quiet, "quiet.conf");
    assert_non_null(f->conf_a);
    close_service(f);
    open_service(f);
    const int64_t night = T0 + 14 * 3600 * S;          /* Monday 22:00 UTC */
    const int64_t morning = T0 + 25 * 3600 * S;        /* Tuesday 09:00 UTC */
    int64_t id = create_simple(f, 1, night, __LINE__); /* fast */
    fire(f, night + 5 * S, __LINE__);
    fire(f, night + 10 * S, __LINE__);
    struct due_dump d = {0};
    struct slad_error err = {{0}};
    struct outbox_filter filter = {.state = -1, .ticket_id = id, .due_ms = SLAD_NO_TIME};
    assert_int_equal(store_outbox_list(f->store, &filter, dump_due_row, &d, &err), 0);
    char want[3][128];
    snprintf(want[0], sizeof(want[0]),
             "t1/response/step1/r0/supervisor/boss|pending|%" PRId64 "|deferred", morning);
    snprintf(want[1], sizeof(want[1]), "t1/response/step1/r0/manager/chief|pending|%" PRId64 "|now",
             night + 5 * S);
    snprintf(want[2], sizeof(want[2]),
             "t1/response/step2/r0/supervisor/boss|pending|%" PRId64 "|now", night + 10 * S);
    assert_int_equal(d.n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(d.rows[i], want[i]);

    /* urgent = []: the breach waits for the morning too; by day nothing waits. */
    id = create_simple(f, 2, night, __LINE__); /* night-owl */
    fire(f, night + 10 * S, __LINE__);
    int64_t day_id = create_simple(f, 2, morning, __LINE__);
    fire(f, morning + 10 * S, __LINE__);
    memset(&d, 0, sizeof(d));
    filter.ticket_id = id;
    assert_int_equal(store_outbox_list(f->store, &filter, dump_due_row, &d, &err), 0);
    filter.ticket_id = day_id;
    assert_int_equal(store_outbox_list(f->store, &filter, dump_due_row, &d, &err), 0);
    snprintf(want[0], sizeof(want[0]),
             "t2/response/step1/r0/supervisor/boss|pending|%" PRId64 "|deferred", morning);
    snprintf(want[1], sizeof(want[1]),
             "t3/response/step1/r0/supervisor/boss|pending|%" PRId64 "|now", morning + 10 * S);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.rows[0], want[0]);
    assert_string_equal(d.rows[1], want[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_rechooses_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_past_due_is_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_every_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fire_due_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_ticket_escalates_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_fired_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_agenda_after_reopen, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_agenda, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_reload_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_refused_rolls_back, setup_file, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_recipient_is_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notification_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oncall_at_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_hours_defer, setup, teardown),
    };
    if (testdb_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    testdb_cleanup();
    return failed;
}
