/*
 * bench/bcrypt_time.c -- times apr_bcrypt_encode (what auth.register and, through apr_password_validate,
 * auth.login run) at a given cost. bench/run builds it into the state dir:
 *   cc -O2 $(apr-1-config --includes) bench/bcrypt_time.c $(apu-1-config --link-ld) $(apr-1-config --link-ld)
 * usage: bcrypt_time COST [N]  -> prints "median_ms min_ms" over N hashes (default 5)
 */
#include <apr_general.h>
#include <apr_md5.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int cost = argc > 1 ? atoi(argv[1]) : 12, n = argc > 2 ? atoi(argv[2]) : 5, i;
    unsigned char salt[16];
    char out[64];
    double *ms;

    if (cost < 4 || cost > 31 || n < 1 || n > 1000) {
        fprintf(stderr, "usage: %s COST(4..31) [N]\n", argv[0]);
        return 2;
    }
    apr_initialize();
    ms = calloc((size_t)n, sizeof(*ms));
    for (i = 0; i < n; i++) {
        apr_time_t t0;
        apr_generate_random_bytes(salt, sizeof(salt));
        t0 = apr_time_now();
        if (apr_bcrypt_encode("correct horse battery", (unsigned)cost, salt, sizeof(salt), out,
                              sizeof(out)) != APR_SUCCESS) {
            fprintf(stderr, "apr_bcrypt_encode failed\n");
            return 1;
        }
        ms[i] = (double)(apr_time_now() - t0) / 1000.0;
    }
    qsort(ms, (size_t)n, sizeof(*ms), cmp);
    printf("%.3f %.3f\n", ms[n / 2], ms[0]);
    return 0;
}
