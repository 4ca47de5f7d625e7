/*
 * ta_context.h - what one request knows: its configuration and, once asked
 * for, who is calling. The tRPC handler and the authentication hook share
 * ta_ctx_authenticate(), so the cookie means the same everywhere.
 */
#ifndef TA_CONTEXT_H
#define TA_CONTEXT_H

#include <httpd.h>
#include "ta_config.h"
#include "ta_error.h"

typedef struct {
    request_rec *r;
    ta_server_conf_t *sc;
    ta_dir_conf_t *dc;
    apr_int64_t now;             /* unix seconds, fixed for the request */

    /* Authentication, resolved once per request on first need. */
    int auth_done;
    ta_error_t *auth_error;      /* UNAUTHORIZED or SERVICE_UNAVAILABLE */
    const char *user_id;
    const char *session_id;
} ta_ctx_t;

/* The context of r (made on first call). */
ta_ctx_t *ta_ctx_get(request_rec *r);

/* A cookie of the request by name, or NULL. */
const char *ta_ctx_cookie(ta_ctx_t *ctx, const char *name);

/* Authenticates by the access cookie (and the session check when on).
 * NULL on success, with ctx->user_id and ctx->session_id set. */
ta_error_t *ta_ctx_authenticate(ta_ctx_t *ctx);

/* Issues an access and a refresh token for (uid, sid, jti) and sets the three
 * cookies on the response. *access receives the access token. */
ta_error_t *ta_ctx_issue_tokens(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *jti, const char **access);

/* Expires the three cookies on the response. */
void ta_ctx_clear_cookies(ta_ctx_t *ctx);

#endif
