/*
 * util/addr.h - the client address as rate limits count it. Pure code (no
 * httpd): unit-tested in test/unit/test_addr.c.
 */
#ifndef TA_ADDR_H
#define TA_ADDR_H

#include <apr_pools.h>

/* The subject under which a client address is counted: an IPv4 address as
 * is; an IPv4-mapped IPv6 address (::ffff:192.0.2.1) as its IPv4 address; any
 * other IPv6 address as its /64 ("2001:db8:1:2::/64"), since one subscriber
 * usually gets a whole /64 and could otherwise count as 2^64 clients. A zone
 * ("%eth0") is dropped. Text that is no address is returned unchanged; NULL
 * gives NULL. */
const char *ta_addr_subject(apr_pool_t *p, const char *ip);

#endif
