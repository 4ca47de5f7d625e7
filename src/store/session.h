/*
 * store/session.h - sessions in Redis.
 *
 * Layout (all keys of one user share the hash tag {u:<id>}, so multi-key
 * scripts stay in one Redis Cluster slot; every key has a TTL):
 *   <prefix>{u:<uid>}:s:<sid>    HASH  the session, TTL = refresh lifetime (renewed by rotation)
 *       uid         user id
 *       created     creation time, unix ms
 *       seen        last seen, unix ms (written at most once a minute, and on refresh)
 *       ip, ua      client IP and User-Agent at login (clipped to 64 / 256 bytes)
 *       rt          SHA-256 hex of the current refresh token's jti
 *       gen         generation of the current refresh token (0 at login, +1 per rotation)
 *       iat         issue time (unix s) of the current token pair: lets a grace-window
 *                   replay re-derive and re-sign exactly the pair already issued
 *       prev        SHA-256 hex of the jti just replaced ("" before the first rotation)
 *       prev_until  end of prev's grace window, unix ms
 *   <prefix>{u:<uid>}:sessions   ZSET  sid -> expiry (unix s); pruned of expired ids
 *                                      on every write (login, refresh, listing)
 * No token and no secret is stored, only hashes of refresh-token ids (whose
 * values are HMACs, see jose/jti.h). The scripts that walk the index build the
 * session key names from the same prefix, so every key they touch carries the
 * same hash tag.
 */
#ifndef TA_SESSION_H
#define TA_SESSION_H

#include <httpd.h>
#include <jansson.h>
#include "cfg/config.h"

typedef enum {
    TA_SESS_OK = 0,
    TA_SESS_MISSING,       /* no such session: revoked or expired */
    TA_SESS_UNAVAILABLE    /* Redis could not be reached */
} ta_sess_status_t;

/* Creates session sid for uid (generation 0). rt_hash is the hash of the
 * refresh token's jti, iat the issue time of the pair (unix s). */
ta_sess_status_t ta_session_create(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *sid,
                                   const char *rt_hash, apr_int64_t iat);

/* Checks that the session exists and updates its last-seen time at most once
 * a minute: one round trip. */
ta_sess_status_t ta_session_touch(request_rec *r, const ta_server_conf_t *sc,
                                  const char *uid, const char *sid);

/* What the check-and-rotate script decided. */
typedef enum {
    TA_ROT_ROTATED = 0,    /* the presented token was current: now gen+1 (or kept, rotation Off) */
    TA_ROT_GRACE,          /* the presented token was just replaced: answer with the current pair */
    TA_ROT_MISSING,        /* no such session */
    TA_ROT_REUSE,          /* an older token: the session has been revoked */
    TA_ROT_UNAVAILABLE     /* Redis could not be reached */
} ta_rot_status_t;

typedef struct {
    const char *uid, *sid;
    const char *presented_hash;  /* SHA-256 hex of the presented jti */
    const char *next_hash;       /* SHA-256 hex of the jti of generation next_gen */
    apr_int64_t next_gen;
    apr_int64_t now;             /* unix s */
    int rotate;                  /* TrpcAuthRefreshRotation */
} ta_rot_req_t;

typedef struct {
    apr_int64_t gen;             /* TA_ROT_GRACE: the current generation */
    apr_int64_t iat;             /* TA_ROT_GRACE: the current pair's issue time */
    const char *rt_hash;         /* TA_ROT_GRACE: hash of the current jti */
} ta_rot_res_t;

/* The atomic check-and-rotate of a refresh (one Lua script on one slot):
 *   presented == current      -> rotate to next (rotation On) and remember the
 *                                old hash for the grace window; or just touch (Off)
 *   presented == previous and
 *   inside the grace window   -> TA_ROT_GRACE with the current generation and iat
 *   anything else             -> delete the session (reuse detection) */
ta_rot_status_t ta_session_rotate(request_rec *r, const ta_server_conf_t *sc,
                                  const ta_rot_req_t *q, ta_rot_res_t *res);

/* Deletes one session of uid. TA_SESS_MISSING when it did not exist. */
ta_sess_status_t ta_session_revoke(request_rec *r, const ta_server_conf_t *sc,
                                   const char *uid, const char *sid);

/* Deletes every session of uid except keep_sid (NULL: all), in one script
 * over the per-user index. *count (may be NULL) gets the number deleted. */
ta_sess_status_t ta_session_revoke_all(request_rec *r, const ta_server_conf_t *sc,
                                       const char *uid, const char *keep_sid, long *count);

/* The live sessions of uid, newest first, as a JSON array (in r->pool) of
 * {id, current, createdAt, lastSeenAt, ip, userAgent} with Date markers;
 * current_sid marks the caller's one. Prunes expired ids. One round trip. */
ta_sess_status_t ta_session_list(request_rec *r, const ta_server_conf_t *sc,
                                 const char *uid, const char *current_sid, json_t **list);

#endif
