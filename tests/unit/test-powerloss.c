/* test-powerloss.c - power loss under the store (faultvfs.h): the daemon's work (intake,
 * events, escalations, delivery results, one transaction each round) runs on a file
 * database; at a seeded random cut among the writes and syncs of the database and its
 * WAL, the shim writes what the disk could hold (unsynced writes dropped, torn in order,
 * or kept sector by sector at random); that image is then opened with store_open.
 * - synchronous=full: the image holds exactly the last acknowledged transaction (the one
 *   in flight at the cut may be there too) and passes integrity_check;
 * - synchronous=normal: the image opens, passes integrity_check and holds the state after
 *   some acknowledged transaction (a prefix: atomic, maybe not durable).
 * Either way the service then works on it. SLAD_POWERLOSS_SEEDS=n runs n seeds per mode
 * (default 60). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "faultdb.h"
#include "faultvfs.h"
#include "store_internal.h"

#define S       INT64_C(1000)
#define ROUNDS  24
#define DB_NAME "slad.db"
/* Odd seeds checkpoint often, so that cuts fall in checkpoints (database writes and
 * syncs) too; even seeds keep SQLite's default (1000 pages: no checkpoint in a run). */
#define CHECKPOINT_OFTEN "PRAGMA wal_autocheckpoint = 16"

static struct conf *conf;
static char live_dir[96], image_dir[128];
static long n_seeds = 60;
/* Static so that a failed test's successor can close what it left open. */
static struct faultdb live_db, image_db;

/* What one run acknowledged: the dump after every acknowledged transaction (the first
 * after store_open), and after the transaction in flight at the cut if it committed. */
struct run {
    char *acked[ROUNDS + 1];
    size_t n_acked;
    char *inflight;
    bool cut;
};

static void run_done(struct run *run)
{
    for (size_t i = 0; i < run->n_acked; i++)
        free(run->acked[i]);
    free(run->inflight);
    memset(run, 0, sizeof(*run));
}

static void check(int r, const struct slad_error *err, const char *what, int round)
{
    if (r < 0)
        fail_msg("round %d: %s: %d %s", round, what, r, err->msg);
}

/* Round i of the daemon's work, in the caller's transaction. */
static void work(struct faultdb *db, int i)
{
    struct slad_error err = {{0}};
    int64_t now = FAULTDB_T0 + i * 4 * S;
    char ext[32];
    snprintf(ext, sizeof(ext), "t%d-a", i);
    check(faultdb_intake(db, ext, 1, now, NULL, &err), &err, "intake", i);
    snprintf(ext, sizeof(ext), "t%d-b", i);
    check(faultdb_intake(db, ext, i % 3 == 0 ? 1 : 2, now, NULL, &err), &err, "intake", i);
    if (i >= 2) {
        int64_t id = 2 * (i - 2) + 1; /* round i - 2's first ticket */
        enum ticket_event_type ev = i % 2 ? TICKET_EVENT_RESOLVE : TICKET_EVENT_ACKNOWLEDGE;
        check(faultdb_event(db, id, ev, now, &err), &err, "event", i);
    }
    check(faultdb_fire(db, now, NULL, &err), &err, "escalations", i);
    for (int n = 0; n < 2; n++) {
        struct faultdb_delivery d;
        int r = faultdb_next_delivery(db, now, &d, &err);
        if (r == -ENOENT)
            break;
        check(r, &err, "next delivery", i);
        check(faultdb_deliver(db, &d, now, &err), &err, "delivery", i);
    }
}

static void live_path(char *buf, size_t size)
{
    snprintf(buf, size, "%s/" DB_NAME, live_dir);
}

/* The work of ROUNDS transactions on a new database, cut at the cut-th tracked
 * operation (0: never); returns how many tracked operations it made. */
static long run_live(bool full, bool checkpoint_often, long cut, enum faultvfs_loss loss,
                     uint64_t seed, struct run *run)
{
    char path[192];
    live_path(path, sizeof(path));
    faultdb_remove(path);
    memset(run, 0, sizeof(*run));
    faultvfs_powerloss_arm(cut, loss, seed, image_dir);
    struct faultdb *db = &live_db;
    struct slad_error err = {{0}};
    check(faultdb_open(db, conf, path, full, &err), &err, "store_open", -1);
    if (checkpoint_often)
        assert_int_equal(sqlite3_exec(store_db(db->store), CHECKPOINT_OFTEN, NULL, NULL, NULL),
                         SQLITE_OK);
    if (!faultvfs_powerloss_happened()) {
        run->acked[run->n_acked++] = faultdb_dump(db);
        assert_non_null(run->acked[0]);
    }
    for (int i = 0; i < ROUNDS && !faultvfs_powerloss_happened(); i++) {
        check(store_begin(db->store, &err), &err, "begin", i);
        work(db, i);
        check(store_commit(db->store, &err), &err, "commit", i);
        char *dump = faultdb_dump(db);
        assert_non_null(dump);
        if (faultvfs_powerloss_happened())
            run->inflight = dump;
        else
            run->acked[run->n_acked++] = dump;
    }
    run->cut = faultvfs_powerloss_happened();
    long ops = faultvfs_powerloss_ops();
    faultvfs_powerloss_disarm();
    faultdb_close(db);
    return ops;
}

struct tally {
    long runs, inflight_kept, lost_max, lost_runs;
};

/* Open the image, check it, and work on it once more. */
static void check_image(bool full, const struct run *run, long seed, struct tally *t)
{
    char path[192];
    snprintf(path, sizeof(path), "%s/" DB_NAME, image_dir);
    struct faultdb *db = &image_db;
    struct slad_error err = {{0}};
    if (faultdb_open(db, conf, path, full, &err) < 0)
        fail_msg("seed %ld: the image does not open: %s", seed, err.msg);
    if (faultdb_integrity(db, &err) < 0)
        fail_msg("seed %ld: %s", seed, err.msg);
    char *dump = faultdb_dump(db);
    assert_non_null(dump);
    long lost = -1;
    if (run->inflight && strcmp(dump, run->inflight) == 0) {
        lost = 0;
        t->inflight_kept++;
    }
    for (size_t i = run->n_acked; lost < 0 && i-- > 0;)
        if (strcmp(dump, run->acked[i]) == 0)
            lost = (long)(run->n_acked - 1 - i);
    if (run->n_acked == 0 && lost < 0)
        lost = 0; /* cut inside store_open: nothing was acknowledged */
    if (lost < 0)
        fail_msg("seed %ld: the image holds no acknowledged state:\n%s", seed, dump);
    if (full && lost > 0)
        fail_msg("seed %ld: synchronous=full lost %ld acknowledged transaction(s)", seed, lost);
    if (lost > t->lost_max)
        t->lost_max = lost;
    if (lost > 0)
        t->lost_runs++;
    free(dump);
    /* The service goes on from there. */
    check(store_begin(db->store, &err), &err, "begin on the image", ROUNDS);
    check(faultdb_intake(db, "after", 1, FAULTDB_T0 + ROUNDS * 4 * S, NULL, &err), &err,
          "intake on the image", ROUNDS);
    check(faultdb_fire(db, FAULTDB_T0 + ROUNDS * 4 * S, NULL, &err), &err,
          "escalations on the image", ROUNDS);
    check(store_commit(db->store, &err), &err, "commit on the image", ROUNDS);
    if (faultdb_integrity(db, &err) < 0)
        fail_msg("seed %ld: after more work: %s", seed, err.msg);
    faultdb_close(db);
    faultdb_remove(path);
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void power_loss(bool full)
{
    faultvfs_powerloss_disarm();
    faultdb_close(&live_db);
    faultdb_close(&image_db);
    struct run run;
    long ops[2]; /* tracked operations of a whole run, by checkpoint_often */
    for (int often = 0; often < 2; often++) {
        ops[often] = run_live(full, often, 0, FAULTVFS_DROP, 0, &run);
        assert_int_equal(run.n_acked, ROUNDS + 1);
        run_done(&run);
    }
    struct tally t[2] = {{0}};
    static const char *const loss_names[] = {"drop", "prefix", "sectors"};
    for (long seed = 1; seed <= n_seeds; seed++) {
        int often = (int)(seed % 2);
        long cut = 1 + (long)(mix((uint64_t)seed) % (uint64_t)ops[often]);
        enum faultvfs_loss loss = (enum faultvfs_loss)(seed % 3);
        run_live(full, often, cut, loss, (uint64_t)seed, &run);
        if (!run.cut)
            fail_msg("seed %ld: cut %ld of %ld never reached", seed, cut, ops[often]);
        t[often].runs++;
        if (getenv("SLAD_POWERLOSS_VERBOSE"))
            print_message("seed %ld: cut %ld/%ld (%s, checkpoint %s), %zu acknowledged\n", seed,
                          cut, ops[often], loss_names[loss], often ? "often" : "default",
                          run.n_acked);
        check_image(full, &run, seed, &t[often]);
        run_done(&run);
    }
    for (int often = 0; often < 2; often++)
        print_message("synchronous=%s, checkpoint %s: %ld power cuts among %ld writes and "
                      "syncs (%d transactions); in-flight transaction kept %ld times; "
                      "acknowledged transactions lost in %ld runs, at most %ld\n",
                      full ? "full" : "normal", often ? "every 16 pages" : "default", t[often].runs,
                      ops[often], ROUNDS, t[often].inflight_kept, t[often].lost_runs,
                      t[often].lost_max);
}

static void test_full(void **state)
{
    power_loss(true);
}

static void test_normal(void **state)
{
    power_loss(false);
}

int main(void)
{
    if (faultvfs_register() != 0) {
        fprintf(stderr, "cannot register the VFS shim\n");
        return 1;
    }
    const char *seeds = getenv("SLAD_POWERLOSS_SEEDS");
    if (seeds && atol(seeds) > 0)
        n_seeds = atol(seeds);
    conf = faultdb_conf();
    if (!conf)
        return 1;
    snprintf(live_dir, sizeof(live_dir), "%s/slad-test-powerloss-%ld", faultdb_tmpdir(),
             (long)getpid());
    snprintf(image_dir, sizeof(image_dir), "%s/image", live_dir);
    if (mkdir(live_dir, 0700) < 0 || mkdir(image_dir, 0700) < 0) {
        perror(live_dir);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_normal),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char path[192];
    live_path(path, sizeof(path));
    faultdb_remove(path);
    snprintf(path, sizeof(path), "%s/" DB_NAME, image_dir);
    faultdb_remove(path);
    rmdir(image_dir);
    rmdir(live_dir);
    conf_free(conf);
    return failed;
}
