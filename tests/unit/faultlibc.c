/* faultlibc.c - libslad's and jansson's allocations in faultmem's count (faultlibc.h). */
#include "faultlibc.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>

#include "faultmem.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t size)
{
    return faultmem_inject() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return faultmem_inject() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return faultmem_inject() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    return faultmem_inject() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return faultmem_inject() ? NULL : __real_strndup(s, n);
}

static void *json_malloc(size_t size)
{
    return faultmem_inject() ? NULL : __real_malloc(size);
}

static void json_free(void *p)
{
    free(p);
}

void faultlibc_install(void)
{
    json_set_alloc_funcs(json_malloc, json_free);
}
