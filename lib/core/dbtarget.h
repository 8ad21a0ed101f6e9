/* dbtarget.h - what the `database` setting names: an SQLite file (a path, or a file: URI)
 * or a PostgreSQL database (a libpq URI, postgresql://... or postgres://..., or a libpq
 * conninfo, "host=/run/postgresql dbname=slad"). The loader checks the text; lib/store's
 * db.h opens it with the driver this names. */
#ifndef SLAD_DBTARGET_H
#define SLAD_DBTARGET_H

#include <stdbool.h>

#include "error.h"

bool dbtarget_is_postgres(const char *database);

/* 0 when database is usable text for its kind, else -EINVAL with a message: a URI
 * holding a space or a control character, a conninfo that is not KEY=VALUE pairs (a value
 * with spaces quoted 'like this'). libpq itself checks the keywords at the connection. */
int dbtarget_check(const char *database, struct slad_error *reterr);

#endif
