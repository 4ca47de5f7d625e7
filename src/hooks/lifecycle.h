/*
 * hooks/lifecycle.h - the start-up hooks (src/hooks/lifecycle.c): check_config,
 * post_config and child_init.
 */
#ifndef TA_LIFECYCLE_H
#define TA_LIFECYCLE_H

#include <httpd.h>

int ta_lifecycle_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s);
int ta_lifecycle_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s);
void ta_lifecycle_child_init(apr_pool_t *pchild, server_rec *s);

/* The value (as written, quotes included) of mod_dbd's directive name for
 * server sp: its own, else the top level's (as mod_dbd merges), else NULL.
 * mod_dbd keeps its settings to itself: they are read from the tree. */
const char *ta_lifecycle_dbd_setting(server_rec *main_s, server_rec *sp, const char *name);

#endif
