/*
 * util/iso8601.c - the ISO-8601 formatter (see util/iso8601.h).
 */
#include "util/iso8601.h"

#include <apr_strings.h>

/* n (0 <= n < 10^width) in width decimal digits at p. */
static char *digits(char *p, int n, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return p + width;
}

apr_size_t ta_iso8601_ms(char buf[TA_ISO8601_BUFSIZE], apr_time_t t)
{
    apr_time_exp_t tm;
    int year;
    char *p = buf;

    if (apr_time_exp_gmt(&tm, t) != APR_SUCCESS) {
        return 0;
    }
    year = tm.tm_year + 1900;
    if (year < 0 || year > 9999) {
        /* Rare enough for printf: the same text as %04d gives. */
        return (apr_size_t)apr_snprintf(buf, TA_ISO8601_BUFSIZE,
                                        "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year,
                                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                        tm.tm_sec, tm.tm_usec / 1000);
    }
    /* Digits by hand: a list of 2000 transactions formats 4000 dates, and
     * apr_snprintf cost more than everything else in a row. */
    p = digits(p, year, 4);           *p++ = '-';
    p = digits(p, tm.tm_mon + 1, 2);  *p++ = '-';
    p = digits(p, tm.tm_mday, 2);     *p++ = 'T';
    p = digits(p, tm.tm_hour, 2);     *p++ = ':';
    p = digits(p, tm.tm_min, 2);      *p++ = ':';
    p = digits(p, tm.tm_sec, 2);      *p++ = '.';
    p = digits(p, tm.tm_usec / 1000, 3);
    *p++ = 'Z';
    *p = '\0';
    return (apr_size_t)(p - buf);
}
