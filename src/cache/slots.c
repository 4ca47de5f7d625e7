/*
 * slots.c - the direct-mapped slot table of the caches (see cache/slots.h).
 */
#include "cache/slots.h"

#include <stdlib.h>

#define MAX_ENTRIES (1 << 20)

static apr_status_t free_slots(void *base)
{
    free(base);
    return APR_SUCCESS;
}

int ta_slots_init(ta_slots_t *t, apr_pool_t *p, int entries, apr_size_t size)
{
    apr_size_t n = 1;

    if (entries <= 0) {
        return -1;
    }
    while (n < (apr_size_t)entries && n < MAX_ENTRIES) {
        n <<= 1;
    }
    if ((t->base = calloc(n, size)) == NULL) {
        return -1;
    }
    apr_pool_cleanup_register(p, t->base, free_slots, apr_pool_cleanup_null);
    t->size = size;
    t->mask = n - 1;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&t->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return -1;
    }
#endif
    return 0;
}

void *ta_slots_at(const ta_slots_t *t, const char *key, apr_size_t len)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    }
    return t->base + (h & t->mask) * t->size;
}

void ta_slots_lock(ta_slots_t *t)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(t->mutex);
#endif
}

void ta_slots_unlock(ta_slots_t *t)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(t->mutex);
#endif
}
