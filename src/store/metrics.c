/*
 * metrics.c - the shared counters of store/metrics.h.
 */
#include "store/metrics.h"
#include "cfg/log.h"
#include "util/atomic.h"

#include <apr_shm.h>
#include <http_log.h>

#include <string.h>

/* 250 us .. 0.5 s (hooks/metrics.c writes the same bounds in seconds): a Redis round trip on a LAN is 100-300 us, a primary-key
 * query 200-500 us; the upper buckets catch a store that is struggling (the
 * timeouts default to 1-2 s). */
const apr_interval_time_t ta_metrics_bucket_us[TA_METRICS_BUCKETS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 500000
};

/* The segment: a header that names its layout, then the counters. A build
 * with another layout, loaded by a graceful restart, makes a new segment
 * rather than misread the old one. */
typedef struct {
    apr_uint64_t layout;
    ta_metrics_snapshot_t c;
} segment_t;

#define LAYOUT (UINT64_C(0x7472706361000000) | sizeof(segment_t))  /* "trpca" + size */
#define SHM_KEY "trpcauth-metrics-shm"

/* The counters of this process: set in the parent's post_config, inherited
 * by the children it forks; NULL = keep nothing. */
static segment_t *seg;

apr_status_t ta_metrics_attach(server_rec *s, int used)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    seg = NULL;
    if (!used) {
        return APR_SUCCESS;
    }
    /* Kept in the process pool, which outlives every reading of the
     * configuration: restarts find the same segment and the same counts. */
    apr_pool_userdata_get((void **)&shm, SHM_KEY, pp);
    if (shm != NULL && ((segment_t *)apr_shm_baseaddr_get(shm))->layout != LAYOUT) {
        /* Children of the old generation keep their own mapping. */
        apr_shm_destroy(shm);
        shm = NULL;
    }
    if (shm == NULL) {
        /* Anonymous (no file name): mmap(MAP_SHARED|MAP_ANONYMOUS), zeroed,
         * shared with every child forked after this. */
        if ((rv = apr_shm_create(&shm, sizeof(segment_t), NULL, pp)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, TA_LOGNO(950)
                         "cannot create the shared memory of the metrics: none are kept");
            apr_pool_userdata_set(NULL, SHM_KEY, apr_pool_cleanup_null, pp);
            return rv;
        }
        ((segment_t *)apr_shm_baseaddr_get(shm))->layout = LAYOUT;
        apr_pool_userdata_set(shm, SHM_KEY, apr_pool_cleanup_null, pp);
    }
    seg = apr_shm_baseaddr_get(shm);
    return APR_SUCCESS;
}

int ta_metrics_on(void)
{
    return seg != NULL;
}

int ta_metrics_read(ta_metrics_snapshot_t *out)
{
    /* The snapshot is nothing but apr_uint64_t fields: read as an array,
     * each word atomically. */
    const apr_uint64_t *from;
    apr_uint64_t *to = (apr_uint64_t *)out;
    apr_size_t i, n = sizeof(*out) / sizeof(apr_uint64_t);

    if (seg == NULL) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    from = (const apr_uint64_t *)&seg->c;
    for (i = 0; i < n; i++) {
        to[i] = ta_atomic_get(from[i]);
    }
    return 1;
}

void ta_metrics_add(ta_metric_t which, apr_uint64_t n)
{
    if (seg != NULL && which >= 0 && which < TA_M__COUNT && n > 0) {
        ta_atomic_add(seg->c.counter[which], n);
    }
}

void ta_metrics_call(int proc, int code)
{
    if (seg == NULL || code < 0 || code > TA_E__COUNT) {
        return;
    }
    if (proc < 0 || proc >= TA_METRICS_PROCS - 1) {
        proc = TA_METRICS_PROCS - 1;
    }
    ta_atomic_add(seg->c.calls[proc][code], 1);
}

void ta_metrics_request_error(int code)
{
    if (seg != NULL && code >= 0 && code < TA_E__COUNT) {
        ta_atomic_add(seg->c.request_errors[code], 1);
    }
}

void ta_metrics_store(ta_store_t store, apr_time_t start, int failed)
{
    apr_interval_time_t us;
    int b = 0;

    if (seg == NULL || store < 0 || store >= TA_M__STORES) {
        return;
    }
    us = apr_time_now() - start;
    if (us < 0) {
        us = 0;                 /* the clock stepped back */
    }
    while (b < TA_METRICS_BUCKETS && us > ta_metrics_bucket_us[b]) {
        b++;
    }
    ta_atomic_add(seg->c.store[store].requests, 1);
    ta_atomic_add(seg->c.store[store].usec_sum, (apr_uint64_t)us);
    ta_atomic_add(seg->c.store[store].bucket[b], 1);
    if (failed) {
        ta_atomic_add(seg->c.store[store].errors, 1);
    }
}

int ta_metrics_cache(ta_metric_t hits, const void *cache, int hit)
{
    if (cache != NULL) {
        ta_metrics_add(hit ? hits : (ta_metric_t)(hits + 1), 1);
    }
    return hit;
}
