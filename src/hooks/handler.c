/*
 * handler.c - the tRPC endpoint: CORS, body, parse, dispatch, render.
 *
 * The protocol itself lives in trpc.c; this file only moves bytes between
 * httpd and it, and resolves each call against the procedure table.
 */
#include "hooks/handler.h"
#include "hooks/context.h"
#include "hooks/metrics.h"
#include "store/metrics.h"
#include "cfg/log.h"
#include "proc/procs.h"
#include "trpc/trpc.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#define HANDLER_NAME "trpcauth"

/* ------------------------------------------------------------------ */
/* CORS                                                                */

/* The request's Origin when it is on the location's allow-list, else NULL. */
static const char *allowed_origin(ta_ctx_t *ctx)
{
    const char *origin = apr_table_get(ctx->r->headers_in, "Origin");
    apr_array_header_t *list = ctx->dc->cors_origins;
    int i;

    if (origin == NULL || list == NULL) {
        return NULL;
    }
    for (i = 0; i < list->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(list, i, const char *), origin) == 0) {
            return origin;
        }
    }
    return NULL;
}

/* Every answer to an allowed origin, errors included, carries the exact
 * origin and credentials permission (err_headers_out survives errors). */
static void add_cors_headers(ta_ctx_t *ctx, const char *origin)
{
    apr_table_t *h = ctx->r->err_headers_out;

    if (ctx->dc->cors_origins) {
        apr_table_mergen(h, "Vary", "Origin");
    }
    if (origin) {
        apr_table_setn(h, "Access-Control-Allow-Origin", origin);
        apr_table_setn(h, "Access-Control-Allow-Credentials", "true");
    }
}

/* With an allow-list configured, a request that names an Origin not on it
 * (including "null"), or that the browser marks Sec-Fetch-Site: cross-site,
 * may read, without CORS headers, but may not change anything: every method
 * other than GET/HEAD/OPTIONS is refused before its body is read or any
 * procedure runs (CONTRACT §6). A request with neither header is a
 * server-to-server call and is served normally. */
static ta_error_t *refuse_foreign_origin(ta_ctx_t *ctx, const char *allowed)
{
    request_rec *r = ctx->r;
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    int foreign_origin = allowed == NULL && apr_table_get(r->headers_in, "Origin") != NULL;
    int cross_site = allowed == NULL && site != NULL && strcasecmp(site, "cross-site") == 0;

    if (ctx->dc->cors_origins == NULL || !(foreign_origin || cross_site)
        || r->method_number == M_GET || r->method_number == M_OPTIONS) {
        return NULL;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(801)
                  "%s from an Origin not in TrpcAuthCORSOrigin refused", r->method);
    return ta_error_make(r->pool, TA_E_FORBIDDEN, "Origin not allowed");
}

/* OPTIONS on any tRPC URL: a preflight answered without authentication. */
static int answer_preflight(ta_ctx_t *ctx, const char *origin)
{
    request_rec *r = ctx->r;
    const char *req_headers = apr_table_get(r->headers_in, "Access-Control-Request-Headers");

    apr_table_setn(r->headers_out, "Allow", "GET, POST, HEAD, OPTIONS");
    if (origin) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        apr_table_set(r->err_headers_out, "Access-Control-Allow-Headers",
                      req_headers ? req_headers : "content-type, trpc-accept");
        apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", "600");
        apr_table_mergen(r->err_headers_out, "Vary", "Access-Control-Request-Headers");
    }
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* ------------------------------------------------------------------ */
/* request body                                                        */

/* Reads the body up to max bytes. Returns NULL, or PAYLOAD_TOO_LARGE /
 * BAD_REQUEST (a broken or aborted upload). */
static ta_error_t *read_body(request_rec *r, apr_off_t max, const char **body,
                             apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    char *buf;
    apr_size_t used = 0, cap;
    long n;

    *body = NULL;
    *len = 0;
    if (cl && apr_atoi64(cl) > max) {
        return ta_error_make(r->pool, TA_E_PAYLOAD_TOO_LARGE, NULL);
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        return ta_error_make(r->pool, TA_E_BAD_REQUEST, "Cannot read the request body");
    }
    if (!ap_should_client_block(r)) {
        return NULL;
    }
    cap = 8192;
    buf = apr_palloc(r->pool, cap + 1);
    for (;;) {
        if (used == cap) {
            char *bigger;
            if ((apr_off_t)cap >= max + 1) {
                return ta_error_make(r->pool, TA_E_PAYLOAD_TOO_LARGE, NULL);
            }
            cap *= 2;
            bigger = apr_palloc(r->pool, cap + 1);
            memcpy(bigger, buf, used);
            buf = bigger;
        }
        n = ap_get_client_block(r, buf + used, cap - used);
        if (n == 0) break;
        if (n < 0) {
            return ta_error_make(r->pool, TA_E_BAD_REQUEST, "Cannot read the request body");
        }
        used += (apr_size_t)n;
        if ((apr_off_t)used > max) {
            return ta_error_make(r->pool, TA_E_PAYLOAD_TOO_LARGE, NULL);
        }
    }
    buf[used] = '\0';
    *body = buf;
    *len = used;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

static ta_error_t *method_error(apr_pool_t *p, const char *method, const ta_proc_t *proc,
                                const char *path)
{
    ta_error_t *e = ta_error_make(p, TA_E_METHOD_NOT_SUPPORTED,
                                  "Unsupported %s-request to %s procedure at path \"%s\"",
                                  method, proc->kind == TA_QUERY ? "query" : "mutation",
                                  path);
    e->allow = proc->kind == TA_QUERY ? "GET" : "POST";
    return e;
}

/* Runs one call: lookup, method, authentication, input, the procedure. */
static void resolve_call(ta_ctx_t *ctx, ta_call_t *call)
{
    request_rec *r = ctx->r;
    const ta_proc_t *proc = ta_proc_lookup(call->path);
    const char *want;
    json_t *output = NULL;

    if (proc == NULL) {
        call->error = ta_error_make(r->pool, TA_E_NOT_FOUND,
                                    "No procedure found on path \"%s\"", call->path);
        return;
    }
    want = proc->kind == TA_QUERY ? "GET" : "POST";
    if (strcmp(r->method, want) != 0) {
        call->error = method_error(r->pool, r->method, proc, call->path);
        return;
    }
    if (proc->auth == TA_AUTH_SESSION
        && (call->error = ta_ctx_authenticate(ctx)) != NULL) {
        return;
    }
    /* Only now is the input decoded: an unknown procedure, a wrong method or
     * a caller without a session never costs more than the JSON parse. */
    if (proc->takes_input && (call->error = ta_trpc_call_input(r->pool, call)) != NULL) {
        return;
    }

    ctx->output_text = NULL;
    ctx->output_dates = NULL;
    call->error = proc->fn(ctx, proc->takes_input ? call->input : NULL, &output);
    call->output = call->error ? (json_decref(output), NULL) : ta_json_pool(r->pool, output);
    if (!call->error && ctx->output_text) {
        call->output_text = ctx->output_text;
        call->output_dates = ctx->output_dates;
    }
}

/* tRPC refuses a batch that mixes queries and mutations as a whole. */
static ta_error_t *check_mixed_kinds(apr_pool_t *p, const ta_trpc_req_t *req)
{
    int queries = 0, mutations = 0, i;

    for (i = 0; i < req->ncalls; i++) {
        const ta_proc_t *proc = ta_proc_lookup(req->calls[i].path);
        if (proc) {
            if (proc->kind == TA_QUERY) queries++; else mutations++;
        }
    }
    if (queries && mutations) {
        return ta_error_make(p, TA_E_BAD_REQUEST,
                             "Cannot mix procedure types in call: query, mutation");
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* response                                                            */

static void add_error_headers(request_rec *r, const ta_error_t *e)
{
    if (e->retry_after > 0) {
        apr_table_setn(r->err_headers_out, "Retry-After", apr_itoa(r->pool, e->retry_after));
    }
    if (e->allow) {
        apr_table_setn(r->err_headers_out, "Allow", e->allow);
    }
}

static int send_output(request_rec *r, const ta_trpc_out_t *out)
{
    r->status = out->status;
    ap_set_content_type(r, out->content_type);
    apr_table_mergen(r->err_headers_out, "Vary", "trpc-accept, accept");
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, (apr_off_t)out->len);
    if (!r->header_only) {
        ap_rwrite(out->body, (int)out->len, r);
    }
    return OK;
}

static int send_request_error(ta_ctx_t *ctx, const ta_error_t *e, const char *path)
{
    ta_trpc_out_t out;

    add_error_headers(ctx->r, e);
    ta_metrics_request_error(e->code);
    ta_trpc_render_error(ctx->r->pool, e, path, ta_conf_transformer(ctx->dc), &out);
    return send_output(ctx->r, &out);
}

/* path without the section prefix loc, or NULL when loc is not a prefix of
 * path at a segment boundary. */
static const char *after_prefix(const char *path, const char *loc)
{
    apr_size_t n;

    if (loc == NULL || *loc != '/') {
        return NULL;
    }
    n = strlen(loc);
    while (n > 1 && loc[n - 1] == '/') n--;
    if (strncmp(path, loc, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
        return path + n;
    }
    return NULL;
}

/* The procedure part of the URL: what follows the <Location> prefix, taken
 * from the raw (still percent-encoded) URI so it is decoded exactly once.
 * The prefix is the path of the section that set the handler (httpd's own
 * record of it, which exists even when the section holds no directive of
 * ours), else the last path segment. */
static const char *procedure_path(ta_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *uri = r->unparsed_uri ? r->unparsed_uri : r->uri;
    const char *q = strchr(uri, '?');
    const char *path = q ? apr_pstrndup(r->pool, uri, (apr_size_t)(q - uri)) : uri;
    const char *rest, *slash;

    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
        path = strchr(strstr(path, "//") + 2, '/');
        if (path == NULL) return "";
    }
    if (core && core->r == NULL && !core->d_is_fnmatch
        && (rest = after_prefix(path, core->d)) != NULL) {
        return rest;
    }
    if ((rest = after_prefix(path, ctx->dc->location)) != NULL) {
        return rest;
    }
    slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* No file lies behind a tRPC URL. httpd's own translation maps the URL
 * onto the document root, which fails a long batch URL with 403 "File name
 * too long" before the handler runs. So, as mod_proxy does, a URL whose
 * location sets our handler gets a pseudo file name here (the location walk
 * has already run), and map_to_storage skips the file system walk for it. */
#define PSEUDO_FILE_PREFIX "trpcauth:"

int ta_handler_is_ours(request_rec *r)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *handler, *err = NULL;

    if (core == NULL || core->expr_handler == NULL) {
        return 0;
    }
    handler = ap_expr_str_exec(r, core->expr_handler, &err);
    return err == NULL && handler != NULL && strcmp(handler, HANDLER_NAME) == 0;
}

int ta_handler_translate(request_rec *r)
{
    if (r->proxyreq || !ta_handler_is_ours(r)) {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, PSEUDO_FILE_PREFIX, r->uri, NULL);
    return OK;
}

int ta_handler_map_to_storage(request_rec *r)
{
    if (r->filename && strncmp(r->filename, PSEUDO_FILE_PREFIX,
                               sizeof(PSEUDO_FILE_PREFIX) - 1) == 0) {
        return OK;
    }
    return DECLINED;
}

int ta_handler(request_rec *r)
{
    ta_ctx_t *ctx;
    const char *origin, *body;
    apr_size_t body_len = 0;
    ta_trpc_raw_t raw;
    ta_trpc_req_t *req;
    ta_trpc_out_t out;
    ta_error_t *e;
    int i;

    if (r->handler == NULL || strcmp(r->handler, HANDLER_NAME) != 0) {
        return DECLINED;
    }
    ctx = ta_ctx_get(r);
    if ((e = ta_ctx_check_active(ctx)) != NULL) {
        return send_request_error(ctx, e, NULL);
    }
    origin = allowed_origin(ctx);
    add_cors_headers(ctx, origin);

    if (r->method_number == M_OPTIONS) {
        return answer_preflight(ctx, origin);
    }
    if (r->header_only) {            /* HEAD: tRPC answers 204 before anything else */
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    if ((e = refuse_foreign_origin(ctx, origin)) != NULL) {
        return send_request_error(ctx, e, NULL);
    }
    memset(&raw, 0, sizeof(raw));
    raw.method = r->method;
    raw.path = procedure_path(ctx);
    raw.query = r->args;
    raw.content_type = apr_table_get(r->headers_in, "Content-Type");
    raw.accept = apr_table_get(r->headers_in, "Accept");
    raw.trpc_accept = apr_table_get(r->headers_in, "trpc-accept");
    raw.transformer = ta_conf_transformer(ctx->dc);
    raw.max_batch = ta_conf_max_batch(ctx->dc);

    if (r->method_number != M_GET) {
        e = read_body(r, ta_conf_max_body(ctx->dc), &body, &body_len);
        if (e) {
            return send_request_error(ctx, e, NULL);
        }
        raw.body = body;
        raw.body_len = body_len;
    }
    if ((e = ta_trpc_parse(r->pool, &raw, &req)) != NULL
        || (e = check_mixed_kinds(r->pool, req)) != NULL) {
        return send_request_error(ctx, e, NULL);
    }
    for (i = 0; i < req->ncalls; i++) {
        resolve_call(ctx, &req->calls[i]);
        ta_metrics_note_call(&req->calls[i]);
        if (req->calls[i].error) {
            add_error_headers(r, req->calls[i].error);
        }
    }
    ta_trpc_render(r->pool, req, raw.transformer, &out);
    return send_output(r, &out);
}
