/*
 * store/dbexec.h - between the module's statements and their rows (inside
 * store/ only): store/db.c runs a statement, store/dbrows.c maps its rows.
 */
#ifndef TA_DBEXEC_H
#define TA_DBEXEC_H

#include <httpd.h>
#include <libpq-fe.h>
#include "trpc/error.h"

/* The statements of store/db.c, by number. */
enum { ST_USER_INSERT, ST_USER_CREDENTIALS, ST_USER_BY_ID, ST_TXN_INSERT, ST_TXN_LIST,
       ST_AUDIT_INSERT, ST_USER_HASH, ST_USER_SET_PASSWORD, ST_USER_REHASH, ST__COUNT };

/* Runs statement which with nargs text arguments on the request's pooled
 * connection, recovering once from a reconnected connection (not after a
 * timeout: that would wait again). *res (when res is not NULL) is cleared
 * with r's pool. NULL, or SERVICE_UNAVAILABLE (logged) when it fails. */
ta_error_t *ta_db_run(request_rec *r, int which, PGresult **res, int nargs,
                      const char **args);

#endif
