/*
 * jti.c - deterministic refresh-token ids (see jose/jti.h for the why).
 */
#include "jose/jti.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include <string.h>

#define JTI_LABEL "mod_trpcauth refresh jti v1"
#define JTI_GEN_MAX_DIGITS 18     /* keeps the generation inside an int64 */

/* HMAC-SHA256(key, msg) into out (32 bytes); 0 on success. */
static int hmac256(const unsigned char *key, size_t keylen, const void *msg, size_t msglen,
                   unsigned char out[TA_JTI_KEY_LEN])
{
    unsigned int len = 0;

    return HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len) != NULL
           && len == TA_JTI_KEY_LEN ? 0 : -1;
}

int ta_jti_key_derive(const ta_key_t *key, unsigned char out[TA_JTI_KEY_LEN])
{
    return ta_key_derive(key, JTI_LABEL, out);
}

const char *ta_jti_make(apr_pool_t *p, const unsigned char key[TA_JTI_KEY_LEN],
                        const char *sid, apr_int64_t gen)
{
    unsigned char mac[TA_JTI_KEY_LEN];
    const char *msg, *g;
    char *hex;
    int i;

    if (sid == NULL || gen < 0) {
        return NULL;
    }
    g = apr_psprintf(p, "%" APR_INT64_T_FMT, gen);
    msg = apr_pstrcat(p, sid, ":", g, NULL);
    if (hmac256(key, TA_JTI_KEY_LEN, msg, strlen(msg), mac) != 0) {
        return NULL;
    }
    hex = apr_palloc(p, 2 * TA_JTI_KEY_LEN + 1);
    for (i = 0; i < TA_JTI_KEY_LEN; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }
    return apr_pstrcat(p, g, ".", hex, NULL);
}

apr_int64_t ta_jti_gen(const char *jti)
{
    apr_int64_t gen = 0;
    const char *c;
    int digits = 0;

    if (jti == NULL) {
        return -1;
    }
    for (c = jti; *c >= '0' && *c <= '9'; c++) {
        if (++digits > JTI_GEN_MAX_DIGITS) {
            return -1;
        }
        gen = gen * 10 + (*c - '0');
    }
    if (digits == 0 || *c != '.' || c[1] == '\0') {
        return -1;
    }
    for (c++; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) {
            return -1;
        }
    }
    return gen;
}
