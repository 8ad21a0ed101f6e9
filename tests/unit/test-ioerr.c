/* test-ioerr.c - I/O errors and allocation failures at the k-th operation, the way SQLite
 * tests itself: for one intake, one escalation (service_fire_due) and one delivery result
 * (store_outbox_update), each in its own transaction as the daemon runs them, fail the
 * k-th VFS operation (read, write, sync, truncate, file size, lock, shm map; faultvfs.h)
 * or the k-th SQLite allocation (faultmem.h), once or from k on, for k = 1, 2, ... until
 * the operation completes without meeting the failure. Every failed attempt must return a
 * negative errno with a message, leave the tables exactly as before once rolled back (and
 * the agenda reloaded, as the daemon does), and the same operation must then succeed.
 * Last, a batch of several operations with one failing: what it reports as committed is
 * what the database holds. SLAD_IOERR_VERBOSE=1 prints each failure. */
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

#include "faultdb.h"
#include "faultmem.h"
#include "faultvfs.h"
#include "store_internal.h"

#define S INT64_C(1000)
/* No operation needs more: reaching it means the loop never ends. */
#define K_MAX 20000

struct ctx {
    struct conf *conf;
    char path[128];
    struct faultdb db;
    int round;
    int64_t now_ms;
    int64_t escalated_id; /* the ticket of the previous escalation round */
    struct faultdb_delivery delivery;
};

static struct ctx ctx;
static bool verbose;

/* An operation: returns 0 or the first error. */
typedef int op_fn(struct ctx *c, struct slad_error *reterr);
/* Uninjected set-up of the next round, committed. */
typedef void prepare_fn(struct ctx *c);

struct scenario {
    const char *name;
    prepare_fn *prepare;
    op_fn *op;
};

enum fault { FAULT_IO, FAULT_MALLOC };

static void arm(enum fault fault, long k, bool persistent)
{
    if (fault == FAULT_IO)
        faultvfs_fail_at(FAULTVFS_ALL, k, persistent);
    else
        faultmem_fail_at(k, persistent);
}

static bool disarm(enum fault fault)
{
    bool fired = fault == FAULT_IO ? faultvfs_failed() : faultmem_failed();
    arm(fault, 0, false);
    return fired;
}

/* Drop the unused page cache, so that the operation reads from the file (and meets read
 * errors) rather than only from memory. */
static void cold_cache(struct ctx *c)
{
    sqlite3_db_release_memory(store_db(c->db.store));
}

/* op in its own transaction, committed: the daemon's batch of one. */
static int run_txn(struct ctx *c, op_fn *op, struct slad_error *reterr)
{
    int r = store_begin(c->db.store, reterr);
    if (r == 0)
        r = op(c, reterr);
    if (r == 0)
        r = store_commit(c->db.store, reterr);
    return r;
}

static void commit_ok(struct ctx *c, op_fn *op)
{
    struct slad_error err = {{0}};
    int r = run_txn(c, op, &err);
    if (r < 0)
        fail_msg("uninjected %s: %d %s", c->path, r, err.msg);
}

/* Intake: a new ticket (slow policy; the same device and fault code, so repeat faults). */
static void prepare_intake(struct ctx *c)
{
    c->round++;
    c->now_ms += S;
}

static int op_intake(struct ctx *c, struct slad_error *reterr)
{
    char ext[32];
    snprintf(ext, sizeof(ext), "in-%d", c->round);
    return faultdb_intake(&c->db, ext, 2, c->now_ms, NULL, reterr);
}

/* Escalation: a fresh ticket whose 50 % step (20 s) is the only thing due at now + 20 s;
 * the previous one is resolved before its next step. */
static int op_escalation_setup(struct ctx *c, struct slad_error *reterr)
{
    int r = 0;
    if (c->escalated_id)
        r = faultdb_event(&c->db, c->escalated_id, TICKET_EVENT_RESOLVE, c->now_ms, reterr);
    char ext[32];
    snprintf(ext, sizeof(ext), "esc-%d", c->round);
    if (r == 0)
        r = faultdb_intake(&c->db, ext, 2, c->now_ms, &c->escalated_id, reterr);
    if (r == 0)
        r = faultdb_fire(&c->db, c->now_ms, NULL, reterr);
    return r;
}

static void prepare_escalation(struct ctx *c)
{
    c->round++;
    /* The first round starts after every step of the intake tickets (40 s). */
    c->now_ms += c->escalated_id ? 25 * S : 100 * S;
    commit_ok(c, op_escalation_setup);
}

static int op_escalation(struct ctx *c, struct slad_error *reterr)
{
    size_t done = 0;
    int r = faultdb_fire(&c->db, c->now_ms + 20 * S, &done, reterr);
    if (r == 0 && done != 1)
        fail_msg("round %d: %zu agenda entries due, expected 1", c->round, done);
    return r;
}

/* A ticket whose steps fall due later, and the steps due now. */
static int op_intake_and_fire(struct ctx *c, struct slad_error *reterr)
{
    int r = op_intake(c, reterr);
    return r < 0 ? r : faultdb_fire(&c->db, c->now_ms, NULL, reterr);
}

/* Delivery: the result of sending the first due notification. */
static void prepare_delivery(struct ctx *c)
{
    struct slad_error err = {{0}};
    c->round++;
    int r = faultdb_next_delivery(&c->db, c->now_ms, &c->delivery, &err);
    for (int i = 0; r == -ENOENT && i < 3; i++) {
        /* Rows answered "retry" are due again, and new steps queue more. */
        c->now_ms += 31 * S;
        commit_ok(c, op_intake_and_fire);
        c->round++;
        r = faultdb_next_delivery(&c->db, c->now_ms, &c->delivery, &err);
    }
    if (r < 0)
        fail_msg("no notification to deliver: %d %s", r, err.msg);
}

static int op_delivery(struct ctx *c, struct slad_error *reterr)
{
    return faultdb_deliver(&c->db, &c->delivery, c->now_ms, reterr);
}

static const struct scenario scenarios[] = {
    {"intake", prepare_intake, op_intake},
    {"escalation", prepare_escalation, op_escalation},
    {"delivery", prepare_delivery, op_delivery},
};

static bool clean_errno(int r)
{
    return r == -EIO || r == -ENOMEM || r == -ENOSPC || r == -EAGAIN || r == -EROFS;
}

struct tally {
    long ks;       /* attempts that met the failure */
    long errors;   /* of which returned an error */
    long absorbed; /* of which SQLite recovered from and committed */
};

/* Fail the k-th operation for k = 1, 2, ... until the scenario completes untouched. */
static void every_k(const struct scenario *sc, enum fault fault, bool persistent, struct tally *ret)
{
    struct ctx *c = &ctx;
    memset(ret, 0, sizeof(*ret));
    for (long k = 1;; k++) {
        if (k > K_MAX)
            fail_msg("%s: still failing after %d attempts", sc->name, K_MAX);
        sc->prepare(c);
        char *before = faultdb_dump(&c->db);
        assert_non_null(before);
        struct slad_error err = {{0}};
        cold_cache(c);
        arm(fault, k, persistent);
        int r = run_txn(c, sc->op, &err);
        bool fired = disarm(fault);
        if (!fired) {
            if (r < 0)
                fail_msg("%s: failed without injection: %d %s", sc->name, r, err.msg);
            free(before);
            break;
        }
        ret->ks++;
        if (r == 0) {
            /* SQLite got over it (a failed checkpoint after the commit, a retried
             * allocation): the operation must then be there. */
            ret->absorbed++;
            char *after = faultdb_dump(&c->db);
            assert_non_null(after);
            if (strcmp(before, after) == 0)
                fail_msg("%s k=%ld: committed without its changes", sc->name, k);
            free(before);
            free(after);
            continue;
        }
        ret->errors++;
        if (verbose)
            print_message("%s k=%ld: %d %s\n", sc->name, k, r, err.msg);
        if (!clean_errno(r) || err.msg[0] == '\0')
            fail_msg("%s k=%ld: unclean error %d '%s'", sc->name, k, r, err.msg);
        struct slad_error err2 = {{0}};
        if (store_in_transaction(c->db.store) && store_rollback(c->db.store, &err2) < 0)
            fail_msg("%s k=%ld: rollback: %s", sc->name, k, err2.msg);
        assert_false(store_in_transaction(c->db.store));
        if (faultdb_reload_agenda(&c->db, &err2) < 0)
            fail_msg("%s k=%ld: agenda: %s", sc->name, k, err2.msg);
        char *after = faultdb_dump(&c->db);
        assert_non_null(after);
        if (strcmp(before, after) != 0) {
            faultdb_print_diff(before, after);
            fail_msg("%s k=%ld: partial state left after %s", sc->name, k, err.msg);
        }
        free(before);
        free(after);
        r = run_txn(c, sc->op, &err2);
        if (r < 0)
            fail_msg("%s k=%ld: the retry without injection failed: %d %s", sc->name, k, r,
                     err2.msg);
    }
    struct slad_error err = {{0}};
    if (faultdb_integrity(&c->db, &err) < 0)
        fail_msg("%s: %s", sc->name, err.msg);
}

/* What a failed test may have left: an armed shim, an open transaction. */
static void recover(void)
{
    disarm(FAULT_IO);
    disarm(FAULT_MALLOC);
    if (store_in_transaction(ctx.db.store))
        store_rollback(ctx.db.store, NULL);
    faultdb_reload_agenda(&ctx.db, NULL);
}

static void run_all(enum fault fault, bool persistent)
{
    recover();
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        struct tally t;
        /* The escalation rounds start after every step of the tickets made before. */
        ctx.escalated_id = 0;
        every_k(&scenarios[i], fault, persistent, &t);
        print_message("%s %s %-10s: k = 1..%ld met the failure: %ld clean errors, %ld "
                      "recovered by SQLite; k = %ld completed untouched\n",
                      fault == FAULT_IO ? "io" : "malloc", persistent ? "persistent" : "once      ",
                      scenarios[i].name, t.ks, t.errors, t.absorbed, t.ks + 1);
        assert_true(t.errors > 0); /* the injection reached the operation */
    }
}

static bool ticket_exists(const char *ext)
{
    int64_t id;
    struct slad_error err = {{0}};
    int r = store_ticket_find(ctx.db.store, "api", ext, &id, &err);
    if (r < 0 && r != -ENOENT)
        fail_msg("find %s: %s", ext, err.msg);
    return r == 0;
}

static int copy_attempts(void *userdata, const struct outbox_row *o)
{
    *(int *)userdata = o->attempts;
    return 0;
}

/* The attempts recorded for notification id. */
static int attempts_of(int64_t id)
{
    int attempts = -1;
    struct slad_error err = {{0}};
    if (store_outbox_get(ctx.db.store, id, copy_attempts, &attempts, &err) < 0)
        fail_msg("outbox %" PRId64 ": %s", id, err.msg);
    return attempts;
}

/* A batch (the daemon's group commit) of a delivery result and two intakes whose first
 * intake meets the failure: what the batch reports as committed is exactly what the
 * database holds. */
static void batch_every_k(enum fault fault)
{
    struct ctx *c = &ctx;
    long errors = 0;
    for (long k = 1;; k++) {
        if (k > K_MAX)
            fail_msg("batch: still failing after %d attempts", K_MAX);
        prepare_delivery(c);
        int attempts = c->delivery.attempts;
        char ext[2][32];
        int r[2];
        struct slad_error err = {{0}};
        for (int i = 0; i < 2; i++)
            snprintf(ext[i], sizeof(ext[i]), "batch-%d-%c", c->round, 'a' + i);
        cold_cache(c); /* the intake reads pages the delivery result did not */
        if (store_begin(c->db.store, &err) < 0)
            fail_msg("begin: %s", err.msg);
        int r_delivery = op_delivery(c, &err);
        for (int i = 0; i < 2; i++) {
            if (i == 0)
                arm(fault, k, false);
            r[i] = faultdb_intake(&c->db, ext[i], 2, c->now_ms, NULL, &err);
            if (i == 0 && !disarm(fault))
                k = -1; /* the intake completed untouched: last round */
        }
        int rc = store_commit(c->db.store, &err);
        if (rc < 0 && store_in_transaction(c->db.store))
            store_rollback(c->db.store, NULL);
        if (rc < 0 || r[0] < 0)
            errors++;
        bool acked = r_delivery == 0 && rc == 0;
        if (attempts_of(c->delivery.id) != attempts + acked)
            fail_msg("batch k=%ld: delivery result returned %d, commit %d, yet it is %s", k,
                     r_delivery, rc, acked ? "missing" : "stored");
        for (int i = 0; i < 2; i++) {
            acked = r[i] == 0 && rc == 0;
            if (ticket_exists(ext[i]) != acked)
                fail_msg("batch k=%ld: intake %d returned %d, commit %d, yet the ticket is %s", k,
                         i, r[i], rc, acked ? "missing" : "stored");
        }
        if (k < 0) {
            assert_int_equal(rc, 0);
            break;
        }
    }
    print_message("batch %s: every k until the intake completed untouched: %ld failed "
                  "batches, each all or nothing\n",
                  fault == FAULT_IO ? "io" : "malloc", errors);
    assert_true(errors > 0);
    if (faultdb_reload_agenda(&c->db, NULL) < 0)
        fail_msg("agenda reload");
}

static void test_batch(void **state)
{
    recover();
    batch_every_k(FAULT_IO);
    batch_every_k(FAULT_MALLOC);
}

static void test_io_once(void **state)
{
    run_all(FAULT_IO, false);
}

static void test_io_persistent(void **state)
{
    run_all(FAULT_IO, true);
}

static void test_malloc_once(void **state)
{
    run_all(FAULT_MALLOC, false);
}

static void test_malloc_persistent(void **state)
{
    run_all(FAULT_MALLOC, true);
}

/* A new database with a few tickets and notifications for each test, so that the dumps
 * stay small. */
static int setup(void **state)
{
    memset(&ctx, 0, sizeof(ctx));
    ctx.conf = faultdb_conf();
    if (!ctx.conf)
        return -1;
    snprintf(ctx.path, sizeof(ctx.path), "%s/slad-test-ioerr-%ld.db", faultdb_tmpdir(),
             (long)getpid());
    faultdb_remove(ctx.path);
    struct slad_error err = {{0}};
    if (faultdb_open(&ctx.db, ctx.conf, ctx.path, true, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    ctx.now_ms = FAULTDB_T0;
    for (int i = 0; i < 8; i++) {
        prepare_intake(&ctx);
        if (run_txn(&ctx, op_intake, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    faultdb_close(&ctx.db);
    faultdb_remove(ctx.path);
    conf_free(ctx.conf);
    return 0;
}

int main(void)
{
    /* The allocator is set before SQLite initialises, the VFS before the store opens. */
    if (faultmem_install() != 0 || faultvfs_register() != 0) {
        fprintf(stderr, "cannot install the fault shims\n");
        return 1;
    }
    verbose = getenv("SLAD_IOERR_VERBOSE") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_io_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_persistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malloc_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malloc_persistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
