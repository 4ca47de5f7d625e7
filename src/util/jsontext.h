/*
 * util/jsontext.h - JSON written as text into a pool, for output too large to
 * build as a jansson value first (a list of 2000 transactions is written
 * straight from the database rows: store/dbrows.c).
 *
 * The buffer grows by doubling in its pool (the old copies stay until the pool
 * goes: for one response that is less than the final size again). The short
 * appends are inline; they run several times per column.
 */
#ifndef TA_JSONTEXT_H
#define TA_JSONTEXT_H

#include <apr_pools.h>
#include <apr_time.h>
#include <string.h>

typedef struct {
    apr_pool_t *pool;
    char *data;              /* NUL-terminated; NULL until the first append */
    apr_size_t len, cap;
} ta_jtext_t;

#define TA_JTEXT_INIT(p) { (p), NULL, 0, 0 }

/* Makes room for n more bytes and the NUL. */
void ta_jtext_grow(ta_jtext_t *t, apr_size_t n);

/* Appends n bytes of s as they are. */
static APR_INLINE void ta_jtext_put(ta_jtext_t *t, const char *s, apr_size_t n)
{
    if (t->len + n + 1 > t->cap) {
        ta_jtext_grow(t, n);
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* Appends s as it is (JSON punctuation, keys known to need no escaping). */
static APR_INLINE void ta_jtext_puts(ta_jtext_t *t, const char *s)
{
    ta_jtext_put(t, s, strlen(s));
}

/* Appends s, the text of a JSON number (PostgreSQL's text of an integer is
 * one), as it is; null for NULL. */
static APR_INLINE void ta_jtext_number(ta_jtext_t *t, const char *s)
{
    ta_jtext_puts(t, s ? s : "null");
}

/* Appends s as a JSON string literal, or null for NULL. s must be valid
 * UTF-8 (the database's text is): only quotes, backslashes and control
 * characters are escaped. */
void ta_jtext_string(ta_jtext_t *t, const char *s);

/* Appends the time t (microseconds since the epoch) as a JSON string in
 * ISO-8601 with milliseconds (util/iso8601.h); null when it cannot be
 * formatted. */
void ta_jtext_iso_date(ta_jtext_t *t, apr_time_t us);

#endif
