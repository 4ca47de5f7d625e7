/*
 * context.c - the per-request context: cookies, token checks, issuing.
 */
#include "hooks/context.h"
#include "util/cookie.h"
#include "jose/jwt.h"
#include "cfg/log.h"
#include "proc/refresh.h"
#include "store/session.h"
#include "cache/tokcache.h"
#include "store/metrics.h"

#include <apr_strings.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define TA_COOKIE_MAX  8192     /* a longer cookie value is ignored */

ta_ctx_t *ta_ctx_get(request_rec *r)
{
    ta_ctx_t *ctx = ap_get_module_config(r->request_config, &trpcauth_module);

    if (ctx == NULL) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->r = r;
        ctx->sc = ap_get_module_config(r->server->module_config, &trpcauth_module);
        ctx->dc = ap_get_module_config(r->per_dir_config, &trpcauth_module);
        ctx->now = apr_time_sec(r->request_time);
        ctx->cookie_header = apr_table_get(r->headers_in, "Cookie");
        ap_set_module_config(r->request_config, &trpcauth_module, ctx);
    }
    return ctx;
}

ta_error_t *ta_ctx_check_active(ta_ctx_t *ctx)
{
    if (ctx->sc->active) {
        return NULL;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, TA_LOGNO(305)
                  "mod_trpcauth is used here but not configured for this server "
                  "(TrpcAuthAccessKey and TrpcAuthRefreshKey are missing)");
    return ta_error_make(ctx->r->pool, TA_E_INTERNAL_SERVER_ERROR, "Server misconfigured");
}

ta_error_t *ta_ctx_admit_password_check(ta_ctx_t *ctx)
{
    ta_error_t *e;

    if (ctx->password_checks++ == 0) {
        return NULL;
    }
    e = ta_error_make(ctx->r->pool, TA_E_TOO_MANY_REQUESTS,
                      "Only one register, login or changePassword call per request");
    e->retry_after = 1;
    return e;
}

const char *ta_ctx_cookie(ta_ctx_t *ctx, const char *name)
{
    return ta_cookie_get(ctx->r->pool, ctx->cookie_header, name, TA_COOKIE_MAX);
}

ta_jwt_status_t ta_ctx_verify(ta_ctx_t *ctx, const char *token, int refresh,
                              ta_claims_t *claims)
{
    ta_server_conf_t *sc = ctx->sc;
    int skew = ta_conf_clock_skew(sc);
    ta_claims_t unused;
    ta_jwt_status_t st;

    if (claims == NULL) {
        claims = &unused;
    }
    /* Access tokens verified before in this child (TrpcAuthTokenCache): the
     * same bytes, the same keys; only exp is checked again. */
    if (!refresh && ta_metrics_cache(TA_M_TOKEN_CACHE_HITS, sc->token_cache,
                                     ta_tokcache_get(sc->token_cache, ctx->r->pool, token, claims))) {
        return claims->exp < ctx->now - skew ? TA_JWT_EXPIRED : TA_JWT_OK;
    }
    st = ta_jwt_verify(ctx->r->pool, refresh ? sc->refresh_keys : sc->access_keys, token,
                       refresh ? "rt+jwt" : "at+jwt", sc->issuer, sc->audience, ctx->now,
                       skew, claims);
    if (!refresh && st == TA_JWT_OK) {
        ta_tokcache_put(sc->token_cache, token, claims);
    }
    return st;
}

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
    rt = ta_ctx_cookie(ctx, ctx->sc->cookie_refresh);
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
    const char *token = ta_ctx_cookie(ctx, ctx->sc->cookie_access);
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

static void set_cookie(ta_ctx_t *ctx, const char *name, const char *value,
                       apr_int64_t max_age)
{
    ta_cookie_attrs_t a = {
        ta_conf_cookie_secure(ctx->sc), ctx->sc->cookie_samesite,
        ctx->sc->cookie_domain, "/"
    };
    const char *c = ta_cookie_make(ctx->r->pool, name, value, max_age, 1, &a);

    /* err_headers_out: the cookies survive an error status of the batch. */
    if (c) {
        apr_table_add(ctx->r->err_headers_out, "Set-Cookie", c);
    }
}

/* Seconds a token expiring at exp has left (at least 1, so the cookie is set
 * rather than deleted even in the last second). */
static apr_int64_t left(ta_ctx_t *ctx, apr_int64_t exp)
{
    return exp - ctx->now > 0 ? exp - ctx->now : 1;
}

static ta_error_t *cannot_sign(ta_ctx_t *ctx)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, TA_LOGNO(303)
                  "cannot sign tokens (no signing key?)");
    return ta_error_make(ctx->r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot issue tokens");
}

/* Signs an access token issued at iat and sets the access and logged_in cookies. */
static ta_error_t *set_access(ta_ctx_t *ctx, const char *uid, const char *sid,
                              apr_int64_t iat, const char **access)
{
    ta_server_conf_t *sc = ctx->sc;
    apr_int64_t exp = iat + ta_conf_access_ttl(sc);
    ta_claims_t at = { "at+jwt", uid, sid, NULL, sc->issuer, sc->audience, iat, exp };
    const char *a = ta_jwt_sign(ctx->r->pool, sc->access_keys, &at);

    if (a == NULL) {
        return cannot_sign(ctx);
    }
    set_cookie(ctx, sc->cookie_access, a, left(ctx, exp));
    set_cookie(ctx, sc->cookie_loggedin, "true", left(ctx, exp));
    if (access) *access = a;
    return NULL;
}

ta_error_t *ta_ctx_issue_tokens(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *jti, apr_int64_t iat, const char **access)
{
    ta_server_conf_t *sc = ctx->sc;
    apr_int64_t exp = iat + ta_conf_refresh_ttl(sc);
    ta_claims_t rt = { "rt+jwt", uid, sid, jti, sc->issuer, sc->audience, iat, exp };
    const char *f = ta_jwt_sign(ctx->r->pool, sc->refresh_keys, &rt);

    if (f == NULL) {
        return cannot_sign(ctx);
    }
    set_cookie(ctx, sc->cookie_refresh, f, left(ctx, exp));
    return set_access(ctx, uid, sid, iat, access);
}

ta_error_t *ta_ctx_issue_access(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *refresh_token, apr_int64_t refresh_exp,
                                const char **access)
{
    set_cookie(ctx, ctx->sc->cookie_refresh, refresh_token, left(ctx, refresh_exp));
    return set_access(ctx, uid, sid, ctx->now, access);
}

void ta_ctx_clear_cookies(ta_ctx_t *ctx)
{
    set_cookie(ctx, ctx->sc->cookie_access, "", 0);
    set_cookie(ctx, ctx->sc->cookie_refresh, "", 0);
    set_cookie(ctx, ctx->sc->cookie_loggedin, "", 0);
}
