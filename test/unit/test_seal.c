/*
 * test_seal.c - outbox link sealing: a seal opens with the same key and aad
 * only, every seal of one text differs (random nonce), any change to the
 * sealed text is refused, and the key is the documented HMAC (the
 * derivation's other properties: test_jwt.c, for every purpose).
 */
#include "unit.h"
#include "jose/seal.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static const unsigned char key_a[TA_SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[TA_SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdeX";
static const char *the_link = "http://127.0.0.1:8080/#reset-password&token=abcDEF012_-xyz";

START_TEST(seal_opens_with_the_same_key_and_aad)
{
    const char *s = ta_seal(pool, key_a, the_link, "a@example.com");
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(strstr(s, "abcDEF"));
    ck_assert_str_eq(ta_unseal(pool, key_a, s, "a@example.com"), the_link);
    /* base64url, no padding: nothing a URL, a header or SQL text would need to escape */
    ck_assert_uint_eq(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                      strlen(s));
    /* nonce (12) + text + tag (16), base64url without padding */
    ck_assert_uint_eq(strlen(s), ((12 + strlen(the_link) + 16) * 4 + 2) / 3);
}
END_TEST

START_TEST(every_seal_differs)
{
    const char *a = ta_seal(pool, key_a, the_link, "a@example.com");
    const char *b = ta_seal(pool, key_a, the_link, "a@example.com");
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(ta_unseal(pool, key_a, b, "a@example.com"), the_link);
}
END_TEST

START_TEST(other_key_or_aad_is_refused)
{
    const char *s = ta_seal(pool, key_a, the_link, "a@example.com");
    ck_assert_ptr_null(ta_unseal(pool, key_b, s, "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, s, "b@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, s, ""));
    ck_assert_ptr_null(ta_unseal(pool, key_a, s, NULL));
}
END_TEST

START_TEST(null_aad_is_the_empty_aad)
{
    const char *s = ta_seal(pool, key_a, the_link, NULL);
    ck_assert_str_eq(ta_unseal(pool, key_a, s, ""), the_link);
    ck_assert_str_eq(ta_unseal(pool, key_a, s, NULL), the_link);
    ck_assert_ptr_null(ta_unseal(pool, key_a, s, "x"));
}
END_TEST

START_TEST(altered_seal_is_refused)
{
    const char *s = ta_seal(pool, key_a, the_link, "a@example.com");
    size_t n = strlen(s), i;

    /* flip one character at a time: nonce, ciphertext and tag are all covered */
    for (i = 0; i < n; i++) {
        char *t = apr_pstrdup(pool, s);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        ck_assert_ptr_null(ta_unseal(pool, key_a, t, "a@example.com"));
    }
    ck_assert_ptr_null(ta_unseal(pool, key_a, apr_pstrndup(pool, s, n - 4), "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, apr_pstrcat(pool, s, "AAAA", NULL), "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, "", "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, "not base64!", "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a@example.com"));
    ck_assert_ptr_null(ta_unseal(pool, key_a, NULL, "a@example.com"));
}
END_TEST

START_TEST(empty_text_seals)
{
    const char *s = ta_seal(pool, key_a, "", "x");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(ta_unseal(pool, key_a, s, "x"), "");
    ck_assert_ptr_null(ta_seal(pool, key_a, NULL, "x"));
}
END_TEST

/* A fixed vector, so that another implementation (the tests' Node helper, a
 * future delivery process in another language) can check it derives the same
 * key: HMAC-SHA256(secret, "mod_trpcauth outbox seal v1"). */
START_TEST(key_derivation_matches_the_documented_formula)
{
    unsigned char k[TA_SEAL_KEY_LEN], want[TA_SEAL_KEY_LEN];
    unsigned int len = 0;
    ta_key_t hs = { TA_ALG_HS256, NULL, (const unsigned char *)"a-secret-of-at-least-32-bytes!!!", 32,
                    NULL, 1 };

    ck_assert_int_eq(ta_seal_key_derive(&hs, k), 0);
    HMAC(EVP_sha256(), hs.secret, 32, (const unsigned char *)"mod_trpcauth outbox seal v1", 27, want, &len);
    ck_assert_uint_eq(len, 32);
    ck_assert(memcmp(k, want, sizeof(k)) == 0);
}
END_TEST

UNIT_SUITE(seal)
{
    tcase_add_test(tc, seal_opens_with_the_same_key_and_aad);
    tcase_add_test(tc, every_seal_differs);
    tcase_add_test(tc, other_key_or_aad_is_refused);
    tcase_add_test(tc, null_aad_is_the_empty_aad);
    tcase_add_test(tc, altered_seal_is_refused);
    tcase_add_test(tc, empty_text_seals);
    tcase_add_test(tc, key_derivation_matches_the_documented_formula);
}
