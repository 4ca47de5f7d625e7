/* Unit tests for src/trpc/validate.c (mini-zod) and src/trpc/error.c (code table, errors). */
#include <string.h>

#include <apr_strings.h>

#include "unit.h"
#include "trpc/validate.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, e.text);
    return ta_json_pool(pool, j);
}

static const char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy = apr_pstrdup(pool, s);
    free(s);
    return copy;
}

static const char *const TXN_TYPES[] = { "Incoming", "Outgoing", NULL };

/* ---------------------------------------------------------------- error.c */

START_TEST(code_table)
{
    static const struct { ta_code_t c; const char *key; int rpc, http; } rows[] = {
        { TA_E_PARSE_ERROR, "PARSE_ERROR", -32700, 400 },
        { TA_E_BAD_REQUEST, "BAD_REQUEST", -32600, 400 },
        { TA_E_UNAUTHORIZED, "UNAUTHORIZED", -32001, 401 },
        { TA_E_PAYMENT_REQUIRED, "PAYMENT_REQUIRED", -32002, 402 },
        { TA_E_FORBIDDEN, "FORBIDDEN", -32003, 403 },
        { TA_E_NOT_FOUND, "NOT_FOUND", -32004, 404 },
        { TA_E_METHOD_NOT_SUPPORTED, "METHOD_NOT_SUPPORTED", -32005, 405 },
        { TA_E_TIMEOUT, "TIMEOUT", -32008, 408 },
        { TA_E_CONFLICT, "CONFLICT", -32009, 409 },
        { TA_E_PRECONDITION_FAILED, "PRECONDITION_FAILED", -32012, 412 },
        { TA_E_PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", -32013, 413 },
        { TA_E_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", -32015, 415 },
        { TA_E_UNPROCESSABLE_CONTENT, "UNPROCESSABLE_CONTENT", -32022, 422 },
        { TA_E_PRECONDITION_REQUIRED, "PRECONDITION_REQUIRED", -32028, 428 },
        { TA_E_TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", -32029, 429 },
        { TA_E_CLIENT_CLOSED_REQUEST, "CLIENT_CLOSED_REQUEST", -32099, 499 },
        { TA_E_INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", -32603, 500 },
        { TA_E_NOT_IMPLEMENTED, "NOT_IMPLEMENTED", -32603, 501 },
        { TA_E_BAD_GATEWAY, "BAD_GATEWAY", -32603, 502 },
        { TA_E_SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", -32603, 503 },
        { TA_E_GATEWAY_TIMEOUT, "GATEWAY_TIMEOUT", -32603, 504 },
    };
    size_t i;

    ck_assert_int_eq(sizeof rows / sizeof rows[0], TA_E__COUNT);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ck_assert_str_eq(ta_code_key(rows[i].c), rows[i].key);
        ck_assert_int_eq(ta_code_jsonrpc(rows[i].c), rows[i].rpc);
        ck_assert_int_eq(ta_code_http(rows[i].c), rows[i].http);
    }
    ck_assert_str_eq(ta_code_key(TA_E__COUNT), "INTERNAL_SERVER_ERROR");
}
END_TEST

START_TEST(error_make)
{
    ta_error_t *e = ta_error_make(pool, TA_E_FORBIDDEN, NULL);
    ck_assert_str_eq(e->message, "FORBIDDEN");
    ck_assert_ptr_null(e->zod);
    ck_assert_int_eq(e->retry_after, 0);
    ck_assert_ptr_null(e->allow);

    e = ta_error_make(pool, TA_E_NOT_FOUND, "No procedure found on path \"%s\"", "nope");
    ck_assert_str_eq(e->message, "No procedure found on path \"nope\"");
    e = ta_error_make(pool, TA_E_BAD_REQUEST, "%lld %zu %s", 9007199254740993LL, (size_t)7, "x");
    ck_assert_str_eq(e->message, "9007199254740993 7 x");
}
END_TEST

START_TEST(json_pool_releases)
{
    apr_pool_t *sub;
    json_t *j = json_object();

    apr_pool_create(&sub, pool);
    json_incref(j);
    ck_assert_ptr_eq(ta_json_pool(sub, j), j);
    ck_assert_ptr_null(ta_json_pool(sub, NULL));
    ck_assert_int_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_int_eq(j->refcount, 1);
    json_decref(j);
}
END_TEST

/* ------------------------------------------------------------- validate.c */

START_TEST(valid_input_passes)
{
    ta_validator_t v;
    long long amount = 0;

    ta_v_init(&v, pool, J("{\"email\":\"a@b.c\",\"amount\":150,\"txnType\":\"Outgoing\",\"extra\":[1]}"));
    ck_assert_str_eq(ta_v_string(&v, "email", 1), "a@b.c");
    ck_assert_int_eq(ta_v_int(&v, "amount", 1, &amount), 1);
    ck_assert_int_eq(amount, 150);
    ck_assert_str_eq(ta_v_enum(&v, "txnType", 1, TXN_TYPES), "Outgoing");
    ck_assert_ptr_null(ta_v_string(&v, "summary", 0));
    ck_assert_ptr_null(ta_v_finish(&v));
}
END_TEST

START_TEST(optional_null_and_absent)
{
    ta_validator_t v;
    long long n = 42;

    ta_v_init(&v, pool, J("{\"summary\":null,\"tag\":null}"));
    ck_assert_ptr_null(ta_v_string(&v, "summary", 0));
    ck_assert_ptr_null(ta_v_enum(&v, "tag", 0, TXN_TYPES));
    ck_assert_int_eq(ta_v_int(&v, "n", 0, &n), 0);
    ck_assert_int_eq(n, 42);
    ck_assert_ptr_null(ta_v_finish(&v));
}
END_TEST

START_TEST(wrong_type_exact_message)
{
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, pool, J("{\"email\":5}"));
    ck_assert_ptr_null(ta_v_string(&v, "email", 1));
    e = ta_v_finish(&v);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->code, TA_E_BAD_REQUEST);
    ck_assert_str_eq(e->message,
                     "[\n"
                     "  {\n"
                     "    \"code\": \"invalid_type\",\n"
                     "    \"expected\": \"string\",\n"
                     "    \"received\": \"number\",\n"
                     "    \"path\": [\n"
                     "      \"email\"\n"
                     "    ],\n"
                     "    \"message\": \"Expected string, received number\"\n"
                     "  }\n"
                     "]");
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[],\"fieldErrors\":{\"email\":[\"Expected string, received number\"]}}");
}
END_TEST

START_TEST(required_missing_and_null)
{
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, pool, J("{\"password\":null}"));
    ck_assert_ptr_null(ta_v_string(&v, "email", 1));
    ck_assert_ptr_null(ta_v_string(&v, "password", 1));
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[],\"fieldErrors\":{\"email\":[\"Required\"],"
                     "\"password\":[\"Expected string, received null\"]}}");
    ck_assert_ptr_nonnull(strstr(e->message, "\"received\": \"undefined\""));
}
END_TEST

START_TEST(integers)
{
    ta_validator_t v;
    long long n = 0;
    ta_error_t *e;

    ta_v_init(&v, pool, J("{\"a\":5.0,\"b\":1e3,\"c\":1.5,\"d\":\"7\",\"e\":1e300,\"f\":-12}"));
    ck_assert_int_eq(ta_v_int(&v, "a", 1, &n), 1);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(ta_v_int(&v, "b", 1, &n), 1);
    ck_assert_int_eq(n, 1000);
    ck_assert_int_eq(ta_v_int(&v, "f", 1, &n), 1);
    ck_assert_int_eq(n, -12);
    ck_assert_int_eq(ta_v_int(&v, "c", 1, &n), 0);
    ck_assert_int_eq(ta_v_int(&v, "d", 1, &n), 0);
    ck_assert_int_eq(ta_v_int(&v, "e", 1, &n), 0);
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[],\"fieldErrors\":{\"c\":[\"Expected integer, received float\"],"
                     "\"d\":[\"Expected number, received string\"],"
                     "\"e\":[\"Number must be less than or equal to 9007199254740991\"]}}");
    /* zod 3 puts "message" before "path" for the int check. */
    ck_assert_ptr_nonnull(strstr(e->message,
                                 "\"received\": \"float\",\n    \"message\": \"Expected integer, received float\",\n"
                                 "    \"path\": [\n      \"c\"\n    ]\n"));
}
END_TEST

START_TEST(enums)
{
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, pool, J("{\"txnType\":\"x\",\"other\":3}"));
    ck_assert_ptr_null(ta_v_enum(&v, "txnType", 1, TXN_TYPES));
    ck_assert_ptr_null(ta_v_enum(&v, "other", 1, TXN_TYPES));
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[],\"fieldErrors\":{"
                     "\"txnType\":[\"Invalid enum value. Expected 'Incoming' | 'Outgoing', received 'x'\"],"
                     "\"other\":[\"Expected 'Incoming' | 'Outgoing', received number\"]}}");
    ck_assert_ptr_nonnull(strstr(e->message,
                                 "    \"received\": \"x\",\n    \"code\": \"invalid_enum_value\",\n"
                                 "    \"options\": [\n      \"Incoming\",\n      \"Outgoing\"\n    ],\n"));
}
END_TEST

START_TEST(root_not_object)
{
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, pool, J("[1]"));
    ck_assert_ptr_null(ta_v_string(&v, "email", 1));   /* nothing more reported */
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod), "{\"formErrors\":[\"Expected object, received array\"],\"fieldErrors\":{}}");
    ck_assert_str_eq(e->message,
                     "[\n  {\n    \"code\": \"invalid_type\",\n    \"expected\": \"object\",\n"
                     "    \"received\": \"array\",\n    \"path\": [],\n"
                     "    \"message\": \"Expected object, received array\"\n  }\n]");

    ta_v_init(&v, pool, NULL);
    ck_assert_ptr_null(ta_v_string(&v, "email", 1));
    ck_assert_str_eq(dump(ta_v_finish(&v)->zod), "{\"formErrors\":[\"Required\"],\"fieldErrors\":{}}");

    ta_v_init(&v, pool, J("null"));
    ck_assert_str_eq(dump(ta_v_finish(&v)->zod),
                     "{\"formErrors\":[\"Expected object, received null\"],\"fieldErrors\":{}}");
}
END_TEST

START_TEST(nul_and_bad_utf8_strings)
{
    ta_validator_t v;
    json_t *in = J("{\"email\":\"a\\u0000b\",\"txnType\":\"Incoming\\u0000\"}");
    ta_error_t *e;

    json_object_set_new_nocheck(in, "name", json_stringn_nocheck("\xff\xfe", 2));
    json_object_set_new(in, "ok", json_string("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    ta_v_init(&v, pool, in);
    ck_assert_ptr_null(ta_v_string(&v, "email", 1));
    ck_assert_ptr_null(ta_v_string(&v, "name", 1));
    ck_assert_ptr_null(ta_v_enum(&v, "txnType", 1, TXN_TYPES));
    ck_assert_str_eq(ta_v_string(&v, "ok", 1), "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[],\"fieldErrors\":{\"email\":[\"Invalid string\"],"
                     "\"name\":[\"Invalid string\"],\"txnType\":[\"Invalid string\"]}}");
}
END_TEST

START_TEST(utf8_clean)
{
    ck_assert_int_eq(ta_utf8_clean("abc", 3), 1);
    ck_assert_int_eq(ta_utf8_clean("", 0), 1);
    ck_assert_int_eq(ta_utf8_clean("a\0b", 3), 0);
    ck_assert_int_eq(ta_utf8_clean("\xc0\xaf", 2), 0);          /* overlong '/' */
    ck_assert_int_eq(ta_utf8_clean("\xed\xa0\x80", 3), 0);      /* surrogate */
    ck_assert_int_eq(ta_utf8_clean("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
    ck_assert_int_eq(ta_utf8_clean("\xe2\x82", 2), 0);          /* truncated */
    ck_assert_int_eq(ta_utf8_clean("\xf0\x9f\x98\x80", 4), 1);
}
END_TEST

START_TEST(fail_and_multiple_messages)
{
    ta_validator_t v;
    ta_error_t *e;

    ta_v_init(&v, pool, J("{\"password\":\"short\"}"));
    ck_assert_str_eq(ta_v_string(&v, "password", 1), "short");
    ta_v_fail(&v, "password", "too_small", "String must contain at least %d character(s)", 8);
    ta_v_fail(&v, "password", "custom", "weak");
    ta_v_fail(&v, NULL, "custom", "Passwords differ");
    e = ta_v_finish(&v);
    ck_assert_str_eq(dump(e->zod),
                     "{\"formErrors\":[\"Passwords differ\"],\"fieldErrors\":{\"password\":"
                     "[\"String must contain at least 8 character(s)\",\"weak\"]}}");
    ck_assert_ptr_nonnull(strstr(e->message, "\"code\": \"too_small\",\n    \"path\": [\n      \"password\"\n"));
}
END_TEST

UNIT_SUITE(validate)
{
    tcase_add_test(tc, code_table);
    tcase_add_test(tc, error_make);
    tcase_add_test(tc, json_pool_releases);
    tcase_add_test(tc, valid_input_passes);
    tcase_add_test(tc, optional_null_and_absent);
    tcase_add_test(tc, wrong_type_exact_message);
    tcase_add_test(tc, required_missing_and_null);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, enums);
    tcase_add_test(tc, root_not_object);
    tcase_add_test(tc, nul_and_bad_utf8_strings);
    tcase_add_test(tc, utf8_clean);
    tcase_add_test(tc, fail_and_multiple_messages);
}
