/*
 * proc/procs.h - the procedures, as data. Adding a procedure is one entry in
 * the router (src/proc/router.c) plus one function, as in the tutorial's routers.
 */
#ifndef TA_PROCS_H
#define TA_PROCS_H

#include "req/context.h"

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

/* transaction.* (src/proc/transaction.c) */
ta_error_t *ta_proc_txn_create(ta_ctx_t *ctx, json_t *input, json_t **output);
ta_error_t *ta_proc_txn_get_all(ta_ctx_t *ctx, json_t *input, json_t **output);

#endif
