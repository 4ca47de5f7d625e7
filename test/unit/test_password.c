/*
 * test_password.c - bcrypt hashes: what ta_password_hash writes verifies, and
 * the cost of a hash reads back (a login rehashes one of another cost).
 */
#include "unit.h"
#include "util/password.h"

#include <string.h>

START_TEST(hash_verifies_and_has_its_cost)
{
    const char *h = ta_password_hash(pool, "correct horse", 4);

    ck_assert_ptr_nonnull(h);
    ck_assert(strncmp(h, "$2b$04$", 7) == 0);
    ck_assert_int_eq(ta_password_verify("correct horse", h), 1);
    ck_assert_int_eq(ta_password_verify("correct horsE", h), 0);
    ck_assert_int_eq(ta_password_cost(h), 4);
    ck_assert_int_eq(ta_password_cost(ta_password_hash(pool, "correct horse", 5)), 5);
}
END_TEST

START_TEST(cost_of_every_bcrypt_prefix)
{
    /* hashes of other libraries (bcryptjs writes $2a$ and $2b$, PHP and htpasswd $2y$) */
    ck_assert_int_eq(ta_password_cost("$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"), 10);
    ck_assert_int_eq(ta_password_cost("$2b$12$abcdefghijklmnopqrstuu"), 12);
    ck_assert_int_eq(ta_password_cost("$2y$31$x"), 31);
    ck_assert_int_eq(ta_password_cost("$2b$04$"), 4);
}
END_TEST

START_TEST(cost_of_anything_else_is_minus_one)
{
    ck_assert_int_eq(ta_password_cost(NULL), -1);
    ck_assert_int_eq(ta_password_cost(""), -1);
    ck_assert_int_eq(ta_password_cost("$2"), -1);
    ck_assert_int_eq(ta_password_cost("$2$10$abc"), -1);
    ck_assert_int_eq(ta_password_cost("$2x$10$abc"), -1);
    ck_assert_int_eq(ta_password_cost("$2b$1$abc"), -1);
    ck_assert_int_eq(ta_password_cost("$2b$1a$abc"), -1);
    ck_assert_int_eq(ta_password_cost("$2b$100$abc"), -1);
    ck_assert_int_eq(ta_password_cost("$1$salt$hash"), -1);
    ck_assert_int_eq(ta_password_cost("plain text"), -1);
}
END_TEST

UNIT_SUITE(password)
{
    tcase_add_test(tc, hash_verifies_and_has_its_cost);
    tcase_add_test(tc, cost_of_every_bcrypt_prefix);
    tcase_add_test(tc, cost_of_anything_else_is_minus_one);
}
