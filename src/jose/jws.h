/*
 * jose/jws.h - JSON Web Tokens (JWS compact form) signed and verified with a
 * keyset (jose/keys.h). The algorithm in a token's header never chooses
 * anything: it must equal the set's algorithm or the token is rejected (no
 * "none", no HS256-with-a-public-key).
 */
#ifndef TA_JWS_H
#define TA_JWS_H

#include "jose/keys.h"

typedef struct {
    const char *typ;       /* header "typ": "at+jwt" for access, "rt+jwt" for refresh */
    const char *sub;       /* user id as a string */
    const char *sid;       /* session id */
    const char *jti;       /* refresh tokens: random id per issue; NULL otherwise */
    const char *iss;       /* optional */
    const char *aud;       /* optional */
    apr_int64_t iat;
    apr_int64_t exp;
} ta_claims_t;

/* Signs claims with the first key of ks; header {"alg","typ","kid"?}.
 * Returns the compact token in p, or NULL if signing failed. */
char *ta_jwt_sign(apr_pool_t *p, const ta_keyset_t *ks, const ta_claims_t *c);

typedef enum {
    TA_JWT_OK = 0,
    TA_JWT_MALFORMED,     /* not three base64url parts, bad JSON, oversized (> 8 KB) */
    TA_JWT_BAD_ALG,       /* header alg differs from the set's, or "none" */
    TA_JWT_BAD_KEY,       /* kid unknown */
    TA_JWT_BAD_SIG,
    TA_JWT_BAD_TYP,       /* header typ differs from expect_typ */
    TA_JWT_BAD_CLAIMS,    /* exp/sub/sid missing or wrong type, iat in the future, iss/aud mismatch */
    TA_JWT_EXPIRED        /* otherwise valid, but now > exp + leeway */
} ta_jwt_status_t;

/* Verifies a token. exp, sub and sid are required; iss/aud are checked when
 * the arguments are non-NULL; now and leeway are seconds. On TA_JWT_OK and on
 * TA_JWT_EXPIRED, out holds the claims (strings in p). */
ta_jwt_status_t ta_jwt_verify(apr_pool_t *p, const ta_keyset_t *ks, const char *token,
                              const char *expect_typ, const char *iss, const char *aud,
                              apr_int64_t now, int leeway, ta_claims_t *out);

/* A short word for logs ("expired", "bad signature", ...). */
const char *ta_jwt_status_str(ta_jwt_status_t st);

#endif
