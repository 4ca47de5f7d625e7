/*
 * util/redis_url.h - the TrpcAuthRedis URL, parsed without httpd:
 *
 *   redis://[[user]:password@]host[:port][/db]     host may be [IPv6]
 *   unix://[[user]:password@]/path/to/socket[?db=N]
 *   redis-sentinel://[[user]:password@]host1[:port1][,host2[:port2]...]/mastername[/db]
 *                    [?sentinel-user=NAME&sentinel-password=PASS]
 *
 * The Sentinel form names no Redis server: the Sentinels (port 26379 unless
 * given; hosts may be [IPv6]) are asked for the current master of
 * mastername (store/sentinel.h). user:password are the master's (Redis)
 * credentials; the Sentinels' own, when they have requirepass or ACL users,
 * are the two query parameters (percent-decoded too). A master name is
 * letters, digits and . _ - : (what a sentinel.conf can name without quotes).
 *
 * User and password are percent-decoded (so a password may hold '@', ':' or
 * '/' as %40, %3A, %2F). A user name is for Redis 6 ACL users (AUTH user
 * password); without one the password is for the default user (AUTH password).
 *
 * The password must never reach a log: everything that shows the URL shows
 * the redacted form, where the password is "***".
 */
#ifndef TA_REDIS_URL_H
#define TA_REDIS_URL_H

#include <apr_pools.h>

#define TA_REDIS_DEFAULT_PORT 6379
#define TA_SENTINEL_DEFAULT_PORT 26379
#define TA_SENTINEL_MAX 16           /* Sentinels in one URL, at most */

typedef struct {
    const char *host;        /* without brackets */
    int port;
} ta_redis_hostport_t;

typedef struct {
    const char *host;        /* TCP host (an IPv6 address without brackets); NULL with socket */
    int port;                /* TCP port */
    const char *socket;      /* unix socket path; NULL for TCP */
    const char *user;        /* ACL user; NULL: the default user */
    const char *password;    /* NULL: no AUTH */
    int db;                  /* SELECT db when > 0 */
    const char *redacted;    /* the URL for logs and messages, passwords as "***" */

    /* redis-sentinel:// only (host and socket are then NULL): */
    const char *master_name;             /* non-NULL: ask the Sentinels for this master */
    int nsentinels;
    const ta_redis_hostport_t *sentinels;
    const char *sentinel_user;           /* NULL: Sentinel's default user */
    const char *sentinel_password;       /* NULL: no AUTH to the Sentinels */
} ta_redis_url_t;

/* Parses text into *out (allocated in p). Returns NULL, or a message for the
 * admin that shows the URL only in its redacted form (ta_redis_url_redact). */
const char *ta_redis_url_parse(apr_pool_t *p, const char *text, ta_redis_url_t **out);

/* The text with whatever may be a password replaced by "***": the part of
 * the user information after the first ':' (all of it when there is no ':'),
 * a port that is not a number (a password whose '@' was forgotten), and
 * whatever follows "sentinel-password=" (to the end: an unescaped '&' in it
 * must not show the rest).
 * For messages about URLs that did not parse. */
const char *ta_redis_url_redact(apr_pool_t *p, const char *text);

/* Everything that tells one Redis target from another, passwords included:
 * two servers whose identities are equal may share connections. Never log
 * it. */
const char *ta_redis_url_identity(apr_pool_t *p, const ta_redis_url_t *u);

#endif
