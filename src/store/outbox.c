/*
 * outbox.c - the mail_outbox table through libpq (store/outbox.h).
 */
#include "store/outbox.h"

#include <apr_strings.h>

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

struct ta_outbox {
    apr_pool_t *p;
    const char *conninfo;
    PGconn *pg;
    char error[256];
};

/* A row is due when it is unsent, its time has come and its link still
 * works; the oldest first. */
#define CLAIM_SQL \
    "SELECT id, kind, recipient, sealed_link," \
    " (extract(epoch FROM created_at) * 1000000)::bigint," \
    " (extract(epoch FROM expires_at) * 1000000)::bigint, attempts" \
    " FROM mail_outbox" \
    " WHERE sent_at IS NULL AND next_attempt <= now() AND expires_at > now()" \
    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"

#define EXPIRE_SQL \
    "UPDATE mail_outbox SET last_error = 'expired', sealed_link = NULL," \
    " next_attempt = 'infinity'" \
    " WHERE sent_at IS NULL AND expires_at <= now() AND next_attempt <> 'infinity'"

#define SENT_SQL \
    "UPDATE mail_outbox SET sent_at = now(), sealed_link = NULL, last_error = NULL," \
    " attempts = attempts + 1 WHERE id = $1"

#define FAILED_SQL \
    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2," \
    " next_attempt = now() + $3::bigint * interval '1 millisecond' WHERE id = $1"

#define GIVEUP_SQL \
    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, sealed_link = NULL," \
    " next_attempt = 'infinity' WHERE id = $1"

#define NEXT_SQL \
    "SELECT (greatest(0, extract(epoch FROM min(next_attempt) - now())) * 1000)::bigint" \
    " FROM mail_outbox WHERE sent_at IS NULL AND expires_at > now()" \
    " AND next_attempt <> 'infinity'"

ta_outbox_t *ta_outbox_create(apr_pool_t *p, const char *conninfo)
{
    ta_outbox_t *o = apr_pcalloc(p, sizeof(*o));

    o->p = p;
    /* A connect_timeout of the DBDParams wins over this one (the later
     * keyword counts): without any, libpq would wait for TCP's own. */
    o->conninfo = apr_pstrcat(p, "connect_timeout=10 ", conninfo, NULL);
    return o;
}

static void set_error(ta_outbox_t *o, const char *what)
{
    const char *msg = o->pg ? PQerrorMessage(o->pg) : "";
    apr_size_t n;

    apr_snprintf(o->error, sizeof(o->error), "%s%s%s", what, *msg ? ": " : "", msg);
    for (n = strlen(o->error); n > 0 && (o->error[n - 1] == '\n' || o->error[n - 1] == ' '); n--) {
        o->error[n - 1] = '\0';
    }
    for (n = 0; o->error[n]; n++) {
        if (o->error[n] == '\n') o->error[n] = ' ';
    }
}

const char *ta_outbox_error(const ta_outbox_t *o)
{
    return o->error;
}

int ta_outbox_connected(const ta_outbox_t *o)
{
    return o->pg != NULL;
}

void ta_outbox_close(ta_outbox_t *o)
{
    if (o->pg) {
        PQfinish(o->pg);
        o->pg = NULL;
    }
}

/* Runs a command without a result set; on an error the connection is
 * checked and closed when it broke. */
static int exec_cmd(ta_outbox_t *o, const char *sql, const char *what)
{
    PGresult *res = PQexec(o->pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok) {
        set_error(o, what);
    }
    PQclear(res);
    if (!ok && PQstatus(o->pg) != CONNECTION_OK) {
        ta_outbox_close(o);
    }
    return ok ? 0 : -1;
}

int ta_outbox_connect(ta_outbox_t *o)
{
    if (o->pg) {
        return 0;
    }
    o->pg = PQconnectdb(o->conninfo);
    if (PQstatus(o->pg) != CONNECTION_OK) {
        set_error(o, "cannot connect to PostgreSQL");
        ta_outbox_close(o);
        return -1;
    }
    /* A hung query must not stop delivery for longer than this. */
    if (exec_cmd(o, "SET statement_timeout = '10s'", "SET statement_timeout") != 0
        || exec_cmd(o, "LISTEN trpcauth_outbox", "LISTEN trpcauth_outbox") != 0) {
        ta_outbox_close(o);
        return -1;
    }
    return 0;
}

int ta_outbox_socket(const ta_outbox_t *o)
{
    return o->pg ? PQsocket(o->pg) : -1;
}

int ta_outbox_drain(ta_outbox_t *o)
{
    PGnotify *n;
    int count = 0;

    if (o->pg == NULL) {
        return -1;
    }
    if (!PQconsumeInput(o->pg)) {
        set_error(o, "PostgreSQL connection lost");
        ta_outbox_close(o);
        return -1;
    }
    while ((n = PQnotifies(o->pg)) != NULL) {
        PQfreemem(n);
        count++;
    }
    return count;
}

int ta_outbox_expire(ta_outbox_t *o)
{
    PGresult *res = PQexec(o->pg, EXPIRE_SQL);
    int n = -1;

    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        n = atoi(PQcmdTuples(res));
    }
    else {
        set_error(o, "marking expired mails");
    }
    PQclear(res);
    if (n < 0 && PQstatus(o->pg) != CONNECTION_OK) {
        ta_outbox_close(o);
    }
    return n;
}

int ta_outbox_claim(ta_outbox_t *o, apr_pool_t *p, ta_outbox_row_t *row)
{
    PGresult *res;
    int rc;

    if (exec_cmd(o, "BEGIN", "BEGIN") != 0) {
        return -1;
    }
    res = PQexec(o->pg, CLAIM_SQL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 7) {
        set_error(o, "claiming a mail");
        PQclear(res);
        if (PQstatus(o->pg) != CONNECTION_OK) {
            ta_outbox_close(o);
        }
        else {
            exec_cmd(o, "ROLLBACK", "ROLLBACK");
        }
        return -1;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return exec_cmd(o, "COMMIT", "COMMIT") == 0 ? 0 : -1;
    }
    row->id = apr_atoi64(PQgetvalue(res, 0, 0));
    row->kind = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    row->recipient = apr_pstrdup(p, PQgetvalue(res, 0, 2));
    row->sealed_link = PQgetisnull(res, 0, 3) ? NULL : apr_pstrdup(p, PQgetvalue(res, 0, 3));
    row->created = (apr_time_t)apr_atoi64(PQgetvalue(res, 0, 4));
    row->expires = (apr_time_t)apr_atoi64(PQgetvalue(res, 0, 5));
    row->attempts = atoi(PQgetvalue(res, 0, 6));
    rc = 1;
    PQclear(res);
    return rc;
}

/* Runs an UPDATE of the claimed row with params, then COMMIT. */
static int finish(ta_outbox_t *o, const char *sql, int n, const char *const *params,
                  const char *what)
{
    PGresult *res = PQexecParams(o->pg, sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok) {
        set_error(o, what);
    }
    PQclear(res);
    if (!ok) {
        if (PQstatus(o->pg) != CONNECTION_OK) {
            ta_outbox_close(o);
        }
        else {
            exec_cmd(o, "ROLLBACK", "ROLLBACK");
        }
        return -1;
    }
    return exec_cmd(o, "COMMIT", "COMMIT");
}

int ta_outbox_sent(ta_outbox_t *o, apr_int64_t id)
{
    char idbuf[32];
    const char *params[1];

    apr_snprintf(idbuf, sizeof(idbuf), "%" APR_INT64_T_FMT, id);
    params[0] = idbuf;
    return finish(o, SENT_SQL, 1, params, "marking a mail sent");
}

int ta_outbox_failed(ta_outbox_t *o, apr_int64_t id, apr_interval_time_t retry_in,
                     const char *error)
{
    char idbuf[32], msbuf[32];
    const char *params[3];

    apr_snprintf(idbuf, sizeof(idbuf), "%" APR_INT64_T_FMT, id);
    apr_snprintf(msbuf, sizeof(msbuf), "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_as_msec(retry_in));
    params[0] = idbuf;
    params[1] = error;
    params[2] = msbuf;
    return finish(o, retry_in < 0 ? GIVEUP_SQL : FAILED_SQL, retry_in < 0 ? 2 : 3, params,
                  "marking a mail failed");
}

apr_interval_time_t ta_outbox_next_due(ta_outbox_t *o)
{
    PGresult *res = PQexec(o->pg, NEXT_SQL);
    apr_interval_time_t due = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        due = apr_time_from_msec(apr_atoi64(PQgetvalue(res, 0, 0)));
    }
    else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_error(o, "reading the outbox");
        if (PQstatus(o->pg) != CONNECTION_OK) {
            PQclear(res);
            ta_outbox_close(o);
            return -1;
        }
    }
    PQclear(res);
    return due;
}
