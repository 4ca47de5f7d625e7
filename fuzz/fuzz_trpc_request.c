/*
 * fuzz_trpc_request.c - ta_trpc_parse / ta_trpc_render / ta_trpc_render_error.
 *
 * Input layout (see fuzz/corpus/fuzz_trpc_request/ and fuzz/make-corpus.py):
 *   byte 0   flags: bits 0-2 method (GET POST PUT DELETE PATCH get (none) OPTIONS);
 *            an empty field below is NULL instead of "" when its bit is set:
 *            bit 3 content-type, bit 4 accept, bit 5 trpc-accept, bit 6 query,
 *            bit 7 body
 *   byte 1   seed for how the calls are filled (outputs, Dates, errors)
 *   then     path '\n' query '\n' content-type '\n' accept '\n' trpc-accept '\n' body
 *            (the body is the rest of the input, any bytes, not NUL-terminated)
 *
 * Each input is parsed four times (JSON and superjson transformer, max_batch 2
 * and 100). A request-level error is rendered with ta_trpc_render_error; else
 * every call's input is decoded (ta_trpc_call_input, as the handler does for a
 * procedure that takes input: nothing may be decoded before; parsing and
 * decoding may grow resident memory by at most FUZZ_RSS_PER_INPUT_BYTE bytes
 * per input byte), then every call gets an output (undefined, its input,
 * Dates...) or an error, and the request is rendered with both transformers,
 * streaming and not.
 * Checked: each body is valid JSON (one JSONL line ending in '\n' when
 * streaming) of the documented shape, status and length agree, the
 * serialization-failure fallback never appears, and the superjson rendering
 * decodes (ta_sj_decode) to exactly the plain JSON rendering.
 */
#include "fuzz_common.h"

#include <apr_strings.h>

#include "trpc/trpc.h"
#include "trpc/superjson.h"

static const char *const methods[8] = {
    "GET", "POST", "PUT", "DELETE", "PATCH", "get", NULL, "OPTIONS"
};

/* set_body's fixed answer when json_dumps fails (compared as a prefix, so
 * that a request echoing these words in a message does not count) */
static const char *FALLBACK = "{\"error\":{\"message\":\"Response serialization failed\"";

/* ------------------------------------------------------------ filling */

static json_t *pooled(apr_pool_t *p, json_t *j)
{
    return ta_json_pool(p, j);
}

static json_t *input_or_null(const ta_call_t *c)
{
    return c->input ? json_incref(c->input) : json_null();
}

/* Fills every call the way the handler would after resolving it. The raw
 * path bytes serve as an error message that may be invalid UTF-8. */
static void fill_calls(apr_pool_t *p, ta_trpc_req_t *req, uint32_t seed, const char *raw_path)
{
    int i;

    for (i = 0; i < req->ncalls; i++) {
        ta_call_t *c = &req->calls[i];
        uint32_t r = fuzz_rand(&seed);
        json_t *o;

        switch (r % 9) {
        case 0:
            c->output = NULL;                      /* undefined */
            break;
        case 1:
            c->output = pooled(p, input_or_null(c));
            break;
        case 2:
            o = json_object();
            json_object_set_new(o, "createdAt", ta_sj_date("2024-05-06T07:08:09.000Z"));
            json_object_set_new(o, "input", input_or_null(c));
            json_object_set_new(o, "list", json_pack("[oo]", ta_sj_date(c->path),
                                                     input_or_null(c)));
            json_object_set_new(o, c->path, ta_sj_date(c->path));
            c->output = pooled(p, o);
            break;
        case 3:
            c->output = pooled(p, ta_sj_date(c->path));
            break;
        case 4:
            c->error = c->input_error ? c->input_error
                                      : ta_error_make(p, TA_E_BAD_REQUEST, "%s", raw_path);
            break;
        case 5:
            c->error = ta_error_make(p, (ta_code_t)(fuzz_rand(&seed) % TA_E__COUNT),
                                     "%s", raw_path);
            c->error->zod = pooled(p, json_pack("{s:[o],s:{s:[s]}}", "formErrors",
                                                input_or_null(c), "fieldErrors",
                                                c->path, "Required"));
            break;
        case 6:
            c->error = ta_error_make(p, TA_E_NOT_FOUND, "No procedure found on path \"%s\"",
                                     c->path);
            break;
        case 7:
            o = json_array();
            json_array_append_new(o, input_or_null(c));
            json_array_append_new(o, ta_sj_date("1970-01-01T00:00:00.000Z"));
            json_array_append_new(o, json_pack("{s:o,s:[o],s:o}",
                                               "a.b", ta_sj_date("x"),
                                               "x\\y", ta_sj_date("y"),
                                               "", json_pack("{s:o}", ".", ta_sj_date("z"))));
            c->output = pooled(p, o);
            break;
        default:
            c->error = ta_error_make(p, TA_E_INTERNAL_SERVER_ERROR, NULL);
            break;
        }
    }
}

/* ------------------------------------------------------------ checking */

static json_t *load_body(const ta_trpc_out_t *out, const char *what)
{
    json_error_t je;
    json_t *doc;

    FUZZ_CHECK(out->body != NULL, "%s: no body", what);
    FUZZ_CHECK(out->content_type && strcmp(out->content_type, "application/json") == 0,
               "%s: content type %s", what, out->content_type ? out->content_type : "(null)");
    FUZZ_CHECK(strlen(out->body) == out->len, "%s: len %zu but strlen %zu", what,
               (size_t)out->len, strlen(out->body));
    FUZZ_CHECK(strncmp(out->body, FALLBACK, strlen(FALLBACK)) != 0,
               "%s: serialization failed (status %d)", what, out->status);
    doc = json_loadb(out->body, out->len, JSON_ALLOW_NUL, &je);
    FUZZ_CHECK(doc != NULL, "%s: body is not JSON (%s at %d): %s", what, je.text,
               je.position, out->body);
    return doc;
}

/* A rendered error object {"message","code","data":{"code","httpStatus",...}}. */
static void check_shape(const json_t *shape, const char *what)
{
    json_t *data = json_object_get(shape, "data");
    FUZZ_CHECK(json_is_string(json_object_get(shape, "message")), "%s: message", what);
    FUZZ_CHECK(json_is_integer(json_object_get(shape, "code")), "%s: code", what);
    FUZZ_CHECK(json_is_string(json_object_get(data, "code")), "%s: data.code", what);
    FUZZ_CHECK(json_is_integer(json_object_get(data, "httpStatus")), "%s: httpStatus", what);
}

/* One plain item {"result":{"data"?}} or {"error":shape}. */
static void check_plain_item(const json_t *item, const ta_call_t *c, const char *what)
{
    FUZZ_CHECK(json_is_object(item) && json_object_size(item) == 1, "%s: item shape", what);
    if (c->error) {
        check_shape(json_object_get(item, "error"), what);
        return;
    }
    FUZZ_CHECK(json_is_object(json_object_get(item, "result")), "%s: no result", what);
    FUZZ_CHECK((json_object_get(json_object_get(item, "result"), "data") != NULL)
               == (c->output != NULL), "%s: data presence", what);
}

/* The superjson item must decode to the plain one: its data or error
 * envelope unwrapped by ta_sj_decode equals the plain rendering. */
static void check_sj_item(apr_pool_t *p, const json_t *plain, const json_t *sj,
                          const ta_call_t *c, const char *what)
{
    const char *key = c->error ? "error" : "result";
    json_t *env = json_object_get(sj, key);
    json_t *want = json_object_get(plain, key);
    json_t *got = NULL;
    ta_error_t *e;

    FUZZ_CHECK(json_is_object(sj) && json_object_size(sj) == 1, "%s: sj item shape", what);
    if (!c->error) {
        env = json_object_get(env, "data");
        want = json_object_get(want, "data");
    }
    FUZZ_CHECK(json_is_object(env) && json_object_get(env, "json"), "%s: not an envelope", what);
    e = ta_sj_decode(p, env, &got);
    FUZZ_CHECK(e == NULL, "%s: rendered envelope does not decode: %s", what, e->message);
    FUZZ_CHECK((got == NULL && want == NULL) || (got && want && json_equal(got, want)),
               "%s: superjson item differs from plain item", what);
    json_decref(got);
}

static int expected_status(const ta_trpc_req_t *req)
{
    int i, s = 200, st;
    for (i = 0; i < req->ncalls; i++) {
        st = req->calls[i].error ? ta_code_http(req->calls[i].error->code) : 200;
        if (i == 0)
            s = st;
        else if (st != s)
            return 207;
    }
    return s;
}

/* Non-stream: a bare item for a single call, an array for a batch. */
static json_t *items_of(json_t *doc, const ta_trpc_req_t *req, int i)
{
    if (!req->batch && req->ncalls == 1)
        return doc;
    return json_array_get(doc, (size_t)i);
}

static void render_plain_and_sj(apr_pool_t *p, ta_trpc_req_t *req)
{
    ta_trpc_out_t op, os, lp, ls;
    json_t *dp, *ds, *linep, *lines, *got = NULL;
    ta_error_t *e;
    int i;

    /* not streaming */
    req->stream = 0;
    ta_trpc_render(p, req, TA_TX_JSON, &op);
    ta_trpc_render(p, req, TA_TX_SUPERJSON, &os);
    dp = load_body(&op, "render json");
    ds = load_body(&os, "render superjson");
    FUZZ_CHECK(op.status == expected_status(req) && os.status == op.status,
               "status %d/%d, want %d", op.status, os.status, expected_status(req));
    if (req->batch || req->ncalls != 1) {
        FUZZ_CHECK(json_is_array(dp) && json_array_size(dp) == (size_t)req->ncalls,
                   "json batch is not an array of %d", req->ncalls);
        FUZZ_CHECK(json_is_array(ds) && json_array_size(ds) == (size_t)req->ncalls,
                   "superjson batch is not an array of %d", req->ncalls);
    }
    for (i = 0; i < req->ncalls; i++) {
        check_plain_item(items_of(dp, req, i), &req->calls[i], "render json");
        check_sj_item(p, items_of(dp, req, i), items_of(ds, req, i), &req->calls[i],
                      "render superjson");
    }

    /* streaming: one JSONL line */
    req->stream = 1;
    ta_trpc_render(p, req, TA_TX_JSON, &lp);
    ta_trpc_render(p, req, TA_TX_SUPERJSON, &ls);
    FUZZ_CHECK(lp.status == 200 && ls.status == 200, "stream status %d/%d", lp.status, ls.status);
    FUZZ_CHECK(lp.len > 0 && lp.body[lp.len - 1] == '\n' && memchr(lp.body, '\n', lp.len - 1) == NULL,
               "json stream is not one line: %s", lp.body);
    FUZZ_CHECK(ls.len > 0 && ls.body[ls.len - 1] == '\n' && memchr(ls.body, '\n', ls.len - 1) == NULL,
               "superjson stream is not one line: %s", ls.body);
    linep = load_body(&lp, "stream json");
    lines = load_body(&ls, "stream superjson");
    FUZZ_CHECK(json_is_object(linep) && json_object_size(linep) == (size_t)req->ncalls,
               "stream head has not %d keys", req->ncalls);
    for (i = 0; i < req->ncalls; i++) {
        json_t *wrap = json_object_get(linep, apr_itoa(p, i));
        FUZZ_CHECK(json_is_array(wrap) && json_array_size(wrap) == 1 &&
                   json_is_array(json_array_get(wrap, 0)) &&
                   json_array_size(json_array_get(wrap, 0)) == 1, "stream head item %d", i);
        check_plain_item(json_array_get(json_array_get(wrap, 0), 0), &req->calls[i],
                         "stream json");
        /* the plain stream item equals the plain non-stream item */
        FUZZ_CHECK(json_equal(json_array_get(json_array_get(wrap, 0), 0), items_of(dp, req, i)),
                   "stream item %d differs from the batch item", i);
    }
    e = ta_sj_decode(p, lines, &got);
    FUZZ_CHECK(e == NULL && got && json_equal(got, linep),
               "superjson stream line does not decode to the json line");
    json_decref(got);
    json_decref(dp);
    json_decref(ds);
    json_decref(linep);
    json_decref(lines);
}

static void check_request_error(apr_pool_t *p, const ta_error_t *e, const char *path)
{
    ta_trpc_out_t o;
    json_t *doc, *got = NULL;
    ta_error_t *de;

    ta_trpc_render_error(p, e, path, TA_TX_JSON, &o);
    doc = load_body(&o, "render_error json");
    FUZZ_CHECK(o.status == ta_code_http(e->code), "render_error status");
    FUZZ_CHECK(json_is_object(doc) && json_object_size(doc) == 1, "render_error shape");
    check_shape(json_object_get(doc, "error"), "render_error json");
    FUZZ_CHECK((json_object_get(json_object_get(json_object_get(doc, "error"), "data"), "path")
                != NULL) == (path != NULL), "render_error path presence");
    json_decref(doc);

    ta_trpc_render_error(p, e, path, TA_TX_SUPERJSON, &o);
    doc = load_body(&o, "render_error superjson");
    de = ta_sj_decode(p, json_object_get(doc, "error"), &got);
    FUZZ_CHECK(de == NULL && got, "render_error superjson is not an envelope");
    check_shape(got, "render_error superjson");
    json_decref(got);
    json_decref(doc);
}

/* ------------------------------------------------------------ driver */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    uint8_t flags = fuzz_byte(&in);
    uint8_t seed = fuzz_byte(&in);
    const char *path = fuzz_field_str(p, &in, '\n');
    const char *query = fuzz_field_str(p, &in, '\n');
    const char *ct = fuzz_field_str(p, &in, '\n');
    const char *accept = fuzz_field_str(p, &in, '\n');
    const char *taccept = fuzz_field_str(p, &in, '\n');
    size_t body_len = in.n;
    const char *body = body_len ? (const char *)in.d : NULL;
    static const int max_batch[2] = { 2, 100 };
    int tx, mb;

    if (!body && !(flags & 0x80))
        body = "";
    for (tx = 0; tx < 2; tx++) {
        for (mb = 0; mb < 2; mb++) {
            apr_pool_t *sub;
            size_t before;
            ta_trpc_raw_t raw;
            ta_trpc_req_t *req = NULL;
            ta_error_t *e;

            sub = fuzz_private_pool();
            before = fuzz_rss();
            memset(&raw, 0, sizeof(raw));
            raw.method = methods[flags & 7];
            raw.path = path;
            raw.query = (*query || !(flags & 0x40)) ? query : NULL;
            raw.content_type = (*ct || !(flags & 0x08)) ? ct : NULL;
            raw.accept = (*accept || !(flags & 0x10)) ? accept : NULL;
            raw.trpc_accept = (*taccept || !(flags & 0x20)) ? taccept : NULL;
            raw.body = body;
            raw.body_len = body_len;
            raw.transformer = tx ? TA_TX_SUPERJSON : TA_TX_JSON;
            raw.max_batch = max_batch[mb];

            e = ta_trpc_parse(sub, &raw, &req);
            if (e) {
                FUZZ_CHECK(req == NULL, "error and a request");
                FUZZ_CHECK(e->message != NULL, "error without message");
                check_request_error(sub, e, NULL);
                check_request_error(sub, e, path);
            } else {
                int i;
                FUZZ_CHECK(req != NULL && req->ncalls >= 1 && req->calls, "no calls");
                FUZZ_CHECK(!req->batch || raw.max_batch <= 0 || req->ncalls <= raw.max_batch,
                           "batch of %d over max %d", req->ncalls, raw.max_batch);
                FUZZ_CHECK(req->batch || req->ncalls == 1, "non-batch with %d calls", req->ncalls);
                FUZZ_CHECK(!req->stream || req->batch, "stream without batch");
                for (i = 0; i < req->ncalls; i++) {
                    ta_call_t *c = &req->calls[i];
                    ta_error_t *ie;
                    FUZZ_CHECK(c->path != NULL, "call %d without path", i);
                    FUZZ_CHECK(!c->input_read && !c->input, "call %d decoded before asked", i);
                    /* what the handler does for a procedure that takes input */
                    ie = ta_trpc_call_input(sub, c);
                    FUZZ_CHECK(ie == c->input_error && (c->input_read || ie != NULL),
                               "call %d: input error not recorded", i);
                    FUZZ_CHECK(!(c->input && c->input_error),
                               "call %d has input and input_error", i);
                    FUZZ_CHECK(ta_trpc_call_input(sub, c) == ie, "call %d decoded twice", i);
                }
                /* parsing and decoding every input: linear in the request */
                FUZZ_CHECK_RSS(before, size, "ta_trpc_parse + ta_trpc_call_input");
                fill_calls(sub, req, seed, path);
                render_plain_and_sj(sub, req);
                for (i = 0; i < req->ncalls; i++)
                    if (req->calls[i].error)
                        check_request_error(sub, req->calls[i].error, req->calls[i].path);
            }
            apr_pool_destroy(sub);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
