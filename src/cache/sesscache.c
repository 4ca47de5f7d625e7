/*
 * sesscache.c - the table of the session cache (see cache/sesscache.h).
 */
#include "cache/sesscache.h"

#include "cache/slots.h"

#include <string.h>
#include <sys/ioctl.h>

typedef struct {
    apr_size_t len;                   /* 0: empty */
    apr_uint32_t epoch;               /* bumped by every invalidation that lands here */
    apr_uint32_t generation;          /* the cache's epoch when stored: older means flushed */
    apr_int64_t stored_ms, seen_ms;
    char key[TA_SESSCACHE_KEY_MAX];
} slot_t;

struct ta_sesscache {
    ta_slots_t t;
    apr_int64_t max_age_ms;
    apr_uint32_t epoch;               /* bumped by every flush: O(1), no page of the table touched */
    int live;
    int watch_fd;                     /* the listener's socket, -1: none */
    int reading;                      /* the listener is reading and applying invalidations */
};

ta_sesscache_t *ta_sesscache_create(apr_pool_t *p, int entries, apr_int64_t max_age_ms)
{
    ta_sesscache_t *c;

    if (max_age_ms <= 0 || entries <= 0) {
        return NULL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->max_age_ms = max_age_ms;
    c->watch_fd = -1;
    return ta_slots_init(&c->t, p, entries, sizeof(slot_t)) == 0 ? c : NULL;
}

static slot_t *slot_of(ta_sesscache_t *c, const char *key, apr_size_t len)
{
    return ta_slots_at(&c->t, key, len);
}

/* Nothing stands between the table and Redis's last word (lock held): the
 * listener is not reading, and its socket holds no unread invalidation. */
static int settled(const ta_sesscache_t *c)
{
    int unread = 0;

    if (c->reading) {
        return 0;
    }
    return c->watch_fd < 0 || (ioctl(c->watch_fd, FIONREAD, &unread) == 0 && unread == 0);
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
    ta_slots_lock(&c->t);
    hit = c->live && s->len == len && s->generation == c->epoch && memcmp(s->key, key, len) == 0
          && now_ms - s->stored_ms < c->max_age_ms && now_ms >= s->stored_ms
          && now_ms - s->seen_ms < fresh_ms && settled(c);
    ta_slots_unlock(&c->t);
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
    ta_slots_lock(&c->t);
    stamp = ((apr_uint64_t)c->epoch << 32) | s->epoch;
    ta_slots_unlock(&c->t);
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
    ta_slots_lock(&c->t);
    if (c->live && stamp == (((apr_uint64_t)c->epoch << 32) | s->epoch)) {
        memcpy(s->key, key, len);
        s->len = len;
        s->generation = c->epoch;
        s->stored_ms = now_ms;
        s->seen_ms = seen_ms;
    }
    ta_slots_unlock(&c->t);
}

void ta_sesscache_invalidate(ta_sesscache_t *c, const char *key, apr_size_t len)
{
    slot_t *s;

    if (c == NULL || key == NULL) {
        return;
    }
    s = slot_of(c, key, len);
    ta_slots_lock(&c->t);
    /* Whatever the slot holds goes: a colliding key only costs a round trip. */
    s->len = 0;
    s->epoch++;
    ta_slots_unlock(&c->t);
}

void ta_sesscache_flush(ta_sesscache_t *c)
{
    if (c == NULL) {
        return;
    }
    ta_slots_lock(&c->t);
    clear_all(c);
    ta_slots_unlock(&c->t);
}

void ta_sesscache_set_live(ta_sesscache_t *c, int live)
{
    if (c == NULL) {
        return;
    }
    ta_slots_lock(&c->t);
    clear_all(c);
    c->live = live;
    ta_slots_unlock(&c->t);
}

void ta_sesscache_watch(ta_sesscache_t *c, int fd)
{
    if (c == NULL) {
        return;
    }
    ta_slots_lock(&c->t);
    c->watch_fd = fd;
    c->reading = 0;
    ta_slots_unlock(&c->t);
}

void ta_sesscache_reading(ta_sesscache_t *c, int reading)
{
    if (c == NULL) {
        return;
    }
    ta_slots_lock(&c->t);
    c->reading = reading;
    ta_slots_unlock(&c->t);
}

int ta_sesscache_live(ta_sesscache_t *c)
{
    int live;

    if (c == NULL) {
        return 0;
    }
    ta_slots_lock(&c->t);
    live = c->live;
    ta_slots_unlock(&c->t);
    return live;
}
