/*
 * store/outbox.h - the mail_outbox table (sql/003_email.sql) as the delivery
 * process sees it (src/hooks/maild.c).
 *
 * The process lives beside the Apache parent, not in a child, so it has no
 * mod_dbd pool: it keeps one libpq connection of its own per database, made
 * from the same DBDParams, and LISTENs on trpcauth_outbox (the request's
 * transaction NOTIFYs at commit).
 *
 * A row is claimed in a transaction of its own (FOR UPDATE SKIP LOCKED: two
 * servers on one database never send the same row at once), sent, and then
 * marked sent or failed in the same transaction. A process that dies in
 * between leaves the row as it was: it is sent again (at least once).
 */
#ifndef TA_OUTBOX_H
#define TA_OUTBOX_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct ta_outbox ta_outbox_t;

typedef struct {
    apr_int64_t id;
    const char *kind;
    const char *recipient;
    const char *sealed_link;         /* NULL when the row has none */
    apr_time_t created;
    apr_time_t expires;
    int attempts;                    /* before this one */
} ta_outbox_row_t;

ta_outbox_t *ta_outbox_create(apr_pool_t *p, const char *conninfo);

/* Connects (if not connected) and LISTENs. 0, or -1 with ta_outbox_error(). */
int ta_outbox_connect(ta_outbox_t *o);
int ta_outbox_connected(const ta_outbox_t *o);
void ta_outbox_close(ta_outbox_t *o);

/* The last error, one line, without the connection's password (libpq never
 * puts it in its messages). */
const char *ta_outbox_error(const ta_outbox_t *o);

/* The connection's socket, to wait on for notifications; -1 when closed. */
int ta_outbox_socket(const ta_outbox_t *o);

/* Reads what arrived and drops the notifications (they only wake the
 * process): how many there were (a notification that came in during a
 * query waits in libpq's queue, not in the socket), -1 when the connection
 * is lost (and closed). */
int ta_outbox_drain(ta_outbox_t *o);

/* Rows whose link expired unsent are given up: last_error 'expired', the
 * sealed link dropped. The number of rows, or -1. */
int ta_outbox_expire(ta_outbox_t *o);

/* Opens a transaction and claims the oldest due row into *row (strings in
 * p): 1; no row due (transaction closed): 0; -1 on an error. */
int ta_outbox_claim(ta_outbox_t *o, apr_pool_t *p, ta_outbox_row_t *row);

/* Closes the claim's transaction: the row was sent (sent_at, link dropped),
 * or failed (error, attempts + 1, tried again after retry_in; retry_in < 0:
 * never again, the link dropped). 0 or -1. */
int ta_outbox_sent(ta_outbox_t *o, apr_int64_t id);
int ta_outbox_failed(ta_outbox_t *o, apr_int64_t id, apr_interval_time_t retry_in,
                     const char *error);

/* Time until the next row is due (0: now), or -1 when none is pending or on
 * an error. */
apr_interval_time_t ta_outbox_next_due(ta_outbox_t *o);

#endif
