/*
 * test_sesscache.c - the session cache's table: nothing is answered while the
 * listener is not subscribed, an invalidation that lands between a reader's
 * stamp and its store wins, entries age out, a flush or a lost listener
 * empties everything, and nothing is answered while an invalidation waits
 * unread on the listener's socket or is being applied.
 */
#include "unit.h"
#include "cache/sesscache.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRESH 60000          /* the last-seen interval of the session check */

static const char *k1 = "trpcauth:{u:1}:s:0123456789abcdef";
static const char *k2 = "trpcauth:{u:2}:s:fedcba9876543210";

static ta_sesscache_t *live_cache(int entries, apr_int64_t max_age)
{
    ta_sesscache_t *c = ta_sesscache_create(pool, entries, max_age);
    ck_assert_ptr_nonnull(c);
    ta_sesscache_set_live(c, 1);
    return c;
}

START_TEST(off_unless_an_age_is_set)
{
    ck_assert_ptr_null(ta_sesscache_create(pool, 16, 0));
    ck_assert_ptr_null(ta_sesscache_create(pool, 0, 1000));
    /* a NULL cache never hits and takes every call */
    ta_sesscache_put(NULL, k1, 1000, 1000, ta_sesscache_stamp(NULL, k1));
    ck_assert_int_eq(ta_sesscache_get(NULL, k1, 1000, FRESH), 0);
    ta_sesscache_invalidate(NULL, k1, strlen(k1));
    ta_sesscache_flush(NULL);
    ta_sesscache_set_live(NULL, 1);
    ck_assert_int_eq(ta_sesscache_live(NULL), 0);
}
END_TEST

START_TEST(nothing_is_answered_while_not_live)
{
    ta_sesscache_t *c = ta_sesscache_create(pool, 16, 30000);
    apr_uint64_t st = ta_sesscache_stamp(c, k1);

    ck_assert_int_eq(ta_sesscache_live(c), 0);
    ta_sesscache_put(c, k1, 1000, 1000, st);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);
    /* a stamp taken before the listener subscribed does not store either */
    ta_sesscache_set_live(c, 1);
    ta_sesscache_put(c, k1, 1000, 1000, st);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);
    st = ta_sesscache_stamp(c, k1);
    ta_sesscache_put(c, k1, 1000, 1000, st);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 1);
    /* losing the listener empties the cache and stops answers */
    ta_sesscache_set_live(c, 0);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1002, FRESH), 0);
    ta_sesscache_set_live(c, 1);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1003, FRESH), 0);
}
END_TEST

START_TEST(hit_needs_the_same_key_and_age)
{
    ta_sesscache_t *c = live_cache(16, 30000);

    ta_sesscache_put(c, k1, 1000, 5000, ta_sesscache_stamp(c, k1));
    ck_assert_int_eq(ta_sesscache_get(c, k1, 5000, FRESH), 1);
    ck_assert_int_eq(ta_sesscache_get(c, k2, 5000, FRESH), 0);
    ck_assert_int_eq(ta_sesscache_get(c, "trpcauth:{u:1}:s:0123456789abcde", 5000, FRESH), 0);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 5000 + 29999, FRESH), 1);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 5000 + 30000, FRESH), 0);     /* max age */
    ck_assert_int_eq(ta_sesscache_get(c, k1, 4000, FRESH), 0);             /* clock went back */
}
END_TEST

START_TEST(stale_last_seen_is_a_miss)
{
    ta_sesscache_t *c = live_cache(16, 3600 * 1000);

    ta_sesscache_put(c, k1, 1000, 1000, ta_sesscache_stamp(c, k1));
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1000 + FRESH - 1, FRESH), 1);
    /* the once-a-minute last-seen write must still happen: a miss */
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1000 + FRESH, FRESH), 0);
}
END_TEST

START_TEST(invalidation_drops_the_entry)
{
    ta_sesscache_t *c = live_cache(16, 30000);

    ta_sesscache_put(c, k1, 1000, 1000, ta_sesscache_stamp(c, k1));
    ta_sesscache_put(c, k2, 1000, 1000, ta_sesscache_stamp(c, k2));
    ta_sesscache_invalidate(c, k1, strlen(k1));
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);
    /* k2 survives unless it shares k1's slot (16 slots: check which) */
    if (ta_sesscache_stamp(c, k2) == ta_sesscache_stamp(c, k1)) {
        ck_assert_int_eq(ta_sesscache_get(c, k2, 1001, FRESH), 0);
    }
    else {
        ck_assert_int_eq(ta_sesscache_get(c, k2, 1001, FRESH), 1);
    }
}
END_TEST

START_TEST(invalidation_between_stamp_and_store_wins)
{
    ta_sesscache_t *c = live_cache(16, 30000);
    apr_uint64_t st = ta_sesscache_stamp(c, k1);     /* reader: before HGET */

    ta_sesscache_invalidate(c, k1, strlen(k1));       /* listener: the key changed */
    ta_sesscache_put(c, k1, 1000, 1000, st);          /* reader: stores its (old) answer */
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);

    st = ta_sesscache_stamp(c, k1);
    ta_sesscache_flush(c);                            /* a local revocation */
    ta_sesscache_put(c, k1, 1000, 1000, st);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);
}
END_TEST

START_TEST(flush_empties_everything)
{
    ta_sesscache_t *c = live_cache(16, 30000);

    ta_sesscache_put(c, k1, 1000, 1000, ta_sesscache_stamp(c, k1));
    ta_sesscache_put(c, k2, 1000, 1000, ta_sesscache_stamp(c, k2));
    ta_sesscache_flush(c);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 0);
    ck_assert_int_eq(ta_sesscache_get(c, k2, 1001, FRESH), 0);
    ck_assert_int_eq(ta_sesscache_live(c), 1);
}
END_TEST

/* The listener thread may not have run yet when the next request comes: bytes
 * waiting on its socket, or a read in progress, keep the cache from answering. */
START_TEST(unread_invalidations_stop_answers)
{
    ta_sesscache_t *c = live_cache(16, 30000);
    int sv[2];
    char b;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ta_sesscache_put(c, k1, 1000, 1000, ta_sesscache_stamp(c, k1));
    ta_sesscache_watch(c, sv[0]);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1001, FRESH), 1);
    /* Redis sent something the listener has not read */
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1002, FRESH), 0);
    /* the listener reads it and applies it: still no answer until it is done */
    ta_sesscache_reading(c, 1);
    ck_assert_int_eq(read(sv[0], &b, 1), 1);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1003, FRESH), 0);
    ta_sesscache_reading(c, 0);
    /* it was not about k1 (a PONG, say): k1 is answered again */
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1004, FRESH), 1);
    /* no socket watched: answered as before */
    ta_sesscache_watch(c, -1);
    ck_assert_int_eq(write(sv[1], "y", 1), 1);
    ck_assert_int_eq(ta_sesscache_get(c, k1, 1005, FRESH), 1);
    close(sv[0]);
    close(sv[1]);
    ta_sesscache_watch(NULL, 0);
    ta_sesscache_reading(NULL, 1);
}
END_TEST

START_TEST(long_keys_are_not_stored)
{
    ta_sesscache_t *c = live_cache(16, 30000);
    char *big = apr_palloc(pool, TA_SESSCACHE_KEY_MAX + 1);

    memset(big, 'k', TA_SESSCACHE_KEY_MAX);
    big[TA_SESSCACHE_KEY_MAX] = '\0';
    ta_sesscache_put(c, big, 1000, 1000, ta_sesscache_stamp(c, big));
    ck_assert_int_eq(ta_sesscache_get(c, big, 1001, FRESH), 0);
    ck_assert_int_eq(ta_sesscache_get(c, "", 1001, FRESH), 0);
}
END_TEST

UNIT_SUITE(sesscache)
{
    tcase_add_test(tc, off_unless_an_age_is_set);
    tcase_add_test(tc, nothing_is_answered_while_not_live);
    tcase_add_test(tc, hit_needs_the_same_key_and_age);
    tcase_add_test(tc, stale_last_seen_is_a_miss);
    tcase_add_test(tc, invalidation_drops_the_entry);
    tcase_add_test(tc, invalidation_between_stamp_and_store_wins);
    tcase_add_test(tc, flush_empties_everything);
    tcase_add_test(tc, unread_invalidations_stop_answers);
    tcase_add_test(tc, long_keys_are_not_stored);
}
