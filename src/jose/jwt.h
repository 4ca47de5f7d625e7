/*
 * jose/jwt.h - JSON Web Tokens (JWS compact form) with keys pinned by configuration.
 *
 * A keyset is the list of keys of one token kind (access or refresh). All keys
 * of a set share one algorithm; the first key signs, every key verifies (key
 * rotation: add the new key in front, keep the old one until its tokens expire).
 * The algorithm in a token's header never chooses anything: it must equal the
 * set's algorithm or the token is rejected (no "none", no HS256-with-a-public-key).
 */
#ifndef TA_JWT_H
#define TA_JWT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

typedef enum { TA_ALG_HS256 = 0, TA_ALG_ES256, TA_ALG_EDDSA, TA_ALG_RS256 } ta_alg_t;

typedef struct {
    ta_alg_t alg;
    const char *kid;               /* NULL when not given */
    const unsigned char *secret;   /* HS256 */
    apr_size_t secret_len;
    EVP_PKEY *pkey;                /* ES256/EdDSA/RS256; freed by a cleanup on the load pool */
    int can_sign;                  /* a private key (or a secret) */
    EVP_MAC_CTX *hmac;             /* HS256: HMAC-SHA256 keyed with secret, made once at load and only
                                    * duplicated afterwards (so threads may share it); freed by a cleanup
                                    * on the load pool. NULL (also in keys built by hand, as the unit
                                    * tests do): the one-shot HMAC() is used instead. */
} ta_key_t;

typedef struct {
    ta_alg_t alg;
    apr_array_header_t *keys;      /* of ta_key_t*, first signs */
} ta_keyset_t;

/* Name <-> algorithm ("HS256", "ES256", "EdDSA", "RS256"). -1 if unknown. */
int ta_alg_from_name(const char *name);
const char *ta_alg_name(ta_alg_t alg);

/* Loads one key. source is "file:/path" (HS256: the secret bytes, trailing
 * newline stripped; others: a PEM private key, or a public key for verify-only)
 * or "env:NAME" (HS256 secret, or PEM text). Returns NULL on success, else a
 * message for the admin that names the problem (missing file, unreadable, HS256
 * secret shorter than 32 bytes or in PEM form, RSA key below 2048 bits, wrong key
 * type for alg).
 * The message never contains key material. */
const char *ta_key_load(apr_pool_t *p, const char *alg, const char *source,
                        const char *kid, ta_key_t **out);

/* Adds a key to a set (creating the set when *ks is NULL). All keys must share
 * one algorithm and kids must be unique. Returns an error message or NULL. */
const char *ta_keyset_add(apr_pool_t *p, ta_keyset_t **ks, ta_key_t *key);

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

/* base64url without padding; decode returns -1 on invalid input. */
char *ta_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);
int ta_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                     unsigned char **out, apr_size_t *outlen);

#endif
