/*
 * util/atomic.h - the module's one home for atomic variables (after Redis's
 * src/atomicvar.h). Every variable that threads of a child share without a
 * lock is read and written through these macros, never through raw
 * __atomic_* builtins, volatile, or apr_atomic_* (a call into libapr where
 * one instruction does), so that the memory order of each access is named
 * where it is used and this file is the one place to port.
 *
 * Which to use:
 *   - a flag one thread sets and another polls (a stop request):
 *     ta_atomic_set / ta_atomic_get (relaxed: the poller only needs to see
 *     it eventually; what it then does needs nothing published with it);
 *   - a value published once with data written before it (a computed
 *     string, then "ready"): ta_atomic_set_release by the writer,
 *     ta_atomic_get_acquire by readers, who may then read the data;
 *   - the right to publish, taken by one thread of many:
 *     ta_atomic_cas(var, expected, desired) (acquire-release; expected is an
 *     lvalue that receives the value found when the exchange fails);
 *   - a counter whose zero others test (requests holding a connection):
 *     ta_atomic_incr / ta_atomic_decr (sequentially consistent, as
 *     apr_atomic_inc32 is);
 *   - a statistic that many threads and processes add to and that is only
 *     read for reports (the metrics, in shared memory forked children
 *     inherit: a plain x++ from two children would lose increments):
 *     ta_atomic_add (relaxed: nothing is published through it), read with
 *     ta_atomic_get (one piece: no torn 64-bit read).
 * var is an lvalue of an integer type (int, apr_uint32_t, apr_uint64_t).
 */
#ifndef TA_ATOMIC_H
#define TA_ATOMIC_H

#if !defined(__ATOMIC_RELAXED)
#error "util/atomic.h needs the __atomic builtins (GCC 4.7 or later, clang)"
#endif

#define ta_atomic_get(var)              __atomic_load_n(&(var), __ATOMIC_RELAXED)
#define ta_atomic_set(var, value)       __atomic_store_n(&(var), (value), __ATOMIC_RELAXED)

#define ta_atomic_get_acquire(var)      __atomic_load_n(&(var), __ATOMIC_ACQUIRE)
#define ta_atomic_set_release(var, value) \
    __atomic_store_n(&(var), (value), __ATOMIC_RELEASE)

#define ta_atomic_cas(var, expected, desired)                                   \
    __atomic_compare_exchange_n(&(var), &(expected), (desired), 0,              \
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)

/* var += n, nothing returned. */
#define ta_atomic_add(var, n)           ((void)__atomic_fetch_add(&(var), (n), __ATOMIC_RELAXED))

/* The new value. */
#define ta_atomic_incr(var)             __atomic_add_fetch(&(var), 1, __ATOMIC_SEQ_CST)
#define ta_atomic_decr(var)             __atomic_sub_fetch(&(var), 1, __ATOMIC_SEQ_CST)

#endif
