/*
 * ratelimit.c - attempt counters in Redis, one script per operation.
 *
 * Keys (<prefix> is TrpcAuthKeyPrefix, h() the first 128 bits of SHA-256 in
 * hex, addr the client address as ta_addr_subject() gives it):
 *   <prefix>rl:<scope>:h(subject)              ta_rate_hit (a plain counter)
 *   <prefix>rl:{ip:h(addr)}:login              login-ip
 *   <prefix>rl:{a:h(email)}:login              login-account
 *   <prefix>rl:{a:h(email)}:login-ip:h(addr)   login-account-ip
 *   <prefix>rl:{a:h(email)}:known:h(addr)      the account logged in from addr
 *   <prefix>rl:{u:id}:password                 password-user
 *   <prefix>rl:{u:id}:password-session:h(sid)  password-session
 * The counters of password attempts are hashes: n (attempts counted), next
 * (ms: a slowed-down counter admits nothing before) and refused (refusals in
 * the window, so the first one is audited). The keys one script touches
 * share a hash tag, so each script stays in one Redis Cluster slot; a login
 * runs one script for the address and one for the account.
 */
#include "store/ratelimit.h"
#include "util/addr.h"
#include "store/audit.h"
#include "cfg/log.h"
#include "store/redis.h"
#include "util/crypto.h"

#include <apr_strings.h>
#include <http_log.h>

/* INCR, start the window on the first attempt, answer {count, ms left}. */
static const char hit_script[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
    "local ttl = redis.call('PTTL', KEYS[1])\n"
    "if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end\n"
    "return {n, ttl}\n";

/* Admits one attempt: counts it in every counter KEYS[1..n] only when none of
 * them refuses it. KEYS[n+1], when present, is the mark of an address that
 * skips slow-downs. ARGV: n, the longest wait (ms), then per counter its
 * limit, window (ms) and kind (0: refuses for the rest of its window once
 * full; 1: slows down: beyond its limit each attempt must wait 1 s, 2 s, 4 s
 * ... after the previous one). Time is Redis's own, the same for every
 * Apache server. Answers {0, 0, 0} when admitted, else {i, ms to wait,
 * refusals of counter i in its window}. */
static const char admit_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local n, cap = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local exempt = #KEYS > n and redis.call('EXISTS', KEYS[n + 1]) == 1\n"
    "for i = 1, n do\n"
    "  local limit, win = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
    "  local v = redis.call('HMGET', KEYS[i], 'n', 'next')\n"
    "  local wait = 0\n"
    "  if (tonumber(v[1]) or 0) >= limit then\n"
    "    if ARGV[3 * i + 2] == '0' then\n"
    "      wait = redis.call('PTTL', KEYS[i])\n"
    "      if wait < 0 then redis.call('PEXPIRE', KEYS[i], win); wait = win end\n"
    "    elseif not exempt then\n"
    "      wait = (tonumber(v[2]) or 0) - now\n"
    "    end\n"
    "  end\n"
    "  if wait > 0 then\n"
    "    return {i, wait, redis.call('HINCRBY', KEYS[i], 'refused', 1)}\n"
    "  end\n"
    "end\n"
    "for i = 1, n do\n"
    "  local limit, win = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
    "  local c = redis.call('HINCRBY', KEYS[i], 'n', 1)\n"
    "  local ttl = redis.call('PTTL', KEYS[i])\n"
    "  if ttl < 0 then redis.call('PEXPIRE', KEYS[i], win); ttl = win end\n"
    "  if ARGV[3 * i + 2] == '1' and c >= limit then\n"
    "    local d = cap\n"
    "    if c - limit < 20 then d = math.min(cap, 1000 * 2 ^ (c - limit)) end\n"
    "    redis.call('HSET', KEYS[i], 'next', now + d)\n"
    "    if ttl < d then redis.call('PEXPIRE', KEYS[i], d) end\n"
    "  end\n"
    "end\n"
    "return {0, 0, 0}\n";

/* Takes one attempt back from every counter KEYS[1..n] that still holds one
 * (a window that ended has forgotten it), and sets the mark KEYS[n+1], when
 * present, for ARGV[2] ms. ARGV[1] = n. */
static const char refund_script[] =
    "local n = tonumber(ARGV[1])\n"
    "for i = 1, n do\n"
    "  if (tonumber(redis.call('HGET', KEYS[i], 'n')) or 0) > 0 then\n"
    "    redis.call('HINCRBY', KEYS[i], 'n', -1)\n"
    "  end\n"
    "end\n"
    "if #KEYS > n then redis.call('SET', KEYS[n + 1], '1', 'PX', ARGV[2]) end\n"
    "return 1\n";

/* The scripts run with EVALSHA (ta_redis_eval); each SHA-1 is computed once. */
static ta_redis_script_t hit_lua = TA_REDIS_SCRIPT(hit_script);
static ta_redis_script_t admit_lua = TA_REDIS_SCRIPT(admit_script);
static ta_redis_script_t refund_lua = TA_REDIS_SCRIPT(refund_script);

#define MAX_COUNTERS 3
#define MAX_GROUPS   2

typedef struct {
    ta_rate_scope_t scope;
    const char *key;
    int slow;                        /* slows down instead of refusing for the window */
} counter_t;

/* Counters that one script checks and counts together (one hash tag). */
typedef struct {
    int n;
    counter_t c[MAX_COUNTERS];
    const char *known;               /* the mark that skips slow-downs, or NULL */
} group_t;

struct ta_rate_attempt {
    int n;
    group_t g[MAX_GROUPS];
};

/* A subject as it appears in keys: never in clear. */
static const char *subject_hash(apr_pool_t *p, const char *subject)
{
    return apr_pstrndup(p, ta_sha256_hex(p, subject), 32);
}

static const char *num(apr_pool_t *p, apr_int64_t n)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

/* TOO_MANY_REQUESTS for scope, to be retried after wait_ms. The first
 * refusal of a window is audited; every one is logged at info. */
static ta_error_t *refusal(ta_ctx_t *ctx, ta_rate_scope_t scope, long long wait_ms,
                           int first)
{
    const char *name = ta_conf_rate_name(scope);
    ta_error_t *e = ta_error_make(ctx->r->pool, TA_E_TOO_MANY_REQUESTS,
                                  "Too many attempts, try again later");

    e->retry_after = (int)((wait_ms + 999) / 1000);
    if (e->retry_after < 1) e->retry_after = 1;
    if (first) {
        json_t *detail = json_pack("{s:s}", "scope", name);
        ta_audit(ctx, "rate_limited", NULL, NULL, detail);
        json_decref(detail);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, TA_LOGNO(401)
                  "rate limit %s reached (retry after %d s)", name, e->retry_after);
    return e;
}

static ta_error_t *unavailable(ta_ctx_t *ctx)
{
    return ta_error_make(ctx->r->pool, TA_E_SERVICE_UNAVAILABLE, "Rate limiter unavailable");
}

ta_error_t *ta_rate_hit(ta_ctx_t *ctx, ta_rate_scope_t scope, const char *subject)
{
    request_rec *r = ctx->r;
    ta_rate_limit_t limit = ta_conf_rate(ctx->sc, scope);
    const char *key;
    redisReply *reply;
    long long count, ttl_ms;

    if (subject == NULL || *subject == '\0') {
        return NULL;
    }
    key = apr_pstrcat(r->pool, ta_conf_key_prefix(ctx->sc), "rl:", ta_conf_rate_name(scope), ":",
                      subject_hash(r->pool, subject), NULL);
    reply = ta_redis_eval(r, &hit_lua, "1", key,
                          num(r->pool, apr_time_as_msec(limit.window)), NULL);
    if (reply == NULL) {
        return unavailable(ctx);
    }
    count = (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
            ? reply->element[0]->integer : 0;
    ttl_ms = (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
            ? reply->element[1]->integer : 0;
    freeReplyObject(reply);
    if (count <= limit.count) {
        return NULL;
    }
    return refusal(ctx, scope, ttl_ms, count == limit.count + 1);
}

/* ---- password attempts ---------------------------------------------------- */

static void add_counter(group_t *g, ta_rate_scope_t scope, const char *key, int slow)
{
    g->c[g->n].scope = scope;
    g->c[g->n].key = key;
    g->c[g->n].slow = slow;
    g->n++;
}

/* The longest wait a slow-down of group g asks for: TA_RATE_SLOWDOWN_MAX_MS,
 * or the counter's window when that is shorter. */
static apr_int64_t slowdown_cap(ta_ctx_t *ctx, const group_t *g)
{
    apr_int64_t cap = TA_RATE_SLOWDOWN_MAX_MS, window_ms;
    int i;

    for (i = 0; i < g->n; i++) {
        window_ms = apr_time_as_msec(ta_conf_rate(ctx->sc, g->c[i].scope).window);
        if (g->c[i].slow && window_ms < cap) {
            cap = window_ms;
        }
    }
    return cap;
}

/* Runs admit_script on one group: NULL when admitted. */
static ta_error_t *group_admit(ta_ctx_t *ctx, const group_t *g)
{
    apr_pool_t *p = ctx->r->pool;
    const char *args[4 + 4 * MAX_COUNTERS];
    long long which, wait_ms, refused;
    redisReply *reply;
    int argc = 0, i;

    args[argc++] = num(p, g->n + (g->known != NULL));
    for (i = 0; i < g->n; i++) {
        args[argc++] = g->c[i].key;
    }
    if (g->known != NULL) {
        args[argc++] = g->known;
    }
    args[argc++] = num(p, g->n);
    args[argc++] = num(p, slowdown_cap(ctx, g));
    for (i = 0; i < g->n; i++) {
        ta_rate_limit_t limit = ta_conf_rate(ctx->sc, g->c[i].scope);

        args[argc++] = num(p, limit.count);
        args[argc++] = num(p, apr_time_as_msec(limit.window));
        args[argc++] = g->c[i].slow ? "1" : "0";
    }
    if ((reply = ta_redis_evalv(ctx->r, &admit_lua, argc, args)) == NULL) {
        return unavailable(ctx);
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        freeReplyObject(reply);
        return unavailable(ctx);
    }
    which = reply->element[0]->integer;
    wait_ms = reply->element[1]->integer;
    refused = reply->element[2]->integer;
    freeReplyObject(reply);
    if (which == 0) {
        return NULL;
    }
    if (which < 1 || which > g->n) {
        return unavailable(ctx);
    }
    return refusal(ctx, g->c[which - 1].scope, wait_ms, refused == 1);
}

/* Runs refund_script on one group; with mark, the group's mark is set too. */
static void group_refund(ta_ctx_t *ctx, const group_t *g, int mark)
{
    apr_pool_t *p = ctx->r->pool;
    const char *args[4 + MAX_COUNTERS];
    redisReply *reply;
    int argc = 0, i;

    mark = mark && g->known != NULL;
    args[argc++] = num(p, g->n + mark);
    for (i = 0; i < g->n; i++) {
        args[argc++] = g->c[i].key;
    }
    if (mark) {
        args[argc++] = g->known;
    }
    args[argc++] = num(p, g->n);
    args[argc++] = num(p, (apr_int64_t)ta_conf_refresh_ttl(ctx->sc) * 1000);
    if ((reply = ta_redis_evalv(ctx->r, &refund_lua, argc, args)) != NULL) {
        freeReplyObject(reply);
    }
}

/* Admits attempt a group after group; a refusal takes back what the groups
 * before it counted, so a refused attempt counts nowhere. */
static ta_error_t *attempt_admit(ta_ctx_t *ctx, ta_rate_attempt_t *a, ta_rate_attempt_t **out)
{
    ta_error_t *e;
    int i, j;

    for (i = 0; i < a->n; i++) {
        if ((e = group_admit(ctx, &a->g[i])) != NULL) {
            for (j = 0; j < i; j++) {
                group_refund(ctx, &a->g[j], 0);
            }
            return e;
        }
    }
    *out = a;
    return NULL;
}

ta_error_t *ta_rate_login_admit(ta_ctx_t *ctx, const char *email,
                                ta_rate_attempt_t **attempt)
{
    apr_pool_t *p = ctx->r->pool;
    const char *addr = ta_addr_subject(p, ctx->r->useragent_ip);
    const char *account, *ah = NULL;
    ta_rate_attempt_t *a = apr_pcalloc(p, sizeof(*a));
    group_t *g;

    account = apr_pstrcat(p, ta_conf_key_prefix(ctx->sc), "rl:{a:", subject_hash(p, email), "}:",
                          NULL);
    /* The address's group first: a full address is refused without
     * touching the account's counters. */
    if (addr != NULL && *addr != '\0') {
        ah = subject_hash(p, addr);
        g = &a->g[a->n++];
        add_counter(g, TA_RL_LOGIN_IP,
                    apr_pstrcat(p, ta_conf_key_prefix(ctx->sc), "rl:{ip:", ah, "}:login", NULL), 0);
    }
    g = &a->g[a->n++];
    if (ah != NULL) {
        add_counter(g, TA_RL_LOGIN_ACCOUNT_IP, apr_pstrcat(p, account, "login-ip:", ah, NULL), 0);
        g->known = apr_pstrcat(p, account, "known:", ah, NULL);
    }
    add_counter(g, TA_RL_LOGIN_ACCOUNT, apr_pstrcat(p, account, "login", NULL), 1);
    return attempt_admit(ctx, a, attempt);
}

ta_error_t *ta_rate_password_admit(ta_ctx_t *ctx, ta_rate_attempt_t **attempt)
{
    apr_pool_t *p = ctx->r->pool;
    const char *user = apr_pstrcat(p, ta_conf_key_prefix(ctx->sc), "rl:{u:", ctx->user_id,
                                   "}:password", NULL);
    ta_rate_attempt_t *a = apr_pcalloc(p, sizeof(*a));
    group_t *g = &a->g[a->n++];

    if (ctx->session_id != NULL && *ctx->session_id != '\0') {
        add_counter(g, TA_RL_PASSWORD_SESSION,
                    apr_pstrcat(p, user, "-session:", subject_hash(p, ctx->session_id), NULL), 0);
    }
    add_counter(g, TA_RL_PASSWORD_USER, user, 0);
    return attempt_admit(ctx, a, attempt);
}

void ta_rate_refund(ta_ctx_t *ctx, ta_rate_attempt_t *attempt, int logged_in)
{
    int i;

    for (i = 0; attempt != NULL && i < attempt->n; i++) {
        group_refund(ctx, &attempt->g[i], logged_in);
    }
}
