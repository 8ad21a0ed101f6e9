/* store_subjournal.c - a savepoint's sub-journal in memory, in one allocation
 * (store_subjournal.h).
 *
 * Every operation runs in a savepoint, and SQLite copies each page the operation first
 * touches into the savepoint's sub-journal. With temp_store = MEMORY that journal grows in
 * 1 KiB chunks, each a malloc, all freed at the release: a burst step's 20-odd pages cost
 * 90 allocations, a tenth of its instructions (doc/PERFORMANCE.md, "Round six"). Without
 * it, SQLite keeps the journal in one buffer of the statement-journal spill size and writes
 * it to a temporary file only past that size; 1 MiB holds any single operation but a bulk
 * one, which then spills to a file as SQLite always could. */
#include "store_subjournal.h"

#include <pthread.h>
#include <sqlite3.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool configured;

static void configure(void)
{
    configured = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_SUBJOURNAL_MEMORY) == SQLITE_OK;
}

bool store_subjournal_configured(void)
{
    pthread_once(&once, configure);
    return configured;
}
