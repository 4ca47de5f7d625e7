/*
 * ta_ratelimit.h - attempt counters in Redis, shared by every Apache server
 * that uses the same Redis. A fixed window per (scope, subject): the first
 * attempt starts the window, the counter expires with it. Counted per call,
 * so a batch of 30 logins counts 30; checked before any bcrypt work.
 */
#ifndef TA_RATELIMIT_H
#define TA_RATELIMIT_H

#include "ta_context.h"

/* Counts one attempt for subject in scope (a client IP, an email, a session
 * id). Returns TOO_MANY_REQUESTS with retry_after when over the limit,
 * SERVICE_UNAVAILABLE when Redis cannot be reached, else NULL. Subjects are
 * hashed before they become part of a key. */
ta_error_t *ta_rate_hit(ta_ctx_t *ctx, ta_rate_scope_t scope, const char *subject);

#endif
