/*
 * store/audit.h - the audit log: one auth_events row per auth event (register,
 * login, login_failed, refresh, refresh_reuse, logout, logout_all,
 * revoke_session, change_password, rate_limited; and of issue 14:
 * email_verification_requested, password_reset_requested (written by
 * store/email.c in the statement that queues the mail), email_verified,
 * password_reset, login_unverified), with time, user, session,
 * client IP and user agent. Never a password or a token.
 */
#ifndef TA_AUDIT_H
#define TA_AUDIT_H

#include "req/context.h"

/* Writes the event unless TrpcAuthAuditLog is Off. user_id and session_id
 * may be NULL; detail is a JSON object (borrowed) or NULL. A failing write
 * is logged and never fails the user's request. */
void ta_audit(ta_ctx_t *ctx, const char *event, const char *user_id,
              const char *session_id, json_t *detail);

#endif
