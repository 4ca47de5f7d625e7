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

#endif
