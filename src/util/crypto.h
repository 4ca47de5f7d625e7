/*
 * util/crypto.h - the module's two uses of OpenSSL outside JWS: random
 * identifiers (session ids) and SHA-256 in hex (refresh-token ids as Redis
 * holds them, rate-limit subjects).
 */
#ifndef TA_CRYPTO_H
#define TA_CRYPTO_H

#include <apr_pools.h>

/* A new random identifier: nbytes (at most 64) of CSPRNG output, lowercase
 * hex. NULL when nbytes is too large or the CSPRNG fails. */
const char *ta_random_id(apr_pool_t *p, apr_size_t nbytes);

/* Lowercase hex SHA-256 of a string (64 characters), or NULL. */
const char *ta_sha256_hex(apr_pool_t *p, const char *s);

/* len bytes as 2 * len lowercase hex digits and a NUL, in p. */
char *ta_hex_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);

#endif
