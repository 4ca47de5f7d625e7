/*
 * metrics.c - the counters of cfg/metrics.h, made in post_config, fed by
 * the tRPC handler, and shown to operators two ways:
 *
 *   SetHandler trpcauth-metrics   Prometheus text exposition format 0.0.4,
 *                                 every name prefixed trpcauth_
 *   server-status                 a section of mod_status's page (its
 *                                 optional status_hook): HTML, or "Key: value"
 *                                 lines with ?auto
 *
 * Both show the same numbers, summed over every child of this node (the
 * counters live in one shared segment). Neither needs a directive: the
 * administrator maps the handler to a location and protects it like
 * server-status (docs/metrics.md).
 */
#include "hooks/metrics.h"
#include "cfg/config.h"
#include "proc/procs.h"
#include "cfg/metrics.h"

#include <apr_strings.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <mod_status.h>

extern module AP_MODULE_DECLARE_DATA trpcauth_module;

#define METRICS_HANDLER "trpcauth-metrics"
#define OK_COLUMN TA_E__COUNT
#define UNKNOWN_ROW (TA_METRICS_PROCS - 1)

/* ------------------------------------------------------------------ */
/* post_config and counting                                            */

int ta_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    server_rec *sp;
    int used = 0;

    /* The trial pass is followed by the real one: make nothing twice. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* "active" was set by check_config (src/hooks/lifecycle.c) on the
     * configuration of every server that uses the module; virtual hosts
     * without our directives share the main server's. One segment serves
     * them all: the counters are per node, not per virtual host. */
    for (sp = s; sp && !used; sp = sp->next) {
        const ta_server_conf_t *sc = ap_get_module_config(sp->module_config, &trpcauth_module);
        used = sc != NULL && sc->state.active;
    }
    /* A table longer than the rows kept would count its last procedures as
     * unknown; the build keeps TA_METRICS_PROCS above ta_proc_count(). */
    ta_metrics_attach(s, used);
    return OK;
}

/* The row of a call's path: its procedure's position, or the unknown row
 * (a client-chosen path never becomes a label of its own). */
static int row_of(const char *path)
{
    int i = ta_proc_index(ta_proc_lookup(path));

    return i >= 0 && i < UNKNOWN_ROW ? i : UNKNOWN_ROW;
}

void ta_metrics_note_call(const ta_call_t *call)
{
    int code = call->error ? (int)call->error->code : OK_COLUMN;

    if (!ta_metrics_on()) {
        return;
    }
    ta_metrics_call(row_of(call->path), code);
    /* auth.login answers UNAUTHORIZED only for a wrong email or password,
     * TOO_MANY_REQUESTS only when a rate limit or the one-bcrypt gate
     * refuses it: the two figures an operator alerts on. */
    if (strcmp(call->path, "auth.login") == 0) {
        if (code == TA_E_UNAUTHORIZED) {
            ta_metrics_add(TA_M_LOGINS_FAILED, 1);
        }
        else if (code == TA_E_TOO_MANY_REQUESTS) {
            ta_metrics_add(TA_M_LOGINS_RATE_LIMITED, 1);
        }
    }
}

/* ------------------------------------------------------------------ */
/* what is shown                                                       */

static const char *row_name(int row)
{
    const ta_proc_t *p = row == UNKNOWN_ROW ? NULL : ta_proc_at(row);

    return p ? p->path : "(unknown)";
}

static int row_used(int row)
{
    return row == UNKNOWN_ROW || ta_proc_at(row) != NULL;
}

static const char *code_name(int code)
{
    return code == OK_COLUMN ? "OK" : ta_code_key((ta_code_t)code);
}

/* The simple counters: Prometheus name and help, server-status key. */
static const struct {
    ta_metric_t which;
    const char *name, *help, *key;
} simple[] = {
    { TA_M_LOGINS_FAILED, "trpcauth_logins_failed_total",
      "auth.login calls refused for a wrong email or password.", "TrpcAuthLoginsFailed" },
    { TA_M_LOGINS_RATE_LIMITED, "trpcauth_logins_rate_limited_total",
      "auth.login calls refused by a rate limit (TOO_MANY_REQUESTS).",
      "TrpcAuthLoginsRateLimited" },
    { TA_M_REFRESH_REUSE, "trpcauth_refresh_token_reuse_total",
      "Refresh tokens presented again after rotation: each revoked its session.",
      "TrpcAuthRefreshReuse" },
    { TA_M_SESSIONS_CREATED, "trpcauth_sessions_created_total",
      "Sessions created (successful logins).", "TrpcAuthSessionsCreated" },
    { TA_M_SESSIONS_REVOKED, "trpcauth_sessions_revoked_total",
      "Sessions deleted: logout, logoutAll, revokeSession, changePassword, reuse detection.",
      "TrpcAuthSessionsRevoked" },
    { TA_M_SENTINEL_QUERIES, "trpcauth_sentinel_queries_total",
      "Times a child asked the Redis Sentinels which server is master.",
      "TrpcAuthSentinelQueries" },
    { TA_M_SENTINEL_FAILURES, "trpcauth_sentinel_failures_total",
      "Of those, the times no Sentinel named the master (the last one named is kept; with none, 503).",
      "TrpcAuthSentinelFailures" },
    { TA_M_REDIS_MASTER_SWITCHES, "trpcauth_redis_master_switches_total",
      "Times a child found the Sentinels naming a new Redis master (one failover: once per child).",
      "TrpcAuthRedisMasterSwitches" },
    { TA_M_MAIL_SENT, "trpcauth_mail_sent_total",
      "Mails the relay accepted (verification and password reset).", "TrpcAuthMailSent" },
    { TA_M_MAIL_FAILED, "trpcauth_mail_failures_total",
      "Delivery attempts that failed (relay down or refusing): the mail is tried again.",
      "TrpcAuthMailFailures" },
    { TA_M_MAIL_GIVEN_UP, "trpcauth_mail_given_up_total",
      "Mails given up on: they cannot be sent, or their link expired before they could.",
      "TrpcAuthMailGivenUp" },
};

static const struct {
    ta_metric_t hits;
    const char *cache, *key;
} caches[] = {
    { TA_M_TOKEN_CACHE_HITS, "token", "TrpcAuthTokenCache" },
    { TA_M_SESSION_CACHE_HITS, "session", "TrpcAuthSessionCache" },
};

static const struct {
    ta_store_t store;
    const char *prefix, *unit, *help, *key;
} stores[] = {
    { TA_M_REDIS, "trpcauth_redis", "requests", "Redis round trips (commands and scripts)",
      "TrpcAuthRedis" },
    { TA_M_POSTGRES, "trpcauth_postgres", "queries", "PostgreSQL statements",
      "TrpcAuthPostgres" },
};

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Prometheus                                                          */

static void prom_head(request_rec *r, const char *name, const char *type, const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_calls(request_rec *r, const ta_metrics_snapshot_t *m)
{
    int row, code;

    prom_head(r, "trpcauth_calls_total", "counter",
              "tRPC calls by procedure and outcome (a tRPC error code, or OK).");
    for (row = 0; row < TA_METRICS_PROCS; row++) {
        if (!row_used(row)) {
            continue;
        }
        /* Every procedure's OK series exists from the start; error series
         * appear with their first call (the matrix is mostly zeros). */
        for (code = 0; code <= OK_COLUMN; code++) {
            if (code == OK_COLUMN || m->calls[row][code] > 0) {
                ap_rprintf(r, "trpcauth_calls_total{procedure=\"%s\",code=\"%s\"} %" APR_UINT64_T_FMT "\n",
                           row_name(row), code_name(code), m->calls[row][code]);
            }
        }
    }
    prom_head(r, "trpcauth_request_errors_total", "counter",
              "tRPC requests refused as a whole before any call (envelope, body size, origin).");
    for (code = 0; code < TA_E__COUNT; code++) {
        if (m->request_errors[code] > 0) {
            ap_rprintf(r, "trpcauth_request_errors_total{code=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       code_name(code), m->request_errors[code]);
        }
    }
}

static void prom_counters(request_rec *r, const ta_metrics_snapshot_t *m)
{
    apr_size_t i;

    for (i = 0; i < NELTS(simple); i++) {
        prom_head(r, simple[i].name, "counter", simple[i].help);
        ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", simple[i].name, m->counter[simple[i].which]);
    }
    prom_head(r, "trpcauth_cache_hits_total", "counter",
              "Lookups answered by a per-child cache (token: TrpcAuthTokenCache, "
              "session: TrpcAuthSessionCache).");
    for (i = 0; i < NELTS(caches); i++) {
        ap_rprintf(r, "trpcauth_cache_hits_total{cache=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   caches[i].cache, m->counter[caches[i].hits]);
    }
    prom_head(r, "trpcauth_cache_misses_total", "counter",
              "Lookups of a cache that is on and did not hold the entry.");
    for (i = 0; i < NELTS(caches); i++) {
        ap_rprintf(r, "trpcauth_cache_misses_total{cache=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   caches[i].cache, m->counter[caches[i].hits + 1]);
    }
}

/* Bucket bounds as Prometheus writes them (apr's %g drops the leading 0). */
static const char *const bucket_le[TA_METRICS_BUCKETS] = {
    "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.1", "0.5"
};

static void prom_store(request_rec *r, const ta_metrics_snapshot_t *m, apr_size_t i)
{
    apr_uint64_t cumulative = 0;
    const char *p = stores[i].prefix;
    int s = stores[i].store, b;
    char *name;

    name = apr_psprintf(r->pool, "%s_%s_total", p, stores[i].unit);
    prom_head(r, name, "counter", apr_pstrcat(r->pool, stores[i].help, ".", NULL));
    ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", name, m->store[s].requests);

    name = apr_psprintf(r->pool, "%s_errors_total", p);
    prom_head(r, name, "counter",
              apr_pstrcat(r->pool, stores[i].help, " that failed (unreachable, timeout, error reply).",
                          NULL));
    ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", name, m->store[s].errors);

    name = apr_psprintf(r->pool, "%s_duration_seconds", p);
    prom_head(r, name, "histogram",
              apr_pstrcat(r->pool, "Time of ", stores[i].help, ", as the module waits for them.",
                          NULL));
    for (b = 0; b < TA_METRICS_BUCKETS; b++) {
        cumulative += m->store[s].bucket[b];
        ap_rprintf(r, "%s_bucket{le=\"%s\"} %" APR_UINT64_T_FMT "\n", name, bucket_le[b],
                   cumulative);
    }
    cumulative += m->store[s].bucket[TA_METRICS_BUCKETS];
    ap_rprintf(r, "%s_bucket{le=\"+Inf\"} %" APR_UINT64_T_FMT "\n", name, cumulative);
    /* Seconds from integer microseconds, exactly. */
    ap_rprintf(r, "%s_sum %" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n", name,
               m->store[s].usec_sum / 1000000, m->store[s].usec_sum % 1000000);
    ap_rprintf(r, "%s_count %" APR_UINT64_T_FMT "\n", name, cumulative);
}

int ta_metrics_handler(request_rec *r)
{
    ta_metrics_snapshot_t *m;
    apr_size_t i;

    if (r->handler == NULL || strcmp(r->handler, METRICS_HANDLER) != 0) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    /* No server uses the module: there is nothing to count, nor to show. */
    m = apr_palloc(r->pool, sizeof(*m));
    if (!ta_metrics_read(m)) {
        return HTTP_NOT_FOUND;
    }
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    prom_calls(r, m);
    prom_counters(r, m);
    for (i = 0; i < NELTS(stores); i++) {
        prom_store(r, m, i);
    }
    return OK;
}

/* ------------------------------------------------------------------ */
/* server-status                                                       */

static apr_uint64_t calls_total(const ta_metrics_snapshot_t *m)
{
    apr_uint64_t n = 0;
    int row, code;

    for (row = 0; row < TA_METRICS_PROCS; row++) {
        for (code = 0; code <= OK_COLUMN; code++) {
            n += m->calls[row][code];
        }
    }
    return n;
}

/* ?auto: "Key: value" lines, one per counter; the calls as
 * TrpcAuthCalls_<procedure>_<code> (OK for every procedure, errors once
 * they happened), so a script splits on ": " as for the rest of the page. */
static void status_auto(request_rec *r, const ta_metrics_snapshot_t *m)
{
    apr_size_t i;
    int row, code;

    ap_rprintf(r, "TrpcAuthCalls: %" APR_UINT64_T_FMT "\n", calls_total(m));
    for (row = 0; row < TA_METRICS_PROCS; row++) {
        for (code = 0; row_used(row) && code <= OK_COLUMN; code++) {
            if (code == OK_COLUMN || m->calls[row][code] > 0) {
                ap_rprintf(r, "TrpcAuthCalls_%s_%s: %" APR_UINT64_T_FMT "\n", row_name(row),
                           code_name(code), m->calls[row][code]);
            }
        }
    }
    for (code = 0; code < TA_E__COUNT; code++) {
        if (m->request_errors[code] > 0) {
            ap_rprintf(r, "TrpcAuthRequestErrors_%s: %" APR_UINT64_T_FMT "\n", code_name(code),
                       m->request_errors[code]);
        }
    }
    for (i = 0; i < NELTS(simple); i++) {
        ap_rprintf(r, "%s: %" APR_UINT64_T_FMT "\n", simple[i].key, m->counter[simple[i].which]);
    }
    for (i = 0; i < NELTS(caches); i++) {
        ap_rprintf(r, "%sHits: %" APR_UINT64_T_FMT "\n%sMisses: %" APR_UINT64_T_FMT "\n",
                   caches[i].key, m->counter[caches[i].hits],
                   caches[i].key, m->counter[caches[i].hits + 1]);
    }
    for (i = 0; i < NELTS(stores); i++) {
        int s = stores[i].store;
        ap_rprintf(r, "%s%s: %" APR_UINT64_T_FMT "\n%sErrors: %" APR_UINT64_T_FMT "\n"
                   "%sMicroseconds: %" APR_UINT64_T_FMT "\n",
                   stores[i].key, s == TA_M_REDIS ? "Requests" : "Queries", m->store[s].requests,
                   stores[i].key, m->store[s].errors, stores[i].key, m->store[s].usec_sum);
    }
}

static void html_row(request_rec *r, const char *what, apr_uint64_t n)
{
    ap_rprintf(r, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td></tr>\n", what, n);
}

static void status_html(request_rec *r, const ta_metrics_snapshot_t *m)
{
    apr_size_t i;
    int row, code;

    ap_rputs("<hr />\n<h2>mod_trpcauth</h2>\n<table border=\"0\">\n", r);
    html_row(r, "tRPC calls", calls_total(m));
    for (row = 0; row < TA_METRICS_PROCS; row++) {
        for (code = 0; row_used(row) && code <= OK_COLUMN; code++) {
            if (m->calls[row][code] > 0) {
                html_row(r, apr_psprintf(r->pool, "&nbsp;&nbsp;%s %s", row_name(row),
                                         code_name(code)), m->calls[row][code]);
            }
        }
    }
    for (code = 0; code < TA_E__COUNT; code++) {
        if (m->request_errors[code] > 0) {
            html_row(r, apr_psprintf(r->pool, "requests refused %s", code_name(code)),
                     m->request_errors[code]);
        }
    }
    for (i = 0; i < NELTS(simple); i++) {
        html_row(r, simple[i].key, m->counter[simple[i].which]);
    }
    for (i = 0; i < NELTS(caches); i++) {
        html_row(r, apr_pstrcat(r->pool, caches[i].key, " hits", NULL), m->counter[caches[i].hits]);
        html_row(r, apr_pstrcat(r->pool, caches[i].key, " misses", NULL),
                 m->counter[caches[i].hits + 1]);
    }
    for (i = 0; i < NELTS(stores); i++) {
        int s = stores[i].store;
        html_row(r, apr_pstrcat(r->pool, stores[i].help, NULL), m->store[s].requests);
        html_row(r, apr_pstrcat(r->pool, "&nbsp;&nbsp;failed", NULL), m->store[s].errors);
        ap_rprintf(r, "<tr><td>&nbsp;&nbsp;mean time</td><td>%.3f ms</td></tr>\n",
                   m->store[s].requests ? (double)m->store[s].usec_sum / 1e3
                                          / (double)m->store[s].requests : 0.0);
    }
    ap_rputs("</table>\n", r);
}

int ta_metrics_status(request_rec *r, int flags)
{
    ta_metrics_snapshot_t *m = apr_palloc(r->pool, sizeof(*m));

    if (!ta_metrics_read(m)) {
        return OK;              /* not used on this node: no section */
    }
    if (flags & AP_STATUS_SHORT) {
        status_auto(r, m);
    }
    else {
        status_html(r, m);
    }
    return OK;
}
