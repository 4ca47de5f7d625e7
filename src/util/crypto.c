/*
 * util/crypto.c - random ids and SHA-256 in hex (see util/crypto.h).
 */
#include "util/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string.h>

char *ta_hex_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 15];
    }
    hex[2 * len] = '\0';
    return hex;
}

const char *ta_random_id(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[64];

    if (nbytes > sizeof(buf) || RAND_bytes(buf, (int)nbytes) != 1) {
        return NULL;
    }
    return ta_hex_encode(p, buf, nbytes);
}

const char *ta_sha256_hex(apr_pool_t *p, const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1) {
        return NULL;
    }
    return ta_hex_encode(p, md, len);
}
