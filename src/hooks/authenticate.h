/*
 * hooks/authenticate.h - who is calling. The tRPC handler and the
 * authentication hook share ta_ctx_authenticate(), so the cookie means the
 * same everywhere.
 */
#ifndef TA_AUTHENTICATE_H
#define TA_AUTHENTICATE_H

#include "req/context.h"

/* Authenticates by the access cookie (and the session check when on), with
 * the settings of ctx->dc; called again with another location's settings it
 * runs what they need beyond what ran before (the session check, the
 * transparent refresh) and returns the combined result.
 * With TrpcAuthAutoRefresh On, a missing or expired access cookie next to a
 * valid refresh cookie is refreshed in place (ta_refresh), which sets the new
 * cookies on the response. NULL on success, with ctx->user_id and
 * ctx->session_id set; else UNAUTHORIZED or SERVICE_UNAVAILABLE. */
ta_error_t *ta_ctx_authenticate(ta_ctx_t *ctx);

#endif
