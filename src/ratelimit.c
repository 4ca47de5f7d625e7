/*
 * ratelimit.c - fixed-window attempt counters in Redis, one script each.
 */
#include "ta_ratelimit.h"
#include "ta_audit.h"
#include "ta_log.h"
#include "ta_redis.h"
#include "ta_session.h"

#include <apr_strings.h>
#include <http_log.h>

/* INCR, start the window on the first attempt, answer {count, ms left}. */
static const char hit_script[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "local ttl = redis.call('PTTL', KEYS[1])\n"
    "if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end\n"
    "return {n, ttl}\n";

/* The scripts run with EVALSHA (ta_redis_eval); each SHA-1 is computed once. */
static ta_redis_script_t hit_lua = TA_REDIS_SCRIPT(hit_script);

static const char *const scope_keys[TA_RL__COUNT] = {
    "login-account", "login-ip", "register-ip", "refresh-session",
};

ta_error_t *ta_rate_hit(ta_ctx_t *ctx, ta_rate_scope_t scope, const char *subject)
{
    request_rec *r = ctx->r;
    ta_rate_limit_t limit = ta_conf_rate(ctx->sc, scope);
    const char *key, *hash;
    redisReply *reply;
    long long count, ttl_ms;
    ta_error_t *e;

    if (subject == NULL || *subject == '\0') {
        return NULL;
    }
    hash = ta_sha256_hex(r->pool, subject);
    key = apr_pstrcat(r->pool, ctx->sc->key_prefix, "rl:", scope_keys[scope], ":",
                      apr_pstrndup(r->pool, hash, 32), NULL);
    reply = ta_redis_eval(r, &hit_lua, "1", key,
                              apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                           apr_time_as_msec(limit.window)), NULL);
    if (reply == NULL) {
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Rate limiter unavailable");
    }
    count = (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
            ? reply->element[0]->integer : 0;
    ttl_ms = (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
            ? reply->element[1]->integer : 0;
    freeReplyObject(reply);
    if (count <= limit.count) {
        return NULL;
    }
    e = ta_error_make(r->pool, TA_E_TOO_MANY_REQUESTS,
                      "Too many attempts, try again later");
    e->retry_after = (int)((ttl_ms + 999) / 1000);
    if (e->retry_after < 1) e->retry_after = 1;
    if (count == limit.count + 1) {          /* record the first refusal of a window */
        json_t *detail = json_pack("{s:s}", "scope", scope_keys[scope]);
        ta_audit(ctx, "rate_limited", NULL, NULL, detail);
        json_decref(detail);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(401)
                  "rate limit %s exceeded (%" APR_INT64_T_FMT " attempts)",
                  scope_keys[scope], (apr_int64_t)count);
    return e;
}
