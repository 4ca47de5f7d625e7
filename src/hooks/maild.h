/*
 * hooks/maild.h - the mail delivery process (issue 14; src/hooks/maild.c).
 *
 * Started by the Apache parent in post_config when a server that uses the
 * module has a TrpcAuthMailRelay (never on httpd's first, trial pass over the
 * configuration, never when no server sets a relay), as mod_cgid starts its
 * daemon: restarted by the parent when it dies, stopped with its generation
 * (graceful or not). It sends the rows of mail_outbox over SMTP.
 */
#ifndef TA_MAILD_H
#define TA_MAILD_H

#include <httpd.h>

/* check_config: the mail settings of server sp, which uses the module. NULL
 * or an error message naming the directive. */
const char *ta_maild_check(apr_pool_t *p, server_rec *main_s, server_rec *sp);

/* post_config (not the trial pass): starts the process if any server that
 * uses the module has a relay. */
void ta_maild_start(apr_pool_t *pconf, server_rec *s);

#endif
