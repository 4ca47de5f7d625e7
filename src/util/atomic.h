/*
 * util/atomic.h - the few atomic operations the module needs, on plain
 * integers, in the spirit of Redis's atomicvar.h: GCC/Clang __atomic
 * builtins (C11 memory model), relaxed order, because they only count.
 *
 * A counter that several processes bump (the operators' metrics, in an
 * anonymous shared memory segment that forked children inherit) must be
 * updated with a locked instruction: a plain `x++` from two children would
 * lose increments. Relaxed order is enough: no other memory is published
 * through these counters, and a reader only wants each one eventually right.
 * 64-bit counters are lock-free on every target Debian builds httpd for
 * with 64-bit pointers; where they are not, GCC calls libatomic.
 */
#ifndef TA_ATOMIC_H
#define TA_ATOMIC_H

/* var += n; var is an lvalue of an integer type. */
#define ta_atomic_add(var, n) ((void)__atomic_fetch_add(&(var), (n), __ATOMIC_RELAXED))

/* The value of var, read in one piece (no torn 64-bit read). */
#define ta_atomic_get(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

#endif
