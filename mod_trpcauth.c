/*
 * mod_trpcauth.c - module glue: the module record, the directive table and
 * the hooks. The logic lives in src/ (one unit per concern, headers in include/).
 *
 *   check_config checks every server's merged configuration (keys, cookie
 *                prefixes, defaults); `apache2 -t` runs it too
 *   post_config  registers the prepared statements with mod_dbd, makes the dummy
 *                bcrypt hash, warns about risky settings (SameSite=None without
 *                Secure, an evicting Redis)
 *   child_init   creates each server's Redis connection pool, token cache and (when
 *                configured) session cache with its Redis listener, in the child
 *   translate_name, map_to_storage
 *                tRPC URLs map to no file (no file system walk)
 *   handler      the tRPC endpoint (SetHandler trpcauth)
 *   authn        AuthType trpcauth for any location (src/authn.c)
 */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <apr_hash.h>

#include "ta_authn.h"
#include "ta_config.h"
#include "ta_db.h"
#include "ta_handler.h"
#include "ta_log.h"
#include "ta_password.h"
#include "ta_redis.h"
#include "ta_sesscache.h"
#include "ta_tokcache.h"

module AP_MODULE_DECLARE_DATA trpcauth_module;

/* check_config: the configuration is read and merged, the logs are not open
 * yet (messages go to the console), and `apache2 -t` has not said Syntax OK:
 * what only the merged configuration shows (no keys, a __Host- cookie with a
 * Domain) fails configtest here, and fails every (re)start the same way. */
static int ta_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    const char *err;
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = ap_get_module_config(sp->module_config, &trpcauth_module);

        if ((err = ta_conf_check(pconf, sp, sc)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, sp, TA_LOGNO(2)
                         "mod_trpcauth: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* Advice on settings that work but are risky: once per start or restart (not
 * in httpd's first, trial pass over the configuration), in the error log.
 * Each Redis is asked for its eviction policy once, however many servers
 * share it. */
static void ta_warn_config(apr_pool_t *ptemp, server_rec *s)
{
    const ta_server_conf_t *main_sc = ap_get_module_config(s->module_config, &trpcauth_module);
    apr_hash_t *asked = apr_hash_make(ptemp);
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = ap_get_module_config(sp->module_config, &trpcauth_module);

        ta_conf_warn(sp, sc, main_sc);
        if (apr_hash_get(asked, sc->redis->redacted, APR_HASH_KEY_STRING) == NULL) {
            apr_hash_set(asked, sc->redis->redacted, APR_HASH_KEY_STRING, sc);
            ta_redis_check_eviction(sp, sc);
        }
    }
}

static int ta_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    const char *err;
    server_rec *sp;

    if ((err = ta_db_prepare_statements(s)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, TA_LOGNO(1) "%s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = ap_get_module_config(sp->module_config, &trpcauth_module);

        sc->dummy_hash = ta_password_hash(pconf, "trpcauth dummy password",
                                          ta_conf_bcrypt_cost(sc));
        if (sc->dummy_hash == NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sp, TA_LOGNO(3)
                         "mod_trpcauth: bcrypt is not available");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        ta_warn_config(ptemp, s);
    }
    return OK;
}

static void ta_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;

    for (sp = s; sp; sp = sp->next) {
        ta_server_conf_t *sc = ap_get_module_config(sp->module_config, &trpcauth_module);
        ta_redis_pool_create(pchild, sp, sc);
        sc->token_cache = ta_tokcache_create(pchild, ta_conf_token_cache_entries(sc));
        sc->session_cache = ta_sesscache_create(pchild, TA_SESSCACHE_ENTRIES,
                                                ta_conf_session_cache_ms(sc));
        ta_redis_track_start(pchild, sp, sc);
    }
}

static void ta_register_hooks(apr_pool_t *p)
{
    /* Our statements must reach mod_dbd before its post_config copies them
     * into each server's configuration. */
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_check_config(ta_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ta_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(ta_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(ta_handler_translate, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(ta_handler_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(ta_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ta_authn_register_hooks(p);
}

AP_DECLARE_MODULE(trpcauth) = {
    STANDARD20_MODULE_STUFF,
    ta_create_dir_conf,
    ta_merge_dir_conf,
    ta_create_server_conf,
    ta_merge_server_conf,
    ta_directives,
    ta_register_hooks
};
