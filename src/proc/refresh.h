/*
 * proc/refresh.h - a refresh by the refresh cookie alone: auth.refreshAccessToken
 * and the transparent refresh of TrpcAuthAutoRefresh (CONTRACT §4, §5).
 *
 * Rotation (TrpcAuthRefreshRotation On): each refresh moves the session to the
 * next generation of deterministic jti (jose/jti.h) in one atomic script
 * (ta_session_rotate). The token just replaced stays good for
 * TrpcAuthRefreshReuseGrace and then gets exactly the pair already issued
 * (same refresh token, an access token with the same claims), so parallel
 * tabs and batches never trip reuse detection; after the window it revokes
 * the session. Rotation Off: the refresh token stays as issued.
 */
#ifndef TA_REFRESH_H
#define TA_REFRESH_H

#include "req/context.h"

/* Refreshes with the request's refresh cookie and sets the three cookies.
 * Done once per request; later calls return the first result. On success
 * ctx->user_id, ctx->session_id and ctx->refresh_access are set. Errors:
 * UNAUTHORIZED (missing, invalid, revoked, reused: the cookies are expired
 * then), TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE. */
ta_error_t *ta_refresh(ta_ctx_t *ctx);

#endif
