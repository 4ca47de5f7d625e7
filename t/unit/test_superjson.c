/* Unit tests for src/superjson.c: Date markers, input envelopes, output envelopes. */
#include <string.h>

#include <apr_strings.h>

#include "unit.h"
#include "ta_superjson.h"

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

int main(void)
{
    Suite *s = suite_create("superjson");
    TCase *tc = tcase_create("superjson");

    tcase_add_checked_fixture(tc, unit_setup, unit_teardown);
    tcase_add_test(tc, date_marker_roundtrip);
    tcase_add_test(tc, date_marker_not_forgeable);
    tcase_add_test(tc, decode_no_input_envelope_is_absent);
    tcase_add_test(tc, decode_undefined_key_removed);
    tcase_add_test(tc, decode_plain_and_meta_variants);
    tcase_add_test(tc, decode_nested_and_escaped_paths);
    tcase_add_test(tc, decode_bad_envelopes);
    tcase_add_test(tc, decode_does_not_mutate_envelope);
    tcase_add_test(tc, encode_scalars_and_undefined);
    tcase_add_test(tc, encode_dates);
    tcase_add_test(tc, encode_rows);
    tcase_add_test(tc, plain_take_in_place_unless_shared);
    tcase_add_test(tc, plain_and_collect);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
