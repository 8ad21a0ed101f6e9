/* store_subjournal.h - where an operation's savepoint keeps the pages it will restore. */
#ifndef SLAD_STORE_SUBJOURNAL_H
#define SLAD_STORE_SUBJOURNAL_H

#include <stdbool.h>

/* The sub-journal a savepoint fills stays in memory up to this many bytes. */
#define STORE_SUBJOURNAL_MEMORY (1 << 20)

/* Asks SQLite, once per process and before it is initialized, to keep a savepoint's
 * sub-journal in memory up to STORE_SUBJOURNAL_MEMORY in one allocation. False when SQLite
 * was initialized before (a test's allocator, say): then only temp_store = MEMORY keeps it
 * in memory, in 1 KiB pieces. */
bool store_subjournal_configured(void);

#endif
