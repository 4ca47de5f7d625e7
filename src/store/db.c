/*
 * store/db.c - the module's SQL and its execution: statements prepared
 * through mod_dbd, run with libpq's asynchronous calls on mod_dbd's pooled
 * connections under TrpcAuthDBTimeout, recovered once after a reconnect. What
 * the rows become is store/dbrows.c.
 */
#include "store/db.h"
#include "store/dbexec.h"
#include "cfg/log.h"
#include "cfg/config.h"
#include "util/atomic.h"

#include <apr_dbd.h>
#include <apr_strings.h>
#include <http_config.h>
#include <http_log.h>
#include <libpq-fe.h>
#include <mod_dbd.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define ISO(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define USER_COLS "id, email, coalesce(email_verified, false), " \
                  ISO("created_at") ", " ISO("updated_at")
#define TXN_COLS  "id, amount, txn_type, summary, tag, user_id, " \
                  ISO("created_at") ", " ISO("updated_at")
#define EPOCH_US(col) "(extract(epoch from " col ") * 1000000)::bigint"

typedef struct {
    const char *label;
    const char *sql;
} statement_t;

static const statement_t statements[ST__COUNT] = {
    [ST_USER_INSERT] = { "trpcauth_user_insert",
        "INSERT INTO users (email, password) VALUES (%s, %s) "
        "ON CONFLICT (email) DO NOTHING RETURNING " USER_COLS },
    [ST_USER_CREDENTIALS] = { "trpcauth_user_credentials",
        "SELECT id, password FROM users WHERE email = %s" },
    [ST_USER_BY_ID] = { "trpcauth_user_by_id",
        "SELECT " USER_COLS " FROM users WHERE id = %d" },
    [ST_TXN_INSERT] = { "trpcauth_txn_insert",
        /* Written only while the user exists: a token that outlived its
         * user inserts nothing (no row comes back). */
        "INSERT INTO transactions (amount, txn_type, summary, tag, user_id) "
        "SELECT %d, %s::\"txnType\", %s, "
        "CASE WHEN %s = '1' THEN 'Others'::\"tag\" ELSE %s::\"tag\" END, u.id "
        "FROM users u WHERE u.id = %d "
        "RETURNING " TXN_COLS },
    [ST_TXN_LIST] = { "trpcauth_txn_list",
        /* In the order of the (user_id, created_at DESC, id DESC) index, so
         * no sort; times as epoch microseconds, formatted in C (to_char per
         * row cost more than the rest of the query). */
        "SELECT id, amount, txn_type, summary, tag, user_id, "
        EPOCH_US("created_at") ", " EPOCH_US("updated_at") " FROM transactions "
        "WHERE user_id = %d ORDER BY created_at DESC, id DESC" },
    [ST_AUDIT_INSERT] = { "trpcauth_audit_insert",
        "INSERT INTO auth_events (event, user_id, session_id, ip, user_agent, detail) "
        "VALUES (%s, %d, %s, %s, %s, %s::jsonb)" },
    [ST_USER_HASH] = { "trpcauth_user_hash",
        "SELECT id, password FROM users WHERE id = %d" },
    [ST_USER_SET_PASSWORD] = { "trpcauth_user_set_password",
        "UPDATE users SET password = %s, updated_at = now() WHERE id = %d RETURNING id, password" },
    [ST_USER_REHASH] = { "trpcauth_user_rehash",
        /* Only while the hash is still the one checked: a password changed
         * in the meantime stays changed. The password itself is unchanged,
         * so updated_at is too. */
        "UPDATE users SET password = %s WHERE id = %d AND password = %s RETURNING id, password" },
};

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

int ta_db_available(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    return dbd_acquire != NULL && dbd_prepare != NULL && dbd_open != NULL && dbd_close != NULL;
}

/* Requests of this child that hold (or are about to take) one of mod_dbd's
 * connections: the warmer (src/store/dbwarm.c) takes the idle ones only while
 * there are none. */
static apr_uint32_t busy;              /* util/atomic.h access only */

static apr_status_t busy_done(void *data)
{
    ta_atomic_decr(busy);
    return APR_SUCCESS;
}

/* Counts r once, until its pool goes. Called before the connection is
 * acquired, so this cleanup runs after mod_dbd's release (cleanups run in
 * reverse order): the count reaches 0 only once the connection is back. */
static void note_busy(request_rec *r)
{
    static const char key[] = "trpcauth-db-busy";
    void *seen = NULL;

    apr_pool_userdata_get(&seen, key, r->pool);
    if (seen == NULL) {
        ta_atomic_incr(busy);
        apr_pool_userdata_setn(key, key, NULL, r->pool);
        apr_pool_cleanup_register(r->pool, NULL, busy_done, apr_pool_cleanup_null);
    }
}

int ta_db_idle(void)
{
    return ta_atomic_get(busy) == 0;
}

void ta_db_prepare_statements(server_rec *s)
{
    int i;

    if (!ta_db_available()) {
        return;
    }
    for (i = 0; i < ST__COUNT; i++) {
        dbd_prepare(s, statements[i].sql, statements[i].label);
    }
}

/* A pooled connection and the prepared statement, or SERVICE_UNAVAILABLE. */
static ta_error_t *statement(request_rec *r, int which, ap_dbd_t **dbd,
                             apr_dbd_prepared_t **st)
{
    note_busy(r);
    *dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    if (*dbd == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(201)
                      "PostgreSQL unavailable (mod_dbd gave no connection)");
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    *st = apr_hash_get((*dbd)->prepared, statements[which].label, APR_HASH_KEY_STRING);
    if (*st == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(202)
                      "prepared statement %s missing (schema not migrated?)",
                      statements[which].label);
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    return NULL;
}

/* Statements run through libpq directly on mod_dbd's connection, so that a
 * PostgreSQL that is alive but does not answer (frozen, overloaded) cannot
 * hold a worker: apr_dbd and libpq's blocking calls wait forever.
 * TrpcAuthDBTimeout bounds the wait. */
enum { DB_OK = 0, DB_ERROR = -1, DB_TIMEOUT = -2 };

/* Waits until libpq holds a complete answer, at most until deadline. */
static int wait_ready(PGconn *conn, apr_time_t deadline)
{
    while (PQisBusy(conn)) {
        struct pollfd pfd = { PQsocket(conn), POLLIN, 0 };
        apr_interval_time_t left = deadline - apr_time_now();
        int n;

        if (left <= 0) {
            return DB_TIMEOUT;
        }
        n = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (n < 0 && errno != EINTR) {
            return DB_ERROR;
        }
        if (n > 0 && !PQconsumeInput(conn)) {
            return DB_ERROR;
        }
    }
    return DB_OK;
}

/* A connection that timed out is in the middle of a statement: break it, so
 * libpq marks it bad and mod_dbd's next check reconnects it (DBDParams
 * connect_timeout bounds that reconnect). */
static void break_connection(PGconn *conn)
{
    shutdown(PQsocket(conn), SHUT_RDWR);
    PQconsumeInput(conn);
}

static apr_status_t clear_result(void *res)
{
    PQclear(res);
    return APR_SUCCESS;
}

/* Runs prepared statement which on dbd; on DB_OK *out (when wanted) is the
 * result, cleared with r->pool. *err gets a message for the log otherwise. */
static int execute(request_rec *r, ap_dbd_t *dbd, int which, PGresult **out,
                   int nargs, const char **args, const char **err)
{
    ta_server_conf_t *sc = ap_get_module_config(r->server->module_config, &trpcauth_module);
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    apr_time_t deadline = apr_time_now() + ta_conf_db_timeout(sc);
    PGresult *res, *last = NULL;
    int rv;

    if (conn == NULL
        || !PQsendQueryPrepared(conn, statements[which].label, nargs, args, NULL, NULL, 0)) {
        *err = conn ? apr_pstrdup(r->pool, PQerrorMessage(conn)) : "no connection";
        return DB_ERROR;
    }
    while ((rv = wait_ready(conn, deadline)) == DB_OK && (res = PQgetResult(conn)) != NULL) {
        if (last) PQclear(last);
        last = res;
    }
    if (rv != DB_OK) {
        if (last) PQclear(last);
        *err = rv == DB_TIMEOUT ? "no answer within TrpcAuthDBTimeout"
                                : apr_pstrdup(r->pool, PQerrorMessage(conn));
        if (rv == DB_TIMEOUT) break_connection(conn);
        return rv;
    }
    if (last == NULL || (PQresultStatus(last) != PGRES_TUPLES_OK
                         && PQresultStatus(last) != PGRES_COMMAND_OK)) {
        *err = last ? apr_pstrdup(r->pool, PQresultErrorMessage(last)) : "no result";
        if (last) PQclear(last);
        return DB_ERROR;
    }
    if (out) {
        apr_pool_cleanup_register(r->pool, last, clear_result, apr_pool_cleanup_null);
        *out = last;
    }
    else {
        PQclear(last);
    }
    return DB_OK;
}

/* After PostgreSQL restarts, a pooled connection fails once, and libpq's
 * reset (in mod_dbd's next check) reconnects it without its prepared
 * statements, so every later use would fail too. When a statement fails:
 * reconnect if needed, prepare the statement again on this connection (it is
 * ours alone for the request) and let the caller try once more. If the
 * statement still existed, preparing fails and the original error stands. */
static int recover(request_rec *r, ap_dbd_t *dbd, int which)
{
    apr_dbd_prepared_t *fresh = NULL;

    if (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) != APR_SUCCESS
        || apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, statements[which].sql,
                           statements[which].label, &fresh) != 0) {
        return -1;
    }
    apr_hash_set(dbd->prepared, statements[which].label, APR_HASH_KEY_STRING, fresh);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(205)
                  "statement %s prepared again on a reconnected connection",
                  statements[which].label);
    return 0;
}

ta_error_t *ta_db_run(request_rec *r, int which, PGresult **res, int nargs,
                      const char **args)
{
    ap_dbd_t *dbd;
    apr_dbd_prepared_t *st;
    const char *err = NULL, *ignored;
    ta_error_t *e;
    int rv;

    if ((e = statement(r, which, &dbd, &st)) != NULL) {
        return e;
    }
    rv = execute(r, dbd, which, res, nargs, args, &err);
    if (rv == DB_ERROR && recover(r, dbd, which) == 0) {
        rv = execute(r, dbd, which, res, nargs, args, &ignored);
    }
    if (rv != DB_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(203) "%s failed: %s",
                      statements[which].label, err);
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* for the warmer (src/store/dbwarm.c), outside any request                  */

ap_dbd_t *ta_db_open(apr_pool_t *p, server_rec *s)
{
    return dbd_open ? dbd_open(p, s) : NULL;
}

void ta_db_close(server_rec *s, ap_dbd_t *dbd)
{
    if (dbd_close && dbd) {
        dbd_close(s, dbd);
    }
}

/* Runs statement which with one argument and throws the answer away. */
static int warm_statement(PGconn *conn, int which, const char *arg, apr_time_t deadline)
{
    PGresult *res;
    int rv, ok = 1;

    if (!PQsendQueryPrepared(conn, statements[which].label, 1, &arg, NULL, NULL, 0)) {
        return 0;
    }
    while ((rv = wait_ready(conn, deadline)) == DB_OK && (res = PQgetResult(conn)) != NULL) {
        ok = ok && PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    if (rv == DB_TIMEOUT) {
        break_connection(conn);
    }
    return rv == DB_OK && ok;
}

int ta_db_warm(server_rec *s, ap_dbd_t *dbd)
{
    ta_server_conf_t *sc = ap_get_module_config(s->module_config, &trpcauth_module);
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    apr_time_t deadline = apr_time_now() + ta_conf_db_timeout(sc);

    /* Nobody has id 0: no rows, but the plans and the backend's caches of
     * the tables, indexes and statistics that requests need are made now. */
    return conn != NULL && PQstatus(conn) == CONNECTION_OK
           && warm_statement(conn, ST_USER_BY_ID, "0", deadline)
           && warm_statement(conn, ST_TXN_LIST, "0", deadline);
}
