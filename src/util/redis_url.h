/*
 * util/redis_url.h - the TrpcAuthRedis URL, parsed without httpd:
 *
 *   redis://[[user]:password@]host[:port][/db]     host may be [IPv6]
 *   unix://[[user]:password@]/path/to/socket[?db=N]
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

typedef struct {
    const char *host;        /* TCP host (an IPv6 address without brackets); NULL with socket */
    int port;                /* TCP port */
    const char *socket;      /* unix socket path; NULL for TCP */
    const char *user;        /* ACL user; NULL: the default user */
    const char *password;    /* NULL: no AUTH */
    int db;                  /* SELECT db when > 0 */
    const char *redacted;    /* the URL for logs and messages, password as "***" */
} ta_redis_url_t;

/* Parses text into *out (allocated in p). Returns NULL, or a message for the
 * admin that shows the URL only in its redacted form (ta_redis_url_redact). */
const char *ta_redis_url_parse(apr_pool_t *p, const char *text, ta_redis_url_t **out);

/* The text with whatever may be a password replaced by "***": the part of
 * the user information after the first ':' (all of it when there is no ':'),
 * and a port that is not a number (a password whose '@' was forgotten).
 * For messages about URLs that did not parse. */
const char *ta_redis_url_redact(apr_pool_t *p, const char *text);

#endif
