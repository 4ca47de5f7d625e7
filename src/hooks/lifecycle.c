/*
 * lifecycle.c - what the module does at start, in the order httpd runs it
 * (server/main.c): check_config, post_config, child_init.
 *
 *   check_config  finds the servers that use the module and checks their
 *                 configuration; `apachectl configtest` runs this hook, so
 *                 every error shows there, naming the directive
 *   post_config   registers the prepared statements with mod_dbd for each
 *                 server that uses the module, makes the dummy bcrypt hash
 *   child_init    creates the runtime state (Redis pool, caches, listener)
 *                 once per distinct configuration, and starts the warmer
 *                 of the mod_dbd pools the module uses (after mod_dbd's
 *                 own child_init, which makes them)
 *
 * A module that is loaded but used nowhere does nothing at all: no error, no
 * bcrypt, no thread, no connection (as mod_authn_socache when unconfigured).
 * A server uses the module when its part of the configuration (the top level,
 * which every virtual host inherits, or its own <VirtualHost>) names the
 * handler (SetHandler/AddHandler trpcauth), the AuthType (AuthType trpcauth)
 * or any TrpcAuth directive.
 */
#include "hooks/lifecycle.h"
#include "hooks/maild.h"
#include "cfg/config.h"
#include "store/db.h"
#include "store/email.h"
#include "store/dbwarm.h"
#include "cfg/log.h"
#include "util/password.h"
#include "store/redis.h"
#include "util/redis_url.h"
#include "cache/sesscache.h"
#include "cache/tokcache.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <util_cfgtree.h>

#define TA_NAME "trpcauth"

/* ------------------------------------------------------------------ */
/* which servers use the module                                        */

/* The directive of node uses the module: the handler, the AuthType, or one
 * of our own directives. */
static int is_use(const ap_directive_t *node)
{
    const char *d = node->directive, *args = node->args ? node->args : "";
    apr_size_t n = strcspn(args, " \t");

    if (strncasecmp(d, "TrpcAuth", 8) == 0) {
        return 1;
    }
    if (strcasecmp(d, "SetHandler") == 0 || strcasecmp(d, "AddHandler") == 0
        || strcasecmp(d, "AuthType") == 0) {
        return n == sizeof(TA_NAME) - 1 && strncasecmp(args, TA_NAME, n) == 0;
    }
    return 0;
}

/* The virtual host that a <VirtualHost> node defined (httpd records where). */
static server_rec *vhost_of(server_rec *main_s, const ap_directive_t *node)
{
    server_rec *sp;

    for (sp = main_s->next; sp; sp = sp->next) {
        if (sp->defn_line_number == (unsigned)node->line_num && sp->defn_name
            && node->filename && strcmp(sp->defn_name, node->filename) == 0) {
            return sp;
        }
    }
    return NULL;
}

/* Remembers the first use in each server: a top-level one is a use by every
 * server (virtual hosts inherit the top level), one inside <VirtualHost> by
 * that host only. */
static void note_use(apr_hash_t *uses, server_rec *owner, const ap_directive_t *node)
{
    if (apr_hash_get(uses, &owner, sizeof(owner)) == NULL) {
        server_rec **key = apr_pmemdup(apr_hash_pool_get(uses), &owner, sizeof(owner));
        apr_hash_set(uses, key, sizeof(*key), node);
    }
}

static void find_uses(server_rec *main_s, const ap_directive_t *node, server_rec *owner,
                      apr_hash_t *uses)
{
    for (; node; node = node->next) {
        server_rec *inner = owner;

        if (strcasecmp(node->directive, "<VirtualHost") == 0) {
            inner = vhost_of(main_s, node);
        }
        else if (is_use(node)) {
            note_use(uses, owner, node);
        }
        if (node->first_child && inner) {
            find_uses(main_s, node->first_child, inner, uses);
        }
    }
}

/* The node of the first use that server sp inherits or makes, or NULL. */
static const ap_directive_t *use_of(apr_hash_t *uses, server_rec *main_s, server_rec *sp)
{
    const ap_directive_t *node = apr_hash_get(uses, &sp, sizeof(sp));

    return node ? node : apr_hash_get(uses, &main_s, sizeof(main_s));
}

static ta_server_conf_t *conf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &trpcauth_module);
}

/* "the main server" or "virtual host name:port (file:line)", for messages. */
static const char *server_name(apr_pool_t *p, const server_rec *sp)
{
    if (!sp->is_virtual) {
        return "the main server";
    }
    return apr_psprintf(p, "virtual host %s:%u (%s:%u)",
                        sp->server_hostname ? sp->server_hostname : "*", sp->port,
                        sp->defn_name ? sp->defn_name : "?", sp->defn_line_number);
}

/* Virtual hosts without a directive of a module share the main server's
 * configuration of that module (http_config.c merge_server_configs), so
 * "active" is set on every configuration that a using server has, and
 * checked once per server that uses it. */
int ta_lifecycle_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    apr_hash_t *uses = apr_hash_make(ptemp);
    const ap_directive_t *use;
    const char *err;
    server_rec *sp;
    int failed = 0;

    find_uses(s, ap_conftree, s, uses);
    for (sp = s; sp; sp = sp->next) {
        conf_of(sp)->active = 0;
    }
    for (sp = s; sp; sp = sp->next) {
        if ((use = use_of(uses, s, sp)) == NULL) {
            continue;
        }
        conf_of(sp)->active = 1;
        err = ta_db_available() ? ta_conf_check(pconf, sp, conf_of(sp))
                                : "mod_dbd must be loaded (LoadModule dbd_module, a2enmod dbd)";
        if (err == NULL) {
            err = ta_maild_check(ptemp, s, sp);
        }
        if (err != NULL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, TA_LOGNO(4)
                         "mod_trpcauth: %s (in %s; the module is used by %s %s at %s:%d)",
                         err, server_name(ptemp, sp), use->directive, use->args ? use->args : "",
                         use->filename, use->line_num);
            failed = 1;
        }
    }
    return failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* ------------------------------------------------------------------ */
/* post_config                                                         */

/* The dummy hash of a bcrypt cost, made once per process: an unknown email
 * still costs one bcrypt comparison. httpd reads its configuration twice at
 * start and again on every restart; the process pool outlives them all. */
static const char *dummy_hash(apr_pool_t *ptemp, server_rec *s, int cost)
{
    apr_pool_t *pp = s->process->pool;
    const char *key = apr_psprintf(ptemp, "trpcauth-dummy-hash-%d", cost);
    void *hash = NULL;

    apr_pool_userdata_get(&hash, key, pp);
    if (hash == NULL) {
        /* Only a new hash allocates from the process pool (userdata keeps
         * the key's pointer), so restarts do not grow it. */
        hash = ta_password_hash(pp, "trpcauth dummy password", cost);
        if (hash != NULL) {
            apr_pool_userdata_set(hash, apr_pstrdup(pp, key), apr_pool_cleanup_null, pp);
        }
    }
    return hash;
}

/* Advice on settings that work but are risky (SameSite=None without Secure,
 * an evicting Redis), in the error log: once per start or restart, not in
 * httpd's first, trial pass over the configuration; each Redis is asked once,
 * however many servers share it. */
static void warn_config(apr_pool_t *ptemp, server_rec *s)
{
    const ta_server_conf_t *main_sc = conf_of(s);
    apr_hash_t *asked = apr_hash_make(ptemp);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = conf_of(sp);

        if (!sc->active) {
            continue;
        }
        ta_conf_warn(sp, sc, main_sc->active ? main_sc : NULL);
        if (apr_hash_get(asked, sc->redis->redacted, APR_HASH_KEY_STRING) == NULL) {
            apr_hash_set(asked, sc->redis->redacted, APR_HASH_KEY_STRING, sc);
            ta_redis_check_eviction(sp, sc);
        }
    }
}

/* True the first time a configuration pointer is seen in set. */
static int first_time(apr_hash_t *set, const void *conf)
{
    if (conf == NULL || apr_hash_get(set, &conf, sizeof(conf)) != NULL) {
        return 0;
    }
    apr_hash_set(set, apr_pmemdup(apr_hash_pool_get(set), &conf, sizeof(conf)),
                 sizeof(conf), conf);
    return 1;
}

int ta_lifecycle_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s)
{
    module *dbd = ap_find_linked_module("mod_dbd.c");
    apr_hash_t *dbd_seen = apr_hash_make(ptemp);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = conf_of(sp);

        if (!sc->active) {
            continue;
        }
        /* Once per mod_dbd configuration: a server with DBD directives of its
         * own (its own DBDParams, a group of its own) must hold the
         * statements too; the others share the main server's. */
        if (dbd && first_time(dbd_seen, ap_get_module_config(sp->module_config, dbd))) {
            ta_db_prepare_statements(sp);
            ta_email_prepare_statements(sp);
        }
        if ((sc->dummy_hash = dummy_hash(ptemp, sp, ta_conf_bcrypt_cost(sc))) == NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sp, TA_LOGNO(3)
                         "mod_trpcauth: bcrypt is not available");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        warn_config(ptemp, s);
        /* The mail delivery process, as mod_cgid's daemon: not for the trial
         * pass (nor for -k stop/graceful, which end after it). */
        ta_maild_start(pconf, s);
    }
    return OK;
}

/* ------------------------------------------------------------------ */
/* child_init                                                          */

/* What makes two servers' runtime state interchangeable: the same Redis,
 * key prefix and session cache (pool, listener), the same token cache size,
 * and the same access keys, issuer and audience (a token verified for one is
 * good for the other). Holds the Redis passwords: never logged. */
static const char *runtime_key(apr_pool_t *p, const ta_server_conf_t *sc)
{
    /* The Redis target whatever its form (redis://, unix://, the Sentinels
     * and master name of redis-sentinel://, passwords included). */
    return apr_psprintf(p, "%s|%" APR_TIME_T_FMT "|%" APR_INT64_T_FMT "|%d|%s|%pp|%s|%s",
                        ta_redis_url_identity(p, sc->redis),
                        ta_conf_redis_timeout(sc), ta_conf_session_cache_ms(sc),
                        ta_conf_token_cache_entries(sc), sc->key_prefix,
                        (void *)sc->access_keys, sc->issuer ? sc->issuer : "",
                        sc->audience ? sc->audience : "");
}

/* mod_dbd keeps its settings to itself; they are read from the
 * configuration tree, as mod_info does. mod_dbd's directives are server-wide:
 * at the top level or in a <VirtualHost>, possibly inside conditional
 * sections (<IfModule>, <IfDefine>: looked into, in case a build keeps them
 * as nodes). find_setting() notes in *top the last value outside any
 * <VirtualHost> and in *own the last one inside sp's. */
static void find_setting(server_rec *main_s, server_rec *sp, const ap_directive_t *node,
                         const char *name, int in_sp, const char **top, const char **own)
{
    for (; node; node = node->next) {
        if (strcasecmp(node->directive, "<VirtualHost") == 0) {
            if (sp != main_s && vhost_of(main_s, node) == sp) {
                find_setting(main_s, sp, node->first_child, name, 1, top, own);
            }
        }
        else if (strcasecmp(node->directive, name) == 0) {
            *(in_sp ? own : top) = node->args;
        }
        else if (node->first_child) {
            find_setting(main_s, sp, node->first_child, name, in_sp, top, own);
        }
    }
}

/* The value of directive name for server sp: its own, else the top level's
 * (as mod_dbd merges), else NULL. */
const char *ta_lifecycle_dbd_setting(server_rec *main_s, server_rec *sp, const char *name)
{
    const char *top = NULL, *own = NULL;

    find_setting(main_s, sp, ap_conftree, name, 0, &top, &own);
    return own ? own : top;
}

static int dbd_number(server_rec *main_s, server_rec *sp, const char *name, int dflt)
{
    const char *v = ta_lifecycle_dbd_setting(main_s, sp, name);

    return v ? atoi(v) : dflt;
}

/* Has server sp's mod_dbd pool kept ready (src/store/dbwarm.c): DBDKeep
 * connections (mod_dbd's "sustained connections"), never more than DBDMax
 * (apr_reslist refuses a DBDKeep above it anyway; the warmer must never wait
 * for a connection it holds itself) nor than a child has threads to use
 * them. None without a DBDriver (mod_dbd would log "not configured") or with
 * DBDPersist Off (no pool). mod_dbd's defaults: DBDKeep 2, DBDMax 10,
 * DBDExptime 300. */
static void warm_dbd(ta_dbwarm_t *warm, server_rec *main_s, server_rec *sp)
{
    const char *persist = ta_lifecycle_dbd_setting(main_s, sp, "DBDPersist");
    int keep = dbd_number(main_s, sp, "DBDKeep", 2);
    int max = dbd_number(main_s, sp, "DBDMax", 10);
    int threads = 1;

    if (ta_lifecycle_dbd_setting(main_s, sp, "DBDriver") == NULL
        || (persist && (strcasecmp(persist, "Off") == 0 || strcmp(persist, "0") == 0))) {
        return;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        threads = 1;
    }
    keep = keep < max ? keep : max;
    keep = keep < threads ? keep : threads;
    ta_dbwarm_add(warm, sp, keep, dbd_number(main_s, sp, "DBDExptime", 300));
}

void ta_lifecycle_child_init(apr_pool_t *pchild, server_rec *s)
{
    module *dbd = ap_find_linked_module("mod_dbd.c");
    apr_hash_t *made = NULL, *dbd_seen = NULL;
    ta_dbwarm_t *warm = NULL;
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = conf_of(sp), *twin;
        const char *key;

        if (!sc->active) {
            continue;
        }
        if (made == NULL) {
            made = apr_hash_make(pchild);
            dbd_seen = apr_hash_make(pchild);
            warm = ta_dbwarm_create(pchild);
        }
        /* Once per mod_dbd configuration, as the statements (post_config). */
        if (dbd && first_time(dbd_seen, ap_get_module_config(sp->module_config, dbd))) {
            warm_dbd(warm, s, sp);
        }
        key = runtime_key(pchild, sc);
        if ((twin = apr_hash_get(made, key, APR_HASH_KEY_STRING)) != NULL) {
            sc->redis_pool = twin->redis_pool;
            sc->token_cache = twin->token_cache;
            sc->session_cache = twin->session_cache;
            continue;
        }
        ta_redis_pool_create(pchild, sp, sc);
        sc->token_cache = ta_tokcache_create(pchild, ta_conf_token_cache_entries(sc));
        sc->session_cache = ta_sesscache_create(pchild, TA_SESSCACHE_ENTRIES,
                                                ta_conf_session_cache_ms(sc));
        ta_redis_track_start(pchild, sp, sc);
        apr_hash_set(made, key, APR_HASH_KEY_STRING, sc);
    }
    ta_dbwarm_start(warm, s);
}
