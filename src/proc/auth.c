/*
 * proc_auth.c - auth.register, auth.login, auth.me, auth.changePassword.
 * (The session procedures are in proc_session.c.)
 */
#include "proc/procs.h"
#include "util/addr.h"
#include "store/audit.h"
#include "store/ratelimit.h"
#include "store/db.h"
#include "jose/jti.h"
#include "cfg/log.h"
#include "util/password.h"
#include "store/session.h"
#include "util/crypto.h"
#include "trpc/validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_log.h>

#define EMAIL_MAX 254
#define LOGIN_PASSWORD_MAX 1024

/* Trims and lower-cases an email (ASCII case only, as the tutorial's data). */
static char *normalize_email(apr_pool_t *p, const char *in)
{
    const char *end;
    char *out, *c;

    while (apr_isspace(*in)) in++;
    end = in + strlen(in);
    while (end > in && apr_isspace(end[-1])) end--;
    out = apr_pstrndup(p, in, (apr_size_t)(end - in));
    for (c = out; *c; c++) *c = (char)apr_tolower(*c);
    return out;
}

/* A pragmatic email check: one '@', a non-empty local part, a domain with a
 * dot and no spaces or control characters; at most 254 bytes. */
static int email_is_valid(const char *e)
{
    const char *at = strchr(e, '@'), *c, *dot;

    if (at == NULL || at == e || strchr(at + 1, '@') || strlen(e) > EMAIL_MAX) {
        return 0;
    }
    for (c = e; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("()<>,;:\\\"[]", *c)) {
            return 0;
        }
    }
    dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

/* Checks the length of a password (field) that is about to be hashed
 * (is_new) or only compared. */
static void check_password(ta_validator_t *v, const char *field, const char *password,
                           int is_new)
{
    apr_size_t n = password ? strlen(password) : 0;

    if (password == NULL) {
        return;
    }
    if (is_new && n < TA_PASSWORD_MIN) {
        ta_v_fail(v, field, "too_small",
                  "String must contain at least %d character(s)", TA_PASSWORD_MIN);
    }
    else if (is_new && n > TA_PASSWORD_MAX) {
        ta_v_fail(v, field, "too_big", "Password must be at most %d bytes", TA_PASSWORD_MAX);
    }
    else if (n > LOGIN_PASSWORD_MAX) {
        ta_v_fail(v, field, "too_big", "String must contain at most %d character(s)",
                  LOGIN_PASSWORD_MAX);
    }
}

char *ta_proc_normalize_email(apr_pool_t *p, const char *in)
{
    return normalize_email(p, in);
}

int ta_proc_email_is_valid(const char *email)
{
    return email_is_valid(email);
}

void ta_proc_check_new_password(ta_validator_t *v, const char *field, const char *password)
{
    check_password(v, field, password, 1);
}

/* Reads {email, password} and normalizes the email. */
static ta_error_t *read_credentials(ta_ctx_t *ctx, json_t *input, int is_new,
                                    const char **email, const char **password)
{
    ta_validator_t v;
    const char *raw;

    ta_v_init(&v, ctx->r->pool, input);
    raw = ta_v_string(&v, "email", 1);
    *password = ta_v_string(&v, "password", 1);
    *email = raw ? normalize_email(ctx->r->pool, raw) : NULL;
    if (*email && !email_is_valid(*email)) {
        ta_v_fail(&v, "email", "invalid_string", "Invalid email");
    }
    check_password(&v, "password", *password, is_new);
    return ta_v_finish(&v);
}

ta_error_t *ta_proc_auth_register(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *email, *password, *hash, *uid;
    json_t *user;
    ta_error_t *e;

    if ((e = read_credentials(ctx, input, 1, &email, &password)) != NULL
        || (e = ta_rate_hit(ctx, TA_RL_REGISTER_IP,
                            ta_addr_subject(r->pool, r->useragent_ip))) != NULL
        || (e = ta_ctx_admit_password_check(ctx)) != NULL) {
        return e;
    }
    hash = ta_password_hash(r->pool, password, ta_conf_bcrypt_cost(ctx->sc));
    if (hash == NULL) {
        return ta_error_make(r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot hash password");
    }
    if ((e = ta_db_user_insert(r, email, hash, &user)) != NULL) {
        return e;
    }
    if (user == NULL) {
        return ta_error_make(r->pool, TA_E_CONFLICT, "User already exists");
    }
    uid = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                       (apr_int64_t)json_integer_value(json_object_get(user, "id")));
    ta_audit(ctx, "register", uid, NULL, NULL);
    if (ta_conf_verify_on_register(ctx->sc)) {
        ta_proc_email_send_verification(ctx, uid, email);
    }
    *output = json_pack("{s:b, s:[O]}", "success", 1, "user", user);
    return NULL;
}

/* A stored hash of another cost than TrpcAuthBcryptCost (imported, or made
 * before the cost changed) makes this account's logins take another time
 * than those of unknown emails (checked against a hash of the configured
 * cost), which tells that the email is registered. After a right password it
 * is replaced by a hash of the configured cost; a failure only logs. */
static void rehash_if_needed(ta_ctx_t *ctx, const char *uid, const char *password,
                             const char *hash)
{
    request_rec *r = ctx->r;
    int cost = ta_conf_bcrypt_cost(ctx->sc), updated = 0;
    const char *fresh;
    ta_error_t *e = NULL;

    if (ta_password_cost(hash) == cost) {
        return;
    }
    fresh = ta_password_hash(r->pool, password, cost);
    if (fresh == NULL || (e = ta_db_user_rehash(r, uid, hash, fresh, &updated)) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, TA_LOGNO(420)
                      "cannot rehash the password of user %s to cost %d: %s", uid, cost,
                      e ? e->message : "bcrypt failed");
    }
}

/* Checks email and password against the database: NULL with *uid set when
 * they match, UNAUTHORIZED with *wrong set when they do not (the one outcome
 * that counts against the rate limits), else the database's error. */
static ta_error_t *verify_login(ta_ctx_t *ctx, const char *email, const char *password,
                                const char **uid, int *wrong)
{
    request_rec *r = ctx->r;
    const char *hash;
    ta_error_t *e;
    int ok;

    *wrong = 0;
    if ((e = ta_db_user_credentials(r, email, uid, &hash)) != NULL) {
        return e;
    }
    /* An unknown email still costs one bcrypt comparison, so the answer
     * takes as long as for a wrong password. */
    ok = ta_password_verify(password, hash ? hash : ctx->sc->state.dummy_hash) && *uid != NULL;
    if (!ok) {
        json_t *detail = json_pack("{s:s, s:s}", "email", email,
                                   "reason", *uid ? "wrong password" : "unknown email");
        ta_audit(ctx, "login_failed", *uid, NULL, detail);
        json_decref(detail);
        *wrong = 1;
        return ta_error_make(r->pool, TA_E_UNAUTHORIZED, "Invalid email or password");
    }
    rehash_if_needed(ctx, *uid, password, hash);
    return NULL;
}

/* TrpcAuthRequireVerifiedEmail: after the right password (so the answer
 * tells nothing to whoever does not know it), an account whose address is
 * not verified gets FORBIDDEN and no session. It also gets a fresh
 * verification link (within the mail-address budget, so logins cannot flood
 * the inbox): without a session the user could not ask for one, and the
 * link sent at registration may have expired. */
static ta_error_t *check_verified(ta_ctx_t *ctx, const char *uid, const char *email)
{
    json_t *user;
    ta_error_t *e;

    if (!ta_conf_require_verified_email(ctx->sc)) {
        return NULL;
    }
    if ((e = ta_db_user_by_id(ctx->r, uid, &user)) != NULL) {
        return e;
    }
    if (user == NULL || json_is_true(json_object_get(user, "emailVerified"))) {
        return NULL;
    }
    ta_audit(ctx, "login_unverified", uid, NULL, NULL);
    if (ta_rate_hit(ctx, TA_RL_MAIL_ADDRESS, email) == NULL) {
        ta_proc_email_send_verification(ctx, uid, email);
    }
    return ta_error_make(ctx->r->pool, TA_E_FORBIDDEN,
                         "Email address not verified: open the link we sent to it, then log in");
}

ta_error_t *ta_proc_auth_login(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *email, *password, *uid = NULL, *jti, *sid;
    ta_rate_attempt_t *attempt;
    ta_error_t *e;
    int wrong;

    /* The one-bcrypt gate first, so the calls of a batch that it refuses
     * count nowhere; then the attempt is counted before any bcrypt work, and
     * taken back unless the password is wrong: only failures count. */
    if ((e = read_credentials(ctx, input, 0, &email, &password)) != NULL
        || (e = ta_ctx_admit_password_check(ctx)) != NULL
        || (e = ta_rate_login_admit(ctx, email, &attempt)) != NULL) {
        return e;
    }
    e = verify_login(ctx, email, password, &uid, &wrong);
    if (!wrong) {
        ta_rate_refund(ctx, attempt, e == NULL);
    }
    if (e != NULL || (e = check_verified(ctx, uid, email)) != NULL) {
        return e;
    }
    /* A fresh random session id; its refresh tokens get the derived ids of
     * generation 0, 1, ... (jose/jti.h). */
    sid = ta_random_id(r->pool, 20);
    jti = sid ? ta_jti_make(r->pool, ctx->sc->state.jti_key, sid, 0) : NULL;
    if (jti == NULL || ta_session_create(r, ctx->sc, uid, sid, ta_sha256_hex(r->pool, jti),
                                         ctx->now) != TA_SESS_OK) {
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
    }
    if ((e = ta_ctx_issue_tokens(ctx, uid, sid, jti, ctx->now, NULL)) != NULL) {
        return e;
    }
    ta_audit(ctx, "login", uid, sid, NULL);
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}

/* A user whose valid token outlived the row (deleted): as good as logged out. */
static ta_error_t *user_gone(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_UNAUTHORIZED,
                         "You must be logged in to access this resource");
}

ta_error_t *ta_proc_auth_me(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    json_t *user;
    ta_error_t *e;

    if ((e = ta_db_user_by_id(ctx->r, ctx->user_id, &user)) != NULL) {
        return e;
    }
    if (user == NULL) {     /* deleted since the token was issued */
        return user_gone(ctx);
    }
    *output = json_incref(user);
    return NULL;
}

/* Checks currentPassword against the stored hash: a wrong one (*wrong set)
 * is a BAD_REQUEST on that field (the session itself is fine, so not
 * UNAUTHORIZED, which frontends take as "logged out"). */
static ta_error_t *check_current_password(ta_ctx_t *ctx, const char *current, int *wrong)
{
    const char *hash;
    ta_validator_t v;
    ta_error_t *e;

    *wrong = 0;
    if ((e = ta_db_user_password(ctx->r, ctx->user_id, &hash)) != NULL) {
        return e;
    }
    if (hash == NULL) {
        return user_gone(ctx);
    }
    if (ta_password_verify(current, hash)) {
        return NULL;
    }
    *wrong = 1;
    ta_v_init(&v, ctx->r->pool, ta_json_pool(ctx->r->pool, json_object()));
    ta_v_fail(&v, "currentPassword", "custom", "Current password is incorrect");
    return ta_v_finish(&v);
}

ta_error_t *ta_proc_auth_change_password(ta_ctx_t *ctx, json_t *input, json_t **output)
{
    request_rec *r = ctx->r;
    const char *current, *next, *hash;
    ta_rate_attempt_t *attempt;
    ta_validator_t v;
    ta_error_t *e;
    int updated, wrong;

    ta_v_init(&v, r->pool, input);
    current = ta_v_string(&v, "currentPassword", 1);
    next = ta_v_string(&v, "newPassword", 1);
    check_password(&v, "currentPassword", current, 0);
    check_password(&v, "newPassword", next, 1);
    /* As in login: the gate, then the attempt counted before bcrypt and
     * taken back unless currentPassword is wrong. */
    if ((e = ta_v_finish(&v)) != NULL || (e = ta_ctx_admit_password_check(ctx)) != NULL
        || (e = ta_rate_password_admit(ctx, &attempt)) != NULL) {
        return e;
    }
    e = check_current_password(ctx, current, &wrong);
    if (!wrong) {
        ta_rate_refund(ctx, attempt, 0);
    }
    if (e != NULL) {
        return e;
    }
    if ((hash = ta_password_hash(r->pool, next, ta_conf_bcrypt_cost(ctx->sc))) == NULL) {
        return ta_error_make(r->pool, TA_E_INTERNAL_SERVER_ERROR, "Cannot hash password");
    }
    if ((e = ta_db_user_set_password(r, ctx->user_id, hash, &updated)) != NULL) {
        return e;
    }
    if (!updated) {
        return user_gone(ctx);
    }
    /* After the update, so that no session made with the old password survives. */
    if (ta_session_revoke_all(r, ctx->sc, ctx->user_id, ctx->session_id, NULL) != TA_SESS_OK) {
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Session store unavailable");
    }
    ta_audit(ctx, "change_password", ctx->user_id, ctx->session_id, NULL);
    *output = json_pack("{s:b}", "success", 1);
    return NULL;
}
