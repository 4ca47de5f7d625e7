/*
 * email.c - auth.requestEmailVerification, auth.verifyEmail,
 * auth.requestPasswordReset, auth.resetPassword (CONTRACT §3), and the
 * verification mail of auth.register.
 *
 * A link is TrpcAuthPublicURL + the kind's TrpcAuthMailPage + "#token=" (or
 * "&token=" when the page already has a fragment) + 256 random bits in hex.
 * The token rides in the fragment, which browsers never send: it reaches no
 * access log and no Referer. PostgreSQL keeps only its SHA-256, and the link
 * waits in the outbox sealed under a key that only the configuration holds
 * (jose/seal.h) until the delivery process sends it.
 */
#include "proc/procs.h"
#include "store/audit.h"
#include "store/email.h"
#include "store/db.h"
#include "store/ratelimit.h"
#include "store/session.h"
#include "jose/seal.h"
#include "util/addr.h"
#include "util/crypto.h"
#include "util/password.h"
#include "cfg/log.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>

#define TOKEN_BYTES 32               /* 256 bits, 64 hex digits */
#define UA_MAX 256                   /* as src/store/audit.c clips it */

/* A link cannot be made without TrpcAuthPublicURL: the module never takes
 * the host from the request (a forged Host header would send the reset
 * links of others to the forger's site). */
static ta_error_t *no_public_url(ta_ctx_t *ctx)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, TA_LOGNO(1410)
                  "no mail link can be made: TrpcAuthPublicURL is not set");
    return ta_error_make(ctx->r->pool, TA_E_INTERNAL_SERVER_ERROR,
                         "Mail links are not configured on this server");
}

/* The audit columns of the request, as ta_audit writes them. */
static void audit_columns(ta_ctx_t *ctx, ta_email_issue_t *q)
{
    request_rec *r = ctx->r;
    const char *ua = apr_table_get(r->headers_in, "User-Agent");

    if (!ta_conf_audit_log(ctx->sc)) {
        q->audit_event = NULL;
        return;
    }
    q->audit_ip = r->useragent_ip;
    q->audit_agent = ua && strlen(ua) > UA_MAX ? apr_pstrndup(r->pool, ua, UA_MAX) : ua;
}

/* JSON text {"email": email} for the audit row. */
static const char *email_detail(apr_pool_t *p, const char *email)
{
    json_t *d = json_pack("{s:s}", "email", email);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    const char *out = text ? apr_pstrdup(p, text) : NULL;

    free(text);
    json_decref(d);
    return out;
}

/* Makes a token and its link, seals the link for email and writes token,
 * outbox row and audit event in one transaction. Every step runs whether or
 * not email belongs to anyone: only the statement tells them apart. */
static ta_error_t *issue(ta_ctx_t *ctx, ta_mail_kind_t kind, const char *email,
                         const char *user_id, const char *audit_event, int *queued)
{
    request_rec *r = ctx->r;
    const char *token = ta_random_id(r->pool, TOKEN_BYTES);
    const char *page = ta_conf_mail_page(ctx->sc, kind);
    ta_email_issue_t q = { kind, email, user_id, NULL, NULL, ta_conf_mail_ttl(ctx->sc, kind),
                           audit_event, NULL, NULL, NULL };
    const char *link;

    *queued = 0;
    if (token == NULL) {
        return ta_error_make(r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot make a token");
    }
    link = apr_pstrcat(r->pool, ta_conf_public_url(ctx->sc), page, strchr(page, '#') ? "&" : "#",
                       "token=", token, NULL);
    q.token_hash = ta_sha256_hex(r->pool, token);
    q.sealed_link = ta_seal(r->pool, ctx->sc->state.seal_key, link, email);
    if (q.token_hash == NULL || q.sealed_link == NULL) {
        return ta_error_make(r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot seal the link");
    }
    audit_columns(ctx, &q);
    q.audit_detail = q.audit_event ? email_detail(r->pool, email) : NULL;
    return ta_email_issue(r, &q, queued);
}

void ta_proc_email_send_verification(ta_ctx_t *ctx, const char *user_id, const char *email)
{
    ta_error_t *e;
    int queued;

    if (ta_conf_public_url(ctx->sc) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, TA_LOGNO(1411)
                      "no verification mail for user %s: TrpcAuthPublicURL is not set", user_id);
        return;
    }
    e = issue(ctx, TA_MAIL_VERIFY_EMAIL, email, user_id, "email_verification_requested",
              &queued);
    if (e != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, TA_LOGNO(1412)
                      "verification mail for user %s not queued: %s", user_id, e->message);
    }
}

/* Counts a mail request in mail-ip (the client's address, IPv6 per /64),
 * then in mail-address, before any other work; the same for addresses that
 * are registered and addresses that are not. */
static ta_error_t *admit_mail(ta_ctx_t *ctx, const char *email)
{
    ta_error_t *e = ta_rate_hit(ctx, TA_RL_MAIL_IP,
                                ta_addr_subject(ctx->r->pool, ctx->r->useragent_ip));

    return e ? e : ta_rate_hit(ctx, TA_RL_MAIL_ADDRESS, email);
}

ta_error_t *ta_proc_auth_request_email_verification(ta_ctx_t *ctx, json_t *input,
                                                    json_t **output)
{
    request_rec *r = ctx->r;
    const char *email;
    json_t *user;
    ta_error_t *e;
    int queued;

    if (ta_conf_public_url(ctx->sc) == NULL) {
        return no_public_url(ctx);
    }
    /* The caller's address is known only from the database, so mail-ip is
     * counted before that lookup and mail-address right after it. */
    if ((e = ta_rate_hit(ctx, TA_RL_MAIL_IP, ta_addr_subject(r->pool, r->useragent_ip))) != NULL
        || (e = ta_db_user_by_id(r, ctx->user_id, &user)) != NULL) {
        return e;
    }
    if (user == NULL) {
        return ta_error_make(r->pool, TA_E_UNAUTHORIZED,
                             "You must be logged in to access this resource");
    }
    email = json_string_value(json_object_get(user, "email"));
    if (!json_is_true(json_object_get(user, "emailVerified"))) {
        if ((e = ta_rate_hit(ctx, TA_RL_MAIL_ADDRESS, email)) != NULL
            || (e = issue(ctx, TA_MAIL_VERIFY_EMAIL, email, ctx->user_id,
                          "email_verification_requested", &queued)) != NULL) {
            return e;
        }
    }
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}

ta_error_t *ta_proc_auth_request_password_reset(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *raw, *email;
    ta_validator_t v;
    ta_error_t *e;
    int queued;

    ta_v_init(&v, r->pool, input);
    raw = ta_v_string(&v, "email", 1);
    email = raw ? ta_proc_normalize_email(r->pool, raw) : NULL;
    if (email && !ta_proc_email_is_valid(email)) {
        ta_v_fail(&v, "email", "invalid_string", "Invalid email");
    }
    if ((e = ta_v_finish(&v)) != NULL) {
        return e;
    }
    if (ta_conf_public_url(ctx->sc) == NULL) {
        return no_public_url(ctx);
    }
    if ((e = admit_mail(ctx, email)) != NULL
        || (e = issue(ctx, TA_MAIL_RESET_PASSWORD, email, NULL, "password_reset_requested",
                      &queued)) != NULL) {
        return e;
    }
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}

/* A token as links carry it: 64 lower-case hex digits. Anything else is
 * refused without a database lookup. */
static int token_well_formed(const char *t)
{
    int n;

    for (n = 0; t[n] && n <= 2 * TOKEN_BYTES; n++) {
        if (!((t[n] >= '0' && t[n] <= '9') || (t[n] >= 'a' && t[n] <= 'f'))) {
            return 0;
        }
    }
    return n == 2 * TOKEN_BYTES;
}

/* The one answer for every token that does not work (unknown, used,
 * expired, replaced by a newer one, of the other kind, malformed). */
static ta_error_t *bad_token(ta_ctx_t *ctx, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, TA_LOGNO(1413)
                  "%s: the token is unknown, used, expired or of another kind", what);
    return ta_error_make(ctx->r->pool, TA_E_BAD_REQUEST,
                         "This link is invalid or has expired: ask for a new one");
}

ta_error_t *ta_proc_auth_verify_email(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *token, *uid;
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, r->pool, input);
    token = ta_v_string(&v, "token", 1);
    if ((e = ta_v_finish(&v)) != NULL) {
        return e;
    }
    if (!token_well_formed(token)) {
        return bad_token(ctx, "auth.verifyEmail");
    }
    if ((e = ta_email_verify(r, ta_sha256_hex(r->pool, token), &uid)) != NULL) {
        return e;
    }
    if (uid == NULL) {
        return bad_token(ctx, "auth.verifyEmail");
    }
    ta_audit(ctx, "email_verified", uid, NULL, NULL);
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}

ta_error_t *ta_proc_auth_reset_password(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *token, *password, *token_hash, *hash, *uid, *uid_of_token;
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, r->pool, input);
    token = ta_v_string(&v, "token", 1);
    password = ta_v_string(&v, "newPassword", 1);
    ta_proc_check_new_password(&v, "newPassword", password);
    /* A weak password is refused before the token is looked at, so the
     * link still works for a better one. */
    if ((e = ta_v_finish(&v)) != NULL) {
        return e;
    }
    if (!token_well_formed(token)) {
        return bad_token(ctx, "auth.resetPassword");
    }
    /* bcrypt only for a token that works, and once per request. The token
     * is used atomically below; this look-up only spares the hashing. */
    token_hash = ta_sha256_hex(r->pool, token);
    if ((e = ta_email_token_user(r, TA_MAIL_RESET_PASSWORD, token_hash, &uid_of_token)) != NULL) {
        return e;
    }
    if (uid_of_token == NULL) {
        return bad_token(ctx, "auth.resetPassword");
    }
    if ((e = ta_ctx_admit_password_check(ctx)) != NULL) {
        return e;
    }
    if ((hash = ta_password_hash(r->pool, password, ta_conf_bcrypt_cost(ctx->sc))) == NULL) {
        return ta_error_make(r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot hash password");
    }
    /* Every session ends, and with it every refresh token: whoever knew the
     * old password is logged out everywhere. Once before the password
     * changes, so that a Redis that is down fails the call while the link
     * still works (a reset must never leave the old sessions alive), and
     * once after, for a login with the old password in between. */
    if (ta_session_revoke_all(r, ctx->sc, uid_of_token, NULL, NULL) != TA_SESS_OK) {
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
    }
    if ((e = ta_email_reset(r, token_hash, hash, &uid)) != NULL) {
        return e;
    }
    if (uid == NULL) {       /* used by a parallel request meanwhile */
        return bad_token(ctx, "auth.resetPassword");
    }
    if (ta_session_revoke_all(r, ctx->sc, uid, NULL, NULL) != TA_SESS_OK) {
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
    }
    ta_ctx_clear_cookies(ctx);
    ta_audit(ctx, "password_reset", uid, NULL, NULL);
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}
