/*
 * ta_log.h - log tags of this module. httpd reserves APLOGNO ("AHnnnnn") for
 * its own modules, so ours read "TRPCAUTHnnn: ". Requests are identified by
 * httpd's own request log id (ErrorLogFormat %L). Never log a token, a
 * secret or a password: log what happened, not the credential.
 */
#ifndef TA_LOG_H
#define TA_LOG_H

#define TA_LOGNO(n) "TRPCAUTH" #n ": "

#endif
