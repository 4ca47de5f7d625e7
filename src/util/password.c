/*
 * password.c - bcrypt hashing and verification through apr-util.
 */
#include "util/password.h"

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include <string.h>

#define BCRYPT_HASH_LEN 61     /* "$2y$NN$" + 53 characters + NUL */

char *ta_password_hash(apr_pool_t *p, const char *password, int cost)
{
    unsigned char salt[16];
    char *out = apr_palloc(p, BCRYPT_HASH_LEN);

    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_bcrypt_encode(password, (unsigned int)cost, salt, sizeof(salt),
                          out, BCRYPT_HASH_LEN) != APR_SUCCESS) {
        return NULL;
    }
    /* "$2y$" and "$2b$" are the same algorithm; "$2b$" is what bcryptjs and
     * most other libraries accept everywhere. */
    if (out[0] == '$' && out[1] == '2' && out[2] == 'y') {
        out[2] = 'b';
    }
    return out;
}

int ta_password_verify(const char *password, const char *hash)
{
    if (password == NULL || hash == NULL || hash[0] != '$' || hash[1] != '2') {
        return 0;
    }
    return apr_password_validate(password, hash) == APR_SUCCESS;
}

int ta_password_cost(const char *hash)
{
    /* strchr() finds the terminator too: hash[2] is checked for it first. */
    if (hash == NULL || hash[0] != '$' || hash[1] != '2' || hash[2] == '\0'
        || strchr("aby", hash[2]) == NULL || hash[3] != '$' || !apr_isdigit(hash[4])
        || !apr_isdigit(hash[5]) || hash[6] != '$') {
        return -1;
    }
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}
