/*
 * store/sentinel.h - the current Redis master of a redis-sentinel:// URL, as
 * the Sentinels name it (the Sentinel client protocol on plain hiredis: the
 * hiredis of Debian 12 has no Sentinel support).
 *
 * A child keeps one ta_sentinel_t per Redis target (it lives beside the
 * target's connection pool): the master's address as last named, and one
 * open connection to the Sentinel that answered last. The Sentinels are asked
 *
 *   - when no master is known yet, or a connection found the named master
 *     wrong (not ROLE master, -READONLY, -LOADING, -MASTERDOWN, a broken
 *     connection: ta_sentinel_suspect), at once;
 *   - otherwise at most every TA_SENTINEL_RECHECK_MS, by whichever thread
 *     checks a connection out first (ta_sentinel_current) or by the session
 *     cache's listener.
 *
 * Why poll the Sentinels rather than trust ROLE alone or subscribe to
 * +switch-master: after a SENTINEL FAILOVER the old master keeps answering
 * ROLE "master" until Sentinel converts it (about 8 s later), and writes
 * sent there meanwhile would be lost; only the Sentinels know the switch.
 * A subscription would need a thread and a Sentinel connection per child even
 * without the session cache, and would miss a switch during its own
 * reconnect; one GET-MASTER-ADDR-BY-NAME per child every
 * TA_SENTINEL_RECHECK_MS, on a kept connection, costs a fraction of a
 * millisecond and bounds how long a child writes to a demoted master.
 *
 * The Sentinels are asked in the URL's order, beginning with the one that
 * answered last; each may take TrpcAuthRedisTimeout to connect and answer.
 * Only one thread asks at a time; after the Sentinels failed to answer, the
 * others do not ask again for TA_SENTINEL_RETRY_MS (they answer 503 at once
 * instead of queueing behind timeouts).
 */
#ifndef TA_SENTINEL_H
#define TA_SENTINEL_H

#include <httpd.h>
#include <hiredis.h>

#include "util/redis_url.h"

#define TA_SENTINEL_RECHECK_MS 500
#define TA_SENTINEL_RETRY_MS   250
#define TA_SENTINEL_HOST_MAX   256

typedef struct ta_sentinel ta_sentinel_t;

/* The state of one redis-sentinel:// target in a child (allocated in p, its
 * Sentinel connection closed by p's cleanup). */
ta_sentinel_t *ta_sentinel_create(apr_pool_t *p, server_rec *s, const ta_redis_url_t *u,
                                  apr_interval_time_t timeout);

/* The master's address (host of at most TA_SENTINEL_HOST_MAX bytes): the
 * known one, or asked now when none is known, it was suspected, or
 * TA_SENTINEL_RECHECK_MS have passed. st NULL: ask once, with u and timeout
 * (the parent's start-up check). 0, or -1 when no master is known: no
 * Sentinel answered, or none knows the master (logged once per outage,
 * unless quiet). */
int ta_sentinel_master(ta_sentinel_t *st, server_rec *s, const ta_redis_url_t *u,
                       apr_interval_time_t timeout, int quiet, char *host, int *port);

/* 1 when c answers ROLE with "master"; else 0 and why (the role it has, or
 * its error: an ACL user needs +role). */
int ta_sentinel_is_master(redisContext *c, char *why, apr_size_t whylen);

/* The master at host:port proved wrong: ask the Sentinels before the next
 * connection (unless another thread has learnt a new master meanwhile). */
void ta_sentinel_suspect(ta_sentinel_t *st, const char *host, int port);

/* 1 while c (a TCP connection) is to the master the Sentinels name; the
 * Sentinels are asked first when TA_SENTINEL_RECHECK_MS have passed, unless
 * another thread is asking (then the last answer counts: never waits). No
 * Sentinel answering is logged once per outage (TRPCAUTH121), as for
 * ta_sentinel_master. */
int ta_sentinel_current(ta_sentinel_t *st, const redisContext *c);

/* fn(data) runs, under the state's lock, whenever the master's address
 * changes (the session cache empties itself: its invalidations came from the
 * old master). One hook per state. */
void ta_sentinel_on_switch(ta_sentinel_t *st, void (*fn)(void *), void *data);

#endif
