/*
 * jose/seal.h - sealing the links that wait in the mail outbox.
 *
 * A verification or reset link carries a live token. It must sit in PostgreSQL
 * (mail_outbox.sealed_link) between the request and the delivery, but nobody
 * who can read the table (a backup, a replica, an operator) may use it. So the
 * link is sealed with AES-256-GCM under a key derived from the refresh signing
 * key, which only the server's configuration holds; the row's recipient is the
 * additional data, so a sealed link cannot be moved to another row. The
 * delivery process (in the Apache parent) has the same configuration and
 * derives the same key. Pure code: unit-tested in test/unit/test_seal.c.
 */
#ifndef TA_SEAL_H
#define TA_SEAL_H

#include <apr_pools.h>
#include "jose/keys.h"

#define TA_SEAL_KEY_LEN 32

/* HMAC-SHA256 over the label "mod_trpcauth outbox seal v1", keyed with the
 * refresh signing key's secret (HS256) or private key DER, exactly as
 * ta_jti_key_derive does with its own label. 0 on success, -1 when the key
 * cannot sign (no private key material). */
int ta_seal_key_derive(const ta_key_t *key, unsigned char out[TA_SEAL_KEY_LEN]);

/* AES-256-GCM with a random 12-byte nonce; the result is
 * base64url(nonce || ciphertext || 16-byte tag), in p. aad binds the seal to
 * its row (the recipient address); NULL counts as "". NULL on failure. */
const char *ta_seal(apr_pool_t *p, const unsigned char key[TA_SEAL_KEY_LEN],
                    const char *plain, const char *aad);

/* The plaintext (in p), or NULL if sealed was altered or malformed, or the
 * key or the aad differ. */
const char *ta_unseal(apr_pool_t *p, const unsigned char key[TA_SEAL_KEY_LEN],
                      const char *sealed, const char *aad);

#endif
