/*
 * context.c - the per-request context: cookies, token checks, issuing.
 */
#include "ta_context.h"
#include "ta_cookie.h"
#include "ta_jwt.h"
#include "ta_log.h"
#include "ta_session.h"

#include <apr_strings.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define TA_COOKIE_MAX  8192     /* a longer cookie value is ignored */
#define TA_CLOCK_LEEWAY 5       /* seconds of clock skew tolerated in tokens */

ta_ctx_t *ta_ctx_get(request_rec *r)
{
    ta_ctx_t *ctx = ap_get_module_config(r->request_config, &trpcauth_module);

    if (ctx == NULL) {
        ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->r = r;
        ctx->sc = ap_get_module_config(r->server->module_config, &trpcauth_module);
        ctx->dc = ap_get_module_config(r->per_dir_config, &trpcauth_module);
        ctx->now = apr_time_sec(r->request_time);
        ap_set_module_config(r->request_config, &trpcauth_module, ctx);
    }
    return ctx;
}

const char *ta_ctx_cookie(ta_ctx_t *ctx, const char *name)
{
    return ta_cookie_get(ctx->r->pool, apr_table_get(ctx->r->headers_in, "Cookie"),
                         name, TA_COOKIE_MAX);
}

static ta_error_t *unauthorized(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED,
                         "You must be logged in to access this resource");
}

/* Verifies the access cookie and, when configured, its session in Redis. */
static ta_error_t *authenticate(ta_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *token = ta_ctx_cookie(ctx, ctx->sc->cookie_access);
    ta_claims_t claims;
    ta_jwt_status_t st;

    if (token == NULL || *token == '\0') {
        return unauthorized(ctx);
    }
    st = ta_jwt_verify(r->pool, ctx->sc->access_keys, token, "at+jwt",
                       ctx->sc->issuer, ctx->sc->audience, ctx->now,
                       TA_CLOCK_LEEWAY, &claims);
    if (st != TA_JWT_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(301)
                      "access token rejected: %s", ta_jwt_status_str(st));
        return unauthorized(ctx);
    }
    if (ta_conf_session_check(ctx->dc)) {
        switch (ta_session_touch(r, ctx->sc, claims.sub, claims.sid)) {
        case TA_SESS_OK:
            break;
        case TA_SESS_MISSING:
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(302)
                          "session of user %s revoked or expired", claims.sub);
            return unauthorized(ctx);
        case TA_SESS_UNAVAILABLE:
            return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE,
                                 "Session store unavailable");
        }
    }
    ctx->user_id = claims.sub;
    ctx->session_id = claims.sid;
    return NULL;
}

ta_error_t *ta_ctx_authenticate(ta_ctx_t *ctx)
{
    if (!ctx->auth_done) {
        ctx->auth_error = authenticate(ctx);
        ctx->auth_done = 1;
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

ta_error_t *ta_ctx_issue_tokens(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *jti, const char **access)
{
    ta_server_conf_t *sc = ctx->sc;
    int access_ttl = ta_conf_access_ttl(sc), refresh_ttl = ta_conf_refresh_ttl(sc);
    ta_claims_t at = { "at+jwt", uid, sid, NULL, sc->issuer, sc->audience,
                       ctx->now, ctx->now + access_ttl };
    ta_claims_t rt = { "rt+jwt", uid, sid, jti, sc->issuer, sc->audience,
                       ctx->now, ctx->now + refresh_ttl };
    const char *a = ta_jwt_sign(ctx->r->pool, sc->access_keys, &at);
    const char *f = ta_jwt_sign(ctx->r->pool, sc->refresh_keys, &rt);

    if (a == NULL || f == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, TA_LOGNO(303)
                      "cannot sign tokens (no signing key?)");
        return ta_error_make(ctx->r->pool, TA_E_INTERNAL_SERVER_ERROR,
                             "Cannot issue tokens");
    }
    set_cookie(ctx, sc->cookie_access, a, access_ttl);
    set_cookie(ctx, sc->cookie_refresh, f, refresh_ttl);
    set_cookie(ctx, sc->cookie_loggedin, "true", access_ttl);
    if (access) *access = a;
    return NULL;
}

void ta_ctx_clear_cookies(ta_ctx_t *ctx)
{
    set_cookie(ctx, ctx->sc->cookie_access, "", 0);
    set_cookie(ctx, ctx->sc->cookie_refresh, "", 0);
    set_cookie(ctx, ctx->sc->cookie_loggedin, "", 0);
}
