/*
 * cache/slots.h - what the per-child caches (cache/tokcache.h, cache/sesscache.h)
 * share: a direct-mapped table of fixed-size slots behind one mutex.
 *
 * The slots come from calloc, not from the pool: a table of this size is
 * mmap'ed, so a page costs memory only once a slot in it is written (most
 * servers never fill theirs). The pool frees them.
 */
#ifndef TA_SLOTS_H
#define TA_SLOTS_H

#include <apr_pools.h>
#include <apr_thread_mutex.h>

typedef struct {
    char *base;                 /* n slots of size bytes */
    apr_size_t size;
    apr_size_t mask;            /* n - 1, n a power of two */
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
} ta_slots_t;

/* Room for `entries` zeroed slots of size bytes (rounded up to a power of
 * two, at most 2^20), released with p. 0 on success, -1 when entries <= 0
 * or memory or the mutex cannot be had. */
int ta_slots_init(ta_slots_t *t, apr_pool_t *p, int entries, apr_size_t size);

/* The slot of a key: FNV-1a of its bytes, masked. */
void *ta_slots_at(const ta_slots_t *t, const char *key, apr_size_t len);

void ta_slots_lock(ta_slots_t *t);
void ta_slots_unlock(ta_slots_t *t);

#endif
