/* db_internal.h - what db.c shares with its two drivers (db_sqlite.c, db_pg.c): the
 * driver's table of functions and the parts of a connection and a statement that db.c
 * keeps (the statement cache). Not for use outside lib/store's db files. */
#ifndef SLAD_DB_INTERNAL_H
#define SLAD_DB_INTERNAL_H

#include "db.h"

/* Every statement of every store file fits in the cache. */
#define DB_CACHED_MAX 128

struct db_driver {
    const char *name;
    int (*open)(const char *target, struct db **ret, struct slad_error *reterr);
    void (*close)(struct db *db);
    int (*exec)(struct db *db, const char *sql, const char *op, struct slad_error *reterr);
    /* Prepare sql (one statement exec will run) ahead; NULL: nothing to prepare. */
    int (*keep)(struct db *db, const char *sql, struct slad_error *reterr);
    struct db_stmt *(*prepare)(struct db *db, const char *sql, struct slad_error *reterr);
    void (*finalize)(struct db_stmt *st);
    void (*bind_text)(struct db_stmt *st, int i, const char *v);
    void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
    void (*bind_null)(struct db_stmt *st, int i);
    int (*step)(struct db_stmt *st, const char *op, struct slad_error *reterr);
    int (*queue)(struct db_stmt *st, const char *op, struct slad_error *reterr);
    int (*sync)(struct db *db, struct slad_error *reterr);
    bool (*column_is_null)(struct db_stmt *st, int i);
    int64_t (*column_int64)(struct db_stmt *st, int i);
    const char *(*column_text)(struct db_stmt *st, int i);
    int (*column_count)(struct db_stmt *st);
    const char *(*column_name)(struct db_stmt *st, int i);
    void (*reset)(struct db_stmt *st);
    int64_t (*changes)(struct db *db);
    int64_t (*last_insert_id)(struct db *db);
    bool (*in_transaction)(struct db *db);
    /* The asynchronous commit (db.h); NULL on a driver that only commits synchronously. */
    int (*commit_async)(struct db *db, db_commit_done_fn *done, void *arg,
                        struct slad_error *reterr);
    int (*async_socket)(struct db *db);
    int (*async_wants)(struct db *db);
    void (*async_pump)(struct db *db);
    int (*async_in_flight)(struct db *db);
    /* Reconnection in the background (db.h); NULL on a driver that is never lost. */
    void (*reconnect_in_background)(struct db *db);
    int (*reconnect_step)(struct db *db, double now_s, struct db_link *link);
    bool (*connected)(struct db *db);
    const char *begin_sql; /* BEGIN, as each database wants it for a writer */
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* The head of each driver's connection and statement (their first member). */
struct db {
    const struct db_driver *driver;
    const char *cached_sql[DB_CACHED_MAX];
    struct db_stmt *cached[DB_CACHED_MAX];
    size_t n_cached;
    /* PostgreSQL: savepoints open, and whether the outermost began the transaction
     * (db_savepoint: SQLite's meaning of a savepoint outside a transaction). */
    int savepoints;
    bool savepoint_began;
};

struct db_stmt {
    struct db *db;
    const char *sql;
};

#endif
