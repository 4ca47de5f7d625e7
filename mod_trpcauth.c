/*
 * mod_trpcauth.c - module glue: the module record, the directive table and
 * the hooks. The logic lives in src/, one folder per layer (src/README draws them and the rule).
 *
 *   check_config  finds the servers that use the module and checks their
 *                 configuration (so `apachectl configtest` reports every error);
 *   post_config   registers the prepared statements with mod_dbd, makes the dummy
 *                 bcrypt hash, starts the mail delivery process (src/hooks/maild.c);
 *   child_init    creates the Redis connection pool, token cache and
 *                 session cache with its Redis listener, once per distinct
 *                 configuration, and keeps mod_dbd's connections ready
 *                 (src/hooks/lifecycle.c, after mod_dbd's). Loaded but used
 *                 nowhere, the module does none of this.
 *   translate_name, map_to_storage
 *                 tRPC URLs map to no file (no file system walk)
 *   handler       the tRPC endpoint (SetHandler trpcauth)
 *   authn         AuthType trpcauth for any location (src/hooks/authn.c)
 *   metrics       counters shared by the children and the mail delivery
 *                 process (post_config, before the process is forked), served by
 *                 SetHandler trpcauth-metrics and in server-status
 *                 (src/hooks/metrics.c)
 */
#define TA_MODULE_RECORD

#include <httpd.h>
#include <http_config.h>
#include <http_request.h>

#include "hooks/authn.h"
#include "cfg/config.h"
#include "hooks/handler.h"
#include "hooks/lifecycle.h"
#include "hooks/metrics.h"

#include <mod_status.h>

static void ta_register_hooks(apr_pool_t *p)
{
    /* Our statements must reach mod_dbd before its post_config copies them
     * into each server's configuration. */
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };
    /* The warmer of mod_dbd's pools (src/store/dbwarm.c) starts once they exist. */
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_check_config(ta_lifecycle_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* The metrics' shared segment first: lifecycle's post_config forks the
     * mail delivery process, which counts into it too. */
    ap_hook_post_config(ta_metrics_post_config, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(ta_lifecycle_post_config, NULL, before_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(ta_lifecycle_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(ta_handler_translate, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(ta_handler_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(ta_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ta_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, ta_metrics_status, NULL, NULL, APR_HOOK_MIDDLE);
    ta_authn_register_hooks(p);
}

/* httpd finds the module by dlsym()ing this record, the one symbol the .so
 * exports: everything is built with -fvisibility=hidden, and on Unix
 * AP_MODULE_DECLARE_DATA does not say otherwise (it is dllexport on Windows). */
extern module __attribute__((visibility("default"))) trpcauth_module;

AP_DECLARE_MODULE(trpcauth) = {
    STANDARD20_MODULE_STUFF,
    ta_create_dir_conf,
    ta_merge_dir_conf,
    ta_create_server_conf,
    ta_merge_server_conf,
    ta_directives,
    ta_register_hooks
};
