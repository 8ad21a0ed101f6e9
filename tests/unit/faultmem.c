/* faultmem.c - SQLite's default allocator with a failure at the k-th call (faultmem.h). */
#include "faultmem.h"

#include <stddef.h>

#include <sqlite3.h>

static sqlite3_mem_methods real_mem;

static struct {
    long k, seen;
    bool persistent, fired;
} inj;

bool faultmem_inject(void)
{
    if (inj.k == 0)
        return false;
    inj.seen++;
    if (inj.fired)
        return inj.persistent;
    if (inj.seen == inj.k) {
        inj.fired = true;
        return true;
    }
    return false;
}

static void *fm_malloc(int n)
{
    return faultmem_inject() ? NULL : real_mem.xMalloc(n);
}

static void *fm_realloc(void *p, int n)
{
    return faultmem_inject() ? NULL : real_mem.xRealloc(p, n);
}

int faultmem_install(void)
{
    int rc = sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_mem_methods m = real_mem;
    m.xMalloc = fm_malloc;
    m.xRealloc = fm_realloc;
    rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
    if (rc == SQLITE_OK)
        rc = sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_initialize();
    return rc;
}

void faultmem_fail_at(long k, bool persistent)
{
    inj.k = k;
    inj.seen = 0;
    inj.persistent = persistent;
    inj.fired = false;
}

bool faultmem_failed(void)
{
    return inj.fired;
}
