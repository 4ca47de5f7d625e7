/*
 * redis.c - the per-child hiredis connection pool.
 */
#include "store/redis.h"
#include "store/sentinel.h"
#include "cfg/log.h"
#include "store/metrics.h"

#include <apr_reslist.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_log.h>

#include <openssl/evp.h>

#include <errno.h>
#include <stdarg.h>
#include <string.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

struct ta_redis_pool {
    apr_reslist_t *list;
    ta_server_conf_t *sc;
    server_rec *s;
    int max;                   /* connections at most (the child's threads) */
    ta_sentinel_t *sentinel;   /* redis-sentinel://: the master as the Sentinels name it */
};

/* What a request holds: the connection and where it came from. */
typedef struct {
    redisContext *ctx;
    ta_redis_pool_t *pool;
    int failed;                /* acquisition failed already: do not retry in this request */
    int cleanup_registered;
} req_conn_t;

static struct timeval to_timeval(apr_interval_time_t t)
{
    struct timeval tv;
    tv.tv_sec = (long)apr_time_sec(t);
    tv.tv_usec = (long)apr_time_usec(t);
    return tv;
}

/* Sends one setup command (AUTH, SELECT) in argv form, so a password is an
 * argument and never part of a formatted command line. 0 when it answered
 * OK; else -1 and what went wrong in why (an error reply of Redis, which
 * never repeats the password). */
static int setup_command(redisContext *c, int argc, const char **argv,
                         char *why, apr_size_t whylen)
{
    redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
    int ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;

    if (!ok) {
        apr_snprintf(why, whylen, "%s failed: %.200s", argv[0],
                     reply ? reply->str : c->errstr);
    }
    if (reply) freeReplyObject(reply);
    return ok ? 0 : -1;
}

/* AUTH user password (a Redis 6 ACL user) or AUTH password (the default
 * user), then SELECT db. 0, or -1 with the reason in why. */
static int authenticate_and_select(redisContext *c, const ta_redis_url_t *u,
                                   char *why, apr_size_t whylen)
{
    const char *argv[3];
    char db[16];

    if (u->password != NULL) {
        argv[0] = "AUTH";
        argv[1] = u->user ? u->user : u->password;
        argv[2] = u->password;
        if (setup_command(c, u->user ? 3 : 2, argv, why, whylen) != 0) {
            return -1;
        }
    }
    if (u->db > 0) {
        apr_snprintf(db, sizeof(db), "%d", u->db);
        argv[0] = "SELECT";
        argv[1] = db;
        if (setup_command(c, 2, argv, why, whylen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* One connection to host:port (or the URL's socket), authenticated, with
 * its database selected. NULL when it cannot; why is logged unless quiet,
 * with the URL redacted and, for a master named by Sentinels, its address
 * (where). */
static redisContext *open_at(server_rec *s, const ta_redis_url_t *u, const char *host, int port,
                             const char *where, struct timeval tv, int quiet)
{
    char why[256];
    redisContext *c;

    if (u->socket) {
        c = redisConnectUnixWithTimeout(u->socket, tv);
    }
    else {
        c = redisConnectWithTimeout(host, port, tv);
    }
    if (c == NULL || c->err) {
        if (!quiet) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, TA_LOGNO(101)
                         "Redis %s%s: cannot connect: %s", u->redacted, where,
                         c ? c->errstr : "out of memory");
        }
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    /* TCP only: on a unix socket hiredis would fail the call and leave the
     * context in an error state, so every command would then fail. */
    if (u->socket == NULL) {
        redisEnableKeepAlive(c);
    }
    if (authenticate_and_select(c, u, why, sizeof(why)) != 0) {
        if (!quiet) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, TA_LOGNO(102)
                         "Redis %s%s: %s", u->redacted, where, why);
        }
        redisFree(c);
        return NULL;
    }
    return c;
}

/* redis-sentinel://: a connection to the master the Sentinels name, that
 * says ROLE master. When the one named proves wrong (down, or a replica:
 * never used, not even for reads), the Sentinels are asked once more. */
static redisContext *open_master(server_rec *s, const ta_server_conf_t *sc, ta_sentinel_t *st,
                                 struct timeval tv, int quiet)
{
    const ta_redis_url_t *u = sc->redis;
    char host[TA_SENTINEL_HOST_MAX], where[TA_SENTINEL_HOST_MAX + 32], why[256];
    redisContext *c;
    int port, attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (ta_sentinel_master(st, s, u, ta_conf_redis_timeout(sc), quiet, host, &port) != 0) {
            return NULL;
        }
        apr_snprintf(where, sizeof(where), " (master %s:%d)", host, port);
        if ((c = open_at(s, u, host, port, where, tv, quiet)) != NULL) {
            if (ta_sentinel_is_master(c, why, sizeof(why))) {
                return c;
            }
            if (!quiet) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, TA_LOGNO(125)
                             "Redis %s: %s:%d is not the master (%s); not used, the Sentinels "
                             "are asked again", u->redacted, host, port, why);
            }
            redisFree(c);
        }
        ta_sentinel_suspect(st, host, port);
    }
    return NULL;
}

ta_sentinel_t *ta_redis_sentinel(const ta_server_conf_t *sc)
{
    return sc->redis_pool ? sc->redis_pool->sentinel : NULL;
}

redisContext *ta_redis_connect(server_rec *s, const ta_server_conf_t *sc, int quiet)
{
    const ta_redis_url_t *u = sc->redis;
    struct timeval tv = to_timeval(ta_conf_redis_timeout(sc));

    if (u->master_name) {
        return open_master(s, sc, ta_redis_sentinel(sc), tv, quiet);
    }
    return open_at(s, u, u->host, u->port, "", tv, quiet);
}

void ta_redis_check_eviction(server_rec *s, const ta_server_conf_t *sc)
{
    const char *argv[] = { "CONFIG", "GET", "maxmemory-policy" };
    redisContext *c = ta_redis_connect(s, sc, 1);
    redisReply *reply = c ? redisCommandArgv(c, 3, argv, NULL) : NULL;
    /* The answer is ["maxmemory-policy", policy]. An ACL user may be refused
     * CONFIG, and Redis may be down at start: fine, the check is advice. */
    redisReply *policy = (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
                          && reply->element[1]->type == REDIS_REPLY_STRING)
                         ? reply->element[1] : NULL;

    if (policy == NULL) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, TA_LOGNO(108)
                     "Redis %s: maxmemory-policy not checked (%.200s)", sc->redis->redacted,
                     c == NULL ? "cannot connect"
                     : reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
    }
    else if (strcmp(policy->str, "noeviction") != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TA_LOGNO(109)
                     "Redis %s has maxmemory-policy %.64s: at maxmemory it may evict a "
                     "user's session index, and logoutAll or changePassword would then "
                     "leave sessions alive; set maxmemory-policy noeviction",
                     sc->redis->redacted, policy->str);
    }
    if (reply) freeReplyObject(reply);
    if (c) redisFree(c);
}

/* apr_reslist constructor: one connected, authenticated context. */
static apr_status_t conn_construct(void **res, void *params, apr_pool_t *p)
{
    ta_redis_pool_t *rp = params;

    *res = ta_redis_connect(rp->s, rp->sc, 0);
    return *res ? APR_SUCCESS : APR_ECONNREFUSED;
}

static apr_status_t conn_destruct(void *res, void *params, apr_pool_t *p)
{
    redisFree(res);
    return APR_SUCCESS;
}

apr_status_t ta_redis_pool_create(apr_pool_t *pchild, server_rec *s, ta_server_conf_t *sc)
{
    ta_redis_pool_t *rp;
    apr_pool_t *p;
    apr_status_t rv;
    int threads = 1;

    if ((rv = apr_pool_create(&p, pchild)) != APR_SUCCESS) {
        return rv;
    }
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    if (threads < 1) threads = 1;

    rp = apr_pcalloc(p, sizeof(*rp));
    rp->sc = sc;
    rp->s = s;
    rp->max = threads;
    if (sc->redis->master_name
        && (rp->sentinel = ta_sentinel_create(p, s, sc->redis, ta_conf_redis_timeout(sc))) == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, TA_LOGNO(129)
                     "cannot create the Redis connection pool's Sentinel state");
        return APR_ENOMEM;
    }
    /* min 0: a child starts even when Redis is down; keep a few idle
     * connections, at most one per thread; recycle idle ones after 60 s so a
     * server-side idle timeout never hands us a dead socket. */
    rv = apr_reslist_create(&rp->list, 0, threads < 4 ? threads : 4, threads,
                            apr_time_from_sec(60), conn_construct, conn_destruct,
                            rp, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, TA_LOGNO(104)
                     "cannot create the Redis connection pool");
        return rv;
    }
    apr_reslist_timeout_set(rp->list, ta_conf_redis_timeout(sc));
    apr_pool_cleanup_register(p, rp->list, (apr_status_t (*)(void *))apr_reslist_destroy,
                              apr_pool_cleanup_null);
    sc->redis_pool = rp;
    return APR_SUCCESS;
}

/* Pool cleanup: give the connection back, or throw it away if it broke. */
static apr_status_t conn_release(void *data)
{
    req_conn_t *rc = data;

    if (rc->ctx) {
        if (rc->ctx->err) {
            apr_reslist_invalidate(rc->pool->list, rc->ctx);
        }
        else {
            apr_reslist_release(rc->pool->list, rc->ctx);
        }
        rc->ctx = NULL;
    }
    return APR_SUCCESS;
}

static request_rec *main_request(request_rec *r)
{
    while (r->main) r = r->main;
    while (r->prev) r = r->prev;
    return r;
}

/* The request's connection record, created on first use and kept as
 * userdata of the main request's pool, so sub-requests share it. */
static req_conn_t *req_conn(request_rec *r)
{
    static const char key[] = "trpcauth-redis-conn";
    request_rec *m = main_request(r);
    void *data = NULL;

    apr_pool_userdata_get(&data, key, m->pool);
    if (data == NULL) {
        data = apr_pcalloc(m->pool, sizeof(req_conn_t));
        apr_pool_userdata_setn(data, key, NULL, m->pool);
    }
    return data;
}

redisContext *ta_redis_acquire(request_rec *r)
{
    ta_server_conf_t *sc = ap_get_module_config(r->server->module_config, &trpcauth_module);
    req_conn_t *rc = req_conn(r);
    void *res;
    apr_status_t rv;
    int tries;

    if (rc->ctx) {
        return rc->ctx->err ? NULL : rc->ctx;
    }
    if (rc->failed || sc->redis_pool == NULL) {
        return NULL;
    }
    rv = apr_reslist_acquire(sc->redis_pool->list, &res);
    /* redis-sentinel://: an idle connection to a master the Sentinels no
     * longer name is dropped (store/sentinel.h); a new one is to the master. */
    for (tries = 0; rv == APR_SUCCESS && tries <= sc->redis_pool->max
                    && !ta_sentinel_current(sc->redis_pool->sentinel, res); tries++) {
        apr_reslist_invalidate(sc->redis_pool->list, res);
        rv = apr_reslist_acquire(sc->redis_pool->list, &res);
    }
    if (rv != APR_SUCCESS) {
        rc->failed = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, TA_LOGNO(105)
                      "Redis unavailable");
        return NULL;
    }
    rc->ctx = res;
    rc->pool = sc->redis_pool;
    if (!rc->cleanup_registered) {
        apr_pool_cleanup_register(main_request(r)->pool, rc, conn_release,
                                  apr_pool_cleanup_null);
        rc->cleanup_registered = 1;
    }
    return rc->ctx;
}

/* A pooled connection the server closed while it sat idle (Redis restarted)
 * fails at once with EOF or a reset; that is worth a retry on another
 * connection. A timeout is not: it would double the wait. */
static int stale_connection(const redisContext *c)
{
    return c->err == REDIS_ERR_EOF
        || (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
}

/* Drops the request's broken connection so the next acquire opens anew.
 * Behind Sentinels, the master it went to is suspect: a failover breaks
 * connections (Sentinel kills the clients of a demoted master). */
static void drop_connection(request_rec *r)
{
    req_conn_t *rc = req_conn(r);

    if (rc->ctx) {
        ta_sentinel_suspect(rc->pool->sentinel, rc->ctx->tcp.host, rc->ctx->tcp.port);
        apr_reslist_invalidate(rc->pool->list, rc->ctx);
        rc->ctx = NULL;
    }
}

/* An error reply that means the connection is not to a usable master. */
static int not_master(const redisReply *reply)
{
    static const char *const prefixes[] = { "READONLY ", "LOADING ", "MASTERDOWN " };
    size_t i;

    if (reply->type != REDIS_REPLY_ERROR) {
        return 0;
    }
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (strncmp(reply->str, prefixes[i], strlen(prefixes[i])) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One command and its reply, error replies included; NULL (logged, the
 * connection marked broken) on a transport error. */
static redisReply *send_command(request_rec *r, int argc, const char **argv,
                                const size_t *argvlen)
{
    redisContext *c = ta_redis_acquire(r);
    redisReply *reply;
    int tries = 0;

    if (c == NULL) {
        return NULL;
    }
    reply = redisCommandArgv(c, argc, argv, argvlen);
    /* After Redis restarted, every idle connection of the pool is stale, and
     * the pool hands them out one after the other: drop each (they fail at
     * once) until a fresh one is opened; there are never more than max. */
    while (reply == NULL && stale_connection(c) && tries++ <= req_conn(r)->pool->max) {
        drop_connection(r);
        if ((c = ta_redis_acquire(r)) == NULL) {
            return NULL;
        }
        reply = redisCommandArgv(c, argc, argv, argvlen);
    }
    /* Behind Sentinels, a master that was demoted (READONLY), is loading
     * its data or lost its own master is left, and the command, which did
     * nothing there, is sent once more to the master the Sentinels name
     * now; no master in time means NULL, so 503. */
    if (reply != NULL && req_conn(r)->pool->sentinel && not_master(reply)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(126)
                      "Redis %s: %.200s; asking the Sentinels for the master", argv[0], reply->str);
        freeReplyObject(reply);
        drop_connection(r);
        if ((c = ta_redis_acquire(r)) == NULL) {
            return NULL;
        }
        reply = redisCommandArgv(c, argc, argv, argvlen);
    }
    if (reply == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(106)
                      "Redis %s failed: %s", argv[0], c->errstr);
        if (!c->err) c->err = REDIS_ERR_OTHER;
        ta_sentinel_suspect(req_conn(r)->pool->sentinel, c->tcp.host, c->tcp.port);
        return NULL;
    }
    return reply;
}

/* send_command(), counted and timed for the metrics (store/metrics.h): the
 * one place every request's Redis command passes. A NOSCRIPT answer is not
 * a failure (EVAL follows); any other error reply, or none, is. */
static redisReply *round_trip(request_rec *r, int argc, const char **argv,
                              const size_t *argvlen)
{
    apr_time_t start = apr_time_now();
    redisReply *reply = send_command(r, argc, argv, argvlen);

    ta_metrics_store(TA_M_REDIS, start,
                     reply == NULL || (reply->type == REDIS_REPLY_ERROR
                                       && strncmp(reply->str, "NOSCRIPT", 8) != 0));
    return reply;
}

/* An error reply is logged, freed and reported as NULL. */
static redisReply *no_error_reply(request_rec *r, const char **argv, redisReply *reply)
{
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(107)
                      "Redis %s answered an error: %.200s", argv[0], reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

redisReply *ta_redis_command(request_rec *r, int argc, const char **argv,
                             const size_t *argvlen)
{
    return no_error_reply(r, argv, round_trip(r, argc, argv, argvlen));
}

#define TA_REDIS_MAX_ARGS 32

redisReply *ta_redis_commandv(request_rec *r, ...)
{
    const char *argv[TA_REDIS_MAX_ARGS];
    int argc = 0;
    va_list ap;
    const char *arg;

    va_start(ap, r);
    while ((arg = va_arg(ap, const char *)) != NULL && argc < TA_REDIS_MAX_ARGS) {
        argv[argc++] = arg;
    }
    va_end(ap);
    return ta_redis_command(r, argc, argv, NULL);
}

/* The script's hex SHA-1: the stored one when ready, else computed into buf
 * and stored for later calls. Only the thread that wins the 0 -> 1 exchange
 * writes sha, and readers look at it only after seeing 2, so threads never
 * race on it. NULL if OpenSSL fails (the caller then sends EVAL). */
static const char *script_sha(ta_redis_script_t *s, char buf[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    int expected = 0;

    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == 2) {
        return s->sha;
    }
    if (EVP_Digest(s->text, strlen(s->text), md, &len, EVP_sha1(), NULL) != 1 || len != 20) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        buf[2 * i] = hex[md[i] >> 4];
        buf[2 * i + 1] = hex[md[i] & 0x0f];
    }
    buf[40] = '\0';
    if (__atomic_compare_exchange_n(&s->state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        memcpy(s->sha, buf, 41);
        __atomic_store_n(&s->state, 2, __ATOMIC_RELEASE);
    }
    return buf;
}

redisReply *ta_redis_evalv(request_rec *r, ta_redis_script_t *script, int argc,
                           const char **args)
{
    const char *argv[TA_REDIS_MAX_ARGS];
    char buf[41];
    const char *sha = script_sha(script, buf);
    redisReply *reply;
    int i;

    if (argc < 1 || argc > TA_REDIS_MAX_ARGS - 2) {
        return NULL;
    }
    argv[0] = "EVALSHA";
    argv[1] = sha;
    for (i = 0; i < argc; i++) {
        argv[2 + i] = args[i];
    }
    argc += 2;
    if (sha != NULL) {
        reply = round_trip(r, argc, argv, NULL);
        /* NOSCRIPT is expected (first use since Redis started or flushed its
         * scripts): not an error worth a log line, answered by EVAL below. */
        if (reply == NULL || reply->type != REDIS_REPLY_ERROR
            || strncmp(reply->str, "NOSCRIPT", 8) != 0) {
            return no_error_reply(r, argv, reply);
        }
        freeReplyObject(reply);
    }
    argv[0] = "EVAL";
    argv[1] = script->text;
    return ta_redis_command(r, argc, argv, NULL);
}

redisReply *ta_redis_eval(request_rec *r, ta_redis_script_t *script, const char *numkeys, ...)
{
    const char *args[TA_REDIS_MAX_ARGS - 2];
    int argc = 0;
    va_list ap;
    const char *arg;

    args[argc++] = numkeys;
    va_start(ap, numkeys);
    while ((arg = va_arg(ap, const char *)) != NULL && argc < TA_REDIS_MAX_ARGS - 2) {
        args[argc++] = arg;
    }
    va_end(ap);
    return ta_redis_evalv(r, script, argc, args);
}
