/*
 * util/password.h - password hashing with bcrypt (apr-util).
 *
 * New hashes are written as "$2b$" (apr writes "$2y$", the same algorithm) so
 * bcryptjs can verify them too; "$2a$", "$2b$" and "$2y$" hashes all verify.
 */
#ifndef TA_PASSWORD_H
#define TA_PASSWORD_H

#include <apr_pools.h>

#define TA_PASSWORD_MIN 8
#define TA_PASSWORD_MAX 72     /* bcrypt uses at most 72 bytes */

/* A new bcrypt hash of password at the given cost, or NULL on failure. */
char *ta_password_hash(apr_pool_t *p, const char *password, int cost);

/* 1 when password matches hash, 0 otherwise (also for a malformed hash). */
int ta_password_verify(const char *password, const char *hash);

/* The cost of a bcrypt hash ("$2a$", "$2b$" or "$2y$" and two digits), or -1
 * when hash is no such hash. A login rehashes a hash whose cost is not the
 * configured one, so that every account costs the same time to check. */
int ta_password_cost(const char *hash);

#endif
