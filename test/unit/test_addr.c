/*
 * test_addr.c - client addresses as rate limits count them: IPv4 as is,
 * IPv4-mapped IPv6 as IPv4, other IPv6 per /64, anything else unchanged.
 */
#include "unit.h"
#include "util/addr.h"

START_TEST(ipv4_is_kept)
{
    ck_assert_str_eq(ta_addr_subject(pool, "127.0.0.1"), "127.0.0.1");
    ck_assert_str_eq(ta_addr_subject(pool, "192.0.2.200"), "192.0.2.200");
}
END_TEST

START_TEST(ipv4_mapped_ipv6_counts_as_ipv4)
{
    ck_assert_str_eq(ta_addr_subject(pool, "::ffff:192.0.2.1"), "192.0.2.1");
    ck_assert_str_eq(ta_addr_subject(pool, "::FFFF:c000:0201"), "192.0.2.1");
}
END_TEST

START_TEST(ipv6_counts_per_64)
{
    const char *a = ta_addr_subject(pool, "2001:db8:1:2:aaaa:bbbb:cccc:dddd");

    ck_assert_str_eq(a, "2001:db8:1:2::/64");
    /* every address of the /64, in any spelling, is the same subject */
    ck_assert_str_eq(ta_addr_subject(pool, "2001:0DB8:0001:0002::1"), a);
    ck_assert_str_eq(ta_addr_subject(pool, "2001:db8:1:2:ffff:ffff:ffff:ffff"), a);
    ck_assert_str_eq(ta_addr_subject(pool, "2001:db8:1:2::"), a);
    /* the next /64 is another */
    ck_assert_str_eq(ta_addr_subject(pool, "2001:db8:1:3::1"), "2001:db8:1:3::/64");
    ck_assert_str_eq(ta_addr_subject(pool, "::1"), "::/64");
}
END_TEST

START_TEST(zone_is_dropped)
{
    ck_assert_str_eq(ta_addr_subject(pool, "fe80::1:2:3:4%eth0"), "fe80::/64");
}
END_TEST

START_TEST(other_text_is_unchanged)
{
    ck_assert_ptr_null(ta_addr_subject(pool, NULL));
    ck_assert_str_eq(ta_addr_subject(pool, ""), "");
    ck_assert_str_eq(ta_addr_subject(pool, "localhost"), "localhost");
    ck_assert_str_eq(ta_addr_subject(pool, "2001:db8::1::2"), "2001:db8::1::2");
    ck_assert_str_eq(ta_addr_subject(pool, "%eth0"), "%eth0");
    ck_assert_str_eq(ta_addr_subject(pool, "1.2.3.4.5"), "1.2.3.4.5");
}
END_TEST

UNIT_SUITE(addr)
{
    tcase_add_test(tc, ipv4_is_kept);
    tcase_add_test(tc, ipv4_mapped_ipv6_counts_as_ipv4);
    tcase_add_test(tc, ipv6_counts_per_64);
    tcase_add_test(tc, zone_is_dropped);
    tcase_add_test(tc, other_text_is_unchanged);
}
