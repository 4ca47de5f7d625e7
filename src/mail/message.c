/*
 * message.c - composing a plain-text mail, the sender and the relay URL
 * (mail/message.h).
 */
#include "mail/message.h"
#include "util/redis_url.h"

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_SMTP  998     /* RFC 5322 2.1.1, without the CRLF */
#define QP_LINE        76      /* RFC 2045 6.7 */
#define WORD_BYTES     45      /* UTF-8 bytes per encoded-word: 60 base64 chars + 12 = 72 <= 75 */

const char *ta_mail_date(apr_pool_t *p, apr_time_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%s, %02d %s %d %02d:%02d:%02d +0000", days[x.tm_wday], x.tm_mday,
                        months[x.tm_mon], x.tm_year + 1900, x.tm_hour, x.tm_min, x.tm_sec);
}

static int printable_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E) {
            return 0;
        }
    }
    return 1;
}

/* Bytes of the UTF-8 character that starts with c (1 for a stray byte). */
static apr_size_t char_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

const char *ta_mail_header_text(apr_pool_t *p, const char *s)
{
    apr_size_t len = strlen(s), at = 0;
    char *out = "";

    if (printable_ascii(s) && strstr(s, "=?") == NULL) {
        return s;
    }
    while (at < len) {
        apr_size_t n = 0, c;
        char *b64;

        /* whole characters only, at most WORD_BYTES */
        while (at + n < len && n + (c = char_len((unsigned char)s[at + n])) <= WORD_BYTES) {
            n += c;
        }
        if (n == 0) {                      /* cannot happen with valid UTF-8 */
            n = len - at < WORD_BYTES ? len - at : WORD_BYTES;
        }
        if (at + n > len) {
            n = len - at;
        }
        b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
        apr_base64_encode(b64, s + at, (int)n);
        out = apr_pstrcat(p, out, *out ? "\r\n " : "", "=?UTF-8?B?", b64, "?=", NULL);
        at += n;
    }
    return out;
}

/* body with CRLF line ends, ending with one; *longest is its longest line,
 * *ascii whether it is all ASCII. */
static char *crlf_body(apr_pool_t *p, const char *body, apr_size_t *longest, int *ascii)
{
    apr_size_t len = strlen(body), i, line = 0;
    char *out = apr_palloc(p, 2 * len + 3), *w = out;

    *longest = 0;
    *ascii = 1;
    for (i = 0; i < len; i++) {
        if (body[i] == '\r' && body[i + 1] == '\n') {
            continue;
        }
        if (body[i] == '\n') {
            *w++ = '\r';
            *w++ = '\n';
            line = 0;
            continue;
        }
        if ((unsigned char)body[i] >= 0x80) {
            *ascii = 0;
        }
        *w++ = body[i];
        if (++line > *longest) {
            *longest = line;
        }
    }
    if (w == out || w[-1] != '\n') {
        *w++ = '\r';
        *w++ = '\n';
    }
    *w = '\0';
    return out;
}

/* Quoted-printable of a CRLF text (RFC 2045 6.7): line ends stay, lines are
 * cut with soft breaks at 76 characters, a space or tab before a line end is
 * encoded. */
static const char *quoted_printable(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t len = strlen(s), i, col = 0;
    char *out = apr_palloc(p, len * 3 + len / 25 * 3 + 3), *w = out;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int at_end = s[i + 1] == '\r' && s[i + 2] == '\n';
        int literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end);
        apr_size_t need = literal ? 1 : 3;

        if (c == '\r' && s[i + 1] == '\n') {
            *w++ = '\r';
            *w++ = '\n';
            i++;
            col = 0;
            continue;
        }
        if (col + need > QP_LINE - 1) {
            *w++ = '=';
            *w++ = '\r';
            *w++ = '\n';
            col = 0;
        }
        if (literal) {
            *w++ = (char)c;
        }
        else {
            *w++ = '=';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
        col += need;
    }
    *w = '\0';
    return out;
}

const char *ta_mail_body_encode(apr_pool_t *p, const char *body, const char **cte)
{
    apr_size_t longest;
    int ascii;
    char *crlf = crlf_body(p, body, &longest, &ascii);

    if (longest > LINE_MAX_SMTP) {
        *cte = "quoted-printable";
        return quoted_printable(p, crlf);
    }
    *cte = ascii ? "7bit" : "8bit";
    return crlf;
}

const char *ta_mail_message_id(apr_pool_t *p, apr_int64_t id, apr_time_t created,
                               const char *domain)
{
    return apr_psprintf(p, "outbox.%" APR_INT64_T_FMT ".%" APR_TIME_T_FMT "@%s", id, created,
                        domain);
}

const char *ta_mail_compose(apr_pool_t *p, const ta_mail_message_t *m)
{
    const char *cte, *body = ta_mail_body_encode(p, m->body, &cte);

    return apr_pstrcat(p,
                       "Date: ", ta_mail_date(p, m->date), "\r\n",
                       "From: ", m->from, "\r\n",
                       "To: ", m->to, "\r\n",
                       "Subject: ", ta_mail_header_text(p, m->subject), "\r\n",
                       "Message-ID: <", m->message_id, ">\r\n",
                       "MIME-Version: 1.0\r\n",
                       "Content-Type: text/plain; charset=UTF-8\r\n",
                       "Content-Transfer-Encoding: ", cte, "\r\n",
                       "Auto-Submitted: auto-generated\r\n",
                       "\r\n",
                       body, NULL);
}

int ta_mail_address_ok(const char *addr)
{
    const char *at = addr ? strchr(addr, '@') : NULL, *c;

    if (at == NULL || at == addr || at[1] == '\0' || strchr(at + 1, '@') != NULL
        || strlen(addr) > 254) {
        return 0;
    }
    for (c = addr; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F || strchr("<>()[],;:\"\\", *c)) {
            return 0;
        }
    }
    return at[1] != '.' && c[-1] != '.';
}

/* A display name as a header phrase: as is when it is plain words, quoted
 * when it holds specials, encoded-words when it is not ASCII. */
static const char *display_name(apr_pool_t *p, const char *name)
{
    const char *c;
    char *q, *w;

    if (!printable_ascii(name) || strstr(name, "=?") != NULL) {
        return ta_mail_header_text(p, name);
    }
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && !strchr(" !#$%&'*+-/=?^_`{|}~", *c)) {
            break;
        }
    }
    if (*c == '\0') {
        return name;
    }
    q = w = apr_palloc(p, strlen(name) * 2 + 3);
    *w++ = '"';
    for (c = name; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *w++ = '\\';
        }
        *w++ = *c;
    }
    *w++ = '"';
    *w = '\0';
    return q;
}

const char *ta_mail_from_parse(apr_pool_t *p, const char *text, const char **addr,
                               const char **header)
{
    const char *lt = strrchr(text, '<');
    char *name, *a;
    apr_size_t n;

    if (strpbrk(text, "\r\n") != NULL) {
        return "must be one line";
    }
    if (lt == NULL) {
        if (!ta_mail_address_ok(text)) {
            return apr_psprintf(p, "'%s' is not an address (user@example.com or "
                                "\"Name <user@example.com>\")", text);
        }
        *addr = *header = text;
        return NULL;
    }
    n = strlen(lt);
    if (n < 3 || lt[n - 1] != '>') {
        return apr_psprintf(p, "'%s': the address must end the value, in <>", text);
    }
    a = apr_pstrmemdup(p, lt + 1, n - 2);
    if (!ta_mail_address_ok(a)) {
        return apr_psprintf(p, "'%s' is not an address", a);
    }
    name = apr_pstrmemdup(p, text, (apr_size_t)(lt - text));
    for (n = strlen(name); n > 0 && apr_isspace(name[n - 1]); n--) {
        name[n - 1] = '\0';
    }
    while (apr_isspace(*name)) name++;
    *addr = a;
    *header = *name ? apr_pstrcat(p, display_name(p, name), " <", a, ">", NULL) : a;
    return NULL;
}

/* %XX-decoding of URL user information; NULL for a bad escape or a NUL. */
static char *pct_decode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *w = out;

    for (; *s; s++) {
        if (*s == '%') {
            if (!apr_isxdigit(s[1]) || !apr_isxdigit(s[2])) {
                return NULL;
            }
            *w = (char)((apr_isdigit(s[1]) ? s[1] - '0' : (apr_tolower(s[1]) - 'a' + 10)) << 4
                        | (apr_isdigit(s[2]) ? s[2] - '0' : (apr_tolower(s[2]) - 'a' + 10)));
            if (*w == '\0') {
                return NULL;
            }
            w++;
            s += 2;
        }
        else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return out;
}

const char *ta_mail_relay_parse(apr_pool_t *p, const char *text, ta_mail_relay_t **out)
{
    ta_mail_relay_t *r = apr_pcalloc(p, sizeof(*r));
    const char *shown = ta_redis_url_redact(p, text);
    const char *scheme, *host, *ehlo = "";
    apr_uri_t u;
    int port;

    if (apr_uri_parse(p, text, &u) != APR_SUCCESS || u.scheme == NULL || u.hostname == NULL
        || *u.hostname == '\0') {
        return apr_psprintf(p, "'%s' is not smtp://[user:password@]host[:port] or smtps://...",
                            shown);
    }
    if (strcasecmp(u.scheme, "smtp") == 0) {
        scheme = "smtp";
        port = 25;
    }
    else if (strcasecmp(u.scheme, "smtps") == 0) {
        scheme = "smtps";
        port = 465;
        r->tls = 1;
    }
    else {
        return apr_psprintf(p, "'%s': the scheme must be smtp or smtps", shown);
    }
    if (u.query || u.fragment) {
        return apr_psprintf(p, "'%s' must not have a query or fragment", shown);
    }
    if (u.path && *u.path && strcmp(u.path, "/") != 0) {
        const char *c;

        for (c = u.path + 1; *c; c++) {
            if (!apr_isalnum(*c) && *c != '-' && *c != '.') {
                return apr_psprintf(p, "'%s': the path can only be a host name (for EHLO)", shown);
            }
        }
        ehlo = u.path;
    }
    if (u.port_str != NULL) {
        char *end;
        long n = strtol(u.port_str, &end, 10);

        if (*u.port_str == '\0' || *end || n < 1 || n > 65535) {
            return apr_psprintf(p, "'%s': bad port", shown);
        }
        port = (int)n;
    }
    if (u.user && *u.user) {
        if ((r->user = pct_decode(p, u.user)) == NULL) {
            return apr_psprintf(p, "'%s': bad %%-escape in the user", shown);
        }
    }
    if (u.password && *u.password) {
        if ((r->password = pct_decode(p, u.password)) == NULL) {
            return apr_psprintf(p, "'%s': bad %%-escape in the password", shown);
        }
        if (r->user == NULL) {
            return apr_psprintf(p, "'%s': a password needs a user name", shown);
        }
    }
    host = strchr(u.hostname, ':') ? apr_pstrcat(p, "[", u.hostname, "]", NULL) : u.hostname;
    r->url = apr_psprintf(p, "%s://%s:%d%s", scheme, host, port, ehlo);
    r->redacted = apr_psprintf(p, "%s://%s%s%s%s:%d%s", scheme, r->user ? u.user : "",
                               r->password ? ":***" : "", r->user ? "@" : "", host, port, ehlo);
    *out = r;
    return NULL;
}
