/*
 * ta_handler.h - the tRPC endpoint (SetHandler trpcauth).
 */
#ifndef TA_HANDLER_H
#define TA_HANDLER_H

#include <httpd.h>

int ta_handler(request_rec *r);

#endif
