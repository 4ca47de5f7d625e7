/*
 * util/iso8601.h - times as JavaScript's Date.prototype.toISOString() writes
 * them: "2024-05-06T07:08:09.123Z" (UTC, milliseconds). The one formatter of
 * the module: transaction rows (store/dbrows.c) and session lists
 * (store/session.c) both use it.
 */
#ifndef TA_ISO8601_H
#define TA_ISO8601_H

#include <apr_time.h>

/* Room for the text and its NUL (a year beyond 9999 or before 0 takes more
 * than the usual 24 characters). */
#define TA_ISO8601_BUFSIZE 40

/* Writes t (microseconds since the epoch; the microseconds below the
 * millisecond are dropped) into buf and returns its length; 0 when APR cannot
 * break t down. */
apr_size_t ta_iso8601_ms(char buf[TA_ISO8601_BUFSIZE], apr_time_t t);

#endif
