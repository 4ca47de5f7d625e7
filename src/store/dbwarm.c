/*
 * dbwarm.c - PostgreSQL connections ready before the load comes (see
 * store/dbwarm.h for why).
 *
 * One thread per child, for every mod_dbd pool the module uses. A round takes
 * the group's count of connections at once (mod_dbd hands out the idle ones
 * and opens the missing ones, with their prepared statements), and gives them
 * all back; the first round also runs the module's read statements on each.
 * Rounds run only while no request of the child holds or wants a connection
 * of the module (ta_db_idle), checked before each connection: a request that
 * comes gets them all back at once (the round is finished later), so the
 * warmer never keeps one a request waits for and never makes the pool grow
 * under load. The first round runs right after start, the later ones every
 * DBDExptime / 2 so that apr_reslist never finds a connection idle for
 * DBDExptime. A round that cannot have its connections (PostgreSQL down) is
 * tried again after 5 s, then less often.
 *
 * The thread allocates only from a pool of its own (the child's pool has no
 * lock, and other threads allocate from it), and starts with every signal
 * blocked, as the session cache's listener (src/store/redis_track.c) does.
 */
#include "store/dbwarm.h"
#include "store/db.h"
#include "cfg/log.h"

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <http_log.h>

#include <pthread.h>
#include <signal.h>

#define RETRY_FIRST   apr_time_from_sec(5)     /* PostgreSQL down: next round */
#define RETRY_MAX     apr_time_from_sec(60)
#define BUSY_RECHECK  apr_time_from_msec(100)  /* a round waits for a quiet moment */
#define REFRESH_MIN   apr_time_from_sec(1)
#define IDLE_WAIT     apr_time_from_sec(3600)  /* nothing due */
#define WARMER_STACK  (256 * 1024)

#if APR_HAS_THREADS

typedef struct group {
    server_rec *s;
    int count;                        /* connections kept ready */
    apr_interval_time_t every;        /* between rounds; 0: one round is enough */
    apr_interval_time_t retry;        /* after a failed round (doubles up to RETRY_MAX) */
    apr_time_t next;                  /* the next round */
    int warmed;                       /* a round had all its connections */
    int done;                         /* no round is needed any more */
    struct group *next_group;
} group_t;

struct ta_dbwarm {
    apr_pool_t *pchild;
    group_t *groups;
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;         /* guards stopping; the condition wakes the thread */
    apr_thread_cond_t *wake;
    int stopping;
};

ta_dbwarm_t *ta_dbwarm_create(apr_pool_t *pchild)
{
    ta_dbwarm_t *w = apr_pcalloc(pchild, sizeof(*w));

    w->pchild = pchild;
    return w;
}

void ta_dbwarm_add(ta_dbwarm_t *w, server_rec *s, int count, int exptime_s)
{
    group_t *g;

    if (w == NULL || count <= 0) {
        return;
    }
    g = apr_pcalloc(w->pchild, sizeof(*g));
    g->s = s;
    g->count = count;
    if (exptime_s > 0) {
        g->every = apr_time_from_sec(exptime_s) / 2;
        if (g->every < REFRESH_MIN) {
            g->every = REFRESH_MIN;
        }
    }
    g->retry = RETRY_FIRST;
    g->next_group = w->groups;
    w->groups = g;
}

static int stopping(ta_dbwarm_t *w)
{
    int stop;

    apr_thread_mutex_lock(w->lock);
    stop = w->stopping;
    apr_thread_mutex_unlock(w->lock);
    return stop;
}

enum { ROUND_DONE, ROUND_BUSY, ROUND_FAILED };

/* The child has no request that holds or wants a connection, and is not
 * stopping. */
static int quiet(ta_dbwarm_t *w)
{
    return ta_db_idle() && !stopping(w);
}

/* Takes g->count connections at once, warms each on the first round, and
 * gives them back. One at a time, and only while the child stays quiet: a
 * request that comes meanwhile waits at most for the one connection being
 * opened (mod_dbd opens it under the pool's lock), then finds them all back
 * in the pool. */
static int take_all(ta_dbwarm_t *w, group_t *g, apr_pool_t *p)
{
    ap_dbd_t **held = apr_pcalloc(p, sizeof(*held) * (apr_size_t)g->count);
    int n = 0, i, rc = ROUND_DONE;

    while (n < g->count && (rc = quiet(w) ? ROUND_DONE : ROUND_BUSY) == ROUND_DONE) {
        if ((held[n] = ta_db_open(p, g->s)) == NULL) {
            rc = ROUND_FAILED;
            break;
        }
        n++;
    }
    for (i = 0; rc == ROUND_DONE && !g->warmed && i < n; i++) {
        if (!quiet(w)) {
            rc = ROUND_BUSY;
            break;
        }
        ta_db_warm(g->s, held[i]);    /* an error here is the requests' to report */
    }
    for (i = n; i > 0; i--) {
        ta_db_close(g->s, held[i - 1]);
    }
    return rc;
}

/* One round of g, if the child is quiet; plans the next. */
static void run_group(ta_dbwarm_t *w, group_t *g, apr_pool_t *tp)
{
    apr_pool_t *p;
    int rc;

    if (!ta_db_idle()) {
        g->next = apr_time_now() + BUSY_RECHECK;
        return;
    }
    if (apr_pool_create(&p, tp) != APR_SUCCESS) {
        g->next = apr_time_now() + g->retry;
        return;
    }
    rc = take_all(w, g, p);
    apr_pool_destroy(p);
    if (stopping(w)) {
        return;
    }
    if (rc == ROUND_DONE) {
        if (!g->warmed) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, g->s, TA_LOGNO(206)
                         "%d PostgreSQL connections ready; taken again every %" APR_TIME_T_FMT
                         " ms (0: never, DBDExptime 0)", g->count, apr_time_as_msec(g->every));
        }
        g->warmed = 1;
        g->retry = RETRY_FIRST;
        g->done = g->every == 0;
        g->next = apr_time_now() + g->every;
    }
    else if (rc == ROUND_BUSY) {
        /* Requests came: they have what they need; finish when they are gone. */
        g->next = apr_time_now() + BUSY_RECHECK;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, g->s, TA_LOGNO(207)
                     "could not have %d PostgreSQL connections ready; trying again in %"
                     APR_TIME_T_FMT " s", g->count, apr_time_sec(g->retry));
        g->next = apr_time_now() + g->retry;
        g->retry = g->retry * 2 > RETRY_MAX ? RETRY_MAX : g->retry * 2;
    }
}

static void *APR_THREAD_FUNC warm_main(apr_thread_t *t, void *data)
{
    ta_dbwarm_t *w = data;
    apr_pool_t *tp;
    group_t *g;

    if (apr_pool_create_unmanaged_ex(&tp, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    while (!stopping(w)) {
        apr_time_t now = apr_time_now(), wake = now + IDLE_WAIT;

        for (g = w->groups; g && !stopping(w); g = g->next_group) {
            if (!g->done && now >= g->next) {
                run_group(w, g, tp);
            }
            if (!g->done && g->next < wake) {
                wake = g->next;
            }
        }
        apr_thread_mutex_lock(w->lock);
        now = apr_time_now();
        if (!w->stopping && wake > now) {
            apr_thread_cond_timedwait(w->wake, w->lock, wake - now);
        }
        apr_thread_mutex_unlock(w->lock);
    }
    apr_pool_destroy(tp);
    return NULL;
}

/* Pre-cleanup of the child's pool: stop and join the thread while mod_dbd's
 * pools (sub-pools of the child's) and this memory are still there. */
static apr_status_t warmer_stop(void *data)
{
    ta_dbwarm_t *w = data;
    apr_status_t rv;

    apr_thread_mutex_lock(w->lock);
    w->stopping = 1;
    apr_thread_cond_signal(w->wake);
    apr_thread_mutex_unlock(w->lock);
    apr_thread_join(&rv, w->thread);
    return APR_SUCCESS;
}

void ta_dbwarm_start(ta_dbwarm_t *w, server_rec *s)
{
    apr_threadattr_t *attr;
    sigset_t all, old;
    apr_status_t rv;

    if (w == NULL || w->groups == NULL) {
        return;
    }
    if ((rv = apr_thread_mutex_create(&w->lock, APR_THREAD_MUTEX_DEFAULT, w->pchild))
            != APR_SUCCESS
        || (rv = apr_thread_cond_create(&w->wake, w->pchild)) != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, w->pchild)) != APR_SUCCESS) {
        goto fail;
    }
    apr_threadattr_stacksize_set(attr, WARMER_STACK);
    /* Signals stay with the MPM's threads: a handler that destroys the
     * child's pool (prefork's just_die) joins this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = apr_thread_create(&w->thread, attr, warm_main, w, w->pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rv != APR_SUCCESS) {
        goto fail;
    }
    apr_pool_pre_cleanup_register(w->pchild, w, warmer_stop);
    return;
fail:
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, TA_LOGNO(208)
                 "cannot start the PostgreSQL warmer; connections are made on demand");
}

#else  /* !APR_HAS_THREADS: connections are made on demand, as mod_dbd does */

ta_dbwarm_t *ta_dbwarm_create(apr_pool_t *pchild)
{
    return NULL;
}

void ta_dbwarm_add(ta_dbwarm_t *w, server_rec *s, int count, int exptime_s)
{
}

void ta_dbwarm_start(ta_dbwarm_t *w, server_rec *s)
{
}

#endif
