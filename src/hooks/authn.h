/*
 * hooks/authn.h - "AuthType trpcauth": the access cookie as an Apache
 * authentication provider for any location (CONTRACT §5).
 *
 *   header_parser  removes a client-sent TrpcAuthIdentityHeader (main requests)
 *   check_authn    AuthType trpcauth: r->user = user id, TRPCAUTH_USER_ID and
 *                  TRPCAUTH_SESSION_ID in the environment; unauthenticated
 *                  requests get what TrpcAuthUnauthAction says
 *   fixups         removes the identity header again (sub-requests), identifies
 *                  the caller where authorization did not need a user
 *                  (Require all granted ...), sets the identity header, and
 *                  marks the response "Cache-Control: private, no-cache"
 *                  unless it has its own (per-user content; a logout must
 *                  not leave the page in the browser's cache)
 *   note_auth_failure  the challenge for our AuthType (WWW-Authenticate: trpcauth)
 *
 * The authentication itself is ta_ctx_authenticate(), shared with the tRPC
 * endpoint, so the cookie means the same everywhere.
 */
#ifndef TA_AUTHN_H
#define TA_AUTHN_H

#include <apr_pools.h>

/* Registers the hooks above; called from the module's register_hooks. */
void ta_authn_register_hooks(apr_pool_t *p);

#endif
