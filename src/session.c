/*
 * session.c - the Redis session store. Each operation is one Lua script, so
 * it is atomic and costs one round trip.
 */
#include "ta_session.h"
#include "ta_redis.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define LAST_SEEN_INTERVAL_MS 60000

static const char create_script[] =
    "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'created', ARGV[2], 'seen', ARGV[2],"
    "           'ip', ARGV[3], 'ua', ARGV[4], 'rt', ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])\n"
    "redis.call('ZADD', KEYS[2], ARGV[8], ARGV[9])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[6])\n"
    "return 1\n";

static const char touch_script[] =
    "local seen = redis.call('HGET', KEYS[1], 'seen')\n"
    "if not seen then return 0 end\n"
    "if tonumber(ARGV[1]) - tonumber(seen) >= tonumber(ARGV[2]) then\n"
    "  redis.call('HSET', KEYS[1], 'seen', ARGV[1])\n"
    "end\n"
    "return 1\n";

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

static const char *session_key(apr_pool_t *p, const ta_server_conf_t *sc,
                               const char *uid, const char *sid)
{
    return apr_pstrcat(p, sc->key_prefix, "{u:", uid, "}:s:", sid, NULL);
}

static const char *index_key(apr_pool_t *p, const ta_server_conf_t *sc, const char *uid)
{
    return apr_pstrcat(p, sc->key_prefix, "{u:", uid, "}:sessions", NULL);
}

/* Request headers are bounded by httpd, but keep stored metadata small. */
static const char *clip(apr_pool_t *p, const char *s, apr_size_t max)
{
    if (s == NULL) return "";
    return strlen(s) > max ? apr_pstrndup(p, s, max) : s;
}

ta_sess_status_t ta_session_create(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *rt_hash,
                                   const char **sid)
{
    apr_pool_t *p = r->pool;
    apr_time_t now = apr_time_now();
    int ttl = ta_conf_refresh_ttl(sc);
    const char *id = ta_random_id(p, 20);
    redisReply *reply;

    if (id == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    reply = ta_redis_commandv(r, "EVAL", create_script, "2",
                              session_key(p, sc, uid, id), index_key(p, sc, uid),
                              uid,
                              apr_psprintf(p, "%" APR_INT64_T_FMT, apr_time_as_msec(now)),
                              clip(p, r->useragent_ip, 64),
                              clip(p, apr_table_get(r->headers_in, "User-Agent"), 256),
                              rt_hash,
                              apr_itoa(p, ttl),
                              apr_psprintf(p, "%" APR_INT64_T_FMT, apr_time_sec(now)),
                              apr_psprintf(p, "%" APR_INT64_T_FMT, apr_time_sec(now) + ttl),
                              id, NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    freeReplyObject(reply);
    *sid = id;
    return TA_SESS_OK;
}

ta_sess_status_t ta_session_touch(request_rec *r, const ta_server_conf_t *sc,
                                  const char *uid, const char *sid)
{
    apr_pool_t *p = r->pool;
    redisReply *reply;
    ta_sess_status_t st;

    reply = ta_redis_commandv(r, "EVAL", touch_script, "1",
                              session_key(p, sc, uid, sid),
                              apr_psprintf(p, "%" APR_INT64_T_FMT,
                                           apr_time_as_msec(apr_time_now())),
                              apr_itoa(p, LAST_SEEN_INTERVAL_MS), NULL);
    if (reply == NULL) {
        return TA_SESS_UNAVAILABLE;
    }
    st = (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) ? TA_SESS_OK
                                                                     : TA_SESS_MISSING;
    freeReplyObject(reply);
    return st;
}
