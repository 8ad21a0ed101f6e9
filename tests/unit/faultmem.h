/* faultmem.h - allocation failures inside SQLite for tests: a wrapper around SQLite's
 * default allocator (SQLITE_CONFIG_MALLOC) that fails the k-th allocation.
 *
 * Only what SQLite allocates through sqlite3_malloc goes through it; jansson, libc and
 * slad's own allocations do not, unless faultlibc.c is linked in too (it counts them in
 * the same sequence). Lookaside is turned off so that SQLite's small allocations are
 * counted too. */
#ifndef SLAD_TEST_FAULTMEM_H
#define SLAD_TEST_FAULTMEM_H

#include <stdbool.h>

/* Install the wrapper and initialise SQLite: call before anything else uses SQLite.
 * 0 or an SQLite error code. */
int faultmem_install(void);

/* Make the k-th (from 1) allocation or reallocation return NULL; with persistent every
 * later one fails too. k = 0 disarms. Counting starts here. */
void faultmem_fail_at(long k, bool persistent);
/* Whether the armed failure happened since faultmem_fail_at. */
bool faultmem_failed(void);

/* Count one allocation: true when it is to fail. For other allocators (faultlibc.c). */
bool faultmem_inject(void);

#endif
