/*
 * test_httptext.c - the authentication hook's text helpers: the same-site
 * target after a login (?next=), its percent-encoding, and header names as
 * CGI and backends compare them.
 */
#include "unit.h"
#include "util/httptext.h"

static const struct {
    const char *target;      /* r->unparsed_uri */
    const char *path;
} targets[] = {
    { "/app/page?x=1", "/app/page?x=1" },
    { "/", "/" },
    { NULL, "/" },
    { "", "/" },
    { "*", "/" },                                         /* OPTIONS * */
    { "http://evil.example/steal?q", "/steal?q" },        /* absolute form: authority dropped */
    { "https://host", "/" },                              /* absolute form without a path */
    { "//evil.example/x", "/evil.example/x" },            /* never //host */
    { "/\\evil.example", "/evil.example" },
    { "\\\\evil.example/a", "/evil.example/a" },
    { "\\x", "/x" },
    { "///a//b", "/a//b" },                               /* only the leading run collapses */
};

START_TEST(targets_become_same_site_paths)
{
    ck_assert_str_eq(ta_same_site_target(pool, targets[_i].target), targets[_i].path);
}
END_TEST

static const struct {
    const char *in, *out;
} components[] = {
    { "", "" },
    { "AZaz09-._~", "AZaz09-._~" },
    { "/a b?c=d&e#f", "%2Fa%20b%3Fc%3Dd%26e%23f" },
    { "!'()*", "%21%27%28%29%2A" },                        /* encodeURIComponent keeps these */
    { "caf\xc3\xa9", "caf%C3%A9" },
    { "%2F", "%252F" },
    { "\x01\x7f\xff", "%01%7F%FF" },
};

START_TEST(components_are_percent_encoded)
{
    ck_assert_str_eq(ta_encode_component(pool, components[_i].in), components[_i].out);
}
END_TEST

static const struct {
    const char *a, *b;
    int same;
} names[] = {
    { "X-Remote-User", "X-Remote-User", 1 },
    { "x-remote-user", "X-REMOTE-USER", 1 },
    { "X_Remote_User", "X-Remote-User", 1 },
    { "X-Remote_User", "x_remote-user", 1 },
    { "X-Remote-User", "X-Remote-Users", 0 },
    { "X-Remote-User", "X-Remote-Use", 0 },
    { "X-Remote-User", "X.Remote.User", 0 },
    { "", "", 1 },
    { "", "X", 0 },
};

START_TEST(header_names_compare_as_backends_see_them)
{
    ck_assert_int_eq(ta_same_header_name(names[_i].a, names[_i].b), names[_i].same);
    ck_assert_int_eq(ta_same_header_name(names[_i].b, names[_i].a), names[_i].same);
}
END_TEST

UNIT_SUITE(httptext)
{
    UNIT_ADD_TABLE(tc, targets_become_same_site_paths, targets);
    UNIT_ADD_TABLE(tc, components_are_percent_encoded, components);
    UNIT_ADD_TABLE(tc, header_names_compare_as_backends_see_them, names);
}
