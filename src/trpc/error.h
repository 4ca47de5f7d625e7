/*
 * trpc/error.h - tRPC errors as values.
 *
 * Every unit reports failure by returning a ta_error_t (NULL means success).
 * The protocol layer (trpc/trpc.h) turns it into the wire shape in one place:
 *   {"message", "code": <JSON-RPC number>, "data": {"code", "httpStatus", "path"?, "zodError"}}
 * The code table is tRPC v11's (trpc-http-protocol.md §3.1).
 */
#ifndef TA_ERROR_H
#define TA_ERROR_H

#include <apr_pools.h>
#include <jansson.h>

typedef enum {
    TA_E_PARSE_ERROR = 0,
    TA_E_BAD_REQUEST,
    TA_E_UNAUTHORIZED,
    TA_E_PAYMENT_REQUIRED,
    TA_E_FORBIDDEN,
    TA_E_NOT_FOUND,
    TA_E_METHOD_NOT_SUPPORTED,
    TA_E_TIMEOUT,
    TA_E_CONFLICT,
    TA_E_PRECONDITION_FAILED,
    TA_E_PAYLOAD_TOO_LARGE,
    TA_E_UNSUPPORTED_MEDIA_TYPE,
    TA_E_UNPROCESSABLE_CONTENT,
    TA_E_PRECONDITION_REQUIRED,
    TA_E_TOO_MANY_REQUESTS,
    TA_E_CLIENT_CLOSED_REQUEST,
    TA_E_INTERNAL_SERVER_ERROR,
    TA_E_NOT_IMPLEMENTED,
    TA_E_BAD_GATEWAY,
    TA_E_SERVICE_UNAVAILABLE,
    TA_E_GATEWAY_TIMEOUT,
    TA_E__COUNT
} ta_code_t;

typedef struct ta_error {
    ta_code_t code;
    const char *message;   /* never NULL once made; defaults to the code key */
    json_t *zod;           /* flattened zod error {formErrors:[..], fieldErrors:{..}}
                            * for input validation failures, else NULL (rendered as null).
                            * Owned by the pool the error was made in. */
    int retry_after;       /* seconds for Retry-After (TOO_MANY_REQUESTS), 0 = none */
    const char *allow;     /* Allow header for METHOD_NOT_SUPPORTED, else NULL */
} ta_error_t;

/* "BAD_REQUEST", -32600, 400 ... for a code. */
const char *ta_code_key(ta_code_t code);
int ta_code_jsonrpc(ta_code_t code);
int ta_code_http(ta_code_t code);

/* Make an error in pool p; fmt may be NULL (message = code key). */
ta_error_t *ta_error_make(apr_pool_t *p, ta_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Hand a json_t reference to pool p: json_decref runs when p is cleared.
 * Returns j, so it can wrap an expression. NULL is passed through. */
json_t *ta_json_pool(apr_pool_t *p, json_t *j);

#endif
