/*
 * sesscache.c - the table of the session cache (see ta_sesscache.h).
 */
#include "ta_sesscache.h"

#include <apr_thread_mutex.h>

#include <stdlib.h>
#include <string.h>

typedef struct {
    apr_size_t len;                   /* 0: empty */
    apr_uint32_t epoch;               /* bumped by every invalidation that lands here */
    apr_uint32_t generation;          /* the cache's epoch when stored: older means flushed */
    apr_int64_t stored_ms, seen_ms;
    char key[TA_SESSCACHE_KEY_MAX];
} slot_t;

struct ta_sesscache {
    slot_t *slots;
    apr_size_t mask;
    apr_int64_t max_age_ms;
    apr_uint32_t epoch;               /* bumped by every flush: O(1), no page of the table touched */
    int live;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
};

#define MAX_ENTRIES (1 << 20)

static apr_status_t free_slots(void *slots)
{
    free(slots);
    return APR_SUCCESS;
}

ta_sesscache_t *ta_sesscache_create(apr_pool_t *p, int entries, apr_int64_t max_age_ms)
{
    ta_sesscache_t *c;
    apr_size_t n = 1;

    if (max_age_ms <= 0 || entries <= 0) {
        return NULL;
    }
    while (n < (apr_size_t)entries && n < MAX_ENTRIES) {
        n <<= 1;
    }
    c = apr_pcalloc(p, sizeof(*c));
    /* calloc, not apr_pcalloc: a table this size comes from mmap, so a page
     * costs memory only once a slot in it is used. */
    if ((c->slots = calloc(n, sizeof(slot_t))) == NULL) {
        return NULL;
    }
    apr_pool_cleanup_register(p, c->slots, free_slots, apr_pool_cleanup_null);
    c->mask = n - 1;
    c->max_age_ms = max_age_ms;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
#endif
    return c;
}

static void lock(ta_sesscache_t *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(c->lock);
#endif
}

static void unlock(ta_sesscache_t *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->lock);
#endif
}

/* FNV-1a over the whole key (keys end in the random session id). */
static slot_t *slot_of(ta_sesscache_t *c, const char *key, apr_size_t len)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    }
    return &c->slots[h & c->mask];
}

/* Every entry stored before goes stale, and every stamp taken before. */
static void clear_all(ta_sesscache_t *c)
{
    c->epoch++;
}

int ta_sesscache_get(ta_sesscache_t *c, const char *key, apr_int64_t now_ms, apr_int64_t fresh_ms)
{
    apr_size_t len;
    slot_t *s;
    int hit;

    if (c == NULL || key == NULL || (len = strlen(key)) == 0 || len >= TA_SESSCACHE_KEY_MAX) {
        return 0;
    }
    s = slot_of(c, key, len);
    lock(c);
    hit = c->live && s->len == len && s->generation == c->epoch && memcmp(s->key, key, len) == 0
          && now_ms - s->stored_ms < c->max_age_ms && now_ms >= s->stored_ms
          && now_ms - s->seen_ms < fresh_ms;
    unlock(c);
    return hit;
}

apr_uint64_t ta_sesscache_stamp(ta_sesscache_t *c, const char *key)
{
    apr_uint64_t stamp;
    slot_t *s;

    if (c == NULL || key == NULL) {
        return 0;
    }
    s = slot_of(c, key, strlen(key));
    lock(c);
    stamp = ((apr_uint64_t)c->epoch << 32) | s->epoch;
    unlock(c);
    return stamp;
}

void ta_sesscache_put(ta_sesscache_t *c, const char *key, apr_int64_t seen_ms,
                      apr_int64_t now_ms, apr_uint64_t stamp)
{
    apr_size_t len;
    slot_t *s;

    if (c == NULL || key == NULL || (len = strlen(key)) == 0 || len >= TA_SESSCACHE_KEY_MAX) {
        return;
    }
    s = slot_of(c, key, len);
    lock(c);
    if (c->live && stamp == (((apr_uint64_t)c->epoch << 32) | s->epoch)) {
        memcpy(s->key, key, len);
        s->len = len;
        s->generation = c->epoch;
        s->stored_ms = now_ms;
        s->seen_ms = seen_ms;
    }
    unlock(c);
}

void ta_sesscache_invalidate(ta_sesscache_t *c, const char *key, apr_size_t len)
{
    slot_t *s;

    if (c == NULL || key == NULL) {
        return;
    }
    s = slot_of(c, key, len);
    lock(c);
    /* Whatever the slot holds goes: a colliding key only costs a round trip. */
    s->len = 0;
    s->epoch++;
    unlock(c);
}

void ta_sesscache_flush(ta_sesscache_t *c)
{
    if (c == NULL) {
        return;
    }
    lock(c);
    clear_all(c);
    unlock(c);
}

void ta_sesscache_set_live(ta_sesscache_t *c, int live)
{
    if (c == NULL) {
        return;
    }
    lock(c);
    clear_all(c);
    c->live = live;
    unlock(c);
}

int ta_sesscache_live(ta_sesscache_t *c)
{
    int live;

    if (c == NULL) {
        return 0;
    }
    lock(c);
    live = c->live;
    unlock(c);
    return live;
}
