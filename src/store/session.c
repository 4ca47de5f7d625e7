/*
 * session.c - the Redis session store (layout in store/session.h). Each
 * operation is one Lua script, so it is atomic and costs one round trip.
 */
#include "store/session.h"
#include "store/redis.h"
#include "cache/sesscache.h"
#include "store/metrics.h"
#include "trpc/superjson.h"

#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdlib.h>

#define LAST_SEEN_INTERVAL_MS 60000

/* KEYS: session, index. ARGV: uid, now ms, ip, ua, rt hash, ttl s, now s,
 * expiry s, sid, iat. Also prunes expired ids from the index. */
static const char create_script[] =
    "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'created', ARGV[2], 'seen', ARGV[2],"
    "           'ip', ARGV[3], 'ua', ARGV[4], 'rt', ARGV[5], 'gen', '0', 'iat', ARGV[10],"
    "           'prev', '', 'prev_until', '0')\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[7])\n"
    "redis.call('ZADD', KEYS[2], ARGV[8], ARGV[9])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[6])\n"
    "return 1\n";

/* KEYS: session. ARGV: now ms, interval ms. 1 = exists, 0 = missing. */
/* Writes last-seen only while the session exists: a plain HSET on a session
 * revoked in between would create a hash without TTL that looks alive. */
static const char touch_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'seen', ARGV[1])\n"
    "return 1\n";

/* KEYS: session, index. ARGV: 1 presented hash, 2 next hash, 3 next gen,
 * 4 now ms, 5 grace ms, 6 ttl s, 7 rotate (1/0), 8 sid, 9 now s.
 * Returns {0} rotated/kept, {1, gen, iat, rt} grace, {2} missing, {3} reuse
 * (the session is deleted). Hashes are compared in Lua: they are digests of
 * HMAC values, so timing reveals nothing useful. */
static const char rotate_script[] =
    "local s = redis.call('HMGET', KEYS[1], 'rt', 'prev', 'prev_until', 'gen', 'iat')\n"
    "if not s[1] then\n"
    "  redis.call('ZREM', KEYS[2], ARGV[8])\n"
    "  return {2}\n"
    "end\n"
    "if s[1] == ARGV[1] then\n"
    "  if ARGV[7] == '1' then\n"
    "    redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'gen', ARGV[3], 'iat', ARGV[9],"
    "               'prev', ARGV[1], 'prev_until', tonumber(ARGV[4]) + tonumber(ARGV[5]),"
    "               'seen', ARGV[4])\n"
    "    redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[9])\n"
    "    redis.call('ZADD', KEYS[2], tonumber(ARGV[9]) + tonumber(ARGV[6]), ARGV[8])\n"
    "    redis.call('EXPIRE', KEYS[2], ARGV[6])\n"
    "  else\n"
    "    redis.call('HSET', KEYS[1], 'seen', ARGV[4])\n"
    "  end\n"
    "  return {0}\n"
    "end\n"
    "if s[2] and s[2] ~= '' and s[2] == ARGV[1]"
    "   and tonumber(ARGV[4]) <= tonumber(s[3] or '0') then\n"
    "  return {1, s[4] or '0', s[5] or '0', s[1]}\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[8])\n"
    "return {3}\n";

/* KEYS: session, index. ARGV: sid. Returns 1 when the session existed. */
static const char revoke_script[] =
    "local n = redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "return n\n";

/* KEYS: index. ARGV: session key prefix, sid to keep ('' for none).
 * Returns how many sessions were deleted. */
static const char revoke_all_script[] =
    "local ids = redis.call('ZRANGE', KEYS[1], 0, -1)\n"
    "local n = 0\n"
    "for _, id in ipairs(ids) do\n"
    "  if id ~= ARGV[2] then\n"
    "    n = n + redis.call('DEL', ARGV[1] .. id)\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "return n\n";

/* KEYS: index. ARGV: session key prefix, now s. Returns {{id, created, seen,
 * ip, ua}, ...} newest first; ids whose session is gone are pruned. */
static const char list_script[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])\n"
    "local ids = redis.call('ZRANGE', KEYS[1], 0, -1)\n"
    "local out = {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local h = redis.call('HMGET', ARGV[1] .. id, 'created', 'seen', 'ip', 'ua')\n"
    "  if h[1] then\n"
    "    out[#out + 1] = {id, h[1], h[2] or h[1], h[3] or '', h[4] or ''}\n"
    "  else\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "table.sort(out, function(a, b) return tonumber(a[2]) > tonumber(b[2]) end)\n"
    "return out\n";

/* The scripts run with EVALSHA (ta_redis_eval); each SHA-1 is computed once. */
static ta_redis_script_t create_lua = TA_REDIS_SCRIPT(create_script);
static ta_redis_script_t touch_lua = TA_REDIS_SCRIPT(touch_script);
static ta_redis_script_t rotate_lua = TA_REDIS_SCRIPT(rotate_script);
static ta_redis_script_t revoke_lua = TA_REDIS_SCRIPT(revoke_script);
static ta_redis_script_t revoke_all_lua = TA_REDIS_SCRIPT(revoke_all_script);
static ta_redis_script_t list_lua = TA_REDIS_SCRIPT(list_script);

const char *ta_random_id(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char buf[64];
    char *hex;
    apr_size_t i;

    if (nbytes > sizeof(buf) || RAND_bytes(buf, (int)nbytes) != 1) {
        return NULL;
    }
    hex = apr_palloc(p, nbytes * 2 + 1);
    for (i = 0; i < nbytes; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", buf[i]);
    }
    return hex;
}

const char *ta_sha256_hex(apr_pool_t *p, const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    char *hex;

    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1) {
        return NULL;
    }
    hex = apr_palloc(p, len * 2 + 1);
    for (i = 0; i < len; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return hex;
}

/* "<prefix>{u:<uid>}:s:" - a session key without its id. */
static const char *session_prefix(apr_pool_t *p, const ta_server_conf_t *sc, const char *uid)
{
    return apr_pstrcat(p, sc->key_prefix, "{u:", uid, "}:s:", NULL);
}

static const char *session_key(apr_pool_t *p, const ta_server_conf_t *sc,
                               const char *uid, const char *sid)
{
    return apr_pstrcat(p, session_prefix(p, sc, uid), sid, NULL);
}

static const char *index_key(apr_pool_t *p, const ta_server_conf_t *sc, const char *uid)
{
    return apr_pstrcat(p, sc->key_prefix, "{u:", uid, "}:sessions", NULL);
}

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

/* Request headers are bounded by httpd, but keep stored metadata small. */
static const char *clip(apr_pool_t *p, const char *s, apr_size_t max)
{
    if (s == NULL) return "";
    return strlen(s) > max ? apr_pstrndup(p, s, max) : s;
}

ta_sess_status_t ta_session_create(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *sid,
                                   const char *rt_hash, apr_int64_t iat)
{
    apr_pool_t *p = r->pool;
    apr_time_t now = apr_time_now();
    int ttl = ta_conf_refresh_ttl(sc);
    redisReply *reply;

    if (sid == NULL || rt_hash == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    reply = ta_redis_eval(r, &create_lua, "2",
                              session_key(p, sc, uid, sid), index_key(p, sc, uid),
                              uid, i64(p, apr_time_as_msec(now)),
                              clip(p, r->useragent_ip, 64),
                              clip(p, apr_table_get(r->headers_in, "User-Agent"), 256),
                              rt_hash, apr_itoa(p, ttl), i64(p, apr_time_sec(now)),
                              i64(p, apr_time_sec(now) + ttl), sid, i64(p, iat), NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    freeReplyObject(reply);
    ta_metrics_add(TA_M_SESSIONS_CREATED, 1);
    return TA_SESS_OK;
}

ta_sess_status_t ta_session_touch(request_rec *r, const ta_server_conf_t *sc,
                                  const char *uid, const char *sid)
{
    apr_pool_t *p = r->pool;
    const char *key = session_key(p, sc, uid, sid);
    apr_int64_t now = apr_time_as_msec(apr_time_now());
    apr_uint64_t stamp;
    redisReply *reply;
    ta_sess_status_t st;
    apr_int64_t seen;

    /* TrpcAuthSessionCache: a session Redis confirmed lately, and about
     * which Redis has sent no invalidation since, needs no round trip. */
    if (ta_metrics_cache(TA_M_SESSION_CACHE_HITS, sc->session_cache,
                         ta_sesscache_get(sc->session_cache, key, now, LAST_SEEN_INTERVAL_MS))) {
        return TA_SESS_OK;
    }
    stamp = ta_sesscache_stamp(sc->session_cache, key);

    /* The check on every request is a plain HGET (the cheapest round trip);
     * last-seen is written, atomically with an existence check, at most once
     * a minute per session. */
    reply = ta_redis_commandv(r, "HGET", key, "seen", NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    if (reply->type != REDIS_REPLY_STRING) {
        freeReplyObject(reply);
        return TA_SESS_MISSING;
    }
    seen = apr_atoi64(reply->str);
    freeReplyObject(reply);
    if (now - seen < LAST_SEEN_INTERVAL_MS) {
        ta_sesscache_put(sc->session_cache, key, seen, now, stamp);
        return TA_SESS_OK;
    }
    reply = ta_redis_eval(r, &touch_lua, "1", key, i64(p, now), NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    st = (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) ? TA_SESS_OK
                                                                     : TA_SESS_MISSING;
    freeReplyObject(reply);
    return st;
}

/* Integer value of a reply element that may be an integer or a bulk string. */
static apr_int64_t reply_i64(const redisReply *e)
{
    if (e->type == REDIS_REPLY_INTEGER) return (apr_int64_t)e->integer;
    if (e->type == REDIS_REPLY_STRING)  return apr_atoi64(e->str);
    return 0;
}

/* Reads the {1, gen, iat, rt} answer of the grace branch into res. */
static ta_rot_status_t read_grace(apr_pool_t *p, const redisReply *reply, ta_rot_res_t *res)
{
    if (reply->elements < 4 || reply->element[3]->type != REDIS_REPLY_STRING) {
        return TA_ROT_UNAVAILABLE;
    }
    res->gen = reply_i64(reply->element[1]);
    res->iat = reply_i64(reply->element[2]);
    res->rt_hash = apr_pstrmemdup(p, reply->element[3]->str, reply->element[3]->len);
    return TA_ROT_GRACE;
}

ta_rot_status_t ta_session_rotate(request_rec *r, const ta_server_conf_t *sc,
                                  const ta_rot_req_t *q, ta_rot_res_t *res)
{
    static const ta_rot_status_t by_code[] = {
        TA_ROT_ROTATED, TA_ROT_GRACE, TA_ROT_MISSING, TA_ROT_REUSE
    };
    apr_pool_t *p = r->pool;
    apr_int64_t now_ms = apr_time_as_msec(apr_time_now());
    redisReply *reply;
    ta_rot_status_t st = TA_ROT_UNAVAILABLE;
    apr_int64_t code;

    memset(res, 0, sizeof(*res));
    reply = ta_redis_eval(r, &rotate_lua, "2",
                              session_key(p, sc, q->uid, q->sid), index_key(p, sc, q->uid),
                              q->presented_hash, q->next_hash, i64(p, q->next_gen),
                              i64(p, now_ms), i64(p, ta_conf_refresh_grace_ms(sc)),
                              apr_itoa(p, ta_conf_refresh_ttl(sc)), q->rotate ? "1" : "0",
                              q->sid, i64(p, q->now), NULL);
    if (reply == NULL) {
        return TA_ROT_UNAVAILABLE;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1
        && (code = reply_i64(reply->element[0])) >= 0 && code <= 3) {
        st = by_code[code];
        if (st == TA_ROT_GRACE) {
            st = read_grace(p, reply, res);
        }
    }
    freeReplyObject(reply);
    if (st == TA_ROT_REUSE) {
        ta_sesscache_flush(sc->session_cache);     /* the script revoked the session */
        ta_metrics_add(TA_M_REFRESH_REUSE, 1);
        ta_metrics_add(TA_M_SESSIONS_REVOKED, 1);
    }
    return st;
}

ta_sess_status_t ta_session_revoke(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *sid)
{
    apr_pool_t *p = r->pool;
    redisReply *reply;
    ta_sess_status_t st;

    reply = ta_redis_eval(r, &revoke_lua, "2", session_key(p, sc, uid, sid),
                              index_key(p, sc, uid), sid, NULL);
    /* This child forgets at once (the others when Redis's invalidation
     * arrives); also when the answer was lost, as the script may have run. */
    ta_sesscache_flush(sc->session_cache);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    st = (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) ? TA_SESS_OK
                                                                     : TA_SESS_MISSING;
    freeReplyObject(reply);
    ta_metrics_add(TA_M_SESSIONS_REVOKED, st == TA_SESS_OK);
    return st;
}

ta_sess_status_t ta_session_revoke_all(request_rec *r, const ta_server_conf_t *sc,
                                       const char *uid, const char *keep_sid, long *count)
{
    apr_pool_t *p = r->pool;
    redisReply *reply;

    reply = ta_redis_eval(r, &revoke_all_lua, "1", index_key(p, sc, uid),
                              session_prefix(p, sc, uid), keep_sid ? keep_sid : "", NULL);
    ta_sesscache_flush(sc->session_cache);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    if (count) {
        *count = reply->type == REDIS_REPLY_INTEGER ? (long)reply->integer : 0;
    }
    ta_metrics_add(TA_M_SESSIONS_REVOKED, reply->type == REDIS_REPLY_INTEGER && reply->integer > 0
                                          ? (apr_uint64_t)reply->integer : 0);
    freeReplyObject(reply);
    return TA_SESS_OK;
}

/* A unix-ms string as a Date marker (ISO-8601, UTC, milliseconds). */
static json_t *date_of_ms(apr_pool_t *p, const char *ms)
{
    apr_int64_t v = apr_atoi64(ms);
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, apr_time_from_msec(v));
    return ta_sj_date(apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                   t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                                   t.tm_min, t.tm_sec, (int)(v % 1000)));
}

/* One {id, created, seen, ip, ua} entry of the list script as the output object. */
static json_t *session_entry(apr_pool_t *p, const redisReply *e, const char *current_sid)
{
    const char *f[5];
    size_t i;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 5) {
        return NULL;
    }
    for (i = 0; i < 5; i++) {
        if (e->element[i]->type != REDIS_REPLY_STRING) return NULL;
        f[i] = apr_pstrmemdup(p, e->element[i]->str, e->element[i]->len);
    }
    return json_pack("{s:s, s:b, s:o, s:o, s:s, s:s}",
                     "id", f[0], "current", current_sid && strcmp(f[0], current_sid) == 0,
                     "createdAt", date_of_ms(p, f[1]), "lastSeenAt", date_of_ms(p, f[2]),
                     "ip", f[3], "userAgent", f[4]);
}

ta_sess_status_t ta_session_list(request_rec *r, const ta_server_conf_t *sc,
                                 const char *uid, const char *current_sid, json_t **list)
{
    apr_pool_t *p = r->pool;
    redisReply *reply;
    json_t *out;
    size_t i;

    reply = ta_redis_eval(r, &list_lua, "1", index_key(p, sc, uid),
                              session_prefix(p, sc, uid), i64(p, apr_time_sec(apr_time_now())),
                              NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    out = ta_json_pool(p, json_array());
    for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        json_t *entry = session_entry(p, reply->element[i], current_sid);
        if (entry) json_array_append_new(out, entry);
    }
    freeReplyObject(reply);
    *list = out;
    return TA_SESS_OK;
}
