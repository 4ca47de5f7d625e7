/*
 * db.c - the PostgreSQL queries, through mod_dbd's pooled connections.
 */
#include "store/db.h"
#include "cfg/log.h"
#include "store/metrics.h"
#include "trpc/superjson.h"

#include "cfg/config.h"

#include <apr_atomic.h>
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

enum { ST_USER_INSERT, ST_USER_CREDENTIALS, ST_USER_BY_ID, ST_TXN_INSERT, ST_TXN_LIST,
       ST_AUDIT_INSERT, ST_USER_HASH, ST_USER_SET_PASSWORD, ST_USER_REHASH, ST__COUNT };

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
static volatile apr_uint32_t busy;

static apr_status_t busy_done(void *data)
{
    apr_atomic_dec32(&busy);
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
        apr_atomic_inc32(&busy);
        apr_pool_userdata_setn(key, key, NULL, r->pool);
        apr_pool_cleanup_register(r->pool, NULL, busy_done, apr_pool_cleanup_null);
    }
}

int ta_db_idle(void)
{
    return apr_atomic_read32(&busy) == 0;
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

    if (conn == NULL) {
        return -1;
    }
    if (PQstatus(conn) == CONNECTION_OK && pfd.fd >= 0 && poll(&pfd, 1, 0) == 0) {
        return 0;                  /* nothing waiting: the usual case */
    }
    if (PQstatus(conn) == CONNECTION_OK && PQconsumeInput(conn)
        && PQstatus(conn) == CONNECTION_OK) {
        return 0;                  /* a notice; the connection lives */
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
    apr_time_t start = apr_time_now();      /* for the metrics (store/metrics.h) */
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

static ta_error_t *run(request_rec *r, int which, PGresult **res, int nargs,
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

/* Runs a SELECT (or INSERT ... RETURNING) and collects rows with row_fn. */
typedef json_t *(*row_fn)(const PGresult *res, int row);

static ta_error_t *query_rows(request_rec *r, int which, row_fn fn, json_t *out,
                              int nargs, const char **args)
{
    PGresult *res = NULL;
    ta_error_t *e;
    int i, n;

    if ((e = run(r, which, &res, nargs, args)) != NULL) {
        return e;
    }
    for (i = 0, n = PQntuples(res); i < n; i++) {
        json_array_append_new(out, fn(res, i));
    }
    return NULL;
}

/* A column's text, or NULL for SQL NULL. */
static const char *col(const PGresult *res, int row, int n)
{
    return PQgetisnull(res, row, n) ? NULL : PQgetvalue(res, row, n);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *int_of(const char *s)
{
    return json_integer(s ? strtoll(s, NULL, 10) : 0);
}

static json_t *date_of(const char *s)
{
    return s ? ta_sj_date(s) : json_null();
}

static json_t *user_row(const PGresult *res, int row)
{
    const char *verified = col(res, row, 2);
    json_t *u = json_object();

    json_object_set_new(u, "id", int_of(col(res, row, 0)));
    json_object_set_new(u, "email", str_or_null(col(res, row, 1)));
    json_object_set_new(u, "emailVerified",
                        json_boolean(verified && (verified[0] == 't' || verified[0] == '1')));
    json_object_set_new(u, "createdAt", date_of(col(res, row, 3)));
    json_object_set_new(u, "updatedAt", date_of(col(res, row, 4)));
    return u;
}

static json_t *txn_row(const PGresult *res, int row)
{
    json_t *t = json_object();

    json_object_set_new(t, "id", int_of(col(res, row, 0)));
    json_object_set_new(t, "amount", int_of(col(res, row, 1)));
    json_object_set_new(t, "txnType", str_or_null(col(res, row, 2)));
    json_object_set_new(t, "summary", str_or_null(col(res, row, 3)));
    json_object_set_new(t, "tag", str_or_null(col(res, row, 4)));
    json_object_set_new(t, "userId", int_of(col(res, row, 5)));
    json_object_set_new(t, "createdAt", date_of(col(res, row, 6)));
    json_object_set_new(t, "updatedAt", date_of(col(res, row, 7)));
    return t;
}

static json_t *credentials_row(const PGresult *res, int row)
{
    json_t *c = json_object();
    json_object_set_new(c, "id", str_or_null(col(res, row, 0)));
    json_object_set_new(c, "hash", str_or_null(col(res, row, 1)));
    return c;
}

/* The first row of rows as a new reference, or NULL; rows is released. */
static json_t *first_row(json_t *rows)
{
    json_t *first = json_array_size(rows) ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    return first;
}

ta_error_t *ta_db_user_insert(request_rec *r, const char *email, const char *hash,
                              json_t **user)
{
    const char *args[2] = { email, hash };
    json_t *rows = json_array();
    ta_error_t *e = query_rows(r, ST_USER_INSERT, user_row, rows, 2, args);

    *user = e ? (json_decref(rows), NULL) : ta_json_pool(r->pool, first_row(rows));
    return e;
}

/* Runs a statement that selects (id, password) by one key (email or id). */
static ta_error_t *credentials_by(request_rec *r, int which, const char *key,
                                  const char **id, const char **hash)
{
    const char *args[1] = { key };
    json_t *rows = json_array(), *c;
    ta_error_t *e = query_rows(r, which, credentials_row, rows, 1, args);

    *id = *hash = NULL;
    if (e) {
        json_decref(rows);
        return e;
    }
    if ((c = first_row(rows)) != NULL) {
        *id = apr_pstrdup(r->pool, json_string_value(json_object_get(c, "id")));
        *hash = apr_pstrdup(r->pool, json_string_value(json_object_get(c, "hash")));
        json_decref(c);
    }
    return NULL;
}

ta_error_t *ta_db_user_credentials(request_rec *r, const char *email,
                                   const char **id, const char **hash)
{
    return credentials_by(r, ST_USER_CREDENTIALS, email, id, hash);
}

ta_error_t *ta_db_user_by_id(request_rec *r, const char *id, json_t **user)
{
    const char *args[1] = { id };
    json_t *rows = json_array();
    ta_error_t *e = query_rows(r, ST_USER_BY_ID, user_row, rows, 1, args);

    *user = e ? (json_decref(rows), NULL) : ta_json_pool(r->pool, first_row(rows));
    return e;
}

ta_error_t *ta_db_txn_insert(request_rec *r, const char *user_id, long long amount,
                             const char *txn_type, const char *summary,
                             int tag_given, const char *tag, json_t **row)
{
    const char *args[6] = {
        apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)amount), txn_type, summary,
        tag_given ? "0" : "1", tag, user_id
    };
    json_t *rows = json_array();
    ta_error_t *e = query_rows(r, ST_TXN_INSERT, txn_row, rows, 6, args);

    if (e) {
        json_decref(rows);
        *row = NULL;
        return e;
    }
    *row = ta_json_pool(r->pool, rows);
    return NULL;
}

/* A row of the users LEFT JOIN transactions list: null for the user's
 * row without any transaction. */
/* A growing text buffer in a pool, for writing JSON straight from rows. */
typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len, cap;
} text_t;

static void text_put(text_t *t, const char *s, apr_size_t n)
{
    if (t->len + n + 1 > t->cap) {
        apr_size_t cap = t->cap ? t->cap : 1024;
        char *bigger;
        while (t->len + n + 1 > cap) cap *= 2;
        bigger = apr_palloc(t->pool, cap);
        if (t->len) memcpy(bigger, t->data, t->len);
        t->data = bigger;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_puts(text_t *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* s as a JSON string literal (the database's text is valid UTF-8: only
 * quotes, backslashes and control characters need escaping), or null. */
static void text_json_string(text_t *t, const char *s)
{
    const char *run;
    char esc[8];

    if (s == NULL) {
        text_puts(t, "null");
        return;
    }
    text_put(t, "\"", 1);
    for (run = s; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        text_put(t, run, (apr_size_t)(s - run));
        switch (c) {
        case '"':  text_puts(t, "\\\""); break;
        case '\\': text_puts(t, "\\\\"); break;
        case '\n': text_puts(t, "\\n"); break;
        case '\r': text_puts(t, "\\r"); break;
        case '\t': text_puts(t, "\\t"); break;
        default:
            apr_snprintf(esc, sizeof(esc), "\\u%04x", c);
            text_puts(t, esc);
        }
        run = s + 1;
    }
    text_put(t, run, (apr_size_t)(s - run));
    text_put(t, "\"", 1);
}

/* An integer column as it is (PostgreSQL's text of an integer is JSON). */
static void text_number(text_t *t, const char *s)
{
    text_puts(t, s ? s : "null");
}

/* Epoch microseconds as "2024-05-06T07:08:09.123Z" (milliseconds, as JS). */
static void text_iso_date(text_t *t, const char *epoch_us)
{
    apr_time_exp_t tm;
    char iso[40];

    if (epoch_us == NULL || apr_time_exp_gmt(&tm, (apr_time_t)apr_atoi64(epoch_us)) != 0) {
        text_puts(t, "null");
        return;
    }
    apr_snprintf(iso, sizeof(iso), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, tm.tm_usec / 1000);
    text_puts(t, iso);
}

/* One transaction row as a JSON object, keys in the tutorial's order. */
static void text_txn_row(text_t *t, const PGresult *res, int row)
{
    text_puts(t, "{\"id\":");         text_number(t, col(res, row, 0));
    text_puts(t, ",\"amount\":");     text_number(t, col(res, row, 1));
    text_puts(t, ",\"txnType\":");    text_json_string(t, col(res, row, 2));
    text_puts(t, ",\"summary\":");    text_json_string(t, col(res, row, 3));
    text_puts(t, ",\"tag\":");        text_json_string(t, col(res, row, 4));
    text_puts(t, ",\"userId\":");     text_number(t, col(res, row, 5));
    text_puts(t, ",\"createdAt\":");  text_iso_date(t, col(res, row, 6));
    text_puts(t, ",\"updatedAt\":");  text_iso_date(t, col(res, row, 7));
    text_puts(t, "}");
}

ta_error_t *ta_db_txn_list(request_rec *r, const char *user_id, const char **json,
                           apr_array_header_t **dates)
{
    const char *args[1] = { user_id };
    PGresult *res = NULL;
    text_t t = { r->pool, NULL, 0, 0 };
    json_t *user;
    ta_error_t *e;
    int n, count;

    *json = NULL;
    *dates = apr_array_make(r->pool, 16, sizeof(const char *));
    if ((e = run(r, ST_TXN_LIST, &res, 1, args)) != NULL) {
        return e;
    }
    text_puts(&t, "[");
    for (n = 0, count = PQntuples(res); n < count; n++) {
        if (n) text_puts(&t, ",");
        text_txn_row(&t, res, n);
        APR_ARRAY_PUSH(*dates, const char *) = apr_psprintf(r->pool, "%d.createdAt", n);
        APR_ARRAY_PUSH(*dates, const char *) = apr_psprintf(r->pool, "%d.updatedAt", n);
    }
    text_puts(&t, "]");
    /* No rows: a user without transactions, or a user who is gone. */
    if (n == 0 && ((e = ta_db_user_by_id(r, user_id, &user)) != NULL || user == NULL)) {
        return e;
    }
    *json = t.data;
    return NULL;
}

ta_error_t *ta_db_audit_insert(request_rec *r, const char *event, const char *user_id,
                               const char *session_id, const char *ip,
                               const char *user_agent, const char *detail_json)
{
    const char *args[6] = { event, user_id, session_id, ip, user_agent,
                            detail_json ? detail_json : "{}" };

    return run(r, ST_AUDIT_INSERT, NULL, 6, args);
}

ta_error_t *ta_db_user_password(request_rec *r, const char *id, const char **hash)
{
    const char *uid;

    return credentials_by(r, ST_USER_HASH, id, &uid, hash);
}

/* Runs an UPDATE of the password that returns the row: *updated is 1 when a
 * row changed. */
static ta_error_t *update_password(request_rec *r, int which, int nargs, const char **args,
                                   int *updated)
{
    json_t *rows = json_array();
    ta_error_t *e = query_rows(r, which, credentials_row, rows, nargs, args);

    *updated = e == NULL && json_array_size(rows) == 1;
    json_decref(rows);
    return e;
}

ta_error_t *ta_db_user_set_password(request_rec *r, const char *id, const char *hash,
                                    int *updated)
{
    const char *args[2] = { hash, id };

    return update_password(r, ST_USER_SET_PASSWORD, 2, args, updated);
}

ta_error_t *ta_db_user_rehash(request_rec *r, const char *id, const char *old_hash,
                              const char *new_hash, int *updated)
{
    const char *args[3] = { new_hash, id, old_hash };

    return update_password(r, ST_USER_REHASH, 3, args, updated);
}
