/* test-oom.c - out of memory at every allocation of an operation: all or nothing.
 *
 * For each operation of the service (create a ticket, apply an event, fire what is due,
 * complete a follow-up) and for a simulation, fail the k-th allocation for k = 1, 2, ...
 * until the operation completes without meeting the failure: SQLite's (faultmem.h), jansson's and
 * libslad's own (faultlibc.h: malloc, calloc, realloc, strdup through -Wl,--wrap), once or from k
 * on. Each attempt starts from the same committed state with a new service and agenda (so that the
 * effect lists grow from empty and their first allocation is met too), runs in a transaction as the
 * daemon's batch does, and must either fail cleanly (-ENOMEM or another clean errno, with a
 * message) leaving every table (tickets, clocks, history, outbox, followups, counts...) exactly as
 * before, or succeed with exactly the rows of the run without a fault: an escalation or a notice is
 * never silently dropped. After a failure the same operation, uninjected, must then succeed with
 * those rows. The transaction is rolled back after each attempt. SLAD_OOM_VERBOSE=1 prints each
 * failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultdb.h"
#include "faultlibc.h"
#include "faultmem.h"
#include "followup.h"
#include "simulate.h"
#include "store_followup.h"
#include "conf_load.h"

#define S  INT64_C(1000)
#define T0 FAULTDB_T0
/* No operation needs more: reaching it means the loop never ends. */
#define K_MAX 20000
/* When every operation runs: everything in the base state below is due by then. */
#define NOW (T0 + 12 * S)

/* One policy: a response clock whose steps (5 s, 10 s) are due at NOW, a follow-up from
 * creation and one from resolution (due at once, overdue 5 s later), repeat faults from
 * the second ticket of a device. */
static const char conf_text[] =
    "contacts = ( { name = \"tech\"; phone = \"+8613800000001\"; via = [\"log\"]; },\n"
    "             { name = \"boss\"; phone = \"+8613800000002\"; via = [\"log\"]; } );\n"
    "teams = ( { name = \"north\"; roles = { supervisor = [\"boss\"];\n"
    "                                        manager = [\"oncall:duty\"]; }; } );\n"
    /* The manager is whoever is on call: firing reads the overrides (one holds at NOW). */
    "schedules = ( { name = \"duty\"; timezone = \"UTC\"; layers = ( {\n"
    "  start = \"2026-01-01T00:00:00Z\"; rotation = \"1d\"; contacts = [\"tech\"]; } ); } );\n"
    "channels = ( { name = \"log\"; type = \"file\"; path = \"/tmp/slad-test-oom.jsonl\"; } );\n"
    "repeat_fault = { count = 2; window = \"1h\"; notify = [\"manager\"]; };\n"
    "policies = (\n"
    "  { name = \"fast\"; match = { }; calendar = \"24x7\";\n"
    "    clocks = ( { name = \"response\"; target = \"10s\"; stop = [\"acknowledge\", "
    "\"resolve\"];\n"
    "                 escalate = ( { at = \"50%\"; notify = [\"assignee\"]; },\n"
    "                              { at = \"100%\"; notify = [\"supervisor\", \"manager\"]; },\n"
    "                              { at = \"+5s\"; notify = [\"manager\"]; repeat = \"5s\"; } ); "
    "},\n"
    "               { name = \"resolution\"; target = \"60s\"; stop = [\"resolve\"];\n"
    "                 escalate = ( { at = \"100%\"; notify = [\"manager\"]; } ); } );\n"
    "    followups = ( { name = \"install\"; from = \"create\"; after = \"0s\";\n"
    "                    due_within = \"1h\"; owner = \"assignee\"; },\n"
    "                  { name = \"callback\"; from = \"resolve\"; after = \"0s\";\n"
    "                    due_within = \"5s\"; owner = \"supervisor\"; } ); }\n"
    ");\n";

struct ctx {
    struct conf *conf;
    struct faultdb db;
    int64_t busy_id;     /* created at T0, nothing fired yet: its steps are due at NOW */
    int64_t resolved_id; /* resolved at T0 + 1 s: its callback is overdue at NOW */
    int64_t callback_id; /* that callback task */
};

static struct ctx ctx;
static bool verbose;

typedef int op_fn(struct ctx *c, struct slad_error *reterr);

/* A ticket reported 12 s ago: its steps fire at once, late; a repeat fault; the install
 * follow-up falls due at once. */
static int op_create(struct ctx *c, struct slad_error *reterr)
{
    return faultdb_intake_at(&c->db, "late", 1, T0, NOW, NULL, reterr);
}

/* Resolve the busy ticket: its due steps fire first, then the clocks stop and the
 * callback is created and falls due. */
static int op_event(struct ctx *c, struct slad_error *reterr)
{
    return faultdb_event(&c->db, c->busy_id, TICKET_EVENT_RESOLVE, NOW, reterr);
}

/* The agenda: the busy ticket's steps and breach, and the callback's overdue step. */
static int op_fire(struct ctx *c, struct slad_error *reterr)
{
    return faultdb_fire(&c->db, NOW, NULL, reterr);
}

/* The callback completed unsatisfied: the supervisor is told. */
static int op_complete(struct ctx *c, struct slad_error *reterr)
{
    struct followup f;
    int r = service_followup_complete(c->db.svc, c->callback_id, "unsatisfied", "still broken",
                                      "tester", NOW, &f, reterr);
    return r;
}

struct scenario {
    const char *name;
    op_fn *op;
    /* The operation handles several units, each in its own savepoint (service_fire_due:
     * one per agenda entry): after a failure the units before it may stay. */
    bool units;
};

static const struct scenario scenarios[] = {
    {"create", op_create, false},
    {"event", op_event, false},
    {"fire", op_fire, true},
    {"complete", op_complete, false},
};

/* A new service and agenda on the store, loaded from it, as after a start. */
static void fresh_service(struct ctx *c)
{
    struct slad_error err = {{0}};
    service_free(c->db.svc);
    agenda_free(c->db.agenda);
    c->db.agenda = agenda_new();
    assert_non_null(c->db.agenda);
    if (service_new(c->conf, c->db.store, c->db.agenda, NULL, &c->db.svc, &err) < 0 ||
        service_load_agenda(c->db.svc, &err) < 0)
        fail_msg("service: %s", err.msg);
}

/* op in a new transaction (the daemon's batch); the caller rolls it back. */
static int run(struct ctx *c, op_fn *op, struct slad_error *reterr)
{
    int r = store_begin(c->db.store, reterr);
    return r < 0 ? r : op(c, reterr);
}

static char *dump(struct ctx *c)
{
    char *text = faultdb_dump(&c->db);
    assert_non_null(text);
    return text;
}

static void rollback(struct ctx *c)
{
    struct slad_error err = {{0}};
    if (store_in_transaction(c->db.store) && store_rollback(c->db.store, &err) < 0)
        fail_msg("rollback: %s", err.msg);
}

static char *dump_and_rollback(struct ctx *c)
{
    char *text = dump(c);
    rollback(c);
    return text;
}

/* After a failed operation, the same one again as the daemon's next round runs it: in
 * the transaction that holds the units done before the failure (it is committed), or,
 * when SQLite ended it, in a new one with the agenda read again (as after a rollback). */
static int retry(struct ctx *c, op_fn *op, struct slad_error *reterr)
{
    if (store_in_transaction(c->db.store))
        return op(c, reterr);
    int r = faultdb_reload_agenda(&c->db, reterr);
    return r < 0 ? r : run(c, op, reterr);
}

static bool clean_errno(int r)
{
    return r == -ENOMEM || r == -EIO || r == -EAGAIN;
}

struct tally {
    long ks, errors, absorbed;
};

static void every_k(const struct scenario *sc, bool persistent, struct tally *ret)
{
    struct ctx *c = &ctx;
    struct slad_error err = {{0}};
    memset(ret, 0, sizeof(*ret));
    /* The state before, after the first unit (units only) and after the whole. */
    fresh_service(c);
    char *before = faultdb_dump(&c->db);
    assert_non_null(before);
    if (run(c, sc->op, &err) < 0)
        fail_msg("%s without a fault: %s", sc->name, err.msg);
    char *done = dump_and_rollback(c);
    char *first = NULL;
    if (sc->units) {
        fresh_service(c);
        size_t n = 0;
        if (store_begin(c->db.store, &err) < 0 || service_fire_due(c->db.svc, NOW, 1, &n, &err) < 0)
            fail_msg("%s, first unit: %s", sc->name, err.msg);
        first = dump_and_rollback(c);
    }
    for (long k = 1;; k++) {
        if (k > K_MAX)
            fail_msg("%s: still failing after %d attempts", sc->name, K_MAX);
        fresh_service(c);
        memset(&err, 0, sizeof(err));
        faultmem_fail_at(k, persistent);
        int r = run(c, sc->op, &err);
        bool fired = faultmem_failed();
        faultmem_fail_at(0, false);
        char *after = dump(c);
        if (!fired) {
            rollback(c);
            if (r < 0)
                fail_msg("%s: failed without injection: %d %s", sc->name, r, err.msg);
            assert_string_equal(after, done);
            free(after);
            break;
        }
        ret->ks++;
        if (r == 0) {
            /* Got over it (an allocation retried): then everything must be there. */
            rollback(c);
            ret->absorbed++;
            if (strcmp(after, done) != 0) {
                faultdb_print_diff(done, after);
                fail_msg("%s k=%ld: succeeded, but its rows differ from the run without a fault "
                         "(a lost effect?)",
                         sc->name, k);
            }
            free(after);
            continue;
        }
        ret->errors++;
        if (verbose)
            print_message("%s k=%ld: %d %s\n", sc->name, k, r, err.msg);
        if (!clean_errno(r) || err.msg[0] == '\0')
            fail_msg("%s k=%ld: unclean error %d '%s'", sc->name, k, r, err.msg);
        if (strcmp(after, before) != 0 && !(first && strcmp(after, first) == 0)) {
            faultdb_print_diff(before, after);
            fail_msg("%s k=%ld: partial state left after '%s'", sc->name, k, err.msg);
        }
        free(after);
        /* The same operation without the fault, on the service that met it. */
        memset(&err, 0, sizeof(err));
        if (retry(c, sc->op, &err) < 0)
            fail_msg("%s k=%ld: the retry without injection failed: %s", sc->name, k, err.msg);
        after = dump_and_rollback(c);
        if (strcmp(after, done) != 0) {
            faultdb_print_diff(done, after);
            fail_msg("%s k=%ld: the retry left other rows than the run without a fault", sc->name,
                     k);
        }
        free(after);
    }
    free(before);
    free(done);
    free(first);
}

static void run_all(bool persistent)
{
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        struct tally t;
        every_k(&scenarios[i], persistent, &t);
        print_message("malloc %s %-9s: k = 1..%ld met the failure: %ld clean errors, %ld "
                      "recovered; k = %ld completed untouched\n",
                      persistent ? "persistent" : "once      ", scenarios[i].name, t.ks, t.errors,
                      t.absorbed, t.ks + 1);
        assert_true(t.errors > 0); /* the injection reached the operation */
    }
}

static void test_once(void **state)
{
    run_all(false);
}

static void test_persistent(void **state)
{
    run_all(true);
}

/* A timeline as text: every entry with its recipients, and the final clocks. */
static char *timeline_text(const struct timeline *tl)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    for (size_t i = 0; i < tl->n_entries; i++) {
        const struct sim_entry *e = &tl->entries[i];
        fprintf(out, "%lld %s %s %s %d %u:", (long long)e->at_ms, e->kind, e->event, e->clock,
                e->step, e->repeat);
        for (size_t k = 0; k < e->n_recipients; k++) {
            const struct sim_recipient *r = &e->recipients[k];
            fprintf(out, " %s/%s/%s/%s/%s", r->text, r->contact ? r->contact : "-",
                    r->channel ? r->channel : "-", r->address ? r->address : "-",
                    r->error ? r->error : "-");
        }
        fputc('\n', out);
    }
    for (size_t i = 0; i < tl->ticket.n_clocks; i++)
        fprintf(out, "%s %d %lld\n", tl->ticket.clocks[i].name, (int)tl->ticket.clocks[i].state,
                (long long)tl->ticket.clocks[i].elapsed_ms);
    fclose(out);
    return text;
}

/* POST /v1/simulate under the same loop: the timeline is whole or the run fails with
 * -ENOMEM; an entry or a recipient is never silently left out. */
static void test_simulate(void **state)
{
    struct ticket t;
    ticket_init(&t);
    t.title = "冰箱不制冷";
    t.team = "north";
    t.assignee = "tech";
    t.severity = 1;
    t.reported_at_ms = T0;
    struct ticket_event evs[] = {
        {.type = TICKET_EVENT_ACKNOWLEDGE, .at_ms = T0 + 12 * S},
        {.type = TICKET_EVENT_RESOLVE, .at_ms = T0 + 30 * S},
    };
    struct timeline tl;
    struct slad_error err = {{0}};
    assert_int_equal(simulate_run(ctx.conf, &t, evs, 2, T0 + 3600 * S, &tl, &err), 0);
    char *want = timeline_text(&tl);
    timeline_done(&tl);
    long errors = 0;
    for (long k = 1;; k++) {
        if (k > K_MAX)
            fail_msg("simulate: still failing after %d attempts", K_MAX);
        faultmem_fail_at(k, false);
        int r = simulate_run(ctx.conf, &t, evs, 2, T0 + 3600 * S, &tl, &err);
        bool fired = faultmem_failed();
        faultmem_fail_at(0, false);
        if (r < 0) {
            if (r != -ENOMEM || !fired)
                fail_msg("simulate k=%ld: %d %s", k, r, err.msg);
            errors++;
            continue;
        }
        char *got = timeline_text(&tl);
        timeline_done(&tl);
        if (strcmp(got, want) != 0)
            fail_msg("simulate k=%ld: a timeline with something missing:\n%s\nwant:\n%s", k, got,
                     want);
        free(got);
        if (!fired)
            break;
    }
    print_message("simulate: %ld allocations failed, each -ENOMEM\n", errors);
    assert_true(errors > 0);
    free(want);
}

static void commit_ok(struct ctx *c, struct slad_error *err)
{
    if (store_commit(c->db.store, err) < 0)
        fail_msg("commit: %s", err->msg);
}

/* The committed state every attempt starts from (at T0 + 1 s). */
static int setup(void **state)
{
    memset(&ctx, 0, sizeof(ctx));
    ctx.conf = NULL;
    struct conf_errors errs = {0};
    if (conf_load_string(conf_text, "oom.conf", &ctx.conf, &errs) < 0) {
        fprintf(stderr, "%s", errs.text ? errs.text : "?");
        conf_errors_done(&errs);
        return -1;
    }
    struct slad_error err = {{0}};
    struct schedule_override override = {
        .schedule = "duty", .contact = "boss", .from_ms = T0, .to_ms = T0 + 3600 * S};
    if (faultdb_open(&ctx.db, ctx.conf, ":memory:", true, &err) < 0 ||
        store_begin(ctx.db.store, &err) < 0 ||
        faultdb_intake_at(&ctx.db, "busy", 1, T0, T0, &ctx.busy_id, &err) < 0 ||
        faultdb_intake_at(&ctx.db, "done", 1, T0, T0, &ctx.resolved_id, &err) < 0 ||
        faultdb_event(&ctx.db, ctx.resolved_id, TICKET_EVENT_RESOLVE, T0 + S, &err) < 0 ||
        service_override_add(ctx.db.svc, &override, T0, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    commit_ok(&ctx, &err);
    struct followup page[4];
    size_t n = 0;
    if (store_followup_open_of_ticket(ctx.db.store, ctx.resolved_id, 0, page, 4, &n, &err) < 0)
        return -1;
    for (size_t i = 0; i < n && i < 4; i++)
        if (strcmp(page[i].name, "callback") == 0)
            ctx.callback_id = page[i].id;
    return ctx.callback_id ? 0 : -1;
}

static int teardown(void **state)
{
    faultdb_close(&ctx.db);
    conf_free(ctx.conf);
    return 0;
}

int main(void)
{
    /* The allocators are set before SQLite or jansson allocate anything. */
    if (faultmem_install() != 0) {
        fprintf(stderr, "cannot install the allocation shim\n");
        return 1;
    }
    faultlibc_install();
    verbose = getenv("SLAD_OOM_VERBOSE") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
