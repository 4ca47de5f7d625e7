/*
 * util/cookie.h - reading the Cookie header and writing Set-Cookie values.
 */
#ifndef TA_COOKIE_H
#define TA_COOKIE_H

#include <apr_pools.h>

/* The value of the first cookie called name in a Cookie header (pairs split
 * on ';', whitespace trimmed, optional double quotes removed). NULL when
 * absent, when header is NULL, or when the value is longer than max_len bytes. */
const char *ta_cookie_get(apr_pool_t *p, const char *header, const char *name,
                          apr_size_t max_len);

/* The Cookie header without the cookies called one of names[0..n-1] (every
 * occurrence), for a backend that must not see them: the other pairs keep
 * their text and order, joined by "; ". *removed gets the number of pairs
 * taken out; header itself is returned when that is 0, NULL when nothing is
 * left. Linear in the header's length. */
const char *ta_cookie_strip(apr_pool_t *p, const char *header, const char *const *names,
                            int n, int *removed);

typedef struct {
    int secure;              /* add "Secure" */
    const char *samesite;    /* "Strict", "Lax", "None" or NULL */
    const char *domain;      /* NULL for a host-only cookie */
    const char *path;        /* NULL means "/" */
} ta_cookie_attrs_t;

/* "name=value; Path=/; Max-Age=N; Expires=<IMF date>; [Domain=..; ][Secure; ]HttpOnly; SameSite=.."
 * max_age 0 expires the cookie (value is emptied, Expires in 1970). */
char *ta_cookie_make(apr_pool_t *p, const char *name, const char *value,
                     apr_int64_t max_age, int http_only, const ta_cookie_attrs_t *a);

#endif
