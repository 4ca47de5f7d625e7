/*
 * util/duration.h - durations in directives: "500ms", "10s", "15m", "12h", "7d"
 * or plain seconds.
 */
#ifndef TA_DURATION_H
#define TA_DURATION_H

#include <apr_time.h>

/* Parses text into *out (microseconds). Returns 0, or -1 when text is not a
 * non-negative duration of one of the accepted forms (or overflows). */
int ta_duration_parse(const char *text, apr_interval_time_t *out);

#endif
