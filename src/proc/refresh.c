/*
 * refresh.c - the refresh flow (see proc/refresh.h): verify the refresh cookie,
 * check the user still exists, check-and-rotate in Redis, sign, set cookies.
 */
#include "proc/refresh.h"
#include "store/audit.h"
#include "store/db.h"
#include "jose/jti.h"
#include "cfg/log.h"
#include "store/ratelimit.h"
#include "store/session.h"
#include "util/crypto.h"

#include <http_log.h>

#define MSG_REQUIRED "Refresh token is required"
#define MSG_INVALID  "Invalid or expired refresh token"

/* A refresh that cannot succeed: the cookies are dead, expire them so that
 * the frontend (and the Next.js middleware) sends the user to log in. */
static ta_error_t *refused(ta_ctx_t *ctx, const char *message)
{
    ta_ctx_clear_cookies(ctx);
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED, "%s", message);
}

static ta_error_t *unavailable(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
}

/* A token of a user deleted since it was issued: revoke its session. */
static ta_error_t *check_user(ta_ctx_t *ctx, const ta_claims_t *c)
{
    json_t *user;
    ta_error_t *e;

    if ((e = ta_db_user_by_id(ctx->r, c->sub, &user)) != NULL) {
        return e;
    }
    if (user == NULL) {
        ta_session_revoke(ctx->r, ctx->sc, c->sub, c->sid);
        return refused(ctx, MSG_INVALID);
    }
    return NULL;
}

/* The grace branch: sign again the pair issued by the rotation that replaced
 * the presented token. The jti is derived, and must hash to what Redis holds
 * (it would not if the refresh signing key changed inside the window). */
static ta_error_t *reissue(ta_ctx_t *ctx, const ta_claims_t *c, const ta_rot_res_t *res)
{
    apr_pool_t *p = ctx->r->pool;
    const char *jti = ta_jti_make(p, ctx->sc->state.jti_key, c->sid, res->gen);
    const char *hash = jti ? ta_sha256_hex(p, jti) : NULL;

    if (hash == NULL || strcmp(hash, res->rt_hash) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, TA_LOGNO(602)
                      "refresh inside the grace window for user %s cannot be answered "
                      "(refresh key changed?)", c->sub);
        return ta_error_make(p, TA_E_UNAUTHORIZED, MSG_INVALID);
    }
    return ta_ctx_issue_tokens(ctx, c->sub, c->sid, jti, res->iat, &ctx->refresh_access);
}

/* Reuse detection fired: the script has already deleted the session. */
static ta_error_t *reused(ta_ctx_t *ctx, const ta_claims_t *c)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, TA_LOGNO(603)
                  "refresh token reuse detected for user %s: session revoked", c->sub);
    ta_audit(ctx, "refresh_reuse", c->sub, c->sid, NULL);
    return refused(ctx, MSG_INVALID);
}

/* Check-and-rotate in Redis, then issue what the script decided. */
static ta_error_t *rotate(ta_ctx_t *ctx, const ta_claims_t *c, const char *token)
{
    apr_pool_t *p = ctx->r->pool;
    int rotation = ta_conf_refresh_rotation(ctx->sc);
    apr_int64_t gen = ta_jti_gen(c->jti);          /* -1: a random jti of an older release */
    apr_int64_t next = (gen < 0 ? 0 : gen) + 1;
    const char *next_jti = ta_jti_make(p, ctx->sc->state.jti_key, c->sid, next);
    ta_rot_req_t q = { c->sub, c->sid, ta_sha256_hex(p, c->jti), NULL, next, ctx->now,
                       rotation };
    ta_rot_res_t res;
    ta_error_t *e;

    if (next_jti == NULL || q.presented_hash == NULL) {
        return ta_error_make(p, TA_E_INTERNAL_SERVER_ERROR, "Cannot issue tokens");
    }
    q.next_hash = ta_sha256_hex(p, next_jti);
    switch (ta_session_rotate(ctx->r, ctx->sc, &q, &res)) {
    case TA_ROT_ROTATED:
        e = rotation ? ta_ctx_issue_tokens(ctx, c->sub, c->sid, next_jti, ctx->now,
                                           &ctx->refresh_access)
                     : ta_ctx_issue_access(ctx, c->sub, c->sid, token, c->exp,
                                           &ctx->refresh_access);
        if (e == NULL) ta_audit(ctx, "refresh", c->sub, c->sid, NULL);
        return e;
    case TA_ROT_GRACE:
        return reissue(ctx, c, &res);
    case TA_ROT_MISSING:
        return refused(ctx, MSG_INVALID);
    case TA_ROT_REUSE:
        return reused(ctx, c);
    default:
        return unavailable(ctx);
    }
}

static ta_error_t *do_refresh(ta_ctx_t *ctx)
{
    const char *token = ta_ctx_cookie(ctx, ta_conf_cookie_refresh(ctx->sc));
    ta_claims_t c;
    ta_jwt_status_t st;
    ta_error_t *e;

    if (token == NULL || *token == '\0') {
        return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED, MSG_REQUIRED);
    }
    st = ta_ctx_verify(ctx, token, 1, &c);
    if (st != TA_JWT_OK || c.jti == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, ctx->r, TA_LOGNO(601)
                      "refresh token rejected: %s",
                      st != TA_JWT_OK ? ta_jwt_status_str(st) : "no jti");
        return refused(ctx, MSG_INVALID);
    }
    if ((e = ta_rate_hit(ctx, TA_RL_REFRESH_SESSION, c.sid)) != NULL
        || (e = check_user(ctx, &c)) != NULL
        || (e = rotate(ctx, &c, token)) != NULL) {
        return e;
    }
    ctx->user_id = c.sub;
    ctx->session_id = c.sid;
    return NULL;
}

ta_error_t *ta_refresh(ta_ctx_t *ctx)
{
    if (!ctx->refresh_done) {
        ctx->refresh_error = do_refresh(ctx);
        ctx->refresh_done = 1;
    }
    return ctx->refresh_error;
}
