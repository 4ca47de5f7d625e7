/*
 * fuzz_common.h - shared helpers for the libFuzzer targets in fuzz/.
 *
 * Every run gets its own APR pool (created and destroyed per input) so that
 * LeakSanitizer sees a clean heap between inputs. Strings handed to the code
 * under test are exact-size malloc copies (freed by a pool cleanup): APR pools
 * carve allocations out of 8 KB blocks, which hides overreads from ASan, so the
 * inputs themselves are the one place where ASan can still see a byte too far.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_allocator.h>
#include <apr_general.h>
#include <apr_pools.h>

/* A property violation: print what and where, then abort so libFuzzer keeps
 * the input as a crash. */
#define FUZZ_CHECK(cond, ...)                                                    \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "\n*** fuzz check failed at %s:%d: %s\n*** ",       \
                    __FILE__, __LINE__, #cond);                                  \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

static inline void fuzz_apr_init(void)
{
    static int done;
    if (!done) {
        if (apr_initialize() != APR_SUCCESS) {
            fprintf(stderr, "apr_initialize failed\n");
            abort();
        }
        done = 1;
    }
}

static inline apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p = NULL;
    fuzz_apr_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        abort();
    return p;
}

/* A pool with an allocator of its own (destroyed with it), so that its blocks
 * are all newly mapped, not blocks kept from earlier inputs: the resident
 * memory they add while it lives is what the code under test took. */
static inline apr_pool_t *fuzz_private_pool(void)
{
    apr_allocator_t *a = NULL;
    apr_pool_t *p = NULL;
    fuzz_apr_init();
    if (apr_allocator_create(&a) != APR_SUCCESS ||
        apr_pool_create_ex(&p, NULL, NULL, a) != APR_SUCCESS)
        abort();
    apr_allocator_owner_set(a, p);
    return p;
}

static apr_status_t fuzz_free_cleanup(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* An exact-size NUL-terminated malloc copy of n bytes, freed with p. */
static inline char *fuzz_strndup(apr_pool_t *p, const void *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, s, n);
    c[n] = '\0';
    apr_pool_cleanup_register(p, c, fuzz_free_cleanup, apr_pool_cleanup_null);
    return c;
}

/* The process's resident memory in bytes (/proc/self/statm), 0 if unknown.
 * APR pools take their blocks with mmap (Debian's APR), which the sanitizer's
 * heap counters do not see; resident memory counts them and malloc alike. */
static inline size_t fuzz_rss(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Handling n bytes of input may grow resident memory by at most this much:
 * jansson spends about 25 bytes of nodes per byte of the densest JSON
 * ("[0,0,...]"), and anything that grows faster than the input (issue 11: a
 * superjson path copied at every level, N x D) fails the input long before
 * -rss_limit_mb would notice it. */
#define FUZZ_RSS_PER_INPUT_BYTE 64
#define FUZZ_RSS_SLACK          (2 * 1024 * 1024)

/* Checks the growth of resident memory since before (a fuzz_rss() reading)
 * for n bytes of input. Measure with a fuzz_private_pool(), whose blocks are
 * all new. */
#define FUZZ_CHECK_RSS(before, n, what)                                          \
    do {                                                                         \
        size_t now_ = fuzz_rss(), grew_ = now_ > (before) ? now_ - (before) : 0; \
        FUZZ_CHECK(grew_ <= (size_t)(n) * FUZZ_RSS_PER_INPUT_BYTE + FUZZ_RSS_SLACK, \
                   "%s grew resident memory by %zu bytes for %zu bytes of input", \
                   what, grew_, (size_t)(n));                                    \
    } while (0)

/* A cursor over the fuzz input. */
typedef struct {
    const uint8_t *d;
    size_t n;
} fuzz_in_t;

static inline uint8_t fuzz_byte(fuzz_in_t *in)
{
    uint8_t b;
    if (in->n == 0)
        return 0;
    b = *in->d;
    in->d++;
    in->n--;
    return b;
}

/* The bytes up to the next delim (consumed, not included), or the rest of
 * the input when there is none. *len gets the length; the pointer is into
 * the input (not NUL-terminated). */
static inline const uint8_t *fuzz_field(fuzz_in_t *in, uint8_t delim, size_t *len)
{
    const uint8_t *start = in->d;
    const uint8_t *end = in->n ? memchr(in->d, delim, in->n) : NULL;

    if (!end) {
        *len = in->n;
        in->d += in->n;
        in->n = 0;
        return start;
    }
    *len = (size_t)(end - start);
    in->n -= *len + 1;
    in->d = end + 1;
    return start;
}

/* fuzz_field as a pool-freed C string (truncated at an embedded NUL by
 * every C-string consumer, which is exactly what a caller would see). */
static inline char *fuzz_field_str(apr_pool_t *p, fuzz_in_t *in, uint8_t delim)
{
    size_t len;
    const uint8_t *s = fuzz_field(in, delim, &len);
    return fuzz_strndup(p, s, len);
}

/* A small deterministic generator for choices derived from the input. */
static inline uint32_t fuzz_rand(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

#endif
