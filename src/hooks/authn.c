/*
 * authn.c - "AuthType trpcauth": the access cookie protects any location
 * (static files, CGI, reverse-proxied apps), in the shape of mod_auth_basic.
 *
 * One client request is authenticated at most once: sub-requests and
 * internal redirects reuse the result held by the context of the request
 * the client sent (one JWT check, one Redis round trip, at most one
 * transparent refresh, and the Set-Cookie headers of that refresh land on
 * the response the client receives).
 *
 * Unauthenticated requests (TrpcAuthUnauthAction):
 *   401       status 401, a tRPC-shaped JSON error body, WWW-Authenticate: trpcauth
 *   redirect  302 to the login path with ?next=<original path and query>;
 *             requests that are not page navigations (fetch/XHR: Sec-Fetch-Mode
 *             other than navigate, X-Requested-With) get the 401 instead
 *   pass      the request goes on anonymously where authorization does not
 *             need a user (Require all granted, Require ip ...); a Require that
 *             needs one (valid-user, user ...) is answered 403, never challenged
 * Whatever the action: Redis unreachable is 503, never 401.
 */
#include "hooks/authn.h"
#include "hooks/authenticate.h"
#include "util/cookie.h"
#include "util/httptext.h"
#include "req/request.h"
#include "hooks/handler.h"
#include "cfg/log.h"
#include "trpc/trpc.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define TA_AUTH_TYPE "trpcauth"

static ta_dir_conf_t *dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &trpcauth_module);
}

/* The AuthType of r when it is ours (any case, as httpd compares them), else NULL. */
static const char *our_auth_type(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return (type && strcasecmp(type, TA_AUTH_TYPE) == 0) ? type : NULL;
}

/* Authenticates the client request r belongs to. The result lives in the
 * context of that request, so a sub-request or internal redirect does not
 * verify the token again; but it is always judged with r's own location
 * settings: where r asks for more than an earlier location did (the session
 * check, the transparent refresh), that part runs now (ta_ctx_authenticate).
 * NULL on success, else UNAUTHORIZED, SERVICE_UNAVAILABLE, ...; *ctxp
 * receives the context holding the result. */
static ta_error_t *authenticate(request_rec *r, ta_ctx_t **ctxp)
{
    ta_ctx_t *ctx = ta_ctx_get(ta_initial_request(r));
    ta_dir_conf_t *saved = ctx->dc;
    ta_error_t *e;

    *ctxp = ctx;
    if ((e = ta_ctx_check_active(ctx)) != NULL) {
        return e;
    }
    ctx->dc = dir_conf(r);
    e = ta_ctx_authenticate(ctx);
    ctx->dc = saved;
    return e;
}

/* ------------------------------------------------------------------ */
/* identity header                                                     */

/* Removes every client-sent header that could pass for the identity header
 * (each spelling in turn: apr_table_unset takes all of one spelling). */
static void scrub_identity_header(request_rec *r, const char *name)
{
    for (;;) {
        const apr_array_header_t *arr = apr_table_elts(r->headers_in);
        const apr_table_entry_t *ent = (const apr_table_entry_t *)arr->elts;
        const char *found = NULL;
        int i;

        for (i = 0; i < arr->nelts && !found; i++) {
            if (ent[i].key && ta_same_header_name(ent[i].key, name)) {
                found = ent[i].key;
            }
        }
        if (found == NULL) {
            return;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(701)
                      "removed request header %s (TrpcAuthIdentityHeader)", found);
        apr_table_unset(r->headers_in, found);
    }
}

/* ------------------------------------------------------------------ */
/* the module's cookies                                                */

/* Takes the module's own cookies out of the Cookie header(s) r hands on
 * (CGI's HTTP_COOKIE, mod_proxy's request), as mod_auth_openidc's
 * OIDCStripCookies does: the refresh token lives for days and no backend
 * needs it. The context keeps the header as the client sent it. */
static void strip_own_cookies(request_rec *r, const ta_server_conf_t *sc)
{
    const char *names[3] = {
        ta_conf_cookie_access(sc), ta_conf_cookie_refresh(sc), ta_conf_cookie_loggedin(sc)
    };
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *ent = (const apr_table_entry_t *)arr->elts;
    apr_table_t *kept = NULL;
    int i, removed, total = 0;

    for (i = 0; i < arr->nelts; i++) {
        /* The first letter first: this walk runs on every request of a
         * protected location, and most headers are not Cookie. */
        if (ent[i].key && apr_tolower(ent[i].key[0]) == 'c'
            && strcasecmp(ent[i].key, "Cookie") == 0) {
            const char *v = ta_cookie_strip(r->pool, ent[i].val, names, 3, &removed);

            if (kept == NULL) {
                kept = apr_table_make(r->pool, 2);
            }
            if (v != NULL) {
                apr_table_addn(kept, "Cookie", v);
            }
            total += removed;
        }
    }
    if (total == 0) {
        return;
    }
    apr_table_unset(r->headers_in, "Cookie");
    r->headers_in = apr_table_overlay(r->pool, r->headers_in, kept);
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, TA_LOGNO(703)
                  "removed %d of the module's cookies from the request", total);
}

/* ------------------------------------------------------------------ */
/* success                                                             */

/* A value that can go into a request header as it is (no CR, LF or other
 * control characters). User ids come from our own signed tokens; this only
 * makes sure no token could ever split a header towards a backend. */
static int header_safe(const char *v)
{
    for (; *v; v++) {
        if (apr_iscntrl(*v)) return 0;
    }
    return 1;
}

/* Publishes the identity on r: r->user (REMOTE_USER, %u, Require user),
 * the environment, and the identity header for backends. */
static void set_identity(request_rec *r, const ta_ctx_t *ctx, const char *auth_type)
{
    ta_dir_conf_t *dc = dir_conf(r);

    /* ctx lives in the initial request's pool, which outlives r. */
    r->user = (char *)ctx->user_id;
    r->ap_auth_type = (char *)auth_type;
    apr_table_setn(r->subprocess_env, "TRPCAUTH_USER_ID", ctx->user_id);
    if (ctx->session_id) {
        apr_table_setn(r->subprocess_env, "TRPCAUTH_SESSION_ID", ctx->session_id);
    }
    if (ta_conf_identity_header(dc) && header_safe(ctx->user_id)) {
        apr_table_setn(r->headers_in, ta_conf_identity_header(dc), ctx->user_id);
    }
}

/* ------------------------------------------------------------------ */
/* failure                                                             */

/* Answers a main request with e as a tRPC-shaped JSON error and returns
 * DONE. A sub-request only gets the status: its caller decides. */
static int send_error(request_rec *r, const ta_error_t *e)
{
    ta_trpc_out_t out;

    if (r->main) {
        return ta_code_http(e->code);
    }
    if (ap_discard_request_body(r) != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    ta_trpc_render_error(r->pool, e, NULL, TA_TX_JSON, &out);
    if (e->retry_after > 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, e->retry_after));
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    r->status = out.status;
    ap_set_content_type(r, out.content_type);
    ap_set_content_length(r, (apr_off_t)out.len);
    if (!r->header_only) {
        ap_rwrite(out.body, (int)out.len, r);
    }
    return DONE;
}

/* A page navigation, as opposed to fetch/XHR, which a redirect to a login
 * page would not help. Clients that send neither header (curl, old
 * browsers) count as navigations. */
static int is_navigation(request_rec *r)
{
    const char *mode = apr_table_get(r->headers_in, "Sec-Fetch-Mode");
    const char *xrw = apr_table_get(r->headers_in, "X-Requested-With");

    if (xrw && strcasecmp(xrw, "XMLHttpRequest") == 0) {
        return 0;
    }
    return mode == NULL || strcasecmp(mode, "navigate") == 0
           || strcasecmp(mode, "nested-navigate") == 0;
}

/* The path and query the client asked for, as a same-site path. */
static const char *login_return_target(request_rec *r)
{
    request_rec *client = ta_initial_request(r);

    return ta_same_site_target(r->pool, client->unparsed_uri ? client->unparsed_uri : client->uri);
}

/* 302 to the login path (a same-site path, checked by the directive) with the
 * original target as ?next=. */
static int redirect_to_login(request_rec *r, const char *login)
{
    const char *next = ta_encode_component(r->pool, login_return_target(r));
    const char *loc = apr_pstrcat(r->pool, login, strchr(login, '?') ? "&" : "?",
                                  "next=", next, NULL);

    apr_table_setn(r->headers_out, "Location", loc);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return HTTP_MOVED_TEMPORARILY;
}

/* What an unauthenticated request to an AuthType trpcauth location that
 * needs a user gets: see the comment at the top. */
static int unauthenticated(request_rec *r, const ta_error_t *e)
{
    ta_dir_conf_t *dc = dir_conf(r);

    if (e->code != TA_E_UNAUTHORIZED) {        /* 503 (Redis), 429, 500 */
        return send_error(r, e);
    }
    switch (ta_conf_unauth_action(dc)) {
    case TA_UNAUTH_PASS:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(702)
                      "anonymous request (TrpcAuthUnauthAction pass) refused: "
                      "the Require of %s needs a user", r->uri);
        return send_error(r, ta_error_make(r->pool, TA_E_FORBIDDEN,
                                           "This resource requires a logged-in user"));
    case TA_UNAUTH_REDIRECT:
        if (is_navigation(r)) {
            return redirect_to_login(r, ta_conf_unauth_url(dc));
        }
        /* fetch/XHR: the 401 below */
        break;
    case TA_UNAUTH_401:
        break;
    }
    ap_note_auth_failure(r);
    return send_error(r, e);
}

/* ------------------------------------------------------------------ */
/* hooks                                                               */

/* header_parser (main requests, before any authentication): a client-sent
 * identity header never gets further than this. */
static int scrub_header_parser(request_rec *r)
{
    ta_dir_conf_t *dc = dir_conf(r);

    if (dc && ta_conf_identity_header(dc)) {
        scrub_identity_header(r, ta_conf_identity_header(dc));
    }
    return DECLINED;
}

/* check_authn, run when authorization needs a user (Require valid-user,
 * Require user ...). */
static int check_authn(request_rec *r)
{
    const char *type = our_auth_type(r);
    ta_ctx_t *ctx;
    ta_error_t *e;

    if (type == NULL) {
        return DECLINED;
    }
    r->ap_auth_type = (char *)type;
    if ((e = authenticate(r, &ctx)) != NULL) {
        return unauthenticated(r, e);
    }
    set_identity(r, ctx, type);
    return OK;
}

/* fixups, every request of a location, sub-requests included (header_parser
 * does not run for those): scrubs the identity header again, then, on an
 * AuthType trpcauth location, publishes the identity -- also where
 * authorization did not need a user and check_authn never ran, so a public
 * page still knows a logged-in caller. An invalid cookie there leaves the
 * request anonymous; Redis unreachable is still 503. */
static int identity_fixups(request_rec *r)
{
    ta_dir_conf_t *dc = dir_conf(r);
    const char *type;
    ta_ctx_t *ctx;
    ta_error_t *e;

    if (ta_conf_identity_header(dc)) {
        scrub_identity_header(r, ta_conf_identity_header(dc));
    }
    if ((type = our_auth_type(r)) == NULL) {
        return DECLINED;
    }
    /* Per-user content: browsers may keep it but must ask again each time,
     * so a logout closes the page at once; shared caches never store it.
     * A handler or backend that sets its own Cache-Control overrides this. */
    if (r->main == NULL && !apr_table_get(r->headers_out, "Cache-Control")) {
        apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    }
    e = authenticate(r, &ctx);
    if (e != NULL && e->code != TA_E_UNAUTHORIZED) {
        return send_error(r, e);
    }
    if (e == NULL) {
        set_identity(r, ctx, type);
    }
    /* Last: the authentication above may still need the refresh cookie. The
     * tRPC endpoint itself needs them all. */
    if (!ta_conf_pass_cookies(dc) && !ta_handler_is_ours(r)) {
        strip_own_cookies(r, ctx->sc);
    }
    return DECLINED;
}

/* The challenge of a 401 for our AuthType (ours above, or mod_authz_core's
 * when an authenticated user is refused and AuthzSendForbiddenOnFailure is
 * off). Never Basic: a browser would open a password dialog. */
static int note_auth_failure(request_rec *r, const char *auth_type)
{
    const char *realm = ap_auth_name(r);
    const char *value = TA_AUTH_TYPE;

    if (strcasecmp(auth_type, TA_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    if (realm && *realm) {
        char *q = apr_palloc(r->pool, strlen(realm) * 2 + 1), *o = q;

        for (; *realm; realm++) {
            if (*realm == '"' || *realm == '\\') *o++ = '\\';
            *o++ = apr_iscntrl(*realm) ? ' ' : *realm;
        }
        *o = '\0';
        value = apr_psprintf(r->pool, TA_AUTH_TYPE " realm=\"%s\"", q);
    }
    apr_table_setn(r->err_headers_out,
                   r->proxyreq == PROXYREQ_PROXY ? "Proxy-Authenticate" : "WWW-Authenticate",
                   value);
    return OK;
}

void ta_authn_register_hooks(apr_pool_t *p)
{
    ap_hook_header_parser(scrub_header_parser, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE, AP_AUTH_INTERNAL_PER_CONF);
    /* Before mod_rewrite's per-directory rules and mod_headers, which may use
     * TRPCAUTH_USER_ID or the identity header. */
    ap_hook_fixups(identity_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
}
