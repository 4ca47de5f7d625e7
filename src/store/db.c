/*
 * store/db.c - the module's SQL and its execution: statements prepared
 * through mod_dbd, run with libpq's asynchronous calls on mod_dbd's pooled
 * connections under TrpcAuthDBTimeout, recovered once after a reconnect. What
 * the rows become is store/dbrows.c.
 */
#include "store/db.h"
#include "store/dbexec.h"
#include "cfg/log.h"
#include "cfg/metrics.h"
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
#include <string.h>
#include <sys/socket.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define ISO(col) "to_char(" col ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define USER_COLS "id, email, coalesce(email_verified, false), " \
                  ISO("created_at") ", " ISO("updated_at")
#define TXN_COLS  "id, amount, txn_type, summary, tag, user_id, " \
                  ISO("created_at") ", " ISO("updated_at")
#define EPOCH_US(col) "(extract(epoch from " col ") * 1000000)::bigint"

typedef ta_db_stmt_t statement_t;

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
static ta_error_t *statement(request_rec *r, const statement_t *which, ap_dbd_t **dbd,
                             apr_dbd_prepared_t **st)
{
    note_busy(r);
    *dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    if (*dbd == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(201)
                      "PostgreSQL unavailable (mod_dbd gave no connection)");
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    *st = apr_hash_get((*dbd)->prepared, which->label, APR_HASH_KEY_STRING);
    if (*st == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(202)
                      "prepared statement %s missing (schema not migrated?)",
                      which->label);
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    return NULL;
}

/* Statements run through libpq directly on mod_dbd's connection, so that a
 * PostgreSQL that is alive but does not answer (frozen, overloaded) cannot
 * hold a worker: apr_dbd and libpq's blocking calls wait forever.
 * TrpcAuthDBTimeout bounds the wait. */
enum {
    DB_OK = 0,
    DB_ERROR = -1,      /* the statement failed; the connection lives */
    DB_TIMEOUT = -2,    /* no answer within TrpcAuthDBTimeout */
    DB_MISSING = -3,    /* the connection lacks the prepared statement */
    DB_UNSENT = -4,     /* the connection was broken before the statement left */
    DB_BROKEN = -5      /* the connection broke under the statement */
};

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
static int execute(request_rec *r, ap_dbd_t *dbd, const statement_t *which, PGresult **out,
                   int nargs, const char **args, const char **err)
{
    ta_server_conf_t *sc = ap_get_module_config(r->server->module_config, &trpcauth_module);
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    apr_time_t deadline = apr_time_now() + ta_conf_db_timeout(sc);
    PGresult *res, *last = NULL;
    int rv;

    if (conn == NULL
        || !PQsendQueryPrepared(conn, which->label, nargs, args, NULL, NULL, 0)) {
        *err = conn ? apr_pstrdup(r->pool, PQerrorMessage(conn)) : "no connection";
        return conn && PQstatus(conn) != CONNECTION_OK ? DB_UNSENT : DB_ERROR;
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
        return rv == DB_ERROR && PQstatus(conn) != CONNECTION_OK ? DB_BROKEN : rv;
    }
    if (last == NULL || (PQresultStatus(last) != PGRES_TUPLES_OK
                         && PQresultStatus(last) != PGRES_COMMAND_OK)) {
        const char *state = last ? PQresultErrorField(last, PG_DIAG_SQLSTATE) : NULL;

        *err = last ? apr_pstrdup(r->pool, PQresultErrorMessage(last)) : "no result";
        rv = DB_ERROR;
        if (state && strcmp(state, "26000") == 0) {
            rv = DB_MISSING;           /* no such prepared statement */
        }
        else if (state && strncmp(state, "57P", 3) == 0) {
            /* The server ends this connection (terminated, shutting down):
             * its FATAL message may come before libpq has read the end of
             * file, so mark the connection bad now. */
            break_connection(conn);
        }
        if (PQstatus(conn) != CONNECTION_OK) {
            rv = DB_BROKEN;
        }
        if (last) PQclear(last);
        return rv;
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

/* A pooled connection whose server went away while it sat idle (PostgreSQL
 * restarted, or the primary died and a standby took its place) has an end of
 * file or a FATAL message waiting, which libpq notices only when it reads. A
 * statement sent on it would fail after the fact, when nobody can tell
 * whether it ran; so look first, and reconnect now: libpq's reset tries
 * DBDParams' hosts in turn, and target_session_attrs=read-write makes it
 * take the primary. The new connection has none of the prepared statements:
 * run() prepares them again as they are needed (DB_MISSING). */
static int revive(request_rec *r, ap_dbd_t *dbd)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    struct pollfd pfd = { conn ? PQsocket(conn) : -1, POLLIN, 0 };
    int rounds;

    if (conn == NULL) {
        return -1;
    }
    if (PQstatus(conn) == CONNECTION_OK && pfd.fd >= 0 && poll(&pfd, 1, 0) == 0) {
        return 0;                  /* nothing waiting: the usual case */
    }
    /* Something came while the connection sat idle. Nothing is expected on a
     * pooled connection (it LISTENs to nothing): it is mostly the FATAL of a
     * server that shuts down, which libpq hands to its notice processor and
     * which the end of file follows at once. So read, and look again for a
     * few milliseconds (only on this rare path): the connection lives only if
     * no end of file comes. */
    for (rounds = 0; PQstatus(conn) == CONNECTION_OK && PQconsumeInput(conn)
                     && PQstatus(conn) == CONNECTION_OK; rounds++) {
        if (rounds == 3 || poll(&pfd, 1, 5) == 0) {
            return 0;              /* a notice; the connection lives */
        }
    }
    if (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(209)
                      "a pooled PostgreSQL connection was closed by the server and "
                      "reconnecting failed: %s", PQerrorMessage(conn));
        return -1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(210)
                  "a pooled PostgreSQL connection was closed by the server; reconnected");
    return 0;
}

/* Statements that only read: run again when the connection broke under them.
 * A write is not: it may have committed before the answer was lost. */
static int reads_only(const statement_t *which)
{
    return which == &statements[ST_USER_CREDENTIALS] || which == &statements[ST_USER_BY_ID]
           || which == &statements[ST_TXN_LIST] || which == &statements[ST_USER_HASH];
}

/* May statement which, failed with rv, run again after recover()? When it
 * did not run: the connection lacked it (reconnected without its prepared
 * statements) or was broken before it left. When the connection broke under
 * it: only if it reads (the statements of other store units are not retried). */
static int may_retry(const statement_t *which, int rv)
{
    return rv == DB_MISSING || rv == DB_UNSENT || (rv == DB_BROKEN && reads_only(which));
}

/* After a reconnection (revive(), or libpq's reset in mod_dbd's check) the
 * connection has lost its prepared statements. Reconnect if needed, prepare
 * statement which again on this connection (it is ours alone for the
 * request) and let the caller try once more. */
static int recover(request_rec *r, ap_dbd_t *dbd, const statement_t *which, const char **err)
{
    apr_dbd_prepared_t *fresh = NULL;

    if (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) != APR_SUCCESS
        || apr_dbd_prepare(dbd->driver, dbd->pool, dbd->handle, which->sql,
                           which->label, &fresh) != 0) {
        PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);

        *err = apr_psprintf(r->pool, "%s; then reconnecting or preparing again failed: %s", *err,
                            conn ? PQerrorMessage(conn) : "no connection");
        return -1;
    }
    apr_hash_set(dbd->prepared, which->label, APR_HASH_KEY_STRING, fresh);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(205)
                  "statement %s prepared again on a reconnected connection",
                  which->label);
    return 0;
}

/* Runs statement which, recovering once from a reconnected connection (not
 * after a timeout: that would wait again; not a write whose connection broke
 * under it: see may_retry); SERVICE_UNAVAILABLE when it fails. A broken
 * connection goes back to mod_dbd as it is: its next check reconnects it. */
static ta_error_t *run_statement(request_rec *r, const statement_t *which, PGresult **res,
                                 int nargs, const char **args)
{
    ap_dbd_t *dbd;
    apr_dbd_prepared_t *st;
    const char *err = NULL;
    apr_time_t start = apr_time_now();      /* for the metrics (cfg/metrics.h) */
    ta_error_t *e;
    int rv;

    if ((e = statement(r, which, &dbd, &st)) != NULL) {
        ta_metrics_store(TA_M_POSTGRES, start, 1);
        return e;
    }
    if (revive(r, dbd) != 0) {
        ta_metrics_store(TA_M_POSTGRES, start, 1);
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    rv = execute(r, dbd, which, res, nargs, args, &err);
    if (may_retry(which, rv) && recover(r, dbd, which, &err) == 0) {
        rv = execute(r, dbd, which, res, nargs, args, &err);
    }
    ta_metrics_store(TA_M_POSTGRES, start, rv != DB_OK);
    if (rv != DB_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(203) "%s failed: %s",
                      which->label, err);
        return ta_error_make(r->pool, TA_E_SERVICE_UNAVAILABLE, "Database unavailable");
    }
    return NULL;
}

ta_error_t *ta_db_run(request_rec *r, int which, PGresult **res, int nargs,
                      const char **args)
{
    return run_statement(r, &statements[which], res, nargs, args);
}

/* ------------------------------------------------------------------ */
/* statements of other store units (src/store/email.c)                  */

void ta_db_prepare(server_rec *s, const ta_db_stmt_t *st)
{
    if (ta_db_available()) {
        dbd_prepare(s, st->sql, st->label);
    }
}

/* Every column of a row as a string (SQL NULL: null). */
static json_t *text_row(const PGresult *res, int row)
{
    json_t *a = json_array();
    int c, n = PQnfields(res);

    for (c = 0; c < n; c++) {
        json_array_append_new(a, PQgetisnull(res, row, c) ? json_null()
                                                         : json_string(PQgetvalue(res, row, c)));
    }
    return a;
}

ta_error_t *ta_db_query(request_rec *r, const ta_db_stmt_t *st, int nargs, const char **args,
                        json_t **rows)
{
    PGresult *res = NULL;
    ta_error_t *e;
    int i, n;

    *rows = NULL;
    if ((e = run_statement(r, st, &res, nargs, args)) != NULL) {
        return e;
    }
    *rows = ta_json_pool(r->pool, json_array());
    for (i = 0, n = PQntuples(res); i < n; i++) {
        json_array_append_new(*rows, text_row(res, i));
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
