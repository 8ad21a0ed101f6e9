/* migration_sql.h - the migration SQL that SQLite's dialect (store_schema.c) and
 * PostgreSQL's (schema_pg.c) share word for word: one text for both, so that the two
 * cannot drift apart. Lines that differ between the dialects stay in their own file,
 * beside these. */
#ifndef SLAD_MIGRATION_SQL_H
#define SLAD_MIGRATION_SQL_H

/* The board's late clocks (version 12): breached, or paused past their due; a partial
 * index that only those clocks are in. */
#define MIGRATION_SQL_CLOCKS_LATE                                                                  \
    "CREATE INDEX clocks_late ON clocks (ticket_id)"                                               \
    " WHERE state = 'breached' OR (state = 'paused' AND paused_breached <> 0);"

/* 11 -> 12 (issue 16): indexes nothing reads dropped, the board's late clocks,
 * history.more_entries (store_history.c). */
#define MIGRATION_SQL_12                                                                           \
    "DROP INDEX tickets_status;"                                                                   \
    "DROP INDEX clocks_state;"                                                                     \
    "DROP INDEX clocks_report;" MIGRATION_SQL_CLOCKS_LATE                                          \
    "ALTER TABLE history ADD COLUMN more_entries TEXT;"

#endif
