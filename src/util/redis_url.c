/*
 * redis_url.c - the TrpcAuthRedis URL (util/redis_url.h): parsed with
 * apr_uri_parse, checked part by part, and shown only in a redacted form.
 */
#include "util/redis_url.h"

#include <apr_escape.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <string.h>

#define REDACTED     "***"
#define TA_REDIS_MAX_DB 65535

/* A whole decimal number from lo to hi: digits only, no sign, no blanks.
 * -1 when s is anything else. */
static long whole_number(const char *s, apr_size_t len, long lo, long hi)
{
    long n = 0;
    apr_size_t i;

    if (s == NULL || len == 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!apr_isdigit(s[i])) {
            return -1;
        }
        n = n * 10 + (s[i] - '0');
        if (n > hi) {
            return -1;
        }
    }
    return n < lo ? -1 : n;
}

const char *ta_redis_url_redact(apr_pool_t *p, const char *text)
{
    const char *start, *at, *end, *from, *colon, *c;

    if (text == NULL) {
        return "";
    }
    start = strstr(text, "://");
    start = start ? start + 3 : text;

    /* user:password@ (apr_uri_parse splits at the last '@' as well). */
    if ((at = strrchr(start, '@')) != NULL) {
        colon = memchr(start, ':', (apr_size_t)(at - start));
        from = colon ? colon + 1 : start;
        return apr_pstrcat(p, apr_pstrmemdup(p, text, (apr_size_t)(from - text)),
                           REDACTED, at, NULL);
    }

    /* No '@': a "port" that is not a number may be a password whose '@host'
     * was left out (redis://:secret). Look past an [IPv6] literal. */
    end = start + strcspn(start, "/?#");
    from = start;
    if ((c = memchr(start, ']', (apr_size_t)(end - start))) != NULL) {
        from = c + 1;
    }
    colon = NULL;
    for (c = from; c < end; c++) {
        if (*c == ':') colon = c;
    }
    if (colon && colon + 1 < end
        && whole_number(colon + 1, (apr_size_t)(end - colon - 1), 0, 2147483647L) < 0) {
        return apr_pstrcat(p, apr_pstrmemdup(p, text, (apr_size_t)(colon + 1 - text)),
                           REDACTED, end, NULL);
    }
    return text;
}

/* Percent-decodes one part of the user information; NULL on a bad escape. */
static const char *unescape(apr_pool_t *p, const char *s)
{
    return apr_punescape_url(p, s, NULL, NULL, 0);
}

/* user:password@ -> u->user, u->password. */
static const char *credentials(apr_pool_t *p, const apr_uri_t *uri, const char *shown,
                               ta_redis_url_t *u)
{
    int has_user = uri->user != NULL && *uri->user != '\0';

    if (uri->password != NULL && *uri->password != '\0') {
        if ((u->password = unescape(p, uri->password)) == NULL) {
            return apr_psprintf(p, "'%s' has a bad %%-escape in the password", shown);
        }
    }
    if (has_user) {
        if (u->password == NULL) {
            /* "redis://secret@host" once meant a password: refuse it rather
             * than send it nowhere. */
            return apr_psprintf(p, "'%s' names a user without a password: write "
                                "user:password@ for an ACL user, :password@ for the default user",
                                shown);
        }
        if ((u->user = unescape(p, uri->user)) == NULL) {
            return apr_psprintf(p, "'%s' has a bad %%-escape in the user name", shown);
        }
    }
    return NULL;
}

/* redis://host[:port][/db] */
static const char *tcp_target(apr_pool_t *p, const apr_uri_t *uri, const char *shown,
                              ta_redis_url_t *u)
{
    const char *db = uri->path;

    if (uri->hostname == NULL || *uri->hostname == '\0') {
        return apr_psprintf(p, "'%s' names no host", shown);
    }
    u->host = uri->hostname;
    u->port = TA_REDIS_DEFAULT_PORT;
    if (uri->port_str != NULL
        && (u->port = (int)whole_number(uri->port_str, strlen(uri->port_str), 1, 65535)) < 0) {
        return apr_psprintf(p, "'%s' has a bad port (1 to 65535)", shown);
    }
    if (uri->query != NULL) {
        return apr_psprintf(p, "'%s': options (?...) are for unix:// URLs only", shown);
    }
    if (db != NULL && *db == '/') {
        db++;
    }
    if (db != NULL && *db != '\0'
        && (u->db = (int)whole_number(db, strlen(db), 0, TA_REDIS_MAX_DB)) < 0) {
        return apr_psprintf(p, "'%s' has a bad database number (0 to %d)", shown,
                            TA_REDIS_MAX_DB);
    }
    return NULL;
}

/* unix:///path[?db=N] */
static const char *unix_target(apr_pool_t *p, const apr_uri_t *uri, const char *shown,
                               ta_redis_url_t *u)
{
    const char *q = uri->query;

    if ((uri->hostname != NULL && *uri->hostname != '\0') || uri->port_str != NULL) {
        return apr_psprintf(p, "'%s': a socket URL has no host (unix:///path)", shown);
    }
    if (uri->path == NULL || uri->path[0] != '/' || uri->path[1] == '\0') {
        return apr_psprintf(p, "'%s' needs an absolute socket path (unix:///path)", shown);
    }
    u->socket = uri->path;
    if (q != NULL) {
        if (strncmp(q, "db=", 3) != 0
            || (u->db = (int)whole_number(q + 3, strlen(q + 3), 0, TA_REDIS_MAX_DB)) < 0) {
            return apr_psprintf(p, "'%s': the only socket option is ?db=N (0 to %d)", shown,
                                TA_REDIS_MAX_DB);
        }
    }
    return NULL;
}

/* The URL rebuilt from its parts, with the password as ***: what logs show. */
static const char *redacted_form(apr_pool_t *p, const apr_uri_t *uri, const ta_redis_url_t *u)
{
    const char *userinfo = "";

    if (u->password != NULL) {
        userinfo = apr_pstrcat(p, u->user ? uri->user : "", ":" REDACTED "@", NULL);
    }
    if (u->socket != NULL) {
        return apr_pstrcat(p, "unix://", userinfo, u->socket,
                           u->db ? apr_psprintf(p, "?db=%d", u->db) : "", NULL);
    }
    return apr_psprintf(p, "redis://%s%s%s%s:%d/%d", userinfo,
                        strchr(u->host, ':') ? "[" : "", u->host,
                        strchr(u->host, ':') ? "]" : "", u->port, u->db);
}

const char *ta_redis_url_parse(apr_pool_t *p, const char *text, ta_redis_url_t **out)
{
    const char *shown = ta_redis_url_redact(p, text);
    ta_redis_url_t *u;
    apr_uri_t uri;
    const char *err;
    int is_unix;

    *out = NULL;
    memset(&uri, 0, sizeof(uri));
    if (text == NULL || apr_uri_parse(p, text, &uri) != APR_SUCCESS) {
        return apr_psprintf(p, "'%s' is not a valid URL", shown);
    }
    if (uri.scheme == NULL || uri.hostinfo == NULL
        || (strcasecmp(uri.scheme, "redis") != 0 && strcasecmp(uri.scheme, "unix") != 0)) {
        return apr_psprintf(p, "'%s' is not a redis:// or unix:// URL", shown);
    }
    if (uri.fragment != NULL) {
        return apr_psprintf(p, "'%s': a #fragment has no meaning here", shown);
    }
    is_unix = strcasecmp(uri.scheme, "unix") == 0;
    u = apr_pcalloc(p, sizeof(*u));
    if ((err = credentials(p, &uri, shown, u)) != NULL
        || (err = (is_unix ? unix_target : tcp_target)(p, &uri, shown, u)) != NULL) {
        return err;
    }
    u->redacted = redacted_form(p, &uri, u);
    *out = u;
    return NULL;
}
