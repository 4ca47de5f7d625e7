/*
 * util/httptext.h - pure helpers on HTTP text that the authentication hook
 * (hooks/authn.c) needs: the target to come back to after a login, its
 * encoding as a query component, and header names compared as backends see
 * them.
 */
#ifndef TA_HTTPTEXT_H
#define TA_HTTPTEXT_H

#include <apr_pools.h>

/* The path and query of a request target, as a same-site path: an
 * absolute-form target loses its scheme and authority, and leading slashes
 * or backslashes collapse into one "/" (so it can never read as //host).
 * NULL or anything not starting with "/" or "\" after that gives "/". */
const char *ta_same_site_target(apr_pool_t *p, const char *target);

/* Percent-encodes everything but RFC 3986 unreserved characters
 * (encodeURIComponent without its !'()* exceptions), upper-case hex. */
const char *ta_encode_component(apr_pool_t *p, const char *s);

/* Header names equal for our purpose: case-insensitive, '-' and '_' alike
 * (CGI and many backends map both to '_', so X_Remote_User would pass for
 * X-Remote-User). */
int ta_same_header_name(const char *a, const char *b);

#endif
