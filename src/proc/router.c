/*
 * router.c - the procedure table: path, kind, input, auth, function.
 */
#include "proc/procs.h"

#include <string.h>

static const ta_proc_t procedures[] = {
    { "auth.register",      TA_MUTATION, 1, TA_AUTH_PUBLIC,  ta_proc_auth_register },
    { "auth.login",         TA_MUTATION, 1, TA_AUTH_PUBLIC,  ta_proc_auth_login },
    { "auth.refreshAccessToken", TA_MUTATION, 0, TA_AUTH_PUBLIC, ta_proc_auth_refresh },
    { "auth.logout",        TA_MUTATION, 0, TA_AUTH_PUBLIC,  ta_proc_auth_logout },
    { "auth.logoutAll",     TA_MUTATION, 0, TA_AUTH_SESSION, ta_proc_auth_logout_all },
    { "auth.me",            TA_QUERY,    0, TA_AUTH_SESSION, ta_proc_auth_me },
    { "auth.sessions",      TA_QUERY,    0, TA_AUTH_SESSION, ta_proc_auth_sessions },
    { "auth.revokeSession", TA_MUTATION, 1, TA_AUTH_SESSION, ta_proc_auth_revoke_session },
    { "auth.changePassword", TA_MUTATION, 1, TA_AUTH_SESSION, ta_proc_auth_change_password },
    { "auth.requestEmailVerification", TA_MUTATION, 0, TA_AUTH_SESSION,
      ta_proc_auth_request_email_verification },
    { "auth.verifyEmail",   TA_MUTATION, 1, TA_AUTH_PUBLIC,  ta_proc_auth_verify_email },
    { "auth.requestPasswordReset", TA_MUTATION, 1, TA_AUTH_PUBLIC,
      ta_proc_auth_request_password_reset },
    { "auth.resetPassword", TA_MUTATION, 1, TA_AUTH_PUBLIC,  ta_proc_auth_reset_password },
    { "transaction.create", TA_MUTATION, 1, TA_AUTH_SESSION, ta_proc_txn_create },
    { "transaction.getAll", TA_QUERY,    0, TA_AUTH_SESSION, ta_proc_txn_get_all },
};

const ta_proc_t *ta_proc_lookup(const char *path)
{
    size_t i;

    for (i = 0; i < sizeof(procedures) / sizeof(procedures[0]); i++) {
        if (strcmp(procedures[i].path, path) == 0) {
            return &procedures[i];
        }
    }
    return NULL;
}

int ta_proc_count(void)
{
    return (int)(sizeof(procedures) / sizeof(procedures[0]));
}

const ta_proc_t *ta_proc_at(int i)
{
    return i >= 0 && i < ta_proc_count() ? &procedures[i] : NULL;
}

int ta_proc_index(const ta_proc_t *p)
{
    return p ? (int)(p - procedures) : -1;
}
