/* faultlibc.h - allocation failures in slad's own code and in jansson for tests: with
 * faultmem.c, the k-th allocation of any kind fails, whether SQLite, jansson or libslad
 * made it.
 *
 * libslad's calls to malloc, calloc, realloc, strdup and strndup reach __wrap_* here
 * because the test program is linked with -Wl,--wrap=NAME for each (tests/unit/
 * meson.build); jansson's go through json_set_alloc_funcs. Both count in faultmem's
 * sequence (faultmem_inject). Allocations inside libc itself (vasprintf, stdio) and in
 * the other libraries (libconfig, libical) are not counted. */
#ifndef SLAD_TEST_FAULTLIBC_H
#define SLAD_TEST_FAULTLIBC_H

/* Route jansson's allocations through the counter; call once at start. */
void faultlibc_install(void);

#endif
