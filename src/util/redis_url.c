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

/* user:password@ and a "port" that may be a password (see the header). */
static const char *redact_userinfo(apr_pool_t *p, const char *text)
{
    const char *start, *at, *end, *from, *colon, *c, *elem, *elem_end;
    char *out;
    int redacted = 0;

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
     * was left out (redis://:secret). Each address of a Sentinel list is
     * looked at; past an [IPv6] literal. */
    end = start + strcspn(start, "/?#");
    out = apr_pstrmemdup(p, text, (apr_size_t)(start - text));
    for (elem = start; ; elem = elem_end + 1) {
        elem_end = memchr(elem, ',', (apr_size_t)(end - elem));
        elem_end = elem_end ? elem_end : end;
        from = elem;
        if ((c = memchr(elem, ']', (apr_size_t)(elem_end - elem))) != NULL) {
            from = c + 1;
        }
        colon = NULL;
        for (c = from; c < elem_end; c++) {
            if (*c == ':') colon = c;
        }
        if (colon && colon + 1 < elem_end
            && whole_number(colon + 1, (apr_size_t)(elem_end - colon - 1), 0, 2147483647L) < 0) {
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, elem, (apr_size_t)(colon + 1 - elem)),
                              REDACTED, NULL);
            redacted = 1;
        }
        else {
            out = apr_pstrcat(p, out, apr_pstrmemdup(p, elem, (apr_size_t)(elem_end - elem)),
                              NULL);
        }
        if (elem_end == end) {
            break;
        }
        out = apr_pstrcat(p, out, ",", NULL);
    }
    return redacted ? apr_pstrcat(p, out, end, NULL) : text;
}

/* The Sentinels' password, wherever a query may hold it: all that follows
 * "sentinel-password=" goes (an unescaped '&' in it must not leave a tail). */
static const char *redact_sentinel_password(apr_pool_t *p, const char *text)
{
    static const char name[] = "sentinel-password=";
    const char *c;

    for (c = text; *c; c++) {
        if (strncasecmp(c, name, sizeof(name) - 1) == 0) {
            c += sizeof(name) - 1;
            return *c ? apr_pstrcat(p, apr_pstrmemdup(p, text, (apr_size_t)(c - text)),
                                    REDACTED, NULL)
                      : text;
        }
    }
    return text;
}

const char *ta_redis_url_redact(apr_pool_t *p, const char *text)
{
    return redact_sentinel_password(p, redact_userinfo(p, text));
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

/* ------------------------------------------------------------------ */
/* redis-sentinel://                                                   */

#define SENTINEL_SCHEME "redis-sentinel://"

static int is_name_char(char c)
{
    return apr_isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* One address of the Sentinel list (len bytes at a): host[:port] or
 * [IPv6][:port]. The address itself is never quoted in a message: a
 * password written without its '@' could be in it. */
static const char *sentinel_address(apr_pool_t *p, const char *a, apr_size_t len,
                                    const char *shown, int nth, ta_redis_hostport_t *h)
{
    const char *end = a + len, *host, *host_end, *port, *c;

    if (len > 0 && a[0] == '[') {
        host = a + 1;
        host_end = memchr(a, ']', len);
        if (host_end == NULL || host_end == host) {
            goto bad;
        }
        for (c = host; c < host_end; c++) {
            if (!apr_isxdigit(*c) && *c != ':' && *c != '.') goto bad;
        }
        port = host_end + 1;
        if (port < end && *port != ':') {
            goto bad;
        }
    }
    else {
        host = a;
        host_end = memchr(a, ':', len);
        host_end = host_end ? host_end : end;
        if (host_end == host) {
            goto bad;
        }
        for (c = host; c < host_end; c++) {
            if (!is_name_char(*c)) goto bad;
        }
        port = host_end;
    }
    h->host = apr_pstrmemdup(p, host, (apr_size_t)(host_end - host));
    h->port = TA_SENTINEL_DEFAULT_PORT;
    if (port < end
        && (h->port = (int)whole_number(port + 1, (apr_size_t)(end - port - 1), 1, 65535)) < 0) {
        return apr_psprintf(p, "'%s' has a bad port (1 to 65535) for Sentinel %d", shown, nth);
    }
    return NULL;
bad:
    return apr_psprintf(p, "'%s': Sentinel %d of the list is not host[:port] or [IPv6][:port]",
                        shown, nth);
}

/* host1[:port1][,host2[:port2]...] (len bytes at list). */
static const char *sentinel_list(apr_pool_t *p, const char *list, apr_size_t len,
                                 const char *shown, ta_redis_url_t *u)
{
    ta_redis_hostport_t *hs = apr_pcalloc(p, TA_SENTINEL_MAX * sizeof(*hs));
    const char *end = list + len, *a = list, *comma;
    const char *err;

    if (len == 0) {
        return apr_psprintf(p, "'%s' names no Sentinel", shown);
    }
    for (;;) {
        if (u->nsentinels == TA_SENTINEL_MAX) {
            return apr_psprintf(p, "'%s' names more than %d Sentinels", shown, TA_SENTINEL_MAX);
        }
        comma = memchr(a, ',', (apr_size_t)(end - a));
        if ((err = sentinel_address(p, a, (apr_size_t)((comma ? comma : end) - a), shown,
                                    u->nsentinels + 1, &hs[u->nsentinels])) != NULL) {
            return err;
        }
        u->nsentinels++;
        if (comma == NULL) {
            break;
        }
        a = comma + 1;
    }
    u->sentinels = hs;
    return NULL;
}

/* /mastername[/db] */
static const char *sentinel_path(apr_pool_t *p, const char *path, apr_size_t len,
                                 const char *shown, ta_redis_url_t *u)
{
    const char *end = path + len, *name = path + 1, *name_end, *c;

    if (len < 2 || path[0] != '/') {
        return apr_psprintf(p, "'%s' names no master (redis-sentinel://host:port,.../mastername)",
                            shown);
    }
    name_end = memchr(name, '/', (apr_size_t)(end - name));
    name_end = name_end ? name_end : end;
    for (c = name; c < name_end; c++) {
        if (!is_name_char(*c) && *c != ':') {
            return apr_psprintf(p, "'%s' has a bad master name (letters, digits, . _ - :)", shown);
        }
    }
    if (name_end == name) {
        return apr_psprintf(p, "'%s' names no master (redis-sentinel://host:port,.../mastername)",
                            shown);
    }
    u->master_name = apr_pstrmemdup(p, name, (apr_size_t)(name_end - name));
    if (name_end < end && name_end + 1 < end
        && (u->db = (int)whole_number(name_end + 1, (apr_size_t)(end - name_end - 1), 0,
                                      TA_REDIS_MAX_DB)) < 0) {
        return apr_psprintf(p, "'%s' has a bad database number (0 to %d)", shown,
                            TA_REDIS_MAX_DB);
    }
    return NULL;
}

/* ?sentinel-user=NAME&sentinel-password=PASS; *shown_user gets the user as
 * written (still escaped), for the redacted form. */
static const char *sentinel_options(apr_pool_t *p, const char *query, const char *shown,
                                    ta_redis_url_t *u, const char **shown_user)
{
    char *q = apr_pstrdup(p, query), *opt, *last = NULL, *value;
    const char **dest;
    int seen_user = 0, seen_password = 0;

    for (opt = apr_strtok(q, "&", &last); opt; opt = apr_strtok(NULL, "&", &last)) {
        if ((value = strchr(opt, '=')) == NULL) {
            goto unknown;
        }
        *value++ = '\0';
        if (strcmp(opt, "sentinel-user") == 0 && !seen_user++) {
            dest = &u->sentinel_user;
            *shown_user = value;
        }
        else if (strcmp(opt, "sentinel-password") == 0 && !seen_password++) {
            dest = &u->sentinel_password;
        }
        else {
            goto unknown;
        }
        if (*value != '\0' && (*dest = unescape(p, value)) == NULL) {
            return apr_psprintf(p, "'%s' has a bad %%-escape in %s", shown, opt);
        }
    }
    if (u->sentinel_user != NULL && u->sentinel_password == NULL) {
        return apr_psprintf(p, "'%s' names a sentinel-user without a sentinel-password", shown);
    }
    return NULL;
unknown:
    return apr_psprintf(p, "'%s': the options of a Sentinel URL are sentinel-user=NAME and "
                        "sentinel-password=PASS, each once", shown);
}

/* The Sentinel URL rebuilt from its parts, passwords as ***. */
static const char *sentinel_redacted(apr_pool_t *p, const ta_redis_url_t *u, const char *user,
                                     const char *sentinel_user)
{
    const char *s = apr_pstrcat(p, SENTINEL_SCHEME,
                                u->password ? apr_pstrcat(p, u->user ? user : "", ":" REDACTED "@",
                                                          NULL) : "", NULL);
    int i;

    for (i = 0; i < u->nsentinels; i++) {
        const char *h = u->sentinels[i].host;
        s = apr_psprintf(p, "%s%s%s%s%s:%d", s, i ? "," : "", strchr(h, ':') ? "[" : "", h,
                         strchr(h, ':') ? "]" : "", u->sentinels[i].port);
    }
    s = apr_psprintf(p, "%s/%s/%d", s, u->master_name, u->db);
    if (u->sentinel_password) {
        s = apr_pstrcat(p, s, "?", u->sentinel_user ? "sentinel-user=" : "",
                        u->sentinel_user ? sentinel_user : "", u->sentinel_user ? "&" : "",
                        "sentinel-password=" REDACTED, NULL);
    }
    return s;
}

/* redis-sentinel://[[user]:password@]host[:port][,...]/mastername[/db][?options].
 * The authority ends at the first '/', '?' or '#' and its user information
 * at its last '@', as apr_uri_parse splits a redis:// URL. */
static const char *sentinel_parse(apr_pool_t *p, const char *text, const char *shown,
                                  ta_redis_url_t *u)
{
    const char *auth = text + sizeof(SENTINEL_SCHEME) - 1;
    const char *auth_end = auth + strcspn(auth, "/?#");
    const char *hosts = auth, *at, *colon, *rest, *query, *user = NULL, *shown_user = NULL;
    const char *err;
    apr_uri_t uri;

    if (strchr(auth_end, '#') != NULL) {
        return apr_psprintf(p, "'%s': a #fragment has no meaning here", shown);
    }
    /* user:password@: the same rules as redis:// (credentials()). */
    memset(&uri, 0, sizeof(uri));
    for (at = NULL, colon = auth; colon < auth_end; colon++) {
        if (*colon == '@') at = colon;
    }
    if (at != NULL) {
        colon = memchr(auth, ':', (apr_size_t)(at - auth));
        uri.user = apr_pstrmemdup(p, auth, (apr_size_t)((colon ? colon : at) - auth));
        uri.password = colon ? apr_pstrmemdup(p, colon + 1, (apr_size_t)(at - colon - 1)) : NULL;
        user = uri.user;
        hosts = at + 1;
        if ((err = credentials(p, &uri, shown, u)) != NULL) {
            return err;
        }
    }
    query = strchr(auth_end, '?');
    rest = auth_end;
    if ((err = sentinel_list(p, hosts, (apr_size_t)(auth_end - hosts), shown, u)) != NULL
        || (err = sentinel_path(p, rest, (apr_size_t)((query ? query : rest + strlen(rest)) - rest),
                                shown, u)) != NULL
        || (query && (err = sentinel_options(p, query + 1, shown, u, &shown_user)) != NULL)) {
        return err;
    }
    u->redacted = sentinel_redacted(p, u, user, shown_user);
    return NULL;
}

/* Appends one field to an identity: its length, ':', the bytes, so no
 * content can make two different targets look alike. */
static const char *field(apr_pool_t *p, const char *id, const char *v)
{
    return apr_psprintf(p, "%s%" APR_SIZE_T_FMT ":%s|", id, v ? strlen(v) : 0, v ? v : "");
}

const char *ta_redis_url_identity(apr_pool_t *p, const ta_redis_url_t *u)
{
    const char *id = apr_psprintf(p, "%d|%d|%d|", u->port, u->db, u->nsentinels);
    int i;

    id = field(p, id, u->host);
    id = field(p, id, u->socket);
    id = field(p, id, u->user);
    id = field(p, id, u->password);
    id = field(p, id, u->master_name);
    id = field(p, id, u->sentinel_user);
    id = field(p, id, u->sentinel_password);
    for (i = 0; i < u->nsentinels; i++) {
        id = apr_psprintf(p, "%s%d|", field(p, id, u->sentinels[i].host), u->sentinels[i].port);
    }
    return id;
}

const char *ta_redis_url_parse(apr_pool_t *p, const char *text, ta_redis_url_t **out)
{
    const char *shown = ta_redis_url_redact(p, text);
    ta_redis_url_t *u;
    apr_uri_t uri;
    const char *err;
    int is_unix;

    *out = NULL;
    if (text != NULL && strncasecmp(text, SENTINEL_SCHEME, sizeof(SENTINEL_SCHEME) - 1) == 0) {
        u = apr_pcalloc(p, sizeof(*u));
        if ((err = sentinel_parse(p, text, shown, u)) != NULL) {
            return err;
        }
        *out = u;
        return NULL;
    }
    memset(&uri, 0, sizeof(uri));
    if (text == NULL || apr_uri_parse(p, text, &uri) != APR_SUCCESS) {
        return apr_psprintf(p, "'%s' is not a valid URL", shown);
    }
    if (uri.scheme == NULL || uri.hostinfo == NULL
        || (strcasecmp(uri.scheme, "redis") != 0 && strcasecmp(uri.scheme, "unix") != 0)) {
        return apr_psprintf(p, "'%s' is not a redis:// or unix:// URL (nor redis-sentinel://)", shown);
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
