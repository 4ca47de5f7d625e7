/*
 * trpc/trpc.h - the tRPC HTTP protocol (v10 and v11 clients), independent of httpd.
 *
 * The handler gives ta_trpc_parse() what it read off the request; it gets back
 * either one request-level error (answered as a single error object, no path)
 * or a list of calls. It then resolves each call (procedure lookup, method
 * check, auth, the input through ta_trpc_call_input, the procedure itself),
 * fills call->output or call->error, and ta_trpc_render() produces status and
 * body. See trpc-http-protocol.md §11.
 */
#ifndef TA_TRPC_H
#define TA_TRPC_H

#include <apr_tables.h>

#include "trpc/error.h"

typedef enum { TA_TX_JSON = 0, TA_TX_SUPERJSON = 1 } ta_transformer_t;

typedef struct {
    const char *method;        /* "GET", "POST", "PUT", ... (HEAD/OPTIONS are handled before) */
    const char *path;          /* what follows the location prefix, still percent-encoded;
                                * leading and trailing '/' are ignored */
    const char *query;         /* raw query string (r->args) or NULL */
    const char *content_type;  /* Content-Type header or NULL */
    const char *accept;        /* Accept header or NULL */
    const char *trpc_accept;   /* trpc-accept header or NULL */
    const char *body;          /* request body for non-GET (may be NULL when empty) */
    apr_size_t body_len;
    ta_transformer_t transformer;
    int max_batch;             /* > 0: more calls than this is a request-level BAD_REQUEST */
} ta_trpc_raw_t;

typedef struct {
    const char *path;          /* percent-decoded procedure path, e.g. "auth.login" */
    json_t *raw_input;         /* the input as sent (for superjson still the envelope),
                                * NULL = absent; owned by the pool given to ta_trpc_parse;
                                * ta_trpc_call_input takes an envelope's "json" out of it */
    ta_transformer_t transformer; /* how raw_input is decoded */
    int input_read;            /* ta_trpc_call_input has run */
    json_t *input;             /* the decoded input, set by ta_trpc_call_input; NULL = absent */
    ta_error_t *input_error;   /* the input could not be read: bad JSON or a batch input
                                * that is not an object (ta_trpc_parse), a bad superjson
                                * envelope (ta_trpc_call_input). Only reported for
                                * procedures that take input (inputs are lazy in tRPC) */
    json_t *output;            /* set by the caller: the result, NULL = undefined;
                                * the caller hands it to the pool (ta_json_pool) */
    ta_error_t *error;         /* set by the caller when the call failed */
    const char *output_text;   /* instead of output: the result already written as plain
                                * JSON text (large lists are written straight from the
                                * database rows, without a jansson tree) */
    apr_array_header_t *output_dates; /* with output_text: the dotted paths of its Date
                                * values ("0.createdAt"), for superjson meta; or NULL */
} ta_call_t;

typedef struct {
    int batch;                 /* ?batch=1 */
    int stream;                /* httpBatchStreamLink: answer with an inline JSON-Lines head */
    int ncalls;
    ta_call_t *calls;
} ta_trpc_req_t;

/* Parses a request. Returns a request-level error (415 for a non-JSON
 * non-GET, batch too large, streaming without batch, ...) or NULL with *out set. */
ta_error_t *ta_trpc_parse(apr_pool_t *p, const ta_trpc_raw_t *raw, ta_trpc_req_t **out);

/* A call's input, decoded on first use: for superjson the envelope unwrapped
 * (ta_sj_decode_take), for JSON the item as sent. Sets call->input (NULL = absent)
 * and returns NULL, or sets and returns call->input_error; p is the pool given
 * to ta_trpc_parse. ta_trpc_parse only parses the request's JSON text: the
 * handler asks for the input of a procedure that exists, has passed its method
 * and authentication checks and takes input, so that what an input holds costs
 * nothing for any other call. */
ta_error_t *ta_trpc_call_input(apr_pool_t *p, ta_call_t *call);

typedef struct {
    int status;                /* 200, the common error status, or 207 */
    const char *content_type;  /* always "application/json" */
    const char *body;
    apr_size_t len;
} ta_trpc_out_t;

/* Renders the calls: one object for a single call, an array for a batch, an
 * inline JSONL head (status 200) when streaming. Dates in outputs (see
 * ta_sj_date) become ISO strings, with superjson meta when tx is superjson. */
void ta_trpc_render(apr_pool_t *p, const ta_trpc_req_t *req, ta_transformer_t tx,
                    ta_trpc_out_t *out);

/* Renders a request-level error: one error object without data.path.
 * path may be given for a single-call request (e.g. PAYLOAD_TOO_LARGE), else NULL. */
void ta_trpc_render_error(apr_pool_t *p, const ta_error_t *e, const char *path,
                          ta_transformer_t tx, ta_trpc_out_t *out);

#endif
