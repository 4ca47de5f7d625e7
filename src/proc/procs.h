/*
 * proc/procs.h - the procedures, as data. Adding a procedure is one entry in
 * the router (src/proc/router.c) plus one function, as in the tutorial's routers.
 */
#ifndef TA_PROCS_H
#define TA_PROCS_H

#include "hooks/context.h"
#include "trpc/validate.h"

typedef enum { TA_QUERY = 0, TA_MUTATION } ta_proc_kind_t;

typedef enum {
    TA_AUTH_PUBLIC = 0,     /* anyone */
    TA_AUTH_SESSION         /* a valid access cookie and live session */
} ta_proc_auth_t;

/* A procedure: reads input (NULL = absent), sets *output (a new reference the
 * handler owns; NULL = undefined) or returns an error. */
typedef ta_error_t *(*ta_proc_fn)(ta_ctx_t *ctx, json_t *input, json_t **output);

typedef struct {
    const char *path;
    ta_proc_kind_t kind;
    int takes_input;        /* input errors are only reported to procedures with input */
    ta_proc_auth_t auth;
    ta_proc_fn fn;
} ta_proc_t;

/* The procedure at path, or NULL. */
const ta_proc_t *ta_proc_lookup(const char *path);

/* The procedures by position in the table (the rows of the metrics):
 * how many, the i-th (NULL out of range), and the position of p. */
int ta_proc_count(void);
const ta_proc_t *ta_proc_at(int i);
int ta_proc_index(const ta_proc_t *p);

/* auth.* (src/proc/auth.c) */
ta_error_t *ta_proc_auth_register(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_login(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_me(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_change_password(ta_ctx_t *ctx, json_t *input, json_t **output);

/* auth.* sessions (src/proc/session.c): refresh by the refresh cookie alone,
 * logout with either cookie, and the session list and revocations. */
ta_error_t *ta_proc_auth_refresh(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_logout(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_logout_all(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_sessions(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_revoke_session(ta_ctx_t *ctx, json_t *input, json_t **output);

/* Checks shared by the auth procedures (src/proc/auth.c): an email trimmed
 * and lower-cased, its form, and the rules of a new password (a field error
 * on v, the messages of auth.register). */
char *ta_proc_normalize_email(apr_pool_t *p, const char *in);
int ta_proc_email_is_valid(const char *email);
void ta_proc_check_new_password(ta_validator_t *v, const char *field, const char *password);

/* E-mail verification and password reset (src/proc/email.c). */
ta_error_t *ta_proc_auth_request_email_verification(ta_ctx_t *ctx, json_t *input,
                                                    json_t **output);
ta_error_t *ta_proc_auth_verify_email(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_request_password_reset(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_auth_reset_password(ta_ctx_t *ctx, json_t *input, json_t **output);

/* Queues the verification mail of a user who just registered (auth.register,
 * TrpcAuthVerifyOnRegister), or who logged in unverified under
 * TrpcAuthRequireVerifiedEmail. Best effort: a failure is logged, and the
 * user can ask again with auth.requestEmailVerification. */
void ta_proc_email_send_verification(ta_ctx_t *ctx, const char *user_id, const char *email);

/* transaction.* (src/proc/transaction.c) */
ta_error_t *ta_proc_txn_create(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_txn_get_all(ta_ctx_t *ctx, json_t *input, json_t **output);

#endif
