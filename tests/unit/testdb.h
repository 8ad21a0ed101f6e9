/* testdb.h - the database a test of lib/store's db.h runs on: SLAD_TEST_DB=postgres
 * selects the server of SLAD_TEST_PG (scripts/with-postgres.sh sets it), anything else a
 * temporary SQLite file. */
#ifndef SLAD_TESTDB_H
#define SLAD_TESTDB_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* Read the environment (and make the SQLite file's folder); -1 when SLAD_TEST_PG is
 * missing for postgres. */
int testdb_init(void);
void testdb_cleanup(void);
bool testdb_on_postgres(void);
const char *testdb_target(void);

/* On PostgreSQL, the test's database emptied (schema public dropped and made again: no
 * table at all, as a new database); nothing on SQLite. */
void testdb_empty(void);
/* A connection to the test's database, failing the test when it cannot be opened. */
struct db *testdb_open(void);
void testdb_exec(struct db *db, const char *sql);
/* The integer in the first column of sql's first row, failing the test without one. */
int64_t testdb_value(struct db *db, const char *sql);

#endif
