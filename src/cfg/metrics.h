/*
 * cfg/metrics.h - counters for operators, shared by every child of a node.
 *
 * One anonymous shared memory segment for the module, made by the parent in
 * post_config when some server uses the module (never in httpd's first, trial
 * pass over the configuration, never when no server uses it), inherited by
 * the children it forks (prefork, worker, event). Counters are 64-bit and
 * bumped with relaxed atomics (util/atomic.h): a few locked adds per call, no
 * lock, no system call (the latencies read apr_time_now(), which the vDSO
 * answers). The segment lives in the process pool, so a graceful restart
 * keeps the counts (what Prometheus expects of a counter) and does not make a
 * new segment each time.
 *
 * Every function here does nothing when there is no segment (the module is
 * used by no server, or this is not a forked child of a parent that made it).
 * The mail delivery process is such a child too: post_config makes the
 * segment before it forks that process (mod_trpcauth.c orders the hooks).
 * What the numbers mean and how they are served: docs/metrics.md, and
 * src/hooks/metrics.c (the Prometheus handler and the server-status section).
 */
#ifndef TA_METRICS_H
#define TA_METRICS_H

#include <httpd.h>
#include <apr_time.h>

#include "trpc/error.h"

/* Simple counters. */
typedef enum {
    TA_M_LOGINS_FAILED = 0,       /* auth.login answered UNAUTHORIZED (wrong email or password) */
    TA_M_LOGINS_RATE_LIMITED,     /* auth.login answered TOO_MANY_REQUESTS */
    TA_M_REFRESH_REUSE,           /* a refresh token replayed: its session revoked */
    TA_M_SESSIONS_CREATED,        /* logins that stored a session */
    TA_M_SESSIONS_REVOKED,        /* sessions deleted: logout, logoutAll, revokeSession,
                                   * changePassword, reuse detection */
    TA_M_TOKEN_CACHE_HITS,        /* access tokens found in TrpcAuthTokenCache */
    TA_M_TOKEN_CACHE_MISSES,      /* ... verified in full (cache on) */
    TA_M_SESSION_CACHE_HITS,      /* session checks answered by TrpcAuthSessionCache */
    TA_M_SESSION_CACHE_MISSES,    /* ... that asked Redis (cache on) */
    TA_M_SENTINEL_QUERIES,        /* times a child asked the Sentinels for the master */
    TA_M_SENTINEL_FAILURES,       /* ... and no Sentinel named it */
    TA_M_REDIS_MASTER_SWITCHES,   /* a child learnt that the Sentinels name a new master */
    TA_M_MAIL_SENT,               /* mails the relay accepted (the delivery process) */
    TA_M_MAIL_FAILED,             /* delivery attempts that failed: the mail is tried again */
    TA_M_MAIL_GIVEN_UP,           /* mails never to be sent: unsendable, or their link expired */
    TA_M__COUNT
} ta_metric_t;

/* The two stores whose round trips are counted and timed. */
typedef enum {
    TA_M_REDIS = 0,
    TA_M_POSTGRES,
    TA_M__STORES
} ta_store_t;

/* Rows of the calls matrix: procedure indexes 0 .. TA_METRICS_PROCS - 2 (the
 * order of the table in src/proc/router.c), the last row for a path that
 * names no procedure. Columns: the tRPC codes (trpc/error.h), then success. */
#define TA_METRICS_PROCS 24

/* Latency buckets (upper bounds, microseconds); a last implicit +Inf bucket. */
#define TA_METRICS_BUCKETS 9
extern const apr_interval_time_t ta_metrics_bucket_us[TA_METRICS_BUCKETS];

/* A copy of the counters, for output. */
typedef struct {
    apr_uint64_t calls[TA_METRICS_PROCS][TA_E__COUNT + 1];  /* [proc][code]; TA_E__COUNT = OK */
    apr_uint64_t request_errors[TA_E__COUNT];   /* whole requests refused before any call */
    apr_uint64_t counter[TA_M__COUNT];
    struct {
        apr_uint64_t requests, errors, usec_sum;
        apr_uint64_t bucket[TA_METRICS_BUCKETS + 1];   /* not cumulative; last = above all */
    } store[TA_M__STORES];
} ta_metrics_snapshot_t;

/* In post_config (not the trial pass), when some server uses the module:
 * finds or makes the segment (in the process pool) and points this module at
 * it. With used == 0, forgets it: the module then counts nothing. */
apr_status_t ta_metrics_attach(server_rec *s, int used);

/* True when counters are kept. */
int ta_metrics_on(void);

/* The counters, read one by one (each exact, the set not a point-in-time
 * snapshot). 0 when there is no segment. */
int ta_metrics_read(ta_metrics_snapshot_t *out);

void ta_metrics_add(ta_metric_t which, apr_uint64_t n);

/* One call: procedure row proc (see TA_METRICS_PROCS; out of range = the
 * unknown row) and outcome code (a ta_code_t, or TA_E__COUNT for success). */
void ta_metrics_call(int proc, int code);

/* A request refused as a whole (bad envelope, origin, body size...). */
void ta_metrics_request_error(int code);

/* One round trip to a store that started at start (apr_time_now()). */
void ta_metrics_store(ta_store_t store, apr_time_t start, int failed);

/* Counts a cache lookup as hit or miss when the cache is on (cache != NULL)
 * and returns hit, so it wraps the lookup in place:
 *   if (ta_metrics_cache(TA_M_TOKEN_CACHE_HITS, tc, ta_tokcache_get(tc, ...))) */
int ta_metrics_cache(ta_metric_t hits, const void *cache, int hit);

#endif
