/*
 * test_jti.c - deterministic refresh-token ids: the same (key, sid, gen)
 * always gives the same jti, anything else gives another, and the generation
 * reads back.
 */
#include "unit.h"
#include "jose/jti.h"

#include <string.h>

static const unsigned char key_a[TA_JTI_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[TA_JTI_KEY_LEN] = "0123456789abcdef0123456789abcdeX";

START_TEST(same_inputs_give_the_same_jti)
{
    const char *a = ta_jti_make(pool, key_a, "sid1", 7);
    const char *b = ta_jti_make(pool, key_a, "sid1", 7);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(strlen(a), 2 + 64);
    ck_assert(strncmp(a, "7.", 2) == 0);
}
END_TEST

START_TEST(any_other_input_gives_another_jti)
{
    const char *a = ta_jti_make(pool, key_a, "sid1", 7);
    ck_assert_str_ne(a, ta_jti_make(pool, key_a, "sid1", 8));
    ck_assert_str_ne(a, ta_jti_make(pool, key_a, "sid2", 7));
    ck_assert_str_ne(a, ta_jti_make(pool, key_b, "sid1", 7));
    /* "sid:1" + gen 2 must not collide with "sid" + ... : the gen is the last field */
    ck_assert_str_ne(ta_jti_make(pool, key_a, "s:1", 2), ta_jti_make(pool, key_a, "s", 12));
}
END_TEST

START_TEST(bad_arguments_give_null)
{
    ck_assert_ptr_null(ta_jti_make(pool, key_a, NULL, 1));
    ck_assert_ptr_null(ta_jti_make(pool, key_a, "sid", -1));
}
END_TEST

START_TEST(generation_reads_back)
{
    ck_assert_int_eq(ta_jti_gen(ta_jti_make(pool, key_a, "sid", 0)), 0);
    ck_assert_int_eq(ta_jti_gen(ta_jti_make(pool, key_a, "sid", 41)), 41);
    ck_assert_int_eq(ta_jti_gen(ta_jti_make(pool, key_a, "sid", 123456789012LL)), 123456789012LL);
}
END_TEST

START_TEST(jti_without_generation_is_minus_one)
{
    ck_assert_int_eq(ta_jti_gen(NULL), -1);
    ck_assert_int_eq(ta_jti_gen(""), -1);
    ck_assert_int_eq(ta_jti_gen("0123456789abcdef0123456789abcdef"), -1);   /* random hex */
    ck_assert_int_eq(ta_jti_gen("12."), -1);
    ck_assert_int_eq(ta_jti_gen(".abc"), -1);
    ck_assert_int_eq(ta_jti_gen("1.ABC"), -1);
    ck_assert_int_eq(ta_jti_gen("-1.abc"), -1);
    ck_assert_int_eq(ta_jti_gen("1234567890123456789.ab"), -1);            /* too many digits */
    ck_assert_int_eq(ta_jti_gen("3.ab"), 3);
}
END_TEST

UNIT_SUITE(jti)
{
    tcase_add_test(tc, same_inputs_give_the_same_jti);
    tcase_add_test(tc, any_other_input_gives_another_jti);
    tcase_add_test(tc, bad_arguments_give_null);
    tcase_add_test(tc, generation_reads_back);
    tcase_add_test(tc, jti_without_generation_is_minus_one);
}
