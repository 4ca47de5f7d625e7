/* Shared helpers for the Check-based unit tests: one APR pool per test. */
#ifndef TA_UNIT_H
#define TA_UNIT_H

#include <check.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <stdlib.h>

static apr_pool_t *pool;

static void unit_setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void unit_teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

/* Runs one suite and exits non-zero on any failure. */
static int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The registration every test file shares: one suite and one test case named
 * after the file, each test with its own pool (unit_setup), the file's tests
 * added by add(); before and after (may be NULL) run once around the suite. */
static int unit_main(const char *name, void (*add)(TCase *tc), void (*before)(void),
                     void (*after)(void))
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    int rc;

    tcase_add_checked_fixture(tc, unit_setup, unit_teardown);
    add(tc);
    suite_add_tcase(s, tc);
    if (before) before();
    rc = unit_run(s);
    if (after) after();
    return rc;
}

/* A test file ends with its list of tests:
 *     UNIT_SUITE(addr)
 *     {
 *         tcase_add_test(tc, ipv4_is_kept);
 *         ...
 *     }
 * which defines main(). UNIT_SUITE_AROUND(name, before, after) also runs
 * before() and after() once around the suite (keys made for all tests). */
#define UNIT_SUITE_AROUND(name, before, after)                          \
    static void unit_add_##name(TCase *tc);                             \
    int main(void)                                                      \
    {                                                                   \
        return unit_main(#name, unit_add_##name, before, after);        \
    }                                                                   \
    static void unit_add_##name(TCase *tc)

#define UNIT_SUITE(name) UNIT_SUITE_AROUND(name, NULL, NULL)

/* A table-driven test: fn runs once per row of table (a static array), with
 * the row's index in _i. */
#define UNIT_ADD_TABLE(tc, fn, table) \
    tcase_add_loop_test((tc), fn, 0, (int)(sizeof(table) / sizeof((table)[0])))

#endif
