/*
 * ta_session.h - sessions in Redis.
 *
 * Layout (all keys of one user share the hash tag {u:<id>}, so multi-key
 * scripts stay in one Redis Cluster slot; every key has a TTL):
 *   <prefix>{u:<uid>}:s:<sid>    HASH  uid, created, seen (ms), ip, ua,
 *                                      rt (SHA-256 of the current refresh jti)
 *                                TTL = refresh lifetime
 *   <prefix>{u:<uid>}:sessions   ZSET  sid -> expiry (unix seconds), pruned of
 *                                      expired ids on every login
 * No token is stored, only hashes of refresh-token ids.
 */
#ifndef TA_SESSION_H
#define TA_SESSION_H

#include <httpd.h>
#include "ta_config.h"

typedef enum {
    TA_SESS_OK = 0,
    TA_SESS_MISSING,       /* no such session: revoked or expired */
    TA_SESS_UNAVAILABLE    /* Redis could not be reached */
} ta_sess_status_t;

/* A new random identifier: nbytes of CSPRNG output, hex-encoded. */
const char *ta_random_id(apr_pool_t *p, apr_size_t nbytes);

/* Hex SHA-256 of a string (used for refresh-token ids in Redis). */
const char *ta_sha256_hex(apr_pool_t *p, const char *s);

/* Creates a session for uid and returns its id in *sid. rt_hash is the hash
 * of the refresh token's jti. */
ta_sess_status_t ta_session_create(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *rt_hash,
                                   const char **sid);

/* Checks that the session exists and updates its last-seen time at most once
 * a minute: one round trip. */
ta_sess_status_t ta_session_touch(request_rec *r, const ta_server_conf_t *sc,
                                  const char *uid, const char *sid);

#endif
