/*
 * seal.c - AES-256-GCM sealing of outbox links (see jose/seal.h for the why).
 */
#include "jose/seal.h"
#include "jose/b64url.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string.h>

#define SEAL_LABEL     "mod_trpcauth outbox seal v1"
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_MAX_PLAIN (64 * 1024)   /* a link is far shorter; bounds every allocation */

int ta_seal_key_derive(const ta_key_t *key, unsigned char out[TA_SEAL_KEY_LEN])
{
    return ta_key_derive(key, SEAL_LABEL, out);
}

/* Runs one AES-256-GCM pass. enc: 1 seals (tag written), 0 opens (tag
 * checked). out must hold inlen bytes. 0 on success, -1 on any failure,
 * including a tag that does not match. */
static int gcm(int enc, const unsigned char key[TA_SEAL_KEY_LEN],
               const unsigned char nonce[SEAL_NONCE_LEN], const char *aad,
               const unsigned char *in, int inlen, unsigned char *out,
               unsigned char tag[SEAL_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;

    if (ctx == NULL) {
        return -1;
    }
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1
         && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1
         && (aad[0] == '\0'
             || EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1)
         && (inlen == 0 || EVP_CipherUpdate(ctx, out, &len, in, inlen) == 1)
         && (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) == 1)
         && EVP_CipherFinal_ex(ctx, out + (inlen == 0 ? 0 : len), &len) == 1
         && (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

const char *ta_seal(apr_pool_t *p, const unsigned char key[TA_SEAL_KEY_LEN],
                    const char *plain, const char *aad)
{
    unsigned char *buf;
    size_t plen;

    if (key == NULL || plain == NULL || (plen = strlen(plain)) > SEAL_MAX_PLAIN) {
        return NULL;
    }
    buf = apr_palloc(p, SEAL_NONCE_LEN + plen + SEAL_TAG_LEN);
    if (RAND_bytes(buf, SEAL_NONCE_LEN) != 1
        || gcm(1, key, buf, aad ? aad : "", (const unsigned char *)plain, (int)plen,
               buf + SEAL_NONCE_LEN, buf + SEAL_NONCE_LEN + plen) != 0) {
        return NULL;
    }
    return ta_b64url_encode(p, buf, SEAL_NONCE_LEN + plen + SEAL_TAG_LEN);
}

const char *ta_unseal(apr_pool_t *p, const unsigned char key[TA_SEAL_KEY_LEN],
                      const char *sealed, const char *aad)
{
    unsigned char *raw, *plain;
    apr_size_t rawlen, slen, clen;

    if (key == NULL || sealed == NULL) {
        return NULL;
    }
    slen = strlen(sealed);
    if (slen > (SEAL_MAX_PLAIN + SEAL_NONCE_LEN + SEAL_TAG_LEN) / 3 * 4 + 4
        || ta_b64url_decode(p, sealed, slen, &raw, &rawlen) != 0
        || rawlen < SEAL_NONCE_LEN + SEAL_TAG_LEN) {
        return NULL;
    }
    clen = rawlen - SEAL_NONCE_LEN - SEAL_TAG_LEN;
    plain = apr_palloc(p, clen + 1);
    if (gcm(0, key, raw, aad ? aad : "", raw + SEAL_NONCE_LEN, (int)clen, plain,
            raw + SEAL_NONCE_LEN + clen) != 0) {
        return NULL;
    }
    plain[clen] = '\0';
    /* A link never holds a NUL; one inside would cut the text short unseen. */
    if (memchr(plain, '\0', clen) != NULL) {
        return NULL;
    }
    return (const char *)plain;
}
