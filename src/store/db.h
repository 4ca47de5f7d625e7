/*
 * store/db.h - PostgreSQL through mod_dbd: prepared statements registered at
 * configuration time, one pooled connection per request (ap_dbd_acquire).
 * No SQL is ever built from input. Rows come back as JSON objects shaped as
 * the tutorial's outputs (camelCase keys, Dates as ta_sj_date markers).
 * Every function returns NULL or SERVICE_UNAVAILABLE / INTERNAL_SERVER_ERROR.
 */
#ifndef TA_DB_H
#define TA_DB_H

#include <httpd.h>
#include <apr_tables.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include "trpc/error.h"

/* mod_dbd is loaded (its functions are registered by then in check_config). */
int ta_db_available(void);

/* Registers the statements with mod_dbd for server s; called in post_config
 * before mod_dbd's own, for every server that uses the module. */
void ta_db_prepare_statements(server_rec *s);

/* For the warmer (src/store/dbwarm.c), outside requests: a connection of s's
 * mod_dbd pool (NULL when there is none to be had), given back with
 * ta_db_close; ta_db_warm runs the module's read statements once on it (1
 * when they answered). ta_db_idle: no request of this child holds, or is
 * about to take, a connection of the module. */
ap_dbd_t *ta_db_open(apr_pool_t *p, server_rec *s);
void ta_db_close(server_rec *s, ap_dbd_t *dbd);
int ta_db_warm(server_rec *s, ap_dbd_t *dbd);
int ta_db_idle(void);

/* A statement of another store unit (src/store/email.c keeps its SQL beside
 * its code): registered with mod_dbd by ta_db_prepare in post_config, as the
 * module's own are, and run by ta_db_query with the same TrpcAuthDBTimeout
 * and reconnect handling. Arguments are text (NULL: SQL NULL), %s / %d in
 * the SQL as mod_dbd reads them. */
typedef struct {
    const char *label;
    const char *sql;
} ta_db_stmt_t;

void ta_db_prepare(server_rec *s, const ta_db_stmt_t *st);

/* Runs st; *rows (owned by r->pool) is an array of rows, each an array of
 * its columns as strings (null for SQL NULL). */
ta_error_t *ta_db_query(request_rec *r, const ta_db_stmt_t *st, int nargs, const char **args,
                        json_t **rows);

/* Inserts a user. *user is the new row {id,email,emailVerified,createdAt,
 * updatedAt}, or NULL when the email is taken. */
ta_error_t *ta_db_user_insert(request_rec *r, const char *email, const char *hash,
                              json_t **user);

/* Looks a user up by email: *id and *hash, both NULL when there is none. */
ta_error_t *ta_db_user_credentials(request_rec *r, const char *email,
                                   const char **id, const char **hash);

/* The public row of a user, or *user NULL when the id does not exist. */
ta_error_t *ta_db_user_by_id(request_rec *r, const char *id, json_t **user);

/* Inserts a transaction; tag_given 0 means "absent" (column default).
 * *row is [{id,amount,txnType,summary,tag,userId,createdAt,updatedAt}], or an
 * empty array when the user no longer exists (nothing is written then). */
ta_error_t *ta_db_txn_insert(request_rec *r, const char *user_id, long long amount,
                             const char *txn_type, const char *summary,
                             int tag_given, const char *tag, json_t **row);

/* The user's transactions, newest first, written straight from the rows as
 * the text of a JSON array (dates as ISO strings); *dates gets their paths
 * ("0.createdAt", ...) for superjson. *json is NULL when the user is gone. */
ta_error_t *ta_db_txn_list(request_rec *r, const char *user_id, const char **json,
                           apr_array_header_t **dates);

/* Appends one row to auth_events (NULL ids/ip/agent are stored as null;
 * detail_json is a JSON object text or NULL for {}). */
ta_error_t *ta_db_audit_insert(request_rec *r, const char *event, const char *user_id,
                               const char *session_id, const char *ip,
                               const char *user_agent, const char *detail_json);

/* The password hash of a user by id; *hash NULL when the user does not exist. */
ta_error_t *ta_db_user_password(request_rec *r, const char *id, const char **hash);

/* Replaces a user's password hash (and updated_at); *updated is 0 when the
 * user does not exist. */
ta_error_t *ta_db_user_set_password(request_rec *r, const char *id, const char *hash,
                                    int *updated);

/* Replaces a user's password hash old_hash by new_hash, the same password
 * hashed again (updated_at unchanged); *updated is 0 when the user is gone or
 * the stored hash is no longer old_hash (the password was changed meanwhile). */
ta_error_t *ta_db_user_rehash(request_rec *r, const char *id, const char *old_hash,
                              const char *new_hash, int *updated);

#endif
