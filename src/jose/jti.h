/*
 * jose/jti.h - deterministic refresh-token ids (jti).
 *
 * The jti of generation g of session sid is
 *     "<g>.<hex HMAC-SHA256(k, sid ":" g)>"
 * where k is derived from the refresh signing key. Redis keeps only SHA-256
 * of the current jti (and of the one just replaced); because the jti can be
 * derived again, a parallel refresh inside the grace window can be answered
 * with the very refresh token the first one was given, without any token or
 * secret in Redis. Pure code: unit-tested in test/unit/test_jti.c.
 */
#ifndef TA_JTI_H
#define TA_JTI_H

#include <apr_pools.h>
#include "jose/keys.h"

#define TA_JTI_KEY_LEN 32

/* Derives the jti key from a signing key: HMAC-SHA256 over a fixed label,
 * keyed with the HS256 secret or the DER of the private key. 0 on success,
 * -1 when the key cannot sign (no private key material). */
int ta_jti_key_derive(const ta_key_t *key, unsigned char out[TA_JTI_KEY_LEN]);

/* The jti of generation gen of session sid (in p), or NULL on failure. */
const char *ta_jti_make(apr_pool_t *p, const unsigned char key[TA_JTI_KEY_LEN],
                        const char *sid, apr_int64_t gen);

/* The generation a jti carries, or -1 when it has none (a random jti, or
 * anything else that is not "<digits>.<hex>"). */
apr_int64_t ta_jti_gen(const char *jti);

#endif
