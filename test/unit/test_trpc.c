/* Unit tests for src/trpc/trpc.c: request parsing and exact response bytes
 * (examples from docs/trpc-http-protocol.md). */
#include <string.h>

#include <apr_strings.h>

#include "unit.h"
#include "trpc/trpc.h"
#include "trpc/superjson.h"
#include "trpc/validate.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, e.text);
    return ta_json_pool(pool, j);
}

static const char *dump(const json_t *j)
{
    char *s;
    const char *copy;
    if (!j)
        return "<absent>";
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    copy = apr_pstrdup(pool, s);
    free(s);
    return copy;
}

static ta_trpc_raw_t get_raw(const char *path, const char *query)
{
    ta_trpc_raw_t raw = { .method = "GET", .path = path, .query = query };
    return raw;
}

static ta_trpc_raw_t post_raw(const char *path, const char *query, const char *body)
{
    ta_trpc_raw_t raw = { .method = "POST", .path = path, .query = query,
                          .content_type = "application/json",
                          .body = body, .body_len = body ? strlen(body) : 0 };
    return raw;
}

/* Parses a request that must not fail at request level. */
static ta_trpc_req_t *parse_ok(const ta_trpc_raw_t *raw)
{
    ta_trpc_req_t *req = NULL;
    ta_error_t *e = ta_trpc_parse(pool, raw, &req);
    ck_assert_msg(e == NULL, "unexpected request error: %s", e ? e->message : "");
    ck_assert_ptr_nonnull(req);
    return req;
}

/* The decoded input of call i, as the handler asks for it (for a procedure
 * that takes input). */
static json_t *input_of(ta_trpc_req_t *req, int i)
{
    ta_trpc_call_input(pool, &req->calls[i]);
    return req->calls[i].input;
}

/* The input error of call i once its input is asked for. */
static ta_error_t *input_error_of(ta_trpc_req_t *req, int i)
{
    return ta_trpc_call_input(pool, &req->calls[i]);
}

/* Parses a request that must fail at request level; returns the error. */
static ta_error_t *parse_fail(const ta_trpc_raw_t *raw)
{
    ta_trpc_req_t *req = (ta_trpc_req_t *)0x1;
    ta_error_t *e = ta_trpc_parse(pool, raw, &req);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(req);
    return e;
}

static const char *render(const ta_trpc_req_t *req, ta_transformer_t tx, int *status)
{
    ta_trpc_out_t out = { 0 };
    ta_trpc_render(pool, req, tx, &out);
    ck_assert_str_eq(out.content_type, "application/json");
    ck_assert_uint_eq(out.len, strlen(out.body));
    *status = out.status;
    return out.body;
}

static const char *render_error(const ta_error_t *e, const char *path, ta_transformer_t tx,
                                int *status)
{
    ta_trpc_out_t out = { 0 };
    ta_trpc_render_error(pool, e, path, tx, &out);
    ck_assert_str_eq(out.content_type, "application/json");
    *status = out.status;
    return out.body;
}

/* What the handler does for an unknown path. */
static void not_found(ta_call_t *c)
{
    c->error = ta_error_make(pool, TA_E_NOT_FOUND, "No procedure found on path \"%s\"", c->path);
}

#define HELLO_OK "{\"result\":{\"data\":{\"text\":\"hello world\"}}}"
#define NOPE_404 "{\"error\":{\"message\":\"No procedure found on path \\\"nope\\\"\",\"code\":-32004," \
                 "\"data\":{\"code\":\"NOT_FOUND\",\"httpStatus\":404,\"path\":\"nope\",\"zodError\":null}}}"
#define D1 "2024-01-02T03:04:05.000Z"

/* ----------------------------------------------------------- single calls */

START_TEST(single_success_and_input)
{
    ta_trpc_raw_t raw = get_raw("/hello", "input=%7B%22name%22%3A%22x%22%7D");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_int_eq(req->batch, 0);
    ck_assert_int_eq(req->stream, 0);
    ck_assert_int_eq(req->ncalls, 1);
    ck_assert_str_eq(req->calls[0].path, "hello");
    ck_assert_str_eq(dump(input_of(req, 0)), "{\"name\":\"x\"}");
    ck_assert_ptr_null(req->calls[0].input_error);
    req->calls[0].output = J("{\"text\":\"hello world\"}");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), HELLO_OK);
    ck_assert_int_eq(status, 200);
}
END_TEST

START_TEST(single_not_found_shape)
{
    ta_trpc_raw_t raw = get_raw("nope", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_ptr_null(input_of(req, 0));
    not_found(&req->calls[0]);
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), NOPE_404);
    ck_assert_int_eq(status, 404);
}
END_TEST

START_TEST(undefined_output_and_null_output)
{
    ta_trpc_raw_t raw = get_raw("undef", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_str_eq(render(req, TA_TX_JSON, &status), "{\"result\":{}}");
    ck_assert_int_eq(status, 200);
    req->calls[0].output = J("null");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), "{\"result\":{\"data\":null}}");
}
END_TEST

START_TEST(path_slashes_and_empty)
{
    ta_trpc_raw_t raw = get_raw("//auth.login//", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    ck_assert_str_eq(req->calls[0].path, "auth.login");

    raw = get_raw("", NULL);
    req = parse_ok(&raw);
    ck_assert_int_eq(req->ncalls, 1);
    ck_assert_str_eq(req->calls[0].path, "");
    raw = get_raw(NULL, "batch=1");
    req = parse_ok(&raw);
    ck_assert_int_eq(req->ncalls, 1);
    ck_assert_str_eq(req->calls[0].path, "");
}
END_TEST

START_TEST(path_percent_decoding)
{
    ta_trpc_raw_t raw = get_raw("caf%C3%A9.x%2By", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    ck_assert_str_eq(req->calls[0].path, "caf\xc3\xa9.x+y");

    /* '+' in a path is not a space (decodeURIComponent). */
    raw = get_raw("a+b", NULL);
    ck_assert_str_eq(parse_ok(&raw)->calls[0].path, "a+b");

    /* Malformed: request-level BAD_REQUEST "URI malformed". */
    raw = get_raw("a%zz", NULL);
    ck_assert_str_eq(parse_fail(&raw)->message, "URI malformed");
    raw = get_raw("a%4", NULL);
    ck_assert_int_eq(parse_fail(&raw)->code, TA_E_BAD_REQUEST);
    raw = get_raw("a%00b", NULL);
    ck_assert_str_eq(parse_fail(&raw)->message, "URI malformed");
    raw = get_raw("a%FFb", NULL);
    ck_assert_str_eq(parse_fail(&raw)->message, "URI malformed");
}
END_TEST

/* ------------------------------------------------------------------ batch */

START_TEST(batch_mixed_is_207)
{
    ta_trpc_raw_t raw = get_raw("hello,nope", "batch=1");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_int_eq(req->batch, 1);
    ck_assert_int_eq(req->ncalls, 2);
    req->calls[0].output = J("{\"text\":\"hello world\"}");
    not_found(&req->calls[1]);
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), "[" HELLO_OK "," NOPE_404 "]");
    ck_assert_int_eq(status, 207);
}
END_TEST

START_TEST(batch_same_status)
{
    ta_trpc_raw_t raw = get_raw("hello,noInput", "batch=1");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    req->calls[0].output = J("{\"text\":\"hello world\"}");
    req->calls[1].output = J("\"hi\"");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "[" HELLO_OK ",{\"result\":{\"data\":\"hi\"}}]");
    ck_assert_int_eq(status, 200);

    req->calls[0].error = ta_error_make(pool, TA_E_UNAUTHORIZED, NULL);
    req->calls[1].error = ta_error_make(pool, TA_E_UNAUTHORIZED, "bad creds");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "[{\"error\":{\"message\":\"UNAUTHORIZED\",\"code\":-32001,\"data\":{\"code\":\"UNAUTHORIZED\","
                     "\"httpStatus\":401,\"path\":\"hello\",\"zodError\":null}}},"
                     "{\"error\":{\"message\":\"bad creds\",\"code\":-32001,\"data\":{\"code\":\"UNAUTHORIZED\","
                     "\"httpStatus\":401,\"path\":\"noInput\",\"zodError\":null}}}]");
    ck_assert_int_eq(status, 401);

    /* 400 + 404 -> 207 */
    req->calls[0].error = ta_error_make(pool, TA_E_BAD_REQUEST, NULL);
    not_found(&req->calls[1]);
    render(req, TA_TX_JSON, &status);
    ck_assert_int_eq(status, 207);
}
END_TEST

START_TEST(batch_of_one_is_array)
{
    ta_trpc_raw_t raw = get_raw("hello", "batch=1&input=%7B%220%22%3A%7B%22name%22%3A%22x%22%7D%7D");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_str_eq(dump(input_of(req, 0)), "{\"name\":\"x\"}");
    req->calls[0].output = J("{\"text\":\"hello world\"}");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), "[" HELLO_OK "]");
}
END_TEST

START_TEST(batch_flag_must_be_1)
{
    ta_trpc_raw_t raw = get_raw("hello,noInput", "batch=true");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    ck_assert_int_eq(req->batch, 0);
    ck_assert_int_eq(req->ncalls, 1);
    ck_assert_str_eq(req->calls[0].path, "hello,noInput");
    req->calls[0].output = J("1");
    ck_assert_str_eq(render(req, TA_TX_JSON, &status), "{\"result\":{\"data\":1}}");

    raw = get_raw("a,b", "batch=01");
    ck_assert_int_eq(parse_ok(&raw)->ncalls, 1);
    /* The first batch param wins; %31 is "1". */
    raw = get_raw("a,b", "batch=%31&batch=0");
    ck_assert_int_eq(parse_ok(&raw)->ncalls, 2);
    raw = get_raw("a,b", "batch=0&batch=1");
    ck_assert_int_eq(parse_ok(&raw)->ncalls, 1);
}
END_TEST

START_TEST(batch_split_after_decoding)
{
    ta_trpc_raw_t raw = get_raw("hello%2CnoInput", "batch=1");
    ta_trpc_req_t *req = parse_ok(&raw);

    ck_assert_int_eq(req->ncalls, 2);
    ck_assert_str_eq(req->calls[0].path, "hello");
    ck_assert_str_eq(req->calls[1].path, "noInput");

    raw = get_raw("a,,b,", "batch=1");
    req = parse_ok(&raw);
    ck_assert_int_eq(req->ncalls, 4);   /* like String.split: a, "", b, "" */
    ck_assert_str_eq(req->calls[1].path, "");
    ck_assert_str_eq(req->calls[2].path, "b");
    ck_assert_str_eq(req->calls[3].path, "");
}
END_TEST

START_TEST(batch_inputs)
{
    /* {} -> all absent; missing entries absent; extra keys ignored; null is null. */
    ta_trpc_raw_t raw = get_raw("hello,nope,undef", "batch=1&input=%7B%7D");
    ta_trpc_req_t *req = parse_ok(&raw);
    int i;

    for (i = 0; i < 3; i++) {
        ck_assert_ptr_null(input_of(req, i));
        ck_assert_ptr_null(req->calls[i].input_error);
    }
    raw = post_raw("a,b,c", "batch=1", "{\"2\":{\"x\":1},\"0\":null,\"7\":5,\"x\":1}");
    req = parse_ok(&raw);
    ck_assert_str_eq(dump(input_of(req, 0)), "null");
    ck_assert_ptr_null(input_of(req, 1));
    ck_assert_str_eq(dump(input_of(req, 2)), "{\"x\":1}");
}
END_TEST

START_TEST(batch_input_not_object)
{
    const char *bodies[] = { "[1]", "5", "\"x\"", "null" };
    size_t k;

    for (k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
        ta_trpc_raw_t raw = post_raw("a,b", "batch=1", bodies[k]);
        ta_trpc_req_t *req = parse_ok(&raw);
        int i, status;
        for (i = 0; i < 2; i++) {
            ck_assert_ptr_null(input_of(req, i));
            ck_assert_ptr_nonnull(req->calls[i].input_error);
            ck_assert_str_eq(req->calls[i].input_error->message,
                             "\"input\" needs to be an object when doing a batch call");
        }
        req->calls[0].error = req->calls[0].input_error;
        req->calls[1].output = J("1");
        ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                         "[{\"error\":{\"message\":\"\\\"input\\\" needs to be an object when doing a batch call\","
                         "\"code\":-32600,\"data\":{\"code\":\"BAD_REQUEST\",\"httpStatus\":400,\"path\":\"a\","
                         "\"zodError\":null}}},{\"result\":{\"data\":1}}]");
        ck_assert_int_eq(status, 207);
    }
}
END_TEST

START_TEST(max_batch)
{
    ta_trpc_raw_t raw = get_raw("a,b,c", "batch=1");
    ta_error_t *e;
    int status;

    raw.max_batch = 2;
    e = parse_fail(&raw);
    ck_assert_str_eq(render_error(e, NULL, TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"Batch call exceeds maximum size\",\"code\":-32600,"
                     "\"data\":{\"code\":\"BAD_REQUEST\",\"httpStatus\":400,\"zodError\":null}}}");
    ck_assert_int_eq(status, 400);
    raw.max_batch = 3;
    ck_assert_int_eq(parse_ok(&raw)->ncalls, 3);
    /* Not a batch: the limit does not apply. */
    raw = get_raw("a,b,c", NULL);
    raw.max_batch = 1;
    ck_assert_int_eq(parse_ok(&raw)->ncalls, 1);
}
END_TEST

/* ---------------------------------------------------------- query/body */

START_TEST(query_form_decoding)
{
    /* '+' is a space in the query (URLSearchParams). */
    ta_trpc_raw_t raw = get_raw("hello", "x=1&input=%7B%22name%22%3A%22a+b%22%7D&input=%7B%7D");
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "{\"name\":\"a b\"}");

    /* Malformed %-escapes stay literal: here they make the JSON invalid. */
    raw = get_raw("hello", "input=%7B%22n%22%3A%22%zz%22%7D");
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "{\"n\":\"%zz\"}");

    /* Empty and missing input -> absent. */
    raw = get_raw("hello", "input=");
    ck_assert_ptr_null(input_of(parse_ok(&raw), 0));
    raw = get_raw("hello", "input");
    ck_assert_ptr_null(input_of(parse_ok(&raw), 0));
    raw = get_raw("hello", "&&=&");
    ck_assert_ptr_null(input_of(parse_ok(&raw), 0));

    /* JSON null is a value, not absent. */
    raw = get_raw("hello", "input=null");
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "null");
}
END_TEST

START_TEST(body_vs_query)
{
    /* GET ignores the body; POST ignores ?input=. */
    ta_trpc_raw_t raw = get_raw("hello", "input=1");
    ta_trpc_req_t *req;

    raw.body = "2";
    raw.body_len = 1;
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "1");

    raw = post_raw("auth.login", "input=1", "{\"username\":\"a\",\"password\":\"wrong\"}");
    req = parse_ok(&raw);
    ck_assert_str_eq(dump(input_of(req, 0)), "{\"username\":\"a\",\"password\":\"wrong\"}");

    /* Empty body -> absent (mutation without input). */
    raw = post_raw("echoM", NULL, "");
    ck_assert_ptr_null(input_of(parse_ok(&raw), 0));
    raw = post_raw("echoM", NULL, NULL);
    ck_assert_ptr_null(input_of(parse_ok(&raw), 0));

    /* body_len is what counts. */
    raw = post_raw("echoM", NULL, "{}garbage");
    raw.body_len = 2;
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "{}");
}
END_TEST

START_TEST(malformed_json)
{
    ta_trpc_raw_t raw = get_raw("hello", "input=%7Bbad");
    ta_trpc_req_t *req = parse_ok(&raw);
    ta_error_t *e = req->calls[0].input_error;
    int status;

    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(input_of(req, 0));
    ck_assert_int_eq(e->code, TA_E_BAD_REQUEST);
    /* jansson's text and offset (V8 would say "Expected property name or '}' in
     * JSON at position 1"; the client does not parse the message). */
    ck_assert_str_eq(e->message, "string or '}' expected near 'bad' in JSON at position 4");

    req->calls[0].error = e;
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     apr_psprintf(pool, "{\"error\":{\"message\":\"%s\",\"code\":-32600,\"data\":{\"code\":"
                                  "\"BAD_REQUEST\",\"httpStatus\":400,\"path\":\"hello\",\"zodError\":null}}}",
                                  e->message));
    ck_assert_int_eq(status, 400);

    /* In a batch every call gets the error. */
    raw = post_raw("a,b", "batch=1", "{\"0\":");
    req = parse_ok(&raw);
    ck_assert_ptr_nonnull(req->calls[0].input_error);
    ck_assert_ptr_nonnull(req->calls[1].input_error);

    /* Whitespace-only is not empty: a parse error. */
    raw = post_raw("a", NULL, "   ");
    ck_assert_ptr_nonnull(parse_ok(&raw)->calls[0].input_error);
}
END_TEST

START_TEST(deep_nesting)
{
    int depth = 10000, i;
    char *body = apr_palloc(pool, (apr_size_t)depth * 2 + 1);
    ta_trpc_raw_t raw;
    ta_trpc_req_t *req;

    for (i = 0; i < depth; i++) {
        body[i] = '[';
        body[depth + i] = ']';
    }
    body[2 * depth] = '\0';
    raw = post_raw("a", NULL, body);
    req = parse_ok(&raw);
    ck_assert_ptr_null(input_of(req, 0));
    ck_assert_ptr_nonnull(req->calls[0].input_error);
    ck_assert_int_eq(req->calls[0].input_error->code, TA_E_BAD_REQUEST);
}
END_TEST

START_TEST(invalid_utf8_body)
{
    ta_trpc_raw_t raw = post_raw("a", NULL, "{\"email\":\"\xff\xfe\"}");
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;
    const char *body;

    ck_assert_ptr_nonnull(req->calls[0].input_error);
    /* The error message must itself be renderable JSON (valid UTF-8). */
    req->calls[0].error = req->calls[0].input_error;
    body = render(req, TA_TX_JSON, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_ptr_nonnull(J(body));
    ck_assert_int_eq(ta_utf8_clean(body, strlen(body)), 1);
}
END_TEST

START_TEST(nul_escape_parses)
{
    /* \u0000 parses (JSON_ALLOW_NUL); the validator rejects it later. */
    ta_trpc_raw_t raw = post_raw("a", NULL, "{\"email\":\"a\\u0000b\"}");
    ta_trpc_req_t *req = parse_ok(&raw);
    ck_assert_ptr_null(req->calls[0].input_error);
    ck_assert_int_eq(json_string_length(json_object_get(input_of(req, 0), "email")), 3);
}
END_TEST

/* ----------------------------------------------------------- content type */

START_TEST(content_type_gate)
{
    ta_trpc_raw_t raw = post_raw("auth.login", NULL, "{}");
    ta_error_t *e;
    int status;

    raw.content_type = NULL;
    e = parse_fail(&raw);
    ck_assert_str_eq(render_error(e, NULL, TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"Missing content-type header\",\"code\":-32015,"
                     "\"data\":{\"code\":\"UNSUPPORTED_MEDIA_TYPE\",\"httpStatus\":415,\"zodError\":null}}}");
    ck_assert_int_eq(status, 415);

    raw.content_type = "";
    ck_assert_str_eq(parse_fail(&raw)->message, "Missing content-type header");
    raw.content_type = "text/plain";
    ck_assert_str_eq(parse_fail(&raw)->message, "Unsupported content-type \"text/plain\"");
    raw.content_type = "application/jsonx";
    ck_assert_int_eq(parse_fail(&raw)->code, TA_E_UNSUPPORTED_MEDIA_TYPE);
    raw.content_type = "multipart/form-data; boundary=x";
    ck_assert_int_eq(parse_fail(&raw)->code, TA_E_UNSUPPORTED_MEDIA_TYPE);
    raw.content_type = "text/\xff";
    ck_assert_str_eq(parse_fail(&raw)->message, "Unsupported content-type \"text/?\"");

    /* Case-insensitive, parameters ignored. */
    raw.content_type = "Application/JSON; charset=utf-8";
    parse_ok(&raw);
    raw.content_type = " application/json ";
    parse_ok(&raw);

    /* PUT with JSON passes the gate (its method is checked per call). */
    raw.method = "PUT";
    raw.content_type = "application/json";
    parse_ok(&raw);
    raw.content_type = NULL;
    parse_fail(&raw);

    /* GET never needs one; v10 sends application/json on GET. */
    raw = get_raw("hello", NULL);
    raw.content_type = "application/json";
    parse_ok(&raw);
    raw.content_type = "text/plain";
    parse_ok(&raw);
}
END_TEST

/* ----------------------------------------------------------------- stream */

START_TEST(stream_head)
{
    ta_trpc_raw_t raw = get_raw("hello,nope,undef", "batch=1&input=%7B%7D");
    ta_trpc_req_t *req;
    int status;

    raw.trpc_accept = "application/jsonl";
    req = parse_ok(&raw);
    ck_assert_int_eq(req->stream, 1);
    req->calls[0].output = J("{\"text\":\"hello world\"}");
    not_found(&req->calls[1]);
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "{\"0\":[[" HELLO_OK "]],\"1\":[[" NOPE_404 "]],\"2\":[[{\"result\":{}}]]}\n");
    ck_assert_int_eq(status, 200);
}
END_TEST

START_TEST(stream_detection)
{
    ta_trpc_raw_t raw = get_raw("a", "batch=1");

    raw.accept = "text/html, application/jsonl ,*/*";
    ck_assert_int_eq(parse_ok(&raw)->stream, 1);
    raw.accept = "application/jsonl;q=1";
    ck_assert_int_eq(parse_ok(&raw)->stream, 0);
    raw.accept = "application/json";
    ck_assert_int_eq(parse_ok(&raw)->stream, 0);
    /* trpc-accept decides alone when present. */
    raw.accept = "application/jsonl";
    raw.trpc_accept = "application/json";
    ck_assert_int_eq(parse_ok(&raw)->stream, 0);
    raw.accept = NULL;
    raw.trpc_accept = "application/jsonl";
    ck_assert_int_eq(parse_ok(&raw)->stream, 1);
}
END_TEST

START_TEST(stream_requires_batch)
{
    ta_trpc_raw_t raw = get_raw("a", NULL);
    ta_error_t *e;
    int status;

    raw.trpc_accept = "application/jsonl";
    e = parse_fail(&raw);
    ck_assert_str_eq(render_error(e, NULL, TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"Streaming requests must be batched (you can do a batch of 1)\","
                     "\"code\":-32600,\"data\":{\"code\":\"BAD_REQUEST\",\"httpStatus\":400,\"zodError\":null}}}");
    ck_assert_int_eq(status, 400);
    raw = get_raw("a", "batch=true");
    raw.accept = "application/jsonl";
    ck_assert_int_eq(parse_fail(&raw)->code, TA_E_BAD_REQUEST);
}
END_TEST

/* ------------------------------------------------------------- superjson */

/* The v10 frontend's no-input batch query (frontend-traffic.md §0). */
START_TEST(superjson_no_input_batch)
{
    ta_trpc_raw_t raw = get_raw("transaction.getAll",
        "batch=1&input=%7B%220%22%3A%7B%22json%22%3Anull%2C%22meta%22%3A%7B%22values%22%3A%5B%22undefined%22%5D%7D%7D%7D");
    ta_trpc_req_t *req;
    int status;

    raw.transformer = TA_TX_SUPERJSON;
    raw.content_type = "application/json";
    req = parse_ok(&raw);
    ck_assert_ptr_null(input_of(req, 0));
    ck_assert_ptr_null(req->calls[0].input_error);

    req->calls[0].output = J("[]");
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status), "[{\"result\":{\"data\":{\"json\":[]}}}]");
    ck_assert_int_eq(status, 200);
}
END_TEST

START_TEST(superjson_mutation_input)
{
    ta_trpc_raw_t raw = post_raw("transaction.create", "batch=1",
        "{\"0\":{\"json\":{\"amount\":5,\"txnType\":\"Incoming\",\"summary\":\"x\",\"tag\":null},"
        "\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}}");
    ta_trpc_req_t *req;

    raw.transformer = TA_TX_SUPERJSON;
    req = parse_ok(&raw);
    ck_assert_str_eq(dump(input_of(req, 0)),
                     "{\"amount\":5,\"txnType\":\"Incoming\",\"summary\":\"x\"}");

    /* Non-batch: the whole body is one envelope; meta absent is fine. */
    raw = post_raw("auth.login", NULL, "{\"json\":{\"email\":\"a@b.c\"}}");
    raw.transformer = TA_TX_SUPERJSON;
    ck_assert_str_eq(dump(input_of(parse_ok(&raw), 0)), "{\"email\":\"a@b.c\"}");

    /* Not an envelope -> input_error. */
    raw = post_raw("auth.login", NULL, "{\"email\":\"a@b.c\"}");
    raw.transformer = TA_TX_SUPERJSON;
    req = parse_ok(&raw);
    ck_assert_ptr_null(input_of(req, 0));
    ck_assert_int_eq(req->calls[0].input_error->code, TA_E_BAD_REQUEST);
    raw = post_raw("a,b", "batch=1", "{\"1\":5}");
    raw.transformer = TA_TX_SUPERJSON;
    req = parse_ok(&raw);
    ck_assert_ptr_null(input_error_of(req, 0));
    ck_assert_ptr_nonnull(input_error_of(req, 1));
}
END_TEST

/* ta_trpc_parse parses the JSON text and nothing more: a superjson envelope,
 * whatever its meta holds, is only decoded when the handler asks for the
 * input of a procedure that takes one (issue 11: a hostile meta.values sent
 * to an unknown procedure was decoded before the lookup). */
START_TEST(superjson_decoded_only_when_asked)
{
    const char *hostile = "{\"json\":{},\"meta\":{\"values\":{\"................................."
                          "...................\":{\"b\":{\"b\":[\"undefined\"]}}}}}";
    ta_trpc_raw_t raw = post_raw("nope", NULL, hostile);
    ta_trpc_req_t *req;
    ta_error_t *e;

    raw.transformer = TA_TX_SUPERJSON;
    req = parse_ok(&raw);
    ck_assert_ptr_nonnull(req->calls[0].raw_input);
    ck_assert_ptr_null(req->calls[0].input);
    ck_assert_ptr_null(req->calls[0].input_error);
    ck_assert_int_eq(req->calls[0].input_read, 0);

    e = input_error_of(req, 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->code, TA_E_BAD_REQUEST);
    ck_assert_str_eq(e->message, "Invalid superjson input: a path has more than 32 segments");
    ck_assert_ptr_eq(input_error_of(req, 0), e);   /* decoded once */
    ck_assert_ptr_null(req->calls[0].input);

    /* Batch: each item on its own; an undecoded item stays as sent. */
    raw = post_raw("a,b", "batch=1", "{\"0\":{\"json\":{\"t\":null},\"meta\":{\"values\":"
                   "{\"t\":[\"undefined\"]}}},\"1\":{\"json\":1}}");
    raw.transformer = TA_TX_SUPERJSON;
    req = parse_ok(&raw);
    ck_assert_str_eq(dump(input_of(req, 1)), "1");
    ck_assert_int_eq(req->calls[0].input_read, 0);
    ck_assert_str_eq(dump(req->calls[0].raw_input),
                     "{\"json\":{\"t\":null},\"meta\":{\"values\":{\"t\":[\"undefined\"]}}}");
    ck_assert_str_eq(dump(input_of(req, 0)), "{}");

    /* JSON: the input is the item as sent. */
    raw = post_raw("a", NULL, "{\"json\":{},\"meta\":{\"values\":{\"x\":[\"undefined\"]}}}");
    req = parse_ok(&raw);
    ck_assert_ptr_eq(input_of(req, 0), req->calls[0].raw_input);
    ck_assert_ptr_null(input_error_of(req, 0));
}
END_TEST

START_TEST(superjson_render)
{
    ta_trpc_raw_t raw = get_raw("date,nope,undef", "batch=1");
    ta_trpc_req_t *req = parse_ok(&raw);
    json_t *out = ta_json_pool(pool, json_object());
    int status;

    json_object_set_new(out, "createdAt", ta_sj_date(D1));
    req->calls[0].output = out;
    not_found(&req->calls[1]);
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "[{\"result\":{\"data\":{\"json\":{\"createdAt\":\"" D1 "\"},"
                     "\"meta\":{\"values\":{\"createdAt\":[\"Date\"]},\"v\":1}}}},"
                     "{\"error\":{\"json\":{\"message\":\"No procedure found on path \\\"nope\\\"\",\"code\":-32004,"
                     "\"data\":{\"code\":\"NOT_FOUND\",\"httpStatus\":404,\"path\":\"nope\",\"zodError\":null}}}},"
                     "{\"result\":{\"data\":{\"json\":null,\"meta\":{\"values\":[\"undefined\"],\"v\":1}}}}]");
    ck_assert_int_eq(status, 207);

    /* Plain JSON: the Date is just a string. */
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "[{\"result\":{\"data\":{\"createdAt\":\"" D1 "\"}}}," NOPE_404 ",{\"result\":{}}]");
}
END_TEST

START_TEST(superjson_single_not_found)
{
    ta_trpc_raw_t raw = get_raw("nope", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    int status;

    not_found(&req->calls[0]);
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "{\"error\":{\"json\":{\"message\":\"No procedure found on path \\\"nope\\\"\",\"code\":-32004,"
                     "\"data\":{\"code\":\"NOT_FOUND\",\"httpStatus\":404,\"path\":\"nope\",\"zodError\":null}}}}");
    ck_assert_int_eq(status, 404);
}
END_TEST

/* JSONL head with superjson: the whole line is one envelope, meta paths
 * point into the line ("<i>.0.0.result.data.<path>"). */
START_TEST(superjson_stream_dates)
{
    ta_trpc_raw_t raw = get_raw("transaction.getAll,nope,undef", "batch=1");
    ta_trpc_req_t *req;
    json_t *rows = ta_json_pool(pool, json_array());
    int status, i;

    raw.trpc_accept = "application/jsonl";
    req = parse_ok(&raw);
    for (i = 0; i < 2; i++)
        json_array_append_new(rows, json_pack("{s:i, s:o}", "id", i + 1, "createdAt", ta_sj_date(D1)));
    req->calls[0].output = rows;
    not_found(&req->calls[1]);
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "{\"json\":{\"0\":[[{\"result\":{\"data\":[{\"id\":1,\"createdAt\":\"" D1 "\"},"
                     "{\"id\":2,\"createdAt\":\"" D1 "\"}]}}]],"
                     "\"1\":[[" NOPE_404 "]],\"2\":[[{\"result\":{}}]]},"
                     "\"meta\":{\"values\":{\"0.0.0.result.data.0.createdAt\":[\"Date\"],"
                     "\"0.0.0.result.data.1.createdAt\":[\"Date\"]},\"v\":1}}\n");
    ck_assert_int_eq(status, 200);

    /* No special values: no meta. */
    req->calls[0].output = J("\"hi\"");
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "{\"json\":{\"0\":[[{\"result\":{\"data\":\"hi\"}}]],\"1\":[[" NOPE_404 "]],"
                     "\"2\":[[{\"result\":{}}]]}}\n");
}
END_TEST

/* ------------------------------------------------------ errors in render */

START_TEST(zod_error_rendered)
{
    ta_trpc_raw_t raw = get_raw("hello", "input=%7B%22name%22%3A5%7D");
    ta_trpc_req_t *req = parse_ok(&raw);
    ta_validator_t v;
    int status;

    ta_v_init(&v, pool, input_of(req, 0));
    ta_v_string(&v, "name", 1);
    req->calls[0].error = ta_v_finish(&v);
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"[\\n  {\\n    \\\"code\\\": \\\"invalid_type\\\",\\n"
                     "    \\\"expected\\\": \\\"string\\\",\\n    \\\"received\\\": \\\"number\\\",\\n"
                     "    \\\"path\\\": [\\n      \\\"name\\\"\\n    ],\\n"
                     "    \\\"message\\\": \\\"Expected string, received number\\\"\\n  }\\n]\","
                     "\"code\":-32600,\"data\":{\"code\":\"BAD_REQUEST\",\"httpStatus\":400,\"path\":\"hello\","
                     "\"zodError\":{\"formErrors\":[],\"fieldErrors\":{\"name\":[\"Expected string, received number\"]}}}}}");
    ck_assert_int_eq(status, 400);
}
END_TEST

START_TEST(render_error_variants)
{
    ta_error_t *e = ta_error_make(pool, TA_E_PAYLOAD_TOO_LARGE, NULL);
    int status;

    ck_assert_str_eq(render_error(e, "obj", TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"PAYLOAD_TOO_LARGE\",\"code\":-32013,\"data\":{\"code\":"
                     "\"PAYLOAD_TOO_LARGE\",\"httpStatus\":413,\"path\":\"obj\",\"zodError\":null}}}");
    ck_assert_int_eq(status, 413);
    e = ta_error_make(pool, TA_E_SERVICE_UNAVAILABLE, "down");
    ck_assert_str_eq(render_error(e, NULL, TA_TX_SUPERJSON, &status),
                     "{\"error\":{\"json\":{\"message\":\"down\",\"code\":-32603,\"data\":{\"code\":"
                     "\"SERVICE_UNAVAILABLE\",\"httpStatus\":503,\"zodError\":null}}}}");
    ck_assert_int_eq(status, 503);
    /* A stray non-UTF-8 byte in a message cannot break the body. */
    e = ta_error_make(pool, TA_E_BAD_REQUEST, "bad \xff byte");
    ck_assert_str_eq(render_error(e, NULL, TA_TX_JSON, &status),
                     "{\"error\":{\"message\":\"bad ? byte\",\"code\":-32600,\"data\":{\"code\":"
                     "\"BAD_REQUEST\",\"httpStatus\":400,\"zodError\":null}}}");
}
END_TEST


/* A result given as JSON text is spliced in unchanged; its Date paths become
 * superjson meta (plain, batch, and stream lines alike). */
START_TEST(text_output_spliced_with_date_meta)
{
    ta_trpc_raw_t raw = get_raw("/list", NULL);
    ta_trpc_req_t *req = parse_ok(&raw);
    apr_array_header_t *dates = apr_array_make(pool, 2, sizeof(const char *));
    int status;

    APR_ARRAY_PUSH(dates, const char *) = "0.createdAt";
    req->calls[0].output_text = "[{\"id\":1,\"createdAt\":\"2024-05-06T07:08:09.000Z\"}]";
    req->calls[0].output_dates = dates;
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "{\"result\":{\"data\":[{\"id\":1,\"createdAt\":\"2024-05-06T07:08:09.000Z\"}]}}");
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "{\"result\":{\"data\":{\"json\":[{\"id\":1,\"createdAt\":\"2024-05-06T07:08:09.000Z\"}],"
                     "\"meta\":{\"values\":{\"0.createdAt\":[\"Date\"]},\"v\":1}}}}");

    raw = get_raw("/list,nope", "batch=1");
    req = parse_ok(&raw);
    req->calls[0].output_text = "[]";
    not_found(&req->calls[1]);
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "[{\"result\":{\"data\":{\"json\":[]}}},"
                     "{\"error\":{\"json\":{\"message\":\"No procedure found on path \\\"nope\\\"\",\"code\":-32004,"
                     "\"data\":{\"code\":\"NOT_FOUND\",\"httpStatus\":404,\"path\":\"nope\",\"zodError\":null}}}}]");
    ck_assert_int_eq(status, 207);

    raw = get_raw("/x,list", "batch=1");
    raw.trpc_accept = "application/jsonl";
    req = parse_ok(&raw);
    req->calls[0].output = ta_json_pool(pool, json_integer(5));
    req->calls[1].output_text = "[{\"createdAt\":\"2024-05-06T07:08:09.000Z\"}]";
    req->calls[1].output_dates = dates;
    ck_assert_str_eq(render(req, TA_TX_JSON, &status),
                     "{\"0\":[[{\"result\":{\"data\":5}}]],"
                     "\"1\":[[{\"result\":{\"data\":[{\"createdAt\":\"2024-05-06T07:08:09.000Z\"}]}}]]}\n");
    ck_assert_str_eq(render(req, TA_TX_SUPERJSON, &status),
                     "{\"json\":{\"0\":[[{\"result\":{\"data\":5}}]],"
                     "\"1\":[[{\"result\":{\"data\":[{\"createdAt\":\"2024-05-06T07:08:09.000Z\"}]}}]]},"
                     "\"meta\":{\"values\":{\"1.0.0.result.data.0.createdAt\":[\"Date\"]},\"v\":1}}\n");
}
END_TEST

UNIT_SUITE(trpc)
{
    tcase_add_test(tc, single_success_and_input);
    tcase_add_test(tc, single_not_found_shape);
    tcase_add_test(tc, undefined_output_and_null_output);
    tcase_add_test(tc, text_output_spliced_with_date_meta);
    tcase_add_test(tc, path_slashes_and_empty);
    tcase_add_test(tc, path_percent_decoding);
    tcase_add_test(tc, batch_mixed_is_207);
    tcase_add_test(tc, batch_same_status);
    tcase_add_test(tc, batch_of_one_is_array);
    tcase_add_test(tc, batch_flag_must_be_1);
    tcase_add_test(tc, batch_split_after_decoding);
    tcase_add_test(tc, batch_inputs);
    tcase_add_test(tc, batch_input_not_object);
    tcase_add_test(tc, max_batch);
    tcase_add_test(tc, query_form_decoding);
    tcase_add_test(tc, body_vs_query);
    tcase_add_test(tc, malformed_json);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, invalid_utf8_body);
    tcase_add_test(tc, nul_escape_parses);
    tcase_add_test(tc, content_type_gate);
    tcase_add_test(tc, stream_head);
    tcase_add_test(tc, stream_detection);
    tcase_add_test(tc, stream_requires_batch);
    tcase_add_test(tc, superjson_no_input_batch);
    tcase_add_test(tc, superjson_mutation_input);
    tcase_add_test(tc, superjson_decoded_only_when_asked);
    tcase_add_test(tc, superjson_render);
    tcase_add_test(tc, superjson_single_not_found);
    tcase_add_test(tc, superjson_stream_dates);
    tcase_add_test(tc, zod_error_rendered);
    tcase_add_test(tc, render_error_variants);
}
