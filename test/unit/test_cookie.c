/*
 * test_cookie.c - reading the Cookie header and writing Set-Cookie values.
 */
#include "unit.h"
#include "util/cookie.h"

#include <apr_date.h>
#include <apr_strings.h>
#include <apr_time.h>

#include <string.h>

#define MAX 4096

static const char *get(const char *header, const char *name)
{
    return ta_cookie_get(pool, header, name, MAX);
}

/* ------------------------------------------------------------- reading */

START_TEST(pairs_are_split_on_semicolons)
{
    const char *h = "a=b; c=d;e=f";
    ck_assert_str_eq(get(h, "a"), "b");
    ck_assert_str_eq(get(h, "c"), "d");
    ck_assert_str_eq(get(h, "e"), "f");
    ck_assert_ptr_null(get(h, "b"));
    ck_assert_ptr_null(get(h, "g"));
}
END_TEST

START_TEST(spaces_and_tabs_are_trimmed)
{
    const char *h = " \ta = b \t;\tc=\t d ;  e = f g ";
    ck_assert_str_eq(get(h, "a"), "b");
    ck_assert_str_eq(get(h, "c"), "d");
    ck_assert_str_eq(get(h, "e"), "f g");
}
END_TEST

START_TEST(surrounding_double_quotes_are_removed)
{
    ck_assert_str_eq(get("a=\"xyz\"", "a"), "xyz");
    ck_assert_str_eq(get("a= \"xyz\" ; b=1", "a"), "xyz");
    ck_assert_str_eq(get("a=\"\"", "a"), "");
    ck_assert_str_eq(get("a=\"", "a"), "\"");
    ck_assert_str_eq(get("a=x\"", "a"), "x\"");
}
END_TEST

START_TEST(first_occurrence_wins)
{
    ck_assert_str_eq(get("a=1; a=2", "a"), "1");
    ck_assert_str_eq(get("b=0; a=1; x=y; a=2", "a"), "1");
    /* an oversized first cookie is not replaced by a later one */
    ck_assert_ptr_null(ta_cookie_get(pool, "a=12345; a=1", "a", 3));
}
END_TEST

START_TEST(comma_merged_headers_are_split_before_a_name)
{
    const char *h = "accessToken=h.p.s, refreshToken=x.y.z,logged_in=true";
    ck_assert_str_eq(get(h, "accessToken"), "h.p.s");
    ck_assert_str_eq(get(h, "refreshToken"), "x.y.z");
    ck_assert_str_eq(get(h, "logged_in"), "true");
    /* a comma not followed by name= stays in the value */
    ck_assert_str_eq(get("a=x,y; b=2", "a"), "x,y");
    ck_assert_str_eq(get("a=x, y; b=2", "a"), "x, y");
    ck_assert_str_eq(get("a=x,; b=2", "a"), "x,");
    ck_assert_str_eq(get("a=x,y; b=2", "b"), "2");
}
END_TEST

START_TEST(names_match_exactly)
{
    ck_assert_str_eq(get("xa=1; a=2", "a"), "2");
    ck_assert_str_eq(get("a=1; xa=2", "xa"), "2");
    ck_assert_ptr_null(get("aa=1", "a"));
    ck_assert_ptr_null(get("a=1", "aa"));
    ck_assert_ptr_null(get("A=1", "a"));
    ck_assert_ptr_null(get("a b=1", "b"));
}
END_TEST

START_TEST(values_keep_equals_signs)
{
    ck_assert_str_eq(get("t=abc==; x=1", "t"), "abc==");
    ck_assert_str_eq(get("t==x", "t"), "=x");
}
END_TEST

START_TEST(odd_pairs_are_skipped)
{
    ck_assert_str_eq(get("=v; a=1", "a"), "1");
    ck_assert_str_eq(get(" = ; a=1", "a"), "1");
    ck_assert_str_eq(get("foo; a=1", "a"), "1");
    ck_assert_str_eq(get(";;; ,, a=1 ;;", "a"), "1");
    ck_assert_str_eq(get("a=", "a"), "");
    ck_assert_str_eq(get("a=;b=2", "a"), "");
    ck_assert_ptr_null(get("a", "a"));
    ck_assert_ptr_null(get("a;", "a"));
    ck_assert_ptr_null(get(";;;", "a"));
    ck_assert_ptr_null(get("", "a"));
    ck_assert_ptr_null(get("=", "a"));
    ck_assert_ptr_null(get(NULL, "a"));
    ck_assert_ptr_null(get("a=1", ""));
    ck_assert_ptr_null(get("a=1", NULL));
    ck_assert_ptr_null(get("=1", ""));
}
END_TEST

START_TEST(value_longer_than_max_len_is_absent)
{
    ck_assert_str_eq(ta_cookie_get(pool, "a=0123456789", "a", 10), "0123456789");
    ck_assert_ptr_null(ta_cookie_get(pool, "a=0123456789", "a", 9));
    ck_assert_str_eq(ta_cookie_get(pool, "a=\"0123456789\"", "a", 10), "0123456789");
    ck_assert_str_eq(ta_cookie_get(pool, "a=", "a", 0), "");
}
END_TEST

START_TEST(hostile_headers_are_handled)
{
    apr_size_t n = 100 * 1024;
    char *big = apr_palloc(pool, n + 64);
    char *h;
    int i;

    /* 100 KB of one value, then the wanted cookie */
    memcpy(big, "junk=", 5);
    memset(big + 5, 'x', n);
    strcpy(big + 5 + n, "; accessToken=tok");
    ck_assert_str_eq(get(big, "accessToken"), "tok");
    ck_assert_ptr_null(get(big, "junk"));                 /* over max_len */
    ck_assert_uint_eq(strlen(ta_cookie_get(pool, big, "junk", n)), n);

    /* 100 KB of separators, of '=' and of commas */
    memset(big, ';', n);
    big[n] = '\0';
    ck_assert_ptr_null(get(big, "a"));
    memset(big, '=', n);
    ck_assert_ptr_null(get(big, "a"));
    memset(big, ',', n);
    ck_assert_ptr_null(get(big, "a"));
    for (i = 0; i + 2 < (int)n; i += 2)
        memcpy(big + i, ",a", 2);
    ck_assert_ptr_null(get(big, "a"));
    memcpy(big, "b=", 2);
    ck_assert_ptr_null(get(big, "a"));
    ck_assert_ptr_null(get(big, "b"));

    /* 100 cookies, the wanted one last */
    h = "";
    for (i = 0; i < 100; i++)
        h = apr_psprintf(pool, "%sc%d=v%d; ", h, i, i);
    h = apr_pstrcat(pool, h, "accessToken=last", NULL);
    ck_assert_str_eq(get(h, "accessToken"), "last");
    ck_assert_str_eq(get(h, "c0"), "v0");
    ck_assert_str_eq(get(h, "c99"), "v99");
    ck_assert_ptr_null(get(h, "c100"));
}
END_TEST

/* ------------------------------------------------------------- writing */

static const ta_cookie_attrs_t strict = { 1, "Strict", NULL, NULL };

/* Splits "...; Expires=<date>; ..." into the text around the date and checks
 * that the date is an IMF-fixdate close to now + max_age. */
static void check_expires(const char *cookie, apr_int64_t max_age, char **before, char **after)
{
    const char *e = strstr(cookie, "; Expires=");
    const char *end;
    apr_time_t t;
    apr_int64_t delta;

    ck_assert_ptr_nonnull(e);
    e += strlen("; Expires=");
    end = strchr(e, ';');
    if (end == NULL)
        end = e + strlen(e);
    ck_assert_int_eq(end - e, 29);
    ck_assert_str_eq(apr_pstrndup(pool, e + 25, 4), " GMT");
    t = apr_date_parse_rfc(apr_pstrndup(pool, e, (apr_size_t)(end - e)));
    ck_assert_int_ne(t, APR_DATE_BAD);
    delta = apr_time_sec(t) - (apr_time_sec(apr_time_now()) + max_age);
    ck_assert_int_le(delta < 0 ? -delta : delta, 2);
    *before = apr_pstrndup(pool, cookie, (apr_size_t)(e - cookie));
    *after = apr_pstrdup(pool, end);
}

/* ------------------------------------------------------------ strip */

START_TEST(strip_removes_named_cookies_and_keeps_the_rest)
{
    static const char *const names[] = { "accessToken", "refreshToken", "logged_in" };
    static const struct { const char *in, *out; int removed; } cases[] = {
        { "a=1; accessToken=x; b=2",                       "a=1; b=2",  1 },
        { "accessToken=x;refreshToken=y;logged_in=true",   NULL,        3 },
        { "a=1;b=2",                                       "a=1;b=2",   0 },  /* untouched */
        { " accessToken = x ; theme=dark ",                "theme=dark", 1 },
        { "accessToken=x; accessToken=y; c=\"q;r\"",     "c=\"q",    2 },
        { "a=1, accessToken=x, b=2",                       "a=1; b=2",  1 },  /* merged headers */
        { "xaccessToken=1; accessTokenx=2",                "xaccessToken=1; accessTokenx=2", 0 },
        { "junk; accessToken=x; =v",                       "=v",        1 },
        { "",                                              "",          0 },
    };
    size_t i;
    int removed_none;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int removed = -1;
        const char *out = ta_cookie_strip(pool, cases[i].in, names, 3, &removed);

        ck_assert_msg(removed == cases[i].removed, "case %zu: removed %d", i, removed);
        if (cases[i].out == NULL)
            ck_assert_msg(out == NULL, "case %zu: got '%s'", i, out);
        else
            ck_assert_msg(out && strcmp(out, cases[i].out) == 0, "case %zu: got '%s'", i,
                          out ? out : "(null)");
    }
    ck_assert_ptr_null(ta_cookie_strip(pool, NULL, names, 3, &removed_none));
}
END_TEST

START_TEST(strip_output_fits_any_header)
{
    static const char *const names[] = { "t" };
    char *in = malloc(20001);
    int removed, i;
    const char *out;

    /* 9 999 two-byte pairs ("=;") that are kept, each "=" plus a two-byte
     * separator: the output is longer than the input. */
    for (i = 0; i < 20000; i += 2) {
        in[i] = '=';
        in[i + 1] = ';';
    }
    in[19998] = 't';    /* the last pair is "t" ... */
    in[19999] = '=';    /* ... "t=": removed, so the output changes */
    in[20000] = '\0';
    out = ta_cookie_strip(pool, in, names, 1, &removed);
    ck_assert_int_eq(removed, 1);
    ck_assert_uint_eq(strlen(out), 9999 + 2 * 9998);
    free(in);
}
END_TEST

START_TEST(access_cookie_has_every_attribute_in_order)
{
    char *c = ta_cookie_make(pool, "accessToken", "h.p.s", 900, 1, &strict);
    char *before, *after;

    ck_assert_ptr_nonnull(c);
    check_expires(c, 900, &before, &after);
    ck_assert_str_eq(before, "accessToken=h.p.s; Path=/; Max-Age=900; Expires=");
    ck_assert_str_eq(after, "; Secure; HttpOnly; SameSite=Strict");
}
END_TEST

START_TEST(optional_attributes_appear_only_when_set)
{
    ta_cookie_attrs_t a = { 0, "Lax", "example.com", "/api" };
    char *before, *after, *c;

    c = ta_cookie_make(pool, "logged_in", "true", 604800, 0, &a);
    check_expires(c, 604800, &before, &after);
    ck_assert_str_eq(before, "logged_in=true; Path=/api; Max-Age=604800; Expires=");
    ck_assert_str_eq(after, "; Domain=example.com; SameSite=Lax");

    a.secure = 1;
    a.samesite = NULL;
    a.path = NULL;
    c = ta_cookie_make(pool, "r", "v", 60, 1, &a);
    check_expires(c, 60, &before, &after);
    ck_assert_str_eq(before, "r=v; Path=/; Max-Age=60; Expires=");
    ck_assert_str_eq(after, "; Domain=example.com; Secure; HttpOnly");

    c = ta_cookie_make(pool, "n", "v", 1, 0, NULL);
    check_expires(c, 1, &before, &after);
    ck_assert_str_eq(before, "n=v; Path=/; Max-Age=1; Expires=");
    ck_assert_str_eq(after, "");

    a.samesite = "None";
    c = ta_cookie_make(pool, "n", NULL, 5, 1, &a);
    check_expires(c, 5, &before, &after);
    ck_assert_str_eq(before, "n=; Path=/; Max-Age=5; Expires=");
    ck_assert_str_eq(after, "; Domain=example.com; Secure; HttpOnly; SameSite=None");
}
END_TEST

START_TEST(max_age_zero_expires_the_cookie)
{
    ck_assert_str_eq(ta_cookie_make(pool, "accessToken", "h.p.s", 0, 1, &strict),
                     "accessToken=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                     "Secure; HttpOnly; SameSite=Strict");
    ck_assert_str_eq(ta_cookie_make(pool, "logged_in", "true", 0, 0, &strict),
                     "logged_in=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                     "Secure; SameSite=Strict");
    ck_assert_str_eq(ta_cookie_make(pool, "x", "y", -5, 0, NULL),
                     "x=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(huge_max_age_does_not_overflow)
{
    char *c = ta_cookie_make(pool, "x", "y", APR_INT64_C(9000000000000000000), 0, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(strstr(c, "; Max-Age=9000000000000000000; Expires="));
    ck_assert_ptr_nonnull(strstr(c, " GMT"));
}
END_TEST

START_TEST(header_injection_is_refused)
{
    ta_cookie_attrs_t a = { 1, "Strict", "example.com", NULL };

    ck_assert_ptr_null(ta_cookie_make(pool, "a", "v\r\nSet-Cookie: evil=1", 60, 1, &a));
    ck_assert_ptr_null(ta_cookie_make(pool, "a", "v; Domain=evil.com", 60, 1, &a));
    ck_assert_ptr_null(ta_cookie_make(pool, "a;b", "v", 60, 1, &a));
    ck_assert_ptr_null(ta_cookie_make(pool, "a=b", "v", 60, 1, &a));
    ck_assert_ptr_null(ta_cookie_make(pool, "", "v", 60, 1, &a));
    ck_assert_ptr_null(ta_cookie_make(pool, NULL, "v", 60, 1, &a));
    a.domain = "example.com; Secure";
    ck_assert_ptr_null(ta_cookie_make(pool, "a", "v", 60, 1, &a));
    a.domain = NULL;
    a.path = "/\n";
    ck_assert_ptr_null(ta_cookie_make(pool, "a", "v", 60, 1, &a));
}
END_TEST

START_TEST(made_cookie_reads_back)
{
    char *c = ta_cookie_make(pool, "refreshToken", "a.b.c", 3600, 1, &strict);
    ck_assert_str_eq(ta_cookie_get(pool, c, "refreshToken", MAX), "a.b.c");
}
END_TEST

UNIT_SUITE(cookie)
{
    tcase_add_test(tc, pairs_are_split_on_semicolons);
    tcase_add_test(tc, spaces_and_tabs_are_trimmed);
    tcase_add_test(tc, surrounding_double_quotes_are_removed);
    tcase_add_test(tc, first_occurrence_wins);
    tcase_add_test(tc, comma_merged_headers_are_split_before_a_name);
    tcase_add_test(tc, names_match_exactly);
    tcase_add_test(tc, values_keep_equals_signs);
    tcase_add_test(tc, odd_pairs_are_skipped);
    tcase_add_test(tc, value_longer_than_max_len_is_absent);
    tcase_add_test(tc, hostile_headers_are_handled);
    tcase_add_test(tc, strip_removes_named_cookies_and_keeps_the_rest);
    tcase_add_test(tc, strip_output_fits_any_header);
    tcase_add_test(tc, access_cookie_has_every_attribute_in_order);
    tcase_add_test(tc, optional_attributes_appear_only_when_set);
    tcase_add_test(tc, max_age_zero_expires_the_cookie);
    tcase_add_test(tc, huge_max_age_does_not_overflow);
    tcase_add_test(tc, header_injection_is_refused);
    tcase_add_test(tc, made_cookie_reads_back);
}
