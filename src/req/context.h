/*
 * req/context.h - what one request knows: its configuration and, once asked
 * for, who is calling; its cookies, the verification of its tokens and the
 * issuing of new ones. It sits below the store and the procedures so that
 * both can take a context; deciding who is calling (which needs the session
 * store and the refresh procedure) is hooks/authenticate.h.
 */
#ifndef TA_CONTEXT_H
#define TA_CONTEXT_H

#include <httpd.h>
#include "cfg/config.h"
#include "trpc/error.h"
#include "jose/jws.h"

typedef struct {
    request_rec *r;
    ta_server_conf_t *sc;
    ta_dir_conf_t *dc;
    apr_int64_t now;             /* unix seconds, fixed for the request */

    /* Authentication, resolved once per request on first need. A later
     * location of the same client request (a sub-request, an internal
     * redirect) may ask for more than the first one did: the flags record
     * what the result covers, so only the missing part runs then. */
    int auth_done;
    ta_error_t *auth_error;      /* UNAUTHORIZED or SERVICE_UNAVAILABLE */
    const char *user_id;
    const char *session_id;
    int auth_session_checked;    /* the session was found alive in Redis */
    int auth_refreshable;        /* failed for a missing or expired access token */
    int auth_refresh_tried;      /* TrpcAuthAutoRefresh was applied */
    /* The Cookie header as the client sent it: TrpcAuthStripCookies may take
     * the module's cookies out of headers_in before a backend sees them. */
    const char *cookie_header;

    /* A refresh, done at most once per request: auth.refreshAccessToken and
     * the transparent refresh of TrpcAuthAutoRefresh share its result, so a
     * batch never presents the same refresh token twice. */
    int refresh_done;
    ta_error_t *refresh_error;
    const char *refresh_access;  /* the access token issued */

    /* Password checks (bcrypt) run in this request: at most one, so a batch
     * cannot buy many (ta_ctx_admit_password_check). */
    int password_checks;

    /* A procedure may give its result as JSON text (with its Date paths)
     * instead of a jansson value: large lists are written straight from the
     * database rows. The handler moves them to the call. */
    const char *output_text;
    apr_array_header_t *output_dates;
} ta_ctx_t;

/* The context of r (made on first call). */
ta_ctx_t *ta_ctx_get(request_rec *r);

/* NULL when the module is configured for r's server; else (a .htaccess that
 * names the handler or the AuthType on a server without TrpcAuthAccessKey,
 * which check_config could not see) an INTERNAL_SERVER_ERROR, logged once
 * per request. */
ta_error_t *ta_ctx_check_active(ta_ctx_t *ctx);

/* Admits one bcrypt computation for this request: NULL for the first, a
 * TOO_MANY_REQUESTS error for any later one (a batch may hold only one
 * register, login or changePassword call that reaches bcrypt). */
ta_error_t *ta_ctx_admit_password_check(ta_ctx_t *ctx);

/* A cookie of the request by name, or NULL. */
const char *ta_ctx_cookie(ta_ctx_t *ctx, const char *name);

/* Issues an access and a refresh token for (uid, sid, jti), both issued at
 * iat (unix s: ctx->now for a new pair, the stored time when a pair already
 * issued is given again), and sets the three cookies on the response with
 * the lifetime they have left. *access (may be NULL) receives the access token. */
ta_error_t *ta_ctx_issue_tokens(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *jti, apr_int64_t iat, const char **access);

/* Issues only an access token (issued now) and sets the access and logged_in
 * cookies; the refresh cookie is set again to refresh_token, unchanged, with
 * the lifetime left until refresh_exp. Used when rotation is Off. */
ta_error_t *ta_ctx_issue_access(ta_ctx_t *ctx, const char *uid, const char *sid,
                                const char *refresh_token, apr_int64_t refresh_exp,
                                const char **access);

/* Verifies a token of the request (typ "at+jwt" with the access keys, or
 * "rt+jwt" with the refresh keys) with the configured iss/aud and clock skew.
 * Access tokens are looked up in the child's TrpcAuthTokenCache first. */
ta_jwt_status_t ta_ctx_verify(ta_ctx_t *ctx, const char *token, int refresh,
                              ta_claims_t *claims);

/* Expires the three cookies on the response. */
void ta_ctx_clear_cookies(ta_ctx_t *ctx);

#endif
