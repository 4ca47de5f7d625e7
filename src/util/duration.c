/*
 * duration.c - parsing of duration arguments of directives.
 */
#include "util/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Microseconds per unit suffix; NULL suffix = plain seconds. */
static apr_int64_t unit_usec(const char *suffix)
{
    if (*suffix == '\0' || strcmp(suffix, "s") == 0) return APR_USEC_PER_SEC;
    if (strcmp(suffix, "ms") == 0) return 1000;
    if (strcmp(suffix, "m") == 0)  return 60 * APR_USEC_PER_SEC;
    if (strcmp(suffix, "h") == 0)  return 3600 * APR_USEC_PER_SEC;
    if (strcmp(suffix, "d") == 0)  return 86400 * APR_USEC_PER_SEC;
    return -1;
}

int ta_duration_parse(const char *text, apr_interval_time_t *out)
{
    char *end;
    unsigned long long n;
    apr_int64_t mult;

    if (text == NULL || !isdigit((unsigned char)*text)) {
        return -1;
    }
    errno = 0;
    n = strtoull(text, &end, 10);
    if (errno != 0) {
        return -1;
    }
    mult = unit_usec(end);
    if (mult < 0 || n > (unsigned long long)(APR_INT64_MAX / mult)) {
        return -1;
    }
    *out = (apr_interval_time_t)n * mult;
    return 0;
}
