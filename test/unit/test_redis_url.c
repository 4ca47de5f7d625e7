/*
 * test_redis_url.c - the TrpcAuthRedis URL: what each form connects to, what
 * is refused, and that neither the redacted form nor any error message ever
 * shows the password; the same for the Sentinel form (redis-sentinel://),
 * whose Sentinels' password is hidden too.
 */
#include "unit.h"
#include "util/redis_url.h"

#include <apr_strings.h>

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
    { "redis-sentinel://a:1,b:2/m", "redis-sentinel://a:1,b:2/m" },
    { "redis-sentinel://u:pw@a:1,b:2/m", "redis-sentinel://u:***@a:1,b:2/m" },
    { "redis-sentinel://a:1,b:pw,[::1]:x/m", "redis-sentinel://a:1,b:***,[::1]:***/m" },
    { "redis-sentinel://a/m?sentinel-password=pw", "redis-sentinel://a/m?sentinel-password=***" },
    { "redis-sentinel://a/m?sentinel-password=p&w&sentinel-user=u",
      "redis-sentinel://a/m?sentinel-password=***" },
    { "redis-sentinel://a/m?sentinel-user=u&SENTINEL-PASSWORD=pw",
      "redis-sentinel://a/m?sentinel-user=u&SENTINEL-PASSWORD=***" },
    { "redis-sentinel://a/m?sentinel-password=", "redis-sentinel://a/m?sentinel-password=" },
    { "", "" },
};

START_TEST(raw_text_loses_what_may_be_a_password)
{
    ck_assert_str_eq(ta_redis_url_redact(pool, redactions[_i].in), redactions[_i].out);
}
END_TEST

/* ------------------------------------------------------ Sentinel URLs */

static const struct {
    const char *url;
    const char *master;
    int db;
    const char *sentinels;           /* "host:port,host:port" as parsed (hosts without brackets) */
    const char *user, *password;
    const char *sentinel_user, *sentinel_password;
    const char *redacted;
} sentinel_good[] = {
    { "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/mymaster", "mymaster", 0,
      "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381", NULL, NULL, NULL, NULL,
      "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/mymaster/0" },
    { "redis-sentinel://s1/m", "m", 0, "s1:26379", NULL, NULL, NULL, NULL,
      "redis-sentinel://s1:26379/m/0" },
    { "redis-sentinel://s1,s2:1/m/15", "m", 15, "s1:26379,s2:1", NULL, NULL, NULL, NULL,
      "redis-sentinel://s1:26379,s2:1/m/15" },
    { "redis-sentinel://s1/m/", "m", 0, "s1:26379", NULL, NULL, NULL, NULL,
      "redis-sentinel://s1:26379/m/0" },
    { "REDIS-SENTINEL://[::1]:26379,[fe80::1],h-2.example_x:7/my.master-1_x:y/65535",
      "my.master-1_x:y", 65535, "::1:26379,fe80::1:26379,h-2.example_x:7", NULL, NULL, NULL, NULL,
      "redis-sentinel://[::1]:26379,[fe80::1]:26379,h-2.example_x:7/my.master-1_x:y/65535" },
    { "redis-sentinel://app:Secret@a:1,b:2/m/3", "m", 3, "a:1,b:2", "app", "Secret", NULL, NULL,
      "redis-sentinel://app:***@a:1,b:2/m/3" },
    { "redis-sentinel://:Secret@a/m", "m", 0, "a:26379", NULL, "Secret", NULL, NULL,
      "redis-sentinel://:***@a:26379/m/0" },
    { "redis-sentinel://a%40pp:p%40ss%3Aw%2Frd@a/m", "m", 0, "a:26379", "a@pp", "p@ss:w/rd",
      NULL, NULL, "redis-sentinel://a%40pp:***@a:26379/m/0" },
    { "redis-sentinel://:p@ss@a/m", "m", 0, "a:26379", NULL, "p@ss", NULL, NULL,
      "redis-sentinel://:***@a:26379/m/0" },
    { "redis-sentinel://a/m?sentinel-password=SPass", "m", 0, "a:26379", NULL, NULL, NULL,
      "SPass", "redis-sentinel://a:26379/m/0?sentinel-password=***" },
    { "redis-sentinel://app:Secret@a,b/m/2?sentinel-user=sent&sentinel-password=S%26P%3Dx",
      "m", 2, "a:26379,b:26379", "app", "Secret", "sent", "S&P=x",
      "redis-sentinel://app:***@a:26379,b:26379/m/2?sentinel-user=sent&sentinel-password=***" },
    { "redis-sentinel://a/m?sentinel-password=SPass&sentinel-user=s%40nt", "m", 0, "a:26379",
      NULL, NULL, "s@nt", "SPass",
      "redis-sentinel://a:26379/m/0?sentinel-user=s%40nt&sentinel-password=***" },
    /* empty values are none, as an empty password of redis:// */
    { "redis-sentinel://a/m?sentinel-password=", "m", 0, "a:26379", NULL, NULL, NULL, NULL,
      "redis-sentinel://a:26379/m/0" },
    { "redis-sentinel://:@a/m", "m", 0, "a:26379", NULL, NULL, NULL, NULL,
      "redis-sentinel://a:26379/m/0" },
};

static const char *joined(const ta_redis_url_t *u)
{
    const char *s = "";
    int i;

    for (i = 0; i < u->nsentinels; i++) {
        s = apr_psprintf(pool, "%s%s%s:%d", s, i ? "," : "", u->sentinels[i].host,
                         u->sentinels[i].port);
    }
    return s;
}

START_TEST(sentinel_urls_name_the_sentinels_and_the_master)
{
    ta_redis_url_t *u = NULL;
    const char *err = ta_redis_url_parse(pool, sentinel_good[_i].url, &u);

    ck_assert_msg(err == NULL, "%s: %s", sentinel_good[_i].url, err);
    ck_assert_ptr_null(u->host);
    ck_assert_ptr_null(u->socket);
    ck_assert_str_eq(u->master_name, sentinel_good[_i].master);
    ck_assert_int_eq(u->db, sentinel_good[_i].db);
    ck_assert_str_eq(joined(u), sentinel_good[_i].sentinels);
    ck_assert_str_eq_or_null(u->user, sentinel_good[_i].user);
    ck_assert_str_eq_or_null(u->password, sentinel_good[_i].password);
    ck_assert_str_eq_or_null(u->sentinel_user, sentinel_good[_i].sentinel_user);
    ck_assert_str_eq_or_null(u->sentinel_password, sentinel_good[_i].sentinel_password);
    ck_assert_str_eq(u->redacted, sentinel_good[_i].redacted);
    if (sentinel_good[_i].password) {
        ck_assert_ptr_null(strstr(u->redacted, sentinel_good[_i].password));
    }
    if (sentinel_good[_i].sentinel_password) {
        ck_assert_ptr_null(strstr(u->redacted, sentinel_good[_i].sentinel_password));
    }
}
END_TEST

static const struct {
    const char *url;
    const char *why;
    const char *secret;
} sentinel_bad[] = {
    { "redis-sentinel://", "names no Sentinel", NULL },
    { "redis-sentinel:///m", "names no Sentinel", NULL },
    { "redis-sentinel://a", "names no master", NULL },
    { "redis-sentinel://a/", "names no master", NULL },
    { "redis-sentinel://a//0", "names no master", NULL },
    { "redis-sentinel://a/m/x", "bad database", NULL },
    { "redis-sentinel://a/m/65536", "bad database", NULL },
    { "redis-sentinel://a/m/1/2", "bad database", NULL },
    { "redis-sentinel://a/m%20x", "bad master name", NULL },
    { "redis-sentinel://a/m x", "bad master name", NULL },
    { "redis-sentinel://a,/m", "Sentinel 2 of the list", NULL },
    { "redis-sentinel://,a/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://a,,b/m", "Sentinel 2 of the list", NULL },
    { "redis-sentinel://a:0/m", "bad port", NULL },
    { "redis-sentinel://a:1,b:65536/m", "bad port (1 to 65535) for Sentinel 2", NULL },
    { "redis-sentinel://a:/m", "bad port", NULL },
    { "redis-sentinel://[::1/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://[]:1/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://[::1]x/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://[::g]/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://a b/m", "Sentinel 1 of the list", NULL },
    { "redis-sentinel://a:1:2/m", "bad port", NULL },
    { "redis-sentinel://a:SecretB,b/m", "bad port", "SecretB" },
    { "redis-sentinel://b,:SecretC/m", "Sentinel 2 of the list", "SecretC" },
    { "redis-sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/m", "more than 16 Sentinels", NULL },
    { "redis-sentinel://SecretD@a/m", "user without a password", "SecretD" },
    { "redis-sentinel://app:SecretE%zz@a/m", "%-escape", "SecretE" },
    { "redis-sentinel://a/m#frag", "fragment", NULL },
    { "redis-sentinel://a/m?db=1", "sentinel-user=NAME and sentinel-password=PASS", NULL },
    { "redis-sentinel://a/m?sentinel-password", "sentinel-user=NAME", NULL },
    { "redis-sentinel://a/m?sentinel-password=SecretF&sentinel-password=x", "each once", "SecretF" },
    { "redis-sentinel://a/m?sentinel-user=u", "sentinel-user without a sentinel-password", NULL },
    { "redis-sentinel://a/m?sentinel-user=u&sentinel-password=SecretG%zz", "%-escape", "SecretG" },
    { "redis-sentinel://a/m?sentinel-password=SecretH&x=1", "each once", "SecretH" },
    { "redis-sentinel://a/m?Sentinel-Password=SecretI", "each once", "SecretI" },
    { "redis-sentinel://:SecretJ@a/m/99999999999999999999", "bad database", "SecretJ" },
    { "redis-sentinels://a/m", "not a redis:// or unix:// URL", NULL },
};

START_TEST(bad_sentinel_urls_are_refused_without_showing_a_password)
{
    ta_redis_url_t *u = (ta_redis_url_t *)1;
    const char *err = ta_redis_url_parse(pool, sentinel_bad[_i].url, &u);

    ck_assert_msg(err != NULL, "%s should be refused", sentinel_bad[_i].url);
    ck_assert_ptr_null(u);
    ck_assert_msg(strstr(err, sentinel_bad[_i].why) != NULL, "%s: '%s' lacks '%s'",
                  sentinel_bad[_i].url, err, sentinel_bad[_i].why);
    if (sentinel_bad[_i].secret) {
        ck_assert_msg(strstr(err, sentinel_bad[_i].secret) == NULL, "%s: '%s' shows the password",
                      sentinel_bad[_i].url, err);
        ck_assert_ptr_nonnull(strstr(err, "***"));
    }
}
END_TEST

/* Two targets share connections only when everything matches, passwords
 * included, and no field can spill into the next. */
START_TEST(identities_tell_targets_apart)
{
    static const char *const urls[] = {
        "redis://h:1/0", "redis://h:2/0", "redis://h:1/1", "redis://:pw@h:1/0",
        "redis://a:b@h:1/0", "redis://ab:c@h:1/0", "unix:///h", "unix:///h?db=1",
        "redis-sentinel://h:1/m", "redis-sentinel://h:1/n", "redis-sentinel://h:1,h:2/m",
        "redis-sentinel://h:1/m/1", "redis-sentinel://:pw@h:1/m",
        "redis-sentinel://h:1/m?sentinel-password=pw",
        "redis-sentinel://h:1/m?sentinel-user=u&sentinel-password=pw",
        "redis-sentinel://h:1/m?sentinel-user=u%7C3&sentinel-password=pw",
        "redis-sentinel://h:1/m?sentinel-user=u&sentinel-password=3%7Cpw",
    };
    const char *ids[sizeof(urls) / sizeof(urls[0])];
    ta_redis_url_t *u, *again;
    size_t i, j;

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        ck_assert_msg(ta_redis_url_parse(pool, urls[i], &u) == NULL, "%s", urls[i]);
        ck_assert_msg(ta_redis_url_parse(pool, urls[i], &again) == NULL, "%s", urls[i]);
        ids[i] = ta_redis_url_identity(pool, u);
        ck_assert_str_eq(ids[i], ta_redis_url_identity(pool, again));
        for (j = 0; j < i; j++) {
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "%s and %s look alike", urls[i], urls[j]);
        }
    }
}
END_TEST

static Suite *redis_url_suite(void)
{
    Suite *s = suite_create("redis_url");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, unit_setup, unit_teardown);
    tcase_add_loop_test(tc, good_urls_give_their_parts_and_a_redacted_form, 0,
                        sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, bad_urls_are_refused_without_showing_the_password, 0,
                        sizeof(bad) / sizeof(bad[0]));
    tcase_add_loop_test(tc, raw_text_loses_what_may_be_a_password, 0,
                        sizeof(redactions) / sizeof(redactions[0]));
    tcase_add_loop_test(tc, sentinel_urls_name_the_sentinels_and_the_master, 0,
                        sizeof(sentinel_good) / sizeof(sentinel_good[0]));
    tcase_add_loop_test(tc, bad_sentinel_urls_are_refused_without_showing_a_password, 0,
                        sizeof(sentinel_bad) / sizeof(sentinel_bad[0]));
    tcase_add_test(tc, identities_tell_targets_apart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(redis_url_suite());
}
