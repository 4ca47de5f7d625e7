/*
 * config.c - directive handlers, configuration create/merge and the getters
 * that apply the defaults of CONTRACT §9 in one place.
 *
 * Handlers validate their arguments, so `apachectl configtest` fails early
 * with a message that names the directive.
 */
#include "cfg/config.h"
#include "util/duration.h"
#include "jose/jti.h"
#include "jose/seal.h"
#include "cfg/log.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <http_log.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Every default of CONTRACT §9, in one place. The server's are applied once, by
 * apply_server_defaults() when check_config finalizes a server that uses the
 * module (httpd never merges the main server, so a merge cannot be that
 * place); from then on the server getters read plain values. The directory
 * settings' are applied by their getters: httpd merges directory
 * configurations per request and hands the main server's unmerged to requests
 * no section matches, so no step sees every one of them finished. */
#define DEFAULT_REDIS_URL          "redis://127.0.0.1:6379/0"
#define DEFAULT_REDIS_TIMEOUT      (500 * 1000)
#define DEFAULT_DB_TIMEOUT         (3 * APR_USEC_PER_SEC)
#define DEFAULT_KEY_PREFIX         "trpcauth:"
#define DEFAULT_ACCESS_TTL         (15 * 60 * APR_USEC_PER_SEC)
#define DEFAULT_REFRESH_TTL        (7 * 86400 * APR_USEC_PER_SEC)
#define DEFAULT_REFRESH_ROTATION   1
#define DEFAULT_REFRESH_GRACE      (10 * APR_USEC_PER_SEC)
#define DEFAULT_REFRESH_RETURNS_ACCESS 0
#define DEFAULT_CLOCK_SKEW         (5 * APR_USEC_PER_SEC)
#define DEFAULT_TOKEN_CACHE        1024
/* TrpcAuthSessionCache: on wherever Redis allows client tracking (issue 15). */
#define DEFAULT_SESSION_CACHE      (60 * APR_USEC_PER_SEC)
#define DEFAULT_COOKIE_ACCESS      "accessToken"
#define DEFAULT_COOKIE_REFRESH     "refreshToken"
#define DEFAULT_COOKIE_LOGGEDIN    "logged_in"
#define DEFAULT_COOKIE_SECURE      1
#define DEFAULT_COOKIE_SAMESITE    "Strict"
#define DEFAULT_BCRYPT_COST        12
#define DEFAULT_AUDIT_LOG          1
#define DEFAULT_REQUIRE_VERIFIED_EMAIL 0
#define DEFAULT_VERIFY_ON_REGISTER 1
#define DEFAULT_MAIL_RETRY_MIN     (2 * APR_USEC_PER_SEC)
#define DEFAULT_MAIL_RETRY_MAX     (5 * 60 * APR_USEC_PER_SEC)
/* and, per kind of mail, mail_default_page[] and mail_default_ttl[] below */

#define DEFAULT_SESSION_CHECK      1
#define DEFAULT_TRANSFORMER        TA_TX_JSON
#define DEFAULT_MAX_BODY           65536
#define DEFAULT_MAX_BATCH          32
#define DEFAULT_UNAUTH_ACTION      TA_UNAUTH_401
#define DEFAULT_AUTO_REFRESH       0
#define DEFAULT_PASS_COOKIES       0

static const ta_rate_limit_t default_rate[TA_RL__COUNT] = {
    [TA_RL_LOGIN_ACCOUNT]    = { 100, 15 * 60 * APR_USEC_PER_SEC },
    [TA_RL_LOGIN_IP]         = { 100, 15 * 60 * APR_USEC_PER_SEC },
    [TA_RL_REGISTER_IP]      = { 20,  3600 * APR_USEC_PER_SEC },
    [TA_RL_REFRESH_SESSION]  = { 60,  60 * APR_USEC_PER_SEC },
    [TA_RL_LOGIN_ACCOUNT_IP] = { 10,  15 * 60 * APR_USEC_PER_SEC },
    [TA_RL_PASSWORD_USER]    = { 10,  15 * 60 * APR_USEC_PER_SEC },
    [TA_RL_PASSWORD_SESSION] = { 5,   15 * 60 * APR_USEC_PER_SEC },
    [TA_RL_MAIL_ADDRESS]     = { 5,   3600 * APR_USEC_PER_SEC },
    [TA_RL_MAIL_IP]          = { 20,  3600 * APR_USEC_PER_SEC },
};

static const char *const rate_scope_names[TA_RL__COUNT] = {
    "login-account", "login-ip", "register-ip", "refresh-session",
    "login-account-ip", "password-user", "password-session", "mail-address", "mail-ip",
};

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

/* E-mail verification and password reset: their fields, in their own section below. */
static void mail_conf_init(ta_server_conf_t *sc);
static void mail_conf_merge(ta_server_conf_t *m, const ta_server_conf_t *base,
                            const ta_server_conf_t *add);

/* ------------------------------------------------------------------ */
/* create / merge                                                      */

void *ta_create_server_conf(apr_pool_t *p, server_rec *s)
{
    ta_server_conf_t *sc = apr_pcalloc(p, sizeof(*sc));
    int i;

    sc->redis_timeout = TA_UNSET;
    sc->db_timeout = TA_UNSET;
    sc->access_ttl = TA_UNSET;
    sc->refresh_ttl = TA_UNSET;
    sc->refresh_rotation = TA_UNSET;
    sc->refresh_grace = TA_UNSET;
    sc->refresh_returns_access = TA_UNSET;
    sc->clock_skew = TA_UNSET;
    sc->token_cache_entries = TA_UNSET;
    sc->session_cache_age = TA_UNSET;
    sc->cookie_secure = TA_UNSET;
    sc->bcrypt_cost = TA_UNSET;
    sc->audit_log = TA_UNSET;
    for (i = 0; i < TA_RL__COUNT; i++) {
        sc->rate[i].count = TA_UNSET;
    }
    mail_conf_init(sc);
    sc->mail_retry_min = TA_UNSET;
    sc->mail_retry_max = TA_UNSET;
    return sc;
}

#define MERGE_PTR(f)  m->f = add->f ? add->f : base->f
#define MERGE_INT(f)  m->f = (add->f != TA_UNSET) ? add->f : base->f

void *ta_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    ta_server_conf_t *base = basev, *add = addv;
    ta_server_conf_t *m = apr_pcalloc(p, sizeof(*m));
    int i;

    /* The Redis target is one unit: a vhost that names its own URL gets all
     * of it, not half of the main server's. */
    MERGE_PTR(redis);
    MERGE_INT(redis_timeout);
    MERGE_INT(db_timeout);
    MERGE_PTR(key_prefix);
    MERGE_PTR(access_keys);
    MERGE_PTR(refresh_keys);
    MERGE_INT(access_ttl);
    MERGE_INT(refresh_ttl);
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_INT(refresh_rotation);
    MERGE_INT(refresh_grace);
    MERGE_INT(refresh_returns_access);
    MERGE_INT(clock_skew);
    MERGE_INT(token_cache_entries);
    MERGE_INT(session_cache_age);
    MERGE_PTR(cookie_access);
    MERGE_PTR(cookie_refresh);
    MERGE_PTR(cookie_loggedin);
    MERGE_INT(cookie_secure);
    MERGE_PTR(cookie_samesite);
    MERGE_PTR(cookie_domain);
    MERGE_INT(bcrypt_cost);
    MERGE_INT(audit_log);
    for (i = 0; i < TA_RL__COUNT; i++) {
        m->rate[i] = (add->rate[i].count != TA_UNSET) ? add->rate[i] : base->rate[i];
    }
    mail_conf_merge(m, base, add);
    /* Mail: the relay and the sender each as one unit; templates kind by kind. */
    MERGE_PTR(mail_relay);
    MERGE_PTR(mail_ca_file);         /* the file and its text as one unit */
    MERGE_PTR(mail_ca_pem);
    if (add->mail_from) {
        m->mail_from = add->mail_from;
        m->mail_from_addr = add->mail_from_addr;
    }
    else {
        m->mail_from = base->mail_from;
        m->mail_from_addr = base->mail_from_addr;
    }
    for (i = 0; i < TA_MAIL__COUNT; i++) {
        MERGE_PTR(mail_template[i]);
    }
    if (add->mail_retry_min != TA_UNSET) {
        m->mail_retry_min = add->mail_retry_min;
        m->mail_retry_max = add->mail_retry_max;
    }
    else {
        m->mail_retry_min = base->mail_retry_min;
        m->mail_retry_max = base->mail_retry_max;
    }
    return m;
}

void *ta_create_dir_conf(apr_pool_t *p, char *dir)
{
    ta_dir_conf_t *dc = apr_pcalloc(p, sizeof(*dc));

    dc->location = dir;
    dc->session_check = TA_UNSET;
    dc->transformer = TA_UNSET;
    dc->max_body = TA_UNSET;
    dc->max_batch = TA_UNSET;
    dc->unauth_action = TA_UNSET;
    dc->auto_refresh = TA_UNSET;
    dc->pass_cookies = TA_UNSET;
    return dc;
}

void *ta_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    ta_dir_conf_t *base = basev, *add = addv;
    ta_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));

    MERGE_PTR(location);
    MERGE_INT(session_check);
    MERGE_INT(transformer);
    MERGE_INT(max_body);
    MERGE_INT(max_batch);
    MERGE_PTR(cors_origins);
    if (add->unauth_action != TA_UNSET) {
        m->unauth_action = add->unauth_action;
        m->unauth_url = add->unauth_url;
    }
    else {
        m->unauth_action = base->unauth_action;
        m->unauth_url = base->unauth_url;
    }
    MERGE_INT(auto_refresh);
    MERGE_PTR(identity_header);
    MERGE_INT(pass_cookies);
    return m;
}

/* ------------------------------------------------------------------ */
/* getters                                                             */

/* Server settings: apply_server_defaults() has filled in every unset one. */
apr_interval_time_t ta_conf_redis_timeout(const ta_server_conf_t *sc)
{
    return sc->redis_timeout;
}
apr_interval_time_t ta_conf_db_timeout(const ta_server_conf_t *sc)
{
    return sc->db_timeout;
}
int ta_conf_access_ttl(const ta_server_conf_t *sc)
{
    return (int)apr_time_sec(sc->access_ttl);
}
int ta_conf_refresh_ttl(const ta_server_conf_t *sc)
{
    return (int)apr_time_sec(sc->refresh_ttl);
}
int ta_conf_refresh_rotation(const ta_server_conf_t *sc)
{
    return sc->refresh_rotation;
}
apr_int64_t ta_conf_refresh_grace_ms(const ta_server_conf_t *sc)
{
    return apr_time_as_msec(sc->refresh_grace);
}
int ta_conf_clock_skew(const ta_server_conf_t *sc)
{
    return (int)apr_time_sec(sc->clock_skew);
}
int ta_conf_token_cache_entries(const ta_server_conf_t *sc)
{
    return sc->token_cache_entries;
}
apr_int64_t ta_conf_session_cache_ms(const ta_server_conf_t *sc)
{
    return apr_time_as_msec(sc->session_cache_age);
}
int ta_conf_cookie_secure(const ta_server_conf_t *sc)
{
    return sc->cookie_secure;
}
int ta_conf_bcrypt_cost(const ta_server_conf_t *sc)
{
    return sc->bcrypt_cost;
}
int ta_conf_audit_log(const ta_server_conf_t *sc)
{
    return sc->audit_log;
}
ta_rate_limit_t ta_conf_rate(const ta_server_conf_t *sc, ta_rate_scope_t scope)
{
    return sc->rate[scope];
}

const char *ta_conf_rate_name(ta_rate_scope_t scope)
{
    return rate_scope_names[scope];
}
const ta_mail_template_t *ta_conf_mail_template(apr_pool_t *p, const ta_server_conf_t *sc,
                                                ta_mail_kind_t kind)
{
    return sc->mail_template[kind] ? sc->mail_template[kind] : ta_mail_template_default(p, kind);
}
apr_interval_time_t ta_conf_mail_retry_min(const ta_server_conf_t *sc)
{
    return sc->mail_retry_min;
}
apr_interval_time_t ta_conf_mail_retry_max(const ta_server_conf_t *sc)
{
    return sc->mail_retry_max;
}
/* Directory settings: the default where nothing set one (see the defaults). */
#define OR_DEFAULT(v, d) (((v) == TA_UNSET) ? (d) : (v))

int ta_conf_session_check(const ta_dir_conf_t *dc)
{
    return OR_DEFAULT(dc->session_check, DEFAULT_SESSION_CHECK);
}
ta_transformer_t ta_conf_transformer(const ta_dir_conf_t *dc)
{
    return (ta_transformer_t)OR_DEFAULT(dc->transformer, DEFAULT_TRANSFORMER);
}
apr_off_t ta_conf_max_body(const ta_dir_conf_t *dc)
{
    return OR_DEFAULT(dc->max_body, DEFAULT_MAX_BODY);
}
int ta_conf_max_batch(const ta_dir_conf_t *dc)
{
    return OR_DEFAULT(dc->max_batch, DEFAULT_MAX_BATCH);
}
ta_unauth_action_t ta_conf_unauth_action(const ta_dir_conf_t *dc)
{
    return (ta_unauth_action_t)OR_DEFAULT(dc->unauth_action, DEFAULT_UNAUTH_ACTION);
}
int ta_conf_auto_refresh(const ta_dir_conf_t *dc)
{
    return OR_DEFAULT(dc->auto_refresh, DEFAULT_AUTO_REFRESH);
}
int ta_conf_pass_cookies(const ta_dir_conf_t *dc)
{
    return OR_DEFAULT(dc->pass_cookies, DEFAULT_PASS_COOKIES);
}

/* ------------------------------------------------------------------ */
/* directive handlers                                                  */

static ta_server_conf_t *server_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &trpcauth_module);
}

static const char *fail(cmd_parms *cmd, const char *fmt, const char *arg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name,
                        apr_psprintf(cmd->pool, fmt, arg));
}

/* Parses a whole decimal number from lo to hi into *out; 0 on success. */
static int parse_range(const char *arg, apr_int64_t lo, apr_int64_t hi, apr_int64_t *out)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || n < lo || n > hi) {
        return -1;
    }
    *out = n;
    return 0;
}

/* redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path[?db=N]
 * (util/redis_url.h); a message shows the URL without its password. */
static const char *set_redis(cmd_parms *cmd, void *dummy, const char *url)
{
    ta_redis_url_t *u;
    const char *err = ta_redis_url_parse(cmd->pool, url, &u);

    if (err != NULL) {
        return fail(cmd, "%s", err);
    }
    server_conf(cmd)->redis = u;
    return NULL;
}

/* Stores a duration into the apr_interval_time_t at the offset in cmd->info
 * of the server config. */
static const char *set_server_duration(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_interval_time_t v;
    char *base = (char *)server_conf(cmd);

    if (ta_duration_parse(arg, &v) != 0) {
        return fail(cmd, "'%s' is not a duration (500ms, 10s, 15m, 12h, 7d or seconds)", arg);
    }
    *(apr_interval_time_t *)(base + (apr_size_t)cmd->info) = v;
    return NULL;
}

/* TrpcAuthSessionCache: a duration, or Off (the same as 0). */
static const char *set_session_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    if (strcasecmp(arg, "Off") == 0) {
        server_conf(cmd)->session_cache_age = 0;
        return NULL;
    }
    return set_server_duration(cmd, dummy, arg);
}

/* A lifetime: a duration from one second to the largest whole number of
 * seconds an int holds (about 68 years), as lifetimes travel as int seconds
 * (token exp, cookie Max-Age, Redis EXPIRE). */
static const char *set_server_ttl(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_interval_time_t v;
    char *base = (char *)server_conf(cmd);

    if (ta_duration_parse(arg, &v) != 0 || v < APR_USEC_PER_SEC
        || apr_time_sec(v) > INT_MAX) {
        return fail(cmd, "'%s' is not a lifetime from 1s to 2147483647s (about 68 years)", arg);
    }
    *(apr_interval_time_t *)(base + (apr_size_t)cmd->info) = v;
    return NULL;
}

/* A tolerance (clock skew, reuse grace): a duration of at most five minutes.
 * Each widens a window in which a token that should no longer count still
 * does, so a typo such as 10d for 10s must not pass. */
#define TA_MAX_TOLERANCE (5 * 60 * APR_USEC_PER_SEC)

static const char *set_server_tolerance(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_interval_time_t v;
    char *base = (char *)server_conf(cmd);

    if (ta_duration_parse(arg, &v) != 0 || v > TA_MAX_TOLERANCE) {
        return fail(cmd, "'%s' is not a duration from 0 to 5m", arg);
    }
    *(apr_interval_time_t *)(base + (apr_size_t)cmd->info) = v;
    return NULL;
}

static const char *set_server_string(cmd_parms *cmd, void *dummy, const char *arg)
{
    char *base = (char *)server_conf(cmd);
    *(const char **)(base + (apr_size_t)cmd->info) = arg;
    return NULL;
}

static const char *set_server_flag(cmd_parms *cmd, void *dummy, int flag)
{
    char *base = (char *)server_conf(cmd);
    *(int *)(base + (apr_size_t)cmd->info) = flag;
    return NULL;
}

/* TrpcAuthAccessKey / TrpcAuthRefreshKey alg source [kid] */
static const char *add_key(cmd_parms *cmd, void *dummy, const char *alg,
                           const char *source, const char *kid)
{
    ta_server_conf_t *sc = server_conf(cmd);
    ta_keyset_t **set = cmd->info ? &sc->refresh_keys : &sc->access_keys;
    ta_key_t *key;
    const char *err;

    if (ta_alg_from_name(alg) < 0) {
        return fail(cmd, "unknown algorithm '%s' (HS256, ES256, EdDSA or RS256)", alg);
    }
    if ((err = ta_key_load(cmd->pool, alg, source, kid, &key)) != NULL) {
        return fail(cmd, "%s", err);
    }
    /* The first key of a set signs every token: a public key there would
     * only show at the first login, as a 500. Verify-only keys may follow. */
    if (*set == NULL && !key->can_sign) {
        return fail(cmd, "%s is a public key, but the first key of a set signs: put the "
                    "private key first (public keys may follow, to verify only)", source);
    }
    if ((err = ta_keyset_add(cmd->pool, set, key)) != NULL) {
        return fail(cmd, "%s", err);
    }
    return NULL;
}

static const char *set_cookie_names(cmd_parms *cmd, void *dummy, const char *access,
                                    const char *refresh, const char *loggedin)
{
    ta_server_conf_t *sc = server_conf(cmd);
    const char *names[3] = { access, refresh, loggedin };
    int i;

    for (i = 0; i < 3; i++) {
        const char *c;
        for (c = names[i]; *c; c++) {
            if (!apr_isalnum(*c) && !strchr("_-.!#$%&'*+^`|~", *c)) {
                return fail(cmd, "'%s' is not a valid cookie name", names[i]);
            }
        }
    }
    sc->cookie_access = access;
    sc->cookie_refresh = refresh;
    sc->cookie_loggedin = loggedin;
    return NULL;
}

static const char *set_samesite(cmd_parms *cmd, void *dummy, const char *arg)
{
    ta_server_conf_t *sc = server_conf(cmd);

    if (strcasecmp(arg, "Strict") == 0)    sc->cookie_samesite = "Strict";
    else if (strcasecmp(arg, "Lax") == 0)  sc->cookie_samesite = "Lax";
    else if (strcasecmp(arg, "None") == 0) sc->cookie_samesite = "None";
    else return fail(cmd, "'%s' must be Strict, Lax or None", arg);
    return NULL;
}

static const char *set_token_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_int64_t n;

    if (parse_range(arg, 0, 1 << 20, &n) != 0) {
        return fail(cmd, "'%s' must be a number of entries from 0 (off) to 1048576", arg);
    }
    server_conf(cmd)->token_cache_entries = (int)n;
    return NULL;
}

static const char *set_bcrypt_cost(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_int64_t cost;

    if (parse_range(arg, 4, 31, &cost) != 0) {
        return fail(cmd, "'%s' must be a bcrypt cost from 4 to 31", arg);
    }
    server_conf(cmd)->bcrypt_cost = (int)cost;
    return NULL;
}

/* TrpcAuthRateLimit scope count window */
static const char *set_rate_limit(cmd_parms *cmd, void *dummy, const char *scope,
                                  const char *count, const char *window)
{
    ta_server_conf_t *sc = server_conf(cmd);
    apr_interval_time_t w;
    apr_int64_t n;
    int i;

    for (i = 0; i < TA_RL__COUNT; i++) {
        if (strcmp(scope, rate_scope_names[i]) == 0) break;
    }
    if (i == TA_RL__COUNT) {
        return fail(cmd, "unknown scope '%s' (login-account, login-account-ip, login-ip, "
                    "register-ip, refresh-session, password-user, password-session, "
                    "mail-address, mail-ip)", scope);
    }
    if (parse_range(count, 1, 1000000, &n) != 0) {
        return fail(cmd, "'%s' must be a count from 1 to 1000000", count);
    }
    if (ta_duration_parse(window, &w) != 0 || w < APR_USEC_PER_SEC) {
        return fail(cmd, "'%s' is not a window of at least 1s", window);
    }
    sc->rate[i].count = (int)n;
    sc->rate[i].window = w;
    return NULL;
}

/* ---- e-mail verification and password reset (issue 14) ---------------- */

/* TrpcAuthPublicURL http(s)://host[:port][/prefix]: where the app lives for
 * the people who get the mail. Never taken from the request (a Host header
 * chosen by an attacker would send reset links to the attacker's site). */
static const char *set_public_url(cmd_parms *cmd, void *dummy, const char *url)
{
    const char *host, *c;
    apr_size_t n;

    if (strncmp(url, "https://", 8) == 0)     host = url + 8;
    else if (strncmp(url, "http://", 7) == 0) host = url + 7;
    else return fail(cmd, "'%s' must start with http:// or https://", url);
    if (*host == '\0' || *host == '/') {
        return fail(cmd, "'%s' has no host", url);
    }
    for (c = url; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("#?\"<>\\'`", *c)) {
            return fail(cmd, "'%s' must be a plain URL without query, fragment, quotes or spaces",
                        url);
        }
    }
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/') n--;
    server_conf(cmd)->public_url = apr_pstrndup(cmd->pool, url, n);
    return NULL;
}

/* TrpcAuthMailPage kind /path[#route]: the token is added to the fragment. */
static const char *set_mail_page(cmd_parms *cmd, void *dummy, const char *kind, const char *path)
{
    const char *c;
    int k;

    for (k = 0; k < TA_MAIL__COUNT; k++) {
        if (strcmp(kind, ta_conf_mail_kind_name(k)) == 0) break;
    }
    if (k == TA_MAIL__COUNT) {
        return fail(cmd, "unknown kind '%s' (verify-email, reset-password)", kind);
    }
    if (path[0] != '/' || path[1] == '/') {
        return fail(cmd, "'%s' must be a path that starts with a single '/'", path);
    }
    for (c = path; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("\"<>\\'`", *c)) {
            return fail(cmd, "'%s' may not hold spaces, quotes or control characters", path);
        }
    }
    server_conf(cmd)->mail_page[k] = path;
    return NULL;
}

static void mail_conf_init(ta_server_conf_t *sc)
{
    int k;

    sc->require_verified_email = TA_UNSET;
    sc->verify_on_register = TA_UNSET;
    for (k = 0; k < TA_MAIL__COUNT; k++) {
        sc->mail_ttl[k] = TA_UNSET;
    }
}

static void mail_conf_merge(ta_server_conf_t *m, const ta_server_conf_t *base,
                            const ta_server_conf_t *add)
{
    int k;

    MERGE_INT(require_verified_email);
    MERGE_INT(verify_on_register);
    MERGE_PTR(public_url);
    for (k = 0; k < TA_MAIL__COUNT; k++) {
        MERGE_PTR(mail_page[k]);
        MERGE_INT(mail_ttl[k]);
    }
}

static const char *const mail_kind_names[TA_MAIL__COUNT] = { "verify-email", "reset-password" };
static const char *const mail_default_page[TA_MAIL__COUNT] = { "/#verify-email", "/#reset-password" };
static const apr_interval_time_t mail_default_ttl[TA_MAIL__COUNT] = {
    24 * 3600 * APR_USEC_PER_SEC, 3600 * APR_USEC_PER_SEC
};

const char *ta_conf_mail_kind_name(ta_mail_kind_t kind)
{
    return mail_kind_names[kind];
}
const char *ta_conf_mail_page(const ta_server_conf_t *sc, ta_mail_kind_t kind)
{
    return sc->mail_page[kind];
}
int ta_conf_mail_ttl(const ta_server_conf_t *sc, ta_mail_kind_t kind)
{
    return (int)apr_time_sec(sc->mail_ttl[kind]);
}
int ta_conf_require_verified_email(const ta_server_conf_t *sc)
{
    return sc->require_verified_email;
}
int ta_conf_verify_on_register(const ta_server_conf_t *sc)
{
    return sc->verify_on_register;
}

static const char *set_dir_flag(cmd_parms *cmd, void *dcv, int flag)
{
    *(int *)((char *)dcv + (apr_size_t)cmd->info) = flag;
    return NULL;
}

static const char *set_transformer(cmd_parms *cmd, void *dcv, const char *arg)
{
    ta_dir_conf_t *dc = dcv;

    if (strcmp(arg, "json") == 0)           dc->transformer = TA_TX_JSON;
    else if (strcmp(arg, "superjson") == 0) dc->transformer = TA_TX_SUPERJSON;
    else return fail(cmd, "'%s' must be json or superjson", arg);
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dcv, const char *arg)
{
    apr_int64_t n;

    if (parse_range(arg, 1, 64 * 1024 * 1024, &n) != 0) {
        return fail(cmd, "'%s' must be a size in bytes from 1 to 67108864", arg);
    }
    ((ta_dir_conf_t *)dcv)->max_body = (apr_off_t)n;
    return NULL;
}

static const char *set_max_batch(cmd_parms *cmd, void *dcv, const char *arg)
{
    apr_int64_t n;

    if (parse_range(arg, 1, 10000, &n) != 0) {
        return fail(cmd, "'%s' must be a number from 1 to 10000", arg);
    }
    ((ta_dir_conf_t *)dcv)->max_batch = (int)n;
    return NULL;
}

/* One origin per argument: scheme://host[:port], no path, never "*". */
static const char *add_cors_origin(cmd_parms *cmd, void *dcv, const char *origin)
{
    ta_dir_conf_t *dc = dcv;
    const char *hostpart;

    if (strcmp(origin, "*") == 0) {
        return fail(cmd, "'%s' is not allowed: credentials need an exact origin", origin);
    }
    if (strncmp(origin, "http://", 7) == 0)       hostpart = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0) hostpart = origin + 8;
    else return fail(cmd, "'%s' must start with http:// or https://", origin);
    if (!*hostpart || strchr(hostpart, '/')) {
        return fail(cmd, "'%s' must be an origin: scheme://host[:port] without a path", origin);
    }
    if (dc->cors_origins == NULL) {
        dc->cors_origins = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(dc->cors_origins, const char *) = origin;
    return NULL;
}

static const char *set_unauth_action(cmd_parms *cmd, void *dcv, const char *action,
                                     const char *url)
{
    ta_dir_conf_t *dc = dcv;

    if (strcmp(action, "401") == 0 && !url)       dc->unauth_action = TA_UNAUTH_401;
    else if (strcmp(action, "pass") == 0 && !url) dc->unauth_action = TA_UNAUTH_PASS;
    else if (strcmp(action, "redirect") == 0) {
        if (!url || url[0] != '/' || url[1] == '/' || url[1] == '\\') {
            return fail(cmd, "redirect needs a same-site path starting with '/', got '%s'",
                        url ? url : "");
        }
        dc->unauth_action = TA_UNAUTH_REDIRECT;
        dc->unauth_url = url;
    }
    else return fail(cmd, "'%s' must be 401, pass or redirect URL", action);
    return NULL;
}

static const char *set_identity_header(cmd_parms *cmd, void *dcv, const char *name)
{
    const char *c;

    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_') {
            return fail(cmd, "'%s' is not a valid header name", name);
        }
    }
    ((ta_dir_conf_t *)dcv)->identity_header = name;
    return NULL;
}

/* A file a directive names, read whole now (by root, at start) into
 * cmd->pool, NUL-terminated: its path relative to ServerRoot, at most max
 * bytes, a regular file. NULL, or a message that names the directive, the
 * path and what (what the file should be: "a mail template"). */
static const char *read_conf_file(cmd_parms *cmd, const char *file, apr_off_t max,
                                  const char *what, const char **path_out, char **buf_out,
                                  apr_size_t *len_out)
{
    const char *path = ap_server_root_relative(cmd->pool, file);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    apr_status_t rv;
    char *buf, e[120];

    if (path == NULL) {
        return fail(cmd, "bad path '%s'", file);
    }
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool))
        != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot open %s: %s", cmd->cmd->name, path,
                            apr_strerror(rv, e, sizeof(e)));
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f) != APR_SUCCESS
        || fi.filetype != APR_REG || fi.size > max) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: %s is not %s (a regular file of at most %"
                            APR_OFF_T_FMT " KB)", cmd->cmd->name, path, what, max / 1024);
    }
    len = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->pool, len + 1);
    rv = len ? apr_file_read_full(f, buf, len, &len) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot read %s: %s", cmd->cmd->name, path,
                            apr_strerror(rv, e, sizeof(e)));
    }
    buf[len] = '\0';
    *path_out = path;
    *buf_out = buf;
    *len_out = len;
    return NULL;
}

/* ---- mail delivery (issue 14) ---- */

/* TrpcAuthMailRelay smtp[s]://[user:password@]host[:port][/ehlo-name] */
static const char *set_mail_relay(cmd_parms *cmd, void *dummy, const char *url)
{
    ta_mail_relay_t *r;
    const char *err = ta_mail_relay_parse(cmd->pool, url, &r);

    if (err != NULL) {
        return fail(cmd, "%s", err);
    }
    server_conf(cmd)->mail_relay = r;
    return NULL;
}

/* TrpcAuthMailCAFile PATH: the CA certificates (PEM) that may sign the
 * relay's certificate, for a relay whose certificate no public CA signed (an
 * internal relay). Read now, as root, like the keys and the templates: a
 * wrong path fails configtest instead of every delivery, and the file may sit
 * where Apache's User cannot read it; the delivery process hands the text to
 * libcurl. */
#define MAIL_CA_FILE_MAX (8 * 1024 * 1024)

static const char *set_mail_ca_file(cmd_parms *cmd, void *dummy, const char *file)
{
    const char *path, *err;
    char *pem;
    apr_size_t len;

    if ((err = read_conf_file(cmd, file, MAIL_CA_FILE_MAX, "a file of CA certificates", &path,
                              &pem, &len)) != NULL) {
        return err;
    }
    if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL) {
        return apr_psprintf(cmd->pool, "%s: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                            cmd->cmd->name, path);
    }
    server_conf(cmd)->mail_ca_file = path;
    server_conf(cmd)->mail_ca_pem = pem;
    return NULL;
}

/* TrpcAuthMailFrom "Name <address>" */
static const char *set_mail_from(cmd_parms *cmd, void *dummy, const char *text)
{
    ta_server_conf_t *sc = server_conf(cmd);
    const char *err = ta_mail_from_parse(cmd->pool, text, &sc->mail_from_addr, &sc->mail_from);

    return err ? fail(cmd, "%s", err) : NULL;
}

/* TrpcAuthMailTemplate KIND FILE: read and checked now (by root, at start),
 * so a bad template fails configtest, not a delivery. */
static const char *set_mail_template(cmd_parms *cmd, void *dummy, const char *kind,
                                     const char *file)
{
    int k = ta_mail_kind_from_name(kind);
    const char *path, *err;
    ta_mail_template_t *t;
    apr_size_t len;
    char *text;

    if (k < 0) {
        return fail(cmd, "unknown kind '%s' (verify-email or reset-password)", kind);
    }
    if ((err = read_conf_file(cmd, file, TA_MAIL_TEMPLATE_MAX, "a mail template", &path, &text,
                              &len)) != NULL) {
        return err;
    }
    t = apr_pcalloc(cmd->pool, sizeof(*t));
    if ((err = ta_mail_template_parse(cmd->pool, text, len, t)) != NULL) {
        return apr_psprintf(cmd->pool, "%s %s: %s: %s", cmd->cmd->name, kind, path, err);
    }
    server_conf(cmd)->mail_template[k] = t;
    return NULL;
}

/* TrpcAuthMailRetry FIRST MAX: the wait after a failed delivery, doubled on
 * every failure up to MAX. */
static const char *set_mail_retry(cmd_parms *cmd, void *dummy, const char *first,
                                  const char *max)
{
    ta_server_conf_t *sc = server_conf(cmd);
    apr_interval_time_t a, b;

    if (ta_duration_parse(first, &a) != 0 || a < apr_time_from_msec(100)
        || a > apr_time_from_sec(3600)) {
        return fail(cmd, "'%s' is not a duration from 100ms to 1h", first);
    }
    if (ta_duration_parse(max, &b) != 0 || b < a || b > apr_time_from_sec(86400)) {
        return fail(cmd, "'%s' is not a duration from the first wait to 1d", max);
    }
    sc->mail_retry_min = a;
    sc->mail_retry_max = b;
    return NULL;
}

/* The offset of a field, the cmd->info of the generic setters. (Not DIR: <dirent.h> has that name.) */
#define SRV_FIELD(f) (void *)APR_OFFSETOF(ta_server_conf_t, f)
#define DIR_FIELD(f) (void *)APR_OFFSETOF(ta_dir_conf_t, f)
#define DIR_SCOPE (RSRC_CONF | ACCESS_CONF | OR_AUTHCFG)

const command_rec ta_directives[] = {
    AP_INIT_TAKE1("TrpcAuthRedis", set_redis, NULL, RSRC_CONF,
        "Redis server: redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]"),
    AP_INIT_TAKE1("TrpcAuthDBTimeout", set_server_ttl, SRV_FIELD(db_timeout), RSRC_CONF,
        "Longest wait for a PostgreSQL answer before SERVICE_UNAVAILABLE (default 3s)"),
    AP_INIT_TAKE1("TrpcAuthRedisTimeout", set_server_duration, SRV_FIELD(redis_timeout), RSRC_CONF,
        "Connect and I/O timeout for Redis (default 500ms)"),
    AP_INIT_TAKE1("TrpcAuthKeyPrefix", set_server_string, SRV_FIELD(key_prefix), RSRC_CONF,
        "Prefix of every Redis key (default trpcauth:)"),
    AP_INIT_TAKE23("TrpcAuthAccessKey", add_key, NULL, RSRC_CONF,
        "Access-token key: alg (HS256|ES256|EdDSA|RS256) file:/path|env:NAME [kid]; "
        "repeat to rotate: the first signs, all verify"),
    AP_INIT_TAKE23("TrpcAuthRefreshKey", add_key, (void *)1, RSRC_CONF,
        "Refresh-token key: alg file:/path|env:NAME [kid]"),
    AP_INIT_TAKE1("TrpcAuthAccessTokenTTL", set_server_ttl, SRV_FIELD(access_ttl), RSRC_CONF,
        "Access-token lifetime (default 15m)"),
    AP_INIT_TAKE1("TrpcAuthRefreshTokenTTL", set_server_ttl, SRV_FIELD(refresh_ttl), RSRC_CONF,
        "Refresh-token and session lifetime (default 7d)"),
    AP_INIT_TAKE1("TrpcAuthIssuer", set_server_string, SRV_FIELD(issuer), RSRC_CONF,
        "iss claim written into and required in tokens"),
    AP_INIT_TAKE1("TrpcAuthAudience", set_server_string, SRV_FIELD(audience), RSRC_CONF,
        "aud claim written into and required in tokens"),
    AP_INIT_FLAG("TrpcAuthRefreshRotation", set_server_flag, SRV_FIELD(refresh_rotation), RSRC_CONF,
        "Issue a new refresh token on every refresh (default On)"),
    AP_INIT_TAKE1("TrpcAuthRefreshReuseGrace", set_server_tolerance, SRV_FIELD(refresh_grace),
        RSRC_CONF, "Window in which a just-rotated refresh token is still accepted "
        "(default 10s, at most 5m)"),
    AP_INIT_FLAG("TrpcAuthRefreshReturnsAccessToken", set_server_flag,
        SRV_FIELD(refresh_returns_access), RSRC_CONF,
        "Add accessToken to the output of auth.refreshAccessToken (default Off)"),
    AP_INIT_TAKE1("TrpcAuthClockSkew", set_server_tolerance, SRV_FIELD(clock_skew), RSRC_CONF,
        "Clock skew tolerated on token exp/iat/nbf (default 5s, at most 5m)"),
    AP_INIT_TAKE1("TrpcAuthTokenCache", set_token_cache, NULL, RSRC_CONF,
        "Verified access tokens remembered per child, exp still checked each time "
        "(default 1024; 0 turns the cache off)"),
    AP_INIT_TAKE1("TrpcAuthSessionCache", set_session_cache, SRV_FIELD(session_cache_age), RSRC_CONF,
        "Longest time a session found in Redis is trusted without asking again; Redis client "
        "tracking drops it at once when it changes (default 60s; 0 or Off: ask Redis on every "
        "request)"),
    AP_INIT_FLAG("TrpcAuthSessionCheck", set_dir_flag, DIR_FIELD(session_check), DIR_SCOPE,
        "Check in Redis that the session of an access token still exists (default On)"),
    AP_INIT_TAKE3("TrpcAuthCookieNames", set_cookie_names, NULL, RSRC_CONF,
        "Cookie names: access refresh loggedin (default accessToken refreshToken logged_in)"),
    AP_INIT_FLAG("TrpcAuthCookieSecure", set_server_flag, SRV_FIELD(cookie_secure), RSRC_CONF,
        "Mark cookies Secure (default On; Off for plain-HTTP development)"),
    AP_INIT_TAKE1("TrpcAuthCookieSameSite", set_samesite, NULL, RSRC_CONF,
        "SameSite attribute of the cookies: Strict, Lax or None (default Strict)"),
    AP_INIT_TAKE1("TrpcAuthCookieDomain", set_server_string, SRV_FIELD(cookie_domain), RSRC_CONF,
        "Domain attribute of the cookies (default: host-only)"),
    AP_INIT_TAKE1("TrpcAuthTransformer", set_transformer, NULL, DIR_SCOPE,
        "tRPC transformer of this location: json or superjson (default json)"),
    AP_INIT_TAKE1("TrpcAuthMaxBodySize", set_max_body, NULL, DIR_SCOPE,
        "Largest request body in bytes (default 65536)"),
    AP_INIT_TAKE1("TrpcAuthMaxBatchSize", set_max_batch, NULL, DIR_SCOPE,
        "Most calls in one batch (default 32)"),
    AP_INIT_ITERATE("TrpcAuthCORSOrigin", add_cors_origin, NULL, DIR_SCOPE,
        "Origins allowed to call with credentials; mutations from other origins are refused"),
    AP_INIT_TAKE1("TrpcAuthBcryptCost", set_bcrypt_cost, NULL, RSRC_CONF,
        "bcrypt work factor for new password hashes (default 12)"),
    AP_INIT_TAKE12("TrpcAuthUnauthAction", set_unauth_action, NULL, DIR_SCOPE,
        "Unauthenticated requests: 401 (default), pass, or redirect /login-path"),
    AP_INIT_FLAG("TrpcAuthAutoRefresh", set_dir_flag, DIR_FIELD(auto_refresh), DIR_SCOPE,
        "Refresh inside the request when the access cookie is missing or expired"),
    AP_INIT_TAKE1("TrpcAuthIdentityHeader", set_identity_header, NULL, DIR_SCOPE,
        "Request header carrying the user id to backends (a client-sent one is removed)"),
    AP_INIT_FLAG("TrpcAuthPassCookies", set_dir_flag, DIR_FIELD(pass_cookies), DIR_SCOPE,
        "Leave the module's cookies in the Cookie header handed to CGI and proxied "
        "backends of AuthType trpcauth locations (default Off: removed)"),
    AP_INIT_TAKE3("TrpcAuthRateLimit", set_rate_limit, NULL, RSRC_CONF,
        "Attempts allowed: scope (login-account|login-account-ip|login-ip|register-ip|"
        "refresh-session|password-user|password-session|mail-address|mail-ip) count window"),
    AP_INIT_FLAG("TrpcAuthAuditLog", set_server_flag, SRV_FIELD(audit_log), RSRC_CONF,
        "Write auth_events rows (default On)"),
    /* e-mail verification and password reset (issue 14: the request side) */
    AP_INIT_TAKE1("TrpcAuthPublicURL", set_public_url, NULL, RSRC_CONF,
        "Public base URL of the app that mail links point to, e.g. https://app.example.com "
        "(no default: without it no mail link is made)"),
    AP_INIT_TAKE2("TrpcAuthMailPage", set_mail_page, NULL, RSRC_CONF,
        "Page of a mail link: kind (verify-email|reset-password) /path (default /#verify-email, "
        "/#reset-password); the token follows in the fragment"),
    AP_INIT_TAKE1("TrpcAuthVerifyEmailTTL", set_server_ttl,
        SRV_FIELD(mail_ttl[TA_MAIL_VERIFY_EMAIL]), RSRC_CONF,
        "Lifetime of an e-mail verification link (default 24h)"),
    AP_INIT_TAKE1("TrpcAuthResetPasswordTTL", set_server_ttl,
        SRV_FIELD(mail_ttl[TA_MAIL_RESET_PASSWORD]), RSRC_CONF,
        "Lifetime of a password reset link (default 1h)"),
    AP_INIT_FLAG("TrpcAuthVerifyOnRegister", set_server_flag, SRV_FIELD(verify_on_register), RSRC_CONF,
        "auth.register mails a verification link (default On)"),
    AP_INIT_FLAG("TrpcAuthRequireVerifiedEmail", set_server_flag, SRV_FIELD(require_verified_email),
        RSRC_CONF, "auth.login refuses accounts whose address is not verified (default Off)"),
    /* mail delivery (issue 14) */
    AP_INIT_TAKE1("TrpcAuthMailRelay", set_mail_relay, NULL, RSRC_CONF,
        "SMTP relay of the outbox: smtp://[user:password@]host[:port] (STARTTLS when offered, "
        "required with a password) or smtps://...; unset: no delivery process"),
    AP_INIT_TAKE1("TrpcAuthMailCAFile", set_mail_ca_file, NULL, RSRC_CONF,
        "PEM file of the CA certificates that may sign the relay's TLS certificate "
        "(default: the system's CA store); the relay's name and certificate are always verified"),
    AP_INIT_TAKE1("TrpcAuthMailFrom", set_mail_from, NULL, RSRC_CONF,
        "Sender of the module's mails: address or \"Name <address>\""),
    AP_INIT_TAKE2("TrpcAuthMailTemplate", set_mail_template, NULL, RSRC_CONF,
        "Text of a kind of mail: verify-email|reset-password FILE (default: the shipped text)"),
    AP_INIT_TAKE2("TrpcAuthMailRetry", set_mail_retry, NULL, RSRC_CONF,
        "Wait after a failed delivery, doubled each time up to the second value "
        "(default 2s 5m)"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* start-up check                                                      */

/* Browsers drop a __Host- cookie that has a Domain or lacks Secure, and a
 * __Secure- cookie that lacks Secure (every cookie here has Path=/). Such a
 * name would make every login silently fail. */
static const char *check_cookie_prefixes(apr_pool_t *p, const ta_server_conf_t *sc)
{
    const char *names[3] = { sc->cookie_access, sc->cookie_refresh, sc->cookie_loggedin };
    int i;

    for (i = 0; i < 3; i++) {
        int host = strncasecmp(names[i], "__Host-", 7) == 0;
        int secure = host || strncasecmp(names[i], "__Secure-", 9) == 0;

        if (host && sc->cookie_domain != NULL) {
            return apr_psprintf(p, "TrpcAuthCookieNames: cookie %s may not have a Domain "
                                "(browsers refuse __Host- cookies with one): remove "
                                "TrpcAuthCookieDomain", names[i]);
        }
        if (secure && !ta_conf_cookie_secure(sc)) {
            return apr_psprintf(p, "TrpcAuthCookieNames: cookie %s needs "
                                "TrpcAuthCookieSecure On (browsers refuse it without Secure)",
                                names[i]);
        }
    }
    return NULL;
}

#define SET_DEFAULT(f, d)     if (sc->f == TA_UNSET) sc->f = (d)
#define SET_DEFAULT_PTR(f, d) if (sc->f == NULL) sc->f = (d)

/* The one place where a server's unset settings get their defaults. */
static void apply_server_defaults(apr_pool_t *p, ta_server_conf_t *sc)
{
    int i;

    if (sc->redis == NULL) {
        ta_redis_url_t *u;
        ta_redis_url_parse(p, DEFAULT_REDIS_URL, &u);
        sc->redis = u;
    }
    SET_DEFAULT(redis_timeout, DEFAULT_REDIS_TIMEOUT);
    SET_DEFAULT(db_timeout, DEFAULT_DB_TIMEOUT);
    SET_DEFAULT_PTR(key_prefix, DEFAULT_KEY_PREFIX);
    SET_DEFAULT(access_ttl, DEFAULT_ACCESS_TTL);
    SET_DEFAULT(refresh_ttl, DEFAULT_REFRESH_TTL);
    SET_DEFAULT(refresh_rotation, DEFAULT_REFRESH_ROTATION);
    SET_DEFAULT(refresh_grace, DEFAULT_REFRESH_GRACE);
    SET_DEFAULT(refresh_returns_access, DEFAULT_REFRESH_RETURNS_ACCESS);
    SET_DEFAULT(clock_skew, DEFAULT_CLOCK_SKEW);
    SET_DEFAULT(token_cache_entries, DEFAULT_TOKEN_CACHE);
    SET_DEFAULT(session_cache_age, DEFAULT_SESSION_CACHE);
    SET_DEFAULT_PTR(cookie_access, DEFAULT_COOKIE_ACCESS);
    SET_DEFAULT_PTR(cookie_refresh, DEFAULT_COOKIE_REFRESH);
    SET_DEFAULT_PTR(cookie_loggedin, DEFAULT_COOKIE_LOGGEDIN);
    SET_DEFAULT(cookie_secure, DEFAULT_COOKIE_SECURE);
    SET_DEFAULT_PTR(cookie_samesite, DEFAULT_COOKIE_SAMESITE);
    SET_DEFAULT(bcrypt_cost, DEFAULT_BCRYPT_COST);
    SET_DEFAULT(audit_log, DEFAULT_AUDIT_LOG);
    SET_DEFAULT(require_verified_email, DEFAULT_REQUIRE_VERIFIED_EMAIL);
    SET_DEFAULT(verify_on_register, DEFAULT_VERIFY_ON_REGISTER);
    SET_DEFAULT(mail_retry_min, DEFAULT_MAIL_RETRY_MIN);
    SET_DEFAULT(mail_retry_max, DEFAULT_MAIL_RETRY_MAX);
    for (i = 0; i < TA_MAIL__COUNT; i++) {
        SET_DEFAULT_PTR(mail_page[i], mail_default_page[i]);
        SET_DEFAULT(mail_ttl[i], mail_default_ttl[i]);
    }
    for (i = 0; i < TA_RL__COUNT; i++) {
        if (sc->rate[i].count == TA_UNSET) {
            sc->rate[i] = default_rate[i];
        }
    }
}

const char *ta_conf_check(apr_pool_t *p, server_rec *s, ta_server_conf_t *sc)
{
    apply_server_defaults(p, sc);
    if (sc->access_keys == NULL) {
        return "TrpcAuthAccessKey is required (e.g. TrpcAuthAccessKey HS256 file:/path/to/secret)";
    }
    if (sc->refresh_keys == NULL) {
        return "TrpcAuthRefreshKey is required (e.g. TrpcAuthRefreshKey HS256 file:/path/to/secret)";
    }
    if (ta_jti_key_derive(APR_ARRAY_IDX(sc->refresh_keys->keys, 0, const ta_key_t *),
                          sc->state.jti_key) != 0) {
        return "TrpcAuthRefreshKey: the first refresh key must be able to sign "
               "(a secret or a private key, not a public key)";
    }
    /* The same key material, another label: the seal key is apart from the jti key. */
    if (ta_seal_key_derive(APR_ARRAY_IDX(sc->refresh_keys->keys, 0, const ta_key_t *),
                           sc->state.seal_key) != 0) {
        return "TrpcAuthRefreshKey: the first refresh key must be able to sign";
    }
    return check_cookie_prefixes(p, sc);
}

void ta_conf_warn(server_rec *s, const ta_server_conf_t *sc, const ta_server_conf_t *main_sc)
{
    int risky = strcmp(sc->cookie_samesite, "None") == 0 && !ta_conf_cookie_secure(sc);
    int main_risky = main_sc != NULL && strcmp(main_sc->cookie_samesite, "None") == 0
                     && !ta_conf_cookie_secure(main_sc);

    /* Once for the main server, and for a virtual host only where it differs. */
    if (risky && (sc == main_sc || !main_risky)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TA_LOGNO(901)
                     "TrpcAuthCookieSameSite None without TrpcAuthCookieSecure On (server %s, "
                     "%s:%d): browsers drop SameSite=None cookies that are not Secure, so "
                     "logins will not stick", s->server_hostname ? s->server_hostname : "-",
                     s->defn_name ? s->defn_name : "main configuration", s->defn_line_number);
    }
}
