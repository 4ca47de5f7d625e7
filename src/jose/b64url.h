/*
 * jose/b64url.h - base64url (RFC 4648 section 5) as JWS uses it: no padding.
 */
#ifndef TA_B64URL_H
#define TA_B64URL_H

#include <apr_pools.h>

/* base64url without padding; decode returns -1 on invalid input. */
char *ta_b64url_encode(apr_pool_t *p, const unsigned char *data, apr_size_t len);
int ta_b64url_decode(apr_pool_t *p, const char *in, apr_size_t inlen,
                     unsigned char **out, apr_size_t *outlen);

#endif
