/*
 * util/httptext.c - see util/httptext.h.
 */
#include "util/httptext.h"

#include <apr_lib.h>
#include <apr_strings.h>

#include <string.h>

const char *ta_same_site_target(apr_pool_t *p, const char *t)
{
    const char *scheme_end;

    if (t && *t != '/' && (scheme_end = strstr(t, "://")) != NULL) {
        t = strchr(scheme_end + 3, '/');
    }
    if (t == NULL || (*t != '/' && *t != '\\')) {
        return "/";
    }
    while (t[1] == '/' || t[1] == '\\') {
        t++;
    }
    return *t == '/' ? t : apr_pstrcat(p, "/", t + 1, NULL);
}

const char *ta_encode_component(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

int ta_same_header_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = (char)apr_tolower(*a), y = (char)apr_tolower(*b);

        if (x == '_') x = '-';
        if (y == '_') y = '-';
        if (x != y) return 0;
    }
    return *a == *b;
}
