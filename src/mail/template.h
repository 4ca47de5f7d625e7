/*
 * mail/template.h - the texts of the module's mails (TrpcAuthMailTemplate),
 * httpd-free.
 *
 * A template is plain UTF-8 text. Its first line is the Subject (a leading
 * "Subject:" is allowed and dropped); the blank lines right after it are
 * skipped; the rest is the body. Three placeholders are replaced when a mail
 * is made:
 *
 *   {{link}}     the link with the token (the body must hold it; the Subject
 *                must not: subjects are logged by relays and shown in lists)
 *   {{email}}    the recipient's address
 *   {{expires}}  when the link stops working ("Sun, 06 Dec 2026 07:25 UTC")
 *
 * Any other {{...}} is an error, so a typo shows at `apachectl configtest`
 * instead of in a user's mailbox.
 */
#ifndef TA_MAIL_TEMPLATE_H
#define TA_MAIL_TEMPLATE_H

#include <apr_pools.h>
#include <apr_time.h>

/* The kinds of mail, as named in mail_outbox.kind and TrpcAuthMailTemplate. */
typedef enum {
    TA_MAIL_VERIFY_EMAIL = 0,
    TA_MAIL_RESET_PASSWORD,
    TA_MAIL__COUNT
} ta_mail_kind_t;

#define TA_MAIL_TEMPLATE_MAX (64 * 1024)

typedef struct {
    const char *subject;             /* UTF-8, one line, placeholders unreplaced */
    const char *body;                /* UTF-8, '\n' line ends, placeholders unreplaced */
} ta_mail_template_t;

typedef struct {
    const char *link;
    const char *email;
    apr_time_t expires;
} ta_mail_vars_t;

/* "verify-email" -> TA_MAIL_VERIFY_EMAIL; -1 for an unknown name. */
int ta_mail_kind_from_name(const char *name);
const char *ta_mail_kind_name(ta_mail_kind_t kind);

/* Parses the len bytes of text into *out. NULL, or an error message for the
 * administrator (without the text itself). CRLF line ends are accepted. */
const char *ta_mail_template_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                   ta_mail_template_t *out);

/* The template shipped for kind (the same text as conf/mail/<kind>.txt). */
const ta_mail_template_t *ta_mail_template_default(apr_pool_t *p, ta_mail_kind_t kind);
const char *ta_mail_template_default_text(ta_mail_kind_t kind);

/* The subject and body of t with the placeholders replaced. -1 when a value
 * could break the message (a line break or a NUL in the link or address). */
int ta_mail_render(apr_pool_t *p, const ta_mail_template_t *t, const ta_mail_vars_t *v,
                   const char **subject, const char **body);

/* "Sun, 06 Dec 2026 07:25 UTC": how {{expires}} reads. */
const char *ta_mail_expires_text(apr_pool_t *p, apr_time_t t);

#endif
