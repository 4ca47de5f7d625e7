/*
 * test_jsontext.c - the JSON text writer: string escaping, numbers and null,
 * dates, and growth past the first buffer. Every string it writes must parse
 * back (jansson) to what went in.
 */
#include "unit.h"
#include "util/jsontext.h"

#include <jansson.h>
#include <string.h>

static const struct {
    const char *in;      /* NULL: SQL NULL */
    const char *json;
} strings[] = {
    { NULL, "null" },
    { "", "\"\"" },
    { "Food", "\"Food\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "a\\b", "\"a\\\\b\"" },
    { "l1\nl2\r\tx", "\"l1\\nl2\\r\\tx\"" },
    { "\x01\x1f", "\"\\u0001\\u001f\"" },
    { "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },   /* UTF-8 as it is */
    { "\x7f/", "\"\x7f/\"" },
};

START_TEST(strings_are_escaped_and_parse_back)
{
    ta_jtext_t t = TA_JTEXT_INIT(pool);
    json_t *v;

    ta_jtext_string(&t, strings[_i].in);
    ck_assert_str_eq(t.data, strings[_i].json);
    ck_assert_uint_eq(t.len, strlen(strings[_i].json));
    v = json_loads(t.data, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(v);
    if (strings[_i].in) ck_assert_str_eq(json_string_value(v), strings[_i].in);
    else ck_assert(json_is_null(v));
    json_decref(v);
}
END_TEST

START_TEST(a_row_as_the_list_writes_it)
{
    ta_jtext_t t = TA_JTEXT_INIT(pool);

    ta_jtext_puts(&t, "[{\"id\":");   ta_jtext_number(&t, "42");
    ta_jtext_puts(&t, ",\"tag\":");   ta_jtext_string(&t, NULL);
    ta_jtext_puts(&t, ",\"n\":");     ta_jtext_number(&t, NULL);
    ta_jtext_puts(&t, ",\"at\":");    ta_jtext_iso_date(&t, APR_INT64_C(1714979289123456));
    ta_jtext_puts(&t, "}]");
    ck_assert_str_eq(t.data,
                     "[{\"id\":42,\"tag\":null,\"n\":null,\"at\":\"2024-05-06T07:08:09.123Z\"}]");
}
END_TEST

START_TEST(text_grows_past_its_first_buffer)
{
    ta_jtext_t t = TA_JTEXT_INIT(pool);
    char chunk[301];
    int i;

    memset(chunk, 'x', 300);
    chunk[300] = '\0';
    for (i = 0; i < 100; i++) {
        ta_jtext_puts(&t, chunk);
    }
    ck_assert_uint_eq(t.len, 30000);
    ck_assert_uint_eq(strlen(t.data), 30000);
    ck_assert_uint_ge(t.cap, 30001);
    ck_assert_int_eq(t.data[29999], 'x');
}
END_TEST

UNIT_SUITE(jsontext)
{
    UNIT_ADD_TABLE(tc, strings_are_escaped_and_parse_back, strings);
    tcase_add_test(tc, a_row_as_the_list_writes_it);
    tcase_add_test(tc, text_grows_past_its_first_buffer);
}
