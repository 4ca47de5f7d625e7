/*
 * tokcache.c - the per-child cache of verified access tokens (see cache/tokcache.h).
 */
#include "cache/tokcache.h"

#include "cache/slots.h"

#include <apr_strings.h>

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
    ta_slots_t t;
};

ta_tokcache_t *ta_tokcache_create(apr_pool_t *p, int entries)
{
    ta_tokcache_t *tc;

    if (entries <= 0) {
        return NULL;
    }
    tc = apr_pcalloc(p, sizeof(*tc));
    return ta_slots_init(&tc->t, p, entries, sizeof(slot_t)) == 0 ? tc : NULL;
}

/* The slot of a token: by its last 32 bytes, which are signature bytes (a MAC
 * or a signature: as good as random for valid tokens, the only ones stored). */
static slot_t *slot_of(ta_tokcache_t *tc, const char *token, apr_size_t len)
{
    apr_size_t tail = len > 32 ? 32 : len;

    return ta_slots_at(&tc->t, token + len - tail, tail);
}

/* Equality of two byte strings of length len in time that depends on len
 * only (how many leading bytes of a cached, valid token a guess matches must
 * not show), a word at a time. */
static int same_bytes(const char *a, const char *b, apr_size_t len)
{
    apr_uint64_t diff = 0, x, y;
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < len; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
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
    ta_slots_lock(&tc->t);
    hit = s->len == len && same_bytes(s->token, token, len);
    if (hit) {
        memset(out, 0, sizeof(*out));
        out->typ = "at+jwt";
        out->sub = apr_pstrdup(p, s->sub);
        out->sid = apr_pstrdup(p, s->sid);
        out->iat = s->iat;
        out->exp = s->exp;
    }
    ta_slots_unlock(&tc->t);
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
    ta_slots_lock(&tc->t);
    memcpy(s->token, token, len);
    s->len = len;
    strcpy(s->sub, c->sub);
    strcpy(s->sid, c->sid);
    s->iat = c->iat;
    s->exp = c->exp;
    ta_slots_unlock(&tc->t);
}
