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

#endif
