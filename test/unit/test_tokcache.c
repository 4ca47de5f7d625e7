/*
 * test_tokcache.c - the cache of verified access tokens: a hit needs the exact
 * bytes, gives back the stored claims, and what does not fit is not stored.
 */
#include "unit.h"
#include "cache/tokcache.h"

#include <apr_strings.h>

#include <string.h>

static const char *tok_a = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.AAAAsignature-of-token-a-0123456789";
static const char *tok_b = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.BBBBsignature-of-token-b-0123456789";

static ta_claims_t claims(const char *sub, const char *sid, apr_int64_t exp)
{
    ta_claims_t c = { "at+jwt", sub, sid, NULL, NULL, NULL, exp - 900, exp };
    return c;
}

START_TEST(off_when_no_entries)
{
    ta_claims_t c = claims("1", "s1", 2000);
    ck_assert_ptr_null(ta_tokcache_create(pool, 0));
    ck_assert_ptr_null(ta_tokcache_create(pool, -5));
    /* a NULL cache is a cache that never hits */
    ta_tokcache_put(NULL, tok_a, &c);
    ck_assert_int_eq(ta_tokcache_get(NULL, pool, tok_a, &c), 0);
}
END_TEST

START_TEST(hit_returns_the_stored_claims)
{
    ta_tokcache_t *tc = ta_tokcache_create(pool, 16);
    ta_claims_t in = claims("42", "sid-42", 5000), out;

    ck_assert_ptr_nonnull(tc);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 0);
    ta_tokcache_put(tc, tok_a, &in);
    memset(&out, 0xff, sizeof(out));
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 1);
    ck_assert_str_eq(out.typ, "at+jwt");
    ck_assert_str_eq(out.sub, "42");
    ck_assert_str_eq(out.sid, "sid-42");
    ck_assert_int_eq(out.exp, 5000);
    ck_assert_int_eq(out.iat, 5000 - 900);
    ck_assert_ptr_null(out.jti);
    ck_assert_ptr_null(out.iss);
    ck_assert_ptr_null(out.aud);
    /* copies, not pointers into the cache */
    ck_assert_ptr_ne(out.sub, in.sub);
}
END_TEST

START_TEST(only_the_exact_bytes_hit)
{
    ta_tokcache_t *tc = ta_tokcache_create(pool, 1);   /* one slot: every token lands in it */
    ta_claims_t in = claims("1", "s1", 5000), out;
    char *t = apr_pstrdup(pool, tok_a);

    ta_tokcache_put(tc, tok_a, &in);
    t[5] ^= 1;                                                       /* one bit of the header */
    ck_assert_int_eq(ta_tokcache_get(tc, pool, t, &out), 0);
    t = apr_pstrndup(pool, tok_a, strlen(tok_a) - 1);               /* a prefix */
    ck_assert_int_eq(ta_tokcache_get(tc, pool, t, &out), 0);
    t = apr_pstrcat(pool, tok_a, "x", NULL);                         /* an extension */
    ck_assert_int_eq(ta_tokcache_get(tc, pool, t, &out), 0);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_b, &out), 0);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, "", &out), 0);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, NULL, &out), 0);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 1);
}
END_TEST

START_TEST(a_newer_token_replaces_the_slot)
{
    ta_tokcache_t *tc = ta_tokcache_create(pool, 1);
    ta_claims_t a = claims("1", "s1", 5000), b = claims("2", "s2", 6000), out;

    ta_tokcache_put(tc, tok_a, &a);
    ta_tokcache_put(tc, tok_b, &b);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 0);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_b, &out), 1);
    ck_assert_str_eq(out.sub, "2");
    ck_assert_int_eq(out.exp, 6000);
}
END_TEST

START_TEST(what_does_not_fit_is_not_stored)
{
    ta_tokcache_t *tc = ta_tokcache_create(pool, 4);
    char *big = apr_palloc(pool, TA_TOKCACHE_TOKEN_MAX + 1), *long_id;
    ta_claims_t c = claims("1", "s1", 5000), out;

    memset(big, 'a', TA_TOKCACHE_TOKEN_MAX);
    big[TA_TOKCACHE_TOKEN_MAX] = '\0';
    ta_tokcache_put(tc, big, &c);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, big, &out), 0);

    long_id = apr_palloc(pool, TA_TOKCACHE_ID_MAX + 1);
    memset(long_id, '7', TA_TOKCACHE_ID_MAX);
    long_id[TA_TOKCACHE_ID_MAX] = '\0';
    c.sub = long_id;
    ta_tokcache_put(tc, tok_a, &c);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 0);
    c = claims("1", NULL, 5000);
    ta_tokcache_put(tc, tok_a, &c);
    ck_assert_int_eq(ta_tokcache_get(tc, pool, tok_a, &out), 0);
}
END_TEST

START_TEST(many_tokens_spread_over_the_slots)
{
    ta_tokcache_t *tc = ta_tokcache_create(pool, 1000);   /* rounded up to 1024 */
    ta_claims_t c = claims("1", "s1", 5000), out;
    int i, hits = 0;

    for (i = 0; i < 256; i++) {
        ta_tokcache_put(tc, apr_psprintf(pool, "h.p.signature-%08x-%d", (unsigned)i * 2654435761u, i),
                        &c);
    }
    for (i = 0; i < 256; i++) {
        hits += ta_tokcache_get(tc, pool,
                                apr_psprintf(pool, "h.p.signature-%08x-%d",
                                             (unsigned)i * 2654435761u, i), &out);
    }
    /* 256 keys in 1024 slots: a few collide, most survive */
    ck_assert_int_gt(hits, 200);
    ck_assert_int_le(hits, 256);
}
END_TEST

UNIT_SUITE(tokcache)
{
    tcase_add_test(tc, off_when_no_entries);
    tcase_add_test(tc, hit_returns_the_stored_claims);
    tcase_add_test(tc, only_the_exact_bytes_hit);
    tcase_add_test(tc, a_newer_token_replaces_the_slot);
    tcase_add_test(tc, what_does_not_fit_is_not_stored);
    tcase_add_test(tc, many_tokens_spread_over_the_slots);
}
