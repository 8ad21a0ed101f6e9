/* faultdb.h - the service on a file database for the storage fault tests
 * (test-powerloss.c, test-ioerr.c): a fixed config, the operations the daemon runs
 * (intake, events, escalations, delivery results) returning errors instead of asserting,
 * and a dump of every table to compare states. */
#ifndef SLAD_TEST_FAULTDB_H
#define SLAD_TEST_FAULTDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agenda.h"
#include "conf.h"
#include "error.h"
#include "service.h"
#include "store.h"
#include "ticket.h"

#define FAULTDB_T0 INT64_C(1772438400000) /* 2026-03-02T08:00:00Z */

struct faultdb {
    struct store *store;
    struct agenda *agenda;
    struct service *svc;
};

/* The config: severity 1 "fast" (response 10 s, steps at 50 %, 100 %, then every 5 s),
 * others "slow" (response 40 s, steps at 50 % and 100 %). NULL on failure. */
struct conf *faultdb_conf(void);

/* store_open(path, full) and a service with its agenda loaded. */
int faultdb_open(struct faultdb *db, const struct conf *conf, const char *path, bool full,
                 struct slad_error *reterr);
void faultdb_close(struct faultdb *db);
/* Where the test databases go: /dev/shm when writable (the shims model durability
 * themselves, so real fsyncs would only cost time), else /tmp. */
const char *faultdb_tmpdir(void);
/* Remove path and its -wal, -shm and -journal files. */
void faultdb_remove(const char *path);

/* Read the agenda again from the store, as the daemon does after a failed commit. */
int faultdb_reload_agenda(struct faultdb *db, struct slad_error *reterr);

/* Every table, row by row in a fixed order, and user_version, as text (malloc'd); NULL
 * when the database cannot be read. */
char *faultdb_dump(struct faultdb *db);
/* Print to stderr the lines of after that differ from before (two dumps), to say what
 * an attempt left behind. */
void faultdb_print_diff(const char *before, const char *after);
/* PRAGMA integrity_check: 0 when "ok", else -EIO with its first line in reterr. */
int faultdb_integrity(struct faultdb *db, struct slad_error *reterr);

/* The operations, each in the caller's transaction. */
int faultdb_intake(struct faultdb *db, const char *external_id, int severity, int64_t now_ms,
                   int64_t *ret_id, struct slad_error *reterr);
/* The same ticket reported at reported_ms (in the past: its steps fire at once). */
int faultdb_intake_at(struct faultdb *db, const char *external_id, int severity,
                      int64_t reported_ms, int64_t now_ms, int64_t *ret_id,
                      struct slad_error *reterr);
int faultdb_event(struct faultdb *db, int64_t id, enum ticket_event_type type, int64_t now_ms,
                  struct slad_error *reterr);
int faultdb_fire(struct faultdb *db, int64_t now_ms, size_t *ret_done, struct slad_error *reterr);

/* A pending notification due at now_ms, as the deliverer read it. */
struct faultdb_delivery {
    int64_t id;
    int attempts;
    char channel[64];
};
/* The first due pending row into *ret; -ENOENT when none. */
int faultdb_next_delivery(struct faultdb *db, int64_t now_ms, struct faultdb_delivery *ret,
                          struct slad_error *reterr);
/* Record its delivery result: sent at now_ms (odd ids) or a retry in 30 s. */
int faultdb_deliver(struct faultdb *db, const struct faultdb_delivery *d, int64_t now_ms,
                    struct slad_error *reterr);

#endif
