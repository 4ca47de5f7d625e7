/*
 * jose/keys.h - keys pinned by configuration.
 *
 * A keyset is the list of keys of one token kind (access or refresh). All keys
 * of a set share one algorithm; the first key signs, every key verifies (key
 * rotation: add the new key in front, keep the old one until its tokens expire).
 * The algorithm in a token's header never chooses anything: it must equal the
 * set's algorithm or the token is rejected (jose/jws.h).
 */
#ifndef TA_KEYS_H
#define TA_KEYS_H

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

/* A 32-byte key for another purpose, derived from a signing key:
 * HMAC-SHA256 over label, keyed with the HS256 secret or the DER of the
 * private key. Each purpose has its own label (jose/jti.h, jose/seal.h), so
 * the keys are apart. 0 on success, -1 when the key cannot sign. */
int ta_key_derive(const ta_key_t *key, const char *label, unsigned char out[32]);

#endif
