/*
 * hooks/metrics.h - the operators' view of the counters (store/metrics.h):
 * a Prometheus text endpoint (SetHandler trpcauth-metrics), a section of
 * mod_status's server-status page, and the hooks that make and feed them.
 * docs/metrics.md says what each number means and how to map and protect
 * the endpoint.
 */
#ifndef TA_HOOKS_METRICS_H
#define TA_HOOKS_METRICS_H

#include <httpd.h>

#include "trpc/trpc.h"

/* post_config: makes (or finds again, after a restart) the shared counters
 * when some server uses the module; nothing on the trial pass or when none
 * does (the module stays inert). */
int ta_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s);

/* Counts one resolved call of a tRPC request: its procedure and outcome,
 * and the login outcomes. */
void ta_metrics_note_call(const ta_call_t *call);

/* The handler "trpcauth-metrics": the counters in Prometheus's text format. */
int ta_metrics_handler(request_rec *r);

/* mod_status's status_hook: the module's section of server-status. */
int ta_metrics_status(request_rec *r, int flags);

#endif
