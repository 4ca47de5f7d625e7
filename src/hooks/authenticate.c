/*
 * hooks/authenticate.c - who is calling: the access cookie, the session check
 * in Redis and the transparent refresh (TrpcAuthAutoRefresh), resolved once
 * per request and completed when a later location asks for more.
 */
#include "hooks/authenticate.h"
#include "cfg/log.h"
#include "proc/refresh.h"
#include "store/session.h"

#include <http_log.h>

static ta_error_t *unauthorized(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED,
                         "You must be logged in to access this resource");
}

/* TrpcAuthAutoRefresh: when the access cookie is missing or expired and a
 * refresh cookie is there, refresh in place; otherwise the caller's error. */
static ta_error_t *auto_refresh(ta_ctx_t *ctx, ta_error_t *otherwise)
{
    const char *rt;
    ta_error_t *e;

    ctx->auth_refreshable = 1;
    if (!ta_conf_auto_refresh(ctx->dc)) {
        return otherwise;
    }
    ctx->auth_refresh_tried = 1;
    /* Once the response has started (an SSI include runs in the middle of
     * its page), new cookies could no longer reach the client, and a rotated
     * refresh token it never receives would count as reused later. */
    if (ctx->r->sent_bodyct) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, ctx->r, TA_LOGNO(304)
                      "no transparent refresh: the response has already started");
        return otherwise;
    }
    rt = ta_ctx_cookie(ctx, ta_conf_cookie_refresh(ctx->sc));
    if (rt == NULL || *rt == '\0') {
        return otherwise;
    }
    /* Sets ctx->user_id / session_id on success; a refresh finds its session
     * in Redis, so that counts as the session check. */
    if ((e = ta_refresh(ctx)) == NULL) {
        ctx->auth_session_checked = 1;
    }
    return e;
}

/* Checks in Redis that the session sid of user sub still exists. */
static ta_error_t *check_session(ta_ctx_t *ctx, const char *sub, const char *sid)
{
    request_rec *r = ctx->r;

    switch (ta_session_touch(r, ctx->sc, sub, sid)) {
    case TA_SESS_OK:
        ctx->auth_session_checked = 1;
        return NULL;
    case TA_SESS_MISSING:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(302)
                      "session of user %s revoked or expired", sub);
        return unauthorized(ctx);
    default:
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
    }
}

/* Verifies the access cookie and, when configured, its session in Redis. */
static ta_error_t *authenticate(ta_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *token = ta_ctx_cookie(ctx, ta_conf_cookie_access(ctx->sc));
    ta_claims_t claims;
    ta_jwt_status_t st;
    ta_error_t *e;

    if (token == NULL || *token == '\0') {
        return auto_refresh(ctx, unauthorized(ctx));
    }
    st = ta_ctx_verify(ctx, token, 0, &claims);
    if (st == TA_JWT_EXPIRED) {
        return auto_refresh(ctx, unauthorized(ctx));
    }
    if (st != TA_JWT_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(301)
                      "access token rejected: %s", ta_jwt_status_str(st));
        return unauthorized(ctx);
    }
    if (ta_conf_session_check(ctx->dc)
        && (e = check_session(ctx, claims.sub, claims.sid)) != NULL) {
        return e;
    }
    ctx->user_id = claims.sub;
    ctx->session_id = claims.sid;
    return NULL;
}

/* What ctx->dc asks for beyond what the result so far covers: a location
 * with the session check after one without it, or with the transparent
 * refresh after one that failed without it. */
static ta_error_t *authenticate_more(ta_ctx_t *ctx)
{
    if (ctx->auth_error == NULL) {
        if (ta_conf_session_check(ctx->dc) && !ctx->auth_session_checked) {
            return check_session(ctx, ctx->user_id, ctx->session_id);
        }
        return NULL;
    }
    if (ctx->auth_refreshable && !ctx->auth_refresh_tried) {
        return auto_refresh(ctx, ctx->auth_error);
    }
    return ctx->auth_error;
}

ta_error_t *ta_ctx_authenticate(ta_ctx_t *ctx)
{
    if (!ctx->auth_done) {
        ctx->auth_error = authenticate(ctx);
        ctx->auth_done = 1;
    }
    else {
        ctx->auth_error = authenticate_more(ctx);
    }
    return ctx->auth_error;
}

