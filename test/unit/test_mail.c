/*
 * test_mail.c - the mail the delivery process sends (src/mail/): templates
 * (what is refused, how placeholders are filled), headers (Date, RFC 2047
 * subjects, From with a display name), the body's transfer encoding, the
 * relay URL (never showing its password) and the shipped default texts.
 */
#include "unit.h"
#include "mail/message.h"
#include "mail/template.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ templates */

static const struct {
    const char *text;
    const char *subject;        /* NULL: refused */
    const char *body;           /* or the start of the error */
} templates[] = {
    { "Hello\n\n{{link}}\n", "Hello", "{{link}}\n" },
    { "Subject: Hi {{email}}\n\n\nGo: {{link}} until {{expires}}\n", "Hi {{email}}",
      "Go: {{link}} until {{expires}}\n" },
    { "subject:   Spaces  \r\nLine {{link}}\r\n", "Spaces", "Line {{link}}\n" },
    { "Grüße – 日本\n{{link}}", "Grüße – 日本", "{{link}}" },
    { "Single braces { } are text\n{ {{link}} }\n", "Single braces { } are text",
      "{ {{link}} }\n" },
    { "No body", NULL, "no body" },
    { "\n{{link}}\n", NULL, "the first line (the Subject) is empty" },
    { "Subject:\n{{link}}\n", NULL, "the first line (the Subject) is empty" },
    { "Hi\nno link here\n", NULL, "the text has no {{link}}" },
    { "Your {{link}}\n{{link}}\n", NULL, "the Subject must not hold {{link}}" },
    { "Hi\n{{link}} {{token}}\n", NULL, "unknown placeholder {{token}}" },
    { "Hi {{name}}\n{{link}}\n", NULL, "Subject: unknown placeholder {{name}}" },
    { "Hi\n{{link}} {{email\n", NULL, "a '{{' without its '}}'" },
    { "Hi\n{{link}}\xff\n", NULL, "not UTF-8" },
    { "Hi\n{{link}}\xc0\xaf\n", NULL, "not UTF-8" },           /* overlong '/' */
    { "Hi\n{{link}}\xed\xa0\x80\n", NULL, "not UTF-8" },       /* a surrogate */
    { "Hi\n{{link}}\x1b[31m\n", NULL, "a control character" },
    { "Hi\rBcc: x@y\n{{link}}\n", NULL, "a control character" },
};

START_TEST(templates_parse_or_are_refused)
{
    ta_mail_template_t t = { NULL, NULL };
    const char *err = ta_mail_template_parse(pool, templates[_i].text,
                                             strlen(templates[_i].text), &t);

    if (templates[_i].subject) {
        ck_assert_msg(err == NULL, "%s: %s", templates[_i].text, err);
        ck_assert_str_eq(t.subject, templates[_i].subject);
        ck_assert_str_eq(t.body, templates[_i].body);
    }
    else {
        ck_assert_msg(err != NULL, "accepted: %s", templates[_i].text);
        ck_assert_msg(strncmp(err, templates[_i].body, strlen(templates[_i].body)) == 0,
                      "error '%s', expected '%s'", err, templates[_i].body);
    }
}
END_TEST

START_TEST(a_template_with_a_nul_is_refused)
{
    ta_mail_template_t t;
    static const char text[] = "Hi\n{{link}}\0 more\n";

    ck_assert_ptr_nonnull(ta_mail_template_parse(pool, text, sizeof(text) - 1, &t));
}
END_TEST

START_TEST(render_fills_every_placeholder)
{
    ta_mail_template_t t;
    ta_mail_vars_t v = { "https://app.test/verify#token=abc", "ann@example.com",
                         apr_time_from_sec(1796541900) };   /* 2026-12-06 07:25 UTC */
    const char *subject, *body, *text = "For {{email}}\n{{link}}\n{{link}} {{email}} {{expires}}\n";

    ck_assert_ptr_null(ta_mail_template_parse(pool, text, strlen(text), &t));
    ck_assert_int_eq(ta_mail_render(pool, &t, &v, &subject, &body), 0);
    ck_assert_str_eq(subject, "For ann@example.com");
    ck_assert_str_eq(body, "https://app.test/verify#token=abc\nhttps://app.test/verify#token=abc "
                           "ann@example.com Sun, 06 Dec 2026 07:25 UTC\n");
}
END_TEST

START_TEST(render_refuses_values_that_would_add_lines)
{
    const ta_mail_template_t *t = ta_mail_template_default(pool, TA_MAIL_VERIFY_EMAIL);
    ta_mail_vars_t v = { "https://x/#token=a", "a@b.c\r\nBcc: evil@x", 0 };
    const char *s, *b;

    ck_assert_int_eq(ta_mail_render(pool, t, &v, &s, &b), -1);
    v.email = "a@b.c";
    v.link = "https://x/\n#token=a";
    ck_assert_int_eq(ta_mail_render(pool, t, &v, &s, &b), -1);
    v.link = NULL;
    ck_assert_int_eq(ta_mail_render(pool, t, &v, &s, &b), -1);
}
END_TEST

/* conf/mail/<kind>.txt, which the package installs for editing, is the text
 * compiled in as the default (the unit tests run from the top of the tree). */
START_TEST(shipped_files_equal_the_compiled_in_defaults)
{
    ta_mail_kind_t k = (ta_mail_kind_t)_i;
    char path[256], buf[TA_MAIL_TEMPLATE_MAX];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "conf/mail/%s.txt", ta_mail_kind_name(k));
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, ta_mail_template_default_text(k));
    ck_assert_ptr_nonnull(ta_mail_template_default(pool, k));
    ck_assert_int_eq(ta_mail_kind_from_name(ta_mail_kind_name(k)), (int)k);
}
END_TEST

START_TEST(kinds_by_name)
{
    ck_assert_int_eq(ta_mail_kind_from_name("verify-email"), TA_MAIL_VERIFY_EMAIL);
    ck_assert_int_eq(ta_mail_kind_from_name("reset-password"), TA_MAIL_RESET_PASSWORD);
    ck_assert_int_eq(ta_mail_kind_from_name("Verify-Email"), -1);
    ck_assert_int_eq(ta_mail_kind_from_name(""), -1);
}
END_TEST

/* ------------------------------------------------------------ headers */

START_TEST(date_is_rfc5322_in_utc)
{
    ck_assert_str_eq(ta_mail_date(pool, apr_time_from_sec(1796538302)),
                     "Sun, 06 Dec 2026 06:25:02 +0000");
    ck_assert_str_eq(ta_mail_date(pool, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
    ck_assert_str_eq(ta_mail_expires_text(pool, apr_time_from_sec(1796538302)),
                     "Sun, 06 Dec 2026 06:25 UTC");
    ck_assert_str_eq(ta_mail_expires_text(pool, 0), "Thu, 01 Jan 1970 00:00 UTC");
}
END_TEST

/* Decodes a header of B encoded-words back to UTF-8 (test helper). */
static const char *decode_words(const char *h)
{
    char *out = apr_pcalloc(pool, strlen(h) + 1), *w = out;
    const char *s = h;

    while ((s = strstr(s, "=?UTF-8?B?")) != NULL) {
        const char *e = strstr(s + 10, "?=");
        char *b64 = apr_pstrmemdup(pool, s + 10, (apr_size_t)(e - s - 10));
        ck_assert_int_le(e + 2 - s, 75);
        w += apr_base64_decode(w, b64);
        s = e + 2;
    }
    *w = '\0';
    return out;
}

static const char *const subjects[] = {
    "Confirm your email address",
    "Bestätigen Sie Ihre E-Mail-Adresse",
    "メールアドレスを確認してください。リンクは二十四時間有効です。ありがとうございます。",
    "Emoji 🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
    "Looks encoded =?UTF-8?B?eA==?= but is text",
};

START_TEST(subjects_are_ascii_or_encoded_words)
{
    const char *s = subjects[_i], *h = ta_mail_header_text(pool, s);
    const unsigned char *c;

    for (c = (const unsigned char *)h; *c; c++) {
        ck_assert_msg(*c < 0x80, "non-ASCII in header: %s", h);
    }
    if (_i == 0) {
        ck_assert_str_eq(h, s);
    }
    else {
        ck_assert_str_eq(decode_words(h), s);
        /* folded onto continuation lines, each starting with a space */
        ck_assert_ptr_null(strstr(h, "\r\n=?"));
    }
}
END_TEST

static const struct {
    const char *text, *addr, *header;   /* header NULL: refused */
} froms[] = {
    { "noreply@example.com", "noreply@example.com", "noreply@example.com" },
    { "Finance Tracker <noreply@example.com>", "noreply@example.com",
      "Finance Tracker <noreply@example.com>" },
    { "  Spaced   <a@b.c>", "a@b.c", "Spaced <a@b.c>" },
    { "<a@b.c>", "a@b.c", "a@b.c" },
    { "Smith, John <a@b.c>", "a@b.c", "\"Smith, John\" <a@b.c>" },
    { "Say \"hi\" <a@b.c>", "a@b.c", "\"Say \\\"hi\\\"\" <a@b.c>" },
    { "Zoë <a@b.c>", "a@b.c", "=?UTF-8?B?Wm/Dqw==?= <a@b.c>" },
    { "no-at-sign", NULL, NULL },
    { "a@b.c\r\nBcc: x@y", NULL, NULL },
    { "Name <a@b.c", NULL, NULL },
    { "Name <a b@c.d>", NULL, NULL },
    { "Name <a@b.c> trailing", NULL, NULL },
};

START_TEST(from_values)
{
    const char *addr = NULL, *header = NULL;
    const char *err = ta_mail_from_parse(pool, froms[_i].text, &addr, &header);

    if (froms[_i].header) {
        ck_assert_msg(err == NULL, "%s: %s", froms[_i].text, err);
        ck_assert_str_eq(addr, froms[_i].addr);
        ck_assert_str_eq(header, froms[_i].header);
    }
    else {
        ck_assert_msg(err != NULL, "accepted: %s", froms[_i].text);
    }
}
END_TEST

static const struct {
    const char *addr;
    int ok;
} addrs[] = {
    { "ann@example.com", 1 }, { "a.b+tag@sub.example.co", 1 }, { "x@y", 1 },
    { "", 0 }, { "@example.com", 0 }, { "ann@", 0 }, { "a@b@c", 0 }, { "a b@c", 0 },
    { "a@b.c\r\n", 0 }, { "<a@b.c>", 0 }, { "zoë@example.com", 0 }, { "a@.b", 0 },
    { "a@b.", 0 }, { "a,b@c", 0 },
};

START_TEST(addresses)
{
    ck_assert_msg(ta_mail_address_ok(addrs[_i].addr) == addrs[_i].ok, "%s", addrs[_i].addr);
}
END_TEST

/* ------------------------------------------------------------ bodies */

START_TEST(body_transfer_encodings)
{
    const char *cte, *b;
    char *long_line = apr_pcalloc(pool, 1200), *qp_line;
    apr_size_t i;

    b = ta_mail_body_encode(pool, "plain\nascii", &cte);
    ck_assert_str_eq(cte, "7bit");
    ck_assert_str_eq(b, "plain\r\nascii\r\n");

    b = ta_mail_body_encode(pool, "Grüße\r\nzurück\n", &cte);
    ck_assert_str_eq(cte, "8bit");
    ck_assert_str_eq(b, "Grüße\r\nzurück\r\n");

    /* a line longer than SMTP allows: quoted-printable, no line over 76 */
    memset(long_line, 'a', 1100);
    memcpy(long_line + 500, "= \xc3\xa9 ", 5);
    b = ta_mail_body_encode(pool, apr_pstrcat(pool, long_line, " \nend", NULL), &cte);
    ck_assert_str_eq(cte, "quoted-printable");
    for (qp_line = (char *)b; *qp_line; ) {
        char *nl = strstr(qp_line, "\r\n");
        ck_assert_ptr_nonnull(nl);
        ck_assert_int_le(nl - qp_line, 76);
        qp_line = nl + 2;
    }
    ck_assert_ptr_nonnull(strstr(b, "=3D"));
    ck_assert_ptr_nonnull(strstr(b, "=C3=A9"));
    ck_assert_ptr_nonnull(strstr(b, "=20\r\nend\r\n"));   /* a space before a line end */
    for (i = 0; b[i]; i++) {
        ck_assert_int_lt((unsigned char)b[i], 0x80);
    }
}
END_TEST

START_TEST(compose_has_every_header_and_crlf)
{
    ta_mail_message_t m = {
        .from = "Finance Tracker <noreply@example.com>", .to = "ann@example.com",
        .subject = "Bestätigen", .body = "Line 1\nhttps://app.test/#token=abc\n",
        .date = apr_time_from_sec(1796538302),
        .message_id = ta_mail_message_id(pool, 42, APR_INT64_C(1796538302123456), "example.com"),
    };
    const char *msg = ta_mail_compose(pool, &m), *c;

    ck_assert_str_eq(m.message_id, "outbox.42.1796538302123456@example.com");
    ck_assert_str_eq(msg,
        "Date: Sun, 06 Dec 2026 06:25:02 +0000\r\n"
        "From: Finance Tracker <noreply@example.com>\r\n"
        "To: ann@example.com\r\n"
        "Subject: =?UTF-8?B?QmVzdMOkdGlnZW4=?=\r\n"
        "Message-ID: <outbox.42.1796538302123456@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "\r\n"
        "Line 1\r\nhttps://app.test/#token=abc\r\n");
    for (c = msg; (c = strchr(c, '\n')) != NULL; c++) {
        ck_assert_int_eq(c[-1], '\r');
    }
}
END_TEST

/* ------------------------------------------------------------ relay URLs */

static const struct {
    const char *text;
    const char *url, *user, *password, *redacted;   /* url NULL: refused */
    int tls;
} relays[] = {
    { "smtp://127.0.0.1:55025", "smtp://127.0.0.1:55025", NULL, NULL, "smtp://127.0.0.1:55025", 0 },
    { "smtp://mail.example.com", "smtp://mail.example.com:25", NULL, NULL,
      "smtp://mail.example.com:25", 0 },
    { "SMTPS://mail.example.com/", "smtps://mail.example.com:465", NULL, NULL,
      "smtps://mail.example.com:465", 1 },
    { "smtp://app:S3cret@relay:587", "smtp://relay:587", "app", "S3cret",
      "smtp://app:***@relay:587", 0 },
    { "smtps://a%40b:p%40ss%3Aw@relay", "smtps://relay:465", "a@b", "p@ss:w",
      "smtps://a%40b:***@relay:465", 1 },
    { "smtp://[::1]:2525", "smtp://[::1]:2525", NULL, NULL, "smtp://[::1]:2525", 0 },
    { "smtp://user@relay", "smtp://relay:25", "user", NULL, "smtp://user@relay:25", 0 },
    { "http://relay", NULL, NULL, NULL, NULL, 0 },
    { "smtp://", NULL, NULL, NULL, NULL, 0 },
    { "relay:25", NULL, NULL, NULL, NULL, 0 },
    { "smtp://relay:0", NULL, NULL, NULL, NULL, 0 },
    { "smtp://relay:99999", NULL, NULL, NULL, NULL, 0 },
    { "smtp://relay/app.example.com", "smtp://relay:25/app.example.com", NULL, NULL,
      "smtp://relay:25/app.example.com", 0 },
    { "smtp://relay/a/b", NULL, NULL, NULL, NULL, 0 },
    { "smtp://relay/a%0d%0aQUIT", NULL, NULL, NULL, NULL, 0 },
    { "smtp://relay?x=1", NULL, NULL, NULL, NULL, 0 },
    { "smtp://:S3cret@relay", NULL, NULL, NULL, NULL, 0 },
    { "smtp://u:S3cret%zz@relay", NULL, NULL, NULL, NULL, 0 },
    { "smtp://u:S3cret@relay:bad", NULL, NULL, NULL, NULL, 0 },
};

START_TEST(relay_urls)
{
    ta_mail_relay_t *r = NULL;
    const char *err = ta_mail_relay_parse(pool, relays[_i].text, &r);

    if (relays[_i].url) {
        ck_assert_msg(err == NULL, "%s: %s", relays[_i].text, err);
        ck_assert_str_eq(r->url, relays[_i].url);
        ck_assert_str_eq(r->redacted, relays[_i].redacted);
        if (relays[_i].user) ck_assert_str_eq(r->user, relays[_i].user);
        else ck_assert_ptr_null(r->user);
        if (relays[_i].password) ck_assert_str_eq(r->password, relays[_i].password);
        else ck_assert_ptr_null(r->password);
        ck_assert_int_eq(r->tls, relays[_i].tls);
    }
    else {
        ck_assert_msg(err != NULL, "accepted: %s", relays[_i].text);
        ck_assert_msg(strstr(err, "S3cret") == NULL, "the password in: %s", err);
    }
}
END_TEST

UNIT_SUITE(mail)
{
    UNIT_ADD_TABLE(tc, templates_parse_or_are_refused, templates);
    tcase_add_test(tc, a_template_with_a_nul_is_refused);
    tcase_add_test(tc, render_fills_every_placeholder);
    tcase_add_test(tc, render_refuses_values_that_would_add_lines);
    tcase_add_loop_test(tc, shipped_files_equal_the_compiled_in_defaults, 0, TA_MAIL__COUNT);
    tcase_add_test(tc, kinds_by_name);
    tcase_add_test(tc, date_is_rfc5322_in_utc);
    UNIT_ADD_TABLE(tc, subjects_are_ascii_or_encoded_words, subjects);
    UNIT_ADD_TABLE(tc, from_values, froms);
    UNIT_ADD_TABLE(tc, addresses, addrs);
    tcase_add_test(tc, body_transfer_encodings);
    tcase_add_test(tc, compose_has_every_header_and_crlf);
    UNIT_ADD_TABLE(tc, relay_urls, relays);
}
