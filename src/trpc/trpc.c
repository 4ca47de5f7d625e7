/*
 * trpc.c - the tRPC HTTP protocol, independent of httpd
 * (trpc-http-protocol.md §1, §2-§7, §11).
 *
 * Parsing follows @trpc/server 11.25.2 (resolveResponse + contentType.ts):
 * path decoded with decodeURIComponent then split on ',' when batch=1, query
 * read as application/x-www-form-urlencoded, input from ?input= for GET and
 * the body otherwise, content-type gate, max batch size, stream detection.
 *
 * Choice: a path that decodeURIComponent would reject (bad %-escape, invalid
 * UTF-8) or that decodes to a NUL byte is a request-level BAD_REQUEST
 * "URI malformed" (V8's URIError text; Node turns it into a 500, but it is
 * the client's mistake).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "trpc/trpc.h"
#include "trpc/superjson.h"
#include "trpc/validate.h"

#define JSONL_TYPE "application/jsonl"

/* ---------------------------------------------------------------- helpers */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte length of the UTF-8 sequence a lead byte announces, 0 if c
 * cannot start one. */
static apr_size_t utf8_lead_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

/* A copy of s in which every byte that is not part of well-formed UTF-8
 * (and every NUL) is replaced by '?': text from the request (headers,
 * jansson's error excerpts) must be valid UTF-8 to go into a JSON string. */
static const char *utf8_sanitize(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i = 0, len;
    char *out = apr_pstrmemdup(p, s, n);

    while (i < n) {
        len = utf8_lead_len((unsigned char)out[i]);
        if (len && i + len <= n && ta_utf8_clean(out + i, len)) {
            i += len;
            continue;
        }
        out[i++] = '?';
    }
    return out;
}

/* A JSON string for text that should already be clean; sanitized if not,
 * so a stray byte can never make the renderer drop a key. */
static json_t *json_text(apr_pool_t *p, const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string(utf8_sanitize(p, s));
}

/* s without leading and trailing ASCII whitespace, as a pool string. */
static char *trim_copy(apr_pool_t *p, const char *s, apr_size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return apr_pstrmemdup(p, s, n);
}

/* ------------------------------------------------------------------ parse */

/* application/x-www-form-urlencoded decoding of n bytes ('+' is a space,
 * malformed %-escapes stay literal, like URLSearchParams). The result may
 * hold NUL bytes: its length goes to *out_len. */
static char *form_decode(apr_pool_t *p, const char *s, apr_size_t n, apr_size_t *out_len)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   hex_value((unsigned char)s[i + 1]) >= 0 &&
                   hex_value((unsigned char)s[i + 2]) >= 0) {
            out[o++] = (char)(hex_value((unsigned char)s[i + 1]) * 16 +
                              hex_value((unsigned char)s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

typedef struct {
    const char *input;       /* decoded ?input=, NULL when absent */
    apr_size_t input_len;
    const char *batch;       /* decoded ?batch=, NULL when absent */
} query_t;

/* Reads the first "input" and "batch" parameters of a raw query string. */
static void parse_query(apr_pool_t *p, const char *q, query_t *out)
{
    memset(out, 0, sizeof(*out));
    while (q && *q) {
        const char *end = q + strcspn(q, "&");
        const char *eq = memchr(q, '=', (apr_size_t)(end - q));
        const char *vstart = eq ? eq + 1 : end;
        apr_size_t name_len, value_len;
        char *name = form_decode(p, q, (apr_size_t)((eq ? eq : end) - q), &name_len);

        if (name_len == 5 && memcmp(name, "input", 5) == 0 && !out->input)
            out->input = form_decode(p, vstart, (apr_size_t)(end - vstart), &out->input_len);
        else if (name_len == 5 && memcmp(name, "batch", 5) == 0 && !out->batch)
            out->batch = form_decode(p, vstart, (apr_size_t)(end - vstart), &value_len);
        q = *end ? end + 1 : end;
    }
}

/* decodeURIComponent of the path after trimming '/' on both sides; NULL
 * when it would throw (bad escape, invalid UTF-8) or decodes a NUL. */
static char *decode_path(apr_pool_t *p, const char *path)
{
    apr_size_t n, i, o = 0;
    char *out;

    path = path ? path : "";
    while (*path == '/')
        path++;
    n = strlen(path);
    while (n && path[n - 1] == '/')
        n--;
    out = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        if (path[i] != '%') {
            out[o++] = path[i];
            continue;
        }
        if (i + 2 >= n)
            return NULL;
        if (hex_value((unsigned char)path[i + 1]) < 0 ||
            hex_value((unsigned char)path[i + 2]) < 0)
            return NULL;
        out[o++] = (char)(hex_value((unsigned char)path[i + 1]) * 16 +
                          hex_value((unsigned char)path[i + 2]));
        i += 2;
    }
    out[o] = '\0';
    return ta_utf8_clean(out, o) ? out : NULL;
}

/* The 415 gate: non-GET requests must be application/json (compared
 * case-insensitively, parameters ignored). GET never needs one, and the
 * v10 client's "content-type: application/json" on GET is fine. */
static ta_error_t *check_content_type(apr_pool_t *p, const ta_trpc_raw_t *raw)
{
    const char *ct = raw->content_type;
    char *media;

    if (raw->method && strcmp(raw->method, "GET") == 0)
        return NULL;
    if (!ct || !*trim_copy(p, ct, strlen(ct)))
        return ta_error_make(p, TA_E_UNSUPPORTED_MEDIA_TYPE, "Missing content-type header");
    media = trim_copy(p, ct, strcspn(ct, ";"));
    if (strcasecmp(media, "application/json") == 0)
        return NULL;
    return ta_error_make(p, TA_E_UNSUPPORTED_MEDIA_TYPE, "Unsupported content-type \"%s\"",
                         utf8_sanitize(p, ct));
}

/* tRPC's getAcceptHeader: trpc-accept, when present, decides alone;
 * otherwise any comma-separated token of Accept equal to application/jsonl. */
static int wants_stream(apr_pool_t *p, const ta_trpc_raw_t *raw)
{
    const char *s = raw->accept;

    if (raw->trpc_accept)
        return strcmp(trim_copy(p, raw->trpc_accept, strlen(raw->trpc_accept)),
                      JSONL_TYPE) == 0;
    while (s && *s) {
        apr_size_t len = strcspn(s, ",");
        if (strcmp(trim_copy(p, s, len), JSONL_TYPE) == 0)
            return 1;
        s += len;
        if (*s)
            s++;
    }
    return 0;
}

/* Splits the decoded path into calls: on every ',' for a batch (so
 * "a,,b" has an empty middle path, like String.split), else one call. */
static void split_calls(apr_pool_t *p, char *path, int batch, ta_trpc_req_t *req)
{
    char *s;
    int i;

    req->ncalls = 1;
    for (s = path; batch && *s; s++)
        req->ncalls += *s == ',';
    req->calls = apr_pcalloc(p, sizeof(ta_call_t) * (apr_size_t)req->ncalls);
    for (i = 0, s = path; i < req->ncalls; i++) {
        char *comma = batch ? strchr(s, ',') : NULL;
        if (comma)
            *comma = '\0';
        req->calls[i].path = s;
        s = comma ? comma + 1 : s + strlen(s);
    }
}

/* JSON.parse of the raw input, or NULL with *err set: the parse error is
 * BAD_REQUEST "<jansson's text> in JSON at position N", like V8's wording.
 * NUL escapes are allowed here; ta_validate refuses them in strings. */
static json_t *parse_raw_json(apr_pool_t *p, const char *buf, apr_size_t len,
                              ta_error_t **err)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

    if (!j)
        *err = ta_error_make(p, TA_E_BAD_REQUEST, "%s in JSON at position %d",
                             utf8_sanitize(p, je.text), je.position);
    return ta_json_pool(p, j);
}

/* Fills every call's raw input (or input_error) from the raw input text, the
 * way jsonContentTypeHandler does: absent raw -> all absent; a batch needs
 * an object keyed "0".."n-1"; errors are per call. Nothing is decoded here
 * (see ta_trpc_call_input). */
static void read_inputs(apr_pool_t *p, const char *text, apr_size_t len, ta_trpc_req_t *req)
{
    ta_error_t *err = NULL;
    json_t *doc;
    int i;

    if (!text || len == 0)
        return;
    doc = parse_raw_json(p, text, len, &err);
    if (!doc) {
        for (i = 0; i < req->ncalls; i++)
            req->calls[i].input_error = err;
        return;
    }
    if (!req->batch) {
        req->calls[0].raw_input = doc;
        return;
    }
    if (!json_is_object(doc)) {
        err = ta_error_make(p, TA_E_BAD_REQUEST,
                            "\"input\" needs to be an object when doing a batch call");
        for (i = 0; i < req->ncalls; i++)
            req->calls[i].input_error = err;
        return;
    }
    for (i = 0; i < req->ncalls; i++)
        req->calls[i].raw_input = json_object_get(doc, apr_itoa(p, i));
}

ta_error_t *ta_trpc_parse(apr_pool_t *p, const ta_trpc_raw_t *raw, ta_trpc_req_t **out)
{
    ta_trpc_req_t *req = apr_pcalloc(p, sizeof(*req));
    ta_error_t *err;
    query_t q;
    char *path;
    int i, is_get = raw->method && strcmp(raw->method, "GET") == 0;

    *out = NULL;
    if (!(path = decode_path(p, raw->path)))
        return ta_error_make(p, TA_E_BAD_REQUEST, "URI malformed");
    if ((err = check_content_type(p, raw)))
        return err;
    parse_query(p, raw->query, &q);
    req->batch = q.batch && strcmp(q.batch, "1") == 0;
    split_calls(p, path, req->batch, req);
    if (req->batch && raw->max_batch > 0 && req->ncalls > raw->max_batch)
        return ta_error_make(p, TA_E_BAD_REQUEST, "Batch call exceeds maximum size");
    req->stream = wants_stream(p, raw);
    if (req->stream && !req->batch)
        return ta_error_make(p, TA_E_BAD_REQUEST,
                             "Streaming requests must be batched (you can do a batch of 1)");

    for (i = 0; i < req->ncalls; i++)
        req->calls[i].transformer = raw->transformer;
    if (is_get)
        read_inputs(p, q.input, q.input_len, req);
    else
        read_inputs(p, raw->body, raw->body ? raw->body_len : 0, req);
    *out = req;
    return NULL;
}

ta_error_t *ta_trpc_call_input(apr_pool_t *p, ta_call_t *call)
{
    json_t *value = NULL;

    if (call->input_read || call->input_error)
        return call->input_error;
    call->input_read = 1;
    if (call->transformer != TA_TX_SUPERJSON) {
        call->input = call->raw_input;
        return NULL;
    }
    call->input_error = ta_sj_decode_take(p, call->raw_input, &value);
    call->input = ta_json_pool(p, value);
    return call->input_error;
}

/* ----------------------------------------------------------------- render */

/* The error shape, keys in tRPC's order:
 * {"message","code","data":{"code","httpStatus","path"?,"zodError"}}. */
static json_t *error_shape(apr_pool_t *p, const ta_error_t *e, const char *path)
{
    json_t *data = json_object();
    json_t *shape = json_object();

    json_object_set_new(data, "code", json_string(ta_code_key(e->code)));
    json_object_set_new(data, "httpStatus", json_integer(ta_code_http(e->code)));
    if (path)
        json_object_set_new(data, "path", json_text(p, path));
    json_object_set_new(data, "zodError", e->zod ? json_incref(e->zod) : json_null());

    json_object_set_new(shape, "message", json_text(p, e->message ? e->message
                                                                  : ta_code_key(e->code)));
    json_object_set_new(shape, "code", json_integer(ta_code_jsonrpc(e->code)));
    json_object_set_new(shape, "data", data);
    return shape;
}

/* {"error": shape} or, for superjson, {"error": {"json": shape}}. */
static json_t *error_item(apr_pool_t *p, const ta_error_t *e, const char *path, int sj_wrap)
{
    json_t *shape = error_shape(p, e, path);
    json_t *wrapped;

    if (!sj_wrap)
        return json_pack("{s:o}", "error", shape);
    wrapped = ta_sj_encode(shape);
    json_decref(shape);
    return json_pack("{s:o}", "error", wrapped);
}

/* One call's response item. sj_wrap: data/error wrapped in superjson
 * envelopes (non-stream superjson). values: when not NULL (a superjson JSONL
 * line), Date paths are collected under "<index>.0.0.result.data" instead. */
static json_t *call_item(apr_pool_t *p, const ta_call_t *c, int index, int sj_wrap,
                         json_t *values)
{
    json_t *data;

    if (c->error)
        return error_item(p, c->error, c->path, sj_wrap);
    if (sj_wrap)
        return json_pack("{s:{s:o}}", "result", "data", ta_sj_encode(c->output));
    if (!c->output)
        return json_pack("{s:{}}", "result");
    data = values ? ta_sj_plain_collect(c->output,
                                        apr_psprintf(p, "%d.0.0.result.data", index), values)
                  : ta_sj_plain_take(c->output);   /* rendered once, then only freed */
    return json_pack("{s:{s:o}}", "result", "data", data);
}

/* The HTTP status of one call: 200 on success, else its error's status. */
static int call_status(const ta_call_t *c)
{
    return c->error ? ta_code_http(c->error->code) : 200;
}

/* tRPC's getHTTPStatusCode: the common status of all calls, or 207. */
static int batch_status(const ta_trpc_req_t *req)
{
    int status = req->ncalls ? call_status(&req->calls[0]) : 200;
    int i;

    for (i = 1; i < req->ncalls; i++)
        if (call_status(&req->calls[i]) != status)
            return 207;
    return status;
}

/* Compact JSON text of doc in the pool, releasing doc; NULL if it cannot be
 * serialised. */
static const char *dump(apr_pool_t *p, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy = text ? apr_pstrdup(p, text) : NULL;

    json_decref(doc);
    free(text);
    return copy;
}

/* The meta values object text {"<prefix>path":["Date"],...} of a text
 * output's Date paths; prefix ends with "." or is "". */
static const char *text_date_values(apr_pool_t *p, const ta_call_t *c, const char *prefix,
                                    json_t *into)
{
    json_t *values = into ? into : json_object();
    int i;

    for (i = 0; c->output_dates && i < c->output_dates->nelts; i++) {
        json_object_set_new(values,
                            apr_pstrcat(p, prefix, APR_ARRAY_IDX(c->output_dates, i,
                                                                 const char *), NULL),
                            json_pack("[s]", "Date"));
    }
    return into ? NULL : (json_object_size(values) ? dump(p, values)
                                                   : (json_decref(values), (const char *)NULL));
}

/* The text of one call's response item; like call_item, but a result given
 * as text (output_text) is spliced in as it is instead of being re-encoded. */
static const char *item_text(apr_pool_t *p, const ta_call_t *c, int index, int sj_wrap,
                             json_t *values)
{
    const char *meta;

    if (c->error || !c->output_text)
        return dump(p, call_item(p, c, index, sj_wrap, values));
    if (values) {
        text_date_values(p, c, apr_psprintf(p, "%d.0.0.result.data.", index), values);
        return apr_pstrcat(p, "{\"result\":{\"data\":", c->output_text, "}}", NULL);
    }
    if (!sj_wrap)
        return apr_pstrcat(p, "{\"result\":{\"data\":", c->output_text, "}}", NULL);
    meta = text_date_values(p, c, "", NULL);
    return apr_pstrcat(p, "{\"result\":{\"data\":{\"json\":", c->output_text,
                       meta ? ",\"meta\":{\"values\":" : "", meta ? meta : "",
                       meta ? ",\"v\":1}" : "", "}}}", NULL);
}

/* Sets the body, or a fixed 500 body when something could not be serialised. */
static void set_text(const char *text, ta_trpc_out_t *out)
{
    out->content_type = "application/json";
    if (!text) {
        out->status = 500;
        text = "{\"error\":{\"message\":\"Response serialization failed\",\"code\":-32603,"
               "\"data\":{\"code\":\"INTERNAL_SERVER_ERROR\",\"httpStatus\":500,"
               "\"zodError\":null}}}";
    }
    out->body = text;
    out->len = strlen(text);
}

/* The items of all calls joined: "[i0,i1]" for a batch, or the inline JSONL
 * head {"0":[[i0]],"1":[[i1]]} for a stream (values: superjson Date paths
 * into the line). NULL when an item could not be serialised. */
static const char *join_items(apr_pool_t *p, const ta_trpc_req_t *req, int sj_wrap,
                              int stream, json_t *values)
{
    apr_array_header_t *parts = apr_array_make(p, req->ncalls * 3 + 2, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(parts, const char *) = stream ? "{" : "[";
    for (i = 0; i < req->ncalls; i++) {
        const char *item = item_text(p, &req->calls[i], i, stream ? 0 : sj_wrap, values);
        if (!item)
            return NULL;
        APR_ARRAY_PUSH(parts, const char *) =
            stream ? apr_psprintf(p, "%s\"%d\":[[", i ? "," : "", i) : (i ? "," : "");
        APR_ARRAY_PUSH(parts, const char *) = item;
        if (stream)
            APR_ARRAY_PUSH(parts, const char *) = "]]";
    }
    APR_ARRAY_PUSH(parts, const char *) = stream ? "}" : "]";
    return apr_array_pstrcat(p, parts, 0);
}

/* The inline JSONL line; for superjson the whole line is one envelope whose
 * meta paths point into the line. */
static const char *stream_line(apr_pool_t *p, const ta_trpc_req_t *req, ta_transformer_t tx)
{
    json_t *values = tx == TA_TX_SUPERJSON ? json_object() : NULL;
    const char *line = join_items(p, req, 0, 1, values);
    const char *meta;

    if (!line || !values) {
        json_decref(values);
        return line ? apr_pstrcat(p, line, "\n", NULL) : NULL;
    }
    meta = json_object_size(values) ? dump(p, values) : (json_decref(values), NULL);
    return apr_pstrcat(p, "{\"json\":", line, meta ? ",\"meta\":{\"values\":" : "",
                       meta ? meta : "", meta ? ",\"v\":1}" : "", "}\n", NULL);
}

void ta_trpc_render(apr_pool_t *p, const ta_trpc_req_t *req, ta_transformer_t tx,
                    ta_trpc_out_t *out)
{
    int sj_wrap = tx == TA_TX_SUPERJSON;

    if (req->stream) {
        out->status = 200;
        set_text(stream_line(p, req, tx), out);
        return;
    }
    out->status = batch_status(req);
    if (!req->batch && req->ncalls == 1) {
        set_text(item_text(p, &req->calls[0], 0, sj_wrap, NULL), out);
        return;
    }
    set_text(join_items(p, req, sj_wrap, 0, NULL), out);
}

void ta_trpc_render_error(apr_pool_t *p, const ta_error_t *e, const char *path,
                          ta_transformer_t tx, ta_trpc_out_t *out)
{
    out->status = ta_code_http(e->code);
    set_text(dump(p, error_item(p, e, path, tx == TA_TX_SUPERJSON)), out);
}
