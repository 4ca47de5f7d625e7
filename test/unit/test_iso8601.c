/*
 * test_iso8601.c - the one ISO-8601 formatter: the text JavaScript's
 * toISOString() gives, for every field width and the years printf must take.
 */
#include "unit.h"
#include "util/iso8601.h"

#include <string.h>

static const struct {
    apr_time_t us;
    const char *iso;
} dates[] = {
    { 0, "1970-01-01T00:00:00.000Z" },
    { 999, "1970-01-01T00:00:00.000Z" },                        /* below the millisecond: dropped */
    { 1000, "1970-01-01T00:00:00.001Z" },
    { APR_INT64_C(1714979289123456), "2024-05-06T07:08:09.123Z" },
    { APR_INT64_C(951782400000000), "2000-02-29T00:00:00.000Z" }, /* leap day */
    { APR_INT64_C(1735689599999000), "2024-12-31T23:59:59.999Z" },
    { APR_INT64_C(253402300799999000), "9999-12-31T23:59:59.999Z" },
    { APR_INT64_C(253402300800000000), "10000-01-01T00:00:00.000Z" }, /* past 4 digits: as %04d */
};

START_TEST(dates_as_javascript_writes_them)
{
    char buf[TA_ISO8601_BUFSIZE];
    apr_size_t n = ta_iso8601_ms(buf, dates[_i].us);

    ck_assert_str_eq(buf, dates[_i].iso);
    ck_assert_uint_eq(n, strlen(dates[_i].iso));
}
END_TEST

UNIT_SUITE(iso8601)
{
    UNIT_ADD_TABLE(tc, dates_as_javascript_writes_them, dates);
}
