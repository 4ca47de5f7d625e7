/*
 * audit.c - writes auth_events rows; failures are logged, not returned.
 */
#include "store/audit.h"
#include "store/db.h"
#include "cfg/log.h"

#include <apr_strings.h>
#include <http_log.h>

#define UA_MAX 256

void ta_audit(ta_ctx_t *ctx, const char *event, const char *user_id,
              const char *session_id, json_t *detail)
{
    request_rec *r = ctx->r;
    const char *ua = apr_table_get(r->headers_in, "User-Agent");
    char *text = NULL;
    const char *detail_json = NULL;

    if (!ta_conf_audit_log(ctx->sc)) {
        return;
    }
    if (ua && strlen(ua) > UA_MAX) {
        ua = apr_pstrndup(r->pool, ua, UA_MAX);
    }
    if (detail) {
        text = json_dumps(detail, JSON_COMPACT);
        detail_json = text ? apr_pstrdup(r->pool, text) : NULL;
        free(text);
    }
    if (ta_db_audit_insert(r, event, user_id, session_id, r->useragent_ip, ua,
                           detail_json) != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, TA_LOGNO(501)
                      "audit event %s not written", event);
    }
}
