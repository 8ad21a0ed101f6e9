/* copy_db.h - `slad --copy-database FROM TO`: every row of slad's tables from one database
 * to another, SQLite or PostgreSQL either way (doc/POSTGRESQL.md), to move an installation. */
#ifndef SLAD_COPY_DB_H
#define SLAD_COPY_DB_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The tables copied, in the order they are (a row's parents first). */
#define COPY_DB_TABLES 9

struct copy_db_report {
    const char *table[COPY_DB_TABLES];
    int64_t rows[COPY_DB_TABLES];
    int64_t total;
};

/* Copy every row of every table of slad's schema from `from` to `to` (each a `database`
 * setting: an SQLite path or a PostgreSQL connection string), through db.h, in one
 * transaction on the target, the source read in one snapshot and never written. Both must
 * be at this slad's schema version (a target without a schema gets it); a target with any
 * row is refused. page_rows: rows read from the source at a time (0: copy_db.c's default;
 * tests page by a few). The messages never quote a PostgreSQL connection string (it may hold a
 * password). */
int copy_db(const char *from, const char *to, size_t page_rows, struct copy_db_report *ret,
            struct slad_error *reterr);

#endif
