/*
 * error.c - tRPC error codes (v11 table, trpc-http-protocol.md §3.1) and
 * errors as pool-allocated values.
 */
#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

#include "trpc/error.h"

typedef struct {
    const char *key;
    int jsonrpc;
    int http;
} code_row_t;

/* Indexed by ta_code_t; the order must follow the enum. */
static const code_row_t code_table[TA_E__COUNT] = {
    [TA_E_PARSE_ERROR]            = { "PARSE_ERROR",            -32700, 400 },
    [TA_E_BAD_REQUEST]            = { "BAD_REQUEST",            -32600, 400 },
    [TA_E_UNAUTHORIZED]           = { "UNAUTHORIZED",           -32001, 401 },
    [TA_E_PAYMENT_REQUIRED]       = { "PAYMENT_REQUIRED",       -32002, 402 },
    [TA_E_FORBIDDEN]              = { "FORBIDDEN",              -32003, 403 },
    [TA_E_NOT_FOUND]              = { "NOT_FOUND",              -32004, 404 },
    [TA_E_METHOD_NOT_SUPPORTED]   = { "METHOD_NOT_SUPPORTED",   -32005, 405 },
    [TA_E_TIMEOUT]                = { "TIMEOUT",                -32008, 408 },
    [TA_E_CONFLICT]               = { "CONFLICT",               -32009, 409 },
    [TA_E_PRECONDITION_FAILED]    = { "PRECONDITION_FAILED",    -32012, 412 },
    [TA_E_PAYLOAD_TOO_LARGE]      = { "PAYLOAD_TOO_LARGE",      -32013, 413 },
    [TA_E_UNSUPPORTED_MEDIA_TYPE] = { "UNSUPPORTED_MEDIA_TYPE", -32015, 415 },
    [TA_E_UNPROCESSABLE_CONTENT]  = { "UNPROCESSABLE_CONTENT",  -32022, 422 },
    [TA_E_PRECONDITION_REQUIRED]  = { "PRECONDITION_REQUIRED",  -32028, 428 },
    [TA_E_TOO_MANY_REQUESTS]      = { "TOO_MANY_REQUESTS",      -32029, 429 },
    [TA_E_CLIENT_CLOSED_REQUEST]  = { "CLIENT_CLOSED_REQUEST",  -32099, 499 },
    [TA_E_INTERNAL_SERVER_ERROR]  = { "INTERNAL_SERVER_ERROR",  -32603, 500 },
    [TA_E_NOT_IMPLEMENTED]        = { "NOT_IMPLEMENTED",        -32603, 501 },
    [TA_E_BAD_GATEWAY]            = { "BAD_GATEWAY",            -32603, 502 },
    [TA_E_SERVICE_UNAVAILABLE]    = { "SERVICE_UNAVAILABLE",    -32603, 503 },
    [TA_E_GATEWAY_TIMEOUT]        = { "GATEWAY_TIMEOUT",        -32603, 504 },
};

/* The table row of a code; out-of-range codes read as INTERNAL_SERVER_ERROR
 * so a corrupted value can never index past the table. */
static const code_row_t *code_row(ta_code_t code)
{
    if ((int)code < 0 || code >= TA_E__COUNT)
        return &code_table[TA_E_INTERNAL_SERVER_ERROR];
    return &code_table[code];
}

const char *ta_code_key(ta_code_t code) { return code_row(code)->key; }
int ta_code_jsonrpc(ta_code_t code) { return code_row(code)->jsonrpc; }
int ta_code_http(ta_code_t code) { return code_row(code)->http; }

/* printf into the pool. libc's vsnprintf is used (not apr_pvsprintf) so the
 * format means exactly what the printf format attribute checks. */
static char *pool_vprintf(apr_pool_t *p, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *buf;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return apr_pstrdup(p, fmt);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    return buf;
}

ta_error_t *ta_error_make(apr_pool_t *p, ta_code_t code, const char *fmt, ...)
{
    ta_error_t *e = apr_pcalloc(p, sizeof(*e));
    va_list ap;

    e->code = code;
    if (fmt) {
        va_start(ap, fmt);
        e->message = pool_vprintf(p, fmt, ap);
        va_end(ap);
    } else {
        e->message = ta_code_key(code);
    }
    return e;
}

static apr_status_t json_decref_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *ta_json_pool(apr_pool_t *p, json_t *j)
{
    if (j)
        apr_pool_cleanup_register(p, j, json_decref_cleanup, apr_pool_cleanup_null);
    return j;
}
