/*
 * store/email.h - the tokens of e-mail verification and password reset, and
 * the mail outbox, in PostgreSQL (sql/003_email.sql).
 *
 * A token is only ever stored as its hex SHA-256 (email_tokens.token_hash);
 * the link that carries it waits in mail_outbox sealed (jose/seal.h) until
 * the delivery process sends it. Each function is ONE statement, so one
 * transaction: issuing a link writes the token, the outbox row and the audit
 * event together and wakes the sender (pg_notify, delivered at commit);
 * using a token marks it used and changes the user in the same step, so a
 * token works once even when two requests bring it at the same moment.
 */
#ifndef TA_STORE_EMAIL_H
#define TA_STORE_EMAIL_H

#include <httpd.h>
#include "cfg/config.h"
#include "trpc/error.h"

/* Registers the statements with mod_dbd (post_config, with ta_db_prepare_statements). */
void ta_email_prepare_statements(server_rec *s);

/* What ta_email_issue writes. */
typedef struct {
    ta_mail_kind_t kind;
    const char *email;           /* the address (normalized); the user is looked up by it */
    const char *user_id;         /* verify-email: the user it must be (NULL: whoever has email) */
    const char *token_hash;      /* hex SHA-256 of the token */
    const char *sealed_link;     /* the link, sealed with email as additional data */
    int ttl;                     /* seconds */
    const char *audit_event;     /* auth_events row written in the same transaction, or NULL */
    const char *audit_ip, *audit_agent, *audit_detail;   /* detail: JSON object text */
} ta_email_issue_t;

/* Issues a link, in one transaction and with the same statement whether or
 * not the address belongs to a user (so both take the same time): when a
 * user has q->email (and, for verify-email, is not verified yet), inserts the
 * token and the outbox row and, for reset-password, marks the user's earlier
 * reset tokens used; the audit row is written either way. *queued is 1 when
 * a mail was queued. */
ta_error_t *ta_email_issue(request_rec *r, const ta_email_issue_t *q, int *queued);

/* The user of token_hash when it is an unused, unexpired token of kind, else
 * *user_id NULL. */
ta_error_t *ta_email_token_user(request_rec *r, ta_mail_kind_t kind, const char *token_hash,
                                const char **user_id);

/* Uses a verify-email token: marks it used and the user's address verified.
 * *user_id is the user's id, or NULL when the token is unknown, used,
 * expired or of another kind. */
ta_error_t *ta_email_verify(request_rec *r, const char *token_hash, const char **user_id);

/* Uses a reset-password token: marks it used and sets the user's password
 * hash (and the address verified: the mail reached its owner). *user_id as
 * ta_email_verify. */
ta_error_t *ta_email_reset(request_rec *r, const char *token_hash, const char *password_hash,
                           const char **user_id);

#endif
