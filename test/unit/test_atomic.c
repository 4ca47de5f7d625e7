/*
 * test_atomic.c - util/atomic.h's macros do what their comments say: the
 * exchange succeeds only on the expected value and reports the value found,
 * counters return their new value.
 */
#include "unit.h"
#include "util/atomic.h"

#include <apr.h>

START_TEST(cas_takes_the_expected_value_only)
{
    int state = 0, expected = 0;

    ck_assert(ta_atomic_cas(state, expected, 1));
    ck_assert_int_eq(ta_atomic_get_acquire(state), 1);
    expected = 0;
    ck_assert(!ta_atomic_cas(state, expected, 1));
    ck_assert_int_eq(expected, 1);                   /* the value found */
    ta_atomic_set_release(state, 2);
    ck_assert_int_eq(ta_atomic_get(state), 2);
}
END_TEST

START_TEST(counters_return_their_new_value)
{
    apr_uint32_t n = 0;

    ck_assert_uint_eq(ta_atomic_incr(n), 1);
    ck_assert_uint_eq(ta_atomic_incr(n), 2);
    ck_assert_uint_eq(ta_atomic_decr(n), 1);
    ck_assert_uint_eq(ta_atomic_decr(n), 0);
    ta_atomic_set(n, 7);
    ck_assert_uint_eq(ta_atomic_get(n), 7);
}
END_TEST

UNIT_SUITE(atomic)
{
    tcase_add_test(tc, cas_takes_the_expected_value_only);
    tcase_add_test(tc, counters_return_their_new_value);
}
