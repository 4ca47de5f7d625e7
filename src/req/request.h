/*
 * req/request.h - walking httpd's request chain.
 */
#ifndef TA_REQUEST_H
#define TA_REQUEST_H

#include <httpd.h>

/* The request the client sent: sub-requests (r->main) and internal
 * redirects (r->prev, same pool and err_headers_out) lead back to it. The
 * walk alternates until neither link is left, so it reaches the client's
 * request whatever the order of the links: a sub-request of a redirected
 * request, a redirect inside a sub-request, or both nested. (Walking all
 * r->main first and then all r->prev gives the same request only as long as
 * every redirect copies its main link, which httpd does today; this walk
 * does not depend on that.) Inline: the authentication hook and the Redis
 * connection of each request take it, and it is two loads. */
static APR_INLINE request_rec *ta_initial_request(request_rec *r)
{
    for (;;) {
        if (r->main)      r = r->main;
        else if (r->prev) r = r->prev;
        else              return r;
    }
}

#endif
