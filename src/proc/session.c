/*
 * proc_session.c - the session procedures: auth.refreshAccessToken,
 * auth.logout, auth.logoutAll, auth.sessions, auth.revokeSession.
 * A user only ever sees and revokes their own sessions: every key is built
 * from the user id of the caller's token, never from input.
 */
#include "proc/procs.h"
#include "store/audit.h"
#include "store/db.h"
#include "proc/refresh.h"
#include "store/session.h"
#include "trpc/validate.h"

#define SESSION_ID_MAX 128

static ta_error_t *unauthorized(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED,
                         "You must be logged in to access this resource");
}

static ta_error_t *store_unavailable(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
}

static json_t *success(void)
{
    return json_pack("{s:b}", "success", 1);
}

/* The session procedures touch only Redis; a token that outlived its user
 * (row deleted) must still be refused, so they ask the database first. */
static ta_error_t *require_user(ta_ctx_t *ctx)
{
    json_t *user;
    ta_error_t *e;

    if ((e = ta_db_user_by_id(ctx->r, ctx->user_id, &user)) != NULL) {
        return e;
    }
    return user ? NULL : unauthorized(ctx);
}

ta_error_t *ta_proc_auth_refresh(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    ta_error_t *e = ta_refresh(ctx);

    if (e != NULL) {
        return e;
    }
    *output = success();
    if (ta_conf_refresh_returns_access(ctx->sc) == 1) {
        json_object_set_new(*output, "accessToken", json_string(ctx->refresh_access));
    }
    return NULL;
}

/* The claims of a cookie that verifies, expired or not (logout works with a
 * stale access token). 1 when found. */
static int cookie_claims(ta_ctx_t *ctx, int refresh, ta_claims_t *c)
{
    const char *t = ta_ctx_cookie(ctx, refresh ? ta_conf_cookie_refresh(ctx->sc)
                                               : ta_conf_cookie_access(ctx->sc));
    ta_jwt_status_t st;

    if (t == NULL || *t == '\0') {
        return 0;
    }
    st = ta_ctx_verify(ctx, t, refresh, c);
    return st == TA_JWT_OK || st == TA_JWT_EXPIRED;
}

/* Revokes the session a token names; one already gone is fine. */
static ta_error_t *revoke_claims(ta_ctx_t *ctx, const ta_claims_t *c)
{
    if (ta_session_revoke(ctx->r, ctx->sc, c->sub, c->sid) == TA_SESS_UNAVAILABLE) {
        return store_unavailable(ctx);
    }
    ta_audit(ctx, "logout", c->sub, c->sid, NULL);
    return NULL;
}

/* Either cookie identifies the session (both, when they name two). The
 * cookies are expired in every case, even when neither verifies. */
ta_error_t *ta_proc_auth_logout(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    ta_claims_t a, f;
    int has_a = cookie_claims(ctx, 0, &a), has_f = cookie_claims(ctx, 1, &f);
    ta_error_t *e = NULL;

    ta_ctx_clear_cookies(ctx);
    if (!has_a && !has_f) {
        return unauthorized(ctx);
    }
    if (has_a) {
        e = revoke_claims(ctx, &a);
    }
    if (e == NULL && has_f && !(has_a && strcmp(a.sid, f.sid) == 0 && strcmp(a.sub, f.sub) == 0)) {
        e = revoke_claims(ctx, &f);
    }
    if (e == NULL) {
        *output = success();
    }
    return e;
}

ta_error_t *ta_proc_auth_logout_all(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    json_t *detail;
    ta_error_t *e;
    long n = 0;

    if ((e = require_user(ctx)) != NULL) {
        return e;
    }
    if (ta_session_revoke_all(ctx->r, ctx->sc, ctx->user_id, NULL, &n) != TA_SESS_OK) {
        return store_unavailable(ctx);
    }
    ta_ctx_clear_cookies(ctx);
    detail = json_pack("{s:I}", "sessions", (json_int_t)n);
    ta_audit(ctx, "logout_all", ctx->user_id, ctx->session_id, detail);
    json_decref(detail);
    *output = success();
    return NULL;
}

ta_error_t *ta_proc_auth_sessions(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    json_t *list;
    ta_error_t *e;

    if ((e = require_user(ctx)) != NULL) {
        return e;
    }
    if (ta_session_list(ctx->r, ctx->sc, ctx->user_id, ctx->session_id, &list) != TA_SESS_OK) {
        return store_unavailable(ctx);
    }
    *output = json_incref(list);
    return NULL;
}

/* Session ids are lower-case hex; anything else cannot name one. */
static int is_session_id(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n > 0 && n <= SESSION_ID_MAX && s[n] == '\0';
}

ta_error_t *ta_proc_auth_revoke_session(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    ta_validator_t v;
    const char *sid;
    ta_error_t *e;
    ta_sess_status_t st = TA_SESS_MISSING;

    ta_v_init(&v, ctx->r->pool, input);
    sid = ta_v_string(&v, "sessionId", 1);
    if ((e = ta_v_finish(&v)) != NULL || (e = require_user(ctx)) != NULL) {
        return e;
    }
    if (is_session_id(sid)) {
        st = ta_session_revoke(ctx->r, ctx->sc, ctx->user_id, sid);
    }
    if (st == TA_SESS_UNAVAILABLE) {
        return store_unavailable(ctx);
    }
    if (st == TA_SESS_MISSING) {
        return ta_error_make(ctx->r->pool, TA_E_NOT_FOUND, "Session not found");
    }
    if (strcmp(sid, ctx->session_id) == 0) {
        ta_ctx_clear_cookies(ctx);
    }
    ta_audit(ctx, "revoke_session", ctx->user_id, sid, NULL);
    *output = success();
    return NULL;
}
