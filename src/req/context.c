/*
 * req/context.c - the per-request context: cookies, token checks, issuing.
 * Who is calling (the access cookie, the session check, the transparent
 * refresh) is decided above, in hooks/authenticate.c.
 */
#include "req/context.h"
#include "util/cookie.h"
#include "jose/jws.h"
#include "cfg/log.h"
#include "cfg/metrics.h"
#include "cache/tokcache.h"

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
    if (ctx->sc->state.active) {
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
    if (!refresh && ta_metrics_cache(TA_M_TOKEN_CACHE_HITS, sc->state.token_cache,
                                     ta_tokcache_get(sc->state.token_cache, ctx->r->pool, token,
                                                     claims))) {
        return claims->exp < ctx->now - skew ? TA_JWT_EXPIRED : TA_JWT_OK;
    }
    st = ta_jwt_verify(ctx->r->pool,
                       refresh ? ta_conf_refresh_keys(sc) : ta_conf_access_keys(sc), token,
                       refresh ? "rt+jwt" : "at+jwt", ta_conf_issuer(sc), ta_conf_audience(sc),
                       ctx->now, skew, claims);
    if (!refresh && st == TA_JWT_OK) {
        ta_tokcache_put(sc->state.token_cache, token, claims);
    }
    return st;
}

static void set_cookie(ta_ctx_t *ctx, const char *name, const char *value,
                       apr_int64_t max_age)
{
    ta_cookie_attrs_t a = {
        ta_conf_cookie_secure(ctx->sc), ta_conf_cookie_samesite(ctx->sc),
        ta_conf_cookie_domain(ctx->sc), "/"
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

/* Signs a token of kind typ ("at+jwt", "rt+jwt") with keys, for (uid, sid,
 * jti) issued at iat and living ttl seconds, and sets it as cookie name.
 * *token (may be NULL) receives it. */
static ta_error_t *issue(ta_ctx_t *ctx, const char *typ, const ta_keyset_t *keys,
                         const char *name, const char *uid, const char *sid, const char *jti,
                         apr_int64_t iat, apr_int64_t ttl, const char **token)
{
    ta_server_conf_t *sc = ctx->sc;
    ta_claims_t c = {
        typ, uid, sid, jti, ta_conf_issuer(sc), ta_conf_audience(sc), iat, iat + ttl
    };
    const char *t = ta_jwt_sign(ctx->r->pool, keys, &c);

    if (t == NULL) {
        return cannot_sign(ctx);
    }
    set_cookie(ctx, name, t, left(ctx, c.exp));
    if (token) *token = t;
    return NULL;
}

/* Signs an access token issued at iat and sets the access and logged_in cookies. */
static ta_error_t *set_access(ta_ctx_t *ctx, const char *uid, const char *sid,
                              apr_int64_t iat, const char **access)
{
    ta_server_conf_t *sc = ctx->sc;
    int ttl = ta_conf_access_ttl(sc);
    ta_error_t *e = issue(ctx, "at+jwt", ta_conf_access_keys(sc), ta_conf_cookie_access(sc),
                          uid, sid, NULL, iat, ttl, access);

    if (e == NULL) {
        set_cookie(ctx, ta_conf_cookie_loggedin(sc), "true", left(ctx, iat + ttl));
    }
    return e;
}

ta_error_t *ta_ctx_issue_tokens(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *jti, apr_int64_t iat, const char **access)
{
    ta_server_conf_t *sc = ctx->sc;
    ta_error_t *e = issue(ctx, "rt+jwt", ta_conf_refresh_keys(sc), ta_conf_cookie_refresh(sc),
                          uid, sid, jti, iat, ta_conf_refresh_ttl(sc), NULL);

    return e ? e : set_access(ctx, uid, sid, iat, access);
}

ta_error_t *ta_ctx_issue_access(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *refresh_token, apr_int64_t refresh_exp,
                                const char **access)
{
    set_cookie(ctx, ta_conf_cookie_refresh(ctx->sc), refresh_token, left(ctx, refresh_exp));
    return set_access(ctx, uid, sid, ctx->now, access);
}

void ta_ctx_clear_cookies(ta_ctx_t *ctx)
{
    set_cookie(ctx, ta_conf_cookie_access(ctx->sc), "", 0);
    set_cookie(ctx, ta_conf_cookie_refresh(ctx->sc), "", 0);
    set_cookie(ctx, ta_conf_cookie_loggedin(ctx->sc), "", 0);
}
