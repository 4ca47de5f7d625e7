/*
 * cache/sesscache.h - a per-child cache of sessions found in Redis, kept exact
 * by Redis's own invalidation messages (TrpcAuthSessionCache; on by default).
 *
 * The session check (ta_session_touch) costs one Redis round trip per
 * request. With the cache on, a session found in Redis is remembered for at
 * most the configured age, and dropped as soon as Redis says its key changed:
 * a listener thread per child (src/store/redis_track.c) holds a connection with
 * CLIENT TRACKING in broadcast mode on the prefix of the session keys and
 * subscribed to __redis__:invalidate, so every write to a session key (logout,
 * revocation, rotation, expiry, a write from another server) reaches every
 * child. The cache answers only while that connection is up ("live"); losing
 * it empties the cache, and a Redis that stops answering the listener's PINGs
 * counts as lost.
 *
 * The race between a reader and an invalidation is closed by stamps: a reader
 * takes the stamp of the key's slot before asking Redis, and its answer is
 * stored only if no invalidation touched that slot (or emptied the cache) in
 * between. An invalidation that arrives after the store removes the entry.
 *
 * The race between an invalidation and the next request is closed too: an
 * invalidation that has reached this host must count even if the listener
 * thread has not been scheduled yet (a loaded machine may keep it waiting
 * for milliseconds while a worker answers from the cache). So the cache
 * answers only while the listener's socket holds no unread byte and the
 * listener is not in the middle of reading and applying what it read; both
 * are checked under the table's lock, which the listener takes to say it
 * starts and has finished reading. A revocation that Redis had sent before a
 * request began is thus never answered from the cache, whatever the threads'
 * scheduling; the cost is one ioctl(FIONREAD) per hit.
 *
 * This unit is the table only (APR, no httpd, no Redis): the session code and
 * the listener drive it. All functions accept a NULL cache (off).
 */
#ifndef TA_SESSCACHE_H
#define TA_SESSCACHE_H

#include <apr_pools.h>

#define TA_SESSCACHE_KEY_MAX 192
#define TA_SESSCACHE_ENTRIES 4096

typedef struct ta_sesscache ta_sesscache_t;

/* A cache whose entries live at most max_age_ms; NULL when max_age_ms <= 0
 * or on failure. Starts not live. */
ta_sesscache_t *ta_sesscache_create(apr_pool_t *p, int entries, apr_int64_t max_age_ms);

/* 1 if key is cached as an existing session stored at most max_age ago whose
 * last-seen time is younger than fresh_ms (so the once-a-minute last-seen
 * write still happens); 0 otherwise, and always while not live. */
int ta_sesscache_get(ta_sesscache_t *c, const char *key, apr_int64_t now_ms, apr_int64_t fresh_ms);

/* The stamp to pass to ta_sesscache_put, taken before asking Redis. */
apr_uint64_t ta_sesscache_stamp(ta_sesscache_t *c, const char *key);

/* Stores that key exists with last-seen seen_ms, unless the cache is not live
 * or the key's slot was invalidated since stamp was taken. */
void ta_sesscache_put(ta_sesscache_t *c, const char *key, apr_int64_t seen_ms,
                      apr_int64_t now_ms, apr_uint64_t stamp);

/* Redis said key (len bytes, not NUL-terminated) changed: drop it. */
void ta_sesscache_invalidate(ta_sesscache_t *c, const char *key, apr_size_t len);

/* Drops every entry (a revocation made by this child, FLUSHDB, ...). */
void ta_sesscache_flush(ta_sesscache_t *c);

/* The listener is subscribed (1) or has lost its connection (0: also flushes). */
void ta_sesscache_set_live(ta_sesscache_t *c, int live);
int ta_sesscache_live(ta_sesscache_t *c);

/* The listener's socket (-1: none): while it holds unread bytes, they may be
 * invalidations, and the cache answers nothing. */
void ta_sesscache_watch(ta_sesscache_t *c, int fd);

/* The listener starts (1) reading its socket and applying what it read, or
 * has finished (0); in between the cache answers nothing. */
void ta_sesscache_reading(ta_sesscache_t *c, int reading);

#endif
