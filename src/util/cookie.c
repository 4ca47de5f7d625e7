/*
 * cookie.c - reading the Cookie request header and writing Set-Cookie values.
 *
 * The parser is a single forward scan with no allocation until the wanted
 * cookie is found, so hostile headers (100 KB, thousands of pairs, stray
 * separators) cost linear time and nothing else.
 */
#include "util/cookie.h"

#include <apr_date.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include <string.h>

#define TA_COOKIE_MAX_EXPIRY APR_INT64_C(3153600000)  /* 100 years, in seconds */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Characters a cookie name may hold (RFC 6265 token: no separators, no CTL). */
static int is_name_char(char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* True when a ',' at s starts a new pair: optional blanks, a name, then '='.
 * Browsers never merge, but proxies joining duplicate Cookie headers do. */
static int comma_starts_pair(const char *s)
{
    s++;
    while (is_blank(*s))
        s++;
    if (!is_name_char(*s))
        return 0;
    while (is_name_char(*s))
        s++;
    while (is_blank(*s))
        s++;
    return *s == '=';
}

/* Finds the end of a value starting at s: the next ';', or a ',' that begins
 * another pair, or the end of the string. (strcspn: the header is scanned
 * on every authenticated request, and libc's is vectorised.) */
static const char *value_end(const char *s)
{
    for (;;) {
        s += strcspn(s, ";,");
        if (*s != ',' || comma_starts_pair(s))
            return s;
        s++;
    }
}

/* One name=value pair of a Cookie header: the name without blanks around
 * it, the raw value up to its separator. */
typedef struct {
    const char *name, *name_end;
    const char *value, *value_end;
} pair_t;

/* Reads the next pair at *sp and moves *sp past it. Text without '=' is not
 * a pair and is skipped. Returns 0 at the end of the header. */
static int next_pair(const char **sp, pair_t *pair)
{
    const char *s = *sp;

    for (;;) {
        while (is_blank(*s) || *s == ';' || *s == ',')
            s++;
        if (*s == '\0') {
            *sp = s;
            return 0;
        }
        pair->name = s;
        s += strcspn(s, "=;,");
        if (*s == '=')
            break;
    }
    pair->name_end = s;
    while (pair->name_end > pair->name && is_blank(pair->name_end[-1]))
        pair->name_end--;
    pair->value = s + 1;
    *sp = pair->value_end = value_end(pair->value);
    return 1;
}

static int name_is(const pair_t *pair, const char *name, apr_size_t namelen)
{
    return (apr_size_t)(pair->name_end - pair->name) == namelen
           && memcmp(pair->name, name, namelen) == 0;
}

const char *ta_cookie_get(apr_pool_t *p, const char *header, const char *name,
                          apr_size_t max_len)
{
    apr_size_t namelen;
    const char *s = header, *v, *ve;
    pair_t pair;

    if (header == NULL || name == NULL || (namelen = strlen(name)) == 0)
        return NULL;

    while (next_pair(&s, &pair)) {
        if (!name_is(&pair, name, namelen))
            continue;
        v = pair.value;
        ve = pair.value_end;
        while (v < ve && is_blank(*v))
            v++;
        while (ve > v && is_blank(ve[-1]))
            ve--;
        if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        if ((apr_size_t)(ve - v) > max_len)
            return NULL;
        return apr_pstrmemdup(p, v, (apr_size_t)(ve - v));
    }
    return NULL;
}

static int is_one_of(const pair_t *pair, const char *const *names, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (names[i] && *names[i] && name_is(pair, names[i], strlen(names[i])))
            return 1;
    }
    return 0;
}

const char *ta_cookie_strip(apr_pool_t *p, const char *header, const char *const *names,
                            int n, int *removed)
{
    const char *s = header;
    char *out, *o;
    pair_t pair;

    *removed = 0;
    if (header == NULL)
        return NULL;
    /* A kept pair is at least 2 bytes ("=;") and gains at most a
     * 2-byte separator. */
    o = out = apr_palloc(p, 2 * strlen(header) + 1);
    while (next_pair(&s, &pair)) {
        apr_size_t len = (apr_size_t)(pair.value_end - pair.name);

        if (is_one_of(&pair, names, n)) {
            (*removed)++;
            continue;
        }
        if (o != out) {
            *o++ = ';';
            *o++ = ' ';
        }
        memcpy(o, pair.name, len);
        o += len;
        while (o > out && is_blank(o[-1]))
            o--;
    }
    *o = '\0';
    if (*removed == 0)
        return header;
    return o == out ? NULL : out;
}

/* Rejects what would break out of a Set-Cookie header or its attribute list:
 * control characters (CR, LF, NUL...), ';', and for names and values also the
 * characters RFC 6265 leaves out of a cookie (space, '"', ',', '\\'). */
static int safe_part(const char *s, int strict)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == ';')
            return 0;
        if (strict && (c == ' ' || c == '"' || c == ',' || c == '\\'))
            return 0;
    }
    return 1;
}

char *ta_cookie_make(apr_pool_t *p, const char *name, const char *value,
                     apr_int64_t max_age, int http_only, const ta_cookie_attrs_t *a)
{
    const char *path = (a && a->path) ? a->path : "/";
    const char *domain = a ? a->domain : NULL;
    const char *samesite = a ? a->samesite : NULL;
    char expires[APR_RFC822_DATE_LEN];

    if (value == NULL)
        value = "";
    if (name == NULL || *name == '\0' || !safe_part(name, 1) || strchr(name, '=')
        || !safe_part(value, 1) || !safe_part(path, 0)
        || (domain && !safe_part(domain, 0)) || (samesite && !safe_part(samesite, 1)))
        return NULL;

    if (max_age <= 0) {
        max_age = 0;
        value = "";
        apr_cpystrn(expires, "Thu, 01 Jan 1970 00:00:00 GMT", sizeof(expires));
    }
    else {
        /* Capped only so the date arithmetic cannot overflow. */
        apr_int64_t secs = max_age < TA_COOKIE_MAX_EXPIRY ? max_age : TA_COOKIE_MAX_EXPIRY;
        apr_rfc822_date(expires, apr_time_now() + apr_time_from_sec(secs));
    }
    return apr_pstrcat(p, name, "=", value,
                       "; Path=", path,
                       "; Max-Age=", apr_psprintf(p, "%" APR_INT64_T_FMT, max_age),
                       "; Expires=", expires,
                       domain ? "; Domain=" : "", domain ? domain : "",
                       (a && a->secure) ? "; Secure" : "",
                       http_only ? "; HttpOnly" : "",
                       samesite ? "; SameSite=" : "", samesite ? samesite : "",
                       NULL);
}
