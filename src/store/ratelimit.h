/*
 * store/ratelimit.h - attempt counters in Redis, shared by every Apache server
 * that uses the same Redis. Each counter has a fixed window per (scope,
 * subject): the first attempt starts it, the counter expires with it.
 * Subjects (emails, client addresses, session ids) are hashed before they
 * become part of a key; client addresses are counted per ta_addr_subject()
 * (IPv6 per /64).
 *
 * Two kinds of limits:
 *  - ta_rate_hit() counts every call (register per address, refresh per
 *    session);
 *  - password attempts (auth.login, auth.changePassword) count failures only:
 *    ta_rate_*_admit() counts the attempt in every budget before any bcrypt
 *    work, atomically and only when no budget refuses it (a refused attempt
 *    counts nowhere), and ta_rate_refund() takes it back when the password
 *    was right. The caller passes the one-bcrypt-per-request gate first, so
 *    the calls of a batch that the gate refuses count nowhere either.
 */
#ifndef TA_RATELIMIT_H
#define TA_RATELIMIT_H

#include "req/context.h"

/* Longest wait that the per-account slow-down of logins asks for. */
#define TA_RATE_SLOWDOWN_MAX_MS 60000

/* Counts one attempt for subject in scope (a client address, a session id).
 * Returns TOO_MANY_REQUESTS with retry_after when over the limit,
 * SERVICE_UNAVAILABLE when Redis cannot be reached, else NULL. */
ta_error_t *ta_rate_hit(ta_ctx_t *ctx, ta_rate_scope_t scope, const char *subject);

/* A password attempt counted in advance, until its outcome is known. */
typedef struct ta_rate_attempt ta_rate_attempt_t;

/* Admits one login attempt for email (normalized) from the client's address:
 *  - login-ip: failures per client address, refused for the rest of the
 *    window once exhausted;
 *  - login-account-ip: failures per (account, client address), the same;
 *  - login-account: failures per account; beyond its count every further
 *    attempt waits 1 s, 2 s, 4 s ... (at most TA_RATE_SLOWDOWN_MAX_MS) after
 *    the previous one, so attackers from many addresses slow the account's
 *    logins down but never lock it for the window. Addresses from which the
 *    account logged in before (within TrpcAuthRefreshTokenTTL) do not wait.
 * Returns NULL with *attempt set when admitted; TOO_MANY_REQUESTS with
 * retry_after when refused; SERVICE_UNAVAILABLE when Redis cannot be reached. */
ta_error_t *ta_rate_login_admit(ta_ctx_t *ctx, const char *email,
                                ta_rate_attempt_t **attempt);

/* Admits one check of the current password of the authenticated user
 * (ctx->user_id, ctx->session_id): password-session and password-user. As
 * ta_rate_login_admit(). */
ta_error_t *ta_rate_password_admit(ta_ctx_t *ctx, ta_rate_attempt_t **attempt);

/* Takes back an admitted attempt that did not fail (the password was right,
 * or the attempt never got to compare it). With logged_in, the client's
 * address is remembered for the account: it skips the account's slow-down.
 * Best effort: when Redis fails, the attempt stays counted. NULL is a no-op. */
void ta_rate_refund(ta_ctx_t *ctx, ta_rate_attempt_t *attempt, int logged_in);

#endif
