/* Unit tests for src/trpc/superjson.c: Date markers, input envelopes, output envelopes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_allocator.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "unit.h"
#include "trpc/superjson.h"

/* A pooled JSON value from text (JSON_ALLOW_NUL like the parser). */
static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, e.text);
    return ta_json_pool(pool, j);
}

/* Compact dump of a value into the pool; consumes the reference. */
static const char *dump_new(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy;
    ck_assert_ptr_nonnull(s);
    copy = apr_pstrdup(pool, s);
    free(s);
    json_decref(j);
    return copy;
}

/* Decodes an envelope text and returns the compact value, "<absent>", or
 * "<error:msg>". */
static const char *decode(const char *text)
{
    json_t *value = (json_t *)0x1;
    ta_error_t *e = ta_sj_decode(pool, text ? J(text) : NULL, &value);
    if (e) {
        ck_assert_int_eq(e->code, TA_E_BAD_REQUEST);
        ck_assert_ptr_null(value);
        return apr_pstrcat(pool, "<error:", e->message, ">", NULL);
    }
    if (!value)
        return "<absent>";
    return dump_new(value);
}

#define D1 "2024-05-06T07:08:09.000Z"
#define D2 "2024-01-02T03:04:05.000Z"

/* ------------------------------------------------------------ Date marker */

START_TEST(date_marker_roundtrip)
{
    json_t *d = ta_json_pool(pool, ta_sj_date(D1));
    ck_assert_str_eq(ta_sj_date_value(d), D1);
    ck_assert_ptr_null(ta_sj_date_value(J("\"" D1 "\"")));
    ck_assert_ptr_null(ta_sj_date_value(J("{\"x\":\"" D1 "\"}")));
    ck_assert_ptr_null(ta_sj_date_value(NULL));
}
END_TEST

/* No client input can forge a marker: parsed keys are always valid UTF-8. */
START_TEST(date_marker_not_forgeable)
{
    ck_assert_ptr_null(ta_sj_date_value(J("{\"\\u00ffta-date\":\"x\"}")));
    ck_assert_ptr_null(ta_sj_date_value(J("{\"ta-date\":\"x\"}")));
    ck_assert_ptr_null(json_loads("{\"\xffta-date\":\"x\"}", 0, NULL));
}
END_TEST

/* ----------------------------------------------------------------- decode */

START_TEST(decode_no_input_envelope_is_absent)
{
    ck_assert_str_eq(decode("{\"json\":null,\"meta\":{\"values\":[\"undefined\"]}}"), "<absent>");
    ck_assert_str_eq(decode("{\"json\":null,\"meta\":{\"values\":[\"undefined\"],\"v\":1}}"), "<absent>");
    ck_assert_str_eq(decode(NULL), "<absent>");
}
END_TEST

START_TEST(decode_undefined_key_removed)
{
    /* frontend-traffic.md §6 item 8: "tag":null + {"tag":["undefined"]} = no tag. */
    ck_assert_str_eq(decode("{\"json\":{\"amount\":5,\"txnType\":\"Incoming\",\"summary\":\"s\",\"tag\":null},"
                            "\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}"),
                     "{\"amount\":5,\"txnType\":\"Incoming\",\"summary\":\"s\"}");
    ck_assert_str_eq(decode("{\"json\":{\"a\":null,\"b\":1},\"meta\":{\"values\":{\"a\":[\"undefined\"]},\"v\":1}}"),
                     "{\"b\":1}");
}
END_TEST

START_TEST(decode_plain_and_meta_variants)
{
    ck_assert_str_eq(decode("{\"json\":{\"email\":\"a@b.c\"}}"), "{\"email\":\"a@b.c\"}");
    ck_assert_str_eq(decode("{\"json\":null}"), "null");
    ck_assert_str_eq(decode("{\"json\":\"hi\",\"meta\":{}}"), "\"hi\"");
    ck_assert_str_eq(decode("{\"json\":5,\"meta\":null}"), "5");
    /* Other annotations keep their plain form. */
    ck_assert_str_eq(decode("{\"json\":{\"d\":\"1970-01-01T00:00:00.000Z\"},"
                            "\"meta\":{\"values\":{\"d\":[\"Date\"]},\"v\":1}}"),
                     "{\"d\":\"1970-01-01T00:00:00.000Z\"}");
}
END_TEST

START_TEST(decode_nested_and_escaped_paths)
{
    ck_assert_str_eq(decode("{\"json\":{\"u\":{\"x\":null,\"y\":2}},\"meta\":{\"values\":{\"u.x\":[\"undefined\"]},\"v\":1}}"),
                     "{\"u\":{\"y\":2}}");
    /* "a.b" key escaped as a\.b (JSON "a\\.b"), v1 and legacy. */
    ck_assert_str_eq(decode("{\"json\":{\"a.b\":null,\"a\":{\"b\":1}},\"meta\":{\"values\":{\"a\\\\.b\":[\"undefined\"]},\"v\":1}}"),
                     "{\"a\":{\"b\":1}}");
    ck_assert_str_eq(decode("{\"json\":{\"a.b\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\.b\":[\"undefined\"]}}}"),
                     "{\"c\":1}");
    /* v1: "\\\\" is one backslash. */
    ck_assert_str_eq(decode("{\"json\":{\"a\\\\\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\\\\\\":[\"undefined\"]},\"v\":1}}"),
                     "{\"c\":1}");
    /* Array element: stays null. Missing path: ignored. */
    ck_assert_str_eq(decode("{\"json\":[1,null],\"meta\":{\"values\":{\"1\":[\"undefined\"],\"9.z\":[\"undefined\"]},\"v\":1}}"),
                     "[1,null]");
    /* Tree form [annotation, {children}]. */
    ck_assert_str_eq(decode("{\"json\":{\"m\":{\"k\":null,\"j\":1}},\"meta\":{\"values\":{\"m\":[\"object\",{\"k\":[\"undefined\"]}]},\"v\":1}}"),
                     "{\"m\":{\"j\":1}}");
}
END_TEST

START_TEST(decode_bad_envelopes)
{
    ck_assert_str_eq(decode("{\"name\":\"x\"}"), "<error:Invalid superjson input: expected {\"json\": ...}>");
    ck_assert_str_eq(decode("5"), "<error:Invalid superjson input: expected {\"json\": ...}>");
    ck_assert_str_eq(decode("[{\"json\":1}]"), "<error:Invalid superjson input: expected {\"json\": ...}>");
    /* v1 paths only allow \\ and \. escapes; legacy paths take it literally. */
    ck_assert_str_eq(decode("{\"json\":{},\"meta\":{\"values\":{\"a\\\\q\":[\"undefined\"]},\"v\":1}}"),
                     "<error:Invalid superjson input: invalid path>");
    ck_assert_str_eq(decode("{\"json\":{},\"meta\":{\"values\":{\"a\\\\q\":[\"undefined\"]}}}"), "{}");
}
END_TEST

/* The envelope's json is copied: decoding must not change the request document. */
START_TEST(decode_does_not_mutate_envelope)
{
    json_t *env = J("{\"json\":{\"tag\":null},\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}");
    json_t *value = NULL;
    ck_assert_ptr_null(ta_sj_decode(pool, env, &value));
    ck_assert_str_eq(dump_new(value), "{}");
    ck_assert_str_eq(dump_new(json_incref(env)),
                     "{\"json\":{\"tag\":null},\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}");
}
END_TEST

/* ta_sj_decode_take: the same value, without a copy when env alone holds its
 * "json" (which env then loses), with one when someone else holds it too. */
START_TEST(decode_take_instead_of_copy)
{
    json_t *env = J("{\"json\":{\"tag\":null,\"a\":1},\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}");
    json_t *json = json_object_get(env, "json"), *value = NULL, *shared;

    ck_assert_ptr_null(ta_sj_decode_take(pool, env, &value));
    ck_assert_ptr_eq(value, json);                      /* not copied ... */
    ck_assert_str_eq(dump_new(value), "{\"a\":1}");
    ck_assert_ptr_null(json_object_get(env, "json"));   /* ... but taken */

    env = J("{\"json\":{\"tag\":null,\"a\":1},\"meta\":{\"values\":{\"tag\":[\"undefined\"]}}}");
    shared = json_incref(json_object_get(env, "json"));
    ck_assert_ptr_null(ta_sj_decode_take(pool, env, &value));
    ck_assert_ptr_ne(value, shared);
    ck_assert_str_eq(dump_new(value), "{\"a\":1}");
    ck_assert_str_eq(dump_new(shared), "{\"tag\":null,\"a\":1}");   /* its other holder sees no change */
    ck_assert_ptr_nonnull(json_object_get(env, "json"));

    /* errors and absent inputs as ta_sj_decode */
    env = J("{\"json\":{},\"meta\":{\"values\":{\"a\\\\q\":[\"undefined\"]},\"v\":1}}");
    ck_assert_int_eq(ta_sj_decode_take(pool, env, &value)->code, TA_E_BAD_REQUEST);
    ck_assert_ptr_null(value);
    ck_assert_ptr_null(ta_sj_decode_take(pool, J("{\"json\":null,\"meta\":{\"values\":[\"undefined\"]}}"), &value));
    ck_assert_ptr_null(value);
    ck_assert_int_eq(ta_sj_decode_take(pool, J("[1]"), &value)->code, TA_E_BAD_REQUEST);
}
END_TEST

/* Path semantics, each case as superjson 2.2.6's deserialize gives it:
 * escapes (v1 and legacy), empty segments, array indices, the tree form,
 * children before their node's own annotation, and paths that an earlier
 * annotation already removed. */
START_TEST(decode_path_semantics_table)
{
    static const struct {
        const char *env, *want;
    } cases[] = {
        /* empty key and empty segments: "" is the key "", "a..b" has a middle "" */
        { "{\"json\":{\"\":null,\"x\":1},\"meta\":{\"values\":{\"\":[\"undefined\"]},\"v\":1}}",
          "{\"x\":1}" },
        { "{\"json\":{\"a\":{\"\":{\"b\":null,\"c\":1}}},\"meta\":{\"values\":{\"a..b\":[\"undefined\"]},\"v\":1}}",
          "{\"a\":{\"\":{\"c\":1}}}" },
        { "{\"json\":{\"\":{\"\":null,\"k\":1}},\"meta\":{\"values\":{\".\":[\"undefined\"]},\"v\":1}}",
          "{\"\":{\"k\":1}}" },
        /* v1 escapes: \\. is a dot in the key, \\\\ a backslash, \\\\. a backslash then a split */
        { "{\"json\":{\"a.b\":null,\"a\":{\"b\":1}},\"meta\":{\"values\":{\"a\\\\.b\":[\"undefined\"]},\"v\":1}}",
          "{\"a\":{\"b\":1}}" },
        { "{\"json\":{\"a\\\\\":{\"b\":null,\"c\":1}},\"meta\":{\"values\":{\"a\\\\\\\\.b\":[\"undefined\"]},\"v\":1}}",
          "{\"a\\\\\":{\"c\":1}}" },
        { "{\"json\":{\"a\\\\.b\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\\\\\\\\\.b\":[\"undefined\"]},\"v\":1}}",
          "{\"c\":1}" },
        /* legacy (no v): only \\. is an escape; a backslash before anything else is itself */
        { "{\"json\":{\"a\\\\b\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\b\":[\"undefined\"]}}}",
          "{\"c\":1}" },
        { "{\"json\":{\"a\\\\\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\\":[\"undefined\"]}}}",
          "{\"c\":1}" },
        { "{\"json\":{\"a\\\\.b\":null,\"c\":1},\"meta\":{\"values\":{\"a\\\\\\\\.b\":[\"undefined\"]}}}",
          "{\"c\":1}" },
        { "{\"json\":{\"a\\\\\":{\"b\":null},\"c\":1},\"meta\":{\"values\":{\"a\\\\\\\\.b\":[\"undefined\"]},\"v\":0}}",
          "{\"a\\\\\":{\"b\":null},\"c\":1}" },
        /* v1: a trailing backslash or \\q is an error */
        { "{\"json\":{},\"meta\":{\"values\":{\"a\\\\\":[\"undefined\"]},\"v\":1}}",
          "<error:Invalid superjson input: invalid path>" },
        { "{\"json\":{},\"meta\":{\"values\":{\"x\":{\"a\\\\q\":[\"undefined\"]}},\"v\":1}}",
          "<error:Invalid superjson input: invalid path>" },
        /* arrays: elements stay (null), indices must be plain decimals */
        { "{\"json\":[{\"a\":null,\"b\":1},null],\"meta\":{\"values\":{\"0.a\":[\"undefined\"],\"1\":[\"undefined\"]},\"v\":1}}",
          "[{\"b\":1},null]" },
        { "{\"json\":[{\"a\":null}],\"meta\":{\"values\":{\"+0.a\":[\"undefined\"],\"00.a\":[\"undefined\"]},\"v\":1}}",
          "[{}]" },
        { "{\"json\":[{\"a\":null}],\"meta\":{\"values\":{\"-0.a\":[\"undefined\"],\"0x0.a\":[\"undefined\"],"
          "\"99999999999999999999.a\":[\"undefined\"]},\"v\":1}}",
          "[{\"a\":null}]" },
        /* tree form: subpaths relative to their node, over several levels */
        { "{\"json\":{\"m\":{\"k\":{\"x\":null,\"y\":2},\"j\":1}},\"meta\":{\"values\":"
          "{\"m\":[\"object\",{\"k\":[\"object\",{\"x\":[\"undefined\"]}]}]},\"v\":1}}",
          "{\"m\":{\"k\":{\"y\":2},\"j\":1}}" },
        { "{\"json\":{\"m\":{\"k\":{\"x\":null,\"y\":2}}},\"meta\":{\"values\":{\"m\":{\"k.x\":[\"undefined\"]}},\"v\":1}}",
          "{\"m\":{\"k\":{\"y\":2}}}" },
        /* children first, then the node itself */
        { "{\"json\":{\"a\":{\"b\":null},\"c\":1},\"meta\":{\"values\":{\"a\":[\"undefined\",{\"b\":[\"undefined\"]}]},\"v\":1}}",
          "{\"c\":1}" },
        /* a path under a key removed before it: nothing */
        { "{\"json\":{\"a\":{\"b\":null},\"c\":1},\"meta\":{\"values\":{\"a\":[\"undefined\"],\"a.b\":[\"undefined\"]},\"v\":1}}",
          "{\"c\":1}" },
        { "{\"json\":{\"a\":{\"b\":null,\"d\":1}},\"meta\":{\"values\":{\"a.b\":[\"undefined\"],\"a\":[\"Date\"]},\"v\":1}}",
          "{\"a\":{\"d\":1}}" },
        /* paths through scalars or missing keys: ignored */
        { "{\"json\":{\"s\":\"x\",\"n\":null},\"meta\":{\"values\":{\"s.0\":[\"undefined\"],\"n.a\":[\"undefined\"],"
          "\"zz.y\":[\"undefined\"]},\"v\":1}}",
          "{\"s\":\"x\",\"n\":null}" },
        /* other annotations and shapes that are no tree change nothing */
        { "{\"json\":{\"a\":1},\"meta\":{\"values\":{\"a\":[\"bigint\"],\"b\":5,\"c\":[],\"d\":[7]},\"v\":1}}",
          "{\"a\":1}" },
        { "{\"json\":{\"a\":1},\"meta\":{\"values\":\"undefined\",\"v\":1}}", "{\"a\":1}" },
        { "{\"json\":{\"a\":1},\"meta\":{\"values\":[\"undefined\",{\"a\":[\"undefined\"]}],\"v\":1}}", "<absent>" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(strcmp(decode(cases[i].env), cases[i].want) == 0, "case %zu: %s gave %s, want %s",
                      i, cases[i].env, decode(cases[i].env), cases[i].want);
}
END_TEST

/* ------------------------------------------------------- decoding limits */

/* n copies of s, joined by sep (NULL: none). */
static char *rep(const char *s, int n, const char *sep)
{
    size_t len = strlen(s), slen = sep ? strlen(sep) : 0;
    char *out = apr_palloc(pool, (len + slen) * (size_t)(n > 0 ? n : 1) + 1), *o = out;
    int i;

    for (i = 0; i < n; i++) {
        if (i && sep) {
            memcpy(o, sep, slen);
            o += slen;
        }
        memcpy(o, s, len);
        o += len;
    }
    *o = '\0';
    return out;
}

/* n objects nested under the key "a", the innermost being inner:
 * {"a":{"a":...inner...}}. */
static char *nested_a(int n, const char *inner)
{
    return apr_pstrcat(pool, rep("{\"a\":", n, NULL), inner, rep("}", n, NULL), NULL);
}

/* The value of json with the key "a" at the end of an n-segment path a.a.a...
 * annotated "undefined", written as meta.values with one path per tree level
 * in levels (their segments add up to n); as_array: tree nodes as
 * ["object", {...}] rather than {...}. */
static const char *path_envelope(const int *levels, int nlevels, int as_array)
{
    int total = 0, i;
    char *values = "[\"undefined\"]";

    for (i = 0; i < nlevels; i++)
        total += levels[i];
    for (i = nlevels - 1; i >= 0; i--) {
        const char *key = rep("a", levels[i], ".");
        values = i == nlevels - 1 || !as_array
                 ? apr_pstrcat(pool, "{\"", key, "\":", values, "}", NULL)
                 : apr_pstrcat(pool, "{\"", key, "\":[\"object\",", values, "]}", NULL);
    }
    return apr_pstrcat(pool, "{\"json\":", nested_a(total - 1, "{\"a\":null,\"keep\":1}"),
                       ",\"meta\":{\"values\":", values, ",\"v\":1}}", NULL);
}

/* The decoded value path_envelope expects: the last "a" gone. */
static const char *path_expected(const int *levels, int nlevels)
{
    int total = 0, i;

    for (i = 0; i < nlevels; i++)
        total += levels[i];
    return nested_a(total - 1, "{\"keep\":1}");
}

/* n paths "k0".."k<n-1>" annotated "undefined"; flat, or (tree) one entry "t"
 * holding n - 1 subpaths. */
static const char *annotations_envelope(int n, int tree)
{
    char **keys = apr_palloc(pool, sizeof(char *) * (size_t)n);
    apr_array_header_t *json = apr_array_make(pool, n + 1, sizeof(const char *));
    apr_array_header_t *vals = apr_array_make(pool, n, sizeof(const char *));
    int i, m = tree ? n - 1 : n;

    for (i = 0; i < m; i++) {
        keys[i] = apr_psprintf(pool, "k%d", i);
        APR_ARRAY_PUSH(json, const char *) = apr_psprintf(pool, "\"%s\":null", keys[i]);
        APR_ARRAY_PUSH(vals, const char *) = apr_psprintf(pool, "\"%s\":[\"undefined\"]", keys[i]);
    }
    APR_ARRAY_PUSH(json, const char *) = "\"keep\":1";
    if (tree)
        return apr_pstrcat(pool, "{\"json\":{\"t\":{", apr_array_pstrcat(pool, json, ','),
                           "}},\"meta\":{\"values\":{\"t\":[\"object\",{",
                           apr_array_pstrcat(pool, vals, ','), "}]},\"v\":1}}", NULL);
    return apr_pstrcat(pool, "{\"json\":{", apr_array_pstrcat(pool, json, ','),
                       "},\"meta\":{\"values\":{", apr_array_pstrcat(pool, vals, ','),
                       "},\"v\":1}}", NULL);
}

/* n distinct paths "d0".."d<n-1>" annotated "Date", as "key":tree pairs. */
static const char *date_paths(int n)
{
    apr_array_header_t *vals = apr_array_make(pool, n, sizeof(const char *));
    int i;

    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(vals, const char *) = apr_psprintf(pool, "\"d%d\":[\"Date\"]", i);
    return apr_array_pstrcat(pool, vals, ',');
}

/* n distinct paths of 32 segments "p<i>.a.a...a" annotated "undefined". */
static const char *long_paths(int n)
{
    apr_array_header_t *vals = apr_array_make(pool, n, sizeof(const char *));
    const char *tail = rep(".a", TA_SJ_MAX_PATH_SEGMENTS - 1, NULL);
    int i;

    for (i = 0; i < n; i++)
        APR_ARRAY_PUSH(vals, const char *) = apr_psprintf(pool, "\"p%d%s\":[\"undefined\"]", i, tail);
    return apr_array_pstrcat(pool, vals, ',');
}

#define SEGMENTS_MSG "<error:Invalid superjson input: a path has more than 32 segments>"
#define DEPTH_MSG    "<error:Invalid superjson input: meta.values is nested more than 16 levels deep>"
#define PATHS_MSG    "<error:Invalid superjson input: more than 1000 paths in meta.values>"

/* Each limit of trpc/superjson.h: at the limit the input decodes as usual, one
 * over it is BAD_REQUEST with a message that names it. */
START_TEST(decode_limits_table)
{
    static const struct {
        int levels[TA_SJ_MAX_DEPTH + 2];
        int nlevels;
        const char *over;          /* NULL: within the limits */
    } cases[] = {
        { { 32 }, 1, NULL },                                   /* segments in one key */
        { { 33 }, 1, SEGMENTS_MSG },
        { { 16, 16 }, 2, NULL },                               /* ... over two levels */
        { { 16, 17 }, 2, SEGMENTS_MSG },
        { { 1, 30, 1 }, 3, NULL },
        { { 1, 31, 1 }, 3, SEGMENTS_MSG },
        { { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 16, NULL },       /* depth */
        { { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 17, DEPTH_MSG },
        { { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 }, 16, NULL },
        { { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3 }, 16, SEGMENTS_MSG },
        { { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 16 }, 17, DEPTH_MSG },
    };
    size_t i;
    int as_array;

    ck_assert_int_eq(TA_SJ_MAX_PATH_SEGMENTS, 32);
    ck_assert_int_eq(TA_SJ_MAX_DEPTH, 16);
    ck_assert_int_eq(TA_SJ_MAX_ANNOTATIONS, 1000);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (as_array = 0; as_array < 2; as_array++) {
            const char *env = path_envelope(cases[i].levels, cases[i].nlevels, as_array);
            const char *want = cases[i].over ? cases[i].over
                                             : path_expected(cases[i].levels, cases[i].nlevels);
            const char *got = decode(env);
            ck_assert_msg(strcmp(got, want) == 0, "case %zu (%s): %s gave %s, want %s", i,
                          as_array ? "[annotation, tree]" : "{tree}", env, got, want);
        }
    }

    ck_assert_str_eq(decode(annotations_envelope(1000, 0)), "{\"keep\":1}");
    ck_assert_str_eq(decode(annotations_envelope(1001, 0)), PATHS_MSG);
    ck_assert_str_eq(decode(annotations_envelope(1000, 1)), "{\"t\":{\"keep\":1}}");
    ck_assert_str_eq(decode(annotations_envelope(1001, 1)), PATHS_MSG);
    /* paths that change nothing count too */
    ck_assert_str_eq(decode(apr_pstrcat(pool, "{\"json\":1,\"meta\":{\"values\":{",
                                        date_paths(1000), "}}}", NULL)), "1");
    ck_assert_str_eq(decode(apr_pstrcat(pool, "{\"json\":1,\"meta\":{\"values\":{",
                                        date_paths(1001), "}}}", NULL)), PATHS_MSG);
}
END_TEST

/* The resident memory of this process, in bytes. APR pools take their blocks
 * with mmap here (Debian's APR), out of sight of malloc's counters, so the
 * memory a decoding holds is measured as resident memory. */
static size_t resident(void)
{
    unsigned long size = 0, pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &pages), 2);
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Resident memory taken by decoding env (the blocks of a pool with an
 * allocator of its own, so all newly mapped, and jansson's nodes), before any
 * of it is freed; *got gets decode()'s answer. */
static size_t decode_growth(const char *env_text, const char **got)
{
    apr_allocator_t *alloc;
    apr_pool_t *sub;
    json_t *env = J(env_text), *value = NULL;
    ta_error_t *e;
    size_t before, after;

    ck_assert_int_eq(apr_allocator_create(&alloc), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create_ex(&sub, NULL, NULL, alloc), APR_SUCCESS);
    apr_allocator_owner_set(alloc, sub);
    before = resident();
    e = ta_sj_decode(sub, env, &value);
    after = resident();
    *got = e ? apr_pstrcat(pool, "<error:", e->message, ">", NULL) : value ? "<value>" : "<absent>";
    json_decref(value);
    apr_pool_destroy(sub);
    return after > before ? after - before : 0;
}

/* Issue 11: a meta.values key of N dots is N + 1 path segments, and every one
 * of D tree levels below it copied the whole path: N x D memory and time.
 * The reported payload (16 KB, 12 000 dots, 700 levels) and a 62 KB variant
 * are refused at once, with memory of the order of their own size. */
START_TEST(decode_dotted_key_regression)
{
    static const struct {
        int dots, levels;
    } cases[] = {
        { 12000, 700 },     /* the report's payload: 0.32 s and +93 MB in a worker */
        { 50000, 2000 },    /* 62 KB, under the default body limit: about 1 GB before */
    };
    size_t i, used;
    const char *got;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *env = apr_pstrcat(pool, "{\"json\":{},\"meta\":{\"values\":{\"",
                                      rep(".", cases[i].dots, NULL), "\":",
                                      rep("{\"b\":", cases[i].levels, NULL), "[\"undefined\"]",
                                      rep("}", cases[i].levels, NULL), "}}}", NULL);
        used = decode_growth(env, &got);
        ck_assert_str_eq(got, SEGMENTS_MSG);
        ck_assert_msg(used < 16 * strlen(env) + 256 * 1024, "%zu-byte payload: decoding took %zu bytes",
                      strlen(env), used);
    }
    /* Within the limits the cost stays linear: a 30-dot key (31 segments)
     * over 998 paths of one more segment, and 1000 paths of 32 segments. */
    used = decode_growth(apr_pstrcat(pool, "{\"json\":{},\"meta\":{\"values\":{\"", rep(".", 30, NULL),
                                   "\":[\"object\",{", date_paths(998), "}]}}}", NULL), &got);
    ck_assert_str_eq(got, "<value>");
    ck_assert_msg(used < 256 * 1024, "decoding 999 short paths took %zu bytes", used);
    used = decode_growth(apr_pstrcat(pool, "{\"json\":{},\"meta\":{\"values\":{",
                                   date_paths(1), ",", long_paths(999), "}}}", NULL),
                       &got);
    ck_assert_str_eq(got, "<value>");
    ck_assert_msg(used < 512 * 1024, "decoding 1000 paths of 32 segments took %zu bytes", used);
}
END_TEST

/* ----------------------------------------------------------------- encode */

START_TEST(encode_scalars_and_undefined)
{
    ck_assert_str_eq(dump_new(ta_sj_encode(J("\"hi\""))), "{\"json\":\"hi\"}");
    ck_assert_str_eq(dump_new(ta_sj_encode(J("null"))), "{\"json\":null}");
    ck_assert_str_eq(dump_new(ta_sj_encode(NULL)),
                     "{\"json\":null,\"meta\":{\"values\":[\"undefined\"],\"v\":1}}");
    ck_assert_str_eq(dump_new(ta_sj_encode(J("{\"success\":true}"))), "{\"json\":{\"success\":true}}");
}
END_TEST

START_TEST(encode_dates)
{
    json_t *o;

    ck_assert_str_eq(dump_new(ta_sj_encode(ta_json_pool(pool, ta_sj_date(D1)))),
                     "{\"json\":\"" D1 "\",\"meta\":{\"values\":[\"Date\"],\"v\":1}}");

    o = ta_json_pool(pool, json_object());
    json_object_set_new(o, "createdAt", ta_sj_date(D1));
    ck_assert_str_eq(dump_new(ta_sj_encode(o)),
                     "{\"json\":{\"createdAt\":\"" D1 "\"},\"meta\":{\"values\":{\"createdAt\":[\"Date\"]},\"v\":1}}");

    o = ta_json_pool(pool, json_pack("{s:{s:o, s:[s]}}", "user", "createdAt", ta_sj_date(D1), "tags", "x"));
    ck_assert_str_eq(dump_new(ta_sj_encode(o)),
                     "{\"json\":{\"user\":{\"createdAt\":\"" D1 "\",\"tags\":[\"x\"]}},"
                     "\"meta\":{\"values\":{\"user.createdAt\":[\"Date\"]},\"v\":1}}");

    o = ta_json_pool(pool, json_pack("{s:o}", "a.b", ta_sj_date(D1)));
    ck_assert_str_eq(dump_new(ta_sj_encode(o)),
                     "{\"json\":{\"a.b\":\"" D1 "\"},\"meta\":{\"values\":{\"a\\\\.b\":[\"Date\"]},\"v\":1}}");
}
END_TEST

/* Rows as transaction.getAll returns them: [row,row] -> "0.createdAt" ... */
START_TEST(encode_rows)
{
    json_t *rows = ta_json_pool(pool, json_array());
    int i;

    for (i = 0; i < 2; i++)
        json_array_append_new(rows, json_pack("{s:i, s:i, s:o, s:o}", "id", i + 1, "amount", 100,
                                              "createdAt", ta_sj_date(D1),
                                              "updatedAt", ta_sj_date(D2)));
    ck_assert_str_eq(dump_new(ta_sj_encode(rows)),
                     "{\"json\":[{\"id\":1,\"amount\":100,\"createdAt\":\"" D1 "\",\"updatedAt\":\"" D2 "\"},"
                     "{\"id\":2,\"amount\":100,\"createdAt\":\"" D1 "\",\"updatedAt\":\"" D2 "\"}],"
                     "\"meta\":{\"values\":{\"0.createdAt\":[\"Date\"],\"0.updatedAt\":[\"Date\"],"
                     "\"1.createdAt\":[\"Date\"],\"1.updatedAt\":[\"Date\"]},\"v\":1}}");
    /* The output itself is untouched. */
    ck_assert_str_eq(ta_sj_date_value(json_object_get(json_array_get(rows, 0), "createdAt")), D1);
}
END_TEST

START_TEST(plain_and_collect)
{
    json_t *o = ta_json_pool(pool, json_pack("{s:[o], s:n}", "list", ta_sj_date(D1), "x"));
    json_t *values = ta_json_pool(pool, json_object());

    ck_assert_str_eq(dump_new(ta_sj_plain(o)), "{\"list\":[\"" D1 "\"],\"x\":null}");
    ck_assert_ptr_null(ta_sj_plain(NULL));
    ck_assert_str_eq(dump_new(ta_sj_plain_collect(o, "3.0.0.result.data", values)),
                     "{\"list\":[\"" D1 "\"],\"x\":null}");
    ck_assert_str_eq(dump_new(json_incref(values)), "{\"3.0.0.result.data.list.0\":[\"Date\"]}");

    /* A root Date under a prefix gets the prefix itself as its path. */
    values = ta_json_pool(pool, json_object());
    ck_assert_str_eq(dump_new(ta_sj_plain_collect(ta_json_pool(pool, ta_sj_date(D2)), "0.0.0.result.data", values)),
                     "\"" D2 "\"");
    ck_assert_str_eq(dump_new(json_incref(values)), "{\"0.0.0.result.data\":[\"Date\"]}");
}
END_TEST

/* ta_sj_plain_take converts what only it holds in place, and copies what is shared. */
START_TEST(plain_take_in_place_unless_shared)
{
    json_t *shared = json_pack("{s:o}", "at", ta_sj_date(D2));
    json_t *rows = json_pack("[{s:i, s:o, s:o}, o]", "id", 1, "createdAt", ta_sj_date(D1),
                             "updatedAt", ta_sj_date(D2), json_incref(shared));
    json_t *row0 = json_array_get(rows, 0);
    json_t *plain = ta_sj_plain_take(rows);

    ck_assert_ptr_eq(plain, rows);                      /* not copied ... */
    ck_assert_str_eq(json_string_value(json_object_get(row0, "createdAt")), D1);  /* ... converted */
    ck_assert_str_eq(dump_new(json_incref(plain)),
                     "[{\"id\":1,\"createdAt\":\"" D1 "\",\"updatedAt\":\"" D2 "\"},"
                     "{\"at\":\"" D2 "\"}]");
    /* The object also held elsewhere was copied: its holder still sees the marker. */
    ck_assert_ptr_ne(json_array_get(rows, 1), shared);
    ck_assert_str_eq(ta_sj_date_value(json_object_get(shared, "at")), D2);
    json_decref(plain);
    json_decref(rows);
    json_decref(shared);
}
END_TEST

UNIT_SUITE(superjson)
{
    tcase_add_test(tc, date_marker_roundtrip);
    tcase_add_test(tc, date_marker_not_forgeable);
    tcase_add_test(tc, decode_no_input_envelope_is_absent);
    tcase_add_test(tc, decode_undefined_key_removed);
    tcase_add_test(tc, decode_plain_and_meta_variants);
    tcase_add_test(tc, decode_nested_and_escaped_paths);
    tcase_add_test(tc, decode_bad_envelopes);
    tcase_add_test(tc, decode_does_not_mutate_envelope);
    tcase_add_test(tc, decode_take_instead_of_copy);
    tcase_add_test(tc, decode_path_semantics_table);
    tcase_add_test(tc, decode_limits_table);
    tcase_add_test(tc, decode_dotted_key_regression);
    tcase_add_test(tc, encode_scalars_and_undefined);
    tcase_add_test(tc, encode_dates);
    tcase_add_test(tc, encode_rows);
    tcase_add_test(tc, plain_take_in_place_unless_shared);
    tcase_add_test(tc, plain_and_collect);
}
