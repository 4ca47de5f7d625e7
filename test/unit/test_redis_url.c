/*
 * test_redis_url.c - the TrpcAuthRedis URL: what each form connects to, what
 * is refused, and that neither the redacted form nor any error message ever
 * shows the password.
 */
#include "unit.h"
#include "util/redis_url.h"

#include <string.h>

/* ------------------------------------------------------ URLs that parse */

static const struct {
    const char *url;
    const char *host;        /* NULL: a socket */
    int port;
    const char *socket;
    const char *user, *password;
    int db;
    const char *redacted;
} good[] = {
    { "redis://127.0.0.1:6379/0", "127.0.0.1", 6379, NULL, NULL, NULL, 0,
      "redis://127.0.0.1:6379/0" },
    { "redis://localhost", "localhost", 6379, NULL, NULL, NULL, 0,
      "redis://localhost:6379/0" },
    { "redis://h/", "h", 6379, NULL, NULL, NULL, 0, "redis://h:6379/0" },
    { "redis://h:1/15", "h", 1, NULL, NULL, NULL, 15, "redis://h:1/15" },
    { "redis://h:65535/65535", "h", 65535, NULL, NULL, NULL, 65535, "redis://h:65535/65535" },
    { "redis://[::1]:6380/2", "::1", 6380, NULL, NULL, NULL, 2, "redis://[::1]:6380/2" },
    { "redis://[::1]", "::1", 6379, NULL, NULL, NULL, 0, "redis://[::1]:6379/0" },
    { "redis://:Secret@h:7000/1", "h", 7000, NULL, NULL, "Secret", 1,
      "redis://:***@h:7000/1" },
    { "redis://app:Secret@h", "h", 6379, NULL, "app", "Secret", 0,
      "redis://app:***@h:6379/0" },
    { "redis://app:Secret@[::1]:6379/3", "::1", 6379, NULL, "app", "Secret", 3,
      "redis://app:***@[::1]:6379/3" },
    /* percent-escapes in the credentials; an unescaped '@' in the password
     * splits at the last '@', as apr_uri_parse does */
    { "redis://a%40pp:p%40ss%3Aw%2Frd@h", "h", 6379, NULL, "a@pp", "p@ss:w/rd", 0,
      "redis://a%40pp:***@h:6379/0" },
    { "redis://:p@ss@h:1/0", "h", 1, NULL, NULL, "p@ss", 0, "redis://:***@h:1/0" },
    /* an empty password is no password, an empty user the default user */
    { "redis://:@h", "h", 6379, NULL, NULL, NULL, 0, "redis://h:6379/0" },
    { "redis://@h", "h", 6379, NULL, NULL, NULL, 0, "redis://h:6379/0" },
    { "REDIS://H:1", "H", 1, NULL, NULL, NULL, 0, "redis://H:1/0" },
    { "unix:///run/redis.sock", NULL, 0, "/run/redis.sock", NULL, NULL, 0,
      "unix:///run/redis.sock" },
    { "unix:///run/redis.sock?db=4", NULL, 0, "/run/redis.sock", NULL, NULL, 4,
      "unix:///run/redis.sock?db=4" },
    { "unix://app:Secret@/run/redis.sock?db=1", NULL, 0, "/run/redis.sock", "app", "Secret", 1,
      "unix://app:***@/run/redis.sock?db=1" },
    { "unix://:Secret@/run/redis.sock", NULL, 0, "/run/redis.sock", NULL, "Secret", 0,
      "unix://:***@/run/redis.sock" },
};

#define ck_assert_str_eq_or_null(a, b) \
    do { if ((b) == NULL) ck_assert_ptr_null(a); else ck_assert_str_eq(a, b); } while (0)

START_TEST(good_urls_give_their_parts_and_a_redacted_form)
{
    ta_redis_url_t *u = NULL;
    const char *err = ta_redis_url_parse(pool, good[_i].url, &u);

    ck_assert_msg(err == NULL, "%s: %s", good[_i].url, err);
    ck_assert_ptr_nonnull(u);
    ck_assert_str_eq_or_null(u->host, good[_i].host);
    if (good[_i].host) ck_assert_int_eq(u->port, good[_i].port);
    ck_assert_str_eq_or_null(u->socket, good[_i].socket);
    ck_assert_str_eq_or_null(u->user, good[_i].user);
    ck_assert_str_eq_or_null(u->password, good[_i].password);
    ck_assert_int_eq(u->db, good[_i].db);
    ck_assert_str_eq(u->redacted, good[_i].redacted);
    if (good[_i].password) {
        ck_assert_ptr_null(strstr(u->redacted, good[_i].password));
    }
}
END_TEST

/* ------------------------------------------------------ URLs refused */

static const struct {
    const char *url;
    const char *why;         /* a word of the message */
    const char *secret;      /* must not be in the message */
} bad[] = {
    { "redis://h:0/0", "bad port", NULL },
    { "redis://h:65536/0", "bad port", NULL },
    { "redis://h:-1/0", "bad port", NULL },
    { "redis://h:+1/0", "bad port", NULL },
    { "redis://h:/0", "bad port", NULL },
    { "redis://:Secret1@h:99999/0", "bad port", "Secret1" },
    { "redis://h:12ab/0", "not a valid URL", NULL },
    { "redis://:Secret2@h:x/0", "not a valid URL", "Secret2" },
    { "redis://:Secret3", "not a valid URL", "Secret3" },
    { "redis://h/x", "bad database", NULL },
    { "redis://h/-1", "bad database", NULL },
    { "redis://h/65536", "bad database", NULL },
    { "redis://h/1/2", "bad database", NULL },
    { "redis://app:Secret4@h/99999999999999999999", "bad database", "Secret4" },
    { "redis://h/0?db=1", "options", NULL },
    { "redis://h/0#frag", "fragment", NULL },
    { "redis://", "no host", NULL },
    { "redis:///0", "no host", NULL },
    { "redis://[::1", "not a valid URL", NULL },
    { "redis://Secret5@h", "user without a password", "Secret5" },
    { "redis://app:Secret6%zz@h", "%-escape", "Secret6" },
    { "redis://app:Secret7%00@h", "%-escape", "Secret7" },
    { "rediss://:Secret8@h", "not a redis:// or unix:// URL", "Secret8" },
    { "http://h", "not a redis:// or unix:// URL", NULL },
    { "garbage", "not a redis:// or unix:// URL", NULL },
    { "Secret9@h:6379", "not a valid URL", "Secret9" },
    { "", "not a redis:// or unix:// URL", NULL },
    { "redis:h", "not a redis:// or unix:// URL", NULL },
    { "unix://", "absolute socket path", NULL },
    { "unix:///", "absolute socket path", NULL },
    { "unix://host/run/redis.sock", "no host", NULL },
    { "unix:///run/redis.sock?db=x", "?db=N", NULL },
    { "unix:///run/redis.sock?db=", "?db=N", NULL },
    { "unix:///run/redis.sock?timeout=1", "?db=N", NULL },
    { "unix://:SecretA@/run/redis.sock?db=70000", "?db=N", "SecretA" },
};

START_TEST(bad_urls_are_refused_without_showing_the_password)
{
    ta_redis_url_t *u = (ta_redis_url_t *)1;
    const char *err = ta_redis_url_parse(pool, bad[_i].url, &u);

    ck_assert_msg(err != NULL, "%s should be refused", bad[_i].url);
    ck_assert_ptr_null(u);
    ck_assert_msg(strstr(err, bad[_i].why) != NULL, "%s: '%s' lacks '%s'", bad[_i].url, err,
                  bad[_i].why);
    if (bad[_i].secret) {
        ck_assert_msg(strstr(err, bad[_i].secret) == NULL, "%s: '%s' shows the password",
                      bad[_i].url, err);
        ck_assert_ptr_nonnull(strstr(err, "***"));
    }
}
END_TEST

/* ------------------------------------------------------ redaction of raw text */

static const struct {
    const char *in, *out;
} redactions[] = {
    { "redis://h:6379/0", "redis://h:6379/0" },
    { "redis://:pw@h:1/0", "redis://:***@h:1/0" },
    { "redis://user:pw@h", "redis://user:***@h" },
    { "redis://pw@h", "redis://***@h" },
    { "redis://:a@b@h", "redis://:***@h" },
    { "redis://:pw", "redis://:***" },
    { "redis://h:pw/0", "redis://h:***/0" },
    { "redis://[::1]:6379", "redis://[::1]:6379" },
    { "redis://[::1]:pw", "redis://[::1]:***" },
    { "pw@h", "***@h" },
    { "unix://:pw@/s?db=1", "unix://:***@/s?db=1" },
    { "", "" },
};

START_TEST(raw_text_loses_what_may_be_a_password)
{
    ck_assert_str_eq(ta_redis_url_redact(pool, redactions[_i].in), redactions[_i].out);
}
END_TEST

UNIT_SUITE(redis_url)
{
    UNIT_ADD_TABLE(tc, good_urls_give_their_parts_and_a_redacted_form, good);
    UNIT_ADD_TABLE(tc, bad_urls_are_refused_without_showing_the_password, bad);
    UNIT_ADD_TABLE(tc, raw_text_loses_what_may_be_a_password, redactions);
}
