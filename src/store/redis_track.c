/*
 * redis_track.c - the listener that keeps a child's session cache exact
 * (TrpcAuthSessionCache, on by default; the table and the reasoning are in
 * cache/sesscache.h).
 *
 * One thread per child and server, with its own Redis connection:
 *
 *   CLIENT ID                                      -> id
 *   CLIENT TRACKING ON REDIRECT id BCAST PREFIX <key prefix>{u:
 *   SUBSCRIBE __redis__:invalidate
 *
 * after which Redis publishes the name of every session key that is written,
 * deleted or expires, on this very connection. Whether Redis allows this is
 * found out at start and again on every reconnect: a Redis older than 6, or
 * an ACL user without CLIENT, answers with an error, which is logged once;
 * the cache then stays off (every request asks Redis) and the thread asks
 * again every 30 s.
 *
 * The thread polls the socket and a wake-up pipe. A frozen Redis must not
 * leave the cache answering for long: the thread PINGs after PING_QUIET_MS
 * without traffic and counts the connection lost when the answer takes longer
 * than TrpcAuthRedisTimeout, so a Redis that stops is noticed at most
 * TrpcAuthRedisTimeout + PING_QUIET_MS (+ scheduling) after its last word,
 * the bound the per-request check would give plus less than half a second.
 * The socket failing, or an answer that makes no sense, counts as lost too.
 * Losing the connection empties the cache and turns it off until the thread
 * has subscribed again (it retries every second). A pre-cleanup of the
 * child's pool wakes the thread and joins it before the pool goes away.
 *
 * Behind Sentinels (redis-sentinel://) the listener follows the master: it
 * connects where the Sentinels say (store/sentinel.h), and while subscribed
 * it asks them again every TA_SENTINEL_RECHECK_MS (its loop wakes at least
 * every PING_QUIET_MS). When the master moved, whoever noticed first in the
 * child turns the cache off at once (invalidations of writes made on the new
 * master never reach a connection to the old one), and the listener leaves
 * the old master and subscribes on the new one straight away; the cache
 * answers again once it has.
 */
#include "store/redis.h"
#include "store/sentinel.h"
#include "util/atomic.h"
#include "cfg/log.h"
#include "cache/sesscache.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <http_log.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PING_QUIET_MS       400      /* quiet time before a PING: with the timeout, the 500 ms bound */
#define PING_DEADLINE_MIN_MS 100      /* a PING answer may always take this long */
#define RETRY_EVERY_MS     1000
#define RETRY_REFUSED_MS  30000      /* Redis without CLIENT TRACKING: ask again now and then */
#define LISTENER_STACK   (256 * 1024) /* poll, hiredis and one log line: far below the default 8 MB */

#if APR_HAS_THREADS

typedef struct {
    server_rec *s;
    const ta_server_conf_t *sc;
    ta_sesscache_t *cache;
    ta_sentinel_t *sentinel;          /* redis-sentinel://: whom to follow; else NULL */
    int switched;                     /* the connection was left for a new master */
    apr_thread_t *thread;
    int wake[2];                      /* pipe: the cleanup writes, the thread polls */
    int stopping;                     /* set by listener_stop (util/atomic.h access only) */
    int reported_down;                /* one log line per outage */
    int refused;                      /* the last attempt got an error reply, not a network error */
    int reported_refused;             /* ... and that was logged (once, until tracking works) */
} listener_t;

static apr_int64_t now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

/* How long a PING may go unanswered: what a request waits for its own
 * answer, TrpcAuthRedisTimeout. */
static apr_int64_t ping_deadline_ms(const ta_server_conf_t *sc)
{
    apr_int64_t t = apr_time_as_msec(ta_conf_redis_timeout(sc));
    return t < PING_DEADLINE_MIN_MS ? PING_DEADLINE_MIN_MS : t;
}

/* Waits up to ms for the connection's socket (fd >= 0) or the wake pipe.
 * Returns 1 when the socket is readable, 0 on timeout, -1 when woken to stop
 * or on a poll error. */
static int wait_for(listener_t *l, int fd, apr_int64_t ms)
{
    struct pollfd p[2];
    int n = 0, rc;

    p[n].fd = l->wake[0]; p[n].events = POLLIN; p[n].revents = 0; n++;
    if (fd >= 0) {
        p[n].fd = fd; p[n].events = POLLIN; p[n].revents = 0; n++;
    }
    do {
        rc = poll(p, (nfds_t)n, ms < 0 ? 0 : (int)ms);
    } while (rc < 0 && errno == EINTR && !ta_atomic_get(l->stopping));
    if (rc < 0 || ta_atomic_get(l->stopping) || (p[0].revents & POLLIN)) {
        return -1;
    }
    return rc > 0 && n == 2 && p[1].revents != 0 ? 1 : 0;
}

/* A blocking setup command; 1 when its reply has the expected type. An
 * error reply is copied into why (for the log). */
static int setup(redisContext *c, int type, long long *integer, int argc, const char **argv,
                 char *why, apr_size_t whylen)
{
    redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
    int ok = reply != NULL && reply->type == type;

    if (ok && integer) {
        *integer = reply->integer;
    }
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        apr_snprintf(why, whylen, "%s %s: %.200s", argv[0], argv[1], reply->str);
    }
    if (reply) freeReplyObject(reply);
    return ok;
}

/* Connects, turns tracking on and subscribes. NULL on failure. */
static redisContext *subscribe(listener_t *l)
{
    const ta_server_conf_t *sc = l->sc;
    /* Retried every second during an outage: one log line per outage. */
    redisContext *c = ta_redis_connect(l->s, sc, l->reported_down);
    const char *id_argv[] = { "CLIENT", "ID" };
    const char *sub_argv[] = { "SUBSCRIBE", "__redis__:invalidate" };
    const char *trk_argv[] = { "CLIENT", "TRACKING", "ON", "REDIRECT", NULL, "BCAST", "PREFIX",
                               NULL };
    char id[32], prefix[512], why[256] = "no answer";
    long long cid = 0;
    redisReply *reply;
    int ok;

    l->refused = 0;
    if (c == NULL) {
        return NULL;
    }
    apr_snprintf(prefix, sizeof(prefix), "%s{u:", ta_conf_key_prefix(sc));
    ok = setup(c, REDIS_REPLY_INTEGER, &cid, 2, id_argv, why, sizeof(why));
    if (ok) {
        apr_snprintf(id, sizeof(id), "%" APR_INT64_T_FMT, (apr_int64_t)cid);
        trk_argv[4] = id;
        trk_argv[7] = prefix;
        ok = setup(c, REDIS_REPLY_STATUS, NULL, 8, trk_argv, why, sizeof(why));
    }
    if (ok) {
        /* The confirmation is ["subscribe", channel, 1]. */
        reply = redisCommandArgv(c, 2, sub_argv, NULL);
        ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3;
        if (reply) freeReplyObject(reply);
    }
    if (!ok) {
        l->refused = !c->err;
        /* A refusal is a setting of Redis, not an outage: said once, until
         * tracking works again. */
        if (l->refused && !l->reported_refused) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, TA_LOGNO(110)
                         "TrpcAuthSessionCache: Redis %s refused client tracking (%s); "
                         "the session cache stays off, every request asks Redis",
                         ta_conf_redis(sc)->redacted, why);
            l->reported_refused = 1;
        }
        else if (!l->refused && !l->reported_down) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, TA_LOGNO(116)
                         "TrpcAuthSessionCache: Redis %s failed while the listener subscribed (%s); "
                         "session cache off until it is back", ta_conf_redis(sc)->redacted,
                         c->errstr);
            l->reported_down = 1;
        }
        redisFree(c);
        return NULL;
    }
    /* From here on reads are driven by poll(): no socket timeout. */
    {
        struct timeval none = { 0, 0 };
        redisSetTimeout(c, none);
    }
    return c;
}

/* Handles one pushed reply. 1: a PING answer; 0: anything else that is
 * fine; -1: nonsense (the connection is dropped). */
static int handle(listener_t *l, redisReply *m)
{
    redisReply *kind, *payload;
    size_t i;

    if (m->type != REDIS_REPLY_ARRAY || m->elements < 2
        || m->element[0]->type != REDIS_REPLY_STRING) {
        return -1;
    }
    kind = m->element[0];
    if (strcasecmp(kind->str, "pong") == 0) {
        return 1;
    }
    if (strcasecmp(kind->str, "message") != 0 || m->elements != 3) {
        return 0;
    }
    payload = m->element[2];
    if (payload->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < payload->elements; i++) {
            if (payload->element[i]->type == REDIS_REPLY_STRING) {
                ta_sesscache_invalidate(l->cache, payload->element[i]->str,
                                        payload->element[i]->len);
            }
        }
    }
    else {
        /* A nil payload: FLUSHDB / FLUSHALL. */
        ta_sesscache_flush(l->cache);
    }
    return 0;
}

/* Reads what the socket holds and handles every complete reply. 1 when a
 * PING was answered, 0 when only other traffic came, -1 when the connection
 * failed or sent nonsense. */
static int drain_replies(listener_t *l, redisContext *c)
{
    void *reply;
    int rc, pong = 0;

    if (redisBufferRead(c) != REDIS_OK) {
        return -1;
    }
    for (;;) {
        reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
            return -1;
        }
        if (reply == NULL) {
            return pong;
        }
        rc = handle(l, reply);
        freeReplyObject(reply);
        if (rc < 0) {
            return -1;
        }
        pong |= rc;
    }
}

/* drain_replies, with the cache told that invalidations are being read and
 * applied: from the moment they leave the socket until they are in the
 * table, the cache answers nothing (cache/sesscache.h). */
static int drain(listener_t *l, redisContext *c)
{
    int rc;

    ta_sesscache_reading(l->cache, 1);
    rc = drain_replies(l, c);
    ta_sesscache_reading(l->cache, 0);
    return rc;
}

/* Serves one subscribed connection until it fails or the child stops. Any
 * traffic shows the connection alive; after PING_QUIET_MS of quiet a PING
 * must be answered within ping_deadline_ms. */
static void serve(listener_t *l, redisContext *c)
{
    apr_int64_t next_ping = now_ms() + PING_QUIET_MS, deadline = 0;
    int rc, done;

    for (;;) {
        apr_int64_t now = now_ms();

        if (l->sentinel && !ta_sentinel_current(l->sentinel, c)) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, l->s, TA_LOGNO(127)
                         "TrpcAuthSessionCache: the Redis master of %s moved (or the "
                         "Sentinels cannot confirm it); the cache is emptied and the listener "
                         "follows the master they name", ta_conf_redis(l->sc)->redacted);
            l->switched = 1;
            return;
        }
        if (deadline && now >= deadline) {
            /* A last look without waiting: a thread that was not scheduled
             * for a while may find the answer already there. */
            rc = wait_for(l, c->fd, 0);
            if (rc < 0 || (rc == 1 && drain(l, c) < 0)) {
                return;
            }
            if (rc == 0) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, TA_LOGNO(111)
                             "TrpcAuthSessionCache: Redis %s did not answer PING within "
                             "%" APR_INT64_T_FMT " ms; session cache off until it does",
                             ta_conf_redis(l->sc)->redacted, ping_deadline_ms(l->sc));
                l->reported_down = 1;
                return;
            }
            /* Traffic came (the answer, or messages before it): alive. */
            deadline = 0;
            next_ping = now_ms() + PING_QUIET_MS;
            continue;
        }
        if (!deadline && now >= next_ping) {
            if (redisAppendCommand(c, "PING") != REDIS_OK) {
                return;
            }
            do {
                if (redisBufferWrite(c, &done) != REDIS_OK) return;
            } while (!done);
            deadline = now + ping_deadline_ms(l->sc);
        }
        rc = wait_for(l, c->fd, (deadline ? deadline : next_ping) - now);
        if (rc < 0) {
            return;
        }
        if (rc == 0) {
            continue;
        }
        if ((rc = drain(l, c)) < 0) {
            return;
        }
        if (rc == 1) {
            deadline = 0;
        }
        if (!deadline) {
            next_ping = now_ms() + PING_QUIET_MS;
        }
    }
}

static void *APR_THREAD_FUNC listen_main(apr_thread_t *t, void *data)
{
    listener_t *l = data;
    redisContext *c;

    while (!ta_atomic_get(l->stopping)) {
        if ((c = subscribe(l)) != NULL) {
            if (l->reported_down || l->reported_refused) {
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, l->s, TA_LOGNO(112)
                             "TrpcAuthSessionCache: tracking Redis %s again",
                             ta_conf_redis(l->sc)->redacted);
                l->reported_down = 0;
                l->reported_refused = 0;
            }
            ta_sesscache_watch(l->cache, c->fd);
            ta_sesscache_set_live(l->cache, 1);
            serve(l, c);
            ta_sesscache_set_live(l->cache, 0);
            ta_sesscache_watch(l->cache, -1);
            if (!ta_atomic_get(l->stopping) && !l->reported_down && !l->switched) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, l->s, TA_LOGNO(114)
                             "TrpcAuthSessionCache lost its Redis connection (%s); "
                             "session cache off until it is back",
                             c->err ? c->errstr : "closed");
                l->reported_down = 1;
            }
            redisFree(c);
        }
        else if (!l->refused) {
            l->reported_down = 1;     /* ta_redis_connect said why, once */
        }
        if (!ta_atomic_get(l->stopping) && !l->switched) {
            wait_for(l, -1, l->refused ? RETRY_REFUSED_MS : RETRY_EVERY_MS);
        }
        l->switched = 0;
    }
    return NULL;
}

/* The Sentinels named a new master (run by whichever thread learnt it):
 * the cache stops answering now, before the listener has moved. */
static void master_switched(void *data)
{
    listener_t *l = data;

    ta_sesscache_set_live(l->cache, 0);
}

/* Pre-cleanup of the child's pool: stop and join the thread while the memory
 * it uses is still there. */
static apr_status_t listener_stop(void *data)
{
    listener_t *l = data;
    apr_status_t rv;
    ssize_t n;

    ta_atomic_set(l->stopping, 1);
    do {
        n = write(l->wake[1], "x", 1);
    } while (n < 0 && errno == EINTR);
    apr_thread_join(&rv, l->thread);
    close(l->wake[0]);
    close(l->wake[1]);
    return APR_SUCCESS;
}

/* Starts the thread with every signal blocked: the MPM's handlers (prefork's
 * just_die, for one) destroy the child's pool, whose cleanup joins this
 * thread, and must never run on it. */
static apr_status_t create_thread(listener_t *l, apr_pool_t *pchild)
{
    apr_threadattr_t *attr;
    sigset_t all, old;
    apr_status_t rv;

    if ((rv = apr_threadattr_create(&attr, pchild)) != APR_SUCCESS) {
        return rv;
    }
    apr_threadattr_stacksize_set(attr, LISTENER_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = apr_thread_create(&l->thread, attr, listen_main, l, pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

apr_status_t ta_redis_track_start(apr_pool_t *pchild, server_rec *s, ta_server_conf_t *sc)
{
    listener_t *l;
    apr_status_t rv;

    if (sc->state.session_cache == NULL) {
        return APR_SUCCESS;
    }
    l = apr_pcalloc(pchild, sizeof(*l));
    l->s = s;
    l->sc = sc;
    l->cache = sc->state.session_cache;
    l->sentinel = ta_redis_sentinel(sc);
    if (pipe2(l->wake, O_CLOEXEC) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto fail;
    }
    if ((rv = create_thread(l, pchild)) != APR_SUCCESS) {
        close(l->wake[0]);
        close(l->wake[1]);
        goto fail;
    }
    apr_pool_pre_cleanup_register(pchild, l, listener_stop);
    if (l->sentinel) {
        ta_sentinel_on_switch(l->sentinel, master_switched, l);
    }
    return APR_SUCCESS;
fail:
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, TA_LOGNO(113)
                 "TrpcAuthSessionCache: cannot start the listener; the session cache stays off");
    sc->state.session_cache = NULL;
    return rv;
}

#else  /* !APR_HAS_THREADS */

apr_status_t ta_redis_track_start(apr_pool_t *pchild, server_rec *s, ta_server_conf_t *sc)
{
    if (sc->state.session_cache != NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TA_LOGNO(115)
                     "TrpcAuthSessionCache needs APR with threads; the session cache stays off");
        sc->state.session_cache = NULL;
    }
    return APR_SUCCESS;
}

#endif
