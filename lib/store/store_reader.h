/* store_reader.h - a second, read-only connection to the store's database for a reader
 * thread (daemon/reader.c): long reads (SLA reports, their CSV form) run on it beside the
 * loop's connection, which keeps writing. In WAL mode a reader sees one consistent
 * snapshot per transaction and neither waits for the writer nor blocks it
 * (sqlite.org/wal.html "Concurrency").
 *
 * The connection belongs to the thread that uses it (SQLITE_OPEN_NOMUTEX: never two
 * threads at once). Everything of store.h that only reads works on it; writes fail with
 * -EROFS. */
#ifndef SLAD_STORE_READER_H
#define SLAD_STORE_READER_H

#include "error.h"

struct store;

/* Open a read-only connection to the database of s (the loop's store, open; call on its
 * thread), into *ret; store_close frees it. -ENOTSUP when s has no file another
 * connection could open (":memory:", a temporary database) or is not SQLite (on
 * PostgreSQL a reader would be a second connection of its own: not done yet), and the
 * caller reads on its own connection as before. */
int store_open_reader(struct store *s, struct store **ret, struct slad_error *reterr);

/* One snapshot for several statements: store_read_begin opens a read transaction
 * (BEGIN; the snapshot is taken at its first read), store_read_end ends it (it must end:
 * an open reader keeps the WAL from restarting, and it grows). On the reader's thread. */
int store_read_begin(struct store *r, struct slad_error *reterr);
void store_read_end(struct store *r);

/* Make the reader's running statement stop soon with an error (sqlite3_interrupt): from
 * any thread, while the reader is open. At stop, so that no one waits for a long read. */
void store_reader_interrupt(struct store *r);

#endif
