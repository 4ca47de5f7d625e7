/*
 * cfg/config.h - per-server and per-directory configuration, and the directive
 * table. Every field has an explicit "unset" value so merges can tell an
 * inherited value from one set to its default. Every default is named in one
 * block of config.c: a server's are applied once by ta_conf_check (check_config),
 * a directory's by its getter; code outside cfg/ reads settings through the
 * ta_conf_* getters.
 */
#ifndef TA_CONFIG_H
#define TA_CONFIG_H

#include <httpd.h>
#include <http_config.h>

#include "jose/jws.h"
#include "util/redis_url.h"
#include "trpc/trpc.h"
#include "mail/message.h"
#include "mail/template.h"

#define TA_UNSET (-1)

/* Rate-limit scopes (TrpcAuthRateLimit); src/store/ratelimit.c says what each counts. */
typedef enum {
    TA_RL_LOGIN_ACCOUNT = 0,         /* failed logins per account: slows down beyond */
    TA_RL_LOGIN_IP,                  /* failed logins per client address */
    TA_RL_REGISTER_IP,
    TA_RL_REFRESH_SESSION,
    TA_RL_LOGIN_ACCOUNT_IP,          /* failed logins per (account, client address) */
    TA_RL_PASSWORD_USER,             /* wrong currentPassword per user */
    TA_RL_PASSWORD_SESSION,          /* wrong currentPassword per session */
    TA_RL_MAIL_ADDRESS,              /* verification / reset mails requested per address */
    TA_RL_MAIL_IP,                   /* verification / reset mails requested per client address */
    TA_RL__COUNT
} ta_rate_scope_t;

typedef struct {
    int count;                       /* TA_UNSET when not configured */
    apr_interval_time_t window;
} ta_rate_limit_t;

/* The kinds of mail links (email_tokens.kind, mail_outbox.kind): ta_mail_kind_t,
 * TA_MAIL_VERIFY_EMAIL, TA_MAIL_RESET_PASSWORD, TA_MAIL__COUNT, in mail/template.h. */

typedef struct ta_redis_pool ta_redis_pool_t;
typedef struct ta_tokcache ta_tokcache_t;
typedef struct ta_sesscache ta_sesscache_t;

/* What the module makes for a server at start and in each child, apart from
 * its configuration (as mod_dbd keeps its dbd_group_t apart from its
 * svr_cfg): written by hooks/lifecycle.c (and the jti key by ta_conf_check),
 * never by a directive, never merged. */
typedef struct {
    /* Set by check_config: this server uses the module (src/hooks/lifecycle.c).
     * Nothing is checked, defaulted or started for a server that does not. */
    int active;
    /* Key of the deterministic refresh-token ids (jose/jti.h), derived at start
     * from the refresh signing key; never leaves the process. */
    unsigned char jti_key[32];
    /* Key that seals the links waiting in mail_outbox (jose/seal.h), derived at
     * start from the refresh signing key like jti_key; never leaves the process. */
    unsigned char seal_key[32];
    const char *dummy_hash;          /* made at start: unknown emails still cost a bcrypt */
    ta_redis_pool_t *redis_pool;     /* per child, made in child_init */
    ta_sesscache_t *session_cache;   /* per child, made in child_init; NULL when off */
    ta_tokcache_t *token_cache;      /* per child, made in child_init; NULL when off */
} ta_server_state_t;

typedef struct {
    ta_server_state_t state;         /* runtime state, not configuration */

    /* Redis */
    const ta_redis_url_t *redis;     /* TrpcAuthRedis, parsed; logs show redis->redacted only */
    apr_interval_time_t redis_timeout;   /* TA_UNSET */
    apr_interval_time_t db_timeout;      /* TA_UNSET: PostgreSQL query timeout */
    const char *key_prefix;
    apr_interval_time_t session_cache_age;  /* TA_UNSET; 0: no session cache */

    /* Tokens */
    ta_keyset_t *access_keys;
    ta_keyset_t *refresh_keys;
    apr_interval_time_t access_ttl;  /* TA_UNSET */
    apr_interval_time_t refresh_ttl;
    const char *issuer;
    const char *audience;
    int refresh_rotation;            /* TA_UNSET / 0 / 1 */
    apr_interval_time_t refresh_grace;
    int refresh_returns_access;
    apr_interval_time_t clock_skew;  /* TA_UNSET: leeway on exp/iat/nbf */
    int token_cache_entries;         /* TA_UNSET; 0: no cache of verified access tokens */

    /* Cookies */
    const char *cookie_access;
    const char *cookie_refresh;
    const char *cookie_loggedin;
    int cookie_secure;
    const char *cookie_samesite;
    const char *cookie_domain;

    /* Passwords, limits, audit */
    int bcrypt_cost;
    ta_rate_limit_t rate[TA_RL__COUNT];
    int audit_log;

    /* E-mail verification and password reset (issue 14, src/proc/email.c) */
    int require_verified_email;      /* TA_UNSET / 0 / 1 */
    int verify_on_register;          /* TA_UNSET / 0 / 1 */
    const char *public_url;          /* TrpcAuthPublicURL, no trailing '/'; NULL: no mail links */
    const char *mail_page[TA_MAIL__COUNT];   /* TrpcAuthMailPage; NULL: the default */
    apr_interval_time_t mail_ttl[TA_MAIL__COUNT];   /* TA_UNSET: TrpcAuth*TTL of each kind */
    /* Mail delivery (issue 14; the delivery process: src/hooks/maild.c) */
    const ta_mail_relay_t *mail_relay;   /* TrpcAuthMailRelay; NULL: no delivery process.
                                          * Holds the password: logs show mail_relay->redacted */
    const char *mail_ca_file;            /* TrpcAuthMailCAFile: the file, for the log ... */
    const char *mail_ca_pem;             /* ... and its text, read at start (NULL: the system's CAs) */
    const char *mail_from_addr;          /* TrpcAuthMailFrom: the envelope sender ... */
    const char *mail_from;               /* ... and the From header */
    const ta_mail_template_t *mail_template[TA_MAIL__COUNT];  /* NULL: the shipped text */
    apr_interval_time_t mail_retry_min;  /* TrpcAuthMailRetry; TA_UNSET */
    apr_interval_time_t mail_retry_max;
} ta_server_conf_t;

typedef enum { TA_UNAUTH_401 = 0, TA_UNAUTH_REDIRECT, TA_UNAUTH_PASS } ta_unauth_action_t;

typedef struct {
    const char *location;            /* the <Location> path, the tRPC prefix */
    int session_check;               /* TA_UNSET / 0 / 1 */
    int transformer;                 /* TA_UNSET or ta_transformer_t */
    apr_off_t max_body;              /* TA_UNSET */
    int max_batch;
    apr_array_header_t *cors_origins;/* of const char*, NULL = unset */
    int unauth_action;               /* TA_UNSET or ta_unauth_action_t */
    const char *unauth_url;
    int auto_refresh;
    const char *identity_header;
    int pass_cookies;                /* TA_UNSET / 0 / 1: the module's cookies reach handlers */
} ta_dir_conf_t;

extern const command_rec ta_directives[];

void *ta_create_server_conf(apr_pool_t *p, server_rec *s);
void *ta_merge_server_conf(apr_pool_t *p, void *base, void *add);
void *ta_create_dir_conf(apr_pool_t *p, char *dir);
void *ta_merge_dir_conf(apr_pool_t *p, void *base, void *add);

/* Fills in the defaults of every unset setting of a server that uses the
 * module and checks its merged configuration (keys present, cookie prefixes
 * that browsers accept, ...): the server getters read what it leaves; run by check_config, so
 * `apachectl configtest` reports it. Returns an error message that names the
 * directive, or NULL. */
const char *ta_conf_check(apr_pool_t *p, server_rec *s, ta_server_conf_t *sc);

/* Logs, at start, settings that work but defeat themselves (SameSite=None
 * without Secure). main_sc is the main server's (NULL when it does not use
 * the module), so that virtual hosts that only inherit a problem do not repeat
 * its warning. After ta_conf_check. */
void ta_conf_warn(server_rec *s, const ta_server_conf_t *sc, const ta_server_conf_t *main_sc);

/* Getters: server settings after ta_conf_check, directory settings with the
 * defaults of CONTRACT §9. */
apr_interval_time_t ta_conf_redis_timeout(const ta_server_conf_t *sc);
apr_interval_time_t ta_conf_db_timeout(const ta_server_conf_t *sc);
int ta_conf_access_ttl(const ta_server_conf_t *sc);        /* seconds */
int ta_conf_refresh_ttl(const ta_server_conf_t *sc);       /* seconds */
int ta_conf_refresh_rotation(const ta_server_conf_t *sc);
apr_int64_t ta_conf_refresh_grace_ms(const ta_server_conf_t *sc);
int ta_conf_clock_skew(const ta_server_conf_t *sc);        /* seconds */
int ta_conf_token_cache_entries(const ta_server_conf_t *sc);
apr_int64_t ta_conf_session_cache_ms(const ta_server_conf_t *sc);   /* 0: off */
int ta_conf_cookie_secure(const ta_server_conf_t *sc);
int ta_conf_bcrypt_cost(const ta_server_conf_t *sc);
int ta_conf_audit_log(const ta_server_conf_t *sc);
ta_rate_limit_t ta_conf_rate(const ta_server_conf_t *sc, ta_rate_scope_t scope);
const char *ta_conf_rate_name(ta_rate_scope_t scope);   /* "login-account", ... */
const ta_mail_template_t *ta_conf_mail_template(apr_pool_t *p, const ta_server_conf_t *sc,
                                                ta_mail_kind_t kind);
apr_interval_time_t ta_conf_mail_retry_min(const ta_server_conf_t *sc);
apr_interval_time_t ta_conf_mail_retry_max(const ta_server_conf_t *sc);

/* E-mail verification and password reset */
int ta_conf_require_verified_email(const ta_server_conf_t *sc);
int ta_conf_verify_on_register(const ta_server_conf_t *sc);
int ta_conf_mail_ttl(const ta_server_conf_t *sc, ta_mail_kind_t kind);   /* seconds */
const char *ta_conf_mail_page(const ta_server_conf_t *sc, ta_mail_kind_t kind);
const char *ta_conf_mail_kind_name(ta_mail_kind_t kind);   /* "verify-email", ... */

int ta_conf_session_check(const ta_dir_conf_t *dc);
ta_transformer_t ta_conf_transformer(const ta_dir_conf_t *dc);
apr_off_t ta_conf_max_body(const ta_dir_conf_t *dc);
int ta_conf_max_batch(const ta_dir_conf_t *dc);
ta_unauth_action_t ta_conf_unauth_action(const ta_dir_conf_t *dc);
int ta_conf_auto_refresh(const ta_dir_conf_t *dc);
int ta_conf_pass_cookies(const ta_dir_conf_t *dc);

/* Settings read as they are (after ta_conf_check for a server's): code outside
 * cfg/ reads every setting through a ta_conf_* getter, never a field, so the
 * structs can become opaque. Inline: several run on every request. */
static APR_INLINE const char *ta_conf_issuer(const ta_server_conf_t *sc)
    { return sc->issuer; }
static APR_INLINE const char *ta_conf_audience(const ta_server_conf_t *sc)
    { return sc->audience; }
static APR_INLINE const char *ta_conf_cookie_access(const ta_server_conf_t *sc)
    { return sc->cookie_access; }
static APR_INLINE const char *ta_conf_cookie_refresh(const ta_server_conf_t *sc)
    { return sc->cookie_refresh; }
static APR_INLINE const char *ta_conf_cookie_loggedin(const ta_server_conf_t *sc)
    { return sc->cookie_loggedin; }
static APR_INLINE const char *ta_conf_cookie_samesite(const ta_server_conf_t *sc)
    { return sc->cookie_samesite; }
static APR_INLINE const char *ta_conf_cookie_domain(const ta_server_conf_t *sc)
    { return sc->cookie_domain; }
static APR_INLINE const char *ta_conf_key_prefix(const ta_server_conf_t *sc)
    { return sc->key_prefix; }
static APR_INLINE const ta_keyset_t *ta_conf_access_keys(const ta_server_conf_t *sc)
    { return sc->access_keys; }
static APR_INLINE const ta_keyset_t *ta_conf_refresh_keys(const ta_server_conf_t *sc)
    { return sc->refresh_keys; }
static APR_INLINE const ta_redis_url_t *ta_conf_redis(const ta_server_conf_t *sc)
    { return sc->redis; }
static APR_INLINE const char *ta_conf_public_url(const ta_server_conf_t *sc)
    { return sc->public_url; }
static APR_INLINE const ta_mail_relay_t *ta_conf_mail_relay(const ta_server_conf_t *sc)
    { return sc->mail_relay; }
static APR_INLINE const char *ta_conf_mail_ca_file(const ta_server_conf_t *sc)
    { return sc->mail_ca_file; }
static APR_INLINE const char *ta_conf_mail_ca_pem(const ta_server_conf_t *sc)
    { return sc->mail_ca_pem; }
static APR_INLINE const char *ta_conf_mail_from_addr(const ta_server_conf_t *sc)
    { return sc->mail_from_addr; }
static APR_INLINE const char *ta_conf_mail_from(const ta_server_conf_t *sc)
    { return sc->mail_from; }
static APR_INLINE int ta_conf_refresh_returns_access(const ta_server_conf_t *sc)
    { return sc->refresh_returns_access; }
static APR_INLINE const char *ta_conf_identity_header(const ta_dir_conf_t *dc)
    { return dc->identity_header; }
static APR_INLINE const apr_array_header_t *ta_conf_cors_origins(const ta_dir_conf_t *dc)
    { return dc->cors_origins; }
static APR_INLINE const char *ta_conf_unauth_url(const ta_dir_conf_t *dc)
    { return dc->unauth_url; }
static APR_INLINE const char *ta_conf_location(const ta_dir_conf_t *dc)
    { return dc->location; }

#endif
