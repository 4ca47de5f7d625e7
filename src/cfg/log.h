/*
 * cfg/log.h - log tags of this module. httpd reserves APLOGNO ("AHnnnnn") for
 * its own modules, so ours read "TRPCAUTHnnn: ". Requests are identified by
 * httpd's own request log id (ErrorLogFormat %L). Never log a token, a
 * secret or a password: log what happened, not the credential. Each number
 * is used once (scripts/check-lognos); docs/log-messages.md lists them.
 */
#ifndef TA_LOG_H
#define TA_LOG_H

#include <http_config.h>
#include <http_log.h>

#define TA_LOGNO(n) "TRPCAUTH" #n ": "

/* Every file that logs is declared to be part of the module, so its lines
 * carry the "trpcauth" tag and obey `LogLevel trpcauth:LEVEL` (the module
 * record's own file gets this from AP_DECLARE_MODULE). */
#ifndef TA_MODULE_RECORD
APLOG_USE_MODULE(trpcauth);
#endif

#endif
