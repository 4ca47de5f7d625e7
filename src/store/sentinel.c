/*
 * sentinel.c - the current Redis master of a redis-sentinel:// URL
 * (store/sentinel.h says when the Sentinels are asked, and why).
 *
 * The protocol is two commands on a plain connection to a Sentinel:
 * AUTH [sentinel-user] sentinel-password when the URL gives one, then
 * SENTINEL GET-MASTER-ADDR-BY-NAME name -> [ip, port], or nil when that
 * Sentinel does not monitor the name. A connection to the master is then
 * checked with ROLE (by store/redis.c) before it serves anything.
 */
#include "store/sentinel.h"
#include "cfg/log.h"
#include "cfg/metrics.h"

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <http_log.h>

#include <stdlib.h>
#include <string.h>

struct ta_sentinel {
    server_rec *s;
    const ta_redis_url_t *u;
    struct timeval tv;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;         /* guards every field below but conn and conn_at */
    apr_thread_cond_t *asked_cond;    /* signalled when an asking thread is done */
#endif
    int asking;                       /* a thread is asking the Sentinels (it alone uses conn) */
    redisContext *conn;               /* kept open to sentinels[conn_at] */
    int conn_at;
    int first;                        /* the Sentinel to ask first: the one that answered last */
    char host[TA_SENTINEL_HOST_MAX];  /* the master as last named; port 0: none known */
    int port;
    apr_time_t asked;                 /* when the Sentinels were last asked */
    int answered;                     /* ... and whether one of them named the master */
    int stale;                        /* the master proved wrong: ask before using it */
    int reported;                     /* the outage was logged */
    void (*on_switch)(void *);
    void *on_switch_data;
};

#if APR_HAS_THREADS
#define LOCK(st)      apr_thread_mutex_lock((st)->lock)
#define UNLOCK(st)    apr_thread_mutex_unlock((st)->lock)
#define WAIT(st)      apr_thread_cond_wait((st)->asked_cond, (st)->lock)
#define BROADCAST(st) apr_thread_cond_broadcast((st)->asked_cond)
#else
#define LOCK(st)      ((void)0)
#define UNLOCK(st)    ((void)0)
#define WAIT(st)      ((void)0)
#define BROADCAST(st) ((void)0)
#endif

static apr_status_t close_conn(void *data)
{
    ta_sentinel_t *st = data;

    if (st->conn) {
        redisFree(st->conn);
        st->conn = NULL;
    }
    return APR_SUCCESS;
}

static struct timeval timeval_of(apr_interval_time_t t)
{
    struct timeval tv;

    tv.tv_sec = (long)apr_time_sec(t);
    tv.tv_usec = (long)apr_time_usec(t);
    return tv;
}

ta_sentinel_t *ta_sentinel_create(apr_pool_t *p, server_rec *s, const ta_redis_url_t *u,
                                  apr_interval_time_t timeout)
{
    ta_sentinel_t *st = apr_pcalloc(p, sizeof(*st));

    st->s = s;
    st->u = u;
    st->tv = timeval_of(timeout);
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&st->lock, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_thread_cond_create(&st->asked_cond, p) != APR_SUCCESS) {
        return NULL;
    }
#endif
    apr_pool_cleanup_register(p, st, close_conn, apr_pool_cleanup_null);
    return st;
}

/* A connection to Sentinel i, authenticated when the URL says so; NULL and
 * why when not. */
static redisContext *open_sentinel(ta_sentinel_t *st, int i, char *why, apr_size_t whylen)
{
    const ta_redis_url_t *u = st->u;
    const char *argv[3];
    redisContext *c = redisConnectWithTimeout(u->sentinels[i].host, u->sentinels[i].port, st->tv);
    redisReply *reply;
    int ok;

    if (c == NULL || c->err) {
        apr_snprintf(why, whylen, "cannot connect: %s", c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, st->tv);
    if (u->sentinel_password == NULL) {
        return c;
    }
    /* argv form: the password is an argument, never part of a command line. */
    argv[0] = "AUTH";
    argv[1] = u->sentinel_user ? u->sentinel_user : u->sentinel_password;
    argv[2] = u->sentinel_password;
    reply = redisCommandArgv(c, u->sentinel_user ? 3 : 2, argv, NULL);
    ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;
    if (!ok) {
        apr_snprintf(why, whylen, "AUTH failed: %.200s", reply ? reply->str : c->errstr);
    }
    if (reply) freeReplyObject(reply);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Asks Sentinel i. 1 with the master in host/port; 0 when it does not know
 * the master; -1 when it failed (its connection is dropped). why says what
 * went wrong. */
static int ask_one(ta_sentinel_t *st, int i, char *host, int *port, char *why, apr_size_t whylen)
{
    const char *argv[] = { "SENTINEL", "GET-MASTER-ADDR-BY-NAME", st->u->master_name };
    redisReply *reply, *h, *p;
    int rc = -1;

    if (st->conn && st->conn_at != i) {
        close_conn(st);
    }
    if (st->conn == NULL) {
        if ((st->conn = open_sentinel(st, i, why, whylen)) == NULL) {
            return -1;
        }
        st->conn_at = i;
    }
    reply = redisCommandArgv(st->conn, 3, argv, NULL);
    if (reply == NULL) {
        apr_snprintf(why, whylen, "%s", st->conn->errstr);
    }
    else if (reply->type == REDIS_REPLY_NIL) {
        apr_snprintf(why, whylen, "does not know master '%s'", st->u->master_name);
        rc = 0;
    }
    else if (reply->type == REDIS_REPLY_ERROR) {
        apr_snprintf(why, whylen, "%.200s", reply->str);
    }
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
             && (h = reply->element[0])->type == REDIS_REPLY_STRING
             && (p = reply->element[1])->type == REDIS_REPLY_STRING
             && h->len > 0 && h->len < TA_SENTINEL_HOST_MAX
             && (*port = atoi(p->str)) > 0 && *port <= 65535) {
        memcpy(host, h->str, h->len);
        host[h->len] = '\0';
        rc = 1;
    }
    else {
        apr_snprintf(why, whylen, "answered something that is not an address");
    }
    if (reply) freeReplyObject(reply);
    if (rc < 0) {
        close_conn(st);
    }
    return rc;
}

/* Asks the Sentinels in order, from the one that answered last, until one
 * names the master. 0 with it in host/port, or -1 and why (the last
 * Sentinel's reason). The caller is the only thread asking. */
static int ask(ta_sentinel_t *st, char *host, int *port, char *why, apr_size_t whylen)
{
    const ta_redis_url_t *u = st->u;
    char one[256];
    int k, i;

    for (k = 0; k < u->nsentinels; k++) {
        i = (st->first + k) % u->nsentinels;
        if (ask_one(st, i, host, port, one, sizeof(one)) == 1) {
            st->first = i;
            return 0;
        }
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, st->s, TA_LOGNO(124)
                     "Redis %s: Sentinel %s:%d: %s", u->redacted, u->sentinels[i].host,
                     u->sentinels[i].port, one);
        apr_snprintf(why, whylen, "Sentinel %s:%d: %s", u->sentinels[i].host,
                     u->sentinels[i].port, one);
    }
    return -1;
}

/* Notes what the Sentinels said (lock held). */
static void learn(ta_sentinel_t *st, int rc, const char *host, int port, const char *why,
                  int quiet)
{
    const ta_redis_url_t *u = st->u;

    st->asked = apr_time_now();
    st->answered = rc == 0;
    ta_metrics_add(TA_M_SENTINEL_QUERIES, 1);
    if (rc != 0) {
        ta_metrics_add(TA_M_SENTINEL_FAILURES, 1);
        if (!st->reported && !quiet) {
            /* A master named before and not proved wrong is kept (resolve):
             * Sentinels out of reach do not stop a healthy master. */
            char then[TA_SENTINEL_HOST_MAX + 96];

            if (st->port != 0 && !st->stale) {
                apr_snprintf(then, sizeof(then), "connections stay with %s:%d, the master they "
                             "named last, until one answers", st->host, st->port);
            }
            else {
                apr_cpystrn(then, "requests that need Redis answer 503 until one does",
                            sizeof(then));
            }
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, st->s, TA_LOGNO(121)
                         "Redis %s: no Sentinel named the master (%s); %s", u->redacted, why, then);
            st->reported = 1;
        }
        return;
    }
    if (st->reported) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, st->s, TA_LOGNO(123)
                     "Redis %s: the Sentinels answer again: master %s:%d", u->redacted, host, port);
        st->reported = 0;
    }
    if (st->port != port || strcmp(st->host, host) != 0) {
        if (st->port != 0) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, st->s, TA_LOGNO(122)
                         "Redis %s: the Sentinels name %s:%d master (was %s:%d); connections "
                         "follow it", u->redacted, host, port, st->host, st->port);
            ta_metrics_add(TA_M_REDIS_MASTER_SWITCHES, 1);
            if (st->on_switch) {
                st->on_switch(st->on_switch_data);
            }
        }
        apr_cpystrn(st->host, host, sizeof(st->host));
        st->port = port;
    }
    st->stale = 0;
}

/* The master, asked for when due (see the header). wait: when the answer
 * is needed (none known, or suspected) and another thread is asking, wait
 * for its answer; otherwise take the last one. 0, or -1 when no master is
 * known. */
static int resolve(ta_sentinel_t *st, int quiet, int wait, char *host, int *port)
{
    char found[TA_SENTINEL_HOST_MAX], why[320] = "no Sentinel";
    int found_port = 0, rc, known;

    LOCK(st);
    for (;;) {
        apr_time_t now = apr_time_now();
        int needed = st->port == 0 || st->stale;
        int due = needed || now - st->asked >= apr_time_from_msec(TA_SENTINEL_RECHECK_MS);
        int backoff = st->asked && !st->answered
                      && now - st->asked < apr_time_from_msec(TA_SENTINEL_RETRY_MS);

        if (!due || backoff) {
            break;
        }
        if (st->asking) {
            if (!needed || !wait) {
                break;
            }
            WAIT(st);
            continue;
        }
        st->asking = 1;
        UNLOCK(st);
        rc = ask(st, found, &found_port, why, sizeof(why));
        LOCK(st);
        st->asking = 0;
        learn(st, rc, found, found_port, why, quiet);
        BROADCAST(st);
        break;
    }
    known = st->port != 0 && !st->stale;
    if (known) {
        apr_cpystrn(host, st->host, TA_SENTINEL_HOST_MAX);
        *port = st->port;
    }
    UNLOCK(st);
    return known ? 0 : -1;
}

int ta_sentinel_master(ta_sentinel_t *st, server_rec *s, const ta_redis_url_t *u,
                       apr_interval_time_t timeout, int quiet, char *host, int *port)
{
    ta_sentinel_t once;
    char why[320] = "no Sentinel";
    int rc;

    if (st != NULL) {
        return resolve(st, quiet, 1, host, port);
    }
    /* In the parent, once: no state to keep, nobody else asking. */
    memset(&once, 0, sizeof(once));
    once.s = s;
    once.u = u;
    once.tv = timeval_of(timeout);
    rc = ask(&once, host, port, why, sizeof(why));
    close_conn(&once);
    if (rc != 0 && !quiet) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, TA_LOGNO(128)
                     "Redis %s: no Sentinel named the master (%s)", u->redacted, why);
    }
    return rc;
}

int ta_sentinel_is_master(redisContext *c, char *why, apr_size_t whylen)
{
    const char *argv[] = { "ROLE" };
    redisReply *reply = redisCommandArgv(c, 1, argv, NULL);
    redisReply *role = (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
                        && reply->element[0]->type == REDIS_REPLY_STRING)
                       ? reply->element[0] : NULL;
    int ok = role != NULL && strcmp(role->str, "master") == 0;

    if (!ok) {
        apr_snprintf(why, whylen, "ROLE: %.200s",
                     role ? role->str
                     : reply && reply->type == REDIS_REPLY_ERROR ? reply->str
                     : reply ? "not an answer" : c->errstr);
    }
    if (reply) freeReplyObject(reply);
    return ok;
}

void ta_sentinel_suspect(ta_sentinel_t *st, const char *host, int port)
{
    if (st == NULL || host == NULL) {
        return;
    }
    LOCK(st);
    if (st->port == port && strcmp(st->host, host) == 0) {
        st->stale = 1;
    }
    UNLOCK(st);
}

int ta_sentinel_current(ta_sentinel_t *st, const redisContext *c)
{
    char host[TA_SENTINEL_HOST_MAX];
    int port;

    if (st == NULL || c->connection_type != REDIS_CONN_TCP || c->tcp.host == NULL) {
        return 1;
    }
    if (resolve(st, 0, 0, host, &port) != 0) {
        return 0;
    }
    return port == c->tcp.port && strcmp(host, c->tcp.host) == 0;
}

void ta_sentinel_on_switch(ta_sentinel_t *st, void (*fn)(void *), void *data)
{
    LOCK(st);
    st->on_switch = fn;
    st->on_switch_data = data;
    UNLOCK(st);
}
