/*
 * store/redis.h - a per-child pool of hiredis connections, in the shape of
 * mod_dbd's reslist: made in child_init, one connection acquired per (main)
 * request and released by an r->pool cleanup; a connection that saw any error
 * is invalidated, never returned. Redis down means ta_redis_acquire() fails
 * within TrpcAuthRedisTimeout, and the next request simply tries again.
 */
#ifndef TA_REDIS_H
#define TA_REDIS_H

#include <httpd.h>
#include <hiredis.h>

#include "cfg/config.h"

/* Opens one connection to the server's Redis (with AUTH and SELECT as
 * configured, the I/O timeout of TrpcAuthRedisTimeout); behind Sentinels, to
 * the master they name, checked with ROLE. NULL when it cannot;
 * why is logged (with the URL redacted) unless quiet. The pool below, the
 * session cache's listener and the start-up check use it. */
redisContext *ta_redis_connect(server_rec *s, const ta_server_conf_t *sc, int quiet);

/* At start, in the parent: asks the server's Redis for its maxmemory-policy
 * and logs a warning unless it is noeviction (an evicting Redis may drop a
 * user's session index, and logoutAll / changePassword would then miss
 * sessions). Says nothing (debug only) when Redis cannot be reached or
 * refuses CONFIG GET; waits at most TrpcAuthRedisTimeout. */
void ta_redis_check_eviction(server_rec *s, const ta_server_conf_t *sc);

/* redis-sentinel://: the child's view of the master (store/sentinel.h), kept
 * with the pool; NULL for other URLs and before the pool exists. */
struct ta_sentinel *ta_redis_sentinel(const ta_server_conf_t *sc);

/* Creates the pool of one server in the child (connections are opened lazily). */
apr_status_t ta_redis_pool_create(apr_pool_t *pchild, server_rec *s, ta_server_conf_t *sc);

/* Starts the child's listener of the server's session cache (src/store/redis_track.c),
 * when sc->session_cache is set; on failure the cache is switched off (logged). */
apr_status_t ta_redis_track_start(apr_pool_t *pchild, server_rec *s, ta_server_conf_t *sc);

/* The request's connection, acquired on first use. NULL when Redis cannot be
 * reached (logged once per request). */
redisContext *ta_redis_acquire(request_rec *r);

/* Runs one command (argv form, binary safe). Returns the reply (free it with
 * freeReplyObject) or NULL on a transport error, after which the connection
 * is invalidated when released. An error reply (REDIS_REPLY_ERROR) is freed
 * and reported as NULL too, and logged. */
redisReply *ta_redis_command(request_rec *r, int argc, const char **argv,
                             const size_t *argvlen);

/* Convenience: NULL-terminated list of C strings. */
redisReply *ta_redis_commandv(request_rec *r, ...);

/* A Lua script that is sent as EVALSHA: its text and, once computed, the hex
 * SHA-1 of the text (on first use, by whichever thread gets there first).
 * Define one per script as static ta_redis_script_t x = TA_REDIS_SCRIPT("..."). */
typedef struct {
    const char *text;
    int state;                 /* 0 no sha yet, 1 being stored, 2 sha ready (__atomic access only) */
    char sha[41];
} ta_redis_script_t;
#define TA_REDIS_SCRIPT(src) { (src), 0, "" }

/* Runs a script: EVALSHA sha numkeys args... (the script text is not sent or
 * hashed by Redis each time); when Redis does not know the script yet
 * (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH) it is sent once as EVAL,
 * which also loads it. Arguments after numkeys are the keys and then the
 * arguments, NULL-terminated. The reply as ta_redis_command()'s. */
redisReply *ta_redis_eval(request_rec *r, ta_redis_script_t *script, const char *numkeys, ...);

/* The same with the arguments in an array: args[0] is numkeys, then the keys
 * and the arguments (argc in all, at most 30). */
redisReply *ta_redis_evalv(request_rec *r, ta_redis_script_t *script, int argc,
                           const char **args);

#endif
