/* schema_pg.h - slad's schema in PostgreSQL's dialect, at the version SQLite's migrations
 * reach (store_schema.c, version 12), for a new PostgreSQL database (doc/POSTGRESQL.md: a
 * PostgreSQL database does not replay SQLite's history; later migrations are written in
 * both dialects side by side). */
#ifndef SLAD_SCHEMA_PG_H
#define SLAD_SCHEMA_PG_H

#include "db.h"
#include "error.h"

#define SCHEMA_PG_VERSION 12

/* Create every table, index and trigger, the leases table and schema_version, in one
 * transaction; -EEXIST when the database already has a schema_version. */
int schema_pg_create(struct db *db, struct slad_error *reterr);

/* Bring the database to SCHEMA_PG_VERSION at a store's open, in one transaction: a new one
 * gets the schema (as schema_pg_create), an existing one is checked and migrated under
 * LOCK TABLE schema_version, and gets the leases table when missing. Two instances
 * opening one database together create or migrate it once (an advisory lock). A database
 * of a newer slad is refused with -ENOTSUP. */
int schema_pg_open(struct db *db, struct slad_error *reterr);

/* The version schema_version holds, -ENOENT when there is none. */
int schema_pg_version(struct db *db, int *ret, struct slad_error *reterr);

#endif
