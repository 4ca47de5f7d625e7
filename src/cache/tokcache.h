/*
 * cache/tokcache.h - a per-child cache of access tokens whose signature and
 * claims were already verified (TrpcAuthTokenCache).
 *
 * Verifying an HS256 access token costs two base64url decodes, two JSON
 * parses and an HMAC; a browser sends the same token with every request for
 * its whole lifetime. The cache remembers, for a token that passed
 * ta_jwt_verify() in full, the claims the caller needs (sub, sid, iat, exp),
 * keyed by the exact bytes of the token. A hit therefore stands for a
 * verification of the same bytes with the same keys; only exp depends on the
 * clock, and the caller checks it on every hit (ta_tokcache_get leaves that
 * to it, as ta_jwt_verify returns TA_JWT_EXPIRED with the claims too).
 *
 * What is not cached: tokens that failed (so invalid tokens cannot evict
 * valid ones), tokens longer than TA_TOKCACHE_TOKEN_MAX and claims longer
 * than TA_TOKCACHE_ID_MAX (they are verified every time). The session check
 * in Redis is not affected: revocation still takes effect on the next request.
 *
 * One cache per server (virtual host) per child process, made in child_init
 * from the child's pool, so a graceful restart with new keys starts empty.
 * Direct-mapped, guarded by one mutex; tokens are compared in constant time.
 */
#ifndef TA_TOKCACHE_H
#define TA_TOKCACHE_H

#include <apr_pools.h>

#include "jose/jws.h"

#define TA_TOKCACHE_TOKEN_MAX 768
#define TA_TOKCACHE_ID_MAX    64

typedef struct ta_tokcache ta_tokcache_t;

/* A cache of `entries` slots (rounded up to a power of two) in p, or NULL
 * when entries <= 0 (caching off) or memory/mutex creation failed. */
ta_tokcache_t *ta_tokcache_create(apr_pool_t *p, int entries);

/* Looks the token up. On a hit fills out with typ, sub, sid, iat and exp
 * (strings copied into p; jti, iss and aud NULL) and returns 1; else 0.
 * tc may be NULL (always a miss). */
int ta_tokcache_get(ta_tokcache_t *tc, apr_pool_t *p, const char *token,
                    ta_claims_t *out);

/* Remembers a token that ta_jwt_verify() returned TA_JWT_OK for, with the
 * claims it returned. Silently does nothing when tc is NULL or the token or
 * a claim does not fit. */
void ta_tokcache_put(ta_tokcache_t *tc, const char *token, const ta_claims_t *c);

#endif
