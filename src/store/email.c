/*
 * email.c - verification and reset tokens and the mail outbox (see
 * store/email.h). Each operation is one statement, hence one transaction
 * (data-modifying WITH clauses all commit or none does).
 */
#include "store/email.h"
#include "store/db.h"

#include <apr_strings.h>

/* Arguments are listed in the order of their %s / %d in the text. */
static const ta_db_stmt_t st_issue = { "trpcauth_email_issue",
    "WITH u AS ("
    "  SELECT id, email FROM users"
    "  WHERE email = %s"                                           /* 1 address */
    "    AND (%d IS NULL OR id = %d)"                              /* 2, 3 user id or NULL */
    "    AND (%s = 'reset-password' OR NOT coalesce(email_verified, false))"   /* 4 kind */
    "), old AS ("
    /* A new reset link ends the ones sent before it. */
    "  UPDATE email_tokens SET used_at = now()"
    "  WHERE user_id IN (SELECT id FROM u) AND kind = 'reset-password' AND used_at IS NULL"
    "    AND %s = 'reset-password'"                                /* 5 kind */
    "), tok AS ("
    "  INSERT INTO email_tokens (token_hash, user_id, kind, email, expires_at)"
    "  SELECT %s, id, %s, email, now() + make_interval(secs => %d) FROM u"   /* 6 hash, 7 kind, 8 ttl */
    "  RETURNING email, expires_at"
    "), box AS ("
    "  INSERT INTO mail_outbox (kind, recipient, sealed_link, expires_at)"
    "  SELECT %s, email, %s, expires_at FROM tok"                  /* 9 kind, 10 sealed link */
    "  RETURNING id"
    "), ev AS ("
    /* Written whether or not a user has the address: both cases write, so
     * both wait for the same commit. */
    "  INSERT INTO auth_events (event, user_id, ip, user_agent, detail)"
    "  SELECT %s, coalesce((SELECT id FROM u), %d), %s, %s, %s::jsonb"   /* 11 event, 12 uid, 13 ip, 14 ua, 15 detail */
    "  WHERE %s IS NOT NULL"                                       /* 16 event */
    ")"
    /* The delivery process LISTENs; the notification leaves at commit. */
    " SELECT id, pg_notify('trpcauth_outbox', id::text) FROM box" };

static const ta_db_stmt_t st_valid = { "trpcauth_email_token_valid",
    "SELECT user_id FROM email_tokens WHERE token_hash = %s AND kind = %s"
    " AND used_at IS NULL AND expires_at > now()" };

/* The token is marked used in the same statement that uses it: a second
 * request with the same token waits for the first one's row lock, then finds
 * used_at set and changes nothing. */
static const ta_db_stmt_t st_verify = { "trpcauth_email_verify",
    "WITH t AS ("
    "  UPDATE email_tokens SET used_at = now()"
    "  WHERE token_hash = %s AND kind = 'verify-email' AND used_at IS NULL AND expires_at > now()"
    "  RETURNING user_id, email"
    ") UPDATE users u SET email_verified = true, updated_at = now()"
    " FROM t WHERE u.id = t.user_id AND u.email = t.email RETURNING u.id" };

static const ta_db_stmt_t st_reset = { "trpcauth_email_reset",
    "WITH t AS ("
    "  UPDATE email_tokens SET used_at = now()"
    "  WHERE token_hash = %s AND kind = 'reset-password' AND used_at IS NULL"
    "    AND expires_at > now()"
    "  RETURNING user_id, email"
    ") UPDATE users u SET password = %s, email_verified = true, updated_at = now()"
    " FROM t WHERE u.id = t.user_id AND u.email = t.email RETURNING u.id" };

void ta_email_prepare_statements(server_rec *s)
{
    ta_db_prepare(s, &st_issue);
    ta_db_prepare(s, &st_valid);
    ta_db_prepare(s, &st_verify);
    ta_db_prepare(s, &st_reset);
}

ta_error_t *ta_email_issue(request_rec *r, const ta_email_issue_t *q, int *queued)
{
    const char *kind = ta_conf_mail_kind_name(q->kind);
    const char *ttl = apr_itoa(r->pool, q->ttl);
    const char *args[16] = {
        q->email, q->user_id, q->user_id, kind,
        kind,
        q->token_hash, kind, ttl,
        kind, q->sealed_link,
        q->audit_event, q->user_id, q->audit_ip, q->audit_agent,
        q->audit_detail ? q->audit_detail : "{}", q->audit_event
    };
    json_t *rows;
    ta_error_t *e = ta_db_query(r, &st_issue, 16, args, &rows);

    *queued = e == NULL && json_array_size(rows) > 0;
    return e;
}

/* The first column of the first row (a user id), or NULL. */
static const char *first_id(request_rec *r, json_t *rows)
{
    const char *id = json_string_value(json_array_get(json_array_get(rows, 0), 0));
    return id ? apr_pstrdup(r->pool, id) : NULL;
}

ta_error_t *ta_email_token_user(request_rec *r, ta_mail_kind_t kind, const char *token_hash,
                                const char **user_id)
{
    const char *args[2] = { token_hash, ta_conf_mail_kind_name(kind) };
    json_t *rows;
    ta_error_t *e = ta_db_query(r, &st_valid, 2, args, &rows);

    *user_id = e ? NULL : first_id(r, rows);
    return e;
}

ta_error_t *ta_email_verify(request_rec *r, const char *token_hash, const char **user_id)
{
    const char *args[1] = { token_hash };
    json_t *rows;
    ta_error_t *e = ta_db_query(r, &st_verify, 1, args, &rows);

    *user_id = e ? NULL : first_id(r, rows);
    return e;
}

ta_error_t *ta_email_reset(request_rec *r, const char *token_hash, const char *password_hash,
                           const char **user_id)
{
    const char *args[2] = { token_hash, password_hash };
    json_t *rows;
    ta_error_t *e = ta_db_query(r, &st_reset, 2, args, &rows);

    *user_id = e ? NULL : first_id(r, rows);
    return e;
}
