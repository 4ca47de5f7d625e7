/*
 * template.c - parsing and rendering of mail templates (mail/template.h).
 */
#include "mail/template.h"
#include "mail/message.h"

#include <apr_strings.h>
#include <apr_lib.h>

#include <string.h>
#include <time.h>

static const char *const kind_names[TA_MAIL__COUNT] = {
    "verify-email", "reset-password",
};

/* The shipped texts: test/unit/test_mail.c checks that conf/mail/<kind>.txt
 * holds exactly these. */
static const char *const default_texts[TA_MAIL__COUNT] = {
    "Subject: Confirm your email address\n"
    "\n"
    "Hello,\n"
    "\n"
    "please confirm that {{email}} is your email address by opening this link:\n"
    "\n"
    "{{link}}\n"
    "\n"
    "The link works until {{expires}}. If you did not create an account, ignore\n"
    "this message: nothing happens without the link.\n",

    "Subject: Reset your password\n"
    "\n"
    "Hello,\n"
    "\n"
    "someone (we hope you) asked to reset the password of the account {{email}}.\n"
    "To choose a new password, open this link:\n"
    "\n"
    "{{link}}\n"
    "\n"
    "The link works once, until {{expires}}. If you did not ask for this, ignore\n"
    "this message: your password stays as it is.\n",
};

int ta_mail_kind_from_name(const char *name)
{
    int i;

    for (i = 0; i < TA_MAIL__COUNT; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const char *ta_mail_kind_name(ta_mail_kind_t kind)
{
    return kind_names[kind];
}

const char *ta_mail_template_default_text(ta_mail_kind_t kind)
{
    return default_texts[kind];
}

const ta_mail_template_t *ta_mail_template_default(apr_pool_t *p, ta_mail_kind_t kind)
{
    ta_mail_template_t *t = apr_pcalloc(p, sizeof(*t));
    const char *text = default_texts[kind];

    return ta_mail_template_parse(p, text, strlen(text), t) == NULL ? t : NULL;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static apr_size_t utf8_len(const unsigned char *s, apr_size_t n)
{
    unsigned c = s[0], len, min, cp, i;

    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Every placeholder of s[0..n) is a known one; *has_link says whether
 * {{link}} is among them. NULL or an error message. */
static const char *check_placeholders(apr_pool_t *p, const char *s, apr_size_t n,
                                      int *has_link)
{
    const char *end = s + n, *open;

    *has_link = 0;
    while ((open = memchr(s, '{', (apr_size_t)(end - s))) != NULL) {
        const char *close;
        apr_size_t len;

        if (open + 1 >= end || open[1] != '{') {
            s = open + 1;
            continue;
        }
        close = open + 2;
        while (close + 1 < end && !(close[0] == '}' && close[1] == '}') && *close != '\n') {
            close++;
        }
        if (close + 1 >= end || *close == '\n') {
            return "a '{{' without its '}}'";
        }
        len = (apr_size_t)(close - open - 2);
        if (len == 4 && memcmp(open + 2, "link", 4) == 0) {
            *has_link = 1;
        }
        else if (!((len == 5 && memcmp(open + 2, "email", 5) == 0)
                   || (len == 7 && memcmp(open + 2, "expires", 7) == 0))) {
            return apr_psprintf(p, "unknown placeholder {{%.*s}} (known: {{link}}, {{email}}, "
                                "{{expires}})", (int)(len > 40 ? 40 : len), open + 2);
        }
        s = close + 2;
    }
    return NULL;
}

const char *ta_mail_template_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                   ta_mail_template_t *out)
{
    char *buf = apr_palloc(p, len + 1), *w = buf, *nl, *subject, *body;
    apr_size_t i, n;
    const char *err;
    int link;

    if (len > TA_MAIL_TEMPLATE_MAX) {
        return "longer than 64 KB";
    }
    /* Valid UTF-8, no control characters but tab and line ends (CRLF -> LF). */
    for (i = 0; i < len; i += n) {
        unsigned char c = (unsigned char)text[i];

        if ((n = utf8_len((const unsigned char *)text + i, len - i)) == 0) {
            return apr_psprintf(p, "not UTF-8 (byte %" APR_SIZE_T_FMT ")", i);
        }
        if (c == '\r' && i + 1 < len && text[i + 1] == '\n') {
            continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
            return apr_psprintf(p, "a control character at byte %" APR_SIZE_T_FMT, i);
        }
        memcpy(w, text + i, n);
        w += n;
    }
    *w = '\0';

    subject = buf;
    if ((nl = strchr(buf, '\n')) == NULL) {
        return "no body: the first line is the Subject, the lines after it the text";
    }
    *nl = '\0';
    if (strncasecmp(subject, "Subject:", 8) == 0) {
        subject += 8;
    }
    while (*subject == ' ' || *subject == '\t') subject++;
    for (i = strlen(subject); i > 0 && (subject[i - 1] == ' ' || subject[i - 1] == '\t'); i--) {
        subject[i - 1] = '\0';
    }
    if (*subject == '\0') {
        return "the first line (the Subject) is empty";
    }
    if (strlen(subject) > 200) {
        return "the Subject (first line) is longer than 200 bytes";
    }
    for (body = nl + 1; *body == '\n'; body++)
        ;
    if ((err = check_placeholders(p, subject, strlen(subject), &link)) != NULL) {
        return apr_pstrcat(p, "Subject: ", err, NULL);
    }
    if (link) {
        return "the Subject must not hold {{link}} (relays log subjects)";
    }
    if ((err = check_placeholders(p, body, strlen(body), &link)) != NULL) {
        return err;
    }
    if (!link) {
        return "the text has no {{link}}";
    }
    out->subject = subject;
    out->body = body;
    return NULL;
}

const char *ta_mail_expires_text(apr_pool_t *p, apr_time_t t)
{
    /* The Date header's text without seconds and zone: "Sat, 05 Dec 2026 11:05"
     * is its first 22 characters (fixed width for years 1000-9999). */
    return apr_psprintf(p, "%.22s UTC", ta_mail_date(p, t));
}

/* tpl with its placeholders replaced (tpl was checked by the parser). */
static const char *fill(apr_pool_t *p, const char *tpl, const char *link, const char *email,
                        const char *expires)
{
    struct iovec parts[64];
    const char *s = tpl, *open;
    char *res = "";
    int n = 0;

    while ((open = strstr(s, "{{")) != NULL) {
        const char *value = NULL;
        apr_size_t skip = 0;

        if (strncmp(open, "{{link}}", 8) == 0)         { value = link; skip = 8; }
        else if (strncmp(open, "{{email}}", 9) == 0)   { value = email; skip = 9; }
        else if (strncmp(open, "{{expires}}", 11) == 0) { value = expires; skip = 11; }
        if (value == NULL) {
            open += 2;
            parts[n].iov_base = (void *)s;
            parts[n++].iov_len = (apr_size_t)(open - s);
            s = open;
        }
        else {
            parts[n].iov_base = (void *)s;
            parts[n++].iov_len = (apr_size_t)(open - s);
            parts[n].iov_base = (void *)value;
            parts[n++].iov_len = strlen(value);
            s = open + skip;
        }
        if (n >= 62) {
            /* flush, so a template with many placeholders needs no big array */
            res = apr_pstrcat(p, res, apr_pstrcatv(p, parts, n, NULL), NULL);
            n = 0;
        }
    }
    parts[n].iov_base = (void *)s;
    parts[n++].iov_len = strlen(s);
    return apr_pstrcat(p, res, apr_pstrcatv(p, parts, n, NULL), NULL);
}

static int one_line(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") == NULL;
}

int ta_mail_render(apr_pool_t *p, const ta_mail_template_t *t, const ta_mail_vars_t *v,
                   const char **subject, const char **body)
{
    const char *expires;

    if (!one_line(v->link) || !one_line(v->email)) {
        return -1;
    }
    expires = ta_mail_expires_text(p, v->expires);
    *subject = fill(p, t->subject, v->link, v->email, expires);
    *body = fill(p, t->body, v->link, v->email, expires);
    return 0;
}
