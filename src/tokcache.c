/*
 * tokcache.c - the per-child cache of verified access tokens (see ta_tokcache.h).
 */
#include "ta_tokcache.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

/* Slots hold the token's bytes inline: no allocation after start, and an entry
 * is replaced by overwriting it. */
typedef struct {
    apr_size_t len;                   /* 0: empty */
    apr_int64_t iat, exp;
    char sub[TA_TOKCACHE_ID_MAX];
    char sid[TA_TOKCACHE_ID_MAX];
    char token[TA_TOKCACHE_TOKEN_MAX];
} slot_t;

struct ta_tokcache {
    slot_t *slots;
    apr_size_t mask;                  /* slots - 1, a power of two minus one */
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

ta_tokcache_t *ta_tokcache_create(apr_pool_t *p, int entries)
{
    ta_tokcache_t *tc;
    apr_size_t n = 1;

    if (entries <= 0) {
        return NULL;
    }
    while (n < (apr_size_t)entries && n < MAX_ENTRIES) {
        n <<= 1;
    }
    tc = apr_pcalloc(p, sizeof(*tc));
    /* calloc, not apr_pcalloc: a table this size comes from mmap, so a page
     * costs memory only once a slot in it is used (one cache per server and
     * child; most virtual hosts never fill theirs). */
    if ((tc->slots = calloc(n, sizeof(slot_t))) == NULL) {
        return NULL;
    }
    apr_pool_cleanup_register(p, tc->slots, free_slots, apr_pool_cleanup_null);
    tc->mask = n - 1;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&tc->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
#endif
    return tc;
}

static void lock(ta_tokcache_t *tc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(tc->lock);
#endif
}

static void unlock(ta_tokcache_t *tc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(tc->lock);
#endif
}

/* The slot of a token: FNV-1a over its last 32 bytes, which are signature
 * bytes (a MAC or a signature: as good as random for valid tokens, the only
 * ones ever stored). */
static slot_t *slot_of(ta_tokcache_t *tc, const char *token, apr_size_t len)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t i = len > 32 ? len - 32 : 0;

    for (; i < len; i++) {
        h = (h ^ (unsigned char)token[i]) * 16777619u;
    }
    return &tc->slots[h & tc->mask];
}

int ta_tokcache_get(ta_tokcache_t *tc, apr_pool_t *p, const char *token,
                    ta_claims_t *out)
{
    apr_size_t len;
    slot_t *s;
    int hit;

    if (tc == NULL || token == NULL) {
        return 0;
    }
    len = strnlen(token, TA_TOKCACHE_TOKEN_MAX);
    if (len == 0 || len >= TA_TOKCACHE_TOKEN_MAX) {
        return 0;
    }
    s = slot_of(tc, token, len);
    lock(tc);
    /* Constant time over the token: how many leading bytes of a cached
     * (valid) token a guess matches must not show in the response time. */
    hit = s->len == len && CRYPTO_memcmp(s->token, token, len) == 0;
    if (hit) {
        memset(out, 0, sizeof(*out));
        out->typ = "at+jwt";
        out->sub = apr_pstrdup(p, s->sub);
        out->sid = apr_pstrdup(p, s->sid);
        out->iat = s->iat;
        out->exp = s->exp;
    }
    unlock(tc);
    return hit;
}

void ta_tokcache_put(ta_tokcache_t *tc, const char *token, const ta_claims_t *c)
{
    apr_size_t len;
    slot_t *s;

    if (tc == NULL || token == NULL || c == NULL || c->sub == NULL || c->sid == NULL) {
        return;
    }
    len = strnlen(token, TA_TOKCACHE_TOKEN_MAX);
    if (len == 0 || len >= TA_TOKCACHE_TOKEN_MAX
        || strlen(c->sub) >= TA_TOKCACHE_ID_MAX || strlen(c->sid) >= TA_TOKCACHE_ID_MAX) {
        return;
    }
    s = slot_of(tc, token, len);
    lock(tc);
    memcpy(s->token, token, len);
    s->len = len;
    strcpy(s->sub, c->sub);
    strcpy(s->sid, c->sid);
    s->iat = c->iat;
    s->exp = c->exp;
    unlock(tc);
}
