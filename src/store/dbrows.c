/*
 * store/dbrows.c - what the rows of the module's statements become: JSON
 * objects shaped as the tutorial's outputs (camelCase keys, Dates as
 * ta_sj_date markers), or for the long transaction list, JSON text written
 * straight from the rows (util/jsontext.h). The statements and their
 * execution are store/db.c.
 */
#include "store/db.h"
#include "store/dbexec.h"
#include "trpc/superjson.h"
#include "util/jsontext.h"

#include <apr_strings.h>
#include <libpq-fe.h>

#include <stdlib.h>

/* A column's text, or NULL for SQL NULL. */
static const char *col(const PGresult *res, int row, int n)
{
    return PQgetisnull(res, row, n) ? NULL : PQgetvalue(res, row, n);
}

/* What a column becomes in the output object. */
typedef enum {
    COL_INT,        /* a JSON integer (0 for NULL) */
    COL_STR,        /* a string, or null */
    COL_BOOL,       /* true for PostgreSQL's 't' (or '1'), else false */
    COL_DATE        /* a Date marker (ta_sj_date) of the ISO text, or null */
} col_kind_t;

typedef struct {
    const char *name;
    col_kind_t kind;
} col_t;

/* The shapes of the tutorial's outputs, columns in the statements' order. */
static const col_t user_cols[] = {
    { "id", COL_INT }, { "email", COL_STR }, { "emailVerified", COL_BOOL },
    { "createdAt", COL_DATE }, { "updatedAt", COL_DATE }, { NULL, 0 }
};
static const col_t txn_cols[] = {
    { "id", COL_INT }, { "amount", COL_INT }, { "txnType", COL_STR }, { "summary", COL_STR },
    { "tag", COL_STR }, { "userId", COL_INT }, { "createdAt", COL_DATE },
    { "updatedAt", COL_DATE }, { NULL, 0 }
};
static const col_t credentials_cols[] = {
    { "id", COL_STR }, { "hash", COL_STR }, { NULL, 0 }
};

static json_t *value_of(col_kind_t kind, const char *s)
{
    switch (kind) {
    case COL_INT:  return json_integer(s ? strtoll(s, NULL, 10) : 0);
    case COL_BOOL: return json_boolean(s && (s[0] == 't' || s[0] == '1'));
    case COL_DATE: return s ? ta_sj_date(s) : json_null();
    default:       return s ? json_string(s) : json_null();
    }
}

/* Row row of res as an object with the columns cols. */
static json_t *row_object(const PGresult *res, int row, const col_t *cols)
{
    json_t *o = json_object();
    int n;

    for (n = 0; cols[n].name; n++) {
        json_object_set_new(o, cols[n].name, value_of(cols[n].kind, col(res, row, n)));
    }
    return o;
}

/* Runs a SELECT (or INSERT ... RETURNING) and appends its rows to out as
 * objects with the columns cols. */
static ta_error_t *query_rows(request_rec *r, int which, const col_t *cols, json_t *out,
                              int nargs, const char **args)
{
    PGresult *res = NULL;
    ta_error_t *e;
    int i, n;

    if ((e = ta_db_run(r, which, &res, nargs, args)) != NULL) {
        return e;
    }
    for (i = 0, n = PQntuples(res); i < n; i++) {
        json_array_append_new(out, row_object(res, i, cols));
    }
    return NULL;
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
    ta_error_t *e = query_rows(r, ST_USER_INSERT, user_cols, rows, 2, args);

    *user = e ? (json_decref(rows), NULL) : ta_json_pool(r->pool, first_row(rows));
    return e;
}

/* Runs a statement that selects (id, password) by one key (email or id). */
static ta_error_t *credentials_by(request_rec *r, int which, const char *key,
                                  const char **id, const char **hash)
{
    const char *args[1] = { key };
    json_t *rows = json_array(), *c;
    ta_error_t *e = query_rows(r, which, credentials_cols, rows, 1, args);

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
    ta_error_t *e = query_rows(r, ST_USER_BY_ID, user_cols, rows, 1, args);

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
    ta_error_t *e = query_rows(r, ST_TXN_INSERT, txn_cols, rows, 6, args);

    if (e) {
        json_decref(rows);
        *row = NULL;
        return e;
    }
    *row = ta_json_pool(r->pool, rows);
    return NULL;
}

/* A column of epoch microseconds as an ISO-8601 string, or null. */
static void text_epoch_us(ta_jtext_t *t, const char *epoch_us)
{
    if (epoch_us == NULL) {
        ta_jtext_puts(t, "null");
        return;
    }
    ta_jtext_iso_date(t, (apr_time_t)apr_atoi64(epoch_us));
}

/* One transaction row as a JSON object, keys in the tutorial's order. */
static void text_txn_row(ta_jtext_t *t, const PGresult *res, int row)
{
    ta_jtext_puts(t, "{\"id\":");         ta_jtext_number(t, col(res, row, 0));
    ta_jtext_puts(t, ",\"amount\":");     ta_jtext_number(t, col(res, row, 1));
    ta_jtext_puts(t, ",\"txnType\":");    ta_jtext_string(t, col(res, row, 2));
    ta_jtext_puts(t, ",\"summary\":");    ta_jtext_string(t, col(res, row, 3));
    ta_jtext_puts(t, ",\"tag\":");        ta_jtext_string(t, col(res, row, 4));
    ta_jtext_puts(t, ",\"userId\":");     ta_jtext_number(t, col(res, row, 5));
    ta_jtext_puts(t, ",\"createdAt\":");  text_epoch_us(t, col(res, row, 6));
    ta_jtext_puts(t, ",\"updatedAt\":");  text_epoch_us(t, col(res, row, 7));
    ta_jtext_puts(t, "}");
}

ta_error_t *ta_db_txn_list(request_rec *r, const char *user_id, const char **json,
                           apr_array_header_t **dates)
{
    const char *args[1] = { user_id };
    PGresult *res = NULL;
    ta_jtext_t t = TA_JTEXT_INIT(r->pool);
    json_t *user;
    ta_error_t *e;
    int n, count;

    *json = NULL;
    *dates = apr_array_make(r->pool, 16, sizeof(const char *));
    if ((e = ta_db_run(r, ST_TXN_LIST, &res, 1, args)) != NULL) {
        return e;
    }
    ta_jtext_puts(&t, "[");
    for (n = 0, count = PQntuples(res); n < count; n++) {
        if (n) ta_jtext_puts(&t, ",");
        text_txn_row(&t, res, n);
        APR_ARRAY_PUSH(*dates, const char *) = apr_psprintf(r->pool, "%d.createdAt", n);
        APR_ARRAY_PUSH(*dates, const char *) = apr_psprintf(r->pool, "%d.updatedAt", n);
    }
    ta_jtext_puts(&t, "]");
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

    return ta_db_run(r, ST_AUDIT_INSERT, NULL, 6, args);
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
    ta_error_t *e = query_rows(r, which, credentials_cols, rows, nargs, args);

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
