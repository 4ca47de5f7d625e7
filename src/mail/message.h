/*
 * mail/message.h - an RFC 5322 message of plain UTF-8 text, the sender
 * (TrpcAuthMailFrom) and the relay (TrpcAuthMailRelay), httpd-free.
 *
 * The message has CRLF line ends; SMTP's dot-stuffing is left to the SMTP
 * client (libcurl does it). Headers: Date (RFC 5322), From, To, Subject
 * (RFC 2047 encoded-words when it is not ASCII), Message-ID, MIME-Version,
 * Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding (7bit,
 * 8bit, or quoted-printable when a line is longer than SMTP allows),
 * Auto-Submitted: auto-generated.
 */
#ifndef TA_MAIL_MESSAGE_H
#define TA_MAIL_MESSAGE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    const char *from;          /* the From header's value (TrpcAuthMailFrom, checked) */
    const char *to;            /* an address (ta_mail_address_ok) */
    const char *subject;       /* UTF-8, one line */
    const char *body;          /* UTF-8, '\n' line ends */
    apr_time_t date;
    const char *message_id;    /* without the angle brackets */
} ta_mail_message_t;

/* The whole message. */
const char *ta_mail_compose(apr_pool_t *p, const ta_mail_message_t *m);

/* "Sat, 05 Dec 2026 06:25:02 +0000" */
const char *ta_mail_date(apr_pool_t *p, apr_time_t t);

/* s as a header value: itself when it is printable ASCII, otherwise RFC 2047
 * encoded-words (=?UTF-8?B?...?=, each at most 75 characters, never splitting
 * a character), folded onto continuation lines. */
const char *ta_mail_header_text(apr_pool_t *p, const char *s);

/* The body as the transfer encoding of *cte needs it ("7bit", "8bit" or
 * "quoted-printable"), with CRLF line ends. */
const char *ta_mail_body_encode(apr_pool_t *p, const char *body, const char **cte);

/* A stable Message-ID for outbox row id made at created (so a retry of the
 * row is recognisably the same message): outbox.<id>.<created>@<domain>. */
const char *ta_mail_message_id(apr_pool_t *p, apr_int64_t id, apr_time_t created,
                               const char *domain);

/* 1 when addr is a plain ASCII address local@domain that can stand in an
 * SMTP envelope and a header: no space, no control character, no <>(),;:"
 * and exactly one '@' with something on both sides. */
int ta_mail_address_ok(const char *addr);

/* TrpcAuthMailFrom: "addr@host" or "Display Name <addr@host>" (the name in
 * UTF-8). Fills the address (the envelope sender) and the From header's
 * value. NULL or an error message. */
const char *ta_mail_from_parse(apr_pool_t *p, const char *text, const char **addr,
                               const char **header);

/* TrpcAuthMailRelay: smtp://[user[:password]@]host[:port][/ehlo-name] (port
 * 25, STARTTLS when the relay offers it; required when there is a password)
 * or smtps://... (port 465, TLS from the start). User and password are
 * percent-decoded; the optional path is the name the client greets the relay
 * with (EHLO; libcurl's default otherwise). */
typedef struct {
    const char *url;           /* for libcurl, without the credentials */
    const char *user;          /* NULL: no AUTH */
    const char *password;
    int tls;                   /* smtps:// */
    const char *redacted;      /* for logs: the password as "***" */
} ta_mail_relay_t;

const char *ta_mail_relay_parse(apr_pool_t *p, const char *text, ta_mail_relay_t **out);

#endif
