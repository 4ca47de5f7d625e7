/*
 * util/jsontext.c - the JSON text writer (see util/jsontext.h).
 */
#include "util/jsontext.h"
#include "util/iso8601.h"

#include <apr_strings.h>

void ta_jtext_grow(ta_jtext_t *t, apr_size_t n)
{
    apr_size_t cap = t->cap ? t->cap : 1024;
    char *bigger;

    while (t->len + n + 1 > cap) cap *= 2;
    bigger = apr_palloc(t->pool, cap);
    if (t->len) memcpy(bigger, t->data, t->len);
    t->data = bigger;
    t->cap = cap;
}

void ta_jtext_string(ta_jtext_t *t, const char *s)
{
    const char *run;
    char esc[8];

    if (s == NULL) {
        ta_jtext_puts(t, "null");
        return;
    }
    ta_jtext_put(t, "\"", 1);
    for (run = s; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        ta_jtext_put(t, run, (apr_size_t)(s - run));
        switch (c) {
        case '"':  ta_jtext_puts(t, "\\\""); break;
        case '\\': ta_jtext_puts(t, "\\\\"); break;
        case '\n': ta_jtext_puts(t, "\\n"); break;
        case '\r': ta_jtext_puts(t, "\\r"); break;
        case '\t': ta_jtext_puts(t, "\\t"); break;
        default:
            apr_snprintf(esc, sizeof(esc), "\\u%04x", c);
            ta_jtext_puts(t, esc);
        }
        run = s + 1;
    }
    ta_jtext_put(t, run, (apr_size_t)(s - run));
    ta_jtext_put(t, "\"", 1);
}

void ta_jtext_iso_date(ta_jtext_t *t, apr_time_t us)
{
    char iso[TA_ISO8601_BUFSIZE + 2];
    apr_size_t n = ta_iso8601_ms(iso + 1, us);

    if (n == 0) {
        ta_jtext_puts(t, "null");
        return;
    }
    iso[0] = '"';
    iso[n + 1] = '"';
    ta_jtext_put(t, iso, n + 2);
}
